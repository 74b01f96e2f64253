//! The [`Vonage`] application: its endpoints and consumer credentials, from
//! which password and browser sign-in accounts are made.

use std::sync::Arc;
use std::time::Duration;

use authkit_core::endpoint::validate_url;
use authkit_core::{
    ClientAuth, ClientId, ClientSecret, Clock, EndpointSettings, Error, Password, RefreshToken,
    RefreshTokenGrant, RetryPolicy, TokenEndpoint, TokenSet,
};
use url::Url;

use crate::code::VonageCodeAccount;
use crate::password::VonagePasswordAccount;

/// Vonage's API host.
pub const DEFAULT_BASE_URL: &str = "https://api.vonage.com";
/// Access token lifetime the page gives, assumed when a response omits it.
pub const ACCESS_TOKEN_LIFETIME: Duration = Duration::from_secs(24 * 3600);
/// Refresh token lifetime the page gives, assumed when a response omits it.
pub const REFRESH_TOKEN_LIFETIME: Duration = Duration::from_secs(7 * 24 * 3600);

/// A Vonage Business Communications application: its consumer key and
/// secret, and the endpoints. Cheap to clone.
#[derive(Debug, Clone)]
pub struct Vonage {
    pub(crate) consumer_key: ClientId,
    pub(crate) consumer_secret: ClientSecret,
    /// The token endpoint with the id and secret in the body (password and
    /// refresh grants, as the page shows them).
    pub(crate) token_endpoint: TokenEndpoint,
    pub(crate) authorize_url: Url,
    pub(crate) pkce: bool,
    pub(crate) scopes: Vec<String>,
}

impl Vonage {
    /// Starts configuring the application with its consumer key and secret.
    pub fn builder(
        consumer_key: impl Into<String>,
        consumer_secret: ClientSecret,
    ) -> VonageBuilder {
        VonageBuilder {
            consumer_key: consumer_key.into(),
            consumer_secret,
            base_url: DEFAULT_BASE_URL.to_owned(),
            authorize_url: None,
            token_url: None,
            pkce: true,
            scopes: vec!["openid".to_owned()],
            settings: EndpointSettings::default(),
        }
    }

    /// An account that signs in with the password grant (server-to-server use).
    pub fn password_account(
        &self,
        username: impl Into<String>,
        password: Password,
    ) -> VonagePasswordAccount {
        VonagePasswordAccount::new(self.clone(), username.into(), password)
    }

    /// An account that signs in through the browser (authorization code),
    /// redirected to `redirect_uri`; `label` names it among the accounts of
    /// this application (its key is `vonage:<consumer key>:<label>`).
    pub fn code_account(
        &self,
        redirect_uri: impl Into<String>,
        label: impl Into<String>,
    ) -> Result<VonageCodeAccount, Error> {
        VonageCodeAccount::new(self.clone(), redirect_uri.into(), label.into())
    }

    /// Refreshes with `grant_type=refresh_token`, the consumer key and
    /// secret in the body, as the page shows; the same for every account kind.
    pub(crate) async fn refresh(&self, refresh_token: &RefreshToken) -> Result<TokenSet, Error> {
        let grant = RefreshTokenGrant::new(refresh_token.clone());
        self.token_endpoint
            .request(&grant)
            .await
            .map(with_page_lifetimes)
    }

    /// The consumer key.
    pub fn consumer_key(&self) -> &ClientId {
        &self.consumer_key
    }

    /// The token endpoint's URL.
    pub fn token_url(&self) -> &str {
        self.token_endpoint.url().as_str()
    }

    /// The authorization endpoint's URL.
    pub fn authorize_url(&self) -> &str {
        self.authorize_url.as_str()
    }
}

/// Fills in the page's refresh token lifetime when the server sent none.
pub(crate) fn with_page_lifetimes(tokens: TokenSet) -> TokenSet {
    if tokens.refresh_token().is_some() && tokens.refresh_expires_at().is_none() {
        let refresh = tokens.refresh_token().cloned();
        let expires = tokens.issued_at() + REFRESH_TOKEN_LIFETIME;
        tokens.with_refresh_token(refresh, Some(expires))
    } else {
        tokens
    }
}

/// Configures a [`Vonage`] application.
#[derive(Debug)]
pub struct VonageBuilder {
    consumer_key: String,
    consumer_secret: ClientSecret,
    base_url: String,
    authorize_url: Option<String>,
    token_url: Option<String>,
    pkce: bool,
    scopes: Vec<String>,
    settings: EndpointSettings,
}

impl VonageBuilder {
    /// The API host; the endpoints are `{base}/authorize` and `{base}/token`.
    pub fn base_url(mut self, base_url: impl Into<String>) -> Self {
        self.base_url = base_url.into();
        self
    }

    /// The authorization endpoint's full URL (wins over the base URL).
    pub fn authorize_url(mut self, url: impl Into<String>) -> Self {
        self.authorize_url = Some(url.into());
        self
    }

    /// The token endpoint's full URL (wins over the base URL).
    pub fn token_url(mut self, url: impl Into<String>) -> Self {
        self.token_url = Some(url.into());
        self
    }

    /// Whether the authorization code flow uses PKCE (S256). On by default;
    /// switch it off only for a server that rejects the extra parameters.
    pub fn pkce(mut self, enabled: bool) -> Self {
        self.pkce = enabled;
        self
    }

    /// The scopes to ask for (default `openid`, as the page does).
    pub fn scopes<I, S>(mut self, scopes: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.scopes = scopes.into_iter().map(Into::into).collect();
        self
    }

    /// The clock lifetimes are counted with (tests inject one).
    pub fn clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.settings.set_clock(clock);
        self
    }

    /// How server and network failures are retried.
    pub fn retry_policy(mut self, retry: RetryPolicy) -> Self {
        self.settings.set_retry_policy(retry);
        self
    }

    /// The timeout of one request.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.settings.set_timeout(timeout);
        self
    }

    /// Checks the configuration and builds the application.
    pub fn build(self) -> Result<Vonage, Error> {
        if self.consumer_key.trim().is_empty() {
            return Err(Error::Config(
                "a Vonage application needs its consumer key".into(),
            ));
        }
        let base = self.base_url.trim_end_matches('/').to_owned();
        let token_url = self.token_url.unwrap_or_else(|| format!("{base}/token"));
        let authorize_url = validate_url(
            &self
                .authorize_url
                .unwrap_or_else(|| format!("{base}/authorize")),
        )?;
        let endpoint = self.settings.apply(
            TokenEndpoint::builder(token_url)
                .client_auth(ClientAuth::Body {
                    client_id: ClientId::new(self.consumer_key.clone()),
                    client_secret: self.consumer_secret.clone(),
                })
                .default_lifetime(ACCESS_TOKEN_LIFETIME),
        );
        Ok(Vonage {
            consumer_key: ClientId::new(self.consumer_key),
            consumer_secret: self.consumer_secret,
            token_endpoint: endpoint.build()?,
            authorize_url,
            pkce: self.pkce,
            scopes: self.scopes,
        })
    }
}

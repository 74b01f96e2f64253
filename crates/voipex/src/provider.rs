//! The Voipex provider and its builder.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use authkit_core::{
    AccountKey, ClientAuth, ClientSecret, Clock, EndpointSettings, Error, OAuthRefusal, Password,
    PasswordGrant, RefreshToken, RefreshTokenGrant, RetryPolicy, TokenEndpoint, TokenProvider,
    TokenSet,
};

use crate::refusal::VoipexRefusal;

/// Voipex's authorization server.
pub const DEFAULT_BASE_URL: &str = "https://auth.voipex.io";
/// The public client Voipex's page signs in with.
pub const DEFAULT_CLIENT_ID: &str = "api";

/// One Voipex account, signed in with the password grant.
#[derive(Debug, Clone)]
pub struct Voipex {
    key: AccountKey,
    endpoint: TokenEndpoint,
    grant: PasswordGrant,
}

impl Voipex {
    /// Starts configuring the account `username` (an e-mail address) with its
    /// password. Defaults: `https://auth.voipex.io/token`, client `api`.
    pub fn builder(username: impl Into<String>, password: Password) -> VoipexBuilder {
        VoipexBuilder {
            username: username.into(),
            password,
            base_url: DEFAULT_BASE_URL.to_owned(),
            token_url: None,
            client_id: DEFAULT_CLIENT_ID.to_owned(),
            client_secret: None,
            scopes: Vec::new(),
            settings: EndpointSettings::default(),
        }
    }

    /// The token endpoint this account uses.
    pub fn token_url(&self) -> &str {
        self.endpoint.url().as_str()
    }
}

#[async_trait]
impl TokenProvider for Voipex {
    fn account_key(&self) -> &AccountKey {
        &self.key
    }

    async fn authenticate(&self) -> Result<TokenSet, Error> {
        self.endpoint.request(&self.grant).await
    }

    async fn refresh(&self, refresh_token: &RefreshToken) -> Result<TokenSet, Error> {
        let grant = RefreshTokenGrant::new(refresh_token.clone());
        self.endpoint.request(&grant).await.map_err(|error| {
            // Keycloak says a session ended in more than one way; the manager
            // needs one: `invalid_grant` on the refresh grant, so it signs in again.
            match &error {
                Error::Refused { refusal, .. }
                    if !error.is_refresh_token_rejected()
                        && VoipexRefusal::is_dead_refresh_token(&error) =>
                {
                    Error::Refused {
                        grant: "refresh_token".to_owned(),
                        refusal: OAuthRefusal::new(
                            "invalid_grant",
                            refusal.description().map(str::to_owned),
                            refusal.uri().map(str::to_owned),
                            refusal.status(),
                        ),
                    }
                }
                _ => error,
            }
        })
    }
}

/// Configures a [`Voipex`] account.
#[derive(Debug)]
pub struct VoipexBuilder {
    username: String,
    password: Password,
    base_url: String,
    token_url: Option<String>,
    client_id: String,
    client_secret: Option<ClientSecret>,
    scopes: Vec<String>,
    settings: EndpointSettings,
}

impl VoipexBuilder {
    /// The server's base URL; the token endpoint is `{base}/token`.
    pub fn base_url(mut self, base_url: impl Into<String>) -> Self {
        self.base_url = base_url.into();
        self
    }

    /// The full token endpoint URL, such as a Keycloak realm's
    /// `https://host/realms/{realm}/protocol/openid-connect/token`. Wins over
    /// [`VoipexBuilder::base_url`].
    pub fn token_url(mut self, token_url: impl Into<String>) -> Self {
        self.token_url = Some(token_url.into());
        self
    }

    /// The client id (default `api`).
    pub fn client_id(mut self, client_id: impl Into<String>) -> Self {
        self.client_id = client_id.into();
        self
    }

    /// A confidential client's secret, sent with the id in the body.
    pub fn client_secret(mut self, secret: ClientSecret) -> Self {
        self.client_secret = Some(secret);
        self
    }

    /// Scopes to ask for (`openid`, `offline_access`, ...).
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

    /// Checks the configuration and builds the provider.
    pub fn build(self) -> Result<Voipex, Error> {
        if self.username.trim().is_empty() {
            return Err(Error::Config("a Voipex account needs a user name".into()));
        }
        let token_url = self
            .token_url
            .unwrap_or_else(|| format!("{}/token", self.base_url.trim_end_matches('/')));
        let auth = match self.client_secret {
            Some(client_secret) => ClientAuth::Body {
                client_id: self.client_id.into(),
                client_secret,
            },
            None => ClientAuth::public(self.client_id),
        };
        let endpoint = self
            .settings
            .apply(TokenEndpoint::builder(token_url).client_auth(auth));
        Ok(Voipex {
            key: AccountKey::new(format!("voipex:{}", self.username)),
            endpoint: endpoint.build()?,
            grant: PasswordGrant::new(self.username, self.password).with_scopes(self.scopes),
        })
    }
}

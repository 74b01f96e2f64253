//! The [`Vonage`] application: its endpoints and consumer credentials, from
//! which password and browser sign-in accounts are made. Each kind of
//! account adds its own constructor to [`Vonage`] in its own file
//! (`password.rs`, `code.rs`), so the application knows nothing of them.

use std::time::Duration;

use authkit_core::endpoint::EndpointSettings;
use authkit_core::transport::validate_url;
use authkit_core::{ClientAuth, ClientId, ClientSecret, Error, GenericProvider, TokenEndpoint};
use url::Url;

/// Vonage's API host.
pub const DEFAULT_BASE_URL: &str = "https://api.vonage.com";
/// The token endpoint's path under the base URL.
pub const TOKEN_PATH: &str = "/token";
/// The authorization endpoint's path under the base URL.
pub const AUTHORIZE_PATH: &str = "/authorize";
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
            authorize_url: None,
            pkce: true,
            scopes: vec!["openid".to_owned()],
            settings: EndpointSettings::default(),
        }
    }

    /// A generic provider for the account `name` at this application's
    /// token endpoint, reading refusals as the API manager words them. Every
    /// account kind refreshes the same way: `grant_type=refresh_token`, the
    /// consumer key and secret in the body, as the page shows.
    pub(crate) fn generic(&self, name: String) -> GenericProvider {
        GenericProvider::new(name, self.token_endpoint.clone())
            .with_refusals(crate::refusal::classify)
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

/// Configures a [`Vonage`] application.
#[derive(Debug)]
pub struct VonageBuilder {
    consumer_key: String,
    consumer_secret: ClientSecret,
    authorize_url: Option<String>,
    pkce: bool,
    scopes: Vec<String>,
    settings: EndpointSettings,
}

impl VonageBuilder {
    /// Where the API manager is and how to talk to it: a base URL (the
    /// endpoints are `{base}/authorize` and `{base}/token`) or a full token
    /// URL, timeouts, retries, your own HTTP client.
    pub fn endpoint(mut self, settings: EndpointSettings) -> Self {
        self.settings = settings;
        self
    }

    /// The authorization endpoint's full URL (wins over the base URL).
    pub fn authorize_url(mut self, url: impl Into<String>) -> Self {
        self.authorize_url = Some(url.into());
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

    /// Checks the configuration and builds the application.
    pub fn build(self) -> Result<Vonage, Error> {
        if self.consumer_key.trim().is_empty() {
            return Err(Error::config("a Vonage application needs its consumer key"));
        }
        let authorize_url = validate_url(
            &self
                .authorize_url
                .unwrap_or_else(|| self.settings.url_for(DEFAULT_BASE_URL, AUTHORIZE_PATH)),
        )?;
        let endpoint = self
            .settings
            .token_endpoint(DEFAULT_BASE_URL, TOKEN_PATH)
            .client_auth(ClientAuth::secret_in_body(
                self.consumer_key.clone(),
                self.consumer_secret.clone(),
            ))
            .default_lifetime(ACCESS_TOKEN_LIFETIME)
            .default_refresh_lifetime(REFRESH_TOKEN_LIFETIME)
            .build()?;
        Ok(Vonage {
            consumer_key: ClientId::new(self.consumer_key),
            consumer_secret: self.consumer_secret,
            token_endpoint: endpoint,
            authorize_url,
            pkce: self.pkce,
            scopes: self.scopes,
        })
    }
}

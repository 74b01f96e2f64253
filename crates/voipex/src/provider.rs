//! The Voipex provider and its builder.

use authkit_core::endpoint::EndpointSettings;
use authkit_core::grant::PasswordGrant;
use authkit_core::provider::Adapter;
use authkit_core::{ClientAuth, ClientSecret, Error, GenericProvider, Password};

use crate::refusal::classify;

/// Voipex's authorization server.
pub const DEFAULT_BASE_URL: &str = "https://auth.voipex.io";
/// The path of the token endpoint under the base URL.
pub const TOKEN_PATH: &str = "/token";
/// The public client Voipex's page signs in with.
pub const DEFAULT_CLIENT_ID: &str = "api";

/// One Voipex account, signed in with the password grant: a
/// [`GenericProvider`] with Voipex's endpoint, client and refusals.
#[derive(Debug, Clone)]
pub struct Voipex(GenericProvider);

impl Adapter for Voipex {
    fn generic(&self) -> &GenericProvider {
        &self.0
    }
}

impl Voipex {
    /// Starts configuring the account `username` (an e-mail address) with its
    /// password. Defaults: `https://auth.voipex.io/token`, client `api`.
    pub fn builder(username: impl Into<String>, password: Password) -> VoipexBuilder {
        VoipexBuilder {
            username: username.into(),
            password,
            client_id: DEFAULT_CLIENT_ID.to_owned(),
            client_secret: None,
            scopes: Vec::new(),
            settings: EndpointSettings::default(),
        }
    }

    /// The token endpoint this account uses.
    pub fn token_url(&self) -> &str {
        self.0.endpoint().url().as_str()
    }
}

/// Configures a [`Voipex`] account.
///
/// ```
/// use authkit_core::Password;
/// use authkit_core::endpoint::EndpointSettings;
/// use authkit_voipex::Voipex;
///
/// let staging = Voipex::builder("alice@example.com", Password::new("pw"))
///     .endpoint(EndpointSettings::new().token_url(
///         "https://sso.example.com/realms/voipex/protocol/openid-connect/token",
///     ))
///     .scopes(["openid"])
///     .build()?;
/// # Ok::<(), authkit_core::Error>(())
/// ```
#[derive(Debug)]
pub struct VoipexBuilder {
    username: String,
    password: Password,
    client_id: String,
    client_secret: Option<ClientSecret>,
    scopes: Vec<String>,
    settings: EndpointSettings,
}

impl VoipexBuilder {
    /// Where the server is and how to talk to it: a base URL (the token
    /// endpoint is `{base}/token`) or a realm's full token URL, timeouts,
    /// retries, your own HTTP client.
    pub fn endpoint(mut self, settings: EndpointSettings) -> Self {
        self.settings = settings;
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

    /// Checks the configuration and builds the provider.
    pub fn build(self) -> Result<Voipex, Error> {
        if self.username.trim().is_empty() {
            return Err(Error::config("a Voipex account needs a user name"));
        }
        let auth = match self.client_secret {
            Some(client_secret) => ClientAuth::secret_in_body(self.client_id, client_secret),
            None => ClientAuth::public(self.client_id),
        };
        let endpoint = self
            .settings
            .token_endpoint(DEFAULT_BASE_URL, TOKEN_PATH)
            .client_auth(auth)
            .build()?;
        let name = format!("voipex:{}", self.username);
        let grant = PasswordGrant::new(self.username, self.password).with_scopes(self.scopes);
        Ok(Voipex(
            GenericProvider::new(name, endpoint)
                .with_grant(grant)
                .with_refusals(classify),
        ))
    }
}

//! The Voipex provider and its builder.

use async_trait::async_trait;
use authkit_core::{
    AccountKey, Binding, ClientAuth, ClientSecret, EndpointSettings, Error, Password,
    PasswordGrant, RefreshToken, RefreshTokenGrant, RequestContext, Scopes, TokenEndpoint,
    TokenProvider, TokenSet,
};

use crate::refusal::classify;

/// Voipex's authorization server.
pub const DEFAULT_BASE_URL: &str = "https://auth.voipex.io";
/// The path of the token endpoint under the base URL.
pub const TOKEN_PATH: &str = "/token";
/// The public client Voipex's page signs in with.
pub const DEFAULT_CLIENT_ID: &str = "api";

/// One Voipex account, signed in with the password grant.
#[derive(Debug, Clone)]
pub struct Voipex {
    key: AccountKey,
    binding: Binding,
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

    fn binding(&self) -> &Binding {
        &self.binding
    }

    async fn authenticate(&self, cx: &RequestContext) -> Result<TokenSet, Error> {
        self.endpoint
            .request(&self.grant, cx)
            .await
            .map_err(|e| e.map_refusal(classify))
    }

    async fn refresh(
        &self,
        refresh_token: &RefreshToken,
        cx: &RequestContext,
    ) -> Result<TokenSet, Error> {
        let grant = RefreshTokenGrant::new(refresh_token.clone());
        self.endpoint
            .request(&grant, cx)
            .await
            .map_err(|e| e.map_refusal(classify))
    }
}

/// Configures a [`Voipex`] account.
///
/// ```
/// use authkit_core::{EndpointSettings, Password};
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
        let binding = endpoint
            .binding()
            .with_scopes(Scopes::new(self.scopes.iter().cloned()));
        Ok(Voipex {
            key: binding.account_key(&format!("voipex:{}", self.username)),
            binding,
            endpoint,
            grant: PasswordGrant::new(self.username, self.password).with_scopes(self.scopes),
        })
    }
}

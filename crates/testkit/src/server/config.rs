//! What a [`super::MockAuthServer`] is told to be: its users, clients,
//! lifetimes, refresh policy and response style.

use std::collections::BTreeSet;
use std::time::Duration;

use authkit_core::client_auth::BasicEncoding;

/// How a mock client authenticates to the token endpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClientKind {
    /// A public client: `client_id` in the body, no secret.
    Public,
    /// A confidential client using HTTP Basic in the given encoding.
    Basic(BasicEncoding),
    /// A confidential client sending `client_id` and `client_secret` in the body.
    SecretInBody,
    /// A `client_secret_jwt` assertion: an HS256 JWT signed with the secret.
    SecretJwt,
}

/// A client registered at the mock server.
#[derive(Debug, Clone)]
pub struct MockClient {
    pub(crate) id: String,
    pub(crate) secret: Option<String>,
    pub(crate) kinds: Vec<ClientKind>,
    pub(crate) grants: Option<BTreeSet<String>>,
    pub(crate) redirect_uris: Vec<String>,
}

impl MockClient {
    /// A public client (Keycloak's `api`, say).
    pub fn public(id: impl Into<String>) -> Self {
        Self {
            id: id.into(),
            secret: None,
            kinds: vec![ClientKind::Public],
            grants: None,
            redirect_uris: Vec::new(),
        }
    }

    /// A confidential client that authenticates with HTTP Basic in `encoding`.
    pub fn basic(
        id: impl Into<String>,
        secret: impl Into<String>,
        encoding: BasicEncoding,
    ) -> Self {
        Self {
            id: id.into(),
            secret: Some(secret.into()),
            kinds: vec![ClientKind::Basic(encoding)],
            grants: None,
            redirect_uris: Vec::new(),
        }
    }

    /// A confidential client that sends its secret in the body.
    pub fn secret_in_body(id: impl Into<String>, secret: impl Into<String>) -> Self {
        Self {
            id: id.into(),
            secret: Some(secret.into()),
            kinds: vec![ClientKind::SecretInBody],
            grants: None,
            redirect_uris: Vec::new(),
        }
    }

    /// A confidential client that proves itself with a `client_secret_jwt`
    /// assertion (RFC 7523 §2.2): an HS256 JWT signed with `secret`, whose
    /// `jti` the server accepts once.
    pub fn secret_jwt(id: impl Into<String>, secret: impl Into<String>) -> Self {
        Self {
            id: id.into(),
            secret: Some(secret.into()),
            kinds: vec![ClientKind::SecretJwt],
            grants: None,
            redirect_uris: Vec::new(),
        }
    }

    /// Also accepts this way of authenticating (a confidential client that
    /// uses HTTP Basic for one grant and the body for another, as Vonage's
    /// API manager accepts).
    pub fn also_accepting(mut self, kind: ClientKind) -> Self {
        if !self.kinds.contains(&kind) {
            self.kinds.push(kind);
        }
        self
    }

    pub(crate) fn accepts(&self, kind: &ClientKind) -> bool {
        self.kinds.contains(kind)
    }

    /// Restricts the client to these grant types (all are allowed otherwise).
    pub fn allow_grants<I, S>(mut self, grants: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.grants = Some(grants.into_iter().map(Into::into).collect());
        self
    }

    /// Registers a redirect URI for the authorization code flow.
    pub fn redirect_uri(mut self, uri: impl Into<String>) -> Self {
        self.redirect_uris.push(uri.into());
        self
    }

    pub(crate) fn allows(&self, grant: &str) -> bool {
        self.grants.as_ref().is_none_or(|g| g.contains(grant))
    }
}

/// The shape of success responses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResponseStyle {
    /// Keycloak: `refresh_expires_in`, `session_state`, `not-before-policy`.
    Keycloak,
    /// An API manager (WSO2, Vonage): `scope: default`, and an `id_token`
    /// when `scope=openid` was asked for.
    ApiManager,
    /// RFC 6749 fields only.
    Plain,
}

/// What happens when a refresh token is used.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RefreshPolicy {
    /// Each refresh spends the token and issues a new one.
    pub rotate: bool,
    /// A spent token presented again revokes its whole family, the newest
    /// token included, as real servers do on suspected theft.
    pub reuse_detection: bool,
}

impl Default for RefreshPolicy {
    fn default() -> Self {
        Self {
            rotate: true,
            reuse_detection: true,
        }
    }
}

/// Everything the server is configured with.
#[derive(Debug, Clone)]
pub(crate) struct ServerConfig {
    pub(crate) token_path: String,
    pub(crate) authorize_path: String,
    pub(crate) users: Vec<(String, String)>,
    pub(crate) clients: Vec<MockClient>,
    pub(crate) access_ttl: Duration,
    pub(crate) refresh_ttl: Option<Duration>,
    pub(crate) code_ttl: Duration,
    pub(crate) refresh: RefreshPolicy,
    pub(crate) style: ResponseStyle,
    pub(crate) invalid_grant_status: u16,
    pub(crate) protected_resources: Vec<String>,
    pub(crate) custom_grants: super::custom::CustomGrants,
    pub(crate) extra_fields: serde_json::Map<String, serde_json::Value>,
    pub(crate) error_shape: super::custom::ErrorShape,
}

impl Default for ServerConfig {
    fn default() -> Self {
        Self {
            token_path: "/token".into(),
            authorize_path: "/authorize".into(),
            users: Vec::new(),
            clients: Vec::new(),
            access_ttl: Duration::from_secs(3600),
            refresh_ttl: Some(Duration::from_secs(7 * 24 * 3600)),
            code_ttl: Duration::from_secs(60),
            refresh: RefreshPolicy::default(),
            style: ResponseStyle::Plain,
            invalid_grant_status: 400,
            protected_resources: Vec::new(),
            custom_grants: Default::default(),
            extra_fields: Default::default(),
            error_shape: Default::default(),
        }
    }
}

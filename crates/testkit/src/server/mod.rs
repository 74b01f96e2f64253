//! [`MockAuthServer`]: an OAuth 2 authorization server in the test's own
//! process, on 127.0.0.1, that starts in a millisecond and runs offline.
//!
//! It is a real HTTP server (wiremock) with a state machine behind it, so a
//! client under test speaks the real wire protocol: form-encoded requests,
//! client authentication in every style, the password, refresh token,
//! authorization code (with PKCE) and client credentials grants, single-use
//! codes, rotating refresh tokens with reuse detection that revokes the
//! whole family, Keycloak-style and API-manager-style responses, and
//! injected faults. Its clock is injectable, so tests move time instead of
//! sleeping.

mod assertion;
mod authorize;
mod config;
mod custom;
mod faults;
mod grants;
mod log;
mod respond;
mod state;

use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use authkit_core::clock::{Clock, ManualClock};
use authkit_core::grant::PkceChallenge;
use authkit_core::secret::AuthorizationCode;
use authkit_core::{AccessToken, ExposeSecret};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer};

pub use config::{ClientKind, MockClient, RefreshPolicy, ResponseStyle};
pub use custom::{ErrorShape, GrantAnswer, GrantHandler, GrantRequest};
pub use faults::Fault;
pub use log::{ClientAuthUsed, LoggedRequest, Outcome, RequestLog};

use config::ServerConfig;
use respond::{AuthorizeResponder, ResourceResponder, TokenResponder};
use state::State;

/// A running mock authorization server. Stops when dropped.
pub struct MockAuthServer {
    server: crate::support::DropOffRuntime<MockServer>,
    state: Arc<Mutex<State>>,
    clock: ManualClock,
    token_path: String,
    authorize_path: String,
}

impl std::fmt::Debug for MockAuthServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MockAuthServer")
            .field("uri", &self.server.uri())
            .field("token_path", &self.token_path)
            .finish_non_exhaustive()
    }
}

impl MockAuthServer {
    /// Starts configuring a server.
    pub fn builder() -> MockAuthServerBuilder {
        MockAuthServerBuilder::default()
    }

    /// `http://127.0.0.1:PORT`, without a trailing slash.
    pub fn base_url(&self) -> String {
        self.server.uri()
    }

    /// The token endpoint's full URL.
    pub fn token_url(&self) -> String {
        format!("{}{}", self.server.uri(), self.token_path)
    }

    /// The authorization endpoint's full URL.
    pub fn authorize_url(&self) -> String {
        format!("{}{}", self.server.uri(), self.authorize_path)
    }

    /// The server's clock; advance it to expire tokens and codes.
    pub fn clock(&self) -> &ManualClock {
        &self.clock
    }

    /// The same clock as a trait object, to hand to endpoints and managers.
    pub fn shared_clock(&self) -> Arc<dyn Clock> {
        Arc::new(self.clock.clone())
    }

    /// A request context on the server's clock, for calling a provider
    /// directly.
    pub fn context(&self) -> authkit_core::endpoint::RequestContext {
        authkit_core::endpoint::RequestContext::new(self.shared_clock())
    }

    fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// A copy of the request log.
    pub fn log(&self) -> RequestLog {
        self.state().log.clone()
    }

    /// Every token request the server received, in order, with its form
    /// values and headers: for [`WireCheck`](crate::WireCheck)s of exactly
    /// what a provider sent. Unlike [`MockAuthServer::log`], it holds the
    /// secrets that were sent.
    pub fn token_requests(&self) -> Vec<crate::wire::WireRequest> {
        self.state().wire.clone()
    }

    /// Makes the next token request fail with `fault`.
    pub fn inject(&self, fault: Fault) {
        self.inject_n(fault, 1);
    }

    /// Makes the next `n` token requests fail with `fault`.
    pub fn inject_n(&self, fault: Fault, n: usize) {
        let mut state = self.state();
        for _ in 0..n {
            state.faults.push_back(fault.clone());
        }
    }

    /// Forgets every refresh token, as a server restart or an administrator's
    /// "log out all sessions" would.
    pub fn revoke_all_refresh_tokens(&self) {
        let mut state = self.state();
        let families: Vec<u64> = state.refresh_tokens.values().map(|r| r.family).collect();
        for family in families {
            state.revoke_family(family);
        }
    }

    /// Revokes one access token: the protected resources refuse it from now
    /// on (401, `invalid_token`), as after an administrator's revocation.
    pub fn revoke_access_token(&self, token: &AccessToken) {
        self.state().access_tokens.remove(token.expose_secret());
    }

    /// How many requests the protected resources have had, answered or refused.
    pub fn resource_requests(&self) -> usize {
        self.state().resource_requests
    }

    /// Whether `token` is an access token this server issued and still honours.
    pub fn is_access_token_active(&self, token: &AccessToken) -> bool {
        self.state().access_token_active(token.expose_secret())
    }

    /// Every secret the server issued (tokens, codes, session ids) and every
    /// password and client secret it knows: what a leak check looks for.
    pub fn all_secrets(&self) -> Vec<String> {
        let state = self.state();
        let mut secrets = state.issued_secrets.clone();
        secrets.extend(state.config.users.iter().map(|(_, p)| p.clone()));
        secrets.extend(state.config.clients.iter().filter_map(|c| c.secret.clone()));
        secrets
    }

    /// How the server shapes its error bodies.
    pub fn error_shape(&self) -> ErrorShape {
        self.state().config.error_shape.clone()
    }

    /// The configured users and their passwords.
    pub fn users(&self) -> Vec<(String, String)> {
        self.state().config.users.clone()
    }

    /// The first configured client's id and secret (none for a public
    /// client): the client the conformance suite's provider uses.
    pub fn first_client(&self) -> Option<(String, Option<String>)> {
        self.state()
            .config
            .clients
            .first()
            .map(|c| (c.id.clone(), c.secret.clone()))
    }

    /// Whether a refresh hands out a new refresh token (and spends the old).
    pub fn rotates_refresh_tokens(&self) -> bool {
        self.state().config.refresh.rotate
    }

    /// Makes the next authorization request end with `error=access_denied`.
    pub fn deny_next_authorization(&self) {
        self.state().deny_next_authorization = true;
    }

    /// Issues an authorization code directly, as if the first user had signed
    /// in and approved, for tests that do not go through a browser.
    pub fn issue_authorization_code(
        &self,
        client_id: &str,
        redirect_uri: &str,
        challenge: Option<&PkceChallenge>,
    ) -> AuthorizationCode {
        let mut state = self.state();
        let user = state
            .config
            .users
            .first()
            .map(|(u, _)| u.clone())
            .unwrap_or_default();
        let code = state.create_code(
            client_id,
            redirect_uri,
            &user,
            "",
            challenge.map(|c| c.as_str().to_owned()),
        );
        AuthorizationCode::new(code)
    }
}

/// Configures a [`MockAuthServer`]. Defaults: `/token` and `/authorize`,
/// plain RFC 6749 responses, one-hour access tokens, seven-day refresh tokens
/// that rotate with reuse detection, `invalid_grant` as 400, a clock that
/// starts at the current time.
#[derive(Default)]
pub struct MockAuthServerBuilder {
    config: ServerConfig,
    clock: Option<ManualClock>,
}

impl MockAuthServerBuilder {
    /// The token endpoint's path (Keycloak: `/realms/{realm}/protocol/openid-connect/token`).
    pub fn token_path(mut self, path: impl Into<String>) -> Self {
        self.config.token_path = path.into();
        self
    }

    /// The authorization endpoint's path.
    pub fn authorize_path(mut self, path: impl Into<String>) -> Self {
        self.config.authorize_path = path.into();
        self
    }

    /// Adds a user. The first user is the one who signs in at `/authorize`.
    pub fn user(mut self, username: impl Into<String>, password: impl Into<String>) -> Self {
        self.config.users.push((username.into(), password.into()));
        self
    }

    /// Registers a client.
    pub fn client(mut self, client: MockClient) -> Self {
        self.config.clients.push(client);
        self
    }

    /// The access token lifetime.
    pub fn access_ttl(mut self, ttl: Duration) -> Self {
        self.config.access_ttl = ttl;
        self
    }

    /// The refresh token lifetime (`None`: they never expire).
    pub fn refresh_ttl(mut self, ttl: Option<Duration>) -> Self {
        self.config.refresh_ttl = ttl;
        self
    }

    /// How long an authorization code stays redeemable.
    pub fn code_ttl(mut self, ttl: Duration) -> Self {
        self.config.code_ttl = ttl;
        self
    }

    /// Rotation and reuse detection.
    pub fn refresh_policy(mut self, policy: RefreshPolicy) -> Self {
        self.config.refresh = policy;
        self
    }

    /// The shape of success responses.
    pub fn style(mut self, style: ResponseStyle) -> Self {
        self.config.style = style;
        self
    }

    /// The status `invalid_grant` comes with: 400 (RFC 6749, newer Keycloak)
    /// or 401 (older Keycloak).
    pub fn invalid_grant_status(mut self, status: u16) -> Self {
        self.config.invalid_grant_status = status;
        self
    }

    /// Answers the grant `grant_type`, which the server does not know, with
    /// `handler`: it sees the form and the authenticated client, and answers
    /// tokens (which the server then knows) or a refusal. A client restricted
    /// with [`MockClient::allow_grants`] must list it; it is refused
    /// `unauthorized_client` before the handler runs otherwise.
    ///
    /// ```
    /// use authkit_testkit::{GrantAnswer, GrantRequest, MockAuthServer, MockClient};
    ///
    /// let builder = MockAuthServer::builder()
    ///     .client(MockClient::basic("svc", "s3cret", authkit_core::client_auth::BasicEncoding::FormUrlEncoded).allow_grants(["urn:example:sso"]))
    ///     .grant_handler("urn:example:sso", |request: &GrantRequest<'_>| {
    ///         match request.form.get("sso_ticket").map(String::as_str) {
    ///             Some("good-ticket") => GrantAnswer::Tokens {
    ///                 user: Some("ann".into()),
    ///                 scope: "api".into(),
    ///                 refresh: true,
    ///             },
    ///             _ => GrantAnswer::Refuse {
    ///                 status: 400,
    ///                 code: "invalid_grant".into(),
    ///                 description: "Bad ticket".into(),
    ///             },
    ///         }
    ///     });
    /// # let _ = builder;
    /// ```
    pub fn grant_handler(
        mut self,
        grant_type: impl Into<String>,
        handler: impl GrantHandler + 'static,
    ) -> Self {
        self.config
            .custom_grants
            .0
            .push((grant_type.into(), Arc::new(handler)));
        self
    }

    /// Adds `name: value` to every success response (a provider's extra
    /// fields: `session_state`, `instance_url`, ...).
    pub fn extra_response_field(
        mut self,
        name: impl Into<String>,
        value: serde_json::Value,
    ) -> Self {
        self.config.extra_fields.insert(name.into(), value);
        self
    }

    /// The first client's secret, replaced: the conformance suite gives it
    /// one that tells the Basic encodings apart.
    pub(crate) fn first_client_secret(mut self, secret: &str) -> Self {
        if let Some(client) = self.config.clients.first_mut()
            && client.secret.is_some()
        {
            client.secret = Some(secret.to_owned());
        }
        self
    }

    /// Shapes error bodies: the description's field and `invalid_client`'s
    /// status.
    pub fn error_shape(mut self, shape: ErrorShape) -> Self {
        self.config.error_shape = shape;
        self
    }

    /// Serves `path` (any method) as a protected API resource: 200 with a small JSON
    /// body for a live bearer token this server issued, 401 with
    /// `WWW-Authenticate` otherwise. Examples and tests call it like a real API.
    pub fn protected_resource(mut self, path: impl Into<String>) -> Self {
        self.config.protected_resources.push(path.into());
        self
    }

    /// The clock the server judges expiry by.
    pub fn clock(mut self, clock: ManualClock) -> Self {
        self.clock = Some(clock);
        self
    }

    /// Starts the server on 127.0.0.1 at a free port.
    pub async fn start(self) -> MockAuthServer {
        let clock = self.clock.unwrap_or_else(ManualClock::starting_now);
        let token_path = self.config.token_path.clone();
        let authorize_path = self.config.authorize_path.clone();
        let resources = self.config.protected_resources.clone();
        let state = Arc::new(Mutex::new(State::new(self.config, Arc::new(clock.clone()))));
        let server = MockServer::start().await;
        Mock::given(method("POST"))
            .and(path(token_path.as_str()))
            .respond_with(TokenResponder(Arc::clone(&state)))
            .mount(&server)
            .await;
        Mock::given(method("GET"))
            .and(path(authorize_path.as_str()))
            .respond_with(AuthorizeResponder(Arc::clone(&state)))
            .mount(&server)
            .await;
        for resource in resources {
            Mock::given(path(resource.as_str()))
                .respond_with(ResourceResponder(Arc::clone(&state)))
                .mount(&server)
                .await;
        }
        MockAuthServer {
            server: crate::support::DropOffRuntime::new(server),
            state,
            clock,
            token_path,
            authorize_path,
        }
    }
}

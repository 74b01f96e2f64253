//! Building a [`TokenEndpoint`], and the settings adapters share.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use crate::client_auth::ClientAuth;
use crate::endpoint::retry::RetryPolicy;
use crate::endpoint::token_endpoint::Inner;
use crate::endpoint::token_endpoint::TokenEndpoint;
use crate::error::Error;
use crate::error::config::{ConfigError, ConfigErrorKind};
use crate::token::token_set::TokenType;
use crate::transport::exchange::{ReqwestTransport, Transport};
use crate::transport::tls::{TlsSettings, http_client_builder_with};
use crate::transport::url_policy::{same_origin_redirects, validate_url};

impl TokenEndpoint {
    /// Starts building a client for the token endpoint at `url`.
    pub fn builder(url: impl Into<String>) -> TokenEndpointBuilder {
        TokenEndpointBuilder::new(url.into())
    }
}

/// The default cap on a response body: 1 MiB. Token responses are a few KiB.
pub const DEFAULT_MAX_RESPONSE_BYTES: usize = 1024 * 1024;
/// The default lifetime assumed when a server sends no usable `expires_in`.
pub const DEFAULT_TOKEN_LIFETIME: Duration = Duration::from_secs(5 * 60);
/// The default timeout of one attempt, response body included.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);
/// The default timeout for establishing a connection (authkit's own client).
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// Builds a [`TokenEndpoint`] with sensible defaults: a 30 s timeout per
/// attempt, a 10 s connect timeout, the default [`RetryPolicy`], a 1 MiB
/// body cap, a five-minute lifetime for tokens whose server does not say,
/// Bearer tokens only, and authkit's own HTTP client.
///
/// ```
/// use std::time::Duration;
/// use authkit_core::{ClientAuth, TokenEndpoint};
/// use authkit_core::endpoint::RetryPolicy;
///
/// let endpoint = TokenEndpoint::builder("https://auth.example.com/token")
///     .client_auth(ClientAuth::basic("my-app", "s3cret"))
///     .timeout(Duration::from_secs(10))
///     .retry_policy(RetryPolicy::none())
///     .build()?;
/// # Ok::<(), authkit_core::Error>(())
/// ```
pub struct TokenEndpointBuilder {
    url: String,
    auth: Option<ClientAuth>,
    settings: EndpointSettings,
    default_lifetime: Duration,
    default_refresh_lifetime: Option<Duration>,
    description_fields: Vec<String>,
}

impl fmt::Debug for TokenEndpointBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenEndpointBuilder")
            .field("url", &self.url)
            .field("client_auth", &self.auth)
            .field("settings", &self.settings)
            .finish_non_exhaustive()
    }
}

impl TokenEndpointBuilder {
    pub(super) fn new(url: String) -> Self {
        Self {
            url,
            auth: None,
            settings: EndpointSettings::default(),
            default_lifetime: DEFAULT_TOKEN_LIFETIME,
            default_refresh_lifetime: None,
            description_fields: Vec::new(),
        }
    }

    /// How the client authenticates (required).
    pub fn client_auth(mut self, auth: ClientAuth) -> Self {
        self.auth = Some(auth);
        self
    }

    /// The transport settings shared with adapters; replaces any set before.
    pub fn settings(mut self, settings: EndpointSettings) -> Self {
        self.settings = settings;
        self
    }

    /// The timeout of one attempt, response body included.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.settings.timeout = Some(timeout);
        self
    }

    /// The timeout for establishing a connection (authkit's own client only).
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.settings.connect_timeout = Some(timeout);
        self
    }

    /// How failures are retried.
    pub fn retry_policy(mut self, retry: RetryPolicy) -> Self {
        self.settings.retry = Some(retry);
        self
    }

    /// The largest response body accepted.
    pub fn max_response_bytes(mut self, limit: usize) -> Self {
        self.settings.max_response_bytes = Some(limit);
        self
    }

    /// The lifetime assumed when the server sends no usable `expires_in`.
    pub fn default_lifetime(mut self, lifetime: Duration) -> Self {
        self.default_lifetime = lifetime;
        self
    }

    /// The refresh token's lifetime when the server sends a refresh token
    /// and no `refresh_expires_in`: a provider whose documentation states
    /// one (Vonage: 7 days) says so here, so the manager knows when a person
    /// must sign in again. Without it, a refresh token's end is unknown.
    ///
    /// ```
    /// # use std::time::Duration;
    /// # use authkit_core::{ClientAuth, TokenEndpoint};
    /// let endpoint = TokenEndpoint::builder("https://auth.example.com/token")
    ///     .client_auth(ClientAuth::public("cli"))
    ///     .default_lifetime(Duration::from_secs(24 * 3600))
    ///     .default_refresh_lifetime(Duration::from_secs(7 * 24 * 3600))
    ///     .build()?;
    /// # Ok::<(), authkit_core::Error>(())
    /// ```
    pub fn default_refresh_lifetime(mut self, lifetime: Duration) -> Self {
        self.default_refresh_lifetime = Some(lifetime);
        self
    }

    /// The `User-Agent` header (authkit's own client only).
    pub fn user_agent(mut self, user_agent: impl Into<String>) -> Self {
        self.settings.user_agent = Some(user_agent.into());
        self
    }

    /// Your own `reqwest::Client` (proxies, custom roots, client
    /// certificates); see [`EndpointSettings::http_client`] for which rules
    /// still hold.
    pub fn http_client(mut self, client: reqwest::Client) -> Self {
        self.settings.http_client = Some(client);
        self
    }

    /// Another transport below the endpoint (tests feed scripted responses).
    pub fn transport(mut self, transport: Arc<dyn Transport>) -> Self {
        self.settings.transport = Some(transport);
        self
    }

    /// Also accepts tokens of this type (`Bearer` is always accepted). Only
    /// for a caller that will present the token with that scheme.
    pub fn accept_token_type(mut self, token_type: TokenType) -> Self {
        self.settings.accepted_token_types.push(token_type);
        self
    }

    /// A body field this provider's refusals carry their reason in, when it
    /// is none of the common names ([`DESCRIPTION_FIELDS`](crate::error::DESCRIPTION_FIELDS):
    /// `error_description`, `error_message`, `message`, ...). It is read
    /// before them; call it again for a second field, which is read after
    /// the first. Without it, a reason in a field of the server's own is
    /// kept among the refusal's fields but is not its description, so
    /// errors and logs would say nothing of why.
    ///
    /// ```
    /// use authkit_core::{ClientAuth, TokenEndpoint};
    ///
    /// let endpoint = TokenEndpoint::builder("https://auth.example.com/token")
    ///     .client_auth(ClientAuth::basic("my-app", "s3cret"))
    ///     .description_field("reason")
    ///     .build()?;
    /// # Ok::<(), authkit_core::Error>(())
    /// ```
    pub fn description_field(mut self, field: impl Into<String>) -> Self {
        self.description_fields.push(field.into());
        self
    }

    /// Checks the configuration and builds the client.
    pub fn build(self) -> Result<TokenEndpoint, Error> {
        let url = validate_url(&self.url)?;
        let auth = self
            .auth
            .ok_or_else(|| Error::config("a token endpoint needs a client authentication"))?;
        let settings = self.settings;
        if auth.is_mutual_tls() && !settings.may_present_certificate() {
            return Err(Error::config(format!(
                "{} authenticates with a TLS client certificate, but the endpoint has none: give it one with EndpointSettings::tls(TlsSettings::new().client_identity(...))",
                auth.method_name()
            )));
        }
        let transport = settings.transport_for(&url)?;
        let default_lifetime =
            time::Duration::try_from(self.default_lifetime).unwrap_or(time::Duration::minutes(5));
        Ok(TokenEndpoint {
            inner: Arc::new(Inner {
                url,
                auth,
                transport,
                timeout: settings.timeout.unwrap_or(DEFAULT_TIMEOUT),
                retry: settings.retry.clone().unwrap_or_default(),
                max_response_bytes: settings
                    .max_response_bytes
                    .unwrap_or(DEFAULT_MAX_RESPONSE_BYTES),
                default_lifetime,
                default_refresh_lifetime: self
                    .default_refresh_lifetime
                    .and_then(|d| time::Duration::try_from(d).ok()),
                accepted_token_types: settings.accepted_token_types.clone(),
                description_fields: self.description_fields,
            }),
        })
    }
}

/// authkit's own client: same-origin redirects only, https only unless the
/// endpoint is loopback http, TLS verified with ring and the platform's roots.
fn own_client(url: &url::Url, settings: &EndpointSettings) -> Result<reqwest::Client, Error> {
    let http_client_error = |message: &str, source: Box<dyn std::error::Error + Send + Sync>| {
        Error::Config(
            ConfigError::new(ConfigErrorKind::HttpClient, message).with_source(BoxedCause(source)),
        )
    };
    http_client_builder_with(&settings.tls)?
        .redirect(same_origin_redirects(url))
        .connect_timeout(settings.connect_timeout.unwrap_or(DEFAULT_CONNECT_TIMEOUT))
        .user_agent(
            settings
                .user_agent
                .clone()
                .unwrap_or_else(|| concat!("authkit/", env!("CARGO_PKG_VERSION")).to_owned()),
        )
        .https_only(url.scheme() == "https")
        .build()
        .map_err(|e| http_client_error("cannot build the HTTP client", Box::new(e)))
}

/// A boxed cause, as an error type of its own for `source()`.
#[derive(Debug)]
struct BoxedCause(Box<dyn std::error::Error + Send + Sync>);

impl fmt::Display for BoxedCause {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl std::error::Error for BoxedCause {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.0.source()
    }
}

/// The endpoint settings adapters take as one piece: where the endpoint is
/// (a full token URL, or a base URL the adapter joins its paths to), how long
/// to wait, how to retry, which HTTP client to use. Unset ones keep the
/// defaults of [`TokenEndpointBuilder`] and of the adapter.
///
/// ```
/// use std::time::Duration;
/// use authkit_core::endpoint::{EndpointSettings, RetryPolicy};
///
/// let staging = EndpointSettings::new()
///     .base_url("https://auth.staging.example.com")
///     .timeout(Duration::from_secs(5))
///     .retry_policy(RetryPolicy::none());
/// # let _ = staging;
/// ```
///
/// # A supplied HTTP client
///
/// With [`EndpointSettings::http_client`], authkit still refuses plain
/// `http://` to anything but loopback, caps the response body, times each
/// attempt out and refuses a response that came from another origin. It
/// cannot set the client's redirect policy, connect timeout or user agent:
/// build the client with [`crate::transport::same_origin_redirects`] (or
/// `reqwest::redirect::Policy::none()`) so that a redirect never carries a
/// token request's body to another origin.
///
/// authkit builds reqwest without a TLS crypto provider of its own: start
/// your client from [`crate::transport::http_client_builder`], or enable reqwest's
/// `rustls` feature, or install a process-wide rustls provider first.
#[derive(Clone, Default)]
pub struct EndpointSettings {
    base_url: Option<String>,
    token_url: Option<String>,
    timeout: Option<Duration>,
    connect_timeout: Option<Duration>,
    retry: Option<RetryPolicy>,
    max_response_bytes: Option<usize>,
    user_agent: Option<String>,
    http_client: Option<reqwest::Client>,
    transport: Option<Arc<dyn Transport>>,
    tls: TlsSettings,
    accepted_token_types: Vec<TokenType>,
}

impl fmt::Debug for EndpointSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EndpointSettings")
            .field("base_url", &self.base_url)
            .field("token_url", &self.token_url)
            .field("timeout", &self.timeout)
            .field("retry", &self.retry)
            .field("http_client", &self.http_client.is_some())
            .field("tls", &self.tls)
            .finish_non_exhaustive()
    }
}

impl EndpointSettings {
    /// The transport these settings give for requests to `url`: the one
    /// set, or one over the client set, or over authkit's own client.
    pub(crate) fn transport_for(&self, url: &url::Url) -> Result<Arc<dyn Transport>, Error> {
        Ok(match (&self.transport, &self.http_client) {
            (Some(transport), _) => Arc::clone(transport),
            (None, Some(client)) => Arc::new(ReqwestTransport::new(client.clone())),
            (None, None) => Arc::new(ReqwestTransport::new(own_client(url, self)?)),
        })
    }

    /// The timeout of one attempt, or the default.
    pub(crate) fn timeout_or_default(&self) -> Duration {
        self.timeout.unwrap_or(DEFAULT_TIMEOUT)
    }

    /// The response body cap, or the default.
    pub(crate) fn max_response_bytes_or_default(&self) -> usize {
        self.max_response_bytes
            .unwrap_or(DEFAULT_MAX_RESPONSE_BYTES)
    }

    /// No setting changed: every default applies.
    pub fn new() -> Self {
        Self::default()
    }

    /// The server's base URL; the adapter joins its paths (`/token`) to it.
    pub fn base_url(mut self, url: impl Into<String>) -> Self {
        self.base_url = Some(url.into());
        self
    }

    /// The token endpoint's full URL; wins over the base URL.
    pub fn token_url(mut self, url: impl Into<String>) -> Self {
        self.token_url = Some(url.into());
        self
    }

    /// The timeout of one attempt, response body included (default 30 s).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }

    /// The timeout for connecting (default 10 s; authkit's own client only).
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = Some(timeout);
        self
    }

    /// How failures are retried (default [`RetryPolicy::default`]).
    pub fn retry_policy(mut self, retry: RetryPolicy) -> Self {
        self.retry = Some(retry);
        self
    }

    /// The largest response body accepted (default 1 MiB).
    pub fn max_response_bytes(mut self, limit: usize) -> Self {
        self.max_response_bytes = Some(limit);
        self
    }

    /// The `User-Agent` header (authkit's own client only).
    pub fn user_agent(mut self, user_agent: impl Into<String>) -> Self {
        self.user_agent = Some(user_agent.into());
        self
    }

    /// Your own `reqwest::Client`: see "A supplied HTTP client" above.
    pub fn http_client(mut self, client: reqwest::Client) -> Self {
        self.http_client = Some(client);
        self
    }

    /// Another transport below the endpoint (tests feed scripted responses).
    pub fn transport(mut self, transport: Arc<dyn Transport>) -> Self {
        self.transport = Some(transport);
        self
    }

    /// What authkit's own client adds to its TLS defaults: a client
    /// certificate for mutual TLS (RFC 8705), roots of a private CA. A
    /// supplied [`EndpointSettings::http_client`] keeps its own TLS.
    pub fn tls(mut self, tls: TlsSettings) -> Self {
        self.tls = tls;
        self
    }

    /// The TLS additions of authkit's own client.
    pub fn tls_settings(&self) -> &TlsSettings {
        &self.tls
    }

    /// Whether requests made with these settings present a client
    /// certificate: one is set, or the caller's own client or transport may
    /// present one.
    pub(crate) fn may_present_certificate(&self) -> bool {
        self.tls.identity().is_some() || self.http_client.is_some() || self.transport.is_some()
    }

    /// The URL of one of the server's endpoints: `path` joined to the base
    /// URL, or to `default_base` when none was set (an adapter's
    /// authorization endpoint, say).
    pub fn url_for(&self, default_base: &str, path: &str) -> String {
        let base = self.base_url.as_deref().unwrap_or(default_base);
        format!(
            "{}/{}",
            base.trim_end_matches('/'),
            path.trim_start_matches('/')
        )
    }

    /// The token endpoint's URL: [`EndpointSettings::token_url`] when set,
    /// else `path` joined to the base URL (or to `default_base`).
    pub fn token_url_or(&self, default_base: &str, path: &str) -> String {
        match &self.token_url {
            Some(url) => url.clone(),
            None => self.url_for(default_base, path),
        }
    }

    /// A [`TokenEndpointBuilder`] for the token endpoint these settings name
    /// (see [`EndpointSettings::token_url_or`]), with every setting applied.
    pub fn token_endpoint(&self, default_base: &str, path: &str) -> TokenEndpointBuilder {
        TokenEndpointBuilder::new(self.token_url_or(default_base, path)).settings(self.clone())
    }
}

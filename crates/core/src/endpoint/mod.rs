//! The token endpoint client: one place where token requests are made.
//!
//! Every grant, provider and adapter goes through [`TokenEndpoint`], so the
//! wire rules are written once: a form POST with every value form-encoded;
//! the client authentication chosen explicitly; TLS always verified (rustls
//! with the webpki roots) and plain `http://` refused except for loopback;
//! redirects followed only within the same origin (a token request's body
//! holds credentials); response bodies capped; timeouts on every request;
//! retries bounded and never for a refusal. Lifetimes count from when the
//! request was sent.

mod response;
mod retry;

use std::fmt;
use std::sync::Arc;
use std::time::{Duration, Instant};

use reqwest::header::{ACCEPT, AUTHORIZATION, CONTENT_TYPE, HeaderValue, RETRY_AFTER};
use secrecy::{ExposeSecret, SecretString};
use url::Url;

use crate::client_auth::ClientAuth;
use crate::clock::{Clock, system_clock};
use crate::error::{Error, NetworkError, NetworkErrorKind};
use crate::grant::GrantType;
use crate::token::TokenSet;

pub use response::{
    MAX_LIFETIME, ParseContext, ResponseParts, expiry_after, interpret, lifetime_seconds,
};
pub use retry::RetryPolicy;

/// The default cap on a response body: 1 MiB. Token responses are a few KiB.
pub const DEFAULT_MAX_RESPONSE_BYTES: usize = 1024 * 1024;
/// The default lifetime assumed when a server sends no usable `expires_in`.
pub const DEFAULT_TOKEN_LIFETIME: Duration = Duration::from_secs(5 * 60);

/// A client for one token endpoint with one client authentication. Cheap to
/// clone; clones share the connection pool.
#[derive(Clone)]
pub struct TokenEndpoint {
    inner: Arc<Inner>,
}

struct Inner {
    url: Url,
    auth: ClientAuth,
    http: reqwest::Client,
    timeout: Duration,
    retry: RetryPolicy,
    max_response_bytes: usize,
    default_lifetime: time::Duration,
    clock: Arc<dyn Clock>,
}

impl fmt::Debug for TokenEndpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenEndpoint")
            .field("url", &self.inner.url.as_str())
            .field("client_auth", &self.inner.auth)
            .field("retry", &self.inner.retry)
            .finish_non_exhaustive()
    }
}

impl TokenEndpoint {
    /// Starts building a client for the token endpoint at `url`.
    pub fn builder(url: impl Into<String>) -> TokenEndpointBuilder {
        TokenEndpointBuilder::new(url.into())
    }

    /// The endpoint's URL.
    pub fn url(&self) -> &Url {
        &self.inner.url
    }

    /// The client authentication it uses.
    pub fn client_auth(&self) -> &ClientAuth {
        &self.inner.auth
    }

    /// The same endpoint with another client authentication, sharing the
    /// connection pool and every other setting. For servers that want one
    /// style for one grant and another for the next (Vonage: HTTP Basic for
    /// the code exchange, the secret in the body for the others).
    pub fn with_client_auth(&self, auth: ClientAuth) -> TokenEndpoint {
        TokenEndpoint {
            inner: Arc::new(Inner {
                url: self.inner.url.clone(),
                auth,
                http: self.inner.http.clone(),
                timeout: self.inner.timeout,
                retry: self.inner.retry.clone(),
                max_response_bytes: self.inner.max_response_bytes,
                default_lifetime: self.inner.default_lifetime,
                clock: Arc::clone(&self.inner.clock),
            }),
        }
    }

    /// The clock lifetimes are counted with.
    pub fn clock(&self) -> &Arc<dyn Clock> {
        &self.inner.clock
    }

    /// Sends `grant` and returns the token set the server granted, retrying
    /// failures that the [`RetryPolicy`] allows.
    pub async fn request(&self, grant: &dyn GrantType) -> Result<TokenSet, Error> {
        let body = self.encode_body(grant);
        let authorization = self.authorization_header()?;
        let started = Instant::now();
        let mut attempt = 1u32;
        loop {
            tracing::debug!(
                grant = grant.grant_type(),
                url = %self.inner.url,
                client_auth = self.inner.auth.style(),
                attempt,
                "token request"
            );
            // One timer for the whole attempt, response body included.
            let result = tokio::time::timeout(
                self.inner.timeout,
                self.attempt(grant, &body, authorization.as_ref()),
            )
            .await
            .unwrap_or_else(|_| {
                Err(Error::Network(NetworkError::new(
                    NetworkErrorKind::Timeout,
                    format!(
                        "no complete response within {} ms",
                        self.inner.timeout.as_millis()
                    ),
                )))
            });
            let error = match result {
                Ok(tokens) => {
                    tracing::debug!(
                        grant = grant.grant_type(),
                        attempt,
                        "token request succeeded"
                    );
                    return Ok(tokens);
                }
                Err(error) => error,
            };
            let Some(delay) = self.inner.retry.delay_after(
                &error,
                attempt,
                started.elapsed(),
                grant.is_single_use(),
            ) else {
                tracing::debug!(grant = grant.grant_type(), attempt, error = %error, "token request failed");
                return Err(error);
            };
            tracing::warn!(
                grant = grant.grant_type(),
                attempt,
                delay_ms = u64::try_from(delay.as_millis()).unwrap_or(u64::MAX),
                error = %error,
                "token request failed; retrying"
            );
            tokio::time::sleep(delay).await;
            attempt += 1;
        }
    }

    fn encode_body(&self, grant: &dyn GrantType) -> SecretString {
        let mut form = form_urlencoded::Serializer::new(String::new());
        form.append_pair("grant_type", grant.grant_type());
        for param in self
            .inner
            .auth
            .form_params()
            .iter()
            .chain(grant.parameters().iter())
        {
            form.append_pair(param.name(), param.value().expose());
        }
        SecretString::from(form.finish())
    }

    fn authorization_header(&self) -> Result<Option<HeaderValue>, Error> {
        let Some(value) = self.inner.auth.authorization_header() else {
            return Ok(None);
        };
        let mut header = HeaderValue::from_str(value.expose_secret()).map_err(|_| {
            Error::Config("the client credentials cannot form an Authorization header".into())
        })?;
        header.set_sensitive(true);
        Ok(Some(header))
    }

    async fn attempt(
        &self,
        grant: &dyn GrantType,
        body: &SecretString,
        authorization: Option<&HeaderValue>,
    ) -> Result<TokenSet, Error> {
        let mut request = self
            .inner
            .http
            .post(self.inner.url.clone())
            .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
            .header(ACCEPT, "application/json")
            .body(body.expose_secret().as_bytes().to_vec());
        if let Some(header) = authorization {
            request = request.header(AUTHORIZATION, header.clone());
        }
        let sent_at = self.inner.clock.now();
        let mut response = request.send().await.map_err(network_error)?;
        let status = response.status().as_u16();
        let content_type = header_text(&response, CONTENT_TYPE);
        let retry_after = header_text(&response, RETRY_AFTER)
            .as_deref()
            .and_then(retry::parse_retry_after);
        let limit = self.inner.max_response_bytes;
        let body = match response.content_length() {
            Some(len) if len > limit as u64 => {
                return Err(Error::ResponseTooLarge { status, limit });
            }
            // HTTP framing stops the body at its declared length, so it can
            // be read in one piece (measurably faster than chunk by chunk).
            Some(_) => response.bytes().await.map_err(network_error)?.to_vec(),
            None => {
                let mut body = Vec::new();
                while let Some(chunk) = response.chunk().await.map_err(network_error)? {
                    if body.len() + chunk.len() > limit {
                        return Err(Error::ResponseTooLarge { status, limit });
                    }
                    body.extend_from_slice(&chunk);
                }
                body
            }
        };
        interpret(
            &ResponseParts {
                status,
                content_type: content_type.as_deref(),
                retry_after,
                body: &body,
            },
            &ParseContext {
                grant_type: grant.grant_type(),
                sent_at,
                default_lifetime: self.inner.default_lifetime,
            },
        )
    }
}

fn header_text(response: &reqwest::Response, name: reqwest::header::HeaderName) -> Option<String> {
    response
        .headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
}

/// Classifies a transport failure. The URL is dropped from the message and
/// the causes are listed, none of which can hold the request body.
fn network_error(err: reqwest::Error) -> Error {
    let kind = if err.is_connect() {
        NetworkErrorKind::Connect
    } else if err.is_timeout() {
        NetworkErrorKind::Timeout
    } else if err.is_body() || err.is_decode() {
        NetworkErrorKind::Body
    } else {
        NetworkErrorKind::Other
    };
    let err = err.without_url();
    let mut message = err.to_string();
    let mut source = std::error::Error::source(&err);
    while let Some(cause) = source {
        message.push_str(": ");
        message.push_str(&cause.to_string());
        source = cause.source();
    }
    Error::Network(NetworkError::new(kind, message))
}

/// Builds a [`TokenEndpoint`] with sensible defaults: a 30 s request timeout,
/// a 10 s connect timeout, the default [`RetryPolicy`], a 1 MiB body cap and a
/// five-minute lifetime for tokens whose server does not say.
pub struct TokenEndpointBuilder {
    url: String,
    auth: Option<ClientAuth>,
    timeout: Duration,
    connect_timeout: Duration,
    retry: RetryPolicy,
    max_response_bytes: usize,
    default_lifetime: Duration,
    clock: Arc<dyn Clock>,
    user_agent: String,
}

impl fmt::Debug for TokenEndpointBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenEndpointBuilder")
            .field("url", &self.url)
            .field("client_auth", &self.auth)
            .finish_non_exhaustive()
    }
}

impl TokenEndpointBuilder {
    fn new(url: String) -> Self {
        Self {
            url,
            auth: None,
            timeout: Duration::from_secs(30),
            connect_timeout: Duration::from_secs(10),
            retry: RetryPolicy::default(),
            max_response_bytes: DEFAULT_MAX_RESPONSE_BYTES,
            default_lifetime: DEFAULT_TOKEN_LIFETIME,
            clock: system_clock(),
            user_agent: concat!("authkit/", env!("CARGO_PKG_VERSION")).to_owned(),
        }
    }

    /// How the client authenticates (required).
    pub fn client_auth(mut self, auth: ClientAuth) -> Self {
        self.auth = Some(auth);
        self
    }

    /// The timeout of one request, response body included.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// The timeout for establishing a connection.
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// How failures are retried.
    pub fn retry_policy(mut self, retry: RetryPolicy) -> Self {
        self.retry = retry;
        self
    }

    /// The largest response body accepted.
    pub fn max_response_bytes(mut self, limit: usize) -> Self {
        self.max_response_bytes = limit;
        self
    }

    /// The lifetime assumed when the server sends no usable `expires_in`.
    pub fn default_lifetime(mut self, lifetime: Duration) -> Self {
        self.default_lifetime = lifetime;
        self
    }

    /// The clock that lifetimes are counted with.
    pub fn clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// The `User-Agent` header.
    pub fn user_agent(mut self, user_agent: impl Into<String>) -> Self {
        self.user_agent = user_agent.into();
        self
    }

    /// Checks the configuration and builds the client.
    pub fn build(self) -> Result<TokenEndpoint, Error> {
        let url = validate_url(&self.url)?;
        let auth = self.auth.ok_or_else(|| {
            Error::Config("a token endpoint needs a client authentication".into())
        })?;
        let origin = url.origin();
        let redirect = reqwest::redirect::Policy::custom(move |attempt| {
            if attempt.previous().len() >= 3 || attempt.url().origin() != origin {
                attempt.stop()
            } else {
                attempt.follow()
            }
        });
        let http = reqwest::Client::builder()
            .redirect(redirect)
            .connect_timeout(self.connect_timeout)
            .user_agent(self.user_agent)
            .https_only(url.scheme() == "https")
            .build()
            .map_err(|e| Error::Config(format!("cannot build the HTTP client: {e}")))?;
        let default_lifetime =
            time::Duration::try_from(self.default_lifetime).unwrap_or(time::Duration::minutes(5));
        Ok(TokenEndpoint {
            inner: Arc::new(Inner {
                url,
                auth,
                http,
                timeout: self.timeout,
                retry: self.retry,
                max_response_bytes: self.max_response_bytes,
                default_lifetime,
                clock: self.clock,
            }),
        })
    }
}

/// The endpoint settings an adapter's builder passes through unchanged: the
/// clock, the retry policy and the timeout. Unset ones keep the
/// [`TokenEndpointBuilder`] defaults.
#[derive(Clone, Default)]
pub struct EndpointSettings {
    clock: Option<Arc<dyn Clock>>,
    retry: Option<RetryPolicy>,
    timeout: Option<Duration>,
}

impl fmt::Debug for EndpointSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EndpointSettings")
            .field("retry", &self.retry)
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

impl EndpointSettings {
    /// The clock lifetimes are counted with.
    pub fn set_clock(&mut self, clock: Arc<dyn Clock>) {
        self.clock = Some(clock);
    }

    /// How failures are retried.
    pub fn set_retry_policy(&mut self, retry: RetryPolicy) {
        self.retry = Some(retry);
    }

    /// The timeout of one request.
    pub fn set_timeout(&mut self, timeout: Duration) {
        self.timeout = Some(timeout);
    }

    /// Applies the settings that were set to `builder`.
    pub fn apply(&self, mut builder: TokenEndpointBuilder) -> TokenEndpointBuilder {
        if let Some(clock) = &self.clock {
            builder = builder.clock(Arc::clone(clock));
        }
        if let Some(retry) = &self.retry {
            builder = builder.retry_policy(retry.clone());
        }
        if let Some(timeout) = self.timeout {
            builder = builder.timeout(timeout);
        }
        builder
    }
}

/// Accepts `https://` URLs, and `http://` only for loopback hosts; refuses
/// credentials and fragments in the URL.
pub fn validate_url(text: &str) -> Result<Url, Error> {
    let url = Url::parse(text.trim())
        .map_err(|e| Error::Config(format!("invalid token endpoint URL: {e}")))?;
    if !url.username().is_empty() || url.password().is_some() {
        return Err(Error::Config(
            "the token endpoint URL must not contain credentials".into(),
        ));
    }
    if url.fragment().is_some() {
        return Err(Error::Config(
            "the token endpoint URL must not have a fragment".into(),
        ));
    }
    match url.scheme() {
        "https" => Ok(url),
        "http" if is_loopback(&url) => Ok(url),
        "http" => Err(Error::Config(format!(
            "plain http is allowed only for loopback hosts, not {}",
            url.host_str().unwrap_or("")
        ))),
        other => Err(Error::Config(format!("unsupported URL scheme {other}"))),
    }
}

fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_loopback_may_use_plain_http() {
        assert!(validate_url("https://auth.voipex.io/token").is_ok());
        assert!(validate_url("http://127.0.0.1:8080/token").is_ok());
        assert!(validate_url("http://localhost/token").is_ok());
        assert!(validate_url("http://[::1]:9/token").is_ok());
        assert!(matches!(
            validate_url("http://auth.voipex.io/token"),
            Err(Error::Config(_))
        ));
        assert!(matches!(
            validate_url("https://u:p@host/token"),
            Err(Error::Config(_))
        ));
        assert!(matches!(
            validate_url("ftp://host/token"),
            Err(Error::Config(_))
        ));
    }
}

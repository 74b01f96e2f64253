//! One error type that lets a caller decide what to do next.
//!
//! A caller of a token library has a handful of choices after a failure:
//! give up and show the server's reason (the server said no), send a person to
//! sign in again, try later (the network or the server failed), or fix the
//! configuration. [`Error`] has one variant per choice, so a `match` is all a
//! caller needs, and [`Error::is_retryable`] answers the common question.
//!
//! No variant carries a secret. Excerpts of foreign response bodies are cut
//! short and scrubbed of anything that looks like a token (see
//! [`crate::excerpt`]); a token response that failed to parse is reported
//! without its body at all, because the body may hold live tokens.
//!
//! Errors are `Clone` so that one failed refresh can be handed to every caller
//! that waited for it.

use std::fmt;
use std::time::Duration;

use crate::secret::AccountKey;

/// Every way that getting a token can fail.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The authorization server refused the request with an OAuth 2 error
    /// (RFC 6749 §5.2). Not retried: the same request would be refused again.
    #[error("the authorization server refused the {grant} request: {refusal}")]
    Refused {
        /// The `grant_type` of the request that was refused.
        grant: String,
        /// What the server said.
        refusal: OAuthRefusal,
    },

    /// No token can be had without a person: the refresh token is dead and the
    /// provider cannot authenticate unattended (an authorization code account),
    /// or the provider said so.
    #[error("a person must sign in again: {reason}")]
    SignInRequired {
        /// Why, in words fit for the person.
        reason: String,
    },

    /// The server asked us to slow down (HTTP 429) and the retry budget ran out.
    #[error("rate limited by the authorization server{}", retry_after_text(.retry_after))]
    RateLimited {
        /// How long the server asked us to wait, when it said.
        retry_after: Option<Duration>,
    },

    /// The server failed (HTTP 5xx, or an OAuth `server_error` /
    /// `temporarily_unavailable`) and the retry budget ran out.
    #[error("the authorization server failed with status {status}: {excerpt}")]
    ServerFailure {
        /// The HTTP status.
        status: u16,
        /// A short, scrubbed excerpt of the body.
        excerpt: String,
        /// How long the server asked us to wait (`Retry-After`, usually with 503).
        retry_after: Option<Duration>,
    },

    /// The request did not complete: connection refused or reset, DNS, TLS, a
    /// timeout, or a body cut off.
    #[error("network failure talking to the authorization server: {0}")]
    Network(NetworkError),

    /// The response is not an OAuth 2 response at all: an HTML error or login
    /// page, a redirect, a 404.
    #[error(
        "the response is not an OAuth 2 token response (status {status}, content type {content_type}): {excerpt}"
    )]
    NotOAuth {
        /// The HTTP status.
        status: u16,
        /// The `Content-Type` header, or `none`.
        content_type: String,
        /// A short, scrubbed excerpt of the body.
        excerpt: String,
    },

    /// A success response that could not be read as a token response. The body
    /// is not included, because it may hold live tokens.
    #[error("the authorization server sent a malformed token response (status {status}): {reason}")]
    MalformedResponse {
        /// The HTTP status.
        status: u16,
        /// What was wrong, without any value from the body.
        reason: String,
    },

    /// The response body was larger than the configured limit.
    #[error("the token response exceeded the {limit}-byte limit (status {status})")]
    ResponseTooLarge {
        /// The HTTP status.
        status: u16,
        /// The limit in bytes.
        limit: usize,
    },

    /// The library was configured in a way that cannot work (a bad URL, plain
    /// `http://` to a remote host, a missing credential).
    #[error("configuration error: {0}")]
    Config(String),

    /// The token store failed.
    #[error(transparent)]
    Store(#[from] StoreError),

    /// New tokens were issued but could not be saved. The server has already
    /// spent the old refresh token, so the new set is kept in memory and will
    /// be saved with the next successful write; other processes sharing the
    /// store will not see it until then.
    #[error(
        "new tokens for {key} were issued but could not be saved (the old refresh token is spent; the new set is kept in memory): {source}"
    )]
    UnsavedRotation {
        /// The account whose tokens were rotated.
        key: AccountKey,
        /// Why the save failed.
        source: StoreError,
    },

    /// A background task of the manager ended without a result (it panicked or
    /// the runtime shut down).
    #[error("internal error: {0}")]
    Internal(String),
}

fn retry_after_text(retry_after: &Option<Duration>) -> String {
    match retry_after {
        Some(d) => format!(" (retry after {} s)", d.as_secs()),
        None => String::new(),
    }
}

impl Error {
    /// Whether trying again later may succeed without any change: network
    /// and server failures and rate limiting.
    pub fn is_retryable(&self) -> bool {
        matches!(
            self,
            Error::RateLimited { .. } | Error::ServerFailure { .. } | Error::Network(_)
        ) || matches!(self, Error::Store(e) if e.is_retryable())
    }

    /// The OAuth error code when the server refused, such as `invalid_grant`.
    pub fn oauth_error_code(&self) -> Option<&str> {
        match self {
            Error::Refused { refusal, .. } => Some(refusal.code()),
            _ => None,
        }
    }

    /// Whether the server refused a refresh token (`invalid_grant` on the
    /// `refresh_token` grant): the token is dead and must not be sent again.
    pub fn is_refresh_token_rejected(&self) -> bool {
        matches!(self, Error::Refused { grant, refusal } if grant == "refresh_token" && refusal.code() == "invalid_grant")
    }

    /// Whether this is the server saying no, as opposed to a failure to talk to it.
    pub fn is_refusal(&self) -> bool {
        matches!(self, Error::Refused { .. } | Error::SignInRequired { .. })
    }
}

/// An OAuth 2 error response (RFC 6749 §5.2): the server's refusal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OAuthRefusal {
    code: String,
    description: Option<String>,
    uri: Option<String>,
    status: u16,
}

impl OAuthRefusal {
    /// Builds a refusal; adapters use it to re-classify provider quirks.
    /// Text is scrubbed of anything that looks like a token.
    pub fn new(
        code: impl Into<String>,
        description: Option<String>,
        uri: Option<String>,
        status: u16,
    ) -> Self {
        Self {
            code: crate::excerpt::scrub(&code.into(), 64),
            description: description.map(|d| crate::excerpt::scrub(&d, 300)),
            uri: uri.map(|u| crate::excerpt::scrub(&u, 300)),
            status,
        }
    }

    /// The `error` code: `invalid_grant`, `invalid_client`, `unauthorized_client`, ...
    pub fn code(&self) -> &str {
        &self.code
    }

    /// The `error_description`, when the server sent one.
    pub fn description(&self) -> Option<&str> {
        self.description.as_deref()
    }

    /// The `error_uri`, when the server sent one.
    pub fn uri(&self) -> Option<&str> {
        self.uri.as_deref()
    }

    /// The HTTP status it came with (Keycloak sends `invalid_grant` as 400 or
    /// 401 depending on its release, so do not branch on it).
    pub fn status(&self) -> u16 {
        self.status
    }
}

impl fmt::Display for OAuthRefusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.code)?;
        if let Some(d) = &self.description {
            write!(f, " ({d})")?;
        }
        write!(f, " [HTTP {}]", self.status)
    }
}

/// A failure below HTTP: the request or its response did not make it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{kind}: {message}")]
pub struct NetworkError {
    kind: NetworkErrorKind,
    message: String,
}

impl NetworkError {
    /// Builds a network error. The message must not contain a secret.
    pub fn new(kind: NetworkErrorKind, message: impl Into<String>) -> Self {
        Self {
            kind,
            message: message.into(),
        }
    }

    /// What kind of failure it was.
    pub fn kind(&self) -> NetworkErrorKind {
        self.kind
    }

    /// Whether the request certainly never reached the server, so that even a
    /// single-use grant may be sent again.
    pub fn request_not_sent(&self) -> bool {
        self.kind == NetworkErrorKind::Connect
    }
}

/// The kinds of [`NetworkError`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum NetworkErrorKind {
    /// The connection could not be made (refused, DNS, TLS handshake).
    Connect,
    /// The request or the response took longer than the timeout.
    Timeout,
    /// The connection broke while the response was read.
    Body,
    /// Anything else the HTTP client reported.
    Other,
}

impl fmt::Display for NetworkErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            NetworkErrorKind::Connect => "connect",
            NetworkErrorKind::Timeout => "timeout",
            NetworkErrorKind::Body => "response body",
            NetworkErrorKind::Other => "request",
        })
    }
}

/// Every way that a [`crate::TokenStore`] can fail.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// The stored data could not be read and was moved aside, not deleted.
    #[error(
        "the stored token set for {key} could not be read ({reason}); it was moved to {moved_to}"
    )]
    Corrupt {
        /// The account whose data was corrupt.
        key: AccountKey,
        /// Where the unreadable data now is.
        moved_to: String,
        /// What was wrong, without any value from the data.
        reason: String,
    },

    /// The hold on the key lapsed before the save (a networked store's lease
    /// expired); nothing was written.
    #[error("the store lock on {key} was lost before the save; nothing was written")]
    LockLost {
        /// The account whose lock was lost.
        key: AccountKey,
    },

    /// The store cannot be reached right now (a network store that is down).
    #[error("the token store is unavailable: {0}")]
    Unavailable(String),

    /// An I/O operation failed.
    #[error("token store I/O failed while {operation} {location}: {message}")]
    Io {
        /// What the store was doing (`writing`, `locking`, ...).
        operation: String,
        /// The file or resource.
        location: String,
        /// The operating system's words.
        message: String,
    },

    /// A token set could not be encoded or decoded.
    #[error(transparent)]
    Format(#[from] crate::token::StoreFormatError),
}

impl StoreError {
    /// Whether the operation may succeed if tried again.
    pub fn is_retryable(&self) -> bool {
        matches!(self, StoreError::Unavailable(_))
    }
}

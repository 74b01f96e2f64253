//! Transient failures: the network or the server failed, or asked us to wait.

use std::fmt;
use std::time::Duration;

use crate::error::shared_cause::SharedCause;

/// A failure that may pass: trying again later may succeed unchanged.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{kind}{}: {detail}", retry_after_text(.retry_after))]
pub struct TransientError {
    kind: TransientKind,
    retry_after: Option<Duration>,
    detail: String,
    #[source]
    source: Option<SharedCause>,
}

/// The kinds of [`TransientError`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum TransientKind {
    /// The connection could not be made (refused, DNS, TLS handshake): the
    /// request certainly never reached the server.
    Connect,
    /// No complete response within the timeout.
    Timeout,
    /// The connection broke while the response was read.
    ConnectionBroken,
    /// The server failed: HTTP 5xx, or an OAuth `server_error` /
    /// `temporarily_unavailable`.
    ServerFailure {
        /// The HTTP status.
        status: u16,
    },
    /// The server asked us to slow down (HTTP 429, OAuth `slow_down`).
    RateLimited {
        /// The HTTP status.
        status: u16,
    },
    /// Anything else the HTTP client reported.
    Other,
}

impl TransientError {
    /// A transient failure with a detail that must not contain a secret.
    pub fn new(kind: TransientKind, detail: impl Into<String>) -> Self {
        Self {
            kind,
            retry_after: None,
            detail: detail.into(),
            source: None,
        }
    }

    /// The same failure with the wait the server asked for (`Retry-After`).
    pub fn with_retry_after(mut self, retry_after: Option<Duration>) -> Self {
        self.retry_after = retry_after;
        self
    }

    /// The same failure with its cause kept for `source()`.
    pub fn with_source(mut self, source: impl std::error::Error + Send + Sync + 'static) -> Self {
        self.source = Some(std::sync::Arc::new(source));
        self
    }

    /// What kind of failure it was.
    pub fn kind(&self) -> TransientKind {
        self.kind
    }

    /// How long the server asked us to wait, when it said.
    pub fn retry_after(&self) -> Option<Duration> {
        self.retry_after
    }

    /// The HTTP status, when the server answered.
    pub fn status(&self) -> Option<u16> {
        match self.kind {
            TransientKind::ServerFailure { status } | TransientKind::RateLimited { status } => {
                Some(status)
            }
            _ => None,
        }
    }

    /// What happened, in words (never a secret).
    pub fn detail(&self) -> &str {
        &self.detail
    }

    /// Whether the request certainly never reached the server, so that even a
    /// single-use grant may be sent again.
    pub fn request_not_sent(&self) -> bool {
        self.kind == TransientKind::Connect
    }
}

impl fmt::Display for TransientKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TransientKind::Connect => f.write_str("could not connect to the authorization server"),
            TransientKind::Timeout => {
                f.write_str("the authorization server did not answer in time")
            }
            TransientKind::ConnectionBroken => {
                f.write_str("the connection to the authorization server broke")
            }
            TransientKind::ServerFailure { status } => {
                write!(f, "the authorization server failed with status {status}")
            }
            TransientKind::RateLimited { status } => {
                write!(
                    f,
                    "rate limited by the authorization server (status {status})"
                )
            }
            TransientKind::Other => f.write_str("the request to the authorization server failed"),
        }
    }
}

fn retry_after_text(retry_after: &Option<Duration>) -> String {
    match retry_after {
        Some(d) => format!(" (retry after {} s)", d.as_secs()),
        None => String::new(),
    }
}

//! Configuration errors: what a person must change before anything works.

use std::fmt;

use crate::error::shared_cause::SharedCause;

/// A configuration that cannot work.
#[derive(Debug, Clone, thiserror::Error)]
#[error("configuration error: {message}")]
pub struct ConfigError {
    kind: ConfigErrorKind,
    message: String,
    #[source]
    source: Option<SharedCause>,
}

/// The kinds of [`ConfigError`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ConfigErrorKind {
    /// A setting is missing or invalid (a URL, a credential, a scheme).
    InvalidSetting,
    /// The stored token set for the account was issued by another server or
    /// to another client than this configuration names. The stored set was
    /// left as it is and nothing was sent.
    BindingMismatch,
    /// The URL does not lead to a token endpoint: the server answered with a
    /// page that is not OAuth and a status that says "no such resource"
    /// (404, 405, 410).
    NotATokenEndpoint,
    /// The HTTP client could not be built.
    HttpClient,
    /// The TLS handshake failed on a certificate: the server's is not
    /// trusted (expired, for another name, from a CA not among the roots),
    /// or the server refused the client's (none presented where mutual TLS
    /// is required, or one it does not accept). Sending again cannot help.
    Tls,
    /// An [`crate::AccountPool`] was given a second, different provider for
    /// an account key it already holds.
    AccountConflict,
    /// An [`crate::AccountPool`] was asked for an account it does not hold
    /// and has no factory to create.
    UnknownAccount,
}

impl ConfigError {
    /// A configuration error. The message must not contain a secret.
    pub fn new(kind: ConfigErrorKind, message: impl Into<String>) -> Self {
        Self {
            kind,
            message: message.into(),
            source: None,
        }
    }

    /// The same error with its cause kept for `source()`.
    pub fn with_source(mut self, source: impl std::error::Error + Send + Sync + 'static) -> Self {
        self.source = Some(std::sync::Arc::new(source));
        self
    }

    /// What kind of problem it is.
    pub fn kind(&self) -> ConfigErrorKind {
        self.kind
    }

    /// The message, for people.
    pub fn message(&self) -> &str {
        &self.message
    }
}

impl fmt::Display for ConfigErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ConfigErrorKind::InvalidSetting => "invalid setting",
            ConfigErrorKind::BindingMismatch => "stored account bound elsewhere",
            ConfigErrorKind::NotATokenEndpoint => "not a token endpoint",
            ConfigErrorKind::HttpClient => "HTTP client",
            ConfigErrorKind::Tls => "TLS certificate",
            ConfigErrorKind::AccountConflict => "account added twice",
            ConfigErrorKind::UnknownAccount => "unknown account",
        })
    }
}

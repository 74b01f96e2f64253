//! One error type, grouped by what a caller does next.
//!
//! After a failure, a caller of a token library has a handful of choices:
//! show the server's reason and stop (the server refused), send a person to
//! sign in again, try later (a transient failure of the network or the
//! server), report a server that does not speak OAuth properly (protocol),
//! fix the configuration, or look at the token store. [`Error`] has one
//! variant per choice, so one `match` is all a caller needs, and each variant
//! carries typed data for the finer decisions: the refused grant's
//! [`GrantKind`](crate::grant::GrantKind), the OAuth [`ErrorCode`], whether a refresh
//! token is dead, how long the server asked us to wait.
//!
//! No variant carries a secret. Excerpts of foreign response bodies are cut
//! short and scrubbed of anything that looks like a token; a token response
//! that failed to parse is reported without its body at all, because the
//! body may hold live tokens.
//!
//! Errors are `Clone` so that one failed refresh reaches every caller that
//! waited for it. Causes are shared behind an `Arc`, not flattened to text,
//! so [`std::error::Error::source`] still walks the whole chain.

pub(crate) mod account_state;
pub(crate) mod config;
pub(crate) mod excerpt;
pub(crate) mod protocol;
pub(crate) mod refusal;
pub(crate) mod refusal_table;
pub(crate) mod shared_cause;
pub(crate) mod store;
pub(crate) mod store_format;
pub(crate) mod transient;

use std::time::Duration;

use crate::secret::AccountKey;

pub use account_state::AccountState;
pub use config::{ConfigError, ConfigErrorKind};
pub use excerpt::scrub;
pub use protocol::ProtocolError;
pub use refusal::{DESCRIPTION_FIELDS, ErrorCode, Refusal};
pub use refusal_table::{RefusalRule, classify_refusal};
pub use shared_cause::SharedCause;
pub use store::StoreError;
pub use store_format::StoreFormatError;
pub use transient::{TransientError, TransientKind};

/// Every way that getting a token can fail.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The authorization server refused the request with an OAuth 2 error
    /// (RFC 6749 §5.2). Not retried: the same request would be refused again.
    #[error(transparent)]
    Refused(Refusal),

    /// No token can be had without a person: the refresh token is dead and the
    /// provider cannot authenticate unattended (an authorization code account),
    /// or the provider said so.
    #[error("a person must sign in again: {reason}")]
    SignInRequired {
        /// Why, in words fit for the person.
        reason: String,
    },

    /// The network or the server failed, or the server asked us to slow down,
    /// and the retry budget ran out. Trying again later may succeed.
    #[error(transparent)]
    Transient(TransientError),

    /// The server answered, but not as an OAuth 2 token endpoint should: an
    /// HTML page, a malformed or oversized success, a token this client
    /// cannot use.
    #[error(transparent)]
    Protocol(ProtocolError),

    /// The library was configured in a way that cannot work (a bad URL, plain
    /// `http://` to a remote host, a missing credential, a stored account
    /// bound to another server or client, a URL that is not a token endpoint).
    #[error(transparent)]
    Config(ConfigError),

    /// The token store failed.
    #[error(transparent)]
    Store(#[from] StoreError),

    /// New tokens were issued but could not be saved. The server has already
    /// spent the old refresh token, so the new set is kept in memory and will
    /// be saved with the next successful write; other processes sharing the
    /// store will not see it until then.
    #[error(
        "new tokens for {key} were issued but could not be saved (the old refresh token is spent; the new set is kept in memory)"
    )]
    UnsavedRotation {
        /// The account whose tokens were rotated.
        key: AccountKey,
        /// Why the save failed.
        #[source]
        source: StoreError,
    },

    /// A background task of the manager ended without a result (it panicked or
    /// the runtime shut down).
    #[error("internal error: {0}")]
    Internal(String),
}

impl Error {
    /// A configuration error of the general kind, with a message that must
    /// not contain a secret.
    pub fn config(message: impl Into<String>) -> Self {
        Error::Config(ConfigError::new(ConfigErrorKind::InvalidSetting, message))
    }

    /// Whether trying again later may succeed without any change: transient
    /// failures and stores that are unavailable for now.
    pub fn is_retryable(&self) -> bool {
        match self {
            Error::Transient(_) => true,
            Error::Store(e) => e.is_retryable(),
            _ => false,
        }
    }

    /// How long the server asked us to wait (`Retry-After`), when it did.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            Error::Transient(t) => t.retry_after(),
            _ => None,
        }
    }

    /// The server's refusal, when it refused.
    pub fn refusal(&self) -> Option<&Refusal> {
        match self {
            Error::Refused(refusal) => Some(refusal),
            _ => None,
        }
    }

    /// The same error with its refusal (if it is one) passed through `f`:
    /// how an adapter marks what its server's refusals mean.
    pub fn map_refusal(self, f: impl FnOnce(Refusal) -> Refusal) -> Error {
        match self {
            Error::Refused(refusal) => Error::Refused(f(refusal)),
            other => other,
        }
    }

    /// Whether the server refused a refresh token as dead: it must not be
    /// sent again, and the account must sign in afresh.
    pub fn is_refresh_token_dead(&self) -> bool {
        self.refusal().is_some_and(Refusal::is_refresh_token_dead)
    }

    /// Whether this is the server saying no (or a person being needed), as
    /// opposed to a failure to talk to it.
    pub fn is_refusal(&self) -> bool {
        matches!(self, Error::Refused(_) | Error::SignInRequired { .. })
    }
}

impl From<Refusal> for Error {
    fn from(refusal: Refusal) -> Self {
        Error::Refused(refusal)
    }
}

impl From<TransientError> for Error {
    fn from(error: TransientError) -> Self {
        Error::Transient(error)
    }
}

impl From<ProtocolError> for Error {
    fn from(error: ProtocolError) -> Self {
        Error::Protocol(error)
    }
}

impl From<ConfigError> for Error {
    fn from(error: ConfigError) -> Self {
        Error::Config(error)
    }
}

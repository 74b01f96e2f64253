//! Store errors: the token store failed.

use crate::error::shared_cause::SharedCause;
use crate::secret::AccountKey;

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

    /// The hold on the key lapsed before the write (a networked store's lease
    /// expired); nothing was written.
    #[error("the store lock on {key} was lost before the write; nothing was written")]
    LockLost {
        /// The account whose lock was lost.
        key: AccountKey,
    },

    /// The store cannot be reached right now (a network store that is down).
    #[error("the token store is unavailable: {message}")]
    Unavailable {
        /// What happened (never a URL with a password, never a secret).
        message: String,
        /// The cause.
        #[source]
        source: Option<SharedCause>,
    },

    /// An I/O operation failed.
    #[error("token store I/O failed while {operation} {location}: {source}")]
    Io {
        /// What the store was doing (`writing`, `locking`, ...).
        operation: String,
        /// The file or resource.
        location: String,
        /// The operating system's error.
        #[source]
        source: SharedCause,
    },

    /// The store has no room: a full disk or quota (`ENOSPC`, `EDQUOT`), a
    /// Redis at its `maxmemory` with `noeviction`. Nothing was written; free
    /// space, then the next save writes the newest set.
    #[error("the token store is full while {operation} {location}: {source}")]
    Full {
        /// What the store was doing.
        operation: String,
        /// The file or resource.
        location: String,
        /// The cause.
        #[source]
        source: SharedCause,
    },

    /// The stored value was sealed with a key this store was not given; it
    /// was left where it is (it is not corrupt): configure that key.
    #[error(
        "the stored token set for {key} is sealed with the key {key_id:?}, which this store does not have; it was left as it is"
    )]
    UnknownSealingKey {
        /// The account.
        key: AccountKey,
        /// The id of the key that sealed it.
        key_id: String,
    },

    /// The write reached the primary but fewer of its replicas than asked
    /// confirmed it in time (Redis `WAIT`). The data is on the primary and
    /// readable; a failover before the replicas catch up could lose it, which
    /// for a rotated refresh token means a spent token served to the fleet.
    #[error(
        "the write for {key} reached the primary, but only {confirmed} of {wanted} replicas confirmed it within {timeout_ms} ms; a failover now could lose it"
    )]
    NotReplicated {
        /// The account written.
        key: AccountKey,
        /// How many replicas were asked to confirm.
        wanted: u32,
        /// How many did.
        confirmed: u32,
        /// How long the store waited for them, in milliseconds.
        timeout_ms: u64,
    },

    /// A token set could not be encoded or decoded.
    #[error(transparent)]
    Format(#[from] crate::error::store_format::StoreFormatError),
}

impl StoreError {
    /// A store that cannot be reached now, with a message and no cause.
    pub fn unavailable(message: impl Into<String>) -> Self {
        StoreError::Unavailable {
            message: message.into(),
            source: None,
        }
    }

    /// An I/O failure while doing `operation` on `location`.
    pub fn io(
        operation: impl Into<String>,
        location: impl Into<String>,
        source: impl std::error::Error + Send + Sync + 'static,
    ) -> Self {
        StoreError::Io {
            operation: operation.into(),
            location: location.into(),
            source: std::sync::Arc::new(source),
        }
    }

    /// A store that is full, while doing `operation` on `location`.
    pub fn full(
        operation: impl Into<String>,
        location: impl Into<String>,
        source: impl std::error::Error + Send + Sync + 'static,
    ) -> Self {
        StoreError::Full {
            operation: operation.into(),
            location: location.into(),
            source: std::sync::Arc::new(source),
        }
    }

    /// Whether the operation may succeed if tried again.
    pub fn is_retryable(&self) -> bool {
        matches!(self, StoreError::Unavailable { .. })
    }
}

//! Redis failures as store errors, without credentials.

use authkit_core::StoreError;
use authkit_core::error::scrub;

/// Classifies a Redis error. Out of memory (`maxmemory` with `noeviction`)
/// is `Full`; connection failures, timeouts and a restarting server are
/// `Unavailable` (retryable); the message is scrubbed so that nothing
/// resembling a credential survives.
pub(crate) fn store_error(operation: &str, err: &redis::RedisError) -> StoreError {
    if err.code() == Some("OOM") {
        // `maxmemory` reached with `noeviction`: nothing was written.
        return StoreError::full(operation, "Redis", err.clone());
    }
    let what = if err.is_timeout() {
        "timed out"
    } else if err.is_connection_refusal() {
        "connection refused"
    } else if err.is_connection_dropped() || err.is_io_error() {
        "connection lost"
    } else {
        "failed"
    };
    StoreError::Unavailable {
        message: format!(
            "Redis {what} while {operation}: {}",
            scrub(&err.to_string(), 160)
        ),
        source: Some(std::sync::Arc::new(err.clone())),
    }
}

/// Whether a failed command may succeed if sent again soon: a dropped or
/// refused connection, a timeout, or a cluster between topologies
/// (`CLUSTERDOWN`, `TRYAGAIN`, `MASTERDOWN`, `LOADING`, a write that reached
/// a node just demoted to replica). Refusals such as `NOPERM`, `OOM` or a
/// script error are not.
pub(crate) fn is_transient(err: &redis::RedisError) -> bool {
    use redis::{ErrorKind, ServerErrorKind};
    if err.is_timeout() || err.is_connection_dropped() || err.is_connection_refusal() {
        return true;
    }
    matches!(
        err.kind(),
        ErrorKind::Io
            | ErrorKind::ClusterConnectionNotFound
            | ErrorKind::Server(
                ServerErrorKind::ClusterDown
                    | ServerErrorKind::TryAgain
                    | ServerErrorKind::MasterDown
                    | ServerErrorKind::BusyLoading
                    | ServerErrorKind::ReadOnly
                    | ServerErrorKind::Moved
                    | ServerErrorKind::Ask
            )
    )
}

//! Redis failures as store errors, without credentials.

use authkit_core::StoreError;
use authkit_core::scrub;

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

//! The cause an error keeps for `source()`, shared between its clones.

/// A cause kept for [`std::error::Error::source`], shared between the clones
/// of one error.
pub type SharedCause = std::sync::Arc<dyn std::error::Error + Send + Sync + 'static>;

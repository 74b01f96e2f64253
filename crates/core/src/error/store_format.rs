//! Why stored bytes could not be read as a token set: the error of the
//! core's versioned store format (`token/store_format.rs`), kept beside the
//! other errors so that the store error can carry it without importing the
//! format itself.

/// Why stored bytes could not be read as a token set. Never holds a value
/// from the data.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum StoreFormatError {
    /// The data has a format version this build does not know.
    #[error("unsupported token store format version {found} (this build reads 1 to {supported})")]
    UnsupportedVersion {
        /// The version found.
        found: u64,
        /// The newest version this build reads.
        supported: u32,
    },
    /// The data is not a token set in any known format.
    #[error("not a valid token set: {0}")]
    Malformed(String),
}

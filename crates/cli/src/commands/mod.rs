//! One module per command.

pub mod login;
pub mod status;
pub mod token;

use std::path::PathBuf;

use authkit_store_file::FileStore;

use crate::exit::Failure;

/// The store: `--store`, `AUTHKIT_STORE`, or the platform default.
pub fn open_store(path: Option<PathBuf>) -> Result<FileStore, Failure> {
    let store = match path {
        Some(path) => FileStore::open(path)?,
        None => FileStore::open_default()?,
    };
    Ok(store)
}

/// Splits a `--scope` value into scopes.
pub fn scopes(scope: Option<&str>) -> Option<Vec<String>> {
    scope.map(|s| s.split_whitespace().map(str::to_owned).collect())
}

//! One module per command.

pub mod login;
pub mod status;
pub mod token;

use std::path::PathBuf;

use authkit_core::{AccountKey, EndpointSettings};
use authkit_store_file::FileStore;

use crate::cli::Endpoint;
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

/// The endpoint settings that `--base-url` / `--token-url` name.
pub fn endpoint_settings(endpoint: &Endpoint) -> EndpointSettings {
    let settings = EndpointSettings::new();
    match endpoint {
        Endpoint {
            token_url: Some(url),
            ..
        } => settings.token_url(url.clone()),
        Endpoint {
            base_url: Some(url),
            ..
        } => settings.base_url(url.clone()),
        _ => settings,
    }
}

/// The stored account `name` means: the key itself, or the one stored
/// account whose readable part (before `#` and the server's fingerprint) is
/// `name`. Several such accounts are a usage error that lists them.
pub async fn resolve_account(store: &FileStore, name: &str) -> Result<AccountKey, Failure> {
    let keys = store.keys().await?;
    if keys.iter().any(|k| k.as_str() == name) || name.contains('#') {
        return Ok(AccountKey::new(name));
    }
    let matching: Vec<&AccountKey> = keys
        .iter()
        .filter(|k| {
            k.as_str()
                .split_once('#')
                .is_some_and(|(readable, _)| readable == name)
        })
        .collect();
    match matching.as_slice() {
        [] => Ok(AccountKey::new(name)),
        [one] => Ok((*one).clone()),
        several => Err(Failure::Usage(format!(
            "{name} names {} stored accounts (at different servers or clients): {}; give the whole key",
            several.len(),
            several
                .iter()
                .map(|k| k.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        ))),
    }
}

//! One module per command.

pub mod account;
pub mod login;
pub mod logout;
pub mod profile;
pub mod providers;
pub mod status;
pub mod token;

use std::path::PathBuf;

use async_trait::async_trait;
use authkit_core::endpoint::EndpointSettings;
use authkit_core::store::{SealedStore, SealingKey, StoreLock};
use authkit_core::{AccountKey, StoreError, TokenStore};
use authkit_store_file::FileStore;

use crate::cli::Endpoint;
use crate::exit::Failure;

/// The environment variable with the file of the key that seals the store
/// (base64, 32 bytes).
pub const STORE_KEY_FILE: &str = "AUTHKIT_STORE_KEY_FILE";
/// The environment variable with the sealing key itself (base64).
pub const STORE_KEY: &str = "AUTHKIT_STORE_KEY";
/// The environment variable with the sealing key's id (default `1`).
pub const STORE_KEY_ID: &str = "AUTHKIT_STORE_KEY_ID";

/// The command's token store: the file store, sealed (encrypted at rest)
/// when a key is configured.
#[derive(Debug, Clone)]
pub struct Store {
    files: FileStore,
    sealed: Option<SealedStore<FileStore>>,
}

impl Store {
    /// The files underneath (for listing accounts).
    pub fn files(&self) -> &FileStore {
        &self.files
    }
}

#[async_trait]
impl TokenStore for Store {
    async fn lock(&self, key: &AccountKey) -> Result<Box<dyn StoreLock>, StoreError> {
        match &self.sealed {
            Some(sealed) => sealed.lock(key).await,
            None => self.files.lock(key).await,
        }
    }
}

/// The store: `--store`, `AUTHKIT_STORE`, or the platform default; sealed
/// with the key in `AUTHKIT_STORE_KEY_FILE` or `AUTHKIT_STORE_KEY` when set.
pub fn open_store(path: Option<PathBuf>) -> Result<Store, Failure> {
    let files = match path {
        Some(path) => FileStore::open(path)?,
        None => FileStore::open_default()?,
    };
    let id = std::env::var(STORE_KEY_ID).unwrap_or_else(|_| "1".to_owned());
    let key = if let Some(file) = std::env::var_os(STORE_KEY_FILE) {
        Some(SealingKey::from_file(id, std::path::Path::new(&file))?)
    } else if std::env::var_os(STORE_KEY).is_some() {
        Some(SealingKey::from_env(id, STORE_KEY)?)
    } else {
        None
    };
    let sealed = key.map(|key| SealedStore::new(files.clone(), key));
    Ok(Store { files, sealed })
}

/// A failure to read a secret, as the library error a provider returns.
pub fn usage_to_config(failure: Failure) -> authkit_core::Error {
    match failure {
        Failure::Usage(message) => authkit_core::Error::config(message),
        Failure::Auth(error) => error,
        Failure::Cancelled => authkit_core::Error::config("cancelled"),
    }
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
pub async fn resolve_account(store: &Store, name: &str) -> Result<AccountKey, Failure> {
    let keys = store.files().keys().await?;
    if keys.iter().any(|k| k.as_str() == name) || name.contains('#') {
        return Ok(AccountKey::new(name));
    }
    let matching: Vec<&AccountKey> = keys
        .iter()
        .filter(|k| k.as_str().contains('#') && crate::records::readable(k.as_str()) == name)
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

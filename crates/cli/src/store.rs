//! The command's token store: the file store, sealed (encrypted at rest)
//! when a key is configured. Every command opens it the same way, so a
//! token written by `login` is the one `token` reads.

use std::path::PathBuf;

use async_trait::async_trait;
use authkit_core::store::{SealedStore, SealingKey, StoreLock};
use authkit_core::{AccountKey, StoreError, TokenStore};
use authkit_store_file::FileStore;

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

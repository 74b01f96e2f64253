//! The command's token store: the OS credential store when there is one
//! (Secret Service, Keychain, Credential Manager), else files; sealed
//! (encrypted at rest) files when a key is configured. Every command opens
//! it the same way, so a token written by `login` is the one `token` reads.
//!
//! People expect what gh, gcloud and az do: tokens in the platform's
//! credential store, not in plain files. Unless told otherwise
//! (`--token-store`, `AUTHKIT_TOKEN_STORE`), the command uses the credential
//! store when it takes a write, and files when it does not (a headless SSH
//! session or CI has no D-Bus session, so no Secret Service), saying so in
//! one line when it signs in. An account whose tokens are already in files
//! (signed in before, or on another setting) keeps them there. Account
//! records, which hold no secret, stay in files beside the store.

use std::path::{Path, PathBuf};

use async_trait::async_trait;
use authkit_core::store::{SealedStore, SealingKey, StoreLock};
use authkit_core::{AccountKey, StoreError, TokenStore};
use authkit_store_file::FileStore;
use authkit_store_keyring::{DEFAULT_SERVICE, KeyringStore};

use crate::exit::Failure;

/// The environment variable with the file of the key that seals the store
/// (base64, 32 bytes).
pub const STORE_KEY_FILE: &str = "AUTHKIT_STORE_KEY_FILE";
/// The environment variable with the sealing key itself (base64).
pub const STORE_KEY: &str = "AUTHKIT_STORE_KEY";
/// The environment variable with the sealing key's id (default `1`).
pub const STORE_KEY_ID: &str = "AUTHKIT_STORE_KEY_ID";

/// Where new tokens go, as `--token-store` names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum TokenStoreChoice {
    /// The OS credential store when it takes a write, else files.
    #[default]
    Auto,
    /// The OS credential store, or an error saying why not.
    Keyring,
    /// Files in the store directory.
    File,
}

/// The command's token store.
#[derive(Debug, Clone)]
pub struct Store {
    files: FileStore,
    sealed: Option<SealedStore<FileStore>>,
    keyring: Option<KeyringStore>,
    /// Why new tokens go to files though the choice was automatic.
    fallback: Option<String>,
}

/// Where one account's tokens are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Place {
    /// In the OS credential store.
    Keyring,
    /// In a file of the store directory.
    File,
}

impl Store {
    /// The files underneath (the store directory, records, token files).
    pub fn files(&self) -> &FileStore {
        &self.files
    }

    /// The credential store new tokens go to, if they go to one.
    pub fn keyring(&self) -> Option<&KeyringStore> {
        self.keyring.as_ref()
    }

    /// Why new tokens go to files though the credential store was the
    /// default: for the one-line notice of `login`.
    pub fn fallback(&self) -> Option<&str> {
        self.fallback.as_deref()
    }

    /// Where `key`'s tokens are or will be: files when a token file is
    /// there (or no credential store is used), else the credential store.
    pub fn place_of(&self, key: &AccountKey) -> Place {
        match &self.keyring {
            Some(_) if !self.files.path_for(key).exists() => Place::Keyring,
            _ => Place::File,
        }
    }

    /// Where `key`'s tokens are, for people.
    pub fn location_of(&self, key: &AccountKey) -> String {
        match (&self.keyring, self.place_of(key)) {
            (Some(keyring), Place::Keyring) => {
                format!("the OS credential store: {}", keyring.location_of(key))
            }
            _ => self.files.path_for(key).display().to_string(),
        }
    }

    /// Every account with stored tokens: the token files, and the accounts
    /// with records whose tokens are in the credential store.
    pub async fn keys(&self, recorded: &[AccountKey]) -> Result<Vec<AccountKey>, StoreError> {
        let mut keys = self.files.keys().await?;
        if let Some(keyring) = &self.keyring {
            for key in recorded {
                if !keys.contains(key)
                    && self.place_of(key) == Place::Keyring
                    && keyring.contains(key).await?
                {
                    keys.push(key.clone());
                }
            }
        }
        keys.sort_by(|a, b| a.as_str().cmp(b.as_str()));
        Ok(keys)
    }
}

#[async_trait]
impl TokenStore for Store {
    async fn lock(&self, key: &AccountKey) -> Result<Box<dyn StoreLock>, StoreError> {
        match (&self.keyring, self.place_of(key), &self.sealed) {
            (Some(keyring), Place::Keyring, _) => keyring.lock(key).await,
            (_, _, Some(sealed)) => sealed.lock(key).await,
            _ => self.files.lock(key).await,
        }
    }
}

/// The store: `--store`, `AUTHKIT_STORE`, or the platform default; tokens
/// where `choice` says; sealed files with the key in
/// `AUTHKIT_STORE_KEY_FILE` or `AUTHKIT_STORE_KEY` when set.
pub async fn open_store(path: Option<PathBuf>, choice: TokenStoreChoice) -> Result<Store, Failure> {
    let default_dir = path.is_none();
    let files = match path {
        Some(path) => FileStore::open(path)?,
        None => FileStore::open_default()?,
    };
    let id = std::env::var(STORE_KEY_ID).unwrap_or_else(|_| "1".to_owned());
    let key = if let Some(file) = std::env::var_os(STORE_KEY_FILE) {
        Some(SealingKey::from_file(id, Path::new(&file))?)
    } else if std::env::var_os(STORE_KEY).is_some() {
        Some(SealingKey::from_env(id, STORE_KEY)?)
    } else {
        None
    };
    let (keyring, fallback) = match (choice, &key) {
        (TokenStoreChoice::File, _) => (None, None),
        (TokenStoreChoice::Keyring, Some(_)) => {
            return Err(Failure::Usage(format!(
                "--token-store keyring and a sealing key ({STORE_KEY_FILE} or {STORE_KEY}) exclude each other: the credential store encrypts on its own, and sealed tokens live in files"
            )));
        }
        // A sealing key says where: sealed files.
        (TokenStoreChoice::Auto, Some(_)) => (None, None),
        (TokenStoreChoice::Keyring, None) => {
            (Some(credential_store(&files, default_dir).await?), None)
        }
        (TokenStoreChoice::Auto, None) => match credential_store(&files, default_dir).await {
            Ok(keyring) => (Some(keyring), None),
            Err(error) => (None, Some(error.to_string())),
        },
    };
    let sealed = key.map(|key| SealedStore::new(files.clone(), key));
    Ok(Store {
        files,
        sealed,
        keyring,
        fallback,
    })
}

/// The credential store for the token store `files` names: the service
/// `authkit` for the default directory, `authkit <dir>` for another (two
/// stores never share a secret), its locks beside the files; checked with
/// a write.
async fn credential_store(
    files: &FileStore,
    default_dir: bool,
) -> Result<KeyringStore, StoreError> {
    let service = if default_dir {
        DEFAULT_SERVICE.to_owned()
    } else {
        format!("{DEFAULT_SERVICE} {}", files.dir().display())
    };
    let keyring = KeyringStore::open(&service, files.dir().join("keyring-locks"))?;
    keyring.probe().await?;
    Ok(keyring)
}

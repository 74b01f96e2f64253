//! The store: which credential store, which service, where the holds live.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use async_trait::async_trait;
use authkit_core::store::StoreLock;
use authkit_core::{AccountKey, StoreError, TokenStore};
use sha2::{Digest, Sha256};

use crate::backend::{Backend, SystemKeyring};
use crate::lock::{KeyringLock, blocking, create_private_dir};

/// The canary [`KeyringStore::probe`] writes and deletes.
const PROBE_NAME: &str = "authkit probe (deleted at once)";

/// The service name token sets are kept under by default.
pub const DEFAULT_SERVICE: &str = "authkit";

/// The largest secret the platform's credential store takes, where it
/// caps it: Windows' Credential Manager takes 2,560 bytes
/// (`CRED_MAX_CREDENTIAL_BLOB_SIZE`). Larger sets are kept in parts.
/// Secret Service and Keychain have no practical cap.
pub const DEFAULT_MAX_ENTRY_BYTES: Option<usize> = if cfg!(windows) { Some(2560) } else { None };

/// Token sets in the operating system's credential store: one secret per
/// account under a service name, with the exclusive hold of the store
/// contract kept as a file lock in a state directory. Cheap to clone.
///
/// ```no_run
/// use authkit_store_keyring::KeyringStore;
/// # fn run() -> Result<(), authkit_core::StoreError> {
/// let store = KeyringStore::open_default()?; // service "authkit"
/// # let _ = store; Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct KeyringStore {
    inner: Arc<Inner>,
    max_entry_bytes: Option<usize>,
}

#[derive(Debug)]
struct Inner {
    service: String,
    lock_dir: PathBuf,
    backend: Arc<dyn Backend>,
}

impl KeyringStore {
    /// The platform's credential store, with token sets under `service`
    /// and the holds' lock files in `lock_dir`. Fails with
    /// [`StoreError::Unavailable`], naming the fix, when the platform has
    /// no usable credential store (on Linux: no D-Bus session).
    pub fn open(service: &str, lock_dir: impl Into<PathBuf>) -> Result<Self, StoreError> {
        let backend = SystemKeyring::open(service)?;
        Self::with_backend(service, lock_dir.into(), Arc::new(backend))
    }

    /// [`KeyringStore::open`] with [`DEFAULT_SERVICE`] and
    /// [`KeyringStore::default_lock_dir`].
    pub fn open_default() -> Result<Self, StoreError> {
        let dir = Self::default_lock_dir().ok_or_else(|| {
            StoreError::unavailable("this platform reports no per-user state directory for the credential store's locks")
        })?;
        Self::open(DEFAULT_SERVICE, dir)
    }

    /// Where the lock files live by default: `authkit/keyring-locks` under
    /// the per-user state directory (`$XDG_STATE_HOME` or `~/.local/state`
    /// on Linux; the local data directory elsewhere).
    pub fn default_lock_dir() -> Option<PathBuf> {
        dirs::state_dir()
            .or_else(dirs::data_local_dir)
            .map(|d| d.join("authkit").join("keyring-locks"))
    }

    fn with_backend(
        service: &str,
        lock_dir: PathBuf,
        backend: Arc<dyn Backend>,
    ) -> Result<Self, StoreError> {
        create_private_dir(&lock_dir)
            .map_err(|e| StoreError::io("creating", lock_dir.display().to_string(), e))?;
        Ok(Self {
            inner: Arc::new(Inner {
                service: service.to_owned(),
                lock_dir,
                backend,
            }),
            max_entry_bytes: DEFAULT_MAX_ENTRY_BYTES,
        })
    }

    /// Keeps sets larger than `limit` bytes in parts (see the crate's
    /// docs); `None` keeps every set whole. The default is the platform's
    /// cap ([`DEFAULT_MAX_ENTRY_BYTES`]).
    pub fn with_max_entry_bytes(mut self, limit: Option<usize>) -> Self {
        self.max_entry_bytes = limit;
        self
    }

    /// The service name the sets are kept under.
    pub fn service(&self) -> &str {
        &self.inner.service
    }

    /// The directory of the holds' lock files.
    pub fn lock_dir(&self) -> &Path {
        &self.inner.lock_dir
    }

    /// Where `key`'s token set is, for people.
    pub fn location_of(&self, key: &AccountKey) -> String {
        self.inner.backend.describe(key.as_str())
    }

    /// Checks that the credential store takes a write now: unlocked and
    /// reachable. It writes and deletes a canary secret (reading alone
    /// would pass on a locked store that has nothing to show), so on a
    /// desktop a locked store may ask the person to unlock it, as the first
    /// save would. A store that stays locked, or has no Secret Service
    /// behind it, fails with [`StoreError::Unavailable`] naming the fix.
    pub async fn probe(&self) -> Result<(), StoreError> {
        let backend = Arc::clone(&self.inner.backend);
        blocking(move || {
            backend.set(PROBE_NAME, b"authkit checks that the store takes a write")?;
            backend.delete(PROBE_NAME)
        })
        .await
    }

    /// Whether a token set is stored for `key` (read without the hold).
    pub async fn contains(&self, key: &AccountKey) -> Result<bool, StoreError> {
        let backend = Arc::clone(&self.inner.backend);
        let name = key.as_str().to_owned();
        blocking(move || backend.get(&name).map(|found| found.is_some())).await
    }

    fn lock_path(&self, key: &AccountKey) -> PathBuf {
        self.inner.lock_dir.join(lock_file_name(key))
    }
}

#[async_trait]
impl TokenStore for KeyringStore {
    async fn lock(&self, key: &AccountKey) -> Result<Box<dyn StoreLock>, StoreError> {
        let lock = KeyringLock::acquire(
            key.clone(),
            Arc::clone(&self.inner.backend),
            self.max_entry_bytes,
            self.lock_path(key),
        )
        .await?;
        Ok(Box::new(lock))
    }
}

/// A lock file's name for `key`: its readable characters, and a digest of
/// the whole key so that keys differing only in other characters differ.
fn lock_file_name(key: &AccountKey) -> String {
    let readable: String = key
        .as_str()
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "._-".contains(c) {
                c
            } else {
                '_'
            }
        })
        .take(64)
        .collect();
    let digest = Sha256::digest(key.as_str().as_bytes());
    let short: String = digest[..8].iter().map(|b| format!("{b:02x}")).collect();
    format!("{readable}-{short}.lock")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::backend::MemoryBackend;
    use authkit_core::store::StoreRecord;

    fn store(dir: &Path) -> KeyringStore {
        KeyringStore::with_backend("test", dir.to_owned(), Arc::new(MemoryBackend::default()))
            .unwrap()
    }

    #[tokio::test]
    async fn a_write_after_the_lock_file_was_replaced_writes_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let store = store(dir.path());
        let key = AccountKey::new("acct");
        let mut held = store.lock(&key).await.unwrap();
        held.save(StoreRecord {
            bytes: b"{\"a\":1}",
            keep_for: None,
        })
        .await
        .unwrap();
        // Someone removes the state directory: another process could now
        // lock a new file at the same path.
        std::fs::remove_dir_all(dir.path()).unwrap();
        let lost = held
            .save(StoreRecord {
                bytes: b"{\"a\":2}",
                keep_for: None,
            })
            .await
            .unwrap_err();
        assert!(matches!(lost, StoreError::LockLost { .. }), "{lost:?}");
        assert_eq!(
            held.load().await.unwrap().map(|b| {
                use authkit_core::ExposeSecret;
                b.expose_secret().to_vec()
            }),
            Some(b"{\"a\":1}".to_vec())
        );
    }

    #[test]
    fn lock_files_of_keys_that_read_alike_differ() {
        let a = lock_file_name(&AccountKey::new("web:cli#ab"));
        let b = lock_file_name(&AccountKey::new("web:cli/ab"));
        assert_ne!(a, b);
        assert!(a.starts_with("web_cli_ab-"), "{a}");
    }
}

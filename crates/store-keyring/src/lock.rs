//! The hold on one account: an operating-system lock on a file in the
//! store's state directory, because credential stores have none.
//!
//! Secret Service, Keychain and Credential Manager read and write single
//! secrets; nothing in them makes a process wait for another. Two
//! processes refreshing one account would both spend its refresh token,
//! and a server that rotates them revokes the session. So the hold is the
//! file store's: an advisory lock (`File::lock`) on `<state>/<key>.lock`,
//! which the operating system releases when the holder exits, even by
//! SIGKILL, and which cannot lapse while it lives. Lock files are never
//! deleted. A write is fenced: it checks first that the lock file at its
//! path is still the one locked (someone may have deleted the state
//! directory, letting another process lock a new file there), and
//! otherwise writes nothing and reports [`StoreError::LockLost`].

use std::fs::{self, File, OpenOptions};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use async_trait::async_trait;
use authkit_core::deps::secrecy::SecretSlice;
use authkit_core::store::{StoreLock, StoreRecord};
use authkit_core::{AccountKey, StoreError};

use crate::backend::Backend;
use crate::entries;

/// A held account of a [`KeyringStore`](crate::KeyringStore); released on
/// drop.
#[derive(Debug)]
pub struct KeyringLock {
    key: AccountKey,
    backend: Arc<dyn Backend>,
    limit: Option<usize>,
    lock_path: PathBuf,
    file: Option<File>,
}

impl KeyringLock {
    /// Waits for the hold on `key`, on the blocking pool.
    pub(crate) async fn acquire(
        key: AccountKey,
        backend: Arc<dyn Backend>,
        limit: Option<usize>,
        lock_path: PathBuf,
    ) -> Result<Self, StoreError> {
        let path = lock_path.clone();
        let file = blocking(move || {
            let file = open_lock_file(&path)?;
            file.lock()
                .map_err(|e| StoreError::io("locking", path.display().to_string(), e))?;
            Ok(file)
        })
        .await?;
        Ok(Self {
            key,
            backend,
            limit,
            lock_path,
            file: Some(file),
        })
    }

    /// Refuses a write once the lock file at the path is not the one held.
    fn fence(&self) -> Result<(), StoreError> {
        let lost = || StoreError::LockLost {
            key: self.key.clone(),
        };
        let held = self.file.as_ref().ok_or_else(lost)?;
        if same_file(held, &self.lock_path) {
            Ok(())
        } else {
            Err(lost())
        }
    }

    async fn with_backend<T: Send + 'static>(
        &self,
        work: impl FnOnce(&dyn Backend, &str) -> Result<T, StoreError> + Send + 'static,
    ) -> Result<T, StoreError> {
        let backend = Arc::clone(&self.backend);
        let name = self.key.as_str().to_owned();
        blocking(move || work(backend.as_ref(), &name)).await
    }
}

#[async_trait]
impl StoreLock for KeyringLock {
    fn key(&self) -> &AccountKey {
        &self.key
    }

    async fn load(&mut self) -> Result<Option<SecretSlice<u8>>, StoreError> {
        let bytes = self
            .with_backend(|backend, name| entries::read(backend, name))
            .await?;
        Ok(bytes.map(SecretSlice::from))
    }

    async fn save(&mut self, record: StoreRecord<'_>) -> Result<(), StoreError> {
        self.fence()?;
        let bytes = record.bytes.to_vec();
        let limit = self.limit;
        self.with_backend(move |backend, name| entries::write(backend, name, &bytes, limit))
            .await
    }

    async fn remove(&mut self) -> Result<(), StoreError> {
        self.fence()?;
        self.with_backend(|backend, name| entries::delete(backend, name))
            .await
    }

    async fn set_aside(&mut self) -> Result<String, StoreError> {
        self.fence()?;
        let limit = self.limit;
        self.with_backend(move |backend, name| {
            let stamp = time::OffsetDateTime::now_utc().unix_timestamp_nanos();
            let aside = format!("{name} [set aside {stamp}]");
            if let Some(bytes) = entries::read(backend, name)? {
                entries::write(backend, &aside, &bytes, limit)?;
            }
            entries::delete(backend, name)?;
            Ok(backend.describe(&aside))
        })
        .await
    }

    async fn release(mut self: Box<Self>) -> Result<(), StoreError> {
        if let Some(file) = self.file.take() {
            file.unlock().map_err(|e| {
                StoreError::io("unlocking", self.lock_path.display().to_string(), e)
            })?;
        }
        Ok(())
    }
}

fn open_lock_file(path: &Path) -> Result<File, StoreError> {
    let location = || path.display().to_string();
    if let Some(dir) = path.parent() {
        create_private_dir(dir)
            .map_err(|e| StoreError::io("creating", dir.display().to_string(), e))?;
    }
    let mut options = OpenOptions::new();
    options.read(true).write(true).create(true).truncate(false);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    options
        .open(path)
        .map_err(|e| StoreError::io("opening", location(), e))
}

/// Creates `dir` (and its parents), private to the user on Unix.
pub(crate) fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    let mut builder = fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        builder.mode(0o700);
    }
    builder.create(dir)
}

/// Whether the file at `path` is `held` (the same inode on Unix; elsewhere,
/// that a file is there: an open file cannot be replaced on Windows).
fn same_file(held: &File, path: &Path) -> bool {
    let Ok(at_path) = fs::metadata(path) else {
        return false;
    };
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        match held.metadata() {
            Ok(held) => held.dev() == at_path.dev() && held.ino() == at_path.ino(),
            Err(_) => false,
        }
    }
    #[cfg(not(unix))]
    {
        let _ = held;
        at_path.is_file()
    }
}

/// Runs `work` on Tokio's blocking pool.
pub(crate) async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> Result<T, StoreError> + Send + 'static,
) -> Result<T, StoreError> {
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|e| StoreError::io("running", "a credential store call", e))?
}

//! [`FileStore`]: one JSON file per account in a private directory.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use async_trait::async_trait;
use authkit_core::store::StoreLock;
use authkit_core::{AccountKey, StoreError, TokenStore};

use crate::files::{
    InjectedFaults, WriteStep, blocking, create_private_dir, io_error, is_temp_name,
};
use crate::lock::{FileLock, KeyFiles};
use crate::naming;

/// Temporary files older than this were left by a writer that died; they are
/// removed when the store is opened.
const STALE_TEMP_AGE: Duration = Duration::from_secs(3600);

/// Token sets on disk, one file per account, safe to share between processes.
/// Cheap to clone; clones use the same directory.
#[derive(Debug, Clone)]
pub struct FileStore {
    dir: Arc<PathBuf>,
    faults: InjectedFaults,
}

impl FileStore {
    /// A store in `dir`, created (owner-only on Unix) if missing.
    pub fn open(dir: impl Into<PathBuf>) -> Result<Self, StoreError> {
        let dir = dir.into();
        create_private_dir(&dir).map_err(|e| io_error("creating the directory", &dir, e))?;
        warn_if_shared(&dir);
        remove_stale_temp_files(&dir);
        Ok(Self {
            dir: Arc::new(dir),
            faults: InjectedFaults::default(),
        })
    }

    /// A store in the platform's per-user data directory
    /// ([`FileStore::default_dir`]).
    pub fn open_default() -> Result<Self, StoreError> {
        let dir = Self::default_dir().ok_or_else(|| {
            StoreError::io(
                "finding",
                "the per-user data directory",
                io::Error::new(
                    io::ErrorKind::NotFound,
                    "this platform reports no home or data directory",
                ),
            )
        })?;
        Self::open(dir)
    }

    /// The default directory: `authkit/tokens` under the per-user data
    /// directory (`$XDG_DATA_HOME` or `~/.local/share` on Linux,
    /// `~/Library/Application Support` on macOS, `%LOCALAPPDATA%` on Windows).
    pub fn default_dir() -> Option<PathBuf> {
        dirs::data_local_dir().map(|d| d.join("authkit").join("tokens"))
    }

    /// Makes the next write fail with `EIO` at `step` (for tests of faults
    /// that cannot be made for real, such as a failing `fsync`). Clones of
    /// this store share the plan.
    #[doc(hidden)]
    pub fn inject_write_failure(&self, step: WriteStep) {
        self.faults.push(step);
    }

    /// The directory the store keeps its files in.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The file that holds `key`'s token set.
    pub fn path_for(&self, key: &AccountKey) -> PathBuf {
        self.key_files(key).data
    }

    /// The files a lock on `key` works on.
    fn key_files(&self, key: &AccountKey) -> KeyFiles {
        let stem = naming::stem(key);
        KeyFiles {
            dir: self.dir.to_path_buf(),
            data: self.dir.join(format!("{stem}.json")),
            lock: self.dir.join(format!("{stem}.lock")),
            reserve: self.dir.join(format!("{stem}.reserved")),
            faults: self.faults.clone(),
        }
    }

    /// Every account with a stored token set (keys too long to be a file name
    /// are stored under a hash and are not listed).
    pub async fn keys(&self) -> Result<Vec<AccountKey>, StoreError> {
        let dir = Arc::clone(&self.dir);
        blocking(move || {
            let entries = fs::read_dir(&*dir).map_err(|e| io_error("listing", &dir, e))?;
            let mut keys: Vec<AccountKey> = entries
                .filter_map(Result::ok)
                .filter_map(|entry| {
                    let name = entry.file_name().into_string().ok()?;
                    naming::key_of(name.strip_suffix(".json")?)
                })
                .collect();
            keys.sort();
            Ok(keys)
        })
        .await
    }
}

#[async_trait]
impl TokenStore for FileStore {
    async fn lock(&self, key: &AccountKey) -> Result<Box<dyn StoreLock>, StoreError> {
        let dir = Arc::clone(&self.dir);
        blocking(move || {
            create_private_dir(&dir).map_err(|e| io_error("creating the directory", &dir, e))
        })
        .await?;
        let lock = FileLock::acquire(key.clone(), self.key_files(key)).await?;
        Ok(Box::new(lock))
    }
}

fn warn_if_shared(dir: &Path) {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        if let Ok(meta) = fs::metadata(dir) {
            let mode = meta.permissions().mode();
            if mode & 0o077 != 0 {
                tracing::warn!(
                    dir = %dir.display(),
                    mode = format!("{:o}", mode & 0o777),
                    "the token directory is accessible to other users; token files are still 0600"
                );
            }
        }
    }
    #[cfg(not(unix))]
    let _ = dir;
}

fn remove_stale_temp_files(dir: &Path) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    for entry in entries.filter_map(Result::ok) {
        let name = entry.file_name();
        let stale = entry
            .metadata()
            .and_then(|m| m.modified())
            .ok()
            .and_then(|modified| SystemTime::now().duration_since(modified).ok())
            .is_some_and(|age| age > STALE_TEMP_AGE);
        if stale && is_temp_name(&name.to_string_lossy()) {
            let _ = fs::remove_file(entry.path());
        }
    }
}

//! [`FileStore`]: one JSON file per account in a private directory.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use async_trait::async_trait;
use authkit_core::{AccountKey, StoreError, StoreLock, TokenSet, TokenStore};

use crate::files::{
    create_private_dir, io_error, is_temp_name, replace_atomically, set_aside, tighten,
};
use crate::lock::FileLock;
use crate::naming;

/// Temporary files older than this were left by a writer that died; they are
/// removed when the store is opened.
const STALE_TEMP_AGE: Duration = Duration::from_secs(3600);

/// Token sets on disk, one file per account, safe to share between processes.
/// Cheap to clone; clones use the same directory.
#[derive(Debug, Clone)]
pub struct FileStore {
    dir: Arc<PathBuf>,
}

impl FileStore {
    /// A store in `dir`, created (owner-only on Unix) if missing.
    pub fn open(dir: impl Into<PathBuf>) -> Result<Self, StoreError> {
        let dir = dir.into();
        create_private_dir(&dir).map_err(|e| io_error("creating the directory", &dir, &e))?;
        warn_if_shared(&dir);
        remove_stale_temp_files(&dir);
        Ok(Self { dir: Arc::new(dir) })
    }

    /// A store in the platform's per-user data directory
    /// ([`FileStore::default_dir`]).
    pub fn open_default() -> Result<Self, StoreError> {
        let dir = Self::default_dir().ok_or_else(|| StoreError::Io {
            operation: "finding".into(),
            location: "the per-user data directory".into(),
            message: "this platform reports no home or data directory".into(),
        })?;
        Self::open(dir)
    }

    /// The default directory: `authkit/tokens` under the per-user data
    /// directory (`$XDG_DATA_HOME` or `~/.local/share` on Linux,
    /// `~/Library/Application Support` on macOS, `%LOCALAPPDATA%` on Windows).
    pub fn default_dir() -> Option<PathBuf> {
        dirs::data_local_dir().map(|d| d.join("authkit").join("tokens"))
    }

    /// The directory the store keeps its files in.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The file that holds `key`'s token set.
    pub fn path_for(&self, key: &AccountKey) -> PathBuf {
        self.dir.join(format!("{}.json", naming::stem(key)))
    }

    pub(crate) fn lock_path(&self, key: &AccountKey) -> PathBuf {
        self.dir.join(format!("{}.lock", naming::stem(key)))
    }

    /// Every account with a stored token set (keys too long to be a file name
    /// are stored under a hash and are not listed).
    pub async fn keys(&self) -> Result<Vec<AccountKey>, StoreError> {
        let dir = Arc::clone(&self.dir);
        blocking(move || {
            let entries = fs::read_dir(&*dir).map_err(|e| io_error("listing", &dir, &e))?;
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

    /// Writes `tokens` for `key` atomically and durably.
    pub(crate) async fn write(
        &self,
        key: &AccountKey,
        tokens: &TokenSet,
    ) -> Result<(), StoreError> {
        let dir = Arc::clone(&self.dir);
        let path = self.path_for(key);
        let bytes = tokens.to_store_bytes();
        blocking(move || {
            create_private_dir(&dir).map_err(|e| io_error("creating the directory", &dir, &e))?;
            replace_atomically(&path, &bytes)
        })
        .await
    }
}

#[async_trait]
impl TokenStore for FileStore {
    async fn load(&self, key: &AccountKey) -> Result<Option<TokenSet>, StoreError> {
        let path = self.path_for(key);
        let key = key.clone();
        blocking(move || {
            let bytes = match fs::read(&path) {
                Ok(bytes) => bytes,
                Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
                Err(e) => return Err(io_error("reading", &path, &e)),
            };
            tighten(&path);
            match TokenSet::from_store_bytes(&bytes) {
                Ok(tokens) => Ok(Some(tokens)),
                Err(format) => {
                    let moved_to = set_aside(&path)?;
                    tracing::warn!(
                        account = %key,
                        moved_to = %moved_to.display(),
                        reason = %format,
                        "an unreadable token file was set aside"
                    );
                    Err(StoreError::Corrupt {
                        key,
                        moved_to: moved_to.display().to_string(),
                        reason: format.to_string(),
                    })
                }
            }
        })
        .await
    }

    async fn save(&self, key: &AccountKey, tokens: &TokenSet) -> Result<(), StoreError> {
        self.write(key, tokens).await
    }

    async fn remove(&self, key: &AccountKey) -> Result<(), StoreError> {
        let path = self.path_for(key);
        blocking(move || match fs::remove_file(&path) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(io_error("removing", &path, &e)),
        })
        .await
    }

    async fn lock(&self, key: &AccountKey) -> Result<Box<dyn StoreLock>, StoreError> {
        let dir = Arc::clone(&self.dir);
        blocking(move || {
            create_private_dir(&dir).map_err(|e| io_error("creating the directory", &dir, &e))
        })
        .await?;
        let lock = FileLock::acquire(self.clone(), key.clone(), self.lock_path(key)).await?;
        Ok(Box::new(lock))
    }
}

/// Runs file I/O on Tokio's blocking pool, so no runtime thread waits on a disk.
async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> Result<T, StoreError> + Send + 'static,
) -> Result<T, StoreError> {
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|e| StoreError::Unavailable(format!("the file task failed: {e}")))?
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

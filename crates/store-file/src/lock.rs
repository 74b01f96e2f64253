//! The per-key lock: an OS advisory lock on a lock file beside the data.
//!
//! The lock lives on its own file, `<key>.lock`, never on the data file:
//! saves replace the data file by renaming a new one over it, and a lock on
//! the old inode would no longer exclude anyone. Lock files are never
//! deleted, for the same reason. The operating system releases the lock when
//! the file is closed, so a holder that dies (even by SIGKILL) frees it.
//! Waiting for it happens on Tokio's blocking pool, never on a runtime thread.

use std::fs::File;
use std::path::PathBuf;

use async_trait::async_trait;
use authkit_core::{AccountKey, StoreError, StoreLock, TokenSet};

use crate::files::{io_error, private_options};
use crate::store::FileStore;

/// A held lock on one key of a [`FileStore`]; released on drop.
#[derive(Debug)]
pub struct FileLock {
    store: FileStore,
    key: AccountKey,
    file: Option<File>,
}

impl FileLock {
    pub(crate) async fn acquire(
        store: FileStore,
        key: AccountKey,
        path: PathBuf,
    ) -> Result<Self, StoreError> {
        let file = tokio::task::spawn_blocking(move || {
            let file = private_options()
                .read(true)
                .write(true)
                .create(true)
                .truncate(false)
                .open(&path)
                .map_err(|e| io_error("opening the lock file", &path, &e))?;
            file.lock().map_err(|e| io_error("locking", &path, &e))?;
            Ok::<_, StoreError>(file)
        })
        .await
        .map_err(|e| StoreError::Unavailable(format!("the lock task failed: {e}")))??;
        Ok(Self {
            store,
            key,
            file: Some(file),
        })
    }
}

#[async_trait]
impl StoreLock for FileLock {
    async fn save(&mut self, tokens: &TokenSet) -> Result<(), StoreError> {
        // The OS lock cannot lapse while the file is open: a plain write is fenced.
        self.store.write(&self.key, tokens).await
    }

    async fn release(mut self: Box<Self>) -> Result<(), StoreError> {
        if let Some(file) = self.file.take() {
            file.unlock()
                .map_err(|e| io_error("unlocking", &self.store.lock_path(&self.key), &e))?;
        }
        Ok(())
    }
}

impl Drop for FileLock {
    fn drop(&mut self) {
        if let Some(file) = self.file.take() {
            // Closing the file releases the lock too; unlocking first is explicit.
            let _ = file.unlock();
        }
    }
}

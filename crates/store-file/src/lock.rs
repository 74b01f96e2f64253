//! The per-key lock: an OS advisory lock on a lock file beside the data,
//! and every operation on the key's data, made under it.
//!
//! The lock lives on its own file, `<key>.lock`, never on the data file:
//! saves replace the data file by renaming a new one over it, and a lock on
//! the old inode would no longer exclude anyone. Lock files are never
//! deleted, for the same reason. The operating system releases the lock when
//! the file is closed, so a holder that dies (even by SIGKILL) frees it, and
//! it cannot lapse while the holder lives: a plain write under it is fenced.
//! Waiting for it, and all file I/O, happens on Tokio's blocking pool, never
//! on a runtime thread.

use std::fs::{self, File};
use std::io;
use std::path::PathBuf;

use async_trait::async_trait;
use authkit_core::deps::secrecy::SecretSlice;
use authkit_core::store::{StoreLock, StoreRecord};
use authkit_core::{AccountKey, StoreError};

use crate::files::{
    create_private_dir, io_error, private_options, replace_atomically, set_aside, tighten,
};
use crate::store::{FileStore, blocking};

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
        let file = blocking(move || {
            let file = private_options()
                .read(true)
                .write(true)
                .create(true)
                .truncate(false)
                .open(&path)
                .map_err(|e| io_error("opening the lock file", &path, e))?;
            file.lock().map_err(|e| io_error("locking", &path, e))?;
            Ok(file)
        })
        .await?;
        Ok(Self {
            store,
            key,
            file: Some(file),
        })
    }
}

#[async_trait]
impl StoreLock for FileLock {
    fn key(&self) -> &AccountKey {
        &self.key
    }

    async fn load(&mut self) -> Result<Option<SecretSlice<u8>>, StoreError> {
        let path = self.store.path_for(&self.key);
        blocking(move || match fs::read(&path) {
            Ok(bytes) => {
                tighten(&path);
                Ok(Some(SecretSlice::from(bytes)))
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(io_error("reading", &path, e)),
        })
        .await
    }

    async fn save(&mut self, record: StoreRecord<'_>) -> Result<(), StoreError> {
        let dir = self.store.dir().to_path_buf();
        let path = self.store.path_for(&self.key);
        let bytes = record.bytes.to_vec();
        let faults = self.store.faults().clone();
        blocking(move || {
            create_private_dir(&dir).map_err(|e| io_error("creating the directory", &dir, e))?;
            replace_atomically(&path, &bytes, &faults)
        })
        .await
    }

    async fn remove(&mut self) -> Result<(), StoreError> {
        let path = self.store.path_for(&self.key);
        blocking(move || match fs::remove_file(&path) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(io_error("removing", &path, e)),
        })
        .await
    }

    async fn set_aside(&mut self) -> Result<String, StoreError> {
        let path = self.store.path_for(&self.key);
        blocking(move || set_aside(&path).map(|moved| moved.display().to_string())).await
    }

    async fn release(mut self: Box<Self>) -> Result<(), StoreError> {
        if let Some(file) = self.file.take() {
            file.unlock()
                .map_err(|e| io_error("unlocking", &self.store.lock_path(&self.key), e))?;
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

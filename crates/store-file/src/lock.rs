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
//!
//! Beside the data lives `<key>.reserved`: room for the next save, in bytes
//! really written. A refresh token a server rotates can be spent only once,
//! so before the core spends one it asks [`StoreLock::prepare_save`], which
//! makes sure the room is there and fails, with nothing sent, when the disk
//! is full. The save writes into the reserved blocks and renames them over
//! the data, then reserves again. Without it, a full disk would leave a
//! rotated set in one process's memory while every other process sharing
//! the directory spent the old refresh token into the server's reuse
//! detection. (On copy-on-write file systems, btrfs or ZFS, an overwrite
//! needs new blocks, so the reservation is best effort there.)

use std::fs::{self, File};
use std::io;
use std::path::PathBuf;

use async_trait::async_trait;
use authkit_core::deps::secrecy::SecretSlice;
use authkit_core::store::{StoreLock, StoreRecord};
use authkit_core::{AccountKey, StoreError};

use crate::files::{
    InjectedFaults, blocking, create_private_dir, io_error, private_options, replace_atomically,
    reserve_room, room_for, set_aside, tighten,
};

/// The files of one key: what a lock works on, named by the store.
#[derive(Debug, Clone)]
pub(crate) struct KeyFiles {
    /// The store's directory (created again before a save, if removed).
    pub(crate) dir: PathBuf,
    /// The file that holds the key's token set.
    pub(crate) data: PathBuf,
    /// The file the advisory lock is taken on.
    pub(crate) lock: PathBuf,
    /// Room kept for the key's next save: written into, then renamed over
    /// the data (see [`reserve_room`]).
    pub(crate) reserve: PathBuf,
    /// Write failures a test asked for.
    pub(crate) faults: InjectedFaults,
}

/// A held lock on one key of a [`FileStore`](crate::FileStore); released on drop.
#[derive(Debug)]
pub struct FileLock {
    files: KeyFiles,
    key: AccountKey,
    file: Option<File>,
}

impl FileLock {
    pub(crate) async fn acquire(key: AccountKey, files: KeyFiles) -> Result<Self, StoreError> {
        let path = files.lock.clone();
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
            files,
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
        let path = self.files.data.clone();
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
        let dir = self.files.dir.clone();
        let path = self.files.data.clone();
        let reserve = self.files.reserve.clone();
        let bytes = record.bytes.to_vec();
        let faults = self.files.faults.clone();
        blocking(move || {
            create_private_dir(&dir).map_err(|e| io_error("creating the directory", &dir, e))?;
            replace_atomically(&path, &reserve, &bytes, &faults)?;
            // The reservation became the data; take room for the next save
            // now, while there is some. Failing here loses nothing: the next
            // refresh asks again before it spends anything.
            if let Err(error) = reserve_room(&reserve, room_for(bytes.len() as u64)) {
                tracing::warn!(
                    path = %reserve.display(),
                    %error,
                    "saved, but no room could be reserved for the next save"
                );
            }
            Ok(())
        })
        .await
    }

    async fn prepare_save(&mut self) -> Result<(), StoreError> {
        let dir = self.files.dir.clone();
        let data = self.files.data.clone();
        let reserve = self.files.reserve.clone();
        blocking(move || {
            create_private_dir(&dir).map_err(|e| io_error("creating the directory", &dir, e))?;
            let current = fs::metadata(&data).map_or(0, |m| m.len());
            reserve_room(&reserve, room_for(current))
                .map_err(|e| io_error("reserving room for the next save", &reserve, e))
        })
        .await
    }

    async fn remove(&mut self) -> Result<(), StoreError> {
        let path = self.files.data.clone();
        let reserve = self.files.reserve.clone();
        blocking(move || {
            for file in [&path, &reserve] {
                match fs::remove_file(file) {
                    Ok(()) => {}
                    Err(e) if e.kind() == io::ErrorKind::NotFound => {}
                    Err(e) => return Err(io_error("removing", file, e)),
                }
            }
            Ok(())
        })
        .await
    }

    async fn set_aside(&mut self) -> Result<String, StoreError> {
        let path = self.files.data.clone();
        blocking(move || set_aside(&path).map(|moved| moved.display().to_string())).await
    }

    async fn release(mut self: Box<Self>) -> Result<(), StoreError> {
        if let Some(file) = self.file.take() {
            file.unlock()
                .map_err(|e| io_error("unlocking", &self.files.lock, e))?;
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

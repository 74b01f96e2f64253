//! The store contract: bytes per account behind an exclusive hold.

use std::fmt;
use std::time::Duration;

use async_trait::async_trait;
use secrecy::SecretSlice;

use crate::error::store::StoreError;
use crate::secret::AccountKey;

/// Where token sets live, keyed by account.
#[async_trait]
pub trait TokenStore: Send + Sync + fmt::Debug {
    /// Waits for, then takes, an exclusive hold on `key` that keeps out every
    /// other holder of the same store (task, process or host) until it is
    /// dropped or released.
    async fn lock(&self, key: &AccountKey) -> Result<Box<dyn StoreLock>, StoreError>;
}

/// An exclusive hold on one key of a [`TokenStore`], released on drop; the
/// only way to read or write that key.
#[async_trait]
pub trait StoreLock: Send + Sync + fmt::Debug {
    /// The key this hold is on.
    fn key(&self) -> &AccountKey;

    /// The bytes stored for the key, if any.
    async fn load(&mut self) -> Result<Option<SecretSlice<u8>>, StoreError>;

    /// Replaces what is stored for the key. A store whose hold can lapse (a
    /// lease) writes only while it is still held, and otherwise returns
    /// [`StoreError::LockLost`] without writing.
    async fn save(&mut self, record: StoreRecord<'_>) -> Result<(), StoreError>;

    /// Makes sure, as far as the store can, that the next [`StoreLock::save`]
    /// will succeed, before the holder does what it cannot undo: the core
    /// calls this just before it spends a refresh token, which a server that
    /// rotates will never take again. A store that can run out of room (a
    /// disk) reserves it here and fails here, with nothing sent, when it
    /// cannot: otherwise a rotated set could only live in one process's
    /// memory, and every other holder would spend the old refresh token into
    /// the server's reuse detection. The default does nothing.
    async fn prepare_save(&mut self) -> Result<(), StoreError> {
        Ok(())
    }

    /// Forgets the key; removing a key that is not there is not an error.
    /// Fenced like [`StoreLock::save`].
    async fn remove(&mut self) -> Result<(), StoreError>;

    /// Moves what is stored for the key out of the way, keeping it (another
    /// file, another key), and says where it went. The core calls this when
    /// the bytes cannot be read as a token set.
    async fn set_aside(&mut self) -> Result<String, StoreError>;

    /// Releases the hold now, reporting failure; dropping releases too, silently.
    async fn release(self: Box<Self>) -> Result<(), StoreError> {
        Ok(())
    }
}

/// What [`StoreLock::save`] writes: the encoded set, and how long a store
/// with expiring entries must keep it at least. `Debug` shows neither.
#[derive(Clone, Copy)]
pub struct StoreRecord<'a> {
    /// The encoded token set; it holds live credentials.
    pub bytes: &'a [u8],
    /// Keep the entry at least this long (the refresh token's remaining life
    /// plus a margin); `None`: as long as possible.
    pub keep_for: Option<Duration>,
}

impl fmt::Debug for StoreRecord<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StoreRecord")
            .field("bytes", &self.bytes.len())
            .field("keep_for", &self.keep_for)
            .finish()
    }
}

#[async_trait]
impl<T: TokenStore + ?Sized> TokenStore for std::sync::Arc<T> {
    async fn lock(&self, key: &AccountKey) -> Result<Box<dyn StoreLock>, StoreError> {
        (**self).lock(key).await
    }
}

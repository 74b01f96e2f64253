//! Stores: where token sets live between calls, processes and hosts.
//!
//! A [`TokenStore`] loads, saves and removes token sets by account key, and
//! hands out an exclusive hold on a key with [`TokenStore::lock`]. The hold is
//! what makes single-use refresh tokens safe when many processes (or hosts)
//! share one account: the holder reloads, sees whether someone else already
//! refreshed, and only then spends the refresh token.
//!
//! Writes made under a hold go through the hold itself, [`StoreLock::save`].
//! That is where a networked store fences: its hold is a lease that can lapse
//! while the holder is still working, and a save made after the lease was lost
//! must be refused ([`crate::StoreError::LockLost`]), not written over the
//! newer tokens of whoever holds the lease now. A plain [`TokenStore::save`]
//! is for writes that need no hold (a sign-in from the command line).

mod memory;

use async_trait::async_trait;

use crate::error::StoreError;
use crate::secret::AccountKey;
use crate::token::TokenSet;

pub use memory::MemoryStore;

/// Where token sets live, keyed by account.
#[async_trait]
pub trait TokenStore: Send + Sync + std::fmt::Debug {
    /// The token set stored for `key` now, if any. A store that finds
    /// unreadable data moves it aside and returns [`StoreError::Corrupt`].
    async fn load(&self, key: &AccountKey) -> Result<Option<TokenSet>, StoreError>;

    /// Stores `tokens` for `key`, replacing what was there, without a hold.
    async fn save(&self, key: &AccountKey, tokens: &TokenSet) -> Result<(), StoreError>;

    /// Forgets `key`. Removing a key that is not there is not an error.
    async fn remove(&self, key: &AccountKey) -> Result<(), StoreError>;

    /// Waits for, then takes, an exclusive hold on `key` that keeps out every
    /// other holder of the same store (task, process or host) until it is
    /// dropped or released.
    async fn lock(&self, key: &AccountKey) -> Result<Box<dyn StoreLock>, StoreError>;
}

/// An exclusive hold on one key of a [`TokenStore`], released on drop.
#[async_trait]
pub trait StoreLock: Send + Sync + std::fmt::Debug {
    /// Stores `tokens` under this hold. A store whose hold can lapse (a lease)
    /// writes only while it is still held, and otherwise returns
    /// [`StoreError::LockLost`] without writing.
    async fn save(&mut self, tokens: &TokenSet) -> Result<(), StoreError>;

    /// Releases the hold now, reporting failure; dropping releases too, silently.
    async fn release(self: Box<Self>) -> Result<(), StoreError> {
        Ok(())
    }
}

#[async_trait]
impl<T: TokenStore + ?Sized> TokenStore for std::sync::Arc<T> {
    async fn load(&self, key: &AccountKey) -> Result<Option<TokenSet>, StoreError> {
        (**self).load(key).await
    }

    async fn save(&self, key: &AccountKey, tokens: &TokenSet) -> Result<(), StoreError> {
        (**self).save(key, tokens).await
    }

    async fn remove(&self, key: &AccountKey) -> Result<(), StoreError> {
        (**self).remove(key).await
    }

    async fn lock(&self, key: &AccountKey) -> Result<Box<dyn StoreLock>, StoreError> {
        (**self).lock(key).await
    }
}

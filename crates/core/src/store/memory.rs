//! A store that lives in the process's memory.
//!
//! For tests, and for programs that want the manager's single-refresh
//! guarantee without persistence. Its locks exclude other tasks of the same
//! process that share the store.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use async_trait::async_trait;

use super::{StoreLock, TokenStore};
use crate::error::StoreError;
use crate::secret::AccountKey;
use crate::token::TokenSet;

/// An in-memory [`TokenStore`]; clones share the same contents.
#[derive(Clone, Default)]
pub struct MemoryStore {
    inner: Arc<Shared>,
}

#[derive(Default)]
struct Shared {
    sets: Mutex<HashMap<AccountKey, TokenSet>>,
    locks: Mutex<HashMap<AccountKey, Arc<tokio::sync::Mutex<()>>>>,
}

impl std::fmt::Debug for MemoryStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let keys: Vec<AccountKey> = self
            .inner
            .sets
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .keys()
            .cloned()
            .collect();
        f.debug_struct("MemoryStore").field("keys", &keys).finish()
    }
}

impl MemoryStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    fn put(&self, key: &AccountKey, tokens: &TokenSet) {
        self.inner
            .sets
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(key.clone(), tokens.clone());
    }
}

#[async_trait]
impl TokenStore for MemoryStore {
    async fn load(&self, key: &AccountKey) -> Result<Option<TokenSet>, StoreError> {
        Ok(self
            .inner
            .sets
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(key)
            .cloned())
    }

    async fn save(&self, key: &AccountKey, tokens: &TokenSet) -> Result<(), StoreError> {
        self.put(key, tokens);
        Ok(())
    }

    async fn remove(&self, key: &AccountKey) -> Result<(), StoreError> {
        self.inner
            .sets
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(key);
        Ok(())
    }

    async fn lock(&self, key: &AccountKey) -> Result<Box<dyn StoreLock>, StoreError> {
        let mutex = self
            .inner
            .locks
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .entry(key.clone())
            .or_default()
            .clone();
        let guard = mutex.lock_owned().await;
        Ok(Box::new(MemoryLock {
            store: self.clone(),
            key: key.clone(),
            _guard: guard,
        }))
    }
}

struct MemoryLock {
    store: MemoryStore,
    key: AccountKey,
    _guard: tokio::sync::OwnedMutexGuard<()>,
}

impl std::fmt::Debug for MemoryLock {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MemoryLock")
            .field("key", &self.key)
            .finish()
    }
}

#[async_trait]
impl StoreLock for MemoryLock {
    async fn save(&mut self, tokens: &TokenSet) -> Result<(), StoreError> {
        self.store.put(&self.key, tokens);
        Ok(())
    }
}

//! A store that lives in the process's memory.
//!
//! For tests, and for programs that want the manager's single-refresh
//! guarantee without persistence. Its locks exclude other tasks of the same
//! process that share the store. It keeps encoded bytes, like every other
//! store, so what a test sees here is what a file or Redis would hold.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use async_trait::async_trait;
use secrecy::{ExposeSecret, SecretSlice};

use crate::error::store::StoreError;
use crate::secret::AccountKey;
use crate::store::token_store::{StoreLock, StoreRecord, TokenStore};
use crate::token::token_set::TokenSet;

/// An in-memory [`TokenStore`]; clones share the same contents.
#[derive(Clone, Default)]
pub struct MemoryStore {
    inner: Arc<Shared>,
}

#[derive(Default)]
struct Shared {
    entries: Mutex<HashMap<AccountKey, Vec<u8>>>,
    set_aside: Mutex<Vec<(String, Vec<u8>)>>,
    locks: Mutex<HashMap<AccountKey, Arc<tokio::sync::Mutex<()>>>>,
}

impl std::fmt::Debug for MemoryStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MemoryStore")
            .field("keys", &self.keys())
            .finish()
    }
}

impl MemoryStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    /// A store that already holds `tokens` for `key` (a test's or a
    /// migration's starting point). Use the provider's
    /// [`account_key`](crate::TokenProvider::account_key).
    pub fn with_tokens(key: &AccountKey, tokens: &TokenSet) -> Self {
        let store = Self::new();
        store.put(key, tokens.to_store_bytes().expose_secret().to_vec());
        store
    }

    /// A store that holds `bytes` for `key` as they are (for tests of
    /// unreadable data).
    pub fn with_bytes(key: &AccountKey, bytes: impl Into<Vec<u8>>) -> Self {
        let store = Self::new();
        store.put(key, bytes.into());
        store
    }

    /// Every key with a stored entry, sorted.
    pub fn keys(&self) -> Vec<AccountKey> {
        let mut keys: Vec<AccountKey> = self
            .inner
            .entries
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .keys()
            .cloned()
            .collect();
        keys.sort();
        keys
    }

    /// The names of the entries set aside as unreadable.
    pub fn set_aside_entries(&self) -> Vec<String> {
        self.inner
            .set_aside
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .iter()
            .map(|(name, _)| name.clone())
            .collect()
    }

    fn put(&self, key: &AccountKey, bytes: Vec<u8>) {
        self.inner
            .entries
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(key.clone(), bytes);
    }

    fn take(&self, key: &AccountKey) -> Option<Vec<u8>> {
        self.inner
            .entries
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(key)
    }
}

#[async_trait]
impl TokenStore for MemoryStore {
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
    fn key(&self) -> &AccountKey {
        &self.key
    }

    async fn load(&mut self) -> Result<Option<SecretSlice<u8>>, StoreError> {
        Ok(self
            .store
            .inner
            .entries
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(&self.key)
            .map(|bytes| SecretSlice::from(bytes.clone())))
    }

    async fn save(&mut self, record: StoreRecord<'_>) -> Result<(), StoreError> {
        self.store.put(&self.key, record.bytes.to_vec());
        Ok(())
    }

    async fn remove(&mut self) -> Result<(), StoreError> {
        self.store.take(&self.key);
        Ok(())
    }

    async fn set_aside(&mut self) -> Result<String, StoreError> {
        let mut aside = self
            .store
            .inner
            .set_aside
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let name = format!("corrupt:{}:{}", self.key, aside.len());
        if let Some(bytes) = self.store.take(&self.key) {
            aside.push((name.clone(), bytes));
        }
        Ok(name)
    }
}

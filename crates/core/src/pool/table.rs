//! The pool's table of accounts: shards of hash tables, each behind its own
//! read-write lock.
//!
//! Every call of [`crate::AccountPool::access_token`] looks its account up
//! here, so the lookup must be cheap and must not make threads that serve
//! different accounts wait for each other. The key is hashed once (with
//! `foldhash`, several times faster than the standard library's SipHash on
//! keys this short; the pool's keys are chosen by the program, not an
//! attacker, and the hash is still seeded per process); some of its bits
//! choose the shard and the shard's table finds the entry with the same
//! hash. A fresh token is handed out under the shard's read lock, so the only
//! shared write on that path is the lock's reader count; writes (an account
//! added, created, evicted) take one shard's write lock for a moment.

use std::hash::BuildHasher;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, PoisonError, RwLock, RwLockReadGuard, RwLockWriteGuard};

use hashbrown::HashTable;

use crate::manager::TokenManager;
use crate::provider::token_provider::TokenProvider;
use crate::secret::AccountKey;

/// One account of the pool.
pub(crate) struct Entry {
    pub(crate) key: AccountKey,
    hash: u64,
    pub(crate) provider: Arc<dyn TokenProvider>,
    /// Whether the pool's factory made the provider: such an entry is
    /// dropped whole when evicted, since the factory can make it again.
    pub(crate) from_factory: bool,
    /// The account's manager while it is in memory.
    pub(crate) manager: Option<TokenManager>,
    /// When the account was last used, in whole seconds of the pool's
    /// monotonic clock.
    last_used: AtomicI64,
}

impl Entry {
    /// Records a use at `monotonic_nanos`; writes only when the second
    /// changed, so threads reading one account do not keep writing its line.
    #[inline]
    pub(crate) fn touch(&self, monotonic_nanos: i64) {
        let second = monotonic_nanos / 1_000_000_000;
        if self.last_used.load(Ordering::Relaxed) != second {
            self.last_used.store(second, Ordering::Relaxed);
        }
    }

    /// The second of the pool's monotonic clock it was last used in.
    pub(crate) fn last_used_second(&self) -> i64 {
        self.last_used.load(Ordering::Relaxed)
    }

    /// Whether nobody but the table holds its manager: no caller holds a
    /// clone and no refresh flight is running (a flight holds the manager's
    /// state until it lands).
    pub(crate) fn is_idle(&self) -> bool {
        self.manager.as_ref().is_none_or(TokenManager::is_unshared)
    }
}

/// The shards.
pub(crate) struct Table {
    hasher: foldhash::fast::RandomState,
    shards: Box<[RwLock<HashTable<Entry>>]>,
}

impl Table {
    /// A table of `shards` shards (rounded up to a power of two).
    pub(crate) fn new(shards: usize) -> Self {
        let count = shards.max(1).next_power_of_two();
        Self {
            hasher: foldhash::fast::RandomState::default(),
            shards: (0..count).map(|_| RwLock::new(HashTable::new())).collect(),
        }
    }

    #[inline]
    fn hash(&self, key: &str) -> u64 {
        self.hasher.hash_one(key)
    }

    /// The shard for `hash`: bits the shard's own table does not use for
    /// its buckets (the low ones) or its tags (the top seven).
    #[inline]
    fn shard(&self, hash: u64) -> &RwLock<HashTable<Entry>> {
        let index = (hash >> 32) as usize & (self.shards.len() - 1);
        &self.shards[index]
    }

    fn read_shard(&self, hash: u64) -> RwLockReadGuard<'_, HashTable<Entry>> {
        self.shard(hash)
            .read()
            .unwrap_or_else(PoisonError::into_inner)
    }

    fn write_shard(&self, hash: u64) -> RwLockWriteGuard<'_, HashTable<Entry>> {
        self.shard(hash)
            .write()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// Runs `f` on the entry for `key` (or `None`) under its shard's read lock.
    #[inline]
    pub(crate) fn read<R>(&self, key: &str, f: impl FnOnce(Option<&Entry>) -> R) -> R {
        let hash = self.hash(key);
        let shard = self.read_shard(hash);
        f(shard.find(hash, |e| e.hash == hash && e.key.as_str() == key))
    }

    /// Runs `f` on the entry for `key` under its shard's write lock; `f`
    /// may fill an empty slot (the entry is then inserted) or empty a full
    /// one (the entry is then removed).
    pub(crate) fn update<R>(&self, key: &str, f: impl FnOnce(&mut Option<Entry>) -> R) -> R {
        let hash = self.hash(key);
        let mut shard = self.write_shard(hash);
        let mut slot = match shard.find_entry(hash, |e| e.hash == hash && e.key.as_str() == key) {
            Ok(occupied) => Some(occupied.remove().0),
            Err(_) => None,
        };
        let result = f(&mut slot);
        if let Some(mut entry) = slot {
            entry.hash = hash;
            shard.insert_unique(hash, entry, |e| e.hash);
        }
        result
    }

    /// Keeps only the entries for which `keep` says so, shard by shard
    /// (each shard's write lock is held only while that shard is swept).
    pub(crate) fn retain(&self, mut keep: impl FnMut(&mut Entry) -> bool) {
        for shard in self.shards.iter() {
            shard
                .write()
                .unwrap_or_else(PoisonError::into_inner)
                .retain(&mut keep);
        }
    }

    /// Runs `f` on every entry, shard by shard under read locks.
    pub(crate) fn for_each(&self, mut f: impl FnMut(&Entry)) {
        for shard in self.shards.iter() {
            shard
                .read()
                .unwrap_or_else(PoisonError::into_inner)
                .iter()
                .for_each(&mut f);
        }
    }

    /// How many accounts the table holds.
    pub(crate) fn len(&self) -> usize {
        self.shards
            .iter()
            .map(|s| s.read().unwrap_or_else(PoisonError::into_inner).len())
            .sum()
    }
}

/// A new entry, used now.
pub(crate) fn entry(
    key: AccountKey,
    provider: Arc<dyn TokenProvider>,
    from_factory: bool,
    monotonic_nanos: i64,
) -> Entry {
    let entry = Entry {
        key,
        hash: 0,
        provider,
        from_factory,
        manager: None,
        last_used: AtomicI64::new(i64::MIN),
    };
    entry.touch(monotonic_nanos);
    entry
}

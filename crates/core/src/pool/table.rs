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
//!
//! Each shard also counts its writes (its generation). A reader that saw an
//! entry under the read lock may remember it with the generation it saw
//! (see `memo.rs`): while the generation is unchanged, no write has touched
//! the shard, so the entry and its manager are still the ones it saw.

use std::hash::BuildHasher;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
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
    /// When the account was last used; shared with the per-thread memos
    /// that serve it without the table.
    pub(crate) last_used: Arc<LastUse>,
}

/// When an account was last used, in whole seconds of the pool's monotonic
/// clock: what [`crate::AccountPool::evict_idle`] judges by.
#[derive(Debug)]
pub(crate) struct LastUse(AtomicI64);

impl LastUse {
    /// Records a use at `monotonic_nanos`; writes only when the second
    /// changed, so threads reading one account do not keep writing its line.
    #[inline]
    pub(crate) fn touch(&self, monotonic_nanos: i64) {
        let second = monotonic_nanos / 1_000_000_000;
        if self.0.load(Ordering::Relaxed) != second {
            self.0.store(second, Ordering::Relaxed);
        }
    }

    /// The second it was last used in.
    pub(crate) fn second(&self) -> i64 {
        self.0.load(Ordering::Relaxed)
    }
}

impl Entry {
    /// Records a use at `monotonic_nanos`.
    #[inline]
    pub(crate) fn touch(&self, monotonic_nanos: i64) {
        self.last_used.touch(monotonic_nanos);
    }

    /// The second of the pool's monotonic clock it was last used in.
    pub(crate) fn last_used_second(&self) -> i64 {
        self.last_used.second()
    }

    /// Drops the manager from memory; returns whether the entry itself
    /// stays (an entry the factory made is dropped whole, since the factory
    /// can make it again).
    pub(crate) fn evict(&mut self) -> bool {
        self.manager = None;
        !self.from_factory
    }

    /// Whether nobody but the table holds its manager: no caller holds a
    /// clone and no refresh flight is running (a flight holds the manager's
    /// state until it lands).
    pub(crate) fn is_idle(&self) -> bool {
        self.manager.as_ref().is_none_or(TokenManager::is_unshared)
    }
}

/// One shard: its entries and how many writes it has had. Aligned to two
/// cache lines, so that readers of one shard do not slow another's.
#[repr(align(128))]
struct Shard {
    entries: RwLock<HashTable<Entry>>,
    generation: AtomicU64,
}

/// The shards.
pub(crate) struct Table {
    hasher: foldhash::fast::RandomState,
    shards: Box<[Shard]>,
}

/// A shard's write lock; the shard's generation moves on when it is let go.
struct WriteGuard<'a> {
    entries: RwLockWriteGuard<'a, HashTable<Entry>>,
    generation: &'a AtomicU64,
}

impl Drop for WriteGuard<'_> {
    fn drop(&mut self) {
        // Still under the lock: a reader that then takes the read lock sees
        // the new generation with the new entries.
        self.generation.fetch_add(1, Ordering::Release);
    }
}

impl Table {
    /// A table of `shards` shards (rounded up to a power of two).
    pub(crate) fn new(shards: usize) -> Self {
        let count = shards.max(1).next_power_of_two();
        Self {
            hasher: foldhash::fast::RandomState::default(),
            shards: (0..count)
                .map(|_| Shard {
                    entries: RwLock::new(HashTable::new()),
                    generation: AtomicU64::new(0),
                })
                .collect(),
        }
    }

    /// The hash of `key`, which chooses its shard and its place there.
    #[inline]
    pub(crate) fn hash(&self, key: &str) -> u64 {
        self.hasher.hash_one(key)
    }

    /// The shard for `hash`: bits the shard's own table does not use for
    /// its buckets (the low ones) or its tags (the top seven).
    #[inline]
    fn shard(&self, hash: u64) -> &Shard {
        let index = (hash >> 32) as usize & (self.shards.len() - 1);
        &self.shards[index]
    }

    /// How many writes the shard of `hash` has had.
    #[inline]
    pub(crate) fn generation(&self, hash: u64) -> u64 {
        self.shard(hash).generation.load(Ordering::Acquire)
    }

    fn read_shard(&self, hash: u64) -> RwLockReadGuard<'_, HashTable<Entry>> {
        self.shard(hash)
            .entries
            .read()
            .unwrap_or_else(PoisonError::into_inner)
    }

    fn write_shard(&self, hash: u64) -> WriteGuard<'_> {
        let shard = self.shard(hash);
        WriteGuard {
            entries: shard
                .entries
                .write()
                .unwrap_or_else(PoisonError::into_inner),
            generation: &shard.generation,
        }
    }

    /// Runs `f` on the entry for `key` (or `None`) under its shard's read lock.
    #[inline]
    pub(crate) fn read<R>(&self, key: &str, f: impl FnOnce(Option<&Entry>) -> R) -> R {
        self.read_hashed(self.hash(key), key, |entry, _| f(entry))
    }

    /// [`Table::read`] for a key already hashed, with the shard's
    /// generation as it is while the read lock is held.
    #[inline]
    pub(crate) fn read_hashed<R>(
        &self,
        hash: u64,
        key: &str,
        f: impl FnOnce(Option<&Entry>, u64) -> R,
    ) -> R {
        let shard = self.read_shard(hash);
        let generation = self.generation(hash);
        f(
            shard.find(hash, |e| e.hash == hash && e.key.as_str() == key),
            generation,
        )
    }

    /// Runs `f` on the entry for `key` under its shard's write lock; `f`
    /// may fill an empty slot (the entry is then inserted) or empty a full
    /// one (the entry is then removed).
    pub(crate) fn update<R>(&self, key: &str, f: impl FnOnce(&mut Option<Entry>) -> R) -> R {
        let hash = self.hash(key);
        let mut guard = self.write_shard(hash);
        let shard = &mut guard.entries;
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
            let mut entries = shard
                .entries
                .write()
                .unwrap_or_else(PoisonError::into_inner);
            entries.retain(&mut keep);
            shard.generation.fetch_add(1, Ordering::Release);
        }
    }

    /// Runs `f` on every entry, shard by shard under read locks.
    pub(crate) fn for_each(&self, mut f: impl FnMut(&Entry)) {
        for shard in self.shards.iter() {
            shard
                .entries
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
            .map(|s| {
                s.entries
                    .read()
                    .unwrap_or_else(PoisonError::into_inner)
                    .len()
            })
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
        last_used: Arc::new(LastUse(AtomicI64::new(i64::MIN))),
    };
    entry.touch(monotonic_nanos);
    entry
}

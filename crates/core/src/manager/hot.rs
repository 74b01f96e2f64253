//! The hot path's view of the cache: a per-thread copy of the current
//! cached set, revalidated by one atomic load.
//!
//! The manager's cache is an `ArcSwapOption`: any thread can read it, and a
//! flight replaces it. Loading from it costs about 12 ns here (it registers
//! the reader in a debt list so the set is not freed under it), a third of
//! the whole call. Instead every manager has a generation number that each
//! publication of a new cached set increments, and every thread keeps, for the
//! few managers it used last, the generation it saw and its own `Arc` of that
//! set. A call reads the generation (one load of a cache line that is only
//! written when tokens change) and, when it matches, uses its own `Arc`
//! without touching any shared reference count.
//!
//! Managers are told apart by a process-wide id, never by address: a new
//! manager allocated where a dropped one lived must not see its tokens.

use std::cell::RefCell;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use arc_swap::ArcSwapOption;

use crate::manager::policy::Cached;
use crate::secret::AccessToken;

/// How many managers one thread keeps copies for.
const ENTRIES: usize = 4;

/// A manager's cache and its publication counter.
pub(crate) struct HotCache {
    id: u64,
    generation: AtomicU64,
    cache: ArcSwapOption<Cached>,
}

#[derive(Default)]
struct Entry {
    id: u64,
    generation: u64,
    cached: Option<Arc<Cached>>,
}

#[derive(Default)]
struct Entries {
    slots: [Entry; ENTRIES],
    next: usize,
}

thread_local! {
    static ENTRIES_OF_THIS_THREAD: RefCell<Entries> = RefCell::default();
}

impl HotCache {
    pub(crate) fn new() -> Self {
        static NEXT_ID: AtomicU64 = AtomicU64::new(1);
        Self {
            id: NEXT_ID.fetch_add(1, Ordering::Relaxed),
            generation: AtomicU64::new(0),
            cache: ArcSwapOption::empty(),
        }
    }

    /// Replaces the cached set, for every thread.
    pub(crate) fn publish(&self, cached: Option<Arc<Cached>>) {
        self.cache.store(cached);
        self.generation.fetch_add(1, Ordering::Release);
    }

    /// The cached set, shared (for everything but the hot path).
    pub(crate) fn load_full(&self) -> Option<Arc<Cached>> {
        self.cache.load_full()
    }

    /// Runs `f` on the current cached set through this thread's copy.
    #[inline]
    pub(crate) fn with<T>(&self, f: impl FnOnce(Option<&Cached>) -> Option<T>) -> Option<T> {
        let generation = self.generation.load(Ordering::Acquire);
        let mut f = Some(f);
        let through_copy = ENTRIES_OF_THIS_THREAD.try_with(|entries| {
            let mut entries = entries.borrow_mut();
            let found = entries
                .slots
                .iter()
                .position(|e| e.id == self.id && e.generation == generation);
            let slot = match found {
                Some(slot) => slot,
                None => self.refill(&mut entries, generation),
            };
            f.take()
                .and_then(|f| f(entries.slots[slot].cached.as_deref()))
        });
        match through_copy {
            Ok(result) => result,
            // A thread being torn down has no thread-locals left: read the
            // shared cache directly.
            Err(_) => {
                let cached = self.cache.load_full();
                f.and_then(|f| f(cached.as_deref()))
            }
        }
    }

    /// The access token when the cached set is fresh at these clock
    /// readings: the hot path of a caller that needs nothing else (an
    /// [`crate::AccountPool`]'s memo). A set in its early-refresh window is
    /// `None` here: the manager itself must start the refresh.
    #[inline]
    pub(crate) fn fresh_token(&self, wall: i64, monotonic: i64) -> Option<AccessToken> {
        self.with(|cached| {
            cached
                .filter(|c| c.is_fresh(wall, monotonic))
                .map(Cached::access_token)
        })
    }

    /// Takes this manager's current set into the thread's entries: the slot
    /// this manager had, or the next one round-robin. Returns the slot.
    #[cold]
    fn refill(&self, entries: &mut Entries, generation: u64) -> usize {
        let slot = match entries.slots.iter().position(|e| e.id == self.id) {
            Some(slot) => slot,
            None => {
                let slot = entries.next;
                entries.next = (entries.next + 1) % ENTRIES;
                slot
            }
        };
        // The set is loaded after the generation was read, so it is at least
        // as new as that generation.
        entries.slots[slot] = Entry {
            id: self.id,
            generation,
            cached: self.cache.load_full(),
        };
        slot
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::SystemClock;
    use crate::manager::policy::RefreshPolicy;
    use crate::token::token_set::TokenSet;

    fn cached(access: &str) -> Arc<Cached> {
        let now = time::OffsetDateTime::now_utc();
        let set = TokenSet::expiring_in(
            AccessToken::new(access),
            now,
            std::time::Duration::from_secs(3600),
        );
        Arc::new(RefreshPolicy::default().schedule(set, &SystemClock))
    }

    fn seen(cache: &HotCache) -> Option<String> {
        use secrecy::ExposeSecret;
        cache.with(|c| c.map(|c| c.tokens.access_token().expose_secret().to_owned()))
    }

    #[test]
    fn every_publication_is_seen_by_every_thread() {
        let cache = Arc::new(HotCache::new());
        assert_eq!(seen(&cache), None);
        cache.publish(Some(cached("first")));
        assert_eq!(seen(&cache).as_deref(), Some("first"));
        let other = Arc::clone(&cache);
        std::thread::spawn(move || {
            assert_eq!(seen(&other).as_deref(), Some("first"));
            other.publish(Some(cached("second")));
        })
        .join()
        .unwrap();
        assert_eq!(
            seen(&cache).as_deref(),
            Some("second"),
            "this thread's copy is revalidated"
        );
        cache.publish(None);
        assert_eq!(seen(&cache), None);
    }

    #[test]
    fn a_new_manager_never_sees_a_dropped_ones_tokens() {
        let old = HotCache::new();
        old.publish(Some(cached("old-secret")));
        assert_eq!(seen(&old).as_deref(), Some("old-secret"));
        drop(old);
        // Whatever address it gets, a new cache has a new id.
        let new = HotCache::new();
        assert_eq!(seen(&new), None);
    }

    #[test]
    fn more_managers_than_entries_stay_correct() {
        let caches: Vec<HotCache> = (0..ENTRIES * 2 + 1).map(|_| HotCache::new()).collect();
        for (i, cache) in caches.iter().enumerate() {
            cache.publish(Some(cached(&format!("token-{i}"))));
        }
        for _ in 0..3 {
            for (i, cache) in caches.iter().enumerate() {
                assert_eq!(seen(cache), Some(format!("token-{i}")));
            }
        }
    }
}

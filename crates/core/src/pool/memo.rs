//! The hot path's shortcut past the table: a per-thread memo of the
//! accounts this thread served last.
//!
//! Looking an account up in the table takes its shard's read lock, and
//! taking and letting go of a read lock are two atomic writes to a line
//! every reader of the shard shares: on this project's machines that alone
//! made a pooled call 1.8 times a lone manager's. A thread that serves the
//! same few accounts over and over (a worker bound to a tenant, a burst of
//! API calls for one customer) remembers, for each, the manager's cache and
//! the generation of the shard it was found in. While that generation is
//! unchanged no write has touched the shard, so the account is still in
//! memory with the same manager, and its cache answers with one more atomic
//! load and no write to anything shared.
//!
//! What a memo holds is never served on its own word: the manager's cache
//! is asked for a fresh token at this instant, and anything else (a token
//! in its early-refresh window, an expired one, none) goes the long way,
//! where the manager starts its refresh. A memo entry keeps the cache of an
//! evicted or removed account alive until the slot is reused, but cannot
//! serve it: its shard's generation moved on when the account left.
//! Accounts are told apart by pool, hash and key, never by address.

use std::cell::RefCell;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use crate::manager::hot::HotCache;
use crate::manager::token_manager::TokenManager;
use crate::pool::table::LastUse;
use crate::secret::{AccessToken, AccountKey};

/// How many accounts one thread remembers, across every pool.
const SLOTS: usize = 8;

/// One remembered account.
struct Remembered {
    pool: u64,
    hash: u64,
    generation: u64,
    key: AccountKey,
    cache: Arc<HotCache>,
    last_used: Arc<LastUse>,
}

#[derive(Default)]
struct Memo {
    slots: [Option<Remembered>; SLOTS],
    next: usize,
}

thread_local! {
    static MEMO_OF_THIS_THREAD: RefCell<Memo> = RefCell::default();
}

/// A process-wide number for a new pool, so that memos never mistake one
/// pool's account for another's.
pub(crate) fn new_pool_id() -> u64 {
    static NEXT: AtomicU64 = AtomicU64::new(1);
    NEXT.fetch_add(1, Ordering::Relaxed)
}

/// What a thread is asked to remember after it served an account from the
/// table.
pub(crate) struct Sighting<'a> {
    pub(crate) pool: u64,
    pub(crate) hash: u64,
    /// The shard's generation while its read lock was held.
    pub(crate) generation: u64,
    pub(crate) key: &'a AccountKey,
    pub(crate) manager: &'a TokenManager,
    pub(crate) last_used: &'a Arc<LastUse>,
}

/// The fresh token of `key` from this thread's memo, when the account is
/// remembered at `generation` (the shard's now) and its cached set is fresh
/// at these readings. Records the use for idle eviction.
#[inline]
pub(crate) fn fresh_token(
    pool: u64,
    hash: u64,
    key: &str,
    generation: u64,
    wall: i64,
    monotonic: i64,
) -> Option<AccessToken> {
    MEMO_OF_THIS_THREAD
        .try_with(|memo| {
            let memo = memo.borrow();
            let remembered = memo.slots.iter().flatten().find(|r| {
                r.pool == pool
                    && r.hash == hash
                    && r.generation == generation
                    && r.key.as_str() == key
            })?;
            let token = remembered.cache.fresh_token(wall, monotonic)?;
            remembered.last_used.touch(monotonic);
            Some(token)
        })
        .ok()
        .flatten()
}

/// Remembers an account this thread just served from the table: in the
/// slot it had, or the next one round-robin.
#[cold]
pub(crate) fn remember(sighting: Sighting<'_>) {
    // A thread being torn down has no memo left; nothing to remember.
    let _ = MEMO_OF_THIS_THREAD.try_with(|memo| {
        let mut memo = memo.borrow_mut();
        let same = |r: &Option<Remembered>| {
            r.as_ref().is_some_and(|r| {
                r.pool == sighting.pool
                    && r.hash == sighting.hash
                    && r.key.as_str() == sighting.key.as_str()
            })
        };
        let slot = match memo.slots.iter().position(same) {
            Some(slot)
                if memo.slots[slot]
                    .as_ref()
                    .is_some_and(|r| r.generation == sighting.generation) =>
            {
                return;
            }
            Some(slot) => slot,
            None => {
                let slot = memo.next;
                memo.next = (memo.next + 1) % SLOTS;
                slot
            }
        };
        memo.slots[slot] = Some(Remembered {
            pool: sighting.pool,
            hash: sighting.hash,
            generation: sighting.generation,
            key: sighting.key.clone(),
            cache: sighting.manager.hot_cache(),
            last_used: Arc::clone(sighting.last_used),
        });
    });
}

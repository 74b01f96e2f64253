//! What an idle account costs in an [`AccountPool`]: at most
//! [`BUDGET_PER_ACCOUNT`] bytes of heap each, for 10,000 accounts with a
//! cached token, counted by a global allocator that sums what is live.
//!
//! The figure covers what the pool keeps for an account: its table entry,
//! its manager and the cached token set (the token bytes included). It does
//! not cover the store's copy, which lives wherever the store keeps it.
//! The same count for lone `TokenManager`s is printed beside it, so the
//! saving is measured in the same run (see docs/performance.md).
//!
//! One test in this binary: the allocator counts every thread, so nothing
//! else may run while it measures.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicIsize, Ordering};

use authkit_core::{AccountPool, ExposeSecret, MemoryStore, TokenManager, TokenProvider};
use authkit_testkit::support::save;
use authkit_testkit::{FakeAccount, FakeIssuer};
use time::OffsetDateTime;

/// The most heap one idle account with a cached token may hold in a pool.
const BUDGET_PER_ACCOUNT: isize = 2048;

/// How many accounts the pool holds while it is measured.
const ACCOUNTS: usize = 10_000;

/// How many lone managers are measured for comparison.
const LONE_MANAGERS: usize = 1_000;

struct Counting;

static LIVE: AtomicIsize = AtomicIsize::new(0);

// SAFETY: every call is passed to the system allocator unchanged; the
// counter only adds and subtracts the sizes it was asked for.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        LIVE.fetch_add(layout.size() as isize, Ordering::Relaxed);
        // SAFETY: the caller's layout is passed on as it came.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE.fetch_sub(layout.size() as isize, Ordering::Relaxed);
        // SAFETY: `ptr` came from `alloc` with this layout.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        LIVE.fetch_add(
            new_size as isize - layout.size() as isize,
            Ordering::Relaxed,
        );
        // SAFETY: as for `dealloc`, and `new_size` is the caller's.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

fn live() -> isize {
    LIVE.load(Ordering::SeqCst)
}

/// The account of `user-<i>` at `issuer`.
fn account(issuer: &FakeIssuer, i: usize) -> FakeAccount {
    issuer.account(&format!("user-{i}"))
}

/// Gives accounts `first..first + count` a set in `store`, issued now.
async fn seed(issuer: &FakeIssuer, store: &MemoryStore, first: usize, count: usize) {
    for i in first..first + count {
        let account = account(issuer, i);
        let set = issuer.issued_set(&account, OffsetDateTime::now_utc());
        save(store, account.account_key(), &set)
            .await
            .expect("a memory store saves");
    }
}

#[test]
fn an_idle_account_with_a_cached_token_costs_at_most_two_kilobytes_in_a_pool() {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    runtime.block_on(async {
        let issuer = FakeIssuer::default();
        let store = MemoryStore::new();
        seed(&issuer, &store, 0, ACCOUNTS).await;
        let keys: Vec<String> = (0..ACCOUNTS).map(|i| format!("tenant-{i}")).collect();

        let before = live();
        let pool = AccountPool::builder(store.clone()).build();
        for (i, key) in keys.iter().enumerate() {
            pool.add(key.as_str(), account(&issuer, i))
                .expect("a new key");
        }
        let mut token_bytes = 0;
        for key in &keys {
            let token = pool
                .access_token(key.as_str())
                .await
                .expect("served from the store");
            token_bytes += token.expose_secret().len();
        }
        assert_eq!(issuer.requests(), 0, "every token came from the store");
        assert_eq!(pool.in_memory(), ACCOUNTS);
        let per_account = (live() - before) / ACCOUNTS as isize;

        seed(&issuer, &store, ACCOUNTS, LONE_MANAGERS).await;
        let mut managers = Vec::with_capacity(LONE_MANAGERS);
        let before_lone = live();
        for i in ACCOUNTS..ACCOUNTS + LONE_MANAGERS {
            let manager = TokenManager::builder(account(&issuer, i), store.clone()).build();
            manager.access_token().await.expect("served from the store");
            managers.push(manager);
        }
        let per_manager = (live() - before_lone) / LONE_MANAGERS as isize;

        println!(
            "heap per idle account with a cached token: {per_account} B in a pool of {ACCOUNTS}, \
             {per_manager} B as a lone TokenManager (provider included in both; \
             access tokens of {} B on average)",
            token_bytes / ACCOUNTS
        );
        assert!(
            per_account <= BUDGET_PER_ACCOUNT,
            "an account costs {per_account} B in the pool, more than {BUDGET_PER_ACCOUNT} B"
        );
        drop(managers);
        drop(pool);
    });
}

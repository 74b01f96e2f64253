//! The Redis store: save, load and the lease's acquire and release for one
//! account, with no other account and with 10,000 others in the database,
//! against a real `redis-server` on a Unix socket (started by the bench,
//! as the tests start theirs).
//!
//! Every call touches only its own account's keys, so the two groups
//! should agree within noise; `tests/scale.rs` checks the commands sent.

#[path = "../tests/support/mod.rs"]
mod support;

use std::time::{Duration, Instant};

use authkit_core::store::HeldAccount;
use authkit_core::{AccessToken, AccountKey, RefreshToken, TokenSet, TokenStore};
use authkit_store_redis::RedisStore;
use criterion::Criterion;
use support::RedisServer;
use time::OffsetDateTime;

const ACCOUNTS_PRESENT: usize = 10_000;

fn set(name: &str) -> TokenSet {
    let now = OffsetDateTime::now_utc();
    TokenSet::new(
        AccessToken::new(format!("access-{name}-0123456789")),
        now,
        now + time::Duration::hours(1),
    )
    .with_refresh_token(
        Some(RefreshToken::new(format!("refresh-{name}-0123456789"))),
        None,
    )
}

fn key() -> AccountKey {
    AccountKey::new("bench:alice")
}

fn operations_with(c: &mut Criterion, group_name: &str, others: usize) {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let redis = RedisServer::start().expect("the bench needs redis-server on PATH");
    let store = runtime.block_on(async {
        let store = RedisStore::builder(redis.url())
            .lease(Duration::from_secs(30))
            .timeout(Duration::from_secs(5))
            .connect()
            .await
            .expect("connect");
        let mut held = HeldAccount::acquire(&store, &key()).await.expect("lock");
        held.save(&set("a"), OffsetDateTime::now_utc())
            .await
            .expect("save");
        held.release().await.expect("release");
        for i in 0..others {
            let other = AccountKey::new(format!("bench:tenant-{i}"));
            let mut held = HeldAccount::acquire(&store, &other).await.expect("lock");
            held.save(&set(&format!("tenant-{i}")), OffsetDateTime::now_utc())
                .await
                .expect("save another account");
            held.release().await.expect("release");
        }
        store
    });
    let tokens = set("a");

    let mut group = c.benchmark_group(group_name);
    group.bench_function("save under a held lease", |b| {
        b.to_async(&runtime).iter_custom(|iters| {
            let (store, tokens) = (&store, &tokens);
            async move {
                let mut held = HeldAccount::acquire(store, &key()).await.expect("lock");
                let started = Instant::now();
                for _ in 0..iters {
                    held.save(tokens, OffsetDateTime::now_utc())
                        .await
                        .expect("save");
                }
                let elapsed = started.elapsed();
                held.release().await.expect("release");
                elapsed
            }
        })
    });
    group.bench_function("load under a held lease", |b| {
        b.to_async(&runtime).iter_custom(|iters| {
            let store = &store;
            async move {
                let mut held = HeldAccount::acquire(store, &key()).await.expect("lock");
                let started = Instant::now();
                for _ in 0..iters {
                    held.load().await.expect("load");
                }
                let elapsed = started.elapsed();
                held.release().await.expect("release");
                elapsed
            }
        })
    });
    group.bench_function("lease acquire and release", |b| {
        b.to_async(&runtime).iter(|| async {
            let lock = store.lock(&key()).await.expect("lock");
            lock.release().await.expect("release");
        })
    });
    group.finish();
    drop(redis);
}

fn main() {
    let mut criterion = Criterion::default().configure_from_args();
    operations_with(&mut criterion, "redis store", 0);
    operations_with(
        &mut criterion,
        &format!("redis store, {ACCOUNTS_PRESENT} accounts present"),
        ACCOUNTS_PRESENT,
    );
    criterion.final_summary();
}

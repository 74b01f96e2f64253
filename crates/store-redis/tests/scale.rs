//! The Redis store with 10,000 accounts in one database: every call touches
//! its own account's keys and nothing else. A fleet's Redis holds a key per
//! customer account; a command that walks the keyspace (`KEYS`, `SCAN`) or
//! counts it would make each call slower as the fleet grows and block the
//! server for every other client while it runs.
//!
//! Checked by Redis itself: after `CONFIG RESETSTAT`, `INFO commandstats`
//! lists every command the store sent while it locked, loaded, saved, set
//! aside and removed accounts; each must be one that costs O(1) per key,
//! and the number of calls one account's round costs must not depend on
//! how many accounts are present.

mod support;

use std::collections::BTreeMap;
use std::time::Duration;

use authkit_core::store::HeldAccount;
use authkit_core::{AccessToken, AccountKey, RefreshToken, TokenSet, TokenStore};
use authkit_store_redis::RedisStore;
use support::RedisServer;
use time::OffsetDateTime;

const ACCOUNTS: usize = 10_000;

/// What the store may send: each costs O(1) for the keys it names.
const CONSTANT_TIME: &[&str] = &[
    "get",
    "set",
    "del",
    "pexpire",
    "exists",
    "rename",
    "evalsha",
    "eval",
    "script|load",
    "ping",
    "hello",
    "client|setinfo",
    "select",
    "wait",
    "auth",
];

fn set(i: usize) -> TokenSet {
    let now = OffsetDateTime::now_utc();
    TokenSet::new(
        AccessToken::new(format!("at-{i}")),
        now,
        now + time::Duration::hours(1),
    )
    .with_refresh_token(Some(RefreshToken::new(format!("rt-{i}"))), None)
}

fn key(i: usize) -> AccountKey {
    AccountKey::new(format!("tenant:{i}"))
}

/// One account's life: a sign-in saved, a load, a refresh saved, corrupt
/// data set aside, the account removed.
async fn round(store: &RedisStore, i: usize) {
    let mut held = HeldAccount::acquire(store, &key(i)).await.expect("lock");
    held.save(&set(i), OffsetDateTime::now_utc())
        .await
        .expect("save");
    assert!(held.load().await.expect("load").is_some());
    held.save(&set(i + 1), OffsetDateTime::now_utc())
        .await
        .expect("save again");
    held.release().await.expect("release");

    let mut lock = store.lock(&key(i)).await.expect("lock");
    lock.set_aside().await.expect("set aside");
    lock.remove().await.expect("remove");
    lock.release().await.expect("release");
}

/// The server's command counts since the last reset, by command name.
async fn command_calls(admin: &mut redis::aio::MultiplexedConnection) -> BTreeMap<String, u64> {
    let info: String = redis::cmd("INFO")
        .arg("commandstats")
        .query_async(admin)
        .await
        .expect("INFO commandstats");
    info.lines()
        .filter_map(|line| {
            let (name, stats) = line.strip_prefix("cmdstat_")?.split_once(':')?;
            let calls = stats
                .split(',')
                .find_map(|field| field.strip_prefix("calls="))?
                .parse()
                .ok()?;
            Some((name.to_owned(), calls))
        })
        .collect()
}

async fn reset(admin: &mut redis::aio::MultiplexedConnection) {
    let _: () = redis::cmd("CONFIG")
        .arg("RESETSTAT")
        .query_async(admin)
        .await
        .expect("CONFIG RESETSTAT");
}

/// The calls one round makes, counted by the server (the counting
/// connection's own `INFO` and `CONFIG` left out).
async fn calls_of_round(
    store: &RedisStore,
    admin: &mut redis::aio::MultiplexedConnection,
    i: usize,
) -> BTreeMap<String, u64> {
    reset(admin).await;
    round(store, i).await;
    let mut calls = command_calls(admin).await;
    calls.retain(|name, _| name != "info" && name != "config|resetstat");
    calls
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_call_costs_the_same_with_ten_thousand_accounts_present() {
    let Some(redis) = RedisServer::start() else {
        return;
    };
    let store = RedisStore::builder(redis.url())
        .lease(Duration::from_secs(30))
        .timeout(Duration::from_secs(5))
        .connect()
        .await
        .expect("connect");
    let client = redis::Client::open(redis.url()).expect("a valid URL");
    let mut admin = client
        .get_multiplexed_async_connection()
        .await
        .expect("an admin connection");

    // The first round loads the store's scripts into the server (NOSCRIPT,
    // SCRIPT LOAD, EVALSHA again): once per server, not per call.
    round(&store, ACCOUNTS + 2).await;
    let with_none = calls_of_round(&store, &mut admin, ACCOUNTS).await;
    for i in 0..ACCOUNTS {
        let mut held = HeldAccount::acquire(&store, &key(i)).await.expect("lock");
        held.save(&set(i), OffsetDateTime::now_utc())
            .await
            .expect("save");
        held.release().await.expect("release");
    }
    let size: u64 = redis::cmd("DBSIZE")
        .query_async(&mut admin)
        .await
        .expect("DBSIZE");
    assert!(
        size >= ACCOUNTS as u64,
        "{size} keys after {ACCOUNTS} saves"
    );

    reset(&mut admin).await;
    for i in 0..ACCOUNTS {
        let mut held = HeldAccount::acquire(&store, &key(i)).await.expect("lock");
        assert!(held.load().await.expect("load").is_some(), "account {i}");
        held.release().await.expect("release");
    }
    let mut loads = command_calls(&mut admin).await;
    loads.retain(|name, _| name != "info" && name != "config|resetstat");
    let with_all = calls_of_round(&store, &mut admin, ACCOUNTS + 1).await;

    for calls in [&with_none, &with_all, &loads] {
        let walking: Vec<_> = calls
            .keys()
            .filter(|name| !CONSTANT_TIME.contains(&name.as_str()))
            .collect();
        assert!(
            walking.is_empty(),
            "the store sent {walking:?}, which is not O(1) per call: {calls:?}"
        );
    }
    assert_eq!(
        with_none, with_all,
        "one account's round sends the same commands with {ACCOUNTS} accounts present"
    );
    let total: u64 = loads.values().sum();
    assert!(
        total <= 8 * ACCOUNTS as u64,
        "{total} commands for {ACCOUNTS} lock-load-release rounds: {loads:?}"
    );
}

//! Redis failing in ways other than going away: out of memory under
//! `maxmemory` with `noeviction`, and a server so slow that a holder's lease
//! lapses before its save. Real faults of a real `redis-server` (see
//! `support`); each ends in a classified error, and nothing newer is ever
//! overwritten.

mod support;

use std::time::Duration;

use authkit_core::store::HeldAccount;
use authkit_core::{Error, ExposeSecret, StoreError, TokenManager, TokenProvider};
use authkit_store_redis::RedisStore;
use authkit_testkit::support::{issued_set, load};
use support::{RedisServer, auth_server, provider};

#[tokio::test]
async fn out_of_memory_is_a_full_store_and_nothing_is_lost() {
    let Some(redis) =
        RedisServer::start_with_args(&["--maxmemory", "2mb", "--maxmemory-policy", "noeviction"])
    else {
        return;
    };
    let server = auth_server().await;
    let store = RedisStore::builder(redis.url()).connect().await.unwrap();
    let manager = TokenManager::builder(provider(&server), store.clone())
        .clock(server.shared_clock())
        .build();
    let first = manager.access_token().await.unwrap();

    // Fill Redis past its limit with other data, in ever smaller pieces, so
    // that even the smallest write is refused (a large refused write only
    // pushed the memory over while its own request was buffered).
    let client = redis::Client::open(redis.url()).unwrap();
    let mut raw = client.get_multiplexed_async_connection().await.unwrap();
    let mut filled = 0;
    for size in [64 * 1024, 4096, 256, 16] {
        let filler = "x".repeat(size);
        loop {
            let set: redis::RedisResult<()> = redis::cmd("SET")
                .arg(format!("filler:{filled}"))
                .arg(&filler)
                .query_async(&mut raw)
                .await;
            match set {
                Ok(()) => filled += 1,
                Err(e) if e.code() == Some("OOM") => break,
                Err(e) => panic!("unexpected: {e}"),
            }
            assert!(filled < 200_000, "maxmemory was not enforced");
        }
    }

    server.clock().advance(time::Duration::hours(2));
    let error = manager.access_token().await.unwrap_err();
    assert!(
        matches!(&error, Error::Store(StoreError::Full { .. })),
        "{error:?}"
    );
    assert_eq!(
        server.log().count("refresh_token"),
        0,
        "the hold could not be taken, so the refresh token was not spent"
    );
    // Reading needs the hold too (it is a write in Redis): read the raw value.
    let bytes: Vec<u8> = redis::cmd("GET")
        .arg(store.tokens_key(manager.account_key()))
        .query_async(&mut raw)
        .await
        .unwrap();
    let stored = authkit_core::TokenSet::from_store_bytes(&bytes).unwrap();
    assert!(
        stored.access_token().same_secret(&first),
        "the stored set is intact"
    );

    // Room again: the account recovers with its stored refresh token.
    let _: () = redis::cmd("FLUSHDB").query_async(&mut raw).await.unwrap();
    let seeded = issued_set(
        &provider(&server),
        first.expose_secret(),
        stored.refresh_token().map(|t| t.expose_secret()),
        stored.issued_at(),
        Duration::from_secs(3600),
    );
    HeldAccount::acquire(&store, manager.account_key())
        .await
        .unwrap()
        .save(&seeded, time::OffsetDateTime::now_utc())
        .await
        .unwrap();
    server.clock().advance(time::Duration::seconds(5));
    let after = manager.access_token().await.unwrap();
    assert!(server.is_access_token_active(&after));
    assert!(!server.log().any_refresh_token_sent_twice());
}

#[tokio::test]
async fn a_redis_slower_than_the_lease_fences_off_the_late_save() {
    let Some(redis) = RedisServer::start_with_args(&["--enable-debug-command", "yes"]) else {
        return;
    };
    let store = RedisStore::builder(redis.url())
        .lease(Duration::from_millis(300))
        .timeout(Duration::from_secs(5))
        .connect()
        .await
        .unwrap();
    let server = auth_server().await;
    let provider = provider(&server);
    let key = provider.account_key().clone();
    let mut late = HeldAccount::acquire(&store, &key).await.unwrap();

    // The server stalls for longer than the lease: renewals cannot happen,
    // and the lease lapses underneath its holder.
    support::stall(&redis, 1).await;

    let newer = issued_set(
        &provider,
        "at-newer",
        Some("rt-newer"),
        time::OffsetDateTime::now_utc(),
        Duration::from_secs(3600),
    );
    let mut current = HeldAccount::acquire(&store, &key).await.unwrap();
    current
        .save(&newer, time::OffsetDateTime::now_utc())
        .await
        .unwrap();
    current.release().await.unwrap();

    let older = issued_set(
        &provider,
        "at-older",
        Some("rt-older"),
        time::OffsetDateTime::now_utc(),
        Duration::from_secs(3600),
    );
    let refused = late
        .save(&older, time::OffsetDateTime::now_utc())
        .await
        .unwrap_err();
    assert!(
        matches!(refused, StoreError::LockLost { .. }),
        "{refused:?}"
    );
    let stored = load(&store, &key).await.unwrap().unwrap();
    assert_eq!(stored.access_token().expose_secret(), "at-newer");
}

#[tokio::test]
async fn a_redis_slower_than_the_timeout_is_unavailable_and_retryable() {
    let Some(redis) = RedisServer::start_with_args(&["--enable-debug-command", "yes"]) else {
        return;
    };
    let store = RedisStore::builder(redis.url())
        .timeout(Duration::from_millis(200))
        .connect()
        .await
        .unwrap();
    support::stall(&redis, 1).await;
    let error = HeldAccount::acquire(&store, &authkit_core::AccountKey::new("demo:slow"))
        .await
        .unwrap_err();
    assert!(
        matches!(&error, StoreError::Unavailable { message, .. } if message.contains("timed out")),
        "{error:?}"
    );
    assert!(error.is_retryable());
}

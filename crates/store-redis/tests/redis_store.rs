//! The Redis store against a real `redis-server` (see `support`): sharing,
//! leases, fencing, restarts, credentials.

mod support;

use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use authkit_core::clock::ManualClock;
use authkit_core::grant::PasswordGrant;
use authkit_core::store::HeldAccount;
use authkit_core::{
    AccessToken, AccountKey, ClientAuth, Error, ExposeSecret, GenericProvider, Password,
    RefreshToken, StoreError, TokenEndpoint, TokenManager, TokenSet, TokenStore,
};
use authkit_store_redis::RedisStore;
use authkit_testkit::support::{load, remove, save};
use support::{RedisServer, auth_server, provider};
use time::OffsetDateTime;

const ROLE: &str = "AUTHKIT_REDIS_TEST_ROLE";

fn key() -> AccountKey {
    AccountKey::new("demo:alice")
}

fn set(name: &str) -> TokenSet {
    let now = OffsetDateTime::now_utc();
    TokenSet::new(
        AccessToken::new(format!("at-{name}")),
        now,
        now + time::Duration::hours(1),
    )
    .with_refresh_token(
        Some(RefreshToken::new(format!("rt-{name}"))),
        Some(now + time::Duration::days(7)),
    )
}

async fn store(redis: &RedisServer, lease: Duration) -> RedisStore {
    RedisStore::builder(redis.url())
        .lease(lease)
        .timeout(Duration::from_secs(2))
        .connect()
        .await
        .expect("connect")
}

/// Not a test of its own: the entry point of helper processes.
#[test]
fn helper_process() {
    let Ok(role) = std::env::var(ROLE) else {
        return;
    };
    let url = std::env::var("REDIS_URL").unwrap();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let code = runtime.block_on(async {
        let store = RedisStore::builder(url)
            .lease(Duration::from_millis(1500))
            .connect()
            .await
            .unwrap();
        match role.as_str() {
            "refresh" => {
                let endpoint = TokenEndpoint::builder(std::env::var("TOKEN_URL").unwrap())
                    .client_auth(ClientAuth::public("api"))
                    .build()
                    .unwrap();
                let provider = GenericProvider::new("demo:alice", endpoint)
                    .with_grant(PasswordGrant::new("alice", Password::new("pw")));
                match TokenManager::new(provider, store).access_token().await {
                    Ok(_) => 0,
                    Err(error) => {
                        println!("ERROR {error}");
                        1
                    }
                }
            }
            "hold-lock" => {
                let _lock = store.lock(&key()).await.unwrap();
                println!("LOCKED");
                tokio::time::sleep(Duration::from_secs(600)).await;
                0
            }
            _ => 2,
        }
    });
    std::process::exit(code);
}

fn helper(role: &str, redis: &RedisServer) -> Command {
    let mut command = Command::new(std::env::current_exe().unwrap());
    command
        .args([
            "--exact",
            "helper_process",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(ROLE, role)
        .env("REDIS_URL", redis.url())
        .stdout(Stdio::piped())
        .stderr(Stdio::null());
    command
}

#[tokio::test]
async fn sets_round_trip_and_expire_no_sooner_than_their_refresh_token() {
    let Some(redis) = RedisServer::start() else {
        return;
    };
    let store = store(&redis, Duration::from_secs(5)).await;
    assert!(load(&store, &key()).await.unwrap().is_none());
    save(&store, &key(), &set("a")).await.unwrap();
    let loaded = load(&store, &key()).await.unwrap().unwrap();
    assert_eq!(loaded.refresh_token().unwrap().expose_secret(), "rt-a");

    let client = redis::Client::open(redis.url()).unwrap();
    let mut raw = client.get_multiplexed_async_connection().await.unwrap();
    let ttl: i64 = redis::cmd("PTTL")
        .arg(store.tokens_key(&key()))
        .query_async(&mut raw)
        .await
        .unwrap();
    assert!(
        ttl > 7 * 86_400_000,
        "the set outlives its refresh token: {ttl} ms"
    );

    remove(&store, &key()).await.unwrap();
    assert!(load(&store, &key()).await.unwrap().is_none());
    assert!(
        !format!("{store:?}").contains("redis.sock"),
        "no URL in Debug"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn many_tasks_and_several_processes_make_one_refresh() {
    let Some(redis) = RedisServer::start() else {
        return;
    };
    let server = auth_server().await;
    let shared = store(&redis, Duration::from_secs(5)).await;

    // Tasks in this process, through two managers (two "hosts").
    let a = TokenManager::builder(provider(&server), shared.clone())
        .clock(server.shared_clock())
        .build();
    let b = TokenManager::builder(
        provider(&server),
        store(&redis, Duration::from_secs(5)).await,
    )
    .clock(server.shared_clock())
    .build();
    a.access_token().await.unwrap();
    server.clock().advance(time::Duration::hours(2));
    let callers: Vec<_> = (0..400)
        .map(|i| {
            let manager = if i % 2 == 0 { a.clone() } else { b.clone() };
            tokio::spawn(async move { manager.access_token().await })
        })
        .collect();
    for caller in callers {
        caller.await.unwrap().unwrap();
    }
    assert_eq!(
        server.log().count("refresh_token"),
        1,
        "one refresh for 400 tasks on two managers"
    );

    // Processes: make the stored set look expired, start them together.
    let account = a.account_key().clone();
    let stored = load(&shared, &account).await.unwrap().unwrap();
    let past = OffsetDateTime::now_utc() - time::Duration::hours(2);
    let expired = TokenSet::new(
        stored.access_token().clone(),
        past,
        past + time::Duration::hours(1),
    )
    .with_refresh_token(stored.refresh_token().cloned(), None)
    .with_binding(stored.binding().expect("bound").clone());
    save(&shared, &account, &expired).await.unwrap();
    let refreshers = (0..4)
        .map(|_| {
            let mut command = helper("refresh", &redis);
            command.env("TOKEN_URL", server.token_url());
            command
        })
        .collect();
    support::all_succeed(refreshers, "a refreshing process").await;
    let log = server.log();
    assert_eq!(
        log.count("refresh_token"),
        2,
        "one more refresh for 4 processes"
    );
    assert_eq!(log.refusals("invalid_grant"), 0);
    assert!(!log.any_refresh_token_sent_twice());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_holder_killed_mid_refresh_frees_the_lock_after_its_lease() {
    let Some(redis) = RedisServer::start() else {
        return;
    };
    let store = store(&redis, Duration::from_millis(1500)).await;
    let mut child = helper("hold-lock", &redis).spawn().unwrap();
    let stdout = child.stdout.take().unwrap();
    tokio::task::spawn_blocking(move || {
        use std::io::BufRead;
        let mut lines = std::io::BufReader::new(stdout).lines();
        assert!(lines.any(|l| l.map(|l| l.contains("LOCKED")).unwrap_or(false)));
    })
    .await
    .unwrap();

    // Held and renewed: another holder waits.
    let waiting = tokio::time::timeout(Duration::from_millis(2500), store.lock(&key())).await;
    assert!(
        waiting.is_err(),
        "the lease is renewed while its holder lives"
    );

    child.kill().unwrap(); // SIGKILL: no release
    child.wait().unwrap();
    let started = Instant::now();
    let lock = tokio::time::timeout(Duration::from_secs(5), store.lock(&key())).await;
    assert!(lock.is_ok(), "the lease lapsed and freed the lock");
    assert!(
        started.elapsed() < Duration::from_secs(4),
        "freed within about one lease: {:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn a_lapsed_lease_fences_off_the_late_save() {
    let Some(redis) = RedisServer::start() else {
        return;
    };
    let store = store(&redis, Duration::from_secs(5)).await;
    let mut late = HeldAccount::acquire(&store, &key()).await.unwrap();
    // The lease lapses while its holder is paused (simulated by deleting it),
    // and another holder takes the account and saves newer tokens.
    let client = redis::Client::open(redis.url()).unwrap();
    let mut raw = client.get_multiplexed_async_connection().await.unwrap();
    let _: i64 = redis::cmd("DEL")
        .arg(store.lock_key(&key()))
        .query_async(&mut raw)
        .await
        .unwrap();
    let mut current = HeldAccount::acquire(&store, &key()).await.unwrap();
    current
        .save(&set("newer"), OffsetDateTime::now_utc())
        .await
        .unwrap();

    let refused = late
        .save(&set("older"), OffsetDateTime::now_utc())
        .await
        .unwrap_err();
    assert!(
        matches!(refused, StoreError::LockLost { .. }),
        "{refused:?}"
    );
    let refused_removal = late.remove().await.unwrap_err();
    assert!(
        matches!(refused_removal, StoreError::LockLost { .. }),
        "a sign-out after the lease was lost is fenced like a save: {refused_removal:?}"
    );
    current.release().await.unwrap();
    let stored = load(&store, &key()).await.unwrap().unwrap();
    assert_eq!(
        stored.access_token().expose_secret(),
        "at-newer",
        "the newer tokens survive"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn while_redis_is_down_a_valid_token_is_served_and_errors_are_classified() {
    let Some(mut redis) = RedisServer::start() else {
        return;
    };
    let server = auth_server().await;
    let clock: ManualClock = server.clock().clone();
    let manager = TokenManager::builder(
        provider(&server),
        store(&redis, Duration::from_secs(5)).await,
    )
    .clock(Arc::new(clock.clone()))
    .build();
    let first = manager.access_token().await.unwrap();

    redis.stop();
    // Still valid: served from memory, no store touched.
    assert!(manager.access_token().await.unwrap().same_secret(&first));
    clock.advance(time::Duration::minutes(58));
    assert!(
        manager.access_token().await.unwrap().same_secret(&first),
        "inside the early window, still served"
    );

    clock.advance(time::Duration::minutes(3));
    let error = manager.access_token().await.unwrap_err();
    assert!(
        matches!(&error, Error::Store(StoreError::Unavailable { .. })),
        "{error:?}"
    );
    assert!(error.is_retryable());

    redis.restart();
    clock.advance(time::Duration::minutes(2));
    let after = manager.access_token().await.unwrap();
    assert!(!after.same_secret(&first));
    assert!(server.is_access_token_active(&after));
    assert_eq!(
        server.log().count("refresh_token"),
        1,
        "refreshed with the refresh token kept in memory"
    );
}

#[tokio::test]
async fn unreadable_data_is_set_aside() {
    let Some(redis) = RedisServer::start() else {
        return;
    };
    let store = store(&redis, Duration::from_secs(5)).await;
    let client = redis::Client::open(redis.url()).unwrap();
    let mut raw = client.get_multiplexed_async_connection().await.unwrap();
    let _: () = redis::cmd("SET")
        .arg(store.tokens_key(&key()))
        .arg("{\"version\": 9}")
        .query_async(&mut raw)
        .await
        .unwrap();
    let error = load(&store, &key()).await.unwrap_err();
    let StoreError::Corrupt { moved_to, .. } = &error else {
        panic!("{error:?}")
    };
    let kept: String = redis::cmd("GET")
        .arg(moved_to)
        .query_async(&mut raw)
        .await
        .unwrap();
    assert_eq!(kept, "{\"version\": 9}");
    assert!(load(&store, &key()).await.unwrap().is_none());
}

#[tokio::test]
async fn credentials_are_used_and_never_shown() {
    let Some(redis) = RedisServer::start_with_password(Some("redis-secret-pw")) else {
        return;
    };
    let good = RedisStore::builder(redis.url()).connect().await.unwrap();
    save(&good, &key(), &set("a")).await.unwrap();
    let error = RedisStore::builder(redis.url_with_password("wrong-secret-pw"))
        .connect()
        .await
        .unwrap_err();
    let text = format!("{error:?} {error}");
    assert!(
        !text.contains("wrong-secret-pw") && !text.contains("redis-secret-pw"),
        "{text}"
    );
    assert!(matches!(error, StoreError::Unavailable { .. }));
    let invalid = RedisStore::builder("rediss://user:pass-in-url@")
        .connect()
        .await
        .unwrap_err();
    assert!(!format!("{invalid:?} {invalid}").contains("pass-in-url"));
}

#[tokio::test]
async fn a_sealed_redis_store_keeps_no_token_in_plain_text() {
    let Some(redis) = RedisServer::start() else {
        return;
    };
    let plain = store(&redis, Duration::from_secs(5)).await;
    let sealed = authkit_core::store::SealedStore::new(
        plain.clone(),
        authkit_core::store::SealingKey::generate("k1").unwrap(),
    );
    save(&sealed, &key(), &set("sealed")).await.unwrap();
    let client = redis::Client::open(redis.url()).unwrap();
    let mut raw = client.get_multiplexed_async_connection().await.unwrap();
    let bytes: Vec<u8> = redis::cmd("GET")
        .arg(plain.tokens_key(&key()))
        .query_async(&mut raw)
        .await
        .unwrap();
    assert!(bytes.starts_with(b"AKSEAL1\nk1\n"));
    assert!(!String::from_utf8_lossy(&bytes).contains("at-sealed"));
    let back = load(&sealed, &key()).await.unwrap().unwrap();
    assert_eq!(back.access_token().expose_secret(), "at-sealed");
}

#[tokio::test]
async fn a_lone_server_cannot_confirm_replicas_and_says_so() {
    let Some(redis) = RedisServer::start() else {
        return;
    };
    let strict = RedisStore::builder(redis.url())
        .wait_for_replicas(1, Duration::from_millis(50))
        .on_unconfirmed(authkit_store_redis::Unconfirmed::Fail)
        .connect()
        .await
        .unwrap();
    let error = match strict.lock(&key()).await {
        Ok(_) => panic!("a lease no replica confirmed was used"),
        Err(error) => error,
    };
    assert!(
        matches!(
            error,
            StoreError::NotReplicated {
                wanted: 1,
                confirmed: 0,
                ..
            }
        ),
        "{error:?}"
    );
    assert!(!error.is_retryable());
    // The lease was given back: a store that does not wait takes it at once.
    let plain = store(&redis, Duration::from_secs(5)).await;
    let lock = tokio::time::timeout(Duration::from_secs(1), plain.lock(&key())).await;
    assert!(lock.is_ok(), "the unconfirmed lease was released");
    drop(lock);

    let lenient = RedisStore::builder(redis.url())
        .wait_for_replicas(1, Duration::from_millis(50))
        .connect()
        .await
        .unwrap();
    save(&lenient, &key(), &set("warned")).await.unwrap();
    assert_eq!(lenient.unconfirmed_writes(), 2, "the lease and the save");
    assert_eq!(plain.unconfirmed_writes(), 0);
}

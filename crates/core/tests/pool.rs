//! What `AccountPool` promises a service with many accounts: accounts made
//! on first use and evicted without loss, one request per account however
//! many callers, a bound on requests for all accounts together, no account
//! slowing the others, refreshes spread out, and metrics that do not grow
//! with the number of accounts. Against the test kit's `FakeIssuer`: the
//! network is not the point here, exact counts are.

use std::collections::{BTreeMap, HashSet};
use std::sync::{Arc, OnceLock};
use std::time::Duration as StdDuration;

use authkit_core::clock::{Clock, ManualClock};
use authkit_core::error::{ConfigError, ConfigErrorKind};
use authkit_core::revocation::Revocation;
use authkit_core::{AccountKey, AccountPool, Error, ExposeSecret, MemoryStore, TokenProvider};
use authkit_testkit::FakeIssuer;
use authkit_testkit::support::{load, save};
use metrics_util::debugging::{DebuggingRecorder, Snapshotter};
use time::Duration;

struct Fixture {
    issuer: FakeIssuer,
    clock: ManualClock,
    store: MemoryStore,
}

impl Fixture {
    fn new() -> Self {
        Self {
            issuer: FakeIssuer::default(),
            clock: ManualClock::starting_now(),
            store: MemoryStore::new(),
        }
    }

    fn pool(&self) -> AccountPool {
        self.pool_with_limit(authkit_core::pool::DEFAULT_MAX_CONCURRENT_REQUESTS)
    }

    fn pool_with_limit(&self, limit: usize) -> AccountPool {
        AccountPool::builder(self.store.clone())
            .clock(Arc::new(self.clock.clone()))
            .max_concurrent_requests(limit)
            .build()
    }

    /// A pool holding `count` accounts, `user-0` … under keys `tenant-0` ….
    fn pool_of(&self, count: usize, limit: usize) -> AccountPool {
        let pool = self.pool_with_limit(limit);
        for i in 0..count {
            pool.add(
                format!("tenant-{i}"),
                self.issuer.account(&format!("user-{i}")),
            )
            .unwrap();
        }
        pool
    }
}

async fn token(pool: &AccountPool, key: &str) -> String {
    pool.access_token(key)
        .await
        .unwrap()
        .expose_secret()
        .to_owned()
}

fn config_kind(error: &Error) -> Option<ConfigErrorKind> {
    match error {
        Error::Config(config) => Some(config.kind()),
        _ => None,
    }
}

#[tokio::test]
async fn an_account_is_made_on_first_use_and_then_served_from_memory() {
    let f = Fixture::new();
    let pool = f.pool_of(3, 4);
    assert_eq!(f.issuer.requests(), 0, "adding fetches nothing");
    assert_eq!((pool.len(), pool.in_memory()), (3, 0));

    assert_eq!(token(&pool, "tenant-1").await, "at-1-user-1");
    for _ in 0..10 {
        assert_eq!(token(&pool, "tenant-1").await, "at-1-user-1");
        f.clock.advance(Duration::minutes(1));
    }
    assert_eq!(f.issuer.requests(), 1);
    assert_eq!(pool.in_memory(), 1, "only the account used is in memory");
    let stored = load(&f.store, f.issuer.account("user-1").account_key())
        .await
        .unwrap();
    assert_eq!(
        stored.unwrap().access_token().expose_secret(),
        "at-1-user-1"
    );
}

#[tokio::test]
async fn an_evicted_account_comes_back_from_the_store_without_a_request() {
    let f = Fixture::new();
    let pool = f.pool_of(2, 4);
    let first = token(&pool, "tenant-0").await;

    assert!(pool.evict("tenant-0"));
    assert_eq!(pool.in_memory(), 0);
    assert!(
        pool.contains("tenant-0"),
        "evicted from memory, not removed"
    );
    assert!(!pool.evict("tenant-0"), "nothing left to evict");
    assert_eq!(pool.expires_at("tenant-0"), None);

    assert_eq!(token(&pool, "tenant-0").await, first);
    assert_eq!(f.issuer.requests(), 1, "the token came back from the store");
}

#[tokio::test]
async fn evict_idle_drops_only_the_accounts_unused_for_that_long() {
    let f = Fixture::new();
    let pool = f.pool_of(3, 4);
    for key in ["tenant-0", "tenant-1", "tenant-2"] {
        token(&pool, key).await;
    }
    f.clock.advance(Duration::minutes(10));
    token(&pool, "tenant-1").await;

    assert_eq!(pool.evict_idle(StdDuration::from_secs(5 * 60)), 2);
    assert_eq!(pool.in_memory(), 1);
    assert!(pool.expires_at("tenant-1").is_some());
    assert_eq!(pool.len(), 3);
    assert_eq!(pool.evict_idle(StdDuration::from_secs(5 * 60)), 0);
}

#[tokio::test]
async fn two_pools_with_the_same_key_serve_each_its_own_account() {
    let f = Fixture::new();
    let other_issuer = FakeIssuer::default();
    let first = f.pool();
    let second = AccountPool::builder(MemoryStore::new())
        .clock(Arc::new(f.clock.clone()))
        .build();
    first.add("tenant", f.issuer.account("alice")).unwrap();
    second.add("tenant", other_issuer.account("bob")).unwrap();
    for _ in 0..3 {
        assert!(token(&first, "tenant").await.ends_with("-alice"));
        assert!(token(&second, "tenant").await.ends_with("-bob"));
    }
}

#[tokio::test]
async fn a_key_removed_and_added_again_serves_the_new_account_at_once() {
    let f = Fixture::new();
    let pool = f.pool();
    pool.add("tenant", f.issuer.account("alice")).unwrap();
    for _ in 0..3 {
        assert!(token(&pool, "tenant").await.ends_with("-alice"));
    }
    let _ = pool.remove("tenant").await.unwrap();
    pool.add("tenant", f.issuer.account("bob")).unwrap();
    assert!(token(&pool, "tenant").await.ends_with("-bob"));

    assert!(pool.evict("tenant"));
    pool.invalidate_token("tenant", &pool.access_token("tenant").await.unwrap());
    let after = token(&pool, "tenant").await;
    assert!(after.ends_with("-bob"), "{after}");
}

#[tokio::test]
async fn an_account_whose_manager_a_caller_holds_is_not_evicted() {
    let f = Fixture::new();
    let pool = f.pool_of(1, 4);
    let manager = pool.manager("tenant-0").unwrap();
    manager.access_token().await.unwrap();

    assert!(!pool.evict("tenant-0"));
    assert_eq!(pool.evict_idle(StdDuration::ZERO), 0);
    drop(manager);
    assert!(pool.evict("tenant-0"));
}

#[tokio::test]
async fn an_unknown_key_without_a_factory_is_a_clear_error() {
    let f = Fixture::new();
    let pool = f.pool_of(1, 4);
    let error = pool.access_token("tenant-9").await.unwrap_err();
    assert_eq!(config_kind(&error), Some(ConfigErrorKind::UnknownAccount));
    assert!(error.to_string().contains("tenant-9"), "{error}");
    assert!(!pool.contains("tenant-9"));
    assert_eq!(f.issuer.requests(), 0);
}

#[tokio::test]
async fn a_factory_makes_accounts_on_first_use_and_its_refusal_is_returned() {
    let f = Fixture::new();
    let issuer = f.issuer.clone();
    let pool = AccountPool::builder(f.store.clone())
        .clock(Arc::new(f.clock.clone()))
        .factory(
            move |key: &AccountKey| match key.as_str().strip_prefix("tenant-") {
                Some(user) => Ok(issuer.account(user)),
                None => Err(Error::Config(ConfigError::new(
                    ConfigErrorKind::UnknownAccount,
                    format!("no tenant {key} in the database"),
                ))),
            },
        )
        .build();
    assert!(pool.is_empty());

    assert_eq!(token(&pool, "tenant-acme").await, "at-1-acme");
    assert!(pool.contains("tenant-acme"));
    let error = pool.access_token("nobody").await.unwrap_err();
    assert_eq!(config_kind(&error), Some(ConfigErrorKind::UnknownAccount));
    assert!(!pool.contains("nobody"));

    // An account the factory made is dropped whole when evicted: the
    // factory makes it again, and its tokens come from the store.
    assert!(pool.evict("tenant-acme"));
    assert!(!pool.contains("tenant-acme"));
    assert_eq!(token(&pool, "tenant-acme").await, "at-1-acme");
    assert_eq!(f.issuer.requests(), 1);
}

#[tokio::test]
async fn adding_a_key_again_with_another_provider_is_a_conflict() {
    let f = Fixture::new();
    let pool = f.pool();
    pool.add("acme", f.issuer.account("alice")).unwrap();
    pool.add("acme", f.issuer.account("alice"))
        .expect("the same provider again keeps the account");
    assert_eq!(token(&pool, "acme").await, "at-1-alice");

    let error = pool.add("acme", f.issuer.account("bob")).unwrap_err();
    assert_eq!(config_kind(&error), Some(ConfigErrorKind::AccountConflict));
    let message = error.to_string();
    assert!(
        message.contains("acme") && message.contains("fake:alice") && message.contains("fake:bob"),
        "the error names the key and both accounts: {message}"
    );
    let other_client = pool
        .add(
            "acme",
            f.issuer.account_of_client("alice", "another-client"),
        )
        .unwrap_err();
    assert_eq!(
        config_kind(&other_client),
        Some(ConfigErrorKind::AccountConflict)
    );
    assert_eq!(
        token(&pool, "acme").await,
        "at-1-alice",
        "the first is kept"
    );
    assert_eq!(pool.len(), 1);
}

#[tokio::test]
async fn removing_an_account_signs_it_out() {
    let f = Fixture::new();
    let pool = f.pool_of(2, 4);
    token(&pool, "tenant-0").await;
    token(&pool, "tenant-1").await;

    let signed_out = pool.remove("tenant-0").await.unwrap();
    assert!(matches!(signed_out.revocation(), Revocation::Revoked));
    assert_eq!(f.issuer.revoked(), ["user-0"]);
    let key = f.issuer.account("user-0").account_key().clone();
    assert!(
        load(&f.store, &key).await.unwrap().is_none(),
        "gone from the store"
    );
    assert!(!pool.contains("tenant-0"));
    let error = pool.access_token("tenant-0").await.unwrap_err();
    assert_eq!(config_kind(&error), Some(ConfigErrorKind::UnknownAccount));

    assert_eq!(
        token(&pool, "tenant-1").await,
        "at-2-user-1",
        "the others stay"
    );
    pool.add("tenant-0", f.issuer.account("user-0")).unwrap();
    assert_eq!(
        token(&pool, "tenant-0").await,
        "at-3-user-0",
        "a new sign-in"
    );
}

#[tokio::test]
async fn removing_an_evicted_account_revokes_what_the_store_holds() {
    let f = Fixture::new();
    let pool = f.pool_of(1, 4);
    token(&pool, "tenant-0").await;
    assert!(pool.evict("tenant-0"));

    let signed_out = pool.remove("tenant-0").await.unwrap();
    assert!(matches!(signed_out.revocation(), Revocation::Revoked));
    assert_eq!(f.issuer.revoked(), ["user-0"]);
    let key = f.issuer.account("user-0").account_key().clone();
    assert!(load(&f.store, &key).await.unwrap().is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_hundred_callers_on_one_expired_account_make_one_request() {
    let f = Fixture::new();
    let pool = f.pool_of(10, 4);
    f.issuer.set_delay(StdDuration::from_millis(20));
    token(&pool, "tenant-3").await;
    f.clock.advance(Duration::hours(2));

    let callers: Vec<_> = (0..100)
        .map(|_| {
            let pool = pool.clone();
            tokio::spawn(async move { token(&pool, "tenant-3").await })
        })
        .collect();
    for caller in callers {
        assert_eq!(caller.await.unwrap(), "at-2-user-3");
    }
    assert_eq!(
        f.issuer.requests_for("user-3"),
        2,
        "one sign-in, one refresh"
    );
    assert_eq!(f.issuer.peak_in_flight_per_account(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn token_requests_for_all_accounts_together_never_exceed_the_bound() {
    let f = Fixture::new();
    let pool = f.pool_of(200, 4);
    f.issuer.set_delay(StdDuration::from_millis(5));

    let callers: Vec<_> = (0..200)
        .map(|i| {
            let pool = pool.clone();
            tokio::spawn(async move { token(&pool, &format!("tenant-{i}")).await })
        })
        .collect();
    for (i, caller) in callers.into_iter().enumerate() {
        assert!(caller.await.unwrap().ends_with(&format!("-user-{i}")));
    }
    assert_eq!(f.issuer.requests(), 200);
    assert_eq!(
        f.issuer.peak_in_flight(),
        4,
        "200 sign-ins at once, at most 4 in flight"
    );
    assert_eq!(pool.available_request_permits(), 4, "every permit returned");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_account_whose_server_hangs_does_not_stop_the_others() {
    let f = Fixture::new();
    let pool = f.pool_of(51, 2);
    f.issuer.hang("user-50");
    let stuck = {
        let pool = pool.clone();
        tokio::spawn(async move { pool.access_token("tenant-50").await })
    };
    while f.issuer.in_flight() == 0 {
        tokio::time::sleep(StdDuration::from_millis(1)).await;
    }

    let others = async {
        for i in 0..50 {
            token(&pool, &format!("tenant-{i}")).await;
        }
    };
    tokio::time::timeout(StdDuration::from_secs(30), others)
        .await
        .expect("fifty accounts served past the one that hangs");
    assert_eq!(
        pool.available_request_permits(),
        1,
        "the hung one holds one"
    );
    stuck.abort();
}

#[tokio::test]
async fn an_account_that_is_refused_remembers_it_and_does_not_queue_again() {
    let f = Fixture::new();
    let pool = f.pool_of(2, 1);
    f.issuer.refuse("user-0");
    for _ in 0..5 {
        let error = pool.access_token("tenant-0").await.unwrap_err();
        assert!(matches!(error, Error::Refused(_)), "{error:?}");
    }
    assert_eq!(
        f.issuer.requests_for("user-0"),
        1,
        "the refusal is remembered for the failure cooldown"
    );
    assert_eq!(token(&pool, "tenant-1").await, "at-1-user-1");
    assert_eq!(pool.available_request_permits(), 1);
}

#[tokio::test]
async fn expiry_is_a_query_on_the_pool() {
    let f = Fixture::new();
    let pool = f.pool_of(3, 4);
    let start = f.clock.now();
    token(&pool, "tenant-0").await;
    f.clock.advance(Duration::minutes(30));
    token(&pool, "tenant-1").await;

    let expiry = pool.expires_at("tenant-0").unwrap();
    assert_eq!(expiry, start + Duration::hours(1));
    assert_eq!(pool.expires_at("tenant-2"), None, "not used yet");
    let soon: Vec<_> = pool
        .expiring_before(start + Duration::minutes(61))
        .into_iter()
        .map(|k| k.as_str().to_owned())
        .collect();
    assert_eq!(soon, ["tenant-0"]);
    assert_eq!(pool.expiring_before(start + Duration::hours(2)).len(), 2);
}

#[tokio::test]
async fn an_invalidated_token_is_replaced_on_the_next_call() {
    let f = Fixture::new();
    let pool = f.pool_of(1, 4);
    let first = pool.access_token("tenant-0").await.unwrap();
    pool.invalidate_token("tenant-0", &first);
    assert_eq!(token(&pool, "tenant-0").await, "at-2-user-0");
}

/// How many refreshes were due, at every second of a stretch of the manual
/// clock, when every account was used once per second.
async fn refreshes_per_second(
    f: &Fixture,
    pool: &AccountPool,
    keys: &[String],
    seconds: i64,
) -> BTreeMap<i64, usize> {
    let mut per_second = BTreeMap::new();
    for second in 0..seconds {
        let before = f.issuer.requests();
        for key in keys {
            pool.access_token(key).await.expect("a usable token");
        }
        // Let the background refreshes the calls started land.
        while f.issuer.in_flight() > 0
            || pool.available_request_permits()
                < authkit_core::pool::DEFAULT_MAX_CONCURRENT_REQUESTS
        {
            tokio::time::sleep(StdDuration::from_millis(1)).await;
        }
        tokio::time::sleep(StdDuration::from_millis(1)).await;
        let refreshed = f.issuer.requests() - before;
        if refreshed > 0 {
            per_second.insert(second, refreshed);
        }
        f.clock.advance(Duration::seconds(1));
    }
    per_second
}

#[tokio::test]
async fn accounts_expiring_in_the_same_second_refresh_spread_over_minutes() {
    let f = Fixture::new();
    let pool = f.pool();
    let issued_at = f.clock.now();
    let mut keys = Vec::new();
    for i in 0..1000 {
        let account = f.issuer.account(&format!("user-{i}"));
        let set = f.issuer.issued_set(&account, issued_at);
        save(&f.store, account.account_key(), &set).await.unwrap();
        pool.add(format!("tenant-{i}"), account).unwrap();
        keys.push(format!("tenant-{i}"));
    }
    let expiry = issued_at + Duration::hours(1);
    // From ten minutes before the common expiry to its last usable second.
    f.clock.advance(Duration::minutes(50));
    let per_second = refreshes_per_second(&f, &pool, &keys, 10 * 60 - 10).await;

    assert_eq!(f.issuer.requests(), 1000, "each account refreshed once");
    assert!(
        pool.expiring_before(expiry + Duration::seconds(1))
            .is_empty(),
        "every account was refreshed before the old tokens expired"
    );
    let first = *per_second.keys().next().unwrap();
    let last = *per_second.keys().last().unwrap();
    let busiest = per_second.values().max().copied().unwrap();
    // Refreshes fall between nine and five minutes before expiry (the
    // five-minute margin and the pool's four-minute spread).
    assert!(first >= 60 && last <= 5 * 60, "{first}..{last}");
    assert!(last - first >= 3 * 60, "spread over {first}..{last}");
    assert!(
        busiest <= 40,
        "at most {busiest} of 1000 in one second, about 4 expected"
    );
    assert!(f.issuer.peak_in_flight() <= authkit_core::pool::DEFAULT_MAX_CONCURRENT_REQUESTS);
}

/// One recorder for the whole binary (a recorder is process-wide).
fn snapshotter() -> &'static Snapshotter {
    static SNAPSHOTTER: OnceLock<Snapshotter> = OnceLock::new();
    SNAPSHOTTER.get_or_init(|| {
        let recorder = DebuggingRecorder::new();
        let snapshotter = recorder.snapshotter();
        recorder.install().expect("the only recorder");
        snapshotter
    })
}

#[tokio::test]
async fn metrics_labels_never_carry_account_keys_and_do_not_grow_with_accounts() {
    let snapshotter = snapshotter();
    let f = Fixture::new();
    let pool = f.pool();
    let mut secrets = Vec::new();
    for i in 0..200 {
        // Each tenant with its own client: a binding fingerprint each.
        let account = f
            .issuer
            .account_of_client(&format!("user-{i}"), &format!("client-{i}"));
        secrets.push(format!("user-{i}"));
        secrets.push(format!("client-{i}"));
        pool.add(format!("tenant-{i}"), account).unwrap();
        token(&pool, &format!("tenant-{i}")).await;
    }
    f.clock.advance(Duration::hours(2));
    for i in 0..200 {
        token(&pool, &format!("tenant-{i}")).await;
    }

    let mut accounts = HashSet::new();
    for (key, _, _, _) in snapshotter.snapshot().into_vec() {
        let key = key.key();
        assert_ne!(
            key.name(),
            authkit_core::telemetry::TOKEN_EXPIRY,
            "no per-account expiry gauge in a pool"
        );
        for label in key.labels() {
            for secret in &secrets {
                assert!(
                    !label.value().contains(&format!("{secret}#"))
                        && !label.value().ends_with(secret.as_str())
                        && !label.value().contains("tenant-"),
                    "{} = {}",
                    label.key(),
                    label.value()
                );
            }
            if label.key() == "account" {
                accounts.insert(label.value().to_owned());
            }
        }
    }
    assert_eq!(
        accounts,
        HashSet::from(["fake".to_owned()]),
        "one account label for 200 accounts"
    );
}

#[tokio::test]
async fn a_pool_and_its_errors_show_no_tokens() {
    let f = Fixture::new();
    let pool = f.pool_of(2, 4);
    let secret = token(&pool, "tenant-0").await;
    let shown = format!("{pool:?}");
    assert!(!shown.contains(&secret), "{shown}");
    assert!(shown.contains("accounts: 2"), "{shown}");
}

//! The Redis store on a real Redis Cluster (three primaries with one replica
//! each, see `support::cluster`): an account lives in one slot, a fleet of
//! processes makes one refresh per expiry, a primary killed mid-run is
//! replaced and no spent refresh token is served, and a write the replicas
//! did not confirm is reported rather than pretended.

mod support;

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use authkit_core::store::HeldAccount;
use authkit_core::{
    AccessToken, AccountKey, Error, ExposeSecret, RefreshToken, StoreError, TokenManager, TokenSet,
    TokenStore,
};
use authkit_store_redis::{RedisStore, Unconfirmed};
use authkit_testkit::support::{load, save};
use support::cluster::{NODE_TIMEOUT_MS, RedisCluster, cli};
use support::{auth_server, provider};
use time::OffsetDateTime;

const ROLE: &str = "AUTHKIT_REDIS_CLUSTER_TEST_ROLE";
/// Tasks per helper process.
const TASKS: usize = 100;

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

async fn cluster_store(cluster: &RedisCluster) -> RedisStore {
    RedisStore::cluster_builder(cluster.urls())
        .lease(Duration::from_secs(5))
        .timeout(Duration::from_secs(2))
        .connect()
        .await
        .expect("connect to the cluster")
}

/// Not a test of its own: the entry point of helper processes.
#[test]
fn cluster_helper_process() {
    let Ok(role) = std::env::var(ROLE) else {
        return;
    };
    let urls: Vec<String> = std::env::var("CLUSTER_URLS")
        .unwrap()
        .split(',')
        .map(str::to_owned)
        .collect();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let code = runtime.block_on(async {
        let store = RedisStore::cluster_builder(urls)
            .lease(Duration::from_secs(5))
            .connect()
            .await
            .unwrap();
        match role.as_str() {
            "refresh" => {
                let endpoint =
                    authkit_core::TokenEndpoint::builder(std::env::var("TOKEN_URL").unwrap())
                        .client_auth(authkit_core::ClientAuth::public("api"))
                        .build()
                        .unwrap();
                let provider = authkit_core::GenericProvider::new("demo:alice", endpoint)
                    .with_grant(authkit_core::grant::PasswordGrant::new(
                        "alice",
                        authkit_core::Password::new("pw"),
                    ));
                let manager = TokenManager::new(provider, store);
                let callers: Vec<_> = (0..TASKS)
                    .map(|_| {
                        let manager = manager.clone();
                        tokio::spawn(async move { manager.access_token().await })
                    })
                    .collect();
                let mut failed = 0;
                for caller in callers {
                    if let Err(error) = caller.await.unwrap() {
                        println!("ERROR {error}");
                        failed += 1;
                    }
                }
                i32::from(failed > 0)
            }
            _ => 2,
        }
    });
    std::process::exit(code);
}

#[tokio::test]
async fn an_account_lives_in_one_slot_and_the_fenced_scripts_run_on_a_cluster() {
    let Some(cluster) = RedisCluster::start() else {
        return;
    };
    let store = cluster_store(&cluster).await;
    assert_eq!(
        cluster.slot(&store.tokens_key(&key())),
        cluster.slot(&store.lock_key(&key())),
        "the set and its lease share a slot"
    );
    assert!(store.tokens_key(&key()).contains("{demo:alice}"));

    // Round trip through whichever primary serves the slot.
    save(&store, &key(), &set("a")).await.unwrap();
    let loaded = load(&store, &key()).await.unwrap().unwrap();
    assert_eq!(loaded.access_token().expose_secret(), "at-a");

    // The fence holds in cluster mode: a holder whose lease lapsed cannot
    // overwrite its successor's save.
    let mut late = HeldAccount::acquire(&store, &key()).await.unwrap();
    let primary = cluster.primary_for(&store.lock_key(&key()));
    cli(primary, &["DEL", &store.lock_key(&key())]);
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
    assert!(matches!(
        late.remove().await.unwrap_err(),
        StoreError::LockLost { .. }
    ));
    current.release().await.unwrap();
    let stored = load(&store, &key()).await.unwrap().unwrap();
    assert_eq!(stored.access_token().expose_secret(), "at-newer");

    // Unreadable data is set aside in the same slot, kept.
    cli(
        primary,
        &["SET", &store.tokens_key(&key()), "{\"version\": 9}"],
    );
    let error = load(&store, &key()).await.unwrap_err();
    let StoreError::Corrupt { moved_to, .. } = &error else {
        panic!("{error:?}")
    };
    assert_eq!(cli(primary, &["GET", moved_to]).trim(), "{\"version\": 9}");
    assert!(load(&store, &key()).await.unwrap().is_none());

    // Sealing works over the cluster as over one node.
    let sealed = authkit_core::store::SealedStore::new(
        store.clone(),
        authkit_core::store::SealingKey::generate("k1").unwrap(),
    );
    save(&sealed, &key(), &set("sealed")).await.unwrap();
    let raw = cli(primary, &["GET", &store.tokens_key(&key())]);
    assert!(raw.starts_with("AKSEAL1"), "{raw}");
    assert!(!raw.contains("at-sealed"));
    assert_eq!(
        load(&sealed, &key())
            .await
            .unwrap()
            .unwrap()
            .access_token()
            .expose_secret(),
        "at-sealed"
    );
    assert!(
        !format!("{store:?}").contains("127.0.0.1"),
        "no URL in Debug"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn four_processes_of_a_hundred_tasks_make_one_refresh_per_round() {
    let Some(cluster) = RedisCluster::start() else {
        return;
    };
    let server = auth_server().await;
    let store = cluster_store(&cluster).await;
    // Sign in once; each round then starts from an expired stored set.
    let manager = TokenManager::new(provider(&server), store.clone());
    manager.access_token().await.unwrap();
    let account = manager.account_key().clone();
    const ROUNDS: usize = 3;
    for round in 1..=ROUNDS {
        expire_stored_set(&store, &account).await;
        let refreshers = (0..4)
            .map(|_| {
                let mut command = helper("refresh", &cluster);
                command.env("TOKEN_URL", server.token_url());
                command
            })
            .collect();
        support::all_succeed(refreshers, &format!("round {round}")).await;
        assert_eq!(
            server.log().count("refresh_token"),
            round,
            "one refresh in round {round} for 4 processes × {TASKS} tasks"
        );
    }
    let log = server.log();
    assert_eq!(log.refusals("invalid_grant"), 0);
    assert!(!log.any_refresh_token_sent_twice());
}

/// A run of `rounds` rounds of 4 managers × 25 tasks at expiry, with the
/// primary serving the account killed (SIGKILL) just after round
/// `kill_in_round` starts; the killed node is restarted once its replica has
/// taken over. What happened, for the assertions and the figures.
struct FailoverRun {
    refreshes: usize,
    invalid_grants: usize,
    refresh_token_reused: bool,
    failover: Duration,
    recovery: Duration,
    unconfirmed_before_rejoin: u64,
    unconfirmed_after_rejoin: u64,
}

async fn failover_run(wait_for_replicas: bool) -> Option<FailoverRun> {
    let mut cluster = RedisCluster::start()?;
    let server = auth_server().await;
    let mut stores = Vec::new();
    for _ in 0..4 {
        let builder = RedisStore::cluster_builder(cluster.urls())
            .lease(Duration::from_secs(5))
            .timeout(Duration::from_secs(1));
        let builder = if wait_for_replicas {
            builder.wait_for_replicas(1, Duration::from_millis(500))
        } else {
            builder
        };
        stores.push(builder.connect().await.unwrap());
    }
    let managers: Vec<_> = stores
        .iter()
        .map(|store| {
            TokenManager::builder(provider(&server), store.clone())
                .clock(server.shared_clock())
                // The test's clock stands still while the cluster fails over;
                // callers pace their own retries instead.
                .refresh_policy(authkit_core::manager::RefreshPolicy {
                    failure_cooldown: Duration::ZERO,
                    ..Default::default()
                })
                .build()
        })
        .collect();
    managers[0].access_token().await.unwrap();
    let tokens_key = stores[0].tokens_key(managers[0].account_key());

    const ROUNDS: usize = 6;
    const KILL_IN_ROUND: usize = 3;
    let mut failover = Duration::ZERO;
    let mut recovery = Duration::ZERO;
    let mut unconfirmed_before_rejoin = 0;
    for round in 1..=ROUNDS {
        server.clock().advance(time::Duration::hours(2));
        let callers: Vec<_> = (0..100)
            .map(|i| {
                let manager = managers[i % managers.len()].clone();
                tokio::spawn(async move {
                    // A caller retries what is retryable, as a service would.
                    let deadline = Instant::now() + Duration::from_secs(30);
                    loop {
                        match manager.access_token().await {
                            Ok(token) => return Ok(token),
                            Err(error) if error.is_retryable() && Instant::now() < deadline => {
                                tokio::time::sleep(Duration::from_millis(200)).await;
                            }
                            Err(error) => return Err(error),
                        }
                    }
                })
            })
            .collect();
        if round == KILL_IN_ROUND {
            let primary = cluster.primary_for(&tokens_key);
            cluster.kill(primary);
            let killed = Instant::now();
            failover = tokio::task::block_in_place(|| {
                cluster.wait_for_failover(&tokens_key, primary, Duration::from_secs(30))
            });
            for caller in callers {
                caller.await.unwrap().expect("the round recovers");
            }
            recovery = killed.elapsed();
            unconfirmed_before_rejoin = stores.iter().map(RedisStore::unconfirmed_writes).sum();
            // The old primary comes back as its successor's replica.
            tokio::task::block_in_place(|| {
                cluster.restart(primary);
                cluster.wait_until_healthy(Duration::from_secs(30));
                cluster.wait_until_replicated(&tokens_key, Duration::from_secs(30));
            });
        } else {
            for caller in callers {
                caller.await.unwrap().expect("every caller gets a token");
            }
        }
    }
    let log = server.log();
    Some(FailoverRun {
        refreshes: log.count("refresh_token"),
        invalid_grants: log.refusals("invalid_grant"),
        refresh_token_reused: log.any_refresh_token_sent_twice(),
        failover,
        recovery,
        unconfirmed_before_rejoin,
        unconfirmed_after_rejoin: stores
            .iter()
            .map(RedisStore::unconfirmed_writes)
            .sum::<u64>()
            - unconfirmed_before_rejoin,
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_primary_killed_mid_run_is_replaced_and_no_spent_refresh_token_is_served() {
    let Some(run) = failover_run(true).await else {
        return;
    };
    eprintln!(
        "with WAIT: failover {:?} (cluster-node-timeout {NODE_TIMEOUT_MS} ms), round recovered {:?} after the kill, {} refreshes, {} writes unconfirmed while the slot had no replica",
        run.failover, run.recovery, run.refreshes, run.unconfirmed_before_rejoin
    );
    assert_eq!(run.invalid_grants, 0, "no spent refresh token was sent");
    assert!(!run.refresh_token_reused);
    assert_eq!(
        run.refreshes, 6,
        "one refresh per round, the failover's too"
    );
    assert_eq!(
        run.unconfirmed_after_rejoin, 0,
        "once the old primary rejoins as a replica, writes are confirmed again"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn without_replica_confirmation_the_run_still_recovers_from_a_failover() {
    let Some(run) = failover_run(false).await else {
        return;
    };
    eprintln!(
        "without WAIT: failover {:?}, round recovered {:?} after the kill, {} refreshes, {} invalid_grant",
        run.failover, run.recovery, run.refreshes, run.invalid_grants
    );
    // Writes are retried through the failover either way; what WAIT adds
    // is the guarantee that an acknowledged save is on the replica.
    assert_eq!(run.unconfirmed_before_rejoin, 0, "nothing is awaited");
    assert!(run.refreshes >= 6);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_write_the_replicas_did_not_confirm_is_reported_not_pretended() {
    let Some(cluster) = RedisCluster::start() else {
        return;
    };
    let strict = RedisStore::cluster_builder(cluster.urls())
        .wait_for_replicas(1, Duration::from_millis(300))
        .on_unconfirmed(Unconfirmed::Fail)
        .connect()
        .await
        .unwrap();
    let lenient = RedisStore::cluster_builder(cluster.urls())
        .wait_for_replicas(1, Duration::from_millis(300))
        .connect()
        .await
        .unwrap();
    save(&strict, &key(), &set("confirmed")).await.unwrap();
    assert_eq!(strict.unconfirmed_writes(), 0, "a healthy replica confirms");

    let primary = cluster.primary_for(&strict.tokens_key(&key()));
    let replica = cluster.replica_of(primary);
    cluster.pause(replica);

    // Fail: the lease is not acted on, and is given back.
    let refused = match strict.lock(&key()).await {
        Ok(_) => panic!("a lease no replica confirmed was used"),
        Err(error) => error,
    };
    let StoreError::NotReplicated {
        wanted, confirmed, ..
    } = &refused
    else {
        panic!("{refused:?}")
    };
    assert_eq!((*wanted, *confirmed), (1, 0));
    assert!(refused.to_string().contains("failover"), "{refused}");
    assert_eq!(strict.unconfirmed_writes(), 1);

    // Warn: the write happens, is counted, and the caller carries on.
    save(&lenient, &key(), &set("unconfirmed")).await.unwrap();
    assert_eq!(lenient.unconfirmed_writes(), 2, "the lease and the save");
    assert_eq!(
        load(&lenient, &key())
            .await
            .unwrap()
            .unwrap()
            .access_token()
            .expose_secret(),
        "at-unconfirmed",
        "the data is on the primary"
    );

    cluster.resume(replica);
    cluster.wait_until_healthy(Duration::from_secs(10));
    cluster.wait_until_replicated(&strict.tokens_key(&key()), Duration::from_secs(10));
    save(&strict, &key(), &set("again")).await.unwrap();
    assert_eq!(strict.unconfirmed_writes(), 1, "confirmed again");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_manager_spends_no_refresh_token_on_a_lease_no_replica_confirmed() {
    let Some(cluster) = RedisCluster::start() else {
        return;
    };
    let server = auth_server().await;
    let store = RedisStore::cluster_builder(cluster.urls())
        .wait_for_replicas(1, Duration::from_millis(300))
        .on_unconfirmed(Unconfirmed::Fail)
        .connect()
        .await
        .unwrap();
    let manager = TokenManager::builder(provider(&server), store.clone())
        .clock(server.shared_clock())
        .build();
    let first = manager.access_token().await.unwrap();
    let tokens_key = store.tokens_key(manager.account_key());

    // The slot's replica stops answering; the refresh is due.
    server.clock().advance(time::Duration::hours(2));
    let replica = cluster.replica_of(cluster.primary_for(&tokens_key));
    cluster.pause(replica);
    let error = manager.access_token().await.unwrap_err();
    assert!(
        matches!(&error, Error::Store(StoreError::NotReplicated { .. })),
        "{error:?}"
    );
    assert_eq!(
        server.log().count("refresh_token"),
        0,
        "a lease that could vanish in a failover is not acted on: nothing was spent"
    );
    cluster.resume(replica);
    cluster.wait_until_healthy(Duration::from_secs(10));
    cluster.wait_until_replicated(&tokens_key, Duration::from_secs(10));
    // The manager remembers a failure for a second before trying again.
    server.clock().advance(time::Duration::seconds(2));
    let after = manager.access_token().await.unwrap();
    assert!(!after.same_secret(&first));
    assert_eq!(server.log().count("refresh_token"), 1);
    assert_eq!(server.log().refusals("invalid_grant"), 0);
}

/// Makes the stored set of `account` look expired (keeping its refresh
/// token and binding), as if its hour had passed.
async fn expire_stored_set(store: &RedisStore, account: &AccountKey) {
    let stored = load(store, account).await.unwrap().unwrap();
    let past = OffsetDateTime::now_utc() - time::Duration::hours(2);
    let expired = TokenSet::new(
        stored.access_token().clone(),
        past,
        past + time::Duration::hours(1),
    )
    .with_refresh_token(stored.refresh_token().cloned(), None)
    .with_binding(stored.binding().expect("bound").clone());
    save(store, account, &expired).await.unwrap();
}

fn helper(role: &str, cluster: &RedisCluster) -> Command {
    let mut command = Command::new(std::env::current_exe().unwrap());
    command
        .args([
            "--exact",
            "cluster_helper_process",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(ROLE, role)
        .env("CLUSTER_URLS", cluster.urls().join(","))
        .stdout(Stdio::piped())
        .stderr(Stdio::null());
    command
}

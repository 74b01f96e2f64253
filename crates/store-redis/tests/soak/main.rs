//! The soak: several processes keep rotating refresh tokens alive for a
//! while, through the Redis Cluster store and a file store, against panva's
//! `oidc-provider` (a public client, so every refresh rotates and a spent
//! refresh token sent again revokes the whole session), while the faults of
//! a bad day come and go:
//!
//! - the Redis primary serving an account is killed (SIGKILL); its replica
//!   takes over; the old primary comes back as a replica;
//! - the authorization server's address refuses connections for a few
//!   seconds (a gate in front of it stops listening; requests already on
//!   their way finish, as when a network restarts);
//! - the disk under the file store fills to the last byte for a few
//!   seconds (a `tmpfs`, which needs root).
//!
//! At the end every session is alive at the server (refreshed once more
//! and introspected), no process was refused with `invalid_grant` or asked
//! to sign in again, every failure a caller saw was classified as passing
//! (transient or the store's), came during a fault or shortly after it, and
//! reached the caller as an error, never as a panic or a wrong token.
//!
//! `AUTHKIT_SOAK_SECONDS` (default 45) and `AUTHKIT_SOAK_PROCESSES`
//! (default 4) set its size; `scripts/soak` runs it for five minutes.
//! Without Redis, Node.js or root it says SKIPPED, and fails instead under
//! `AUTHKIT_REQUIRE_REDIS=1`, `AUTHKIT_REQUIRE_REAL_SERVERS=1` and
//! `AUTHKIT_REQUIRE_REAL_FAULTS=1`, as in CI.

#[path = "../support/mod.rs"]
mod support;

mod faults;
mod report;
mod worker;

use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use authkit_core::device::DeviceAuthorization;
use authkit_core::endpoint::RequestContext;
use authkit_core::manager::RefreshPolicy;
use authkit_core::revocation::TokenTypeHint;
use authkit_core::{
    AccountKey, ClientAuth, ExposeSecret, GenericProvider, StoreError, TokenEndpoint, TokenManager,
    TokenStore,
};
use authkit_store_file::FileStore;
use authkit_store_redis::RedisStore;
use authkit_testkit::oidc_provider::{OidcProvider, introspect};
use support::cluster::RedisCluster;

use faults::{Gate, Tmpfs};

/// The public client: its refresh tokens rotate, and a reused one revokes
/// the grant.
const CLIENT: &str = "authkit-device";
/// Access tokens live this long, so each account refreshes every few
/// seconds.
const ACCESS_TTL_SECONDS: u64 = 8;
/// Accounts in the Redis Cluster store; one more lives in the file store.
const REDIS_ACCOUNTS: usize = 3;
const FILE_ACCOUNT: &str = "soak:file";
/// How long after a fault ends a failure still counts as the fault's.
const GRACE: Duration = Duration::from_secs(12);

fn redis_accounts() -> Vec<AccountKey> {
    (0..REDIS_ACCOUNTS)
        .map(|i| AccountKey::new(format!("soak:redis-{i}")))
        .collect()
}

fn unix_millis() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

/// An HTTP client without idle connections: each request opens its own,
/// so a gate that stops listening refuses the next request at once.
fn no_pool_client() -> reqwest::Client {
    authkit_core::transport::http_client_builder()
        .expect("TLS setup")
        .pool_max_idle_per_host(0)
        .build()
        .expect("an HTTP client")
}

fn provider(key: &AccountKey, token_url: &str) -> GenericProvider {
    let endpoint = TokenEndpoint::builder(token_url)
        .client_auth(ClientAuth::public(CLIENT))
        .http_client(no_pool_client())
        .timeout(Duration::from_secs(5))
        .build()
        .expect("the token endpoint");
    // No grant of its own: a session that is lost cannot be made again
    // unattended, so the soak would see it.
    GenericProvider::new(key.as_str(), endpoint)
}

/// Failures are remembered briefly: a caller in the soak retries soon.
fn soak_policy() -> RefreshPolicy {
    RefreshPolicy {
        failure_cooldown: Duration::from_millis(250),
        max_failure_cooldown: Duration::from_secs(2),
        ..RefreshPolicy::default()
    }
}

async fn redis_store(urls: Vec<String>) -> Result<RedisStore, StoreError> {
    RedisStore::cluster_builder(urls)
        .lease(Duration::from_secs(5))
        .timeout(Duration::from_secs(1))
        .wait_for_replicas(1, Duration::from_millis(500))
        .connect()
        .await
}

fn seconds_from_env(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// Signs `key` in once, through the device flow, into `store`.
async fn sign_in(
    server: &OidcProvider,
    metadata: &authkit_core::discovery::ServerMetadata,
    key: &AccountKey,
    store: &Arc<dyn TokenStore>,
    token_url: &str,
) {
    let provider = provider(key, token_url);
    let device = DeviceAuthorization::new(
        provider.endpoint().clone(),
        metadata.device_authorization_endpoint().unwrap(),
    )
    .unwrap()
    .with_scopes(["openid", "offline_access"]);
    let tokens = server
        .device_sign_in(&device, &RequestContext::default(), key.as_str(), true)
        .await
        .expect("a device sign-in");
    assert!(
        tokens.refresh_token().is_some(),
        "offline_access gives a refresh token"
    );
    TokenManager::new(provider, Arc::clone(store))
        .sign_in_with(tokens)
        .await
        .expect("stored");
}

/// The session of `key` is alive at the server: one more refresh, and the
/// new access token introspects as active.
async fn assert_session_alive(
    metadata: &authkit_core::discovery::ServerMetadata,
    key: &AccountKey,
    store: &Arc<dyn TokenStore>,
    token_url: &str,
) {
    let manager = TokenManager::builder(provider(key, token_url), Arc::clone(store))
        .refresh_policy(soak_policy())
        .build();
    manager.invalidate();
    let token = manager
        .access_token()
        .await
        .unwrap_or_else(|e| panic!("{key}: the session did not survive the soak: {e}"));
    let introspection =
        introspect(metadata, token.expose_secret(), TokenTypeHint::AccessToken).await;
    assert!(
        introspection.active(),
        "{key}: the server knows the last token"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_soak_under_faults_loses_no_session_and_reports_every_failure() {
    let seconds = seconds_from_env("AUTHKIT_SOAK_SECONDS", 45).max(30);
    let processes = seconds_from_env("AUTHKIT_SOAK_PROCESSES", 4).max(2) as usize;
    let Some(mut cluster) = tokio::task::block_in_place(RedisCluster::start) else {
        return;
    };
    let Some(server) = OidcProvider::start_with_access_ttl(ACCESS_TTL_SECONDS) else {
        return;
    };
    let upstream: u16 = server.issuer().rsplit(':').next().unwrap().parse().unwrap();
    let gate = Gate::start(upstream).await;
    let token_url = gate.url("/token");
    let scratch = tempfile::tempdir().unwrap();
    let disk_dir = scratch.path().join("disk");
    std::fs::create_dir_all(&disk_dir).unwrap();
    let disk = Tmpfs::mount(&disk_dir);
    let file_dir = disk.as_ref().map(|_| disk_dir.join("tokens"));

    let metadata = server.metadata().await;
    let redis = redis_store(cluster.urls()).await.expect("the cluster");
    let mut accounts: Vec<(AccountKey, Arc<dyn TokenStore>)> = redis_accounts()
        .into_iter()
        .map(|key| (key, Arc::new(redis.clone()) as Arc<dyn TokenStore>))
        .collect();
    if let Some(dir) = &file_dir {
        let store = FileStore::open(dir).unwrap();
        accounts.push((AccountKey::new(FILE_ACCOUNT), Arc::new(store)));
    }
    for (key, store) in &accounts {
        sign_in(&server, &metadata, key, store, &token_url).await;
    }

    let started = unix_millis();
    let plan = worker::Plan {
        cluster_urls: cluster.urls(),
        token_url: token_url.clone(),
        deadline_ms: started + seconds * 1000,
        file_dir,
    };
    let children = worker::spawn(&plan, processes, scratch.path());
    let killed_key = redis.tokens_key(&redis_accounts()[0]);
    let windows = faults::run_cycles(
        &mut cluster,
        &gate,
        disk.as_ref(),
        &killed_key,
        started,
        seconds,
    )
    .await;
    let report = report::collect(children).await;

    eprintln!(
        "soak: {seconds} s, {processes} processes, {} accounts ({} in the Redis Cluster store, {} in a file store), access tokens of {ACCESS_TTL_SECONDS} s",
        accounts.len(),
        REDIS_ACCOUNTS,
        accounts.len() - REDIS_ACCOUNTS
    );
    report::print_figures(&report, &windows, started);
    assert_eq!(
        report.len(),
        accounts.len(),
        "every account was reported on"
    );
    report::assert_outcome(&report, &windows, started, seconds, processes);
    for (key, store) in &accounts {
        assert_session_alive(&metadata, key, store, &token_url).await;
    }
    drop(disk);
}

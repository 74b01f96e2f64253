//! The file store: save (with its fsyncs), load, and the lock's acquire and
//! release, alone and with 10,000 other accounts in the directory; and 8 processes sharing a store at expiry, which must make one
//! refresh between them.
//!
//! The processes are this bench binary started again with a role in the
//! environment (see `main`).

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use authkit_core::grant::PasswordGrant;
use authkit_core::store::HeldAccount;
use authkit_core::{
    AccessToken, AccountKey, ClientAuth, GenericProvider, Password, RefreshToken, TokenEndpoint,
    TokenManager, TokenProvider, TokenSet, TokenStore,
};
use authkit_store_file::FileStore;
use authkit_testkit::support::{load, save};
use authkit_testkit::{MockAuthServer, MockClient};
use criterion::Criterion;
use time::OffsetDateTime;

const ROLE: &str = "AUTHKIT_STORE_BENCH_ROLE";
const PROCESSES: usize = 8;

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

/// How many accounts the store holds in the "at scale" group: a service
/// with a token per customer.
const ACCOUNTS_PRESENT: usize = 10_000;

fn store_operations(c: &mut Criterion) {
    operations_with(c, "file store", 0);
    operations_with(
        c,
        &format!("file store, {ACCOUNTS_PRESENT} accounts present"),
        ACCOUNTS_PRESENT,
    );
}

/// Save, load and lock for one account, with `others` more accounts in the
/// same directory.
fn operations_with(c: &mut Criterion, group_name: &str, others: usize) {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let dir = tempfile::tempdir().expect("dir");
    let store = FileStore::open(dir.path()).expect("store");
    let tokens = set("a");
    runtime.block_on(async {
        save(&store, &key(), &tokens).await.expect("save");
        for i in 0..others {
            let other = AccountKey::new(format!("bench:tenant-{i}"));
            save(&store, &other, &set(&format!("tenant-{i}")))
                .await
                .expect("save another account");
        }
    });
    if others > 0 {
        let files = std::fs::read_dir(dir.path()).expect("dir").count();
        assert!(files > others, "{files} files for {others} accounts");
    }

    // Saves and loads are measured under one held lock, as the manager
    // makes them; taking the lock is measured on its own.
    let mut group = c.benchmark_group(group_name);
    group.bench_function("save (write, fsync, rename, fsync dir)", |b| {
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
                started.elapsed()
            }
        })
    });
    group.bench_function("load", |b| {
        b.to_async(&runtime).iter_custom(|iters| {
            let store = &store;
            async move {
                let mut held = HeldAccount::acquire(store, &key()).await.expect("lock");
                let started = Instant::now();
                for _ in 0..iters {
                    held.load().await.expect("load");
                }
                started.elapsed()
            }
        })
    });
    group.bench_function("lock acquire and release", |b| {
        b.to_async(&runtime).iter(|| async {
            let lock = store.lock(&key()).await.expect("lock");
            lock.release().await.expect("release");
        })
    });
    group.finish();
}

/// Sign in once, make the stored set look expired, start the processes
/// together, wait for all; returns the wall time and the refreshes made.
fn cross_process_round(
    runtime: &tokio::runtime::Runtime,
    server: &MockAuthServer,
) -> (Duration, usize) {
    let dir = tempfile::tempdir().expect("dir");
    let store = FileStore::open(dir.path()).expect("store");
    let endpoint = TokenEndpoint::builder(server.token_url())
        .client_auth(ClientAuth::public("api"))
        .build()
        .expect("endpoint");
    let provider = GenericProvider::new("bench:alice", endpoint)
        .with_grant(PasswordGrant::new("alice", Password::new("pw")));
    let account = provider.account_key().clone();
    runtime
        .block_on(TokenManager::new(provider, store.clone()).access_token())
        .expect("sign in");
    let signed_in = runtime
        .block_on(load(&store, &account))
        .expect("load")
        .expect("stored");
    let past = OffsetDateTime::now_utc() - time::Duration::hours(2);
    let expired = TokenSet::new(
        signed_in.access_token().clone(),
        past,
        past + time::Duration::hours(1),
    )
    .with_refresh_token(signed_in.refresh_token().cloned(), None)
    .with_binding(signed_in.binding().expect("bound").clone());
    runtime
        .block_on(save(&store, &account, &expired))
        .expect("expire");
    let before = server.log().count("refresh_token");

    let started = Instant::now();
    let children: Vec<_> = (0..PROCESSES)
        .map(|_| {
            Command::new(std::env::current_exe().expect("exe"))
                .env(ROLE, "refresh")
                .env("STORE_DIR", dir.path())
                .env("TOKEN_URL", server.token_url())
                .stdout(Stdio::null())
                .spawn()
                .expect("spawn")
        })
        .collect();
    for mut child in children {
        assert!(child.wait().expect("wait").success(), "a process failed");
    }
    (
        started.elapsed(),
        server.log().count("refresh_token") - before,
    )
}

fn cross_process(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let server = runtime.block_on(
        MockAuthServer::builder()
            .user("alice", "pw")
            .client(MockClient::public("api"))
            .start(),
    );
    let mut group = c.benchmark_group("cross-process");
    group.sample_size(10);
    group.measurement_time(Duration::from_secs(20));
    group.bench_function(
        format!("{PROCESSES} processes at expiry, until all have a token"),
        |b| {
            b.iter_custom(|iters| {
                let mut total = Duration::ZERO;
                for _ in 0..iters {
                    let (elapsed, refreshes) = cross_process_round(&runtime, &server);
                    assert_eq!(
                        refreshes, 1,
                        "{PROCESSES} processes made {refreshes} refreshes"
                    );
                    total += elapsed;
                }
                total
            })
        },
    );
    group.bench_function(
        format!("{PROCESSES} processes started and ended (start-up cost alone)"),
        |b| {
            b.iter(|| {
                let children: Vec<_> = (0..PROCESSES)
                    .map(|_| {
                        Command::new(std::env::current_exe().expect("exe"))
                            .env(ROLE, "noop")
                            .spawn()
                            .expect("spawn")
                    })
                    .collect();
                for mut child in children {
                    child.wait().expect("wait");
                }
            })
        },
    );
    group.finish();
}

/// A helper process: gets a token through a manager on the shared store.
fn helper(role: &str) -> i32 {
    if role == "noop" {
        return 0;
    }
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async {
        let store = FileStore::open(std::env::var("STORE_DIR").expect("dir")).expect("store");
        let endpoint = TokenEndpoint::builder(std::env::var("TOKEN_URL").expect("url"))
            .client_auth(ClientAuth::public("api"))
            .build()
            .expect("endpoint");
        let provider = GenericProvider::new("bench:alice", endpoint)
            .with_grant(PasswordGrant::new("alice", Password::new("pw")));
        match TokenManager::new(provider, store).access_token().await {
            Ok(_) => 0,
            Err(_) => 1,
        }
    })
}

fn main() {
    if let Ok(role) = std::env::var(ROLE) {
        std::process::exit(helper(&role));
    }
    let mut criterion = Criterion::default().configure_from_args();
    store_operations(&mut criterion);
    cross_process(&mut criterion);
    criterion.final_summary();
}

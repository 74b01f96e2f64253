//! An `AccountPool` of 10,000 accounts: its hot path against a lone
//! manager's, and a refresh storm against a wiremock token endpoint.
//!
//! - Hot path: a cached token for one account of 10,000 (the same key, and
//!   every key in turn), beside `TokenManager::access_token` for one lone
//!   manager, in the same run; and every key in turn beside 10,000 lone
//!   managers in a `HashMap`, which is what a program does without a pool.
//!   Polled once by hand with a no-op waker, as
//!   `hot_path.rs` does and for the same reason.
//! - Refresh storm: 10,000 accounts whose tokens all expire in the same
//!   second, at one token endpoint on 127.0.0.1 that takes 20 ms to answer.
//!   A manual clock walks through the last fifteen minutes of their
//!   lifetime one second at a time; each second every account is asked for
//!   its token. A counting transport under the shared HTTP client records
//!   the most requests in flight at once. Every run checks that the peak
//!   stays within the pool's bound, that each account was refreshed exactly
//!   once and before its old token expired, and prints the spread.

use std::collections::BTreeMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use authkit_core::clock::{Clock, ManualClock};
use authkit_core::manager::AccessTokenFuture;
use authkit_core::pool::DEFAULT_MAX_CONCURRENT_REQUESTS;
use authkit_core::transport::{
    FormRequest, GetRequest, RawResponse, ReqwestTransport, Transport, http_client_builder,
};
use authkit_core::{
    AccessToken, AccountPool, ClientAuth, Error, GenericProvider, MemoryStore, RefreshToken,
    TokenEndpoint, TokenManager, TokenProvider, TokenSet,
};
use authkit_testkit::FakeIssuer;
use criterion::{Criterion, black_box, criterion_group, criterion_main};
use wiremock::matchers::method;
use wiremock::{Mock, MockServer, ResponseTemplate};

const ACCOUNTS: usize = 10_000;

/// How long the mock token endpoint takes to answer.
const SERVER_DELAY: Duration = Duration::from_millis(20);

/// One call as an executor makes it: a single poll with its waker.
#[inline]
fn poll_once(mut call: AccessTokenFuture<'_>, cx: &mut Context<'_>) -> AccessToken {
    match Pin::new(&mut call).poll(cx) {
        Poll::Ready(token) => token.expect("token"),
        Poll::Pending => panic!("a fresh token is ready at once"),
    }
}

fn hot_path(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let issuer = FakeIssuer::default();
    let lone = TokenManager::new(issuer.account("lone"), MemoryStore::new());
    let pool = AccountPool::builder(MemoryStore::new()).build();
    let keys: Vec<String> = (0..ACCOUNTS).map(|i| format!("tenant-{i}")).collect();
    runtime.block_on(async {
        lone.access_token().await.expect("first token");
        for (i, key) in keys.iter().enumerate() {
            pool.add(key.as_str(), issuer.account(&format!("user-{i}")))
                .expect("a new key");
            pool.access_token(key).await.expect("first token");
        }
    });
    // Today's way: a lone manager per account, in a map the program keeps.
    let lone_managers: std::collections::HashMap<String, TokenManager> = runtime.block_on(async {
        let mut map = std::collections::HashMap::new();
        for (i, key) in keys.iter().enumerate() {
            let manager =
                TokenManager::new(issuer.account(&format!("lone-{i}")), MemoryStore::new());
            manager.access_token().await.expect("first token");
            map.insert(key.clone(), manager);
        }
        map
    });
    let one = &keys[ACCOUNTS / 2];

    let mut group = c.benchmark_group("pool hot path");
    group.bench_function("lone TokenManager", |b| {
        let waker = futures::task::noop_waker();
        let mut cx = Context::from_waker(&waker);
        b.iter(|| black_box(poll_once(lone.access_token(), &mut cx)))
    });
    group.bench_function(format!("one account of {ACCOUNTS}"), |b| {
        let waker = futures::task::noop_waker();
        let mut cx = Context::from_waker(&waker);
        b.iter(|| black_box(poll_once(pool.access_token(black_box(one)), &mut cx)))
    });
    group.bench_function(format!("each of {ACCOUNTS} in turn"), |b| {
        let waker = futures::task::noop_waker();
        let mut cx = Context::from_waker(&waker);
        let mut turn = keys.iter().cycle();
        b.iter(|| {
            let key = turn.next().expect("an endless cycle");
            black_box(poll_once(pool.access_token(key), &mut cx))
        })
    });
    group.bench_function(
        format!("each of {ACCOUNTS} lone managers in a HashMap, in turn"),
        |b| {
            let waker = futures::task::noop_waker();
            let mut cx = Context::from_waker(&waker);
            let mut turn = keys.iter().cycle();
            b.iter(|| {
                let key = turn.next().expect("an endless cycle");
                let manager = &lone_managers[key];
                black_box(poll_once(manager.access_token(), &mut cx))
            })
        },
    );
    group.finish();
}

/// A transport that counts the requests it is carrying, around the shared
/// reqwest client.
#[derive(Debug)]
struct CountingTransport {
    inner: ReqwestTransport,
    in_flight: AtomicUsize,
    peak: AtomicUsize,
    total: AtomicUsize,
}

#[async_trait]
impl Transport for CountingTransport {
    async fn post_form(&self, request: FormRequest<'_>) -> Result<RawResponse, Error> {
        let now = self.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
        self.peak.fetch_max(now, Ordering::SeqCst);
        self.total.fetch_add(1, Ordering::SeqCst);
        let response = self.inner.post_form(request).await;
        self.in_flight.fetch_sub(1, Ordering::SeqCst);
        response
    }

    async fn get(&self, request: GetRequest<'_>) -> Result<RawResponse, Error> {
        self.inner.get(request).await
    }
}

/// What one storm measured.
struct Storm {
    peak_in_flight: usize,
    requests: usize,
    /// Refreshes per second of the walk, for the seconds that had any.
    per_second: BTreeMap<i64, usize>,
    /// How long before the common expiry the last refresh landed.
    last_before_expiry: time::Duration,
}

async fn storm(server: &MockServer) -> Storm {
    let clock = ManualClock::starting_now();
    let transport = Arc::new(CountingTransport {
        inner: ReqwestTransport::new(http_client_builder().expect("tls").build().expect("client")),
        in_flight: AtomicUsize::new(0),
        peak: AtomicUsize::new(0),
        total: AtomicUsize::new(0),
    });
    let endpoint = TokenEndpoint::builder(format!("{}/token", server.uri()))
        .client_auth(ClientAuth::public("api"))
        .transport(Arc::clone(&transport) as Arc<dyn Transport>)
        .build()
        .expect("endpoint");
    let store = MemoryStore::new();
    let pool = AccountPool::builder(store.clone())
        .clock(Arc::new(clock.clone()))
        .build();
    let issued_at = clock.now();
    let expiry = issued_at + time::Duration::hours(1);
    let mut keys = Vec::with_capacity(ACCOUNTS);
    for i in 0..ACCOUNTS {
        let provider = GenericProvider::new(format!("bench:user-{i}"), endpoint.clone());
        let set = TokenSet::new(AccessToken::new(format!("old-{i}")), issued_at, expiry)
            .with_refresh_token(Some(RefreshToken::new(format!("rt-{i}"))), None)
            .with_binding(provider.binding().clone());
        authkit_testkit::support::save(&store, provider.account_key(), &set)
            .await
            .expect("a memory store saves");
        let key = format!("tenant-{i}");
        pool.add(key.as_str(), provider).expect("a new key");
        keys.push(key);
    }

    // The last fifteen minutes of the common lifetime, a second at a time.
    clock.advance(time::Duration::minutes(45));
    let mut per_second = BTreeMap::new();
    let mut last_refresh = None;
    for second in 0..15 * 60 - 15 {
        let before = transport.total.load(Ordering::SeqCst);
        for key in &keys {
            let token = pool.access_token(key).await.expect("a usable token");
            black_box(token);
        }
        // Let the refreshes these calls started in the background land.
        while transport.in_flight.load(Ordering::SeqCst) > 0
            || pool.available_request_permits() < DEFAULT_MAX_CONCURRENT_REQUESTS
        {
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
        let refreshed = transport.total.load(Ordering::SeqCst) - before;
        if refreshed > 0 {
            per_second.insert(second, refreshed);
            last_refresh = Some(clock.now());
        }
        clock.advance(time::Duration::seconds(1));
    }
    let still_old = pool.expiring_before(expiry + time::Duration::seconds(1));
    assert!(
        still_old.is_empty(),
        "{} accounts were not refreshed before their tokens expired",
        still_old.len()
    );
    Storm {
        peak_in_flight: transport.peak.load(Ordering::SeqCst),
        requests: transport.total.load(Ordering::SeqCst),
        per_second,
        last_before_expiry: expiry - last_refresh.expect("refreshes happened"),
    }
}

fn refresh_storm(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let server = runtime.block_on(async {
        let server = MockServer::builder()
            .disable_request_recording()
            .start()
            .await;
        Mock::given(method("POST"))
            .respond_with(
                ResponseTemplate::new(200)
                    .set_body_json(serde_json::json!({
                        "access_token": "new-access-token-0123456789",
                        "token_type": "Bearer",
                        "expires_in": 3600,
                        "refresh_token": "new-refresh-token-0123456789",
                    }))
                    .set_delay(SERVER_DELAY),
            )
            .mount(&server)
            .await;
        server
    });

    let printed = std::sync::atomic::AtomicBool::new(false);
    let mut group = c.benchmark_group("refresh storm");
    group.sample_size(10);
    group.measurement_time(Duration::from_secs(60));
    group.bench_function(
        format!("{ACCOUNTS} accounts expiring in the same second"),
        |b| {
            b.to_async(&runtime).iter_custom(|iters| {
                let server = &server;
                let printed = &printed;
                async move {
                    let mut total = Duration::ZERO;
                    for _ in 0..iters {
                        let started = Instant::now();
                        let storm = storm(server).await;
                        total += started.elapsed();
                        assert!(
                            storm.peak_in_flight <= DEFAULT_MAX_CONCURRENT_REQUESTS,
                            "{} requests in flight at once, over the bound of \
                             {DEFAULT_MAX_CONCURRENT_REQUESTS}",
                            storm.peak_in_flight
                        );
                        assert_eq!(storm.requests, ACCOUNTS, "one refresh per account");
                        if !printed.swap(true, Ordering::SeqCst) {
                            let first = storm.per_second.keys().next().copied().unwrap_or(0);
                            let last = storm.per_second.keys().last().copied().unwrap_or(0);
                            let busiest = storm.per_second.values().max().copied().unwrap_or(0);
                            println!(
                                "refresh storm: {} requests for {ACCOUNTS} accounts, peak \
                                 {} in flight (bound {DEFAULT_MAX_CONCURRENT_REQUESTS}), \
                                 spread over {} s ({} seconds with refreshes, busiest {busiest}), \
                                 last refresh {} s before the common expiry",
                                storm.requests,
                                storm.peak_in_flight,
                                last - first + 1,
                                storm.per_second.len(),
                                storm.last_before_expiry.whole_seconds()
                            );
                        }
                    }
                    total
                }
            })
        },
    );
    group.finish();
}

criterion_group!(benches, hot_path, refresh_storm);
criterion_main!(benches);

//! The stampede and the wire overhead, against a wiremock token endpoint on
//! 127.0.0.1 in the same process.
//!
//! - Stampede: 10,000 tasks call `access_token` when the token has just
//!   expired. Every run checks that exactly one token request was made, and
//!   the time until every caller holds its token is compared with one plain
//!   token request.
//! - Wire overhead: one `TokenEndpoint` password grant against the same
//!   server as a bare `reqwest` POST of the same form, in the same run.

use std::sync::Arc;
use std::time::{Duration, Instant};

use authkit_core::clock::{Clock, ManualClock};
use authkit_core::endpoint::RequestContext;
use authkit_core::grant::{PasswordGrant, RefreshTokenGrant};
use authkit_core::{
    AccessToken, ClientAuth, GenericProvider, MemoryStore, Password, RefreshToken, TokenEndpoint,
    TokenManager, TokenProvider, TokenSet,
};
use criterion::{Criterion, criterion_group, criterion_main};
use wiremock::matchers::method;
use wiremock::{Mock, MockServer, ResponseTemplate};

const CALLERS: usize = 10_000;

fn token_body() -> serde_json::Value {
    serde_json::json!({
        "access_token": "bench-access-token-0123456789",
        "token_type": "Bearer",
        "expires_in": 3600,
        "refresh_token": "bench-refresh-token-0123456789",
    })
}

async fn server(record: bool) -> MockServer {
    let mut builder = MockServer::builder();
    if !record {
        // Recording keeps every request; over a long run the growing log
        // slows the server down and would bias whichever benchmark runs last.
        builder = builder.disable_request_recording();
    }
    let server = builder.start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200).set_body_json(token_body()))
        .mount(&server)
        .await;
    server
}

fn endpoint(server: &MockServer, _clock: &ManualClock) -> TokenEndpoint {
    TokenEndpoint::builder(format!("{}/token", server.uri()))
        .client_auth(ClientAuth::public("api"))
        .build()
        .expect("endpoint")
}

/// Spawns `CALLERS` tasks that each get a token, and waits for all of them.
async fn all_callers(manager: &TokenManager) {
    let callers: Vec<_> = (0..CALLERS)
        .map(|_| {
            let manager = manager.clone();
            tokio::spawn(async move { manager.access_token().await })
        })
        .collect();
    for caller in callers {
        caller.await.expect("task").expect("token");
    }
}

fn stampede(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let server = runtime.block_on(server(true));
    let clock = ManualClock::starting_now();
    let grant = PasswordGrant::new("alice", Password::new("pw"));
    let cx = RequestContext::new(Arc::new(clock.clone()));

    let mut group = c.benchmark_group("stampede");
    group.sample_size(20);
    group.measurement_time(Duration::from_secs(10));
    group.bench_function("one plain token request", |b| {
        let endpoint = endpoint(&server, &clock);
        b.to_async(&runtime)
            .iter(|| async { endpoint.request(&grant, &cx).await.expect("token") })
    });
    group.bench_function(format!("{CALLERS} callers on an expired token"), |b| {
        b.to_async(&runtime).iter_custom(|iters| {
            let server = &server;
            let clock = clock.clone();
            async move {
                let mut total = Duration::ZERO;
                for _ in 0..iters {
                    // A fresh manager whose stored token has just expired.
                    let provider = GenericProvider::new("bench:alice", endpoint(server, &clock));
                    let past = clock.now() - time::Duration::hours(1);
                    let expired = TokenSet::new(
                        AccessToken::new("old"),
                        past,
                        past + time::Duration::minutes(59),
                    )
                    .with_refresh_token(Some(RefreshToken::new("old-refresh")), None)
                    .with_binding(provider.binding().clone());
                    let store = MemoryStore::with_tokens(provider.account_key(), &expired);
                    let manager = TokenManager::builder(provider, store)
                        .clock(Arc::new(clock.clone()))
                        .build();
                    let before = server.received_requests().await.map_or(0, |r| r.len());

                    let started = Instant::now();
                    all_callers(&manager).await;
                    total += started.elapsed();

                    let made = server.received_requests().await.map_or(0, |r| r.len()) - before;
                    assert_eq!(made, 1, "{CALLERS} callers made {made} token requests");
                }
                total
            }
        })
    });
    group.bench_function(
        format!("{CALLERS} callers on a fresh token (task overhead alone)"),
        |b| {
            let provider = GenericProvider::new("bench:alice", endpoint(&server, &clock))
                .with_grant(PasswordGrant::new("alice", Password::new("pw")));
            let manager = TokenManager::builder(provider, MemoryStore::new())
                .clock(Arc::new(clock.clone()))
                .build();
            runtime
                .block_on(manager.access_token())
                .expect("first token");
            b.to_async(&runtime).iter(|| {
                let manager = manager.clone();
                async move { all_callers(&manager).await }
            })
        },
    );
    group.finish();
}

fn wire_overhead(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let server = runtime.block_on(server(false));
    let clock = ManualClock::starting_now();
    let endpoint = endpoint(&server, &clock);
    // A refresh round trip: the request the manager makes most.
    let grant = RefreshTokenGrant::new(RefreshToken::new("rt-0123456789abcdef"));
    let cx = RequestContext::default();
    let bare = authkit_core::transport::http_client_builder()
        .expect("tls")
        .build()
        .expect("client");
    let url = format!("{}/token", server.uri());
    let form = "grant_type=refresh_token&client_id=api&refresh_token=rt-0123456789abcdef";
    let bare_post = || async {
        bare.post(&url)
            .header("content-type", "application/x-www-form-urlencoded")
            .header("accept", "application/json")
            .body(form)
            .send()
            .await
            .expect("response")
            .bytes()
            .await
            .expect("body")
    };

    // Per-request medians over interleaved pairs: robust to the
    // millisecond-long pauses of a shared machine, which inflate means.
    runtime.block_on(async {
        let (mut ours, mut theirs) = (Vec::new(), Vec::new());
        for round in 0..3200 {
            let time_ours = || async {
                let t = Instant::now();
                endpoint.request(&grant, &cx).await.expect("token");
                t.elapsed()
            };
            let time_theirs = || async {
                let t = Instant::now();
                bare_post().await;
                t.elapsed()
            };
            // Alternate which goes first: the second of a pair runs warmer.
            let (a, b) = if round % 2 == 0 {
                let a = time_ours().await;
                (a, time_theirs().await)
            } else {
                let b = time_theirs().await;
                (time_ours().await, b)
            };
            if round >= 200 {
                ours.push(a);
                theirs.push(b);
            }
        }
        ours.sort();
        theirs.sort();
        let (ours, theirs) = (ours[ours.len() / 2], theirs[theirs.len() / 2]);
        println!(
            "wire overhead, per-request medians of 3000 interleaved pairs: TokenEndpoint refresh {ours:?}, bare reqwest {theirs:?}, ratio {:.3}",
            ours.as_secs_f64() / theirs.as_secs_f64()
        );
    });

    // Each sample alternates the two requests, timing each, so that drift in
    // the machine or the server touches both alike; each benchmark reports
    // its own side.
    let mut group = c.benchmark_group("wire");
    for (name, report_endpoint) in [
        ("TokenEndpoint refresh grant", true),
        ("bare reqwest POST of the same form", false),
    ] {
        group.bench_function(format!("{name} (interleaved)"), |b| {
            b.to_async(&runtime).iter_custom(|iters| {
                let (endpoint, grant, bare_post, cx) = (&endpoint, &grant, &bare_post, &cx);
                async move {
                    let (mut ours, mut theirs) = (Duration::ZERO, Duration::ZERO);
                    for i in 0..iters {
                        // Alternate which goes first, too.
                        if i % 2 == 0 {
                            let t = Instant::now();
                            endpoint.request(grant, cx).await.expect("token");
                            ours += t.elapsed();
                            let t = Instant::now();
                            bare_post().await;
                            theirs += t.elapsed();
                        } else {
                            let t = Instant::now();
                            bare_post().await;
                            theirs += t.elapsed();
                            let t = Instant::now();
                            endpoint.request(grant, cx).await.expect("token");
                            ours += t.elapsed();
                        }
                    }
                    if report_endpoint { ours } else { theirs }
                }
            })
        });
    }
    group.finish();
}

criterion_group!(benches, stampede, wire_overhead);
criterion_main!(benches);

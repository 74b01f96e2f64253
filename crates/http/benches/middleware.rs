//! A request through `AuthMiddleware` against the same request with the
//! header set by hand, to the same local server, interleaved in one run.
//! The manager's provider is an in-process stub and its token fresh, so the
//! difference is the middleware's own work: the manager's hot path, the
//! request clone kept for a replay, and the response check.

mod support;

use std::time::{Duration, Instant};

use authkit_core::{MemoryStore, TokenManager};
use authkit_http::AuthMiddleware;
use criterion::{Criterion, criterion_group, criterion_main};
use support::StubProvider;

fn middleware(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let server = runtime.block_on(support::api());
    let url = format!("{}/api/me", server.uri());
    let manager = TokenManager::new(StubProvider::new("bench:alice"), MemoryStore::new());
    let plain = authkit_core::transport::http_client_builder()
        .expect("tls")
        .build()
        .expect("client");
    let with_layer = reqwest_middleware::ClientBuilder::new(plain.clone())
        .with(AuthMiddleware::new(manager.clone()))
        .build();
    runtime.block_on(manager.access_token()).expect("token");

    let through_middleware = || async {
        with_layer
            .get(&url)
            .send()
            .await
            .expect("response")
            .bytes()
            .await
            .expect("body")
    };
    let by_hand = || async {
        let token = manager.access_token().await.expect("token");
        plain
            .get(&url)
            .header(reqwest::header::AUTHORIZATION, token.bearer_header())
            .send()
            .await
            .expect("response")
            .bytes()
            .await
            .expect("body")
    };

    // Per-request medians over interleaved pairs, the order alternating.
    runtime.block_on(async {
        let (mut ours, mut theirs) = (Vec::new(), Vec::new());
        for round in 0..3200 {
            let first_ours = round % 2 == 0;
            for ours_now in [first_ours, !first_ours] {
                let t = Instant::now();
                if ours_now {
                    through_middleware().await;
                } else {
                    by_hand().await;
                }
                if round >= 200 {
                    if ours_now {
                        ours.push(t.elapsed());
                    } else {
                        theirs.push(t.elapsed());
                    }
                }
            }
        }
        ours.sort();
        theirs.sort();
        let (ours, theirs) = (ours[ours.len() / 2], theirs[theirs.len() / 2]);
        println!(
            "middleware overhead, per-request medians of 3000 interleaved pairs: AuthMiddleware {ours:?}, header by hand {theirs:?}, ratio {:.3}",
            ours.as_secs_f64() / theirs.as_secs_f64()
        );
    });

    let mut group = c.benchmark_group("http");
    for (name, report_ours) in [
        ("request through AuthMiddleware", true),
        ("the same request, header set by hand", false),
    ] {
        group.bench_function(format!("{name} (interleaved)"), |b| {
            b.to_async(&runtime).iter_custom(|iters| {
                let (through_middleware, by_hand) = (&through_middleware, &by_hand);
                async move {
                    let (mut ours, mut theirs) = (Duration::ZERO, Duration::ZERO);
                    for i in 0..iters {
                        if i % 2 == 0 {
                            let t = Instant::now();
                            through_middleware().await;
                            ours += t.elapsed();
                            let t = Instant::now();
                            by_hand().await;
                            theirs += t.elapsed();
                        } else {
                            let t = Instant::now();
                            by_hand().await;
                            theirs += t.elapsed();
                            let t = Instant::now();
                            through_middleware().await;
                            ours += t.elapsed();
                        }
                    }
                    if report_ours { ours } else { theirs }
                }
            })
        });
    }
    group.finish();
}

criterion_group!(benches, middleware);
criterion_main!(benches);

//! What DPoP costs (RFC 9449): signing one proof, and a request through
//! `AuthMiddleware` with a DPoP-bound token against the same request with a
//! Bearer token, to the same local server, interleaved in one run. The
//! managers' providers are in-process stubs and their tokens fresh, so the
//! difference is the proof: an ES256 signature per request.

mod support;

use std::time::Instant;

use authkit_core::dpop::DpopKey;
use authkit_core::{AccessToken, MemoryStore, TokenManager};
use authkit_http::AuthMiddleware;
use criterion::{Criterion, criterion_group, criterion_main};
use support::StubProvider;

fn dpop(c: &mut Criterion) {
    let key = DpopKey::generate().expect("key");
    let url = url::Url::parse("https://api.example.com/v1/items?page=2").expect("url");
    let token = AccessToken::new("bench-token-0123456789");
    c.bench_function("dpop/proof for one resource request (ES256)", |b| {
        b.iter(|| {
            key.proof(
                "GET",
                &url,
                Some("nonce"),
                Some(&token),
                time::OffsetDateTime::now_utc(),
            )
            .expect("proof")
        })
    });

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let server = runtime.block_on(support::api());
    let api = format!("{}/api/me", server.uri());
    let bearer = TokenManager::new(StubProvider::new("bench:bearer"), MemoryStore::new());
    let bound = TokenManager::builder(StubProvider::new("bench:dpop"), MemoryStore::new())
        .dpop()
        .build();
    let plain = authkit_core::transport::http_client_builder()
        .expect("tls")
        .build()
        .expect("client");
    let client = |manager: &TokenManager| {
        reqwest_middleware::ClientBuilder::new(plain.clone())
            .with(AuthMiddleware::new(manager.clone()))
            .build()
    };
    let (with_dpop, with_bearer) = (client(&bound), client(&bearer));
    runtime.block_on(async {
        bound.access_token().await.expect("token");
        bearer.access_token().await.expect("token");
    });
    let send = |client: &reqwest_middleware::ClientWithMiddleware| {
        let request = client.get(&api);
        async move {
            request
                .send()
                .await
                .expect("response")
                .bytes()
                .await
                .expect("body")
        }
    };

    // Per-request medians over interleaved pairs, the order alternating.
    runtime.block_on(async {
        let (mut dpop, mut bearer) = (Vec::new(), Vec::new());
        for round in 0..3200 {
            let dpop_first = round % 2 == 0;
            for dpop_now in [dpop_first, !dpop_first] {
                let t = Instant::now();
                send(if dpop_now { &with_dpop } else { &with_bearer }).await;
                if round >= 200 {
                    if dpop_now { &mut dpop } else { &mut bearer }.push(t.elapsed());
                }
            }
        }
        dpop.sort();
        bearer.sort();
        let (dpop, bearer) = (dpop[dpop.len() / 2], bearer[bearer.len() / 2]);
        println!(
            "DPoP vs Bearer through AuthMiddleware, per-request medians of 3000 interleaved pairs: DPoP {dpop:?}, Bearer {bearer:?}, ratio {:.3}",
            dpop.as_secs_f64() / bearer.as_secs_f64()
        );
    });

    let mut group = c.benchmark_group("dpop");
    for (name, client) in [
        ("request through AuthMiddleware, DPoP", &with_dpop),
        ("request through AuthMiddleware, Bearer", &with_bearer),
    ] {
        group.bench_function(name, |b| b.to_async(&runtime).iter(|| send(client)));
    }
    group.finish();
}

criterion_group!(benches, dpop);
criterion_main!(benches);

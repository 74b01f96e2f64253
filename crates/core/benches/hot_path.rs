//! The hot path: `TokenManager::access_token` with a fresh token in memory,
//! from one thread and from every thread at once.
//!
//! The provider is an in-process stub (no network): only the manager's own
//! cost is measured. `access_token` completes on its first poll when the
//! token is fresh, so it is polled once, by hand, with a no-op waker made
//! once per thread, as an executor polls with the waker it already has.
//! (`now_or_never` builds and drops a waker on every call, which on this
//! machine costs as much as the manager itself and measures `futures`, not
//! authkit.)

use std::sync::Arc;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use authkit_core::endpoint::RequestContext;
use authkit_core::token::Binding;
use authkit_core::{
    AccessToken, AccountKey, ClientId, Error, MemoryStore, RefreshToken, TokenManager,
    TokenProvider, TokenSet,
};
use criterion::{Criterion, black_box, criterion_group, criterion_main};
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use time::OffsetDateTime;

#[derive(Debug)]
struct StubProvider(AccountKey, Binding);

impl StubProvider {
    fn new() -> Self {
        let url = url::Url::parse("https://auth.example.com/token").expect("url");
        let binding = Binding::new(&url, ClientId::new("bench"));
        Self(binding.account_key("bench:alice"), binding)
    }
}

#[async_trait]
impl TokenProvider for StubProvider {
    fn account_key(&self) -> &AccountKey {
        &self.0
    }

    fn binding(&self) -> &Binding {
        &self.1
    }

    async fn authenticate(&self, _: &RequestContext) -> Result<TokenSet, Error> {
        let now = OffsetDateTime::now_utc();
        Ok(TokenSet::new(
            AccessToken::new("bench-token"),
            now,
            now + time::Duration::days(1),
        )
        .with_binding(self.1.clone()))
    }

    async fn refresh(&self, _: &RefreshToken, cx: &RequestContext) -> Result<TokenSet, Error> {
        self.authenticate(cx).await
    }
}

fn warm_manager() -> TokenManager {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let manager = TokenManager::new(StubProvider::new(), MemoryStore::new());
    runtime
        .block_on(manager.access_token())
        .expect("first token");
    manager
}

/// One call as an executor makes it: a single poll with its waker.
#[inline]
fn poll_once(manager: &TokenManager, cx: &mut Context<'_>) -> AccessToken {
    let mut call = manager.access_token();
    match Pin::new(&mut call).poll(cx) {
        Poll::Ready(token) => token.expect("token"),
        Poll::Pending => panic!("a fresh token is ready at once"),
    }
}

fn hot_path(c: &mut Criterion) {
    let manager = warm_manager();
    let mut group = c.benchmark_group("access_token");
    group.bench_function("fresh, one thread", |b| {
        let waker = futures::task::noop_waker();
        let mut cx = Context::from_waker(&waker);
        b.iter(|| black_box(poll_once(&manager, &mut cx)))
    });
    group.bench_function("cached_access_token, one thread", |b| {
        b.iter(|| black_box(manager.cached_access_token()))
    });

    let threads = std::thread::available_parallelism().map_or(2, |n| n.get());
    group.bench_function(
        format!("fresh, {threads} threads at once (per call, per thread)"),
        |b| {
            b.iter_custom(|iters| {
                let per_thread = iters.div_ceil(threads as u64);
                let start = Arc::new(std::sync::Barrier::new(threads + 1));
                let workers: Vec<_> = (0..threads)
                    .map(|_| {
                        let manager = manager.clone();
                        let start = Arc::clone(&start);
                        std::thread::spawn(move || {
                            let waker = futures::task::noop_waker();
                            let mut cx = Context::from_waker(&waker);
                            start.wait();
                            for _ in 0..per_thread {
                                black_box(poll_once(&manager, &mut cx));
                            }
                        })
                    })
                    .collect();
                start.wait();
                let began = Instant::now();
                for worker in workers {
                    worker.join().expect("worker");
                }
                // Reported per call as each thread sees it: the wall time divided
                // by the calls one thread made, comparable to the one-thread figure.
                let elapsed: Duration = began.elapsed();
                elapsed.mul_f64(iters as f64 / per_thread as f64)
            })
        },
    );
    group.finish();
}

criterion_group!(benches, hot_path);
criterion_main!(benches);

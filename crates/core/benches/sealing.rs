//! The cost of encryption at rest: a save and a load under a held lock, on a
//! memory store, plain and sealed (XChaCha20-Poly1305), interleaved by
//! criterion in one run.

use std::time::Duration;

use authkit_core::store::{HeldAccount, SealedStore, SealingKey};
use authkit_core::{AccessToken, AccountKey, MemoryStore, RefreshToken, TokenSet, TokenStore};
use criterion::{Criterion, criterion_group, criterion_main};
use time::OffsetDateTime;

fn sealing(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("runtime");
    let tokens = TokenSet::expiring_in(
        AccessToken::new("a".repeat(900)),
        OffsetDateTime::now_utc(),
        Duration::from_secs(3600),
    )
    .with_refresh_token(Some(RefreshToken::new("r".repeat(900))), None);
    let plain = MemoryStore::new();
    let sealed = SealedStore::new(MemoryStore::new(), SealingKey::generate("k1").expect("key"));
    let key = AccountKey::new("bench:alice#1");
    let mut group = c.benchmark_group("store");
    for (name, store) in [
        ("plain", &plain as &dyn TokenStore),
        ("sealed", &sealed as &dyn TokenStore),
    ] {
        group.bench_function(format!("save and load, {name}"), |b| {
            b.iter(|| {
                runtime.block_on(async {
                    let mut held = HeldAccount::acquire(store, &key).await.expect("lock");
                    held.save(&tokens, OffsetDateTime::now_utc())
                        .await
                        .expect("save");
                    held.load().await.expect("load").expect("set")
                })
            })
        });
    }
    group.finish();
}

criterion_group!(benches, sealing);
criterion_main!(benches);

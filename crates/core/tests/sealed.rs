//! Encryption at rest: what a `SealedStore` writes to its backend, and what
//! it does with values it cannot open.

use std::time::Duration;

use authkit_core::deps::secrecy::{ExposeSecret, SecretString};
use authkit_core::store::{HeldAccount, SealedStore, SealingKey, StoreRecord};
use authkit_core::{
    AccessToken, AccountKey, MemoryStore, RefreshToken, StoreError, TokenSet, TokenStore,
};
use time::OffsetDateTime;

fn set(access: &str, refresh: &str) -> TokenSet {
    TokenSet::expiring_in(
        AccessToken::new(access),
        OffsetDateTime::now_utc(),
        Duration::from_secs(3600),
    )
    .with_refresh_token(Some(RefreshToken::new(refresh)), None)
}

fn key(id: &str) -> SealingKey {
    SealingKey::generate(id).unwrap()
}

async fn save(store: &dyn TokenStore, account: &AccountKey, tokens: &TokenSet) {
    HeldAccount::acquire(store, account)
        .await
        .unwrap()
        .save(tokens, OffsetDateTime::now_utc())
        .await
        .unwrap();
}

async fn load(
    store: &dyn TokenStore,
    account: &AccountKey,
) -> Result<Option<TokenSet>, StoreError> {
    HeldAccount::acquire(store, account).await?.load().await
}

/// The raw bytes the backend holds for `account`.
async fn raw(store: &MemoryStore, account: &AccountKey) -> Option<Vec<u8>> {
    let mut lock = store.lock(account).await.unwrap();
    lock.load()
        .await
        .unwrap()
        .map(|b| b.expose_secret().to_vec())
}

async fn put_raw(store: &MemoryStore, account: &AccountKey, bytes: &[u8]) {
    let mut lock = store.lock(account).await.unwrap();
    lock.save(StoreRecord {
        bytes,
        keep_for: None,
    })
    .await
    .unwrap();
}

#[tokio::test]
async fn a_sealed_set_round_trips_and_the_backend_never_sees_a_token() {
    let backend = MemoryStore::new();
    let store = SealedStore::new(backend.clone(), key("k1"));
    let alice = AccountKey::new("demo:alice#1");
    save(
        &store,
        &alice,
        &set("at-secret-0123456789", "rt-secret-0123456789"),
    )
    .await;

    let bytes = raw(&backend, &alice).await.unwrap();
    let text = String::from_utf8_lossy(&bytes);
    assert!(bytes.starts_with(b"AKSEAL1\nk1\n"), "{text}");
    assert!(!text.contains("at-secret") && !text.contains("rt-secret"));
    let back = load(&store, &alice).await.unwrap().unwrap();
    assert_eq!(back.access_token().expose_secret(), "at-secret-0123456789");
    assert_eq!(
        back.refresh_token().unwrap().expose_secret(),
        "rt-secret-0123456789"
    );
}

#[tokio::test]
async fn a_value_sealed_with_an_unknown_key_is_kept_where_it_is() {
    let backend = MemoryStore::new();
    let alice = AccountKey::new("demo:alice#1");
    save(
        &SealedStore::new(backend.clone(), key("old")),
        &alice,
        &set("a", "r"),
    )
    .await;
    let before = raw(&backend, &alice).await.unwrap();

    let error = load(&SealedStore::new(backend.clone(), key("new")), &alice)
        .await
        .unwrap_err();
    assert!(
        matches!(&error, StoreError::UnknownSealingKey { key_id, .. } if key_id == "old"),
        "{error:?}"
    );
    assert_eq!(
        raw(&backend, &alice).await.unwrap(),
        before,
        "not moved, not changed"
    );
    assert!(backend.set_aside_entries().is_empty());
}

#[tokio::test]
async fn a_tampered_value_is_set_aside_like_corruption() {
    let backend = MemoryStore::new();
    let store = SealedStore::new(backend.clone(), key("k1"));
    let alice = AccountKey::new("demo:alice#1");
    save(&store, &alice, &set("a", "r")).await;
    let mut bytes = raw(&backend, &alice).await.unwrap();
    let last = bytes.len() - 1;
    bytes[last] ^= 1;
    put_raw(&backend, &alice, &bytes).await;

    let error = load(&store, &alice).await.unwrap_err();
    assert!(
        matches!(&error, StoreError::Corrupt { reason, .. } if reason.contains("authentication")),
        "{error:?}"
    );
    assert_eq!(backend.set_aside_entries().len(), 1, "kept, out of the way");
    assert!(load(&store, &alice).await.unwrap().is_none());
}

#[tokio::test]
async fn a_sealed_value_moved_to_another_account_does_not_open() {
    let backend = MemoryStore::new();
    let store = SealedStore::new(backend.clone(), key("k1"));
    let (alice, mallory) = (
        AccountKey::new("demo:alice#1"),
        AccountKey::new("demo:mallory#1"),
    );
    save(&store, &alice, &set("alice-at", "alice-rt")).await;
    let bytes = raw(&backend, &alice).await.unwrap();
    put_raw(&backend, &mallory, &bytes).await;

    let error = load(&store, &mallory).await.unwrap_err();
    assert!(matches!(error, StoreError::Corrupt { .. }), "{error:?}");
    assert!(load(&store, &alice).await.unwrap().is_some());
}

#[tokio::test]
async fn keys_rotate_reading_with_any_and_writing_with_the_current() {
    let backend = MemoryStore::new();
    let old = key("2026-06");
    let alice = AccountKey::new("demo:alice#1");
    save(
        &SealedStore::new(backend.clone(), old.clone()),
        &alice,
        &set("a1", "r1"),
    )
    .await;

    let rotated = SealedStore::new(backend.clone(), key("2026-12")).with_previous_key(old);
    let back = load(&rotated, &alice).await.unwrap().unwrap();
    assert_eq!(
        back.access_token().expose_secret(),
        "a1",
        "read with the old key"
    );
    save(&rotated, &alice, &set("a2", "r2")).await;
    assert!(
        raw(&backend, &alice)
            .await
            .unwrap()
            .starts_with(b"AKSEAL1\n2026-12\n"),
        "re-sealed with the current key on the next save"
    );
}

#[test]
fn keys_load_from_base64_and_never_show_themselves() {
    let generated = key("file-key");
    let encoded = generated.to_base64();
    let loaded = SealingKey::from_base64("file-key", &encoded).unwrap();
    assert_eq!(loaded.id(), "file-key");
    assert!(!format!("{loaded:?}").contains(encoded.expose_secret()));
    assert!(SealingKey::from_base64("k", &SecretString::from("c2hvcnQ=")).is_err());
    assert!(SealingKey::new("bad id\n", [0; 32]).is_err());
}

#[tokio::test]
async fn a_store_without_keys_reports_a_sealed_value_and_leaves_it() {
    let backend = MemoryStore::new();
    let alice = AccountKey::new("demo:alice#1");
    save(
        &SealedStore::new(backend.clone(), key("k9")),
        &alice,
        &set("a", "r"),
    )
    .await;
    let error = load(&backend, &alice).await.unwrap_err();
    assert!(
        matches!(&error, StoreError::UnknownSealingKey { key_id, .. } if key_id == "k9"),
        "{error:?}"
    );
    assert!(backend.set_aside_entries().is_empty());
    assert!(raw(&backend, &alice).await.is_some());
}

//! A token goes back only to where it came from: stored sets are bound to
//! their token endpoint, client, resources and scopes, and the manager checks
//! the binding before it sends anything. Also: terminal refusals, sign-out
//! through the store's hold, seeding a store, tokens this client cannot use.

mod fixture;

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration as StdDuration;

use async_trait::async_trait;
use authkit_core::clock::ManualClock;
use authkit_core::endpoint::RequestContext;
use authkit_core::error::ConfigErrorKind;
use authkit_core::grant::PasswordGrant;
use authkit_core::token::{Binding, Scopes};
use authkit_core::{
    AccessToken, AccountKey, AccountState, ClientAuth, Error, ExposeSecret, GenericProvider,
    MemoryStore, Password, ProtocolError, RefreshToken, StoreError, TokenEndpoint, TokenManager,
    TokenProvider, TokenSet,
};
use authkit_testkit::support::{issued_set, quick_retries};
use fixture::{Fixture, PASSWORD, TestServer, stored_in};
use time::Duration;
use wiremock::MockServer;

fn endpoint(server: &MockServer, client_id: &str) -> TokenEndpoint {
    TokenEndpoint::builder(format!("{}/token", server.uri()))
        .client_auth(ClientAuth::public(client_id))
        .retry_policy(quick_retries(2))
        .build()
        .unwrap()
}

fn provider(server: &MockServer, client_id: &str, scopes: &[&str]) -> GenericProvider {
    GenericProvider::new("test:alice", endpoint(server, client_id)).with_grant(
        PasswordGrant::new("alice", Password::new(PASSWORD)).with_scopes(scopes.iter().copied()),
    )
}

fn manager(provider: impl TokenProvider + 'static, f: &Fixture) -> TokenManager {
    TokenManager::builder(provider, f.store.clone())
        .clock(Arc::new(f.clock.clone()))
        .build()
}

/// A provider that names its account with a fixed key, as a hand-written
/// adapter might: two configurations can then meet on one stored account.
#[derive(Debug)]
struct FixedKey {
    key: AccountKey,
    inner: GenericProvider,
}

#[async_trait]
impl TokenProvider for FixedKey {
    fn account_key(&self) -> &AccountKey {
        &self.key
    }
    fn binding(&self) -> &Binding {
        self.inner.binding()
    }
    async fn authenticate(&self, cx: &RequestContext) -> Result<TokenSet, Error> {
        self.inner.authenticate(cx).await
    }
    async fn refresh(&self, rt: &RefreshToken, cx: &RequestContext) -> Result<TokenSet, Error> {
        self.inner.refresh(rt, cx).await
    }
}

#[tokio::test]
async fn the_same_name_at_another_server_or_client_is_another_account() {
    let f = Fixture::new().await;
    let (other_server, _) = TestServer::new().start().await;
    let here = provider(&f.server, "api", &[]);
    let elsewhere = provider(&other_server, "api", &[]);
    let other_client = provider(&f.server, "other-app", &[]);
    assert_ne!(here.account_key(), elsewhere.account_key());
    assert_ne!(here.account_key(), other_client.account_key());
    assert!(
        here.account_key().as_str().starts_with("test:alice#"),
        "still readable: {}",
        here.account_key()
    );
}

#[tokio::test]
async fn another_token_url_never_receives_the_stored_refresh_token_and_the_set_survives() {
    let f = Fixture::new().await;
    f.token().await;
    let before = f.stored().await;

    let (other_server, other_state) = TestServer::new().start().await;
    let colliding = FixedKey {
        key: f.manager.account_key().clone(),
        inner: provider(&other_server, "api", &[]),
    };
    let other = manager(colliding, &f);
    f.clock.advance(Duration::hours(2));
    let error = other.access_token().await.unwrap_err();
    assert!(
        matches!(&error, Error::Config(c) if c.kind() == ConfigErrorKind::BindingMismatch),
        "{error:?}"
    );
    assert!(
        error.to_string().contains(&f.server.uri())
            && error.to_string().contains(&other_server.uri()),
        "the error names both: {error}"
    );
    assert_eq!(
        other_state.requests(),
        0,
        "nothing was sent to the other server"
    );
    let after = f.stored().await;
    assert!(after.access_token().same_secret(before.access_token()));
    assert!(
        after
            .refresh_token()
            .unwrap()
            .same_secret(before.refresh_token().unwrap()),
        "the stored session is untouched"
    );
    // The account still works where it came from.
    assert_eq!(f.token().await, "at-2-secret");
    assert_eq!(f.state.presented(), ["rt-1-secret"]);
}

#[tokio::test]
async fn another_client_never_receives_the_stored_refresh_token() {
    let f = Fixture::new().await;
    f.token().await;
    let colliding = FixedKey {
        key: f.manager.account_key().clone(),
        inner: provider(&f.server, "other-app", &[]),
    };
    let other = manager(colliding, &f);
    f.clock.advance(Duration::hours(2));
    let error = other.access_token().await.unwrap_err();
    assert!(
        matches!(&error, Error::Config(c) if c.kind() == ConfigErrorKind::BindingMismatch),
        "{error:?}"
    );
    assert_eq!(f.state.requests(), 1, "only the first sign-in was sent");
    assert!(f.stored().await.refresh_token().is_some());
}

#[tokio::test]
async fn a_server_that_grants_fewer_scopes_than_asked_is_not_asked_again_on_every_call() {
    // RFC 6749 §3.3: the server may grant fewer scopes than asked. Asking
    // it the same way again gets the same answer, so the set serves that
    // request: a second manager (another process, say) asking the same
    // scopes is served from the store, with no second password grant.
    let server = MockServer::start().await;
    wiremock::Mock::given(wiremock::matchers::method("POST"))
        .respond_with(
            wiremock::ResponseTemplate::new(200).set_body_json(serde_json::json!({
                "access_token": "at-narrowed",
                "token_type": "Bearer",
                "expires_in": 3600,
                "refresh_token": "rt-1",
                "scope": "read",
            })),
        )
        .expect(1)
        .mount(&server)
        .await;
    let store = MemoryStore::new();
    for process in 0..2 {
        let manager =
            TokenManager::new(provider(&server, "api", &["read", "write"]), store.clone());
        let token = manager.access_token().await.unwrap();
        assert_eq!(token.expose_secret(), "at-narrowed", "process {process}");
        let set = manager.token_set().await.unwrap();
        assert_eq!(
            set.granted_scopes(),
            Scopes::parse("read"),
            "what was granted"
        );
    }
    server.verify().await;
}

#[tokio::test]
async fn asking_for_wider_scopes_gets_a_wider_token_not_the_old_one() {
    let f = Fixture::new().await;
    let narrow = manager(provider(&f.server, "api", &["read"]), &f);
    assert_eq!(
        narrow.access_token().await.unwrap().expose_secret(),
        "at-1-secret"
    );
    let wide = manager(provider(&f.server, "api", &["read", "write"]), &f);
    assert_eq!(wide.account_key(), narrow.account_key(), "one account");
    let token = wide.access_token().await.unwrap();
    assert_eq!(token.expose_secret(), "at-2-secret", "a new grant");
    assert_eq!(f.state.count("password"), 2);
    assert!(
        f.state.presented().is_empty(),
        "the narrower refresh token was not used to buy wider scopes"
    );
    let stored = stored_in(&f.store, wide.account_key()).await.unwrap();
    assert_eq!(
        stored.binding().unwrap().scopes(),
        &Scopes::parse("read write")
    );
    // The narrower configuration is served by the wider set.
    let narrow_again = manager(provider(&f.server, "api", &["read"]), &f);
    assert_eq!(
        narrow_again.access_token().await.unwrap().expose_secret(),
        "at-2-secret"
    );
    assert_eq!(f.state.requests(), 2);
}

/// An adapter whose server reports a locked account in its description.
#[derive(Debug)]
struct LockReporting(GenericProvider);

fn mark_locked(error: Error) -> Error {
    error.map_refusal(|r| {
        if r.description().is_some_and(|d| d.contains("locked")) {
            r.with_account_state(AccountState::Locked)
        } else {
            r
        }
    })
}

#[async_trait]
impl TokenProvider for LockReporting {
    fn account_key(&self) -> &AccountKey {
        self.0.account_key()
    }
    fn binding(&self) -> &Binding {
        self.0.binding()
    }
    async fn authenticate(&self, cx: &RequestContext) -> Result<TokenSet, Error> {
        self.0.authenticate(cx).await.map_err(mark_locked)
    }
    async fn refresh(&self, rt: &RefreshToken, cx: &RequestContext) -> Result<TokenSet, Error> {
        self.0.refresh(rt, cx).await.map_err(mark_locked)
    }
}

#[tokio::test]
async fn a_terminal_refusal_is_not_followed_by_a_password_grant() {
    let f = Fixture::new().await;
    let m = manager(LockReporting(provider(&f.server, "api", &[])), &f);
    m.access_token().await.unwrap();
    f.state.locked.store(true, Ordering::SeqCst);
    f.clock.advance(Duration::hours(2));
    let error = m.access_token().await.unwrap_err();
    assert_eq!(
        error.refusal().and_then(|r| r.account_state()),
        Some(AccountState::Locked),
        "{error:?}"
    );
    assert_eq!(
        f.state.count("password"),
        1,
        "the password was not sent again"
    );
    assert_eq!(f.state.count("refresh_token"), 1);
}

#[tokio::test]
async fn sign_out_goes_through_the_hold_and_a_lost_hold_keeps_the_set() {
    let f = Fixture::new().await;
    f.token().await;
    f.store.lose_leases.store(true, Ordering::SeqCst);
    let error = f.manager.sign_out().await.unwrap_err();
    assert!(
        matches!(error, Error::Store(StoreError::LockLost { .. })),
        "{error:?}"
    );
    f.store.lose_leases.store(false, Ordering::SeqCst);
    assert!(
        stored_in(&f.store, f.manager.account_key()).await.is_some(),
        "a removal after the lease was lost is refused"
    );
    let signed_out = f.manager.sign_out().await.unwrap();
    assert!(matches!(
        signed_out.revocation(),
        authkit_core::revocation::Revocation::NotOffered
    ));
    assert!(stored_in(&f.store, f.manager.account_key()).await.is_none());
}

#[tokio::test]
async fn a_store_seeded_in_one_call_serves_its_set_without_a_request() {
    let (server, state) = TestServer::new().start().await;
    let provider = provider(&server, "api", &[]);
    let clock = ManualClock::starting_now();
    let seeded = issued_set(
        &provider,
        "seeded-at",
        Some("seeded-rt"),
        time::OffsetDateTime::now_utc(),
        StdDuration::from_secs(3600),
    );
    let store = MemoryStore::with_tokens(provider.account_key(), &seeded);
    let m = TokenManager::builder(provider, store)
        .clock(Arc::new(clock))
        .build();
    assert_eq!(m.access_token().await.unwrap().expose_secret(), "seeded-at");
    assert_eq!(state.requests(), 0);
}

#[tokio::test]
async fn a_stored_set_without_a_binding_is_left_alone() {
    let (server, state) = TestServer::new().start().await;
    let provider = provider(&server, "api", &[]);
    let unbound = TokenSet::expiring_in(
        AccessToken::new("old-at"),
        time::OffsetDateTime::now_utc() - Duration::hours(2),
        StdDuration::from_secs(3600),
    )
    .with_refresh_token(Some(RefreshToken::new("old-rt")), None);
    let store = MemoryStore::with_tokens(provider.account_key(), &unbound);
    let key = provider.account_key().clone();
    let m = TokenManager::new(provider, store.clone());
    let error = m.access_token().await.unwrap_err();
    assert!(
        matches!(&error, Error::Config(c) if c.kind() == ConfigErrorKind::BindingMismatch),
        "{error:?}"
    );
    assert_eq!(state.requests(), 0, "the old refresh token went nowhere");
    let kept = stored_in(&store, &key).await.unwrap();
    assert_eq!(kept.refresh_token().unwrap().expose_secret(), "old-rt");
}

#[tokio::test]
async fn a_token_this_client_cannot_present_is_neither_served_nor_stored() {
    let server = TestServer {
        token_type: "DPoP",
        ..TestServer::new()
    };
    let f = Fixture::with(server, PASSWORD).await;
    let error = f.manager.access_token().await.unwrap_err();
    assert!(
        matches!(
            error,
            Error::Protocol(ProtocolError::UnusableTokenType { .. })
        ),
        "{error:?}"
    );
    assert!(stored_in(&f.store, f.manager.account_key()).await.is_none());
}

//! Per-resource tokens (RFC 8707 §2.2): one account's refresh token buys an
//! access token per resource; each resource manager caches, single-flights
//! and stores its own, and a rotated refresh token goes back to the account
//! before anyone else can spend the old one.

use std::time::Duration;

use authkit_core::{
    ClientAuth, Error, ExposeSecret, GenericProvider, MemoryStore, TokenEndpoint, TokenManager,
};
use authkit_testkit::support::{issued_set, load, quick_retries};
use serde_json::json;
use time::OffsetDateTime;
use wiremock::matchers::{body_string_contains, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

const API: &str = "https://api.example.com/";
const REPORTS: &str = "https://reports.example.com/";

fn provider(server: &MockServer) -> GenericProvider {
    let endpoint = TokenEndpoint::builder(format!("{}/token", server.uri()))
        .client_auth(ClientAuth::public("cli"))
        .retry_policy(quick_retries(1))
        .timeout(Duration::from_secs(5))
        .build()
        .unwrap();
    GenericProvider::new("alice", endpoint)
}

/// The server rotates: `spent` buys a token for `resource` and `next`.
async fn rotates(server: &MockServer, spent: &str, resource: &str, access: &str, next: &str) {
    Mock::given(method("POST"))
        .and(path("/token"))
        .and(body_string_contains(format!("refresh_token={spent}")))
        .and(body_string_contains(format!(
            "resource={}",
            form_urlencoded::byte_serialize(resource.as_bytes()).collect::<String>()
        )))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "access_token": access, "token_type": "Bearer", "expires_in": 3600,
            "refresh_token": next,
        })))
        .expect(1)
        .mount(server)
        .await;
}

async fn signed_in(server: &MockServer) -> (TokenManager, MemoryStore) {
    let provider = provider(server);
    let set = issued_set(
        &provider,
        "at-account",
        Some("rt-1"),
        OffsetDateTime::now_utc(),
        Duration::from_secs(3600),
    );
    let store = MemoryStore::new();
    let account = TokenManager::new(provider, store.clone());
    account.sign_in_with(set).await.unwrap();
    (account, store)
}

#[tokio::test]
async fn each_resource_gets_its_own_token_and_the_rotated_refresh_token_goes_to_the_account() {
    let server = MockServer::start().await;
    rotates(&server, "rt-1", API, "at-api", "rt-2").await;
    rotates(&server, "rt-2", REPORTS, "at-reports", "rt-3").await;
    let (account, store) = signed_in(&server).await;
    let api = account.for_resource(API, ["api:read"]);
    let reports = account.for_resource(REPORTS, Vec::<String>::new());

    assert_eq!(api.access_token().await.unwrap().expose_secret(), "at-api");
    assert_eq!(
        reports.access_token().await.unwrap().expose_secret(),
        "at-reports"
    );
    // Cached: no more requests (the mocks expect one each).
    assert_eq!(api.access_token().await.unwrap().expose_secret(), "at-api");
    // The account still serves its own token, and holds the newest refresh token.
    assert_eq!(
        account.access_token().await.unwrap().expose_secret(),
        "at-account"
    );
    let stored = load(&store, account.account_key()).await.unwrap().unwrap();
    assert_eq!(stored.refresh_token().unwrap().expose_secret(), "rt-3");

    // Three accounts in the store, bound apart; the resource sets hold no
    // refresh token.
    assert_eq!(store.keys().len(), 3);
    assert_ne!(api.account_key(), reports.account_key());
    assert_ne!(api.account_key(), account.account_key());
    let api_set = load(&store, api.account_key()).await.unwrap().unwrap();
    assert!(api_set.refresh_token().is_none());
    assert_eq!(
        api_set.binding().unwrap().resources().collect::<Vec<_>>(),
        vec![API]
    );
    let sent: Vec<String> = server
        .received_requests()
        .await
        .unwrap()
        .iter()
        .map(|r| String::from_utf8_lossy(&r.body).into_owned())
        .collect();
    assert!(sent[0].contains("scope=api%3Aread"), "{sent:?}");
    assert!(!sent[1].contains("scope="), "{sent:?}");
}

#[tokio::test]
async fn many_callers_of_one_resource_cause_one_request() {
    // Dropped off the runtime: the callers below may spend the task's budget.
    let server = authkit_testkit::support::DropOffRuntime::new(MockServer::start().await);
    rotates(&server, "rt-1", API, "at-api", "rt-2").await;
    let (account, _) = signed_in(&server).await;
    let api = account.for_resource(API, Vec::<String>::new());
    let calls = (0..32).map(|_| {
        let api = api.clone();
        tokio::spawn(async move { api.access_token().await })
    });
    for call in futures::future::join_all(calls).await {
        assert_eq!(call.unwrap().unwrap().expose_secret(), "at-api");
    }
}

#[tokio::test]
async fn a_resource_token_needs_a_signed_in_account_and_nothing_is_sent_without_one() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(500))
        .expect(0)
        .mount(&server)
        .await;
    let account = TokenManager::new(provider(&server), MemoryStore::new());
    let err = account
        .for_resource(API, Vec::<String>::new())
        .access_token()
        .await
        .unwrap_err();
    assert!(matches!(err, Error::SignInRequired { .. }), "{err:?}");
}

#[tokio::test]
async fn a_provider_that_cannot_ask_for_resources_says_so() {
    #[derive(Debug)]
    struct Fixed(GenericProvider);
    #[async_trait::async_trait]
    impl authkit_core::TokenProvider for Fixed {
        fn account_key(&self) -> &authkit_core::AccountKey {
            self.0.account_key()
        }
        fn binding(&self) -> &authkit_core::token::Binding {
            self.0.binding()
        }
        async fn authenticate(
            &self,
            cx: &authkit_core::endpoint::RequestContext,
        ) -> Result<authkit_core::TokenSet, Error> {
            self.0.authenticate(cx).await
        }
        async fn refresh(
            &self,
            rt: &authkit_core::RefreshToken,
            cx: &authkit_core::endpoint::RequestContext,
        ) -> Result<authkit_core::TokenSet, Error> {
            self.0.refresh(rt, cx).await
        }
    }
    let server = MockServer::start().await;
    let inner = provider(&server);
    let set = issued_set(
        &inner,
        "at",
        Some("rt"),
        OffsetDateTime::now_utc(),
        Duration::from_secs(3600),
    );
    let account = TokenManager::new(Fixed(inner), MemoryStore::new());
    account.sign_in_with(set).await.unwrap();
    let err = account
        .for_resource(API, Vec::<String>::new())
        .access_token()
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Config(_)), "{err:?}");
}

#[tokio::test]
async fn a_resource_manager_never_overwrites_an_account_bound_to_the_same_resource() {
    let server = MockServer::start().await;
    rotates(&server, "rt-1", API, "at-api", "rt-2").await;
    let provider = provider(&server).with_resources([API]);
    let set = issued_set(
        &provider,
        "at-account",
        Some("rt-1"),
        OffsetDateTime::now_utc(),
        Duration::from_secs(3600),
    );
    let store = MemoryStore::new();
    let account = TokenManager::new(provider, store.clone());
    account.sign_in_with(set).await.unwrap();
    let api = account.for_resource(API, Vec::<String>::new());
    assert_ne!(api.account_key(), account.account_key());
    api.access_token().await.unwrap();
    let stored = load(&store, account.account_key()).await.unwrap().unwrap();
    assert_eq!(stored.refresh_token().unwrap().expose_secret(), "rt-2");
    assert_eq!(stored.access_token().expose_secret(), "at-account");
}

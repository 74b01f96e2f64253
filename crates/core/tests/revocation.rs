//! Revocation (RFC 7009) on sign-out: the refresh token first, then the
//! access token, each with its hint and the client's authentication; a
//! server that cannot revoke does not keep the account signed in, and the
//! caller is told.

use std::time::Duration;

use authkit_core::revocation::{Revocation, RevocationEndpoint};
use authkit_core::{ClientAuth, GenericProvider, MemoryStore, TokenEndpoint, TokenManager};
use authkit_testkit::support::{issued_set, quick_retries};
use time::OffsetDateTime;
use wiremock::matchers::{body_string_contains, header_exists, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

fn provider(server: &MockServer) -> GenericProvider {
    let endpoint = TokenEndpoint::builder(format!("{}/token", server.uri()))
        .client_auth(ClientAuth::basic("app", "s3cret"))
        .retry_policy(quick_retries(2))
        .timeout(Duration::from_secs(5))
        .build()
        .unwrap();
    GenericProvider::new("alice", endpoint)
        .with_revocation(&format!("{}/revoke", server.uri()))
        .unwrap()
}

async fn signed_in(provider: GenericProvider) -> (TokenManager, MemoryStore) {
    let store = MemoryStore::new();
    let set = issued_set(
        &provider,
        "at-to-revoke",
        Some("rt-to-revoke"),
        OffsetDateTime::now_utc(),
        Duration::from_secs(3600),
    );
    let manager = TokenManager::new(provider, store.clone());
    manager.sign_in_with(set).await.unwrap();
    (manager, store)
}

#[tokio::test]
async fn sign_out_revokes_the_refresh_token_then_the_access_token_then_forgets() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/revoke"))
        .and(header_exists("authorization"))
        .and(body_string_contains("token=rt-to-revoke"))
        .and(body_string_contains("token_type_hint=refresh_token"))
        .respond_with(ResponseTemplate::new(200))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/revoke"))
        .and(body_string_contains("token=at-to-revoke"))
        .and(body_string_contains("token_type_hint=access_token"))
        .respond_with(ResponseTemplate::new(200))
        .expect(1)
        .mount(&server)
        .await;
    let (manager, store) = signed_in(provider(&server)).await;
    let signed_out = manager.sign_out().await.unwrap();
    assert!(signed_out.revoked(), "{:?}", signed_out.revocation());
    assert!(store.keys().is_empty());
    let requests = server.received_requests().await.unwrap();
    let bodies: Vec<String> = requests
        .iter()
        .map(|r| String::from_utf8_lossy(&r.body).into_owned())
        .collect();
    assert!(
        bodies[0].contains("refresh_token"),
        "refresh token first: {bodies:?}"
    );
}

#[tokio::test]
async fn a_server_that_fails_to_revoke_does_not_stop_the_sign_out() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/revoke"))
        .respond_with(ResponseTemplate::new(503))
        .mount(&server)
        .await;
    let (manager, store) = signed_in(provider(&server)).await;
    let signed_out = manager.sign_out().await.unwrap();
    let Revocation::Failed(error) = signed_out.revocation() else {
        panic!(
            "expected a failed revocation, got {:?}",
            signed_out.revocation()
        );
    };
    assert!(error.is_retryable(), "{error:?}");
    let text = format!("{error} {error:?}");
    assert!(
        !text.contains("rt-to-revoke") && !text.contains("at-to-revoke"),
        "{text}"
    );
    assert!(store.keys().is_empty(), "the account is still stored");
    assert!(manager.cached_access_token().is_none());
}

#[tokio::test]
async fn a_refusal_to_revoke_is_reported_with_the_servers_code() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/revoke"))
        .respond_with(
            ResponseTemplate::new(400)
                .set_body_json(serde_json::json!({"error": "unsupported_token_type"})),
        )
        .mount(&server)
        .await;
    let (manager, _) = signed_in(provider(&server)).await;
    let signed_out = manager.sign_out().await.unwrap();
    match signed_out.revocation() {
        Revocation::Failed(authkit_core::Error::Refused(refusal)) => assert_eq!(
            refusal.code(),
            &authkit_core::ErrorCode::UnsupportedTokenType
        ),
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn nothing_stored_means_nothing_is_sent() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200))
        .expect(0)
        .mount(&server)
        .await;
    let manager = TokenManager::new(provider(&server), MemoryStore::new());
    let signed_out = manager.sign_out().await.unwrap();
    assert!(matches!(signed_out.revocation(), Revocation::NothingStored));
}

#[tokio::test]
async fn a_revocation_endpoint_alone_revokes_one_token() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/revoke"))
        .and(body_string_contains("token=only-this"))
        .respond_with(ResponseTemplate::new(200))
        .expect(1)
        .mount(&server)
        .await;
    let provider = provider(&server);
    let revocation = RevocationEndpoint::new(
        provider.endpoint().clone(),
        &format!("{}/revoke", server.uri()),
    )
    .unwrap();
    revocation
        .revoke(
            "only-this",
            authkit_core::revocation::TokenTypeHint::AccessToken,
            &authkit_core::endpoint::RequestContext::default(),
        )
        .await
        .unwrap();
}

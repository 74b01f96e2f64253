//! `AuthMiddleware` against the testkit's authorization server and its
//! protected resources (and wiremock where a scripted answer is the point):
//! the header, the one replay after a 401, and what is never replayed.

use std::sync::Arc;

use authkit_core::grant::PasswordGrant;
use authkit_core::sign_in::{AuthorizationRequest, StepUp};
use authkit_core::{
    ClientAuth, GenericProvider, MemoryStore, Password, TokenEndpoint, TokenManager,
};
use authkit_http::{AuthMiddleware, BearerChallenge, BearerError, UseManager, WithoutToken};
use authkit_testkit::support::assert_no_secrets;
use authkit_testkit::{MockAuthServer, MockClient};
use reqwest_middleware::ClientWithMiddleware;
use wiremock::matchers::method;
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

async fn server() -> MockAuthServer {
    MockAuthServer::builder()
        .user("alice", "pw")
        .user("bob", "pw2")
        .client(MockClient::public("api"))
        .protected_resource("/api/me")
        .start()
        .await
}

fn manager(server: &MockAuthServer, user: &str, password: &str) -> TokenManager {
    let endpoint = TokenEndpoint::builder(server.token_url())
        .client_auth(ClientAuth::public("api"))
        .build()
        .unwrap();
    let provider = GenericProvider::new(format!("demo:{user}"), endpoint)
        .with_grant(PasswordGrant::new(user, Password::new(password)));
    TokenManager::builder(provider, MemoryStore::new())
        .clock(server.shared_clock())
        .build()
}

/// An API that answers every GET with `template`.
async fn resource_answering(template: ResponseTemplate) -> MockServer {
    let resource = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(template)
        .mount(&resource)
        .await;
    resource
}

fn client(manager: &TokenManager) -> ClientWithMiddleware {
    reqwest_middleware::ClientBuilder::new(
        authkit_core::transport::http_client_builder()
            .unwrap()
            .build()
            .unwrap(),
    )
    .with(AuthMiddleware::new(manager.clone()))
    .build()
}

#[tokio::test]
async fn every_request_carries_the_managers_bearer_token() {
    let server = server().await;
    let manager = manager(&server, "alice", "pw");
    let api = client(&manager);
    let url = format!("{}/api/me", server.base_url());
    for _ in 0..3 {
        let response = api.get(&url).send().await.unwrap();
        assert_eq!(response.status(), 200);
    }
    assert_eq!(server.log().count("password"), 1, "one token for all");
    assert_eq!(server.resource_requests(), 3);
}

#[tokio::test]
async fn a_revoked_token_is_replaced_once_and_the_request_replayed() {
    let server = server().await;
    let manager = manager(&server, "alice", "pw");
    let api = client(&manager);
    let url = format!("{}/api/me", server.base_url());
    let first = manager.access_token().await.unwrap();
    server.revoke_access_token(&first);

    let response = api
        .post(&url)
        .body("a body in memory")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let answer: serde_json::Value =
        serde_json::from_slice(&response.bytes().await.unwrap()).unwrap();
    assert_eq!(
        answer["body"], "a body in memory",
        "the replay carried the body"
    );
    assert_eq!(server.resource_requests(), 2, "one refusal, one replay");
    assert_eq!(server.log().count("refresh_token"), 1, "one refresh");
    let now = manager.access_token().await.unwrap();
    assert!(!now.same_secret(&first));
}

#[tokio::test]
async fn a_second_refusal_goes_back_to_the_caller_with_its_challenge() {
    let resource = resource_answering(ResponseTemplate::new(401).insert_header(
        "WWW-Authenticate",
        r#"Bearer realm="api", error="invalid_token", error_description="nope""#,
    ))
    .await;
    let server = server().await;
    let manager = manager(&server, "alice", "pw");
    let response = client(&manager)
        .get(format!("{}/api", resource.uri()))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 401);
    let challenge = response
        .extensions()
        .get::<BearerChallenge>()
        .expect("the challenge");
    assert_eq!(challenge.error, Some(BearerError::InvalidToken));
    assert_eq!(challenge.error_description.as_deref(), Some("nope"));
    assert_eq!(
        resource.received_requests().await.unwrap().len(),
        2,
        "sent, replayed once, never looped"
    );
}

#[tokio::test]
async fn insufficient_scope_is_not_retried() {
    let resource = resource_answering(ResponseTemplate::new(403).insert_header(
        "WWW-Authenticate",
        r#"Bearer error="insufficient_scope", scope="admin""#,
    ))
    .await;
    let server = server().await;
    let manager = manager(&server, "alice", "pw");
    let response = client(&manager)
        .get(format!("{}/api", resource.uri()))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 403);
    let challenge = response.extensions().get::<BearerChallenge>().unwrap();
    assert_eq!(challenge.scopes().collect::<Vec<_>>(), ["admin"]);
    let asked = response.extensions().get::<StepUp>().unwrap();
    assert_eq!(asked.scopes(), ["admin"]);
    assert!(!asked.needs_user_authentication());
    assert_eq!(resource.received_requests().await.unwrap().len(), 1);
    assert_eq!(server.log().count("refresh_token"), 0);
}

/// RFC 9470: a 401 that asks for a stronger or more recent sign-in is not
/// a bad token. It is not replayed, no token is refreshed for it, and the
/// caller gets what was asked, typed, ready for the next sign-in.
#[tokio::test]
async fn a_step_up_challenge_is_handed_back_typed_and_not_replayed() {
    let resource = resource_answering(ResponseTemplate::new(401).insert_header(
        "WWW-Authenticate",
        r#"Bearer error="insufficient_user_authentication", error_description="A different authentication level is required", acr_values="myACR phr", max_age="300""#,
    ))
    .await;
    let server = server().await;
    let manager = manager(&server, "alice", "pw");
    let token = manager.access_token().await.unwrap();
    let response = client(&manager)
        .get(format!("{}/api", resource.uri()))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 401);
    assert_eq!(
        resource.received_requests().await.unwrap().len(),
        1,
        "a fresh token of the same sign-in would be refused the same way"
    );
    assert_eq!(server.log().count("refresh_token"), 0);
    assert_eq!(server.log().count("password"), 1);
    assert!(
        manager.access_token().await.unwrap().same_secret(&token),
        "the token was not invalidated"
    );
    let challenge = response.extensions().get::<BearerChallenge>().unwrap();
    assert_eq!(
        challenge.error,
        Some(BearerError::InsufficientUserAuthentication)
    );
    let asked = response.extensions().get::<StepUp>().unwrap();
    assert!(asked.needs_user_authentication());
    assert_eq!(asked.acr_values(), ["myACR", "phr"]);
    assert_eq!(asked.max_age(), Some(std::time::Duration::from_secs(300)));

    // The next browser sign-in asks for it.
    let authorize = url::Url::parse("https://login.example.com/authorize").unwrap();
    let request = AuthorizationRequest::builder(&authorize, "cli", "http://127.0.0.1:8400/cb")
        .step_up(asked)
        .build(&authkit_core::endpoint::RequestContext::default());
    let pairs: Vec<(String, String)> = request
        .url()
        .query_pairs()
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    assert!(pairs.contains(&("acr_values".into(), "myACR phr".into())));
    assert!(pairs.contains(&("max_age".into(), "300".into())));
}

#[tokio::test]
async fn a_streaming_body_is_not_replayed() {
    let server = server().await;
    let manager = manager(&server, "alice", "pw");
    let api = client(&manager);
    let first = manager.access_token().await.unwrap();
    server.revoke_access_token(&first);
    let stream = futures::stream::iter([Ok::<_, std::io::Error>(bytes::Bytes::from_static(
        b"streamed",
    ))]);
    let response = api
        .post(format!("{}/api/me", server.base_url()))
        .body(reqwest::Body::wrap_stream(stream))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 401, "returned as it is");
    assert_eq!(server.resource_requests(), 1, "not replayed");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn many_requests_refused_with_one_token_cause_one_refresh() {
    let server = server().await;
    let manager = manager(&server, "alice", "pw");
    let api = Arc::new(client(&manager));
    let first = manager.access_token().await.unwrap();
    server.revoke_access_token(&first);
    let url = format!("{}/api/me", server.base_url());
    let calls: Vec<_> = (0..20)
        .map(|_| {
            let (api, url) = (Arc::clone(&api), url.clone());
            tokio::spawn(async move { api.get(&url).send().await.unwrap().status() })
        })
        .collect();
    for call in calls {
        assert_eq!(call.await.unwrap(), 200);
    }
    assert_eq!(
        server.log().count("refresh_token"),
        1,
        "one refresh for every request that was refused with the same token"
    );
}

#[tokio::test]
async fn a_request_can_name_another_account_or_go_without_a_token() {
    let server = server().await;
    let alice = manager(&server, "alice", "pw");
    let bob = manager(&server, "bob", "pw2");
    let api = client(&alice);
    let url = format!("{}/api/me", server.base_url());

    let as_bob = api
        .get(&url)
        .with_extension(UseManager(bob.clone()))
        .send()
        .await
        .unwrap();
    assert_eq!(as_bob.status(), 200);
    assert!(
        bob.cached_access_token().is_some(),
        "bob's manager was used"
    );
    assert!(alice.cached_access_token().is_none(), "alice's was not");

    let bare = api
        .get(&url)
        .with_extension(WithoutToken)
        .send()
        .await
        .unwrap();
    assert_eq!(bare.status(), 401, "no token was sent");
    assert!(alice.cached_access_token().is_none());
}

#[tokio::test]
async fn a_failure_to_get_a_token_is_the_authkit_error() {
    let server = server().await;
    let manager = manager(&server, "alice", "wrong-password-123");
    let error = client(&manager)
        .get(format!("{}/api/me", server.base_url()))
        .send()
        .await
        .unwrap_err();
    let reqwest_middleware::Error::Middleware(inner) = &error else {
        panic!("expected the middleware's error, got {error:?}");
    };
    let authkit = inner
        .downcast_ref::<authkit_core::Error>()
        .expect("an authkit error");
    assert!(authkit.is_refusal());
    assert_no_secrets(&format!("{error:?} {error}"), &["wrong-password-123"]);
    assert_eq!(server.resource_requests(), 0, "no request without a token");
}

#[tokio::test]
async fn the_token_is_in_no_debug_and_the_header_is_sensitive() {
    let resource = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(|request: &Request| {
            let header = request.headers.get("authorization").unwrap();
            ResponseTemplate::new(200).set_body_string(header.to_str().unwrap().to_owned())
        })
        .mount(&resource)
        .await;
    let server = server().await;
    let manager = manager(&server, "alice", "pw");
    let middleware = AuthMiddleware::new(manager.clone());
    let sent = client(&manager)
        .get(format!("{}/api", resource.uri()))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let token = manager.access_token().await.unwrap();
    assert_eq!(
        sent,
        format!(
            "Bearer {}",
            authkit_core::ExposeSecret::expose_secret(&token)
        )
    );
    assert!(token.bearer_header().is_sensitive());
    assert_no_secrets(
        &format!("{middleware:?} {:?}", authkit_http::AuthLayer::new(manager)),
        &server.all_secrets(),
    );
}

#[tokio::test]
async fn a_whole_replay_logged_at_trace_shows_no_secret() {
    let (logs, guard) = authkit_testkit::capture::capture_logs();
    let server = server().await;
    let manager = manager(&server, "alice", "pw");
    let api = client(&manager);
    let first = manager.access_token().await.unwrap();
    server.revoke_access_token(&first);
    let response = api
        .get(format!("{}/api/me", server.base_url()))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    drop(guard);
    let text = logs.text();
    assert!(text.contains("replaying"), "the replay was logged: {text}");
    assert!(text.contains("demo:alice"), "events name the account");
    assert_no_secrets(&text, &server.all_secrets());
}

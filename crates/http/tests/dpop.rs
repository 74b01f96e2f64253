//! DPoP through the HTTP layer (RFC 9449 §7, §9): a DPoP-bound token goes as
//! `Authorization: DPoP` with a proof for each request, and a resource
//! server's `use_dpop_nonce` is answered by one replay with the nonce, the
//! same token and no refresh.

use std::sync::Arc;

use authkit_core::grant::PasswordGrant;
use authkit_core::{ClientAuth, GenericProvider, MemoryStore, TokenEndpoint, TokenManager};
use authkit_http::{AuthLayer, AuthMiddleware};
use authkit_testkit::support::quick_retries;
use authkit_testkit::{Scripted, ScriptedTransport};
use base64::Engine;
use serde_json::{Value, json};
use tower::{Service, ServiceBuilder, ServiceExt};
use wiremock::matchers::method;
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

fn dpop_manager() -> (TokenManager, ScriptedTransport) {
    let transport = ScriptedTransport::new([Scripted::json(
        200,
        json!({"access_token": "bound-token", "token_type": "DPoP", "expires_in": 3600}),
    )]);
    let endpoint = TokenEndpoint::builder("https://login.example.com/token")
        .client_auth(ClientAuth::public("cli"))
        .transport(Arc::new(transport.clone()))
        .retry_policy(quick_retries(1))
        .build()
        .unwrap();
    let provider = GenericProvider::new("dee", endpoint)
        .with_grant(PasswordGrant::new("dee", authkit_core::Password::new("pw")));
    (
        TokenManager::builder(provider, MemoryStore::new())
            .dpop()
            .build(),
        transport,
    )
}

/// The claims of a proof (its signature is checked in the core's tests).
fn claims(request: &Request) -> Value {
    let proof = request
        .headers
        .get("dpop")
        .expect("a DPoP proof")
        .to_str()
        .unwrap();
    let payload = proof.split('.').nth(1).unwrap();
    serde_json::from_slice(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(payload)
            .unwrap(),
    )
    .unwrap()
}

/// An API that wants a nonce in the proof: 401 with the DPoP challenge until
/// the proof carries `n-42`.
async fn api_wanting_a_nonce() -> MockServer {
    let api = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(|request: &Request| {
            if claims(request).get("nonce") == Some(&json!("n-42")) {
                ResponseTemplate::new(200).set_body_string("ok")
            } else {
                ResponseTemplate::new(401)
                    .insert_header(
                        "www-authenticate",
                        r#"DPoP error="use_dpop_nonce", error_description="Resource server requires nonce in DPoP proof""#,
                    )
                    .insert_header("dpop-nonce", "n-42")
            }
        })
        .mount(&api)
        .await;
    api
}

fn assert_dpop_requests(requests: &[Request], url: &str) {
    for request in requests {
        assert_eq!(
            request.headers.get("authorization").unwrap(),
            "DPoP bound-token",
            "a DPoP-bound token went out as Bearer"
        );
        let claims = claims(request);
        assert_eq!(claims["htm"], "POST");
        assert_eq!(claims["htu"], url);
        assert!(claims["ath"].is_string());
    }
}

#[tokio::test]
async fn the_middleware_answers_a_resource_servers_nonce_demand_once() {
    let (manager, tokens) = dpop_manager();
    let api = api_wanting_a_nonce().await;
    let client = reqwest_middleware::ClientBuilder::new(
        authkit_core::transport::http_client_builder()
            .unwrap()
            .build()
            .unwrap(),
    )
    .with(AuthMiddleware::new(manager.clone()))
    .build();
    let url = format!("{}/items?page=1", api.uri());
    let response = client.post(&url).body("{}").send().await.unwrap();
    assert_eq!(response.status(), 200);
    let requests = api.received_requests().await.unwrap();
    assert_eq!(requests.len(), 2);
    assert_dpop_requests(&requests, &format!("{}/items", api.uri()));
    assert_eq!(tokens.sent().len(), 1, "the nonce demand caused a refresh");

    // The nonce is remembered: the next request carries it at once.
    let response = client.post(&url).body("{}").send().await.unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(api.received_requests().await.unwrap().len(), 3);
}

#[tokio::test]
async fn the_tower_layer_answers_it_the_same_way() {
    let (manager, _) = dpop_manager();
    let api = api_wanting_a_nonce().await;
    let client = hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
        .build_http::<http_body_util::Full<bytes::Bytes>>();
    let mut service = ServiceBuilder::new()
        .layer(AuthLayer::new(manager))
        .service(client);
    let url = format!("{}/items", api.uri());
    let request = http::Request::post(&url)
        .body(http_body_util::Full::new(bytes::Bytes::from_static(b"{}")))
        .unwrap();
    let response = service.ready().await.unwrap().call(request).await.unwrap();
    assert_eq!(response.status(), 200);
    let requests = api.received_requests().await.unwrap();
    assert_eq!(requests.len(), 2);
    assert_dpop_requests(&requests, &url);
}

//! Pushed authorization requests (RFC 9126) as a specification: the
//! parameters go to the server in an authenticated POST, the browser's URL
//! carries only `client_id` and the `request_uri`, the reference expires
//! when the server says, a DPoP sign-in pushes with its proof and key
//! thumbprint, and the endpoint's refusals are classified like the token
//! endpoint's. A wiremock server stands in for the authorization server;
//! `real_oidc_provider.rs` and the command's browser test push to a real one.

use std::collections::HashMap;
use std::sync::Arc;

use authkit_core::clock::ManualClock;
use authkit_core::dpop::{DpopContext, DpopKey, DpopNonces};
use authkit_core::endpoint::RequestContext;
use authkit_core::secret::AuthorizationCode;
use authkit_core::sign_in::{AuthorizationRequest, Callback, PushedAuthorization};
use authkit_core::{ClientAuth, ClientSecret, Error, ErrorCode, TokenEndpoint};
use authkit_testkit::support::{assert_no_secrets, quick_retries};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

const SECRET: &str = "par-client-secret-7c1e";
const REQUEST_URI: &str = "urn:ietf:params:oauth:request_uri:bwc4JK-ESC0w8acc191e-Y1LTC2";

fn endpoint(server: &MockServer, auth: ClientAuth) -> TokenEndpoint {
    TokenEndpoint::builder(format!("{}/token", server.uri()))
        .client_auth(auth)
        .retry_policy(quick_retries(3))
        .build()
        .unwrap()
}

fn par(server: &MockServer, auth: ClientAuth) -> PushedAuthorization {
    PushedAuthorization::new(endpoint(server, auth), &format!("{}/par", server.uri())).unwrap()
}

fn authorize(server: &MockServer) -> url::Url {
    url::Url::parse(&format!("{}/authorize", server.uri())).unwrap()
}

fn created() -> ResponseTemplate {
    ResponseTemplate::new(201).set_body_json(serde_json::json!({
        "request_uri": REQUEST_URI,
        "expires_in": 60,
    }))
}

fn form(request: &Request) -> Vec<(String, String)> {
    form_urlencoded::parse(&request.body).into_owned().collect()
}

fn fields(request: &Request) -> HashMap<String, String> {
    form(request).into_iter().collect()
}

async fn pushes(server: &MockServer) -> Vec<Request> {
    server
        .received_requests()
        .await
        .unwrap()
        .into_iter()
        .filter(|r| r.url.path() == "/par")
        .collect()
}

#[tokio::test]
async fn the_parameters_go_to_the_server_authenticated_and_the_url_carries_only_the_reference() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/par"))
        .respond_with(created())
        .expect(1)
        .mount(&server)
        .await;
    let clock = Arc::new(ManualClock::starting_now());
    let cx = RequestContext::new(clock.clone());
    let request =
        AuthorizationRequest::builder(&authorize(&server), "cli", "http://127.0.0.1:8400/callback")
            .scopes(["openid", "offline_access"])
            .resource("https://api.example.test/")
            .push(
                &par(&server, ClientAuth::basic("cli", ClientSecret::new(SECRET))),
                &cx,
            )
            .await
            .unwrap();

    // The URL holds nothing but who the client is and the reference.
    let query: Vec<(String, String)> = request.url().query_pairs().into_owned().collect();
    assert_eq!(
        query,
        [
            ("client_id".to_owned(), "cli".to_owned()),
            ("request_uri".to_owned(), REQUEST_URI.to_owned())
        ]
    );
    assert_eq!(request.url().path(), "/authorize");

    // The push held the whole request, authenticated with Basic.
    let sent = &pushes(&server).await[0];
    let auth = sent.headers.get("authorization").unwrap().to_str().unwrap();
    assert!(auth.starts_with("Basic "), "{auth}");
    let pushed = fields(sent);
    assert_eq!(pushed["response_type"], "code");
    assert_eq!(pushed["client_id"], "cli");
    assert_eq!(pushed["redirect_uri"], "http://127.0.0.1:8400/callback");
    assert_eq!(pushed["scope"], "openid offline_access");
    assert_eq!(pushed["resource"], "https://api.example.test/");
    assert_eq!(pushed["state"], request.state().as_str());
    assert_eq!(pushed["code_challenge_method"], "S256");
    assert!(!pushed.contains_key("client_secret"));
    assert_no_secrets(&String::from_utf8_lossy(&sent.body), &[SECRET]);

    // Its answer is checked and exchanged as any other.
    let callback = Callback {
        code: AuthorizationCode::new("the-code"),
        state: Some(request.state().as_str().to_owned()),
        iss: None,
    };
    let grant = request.grant(&callback).unwrap();
    assert!(!format!("{grant:?}").contains("the-code"));
}

#[tokio::test]
async fn the_reference_expires_when_the_server_says() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/par"))
        .respond_with(created())
        .mount(&server)
        .await;
    let clock = Arc::new(ManualClock::starting_now());
    let cx = RequestContext::new(clock.clone());
    let sent_at = cx.clock().now();
    let request =
        AuthorizationRequest::builder(&authorize(&server), "cli", "http://127.0.0.1:1/cb")
            .push(&par(&server, ClientAuth::public("cli")), &cx)
            .await
            .unwrap();
    assert_eq!(
        request.expires_at(),
        Some(sent_at + time::Duration::seconds(60))
    );
    clock.advance(std::time::Duration::from_secs(59));
    assert!(!request.is_expired(cx.clock().now()));
    clock.advance(std::time::Duration::from_secs(1));
    assert!(request.is_expired(cx.clock().now()));

    // A request that was not pushed holds everything and never expires.
    let plain = AuthorizationRequest::builder(&authorize(&server), "cli", "http://127.0.0.1:1/cb")
        .build(&cx);
    assert_eq!(plain.expires_at(), None);
    assert!(!plain.is_expired(cx.clock().now() + time::Duration::days(365)));
}

#[tokio::test]
async fn a_client_that_names_itself_in_the_body_names_itself_once() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/par"))
        .respond_with(created())
        .mount(&server)
        .await;
    for auth in [
        ClientAuth::public("cli"),
        ClientAuth::secret_in_body("cli", ClientSecret::new(SECRET)),
    ] {
        AuthorizationRequest::builder(&authorize(&server), "cli", "http://127.0.0.1:1/cb")
            .push(&par(&server, auth), &RequestContext::default())
            .await
            .unwrap();
    }
    for sent in pushes(&server).await {
        let ids = form(&sent)
            .into_iter()
            .filter(|(name, _)| name == "client_id")
            .count();
        assert_eq!(ids, 1, "client_id is sent once");
    }
}

#[tokio::test]
async fn a_dpop_sign_in_pushes_with_a_proof_and_the_keys_thumbprint_and_answers_a_nonce() {
    let server = MockServer::start().await;
    // The server wants a nonce first (RFC 9449 §8), then takes the push.
    Mock::given(method("POST"))
        .and(path("/par"))
        .respond_with(
            ResponseTemplate::new(400)
                .insert_header("dpop-nonce", "nonce-1")
                .set_body_json(serde_json::json!({"error": "use_dpop_nonce"})),
        )
        .up_to_n_times(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/par"))
        .respond_with(created())
        .mount(&server)
        .await;
    let key = DpopKey::generate().unwrap();
    let cx = RequestContext::default().with_dpop(DpopContext::new(key.clone(), DpopNonces::new()));
    AuthorizationRequest::builder(&authorize(&server), "cli", "http://127.0.0.1:1/cb")
        .push(&par(&server, ClientAuth::public("cli")), &cx)
        .await
        .unwrap();

    let sent = pushes(&server).await;
    assert_eq!(sent.len(), 2, "sent once more with the nonce");
    for push in &sent {
        assert!(push.headers.get("dpop").is_some(), "every push has a proof");
        assert_eq!(fields(push)["dpop_jkt"], key.thumbprint());
    }
    let proof = sent[1].headers.get("dpop").unwrap().to_str().unwrap();
    let claims = proof.split('.').nth(1).unwrap();
    let claims: serde_json::Value = serde_json::from_slice(
        &base64::Engine::decode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, claims).unwrap(),
    )
    .unwrap();
    assert_eq!(claims["nonce"], "nonce-1");
    assert_eq!(claims["htu"], format!("{}/par", server.uri()));
}

#[tokio::test]
async fn the_endpoints_refusals_and_failures_are_classified_like_the_token_endpoints() {
    let cases = [
        (
            ResponseTemplate::new(401).set_body_json(serde_json::json!({
                "error": "invalid_client", "error_description": "client authentication failed"
            })),
            "invalid_client",
        ),
        (
            ResponseTemplate::new(400).set_body_json(serde_json::json!({
                "error": "invalid_request", "error_description": "redirect_uri is not registered"
            })),
            "invalid_request",
        ),
        (
            ResponseTemplate::new(503).set_body_raw(
                "<html><body>Down for maintenance</body></html>",
                "text/html",
            ),
            "transient",
        ),
        (
            ResponseTemplate::new(201).set_body_raw("<html>Created</html>", "text/html"),
            "protocol",
        ),
        (
            ResponseTemplate::new(201).set_body_json(serde_json::json!({"expires_in": 60})),
            "protocol",
        ),
    ];
    for (answer, expected) in cases {
        let server = MockServer::start().await;
        Mock::given(method("POST"))
            .and(path("/par"))
            .respond_with(answer)
            .mount(&server)
            .await;
        let error =
            AuthorizationRequest::builder(&authorize(&server), "cli", "http://127.0.0.1:1/cb")
                .push(
                    &par(&server, ClientAuth::basic("cli", ClientSecret::new(SECRET))),
                    &RequestContext::default(),
                )
                .await
                .unwrap_err();
        let kind = match &error {
            Error::Refused(refusal) => match refusal.code() {
                ErrorCode::InvalidClient => "invalid_client",
                ErrorCode::InvalidRequest => "invalid_request",
                other => panic!("unexpected code {other:?}"),
            },
            Error::Transient(_) => "transient",
            Error::Protocol(_) => "protocol",
            other => panic!("unexpected error {other:?}"),
        };
        assert_eq!(kind, expected, "{error}");
        assert_no_secrets(&format!("{error} {error:?}"), &[SECRET]);
        if expected == "invalid_request" {
            assert!(
                error.to_string().contains("redirect_uri is not registered"),
                "{error}"
            );
        }
    }
}

#[tokio::test]
async fn a_sign_in_for_another_client_is_refused_before_anything_is_sent() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(created())
        .expect(0)
        .mount(&server)
        .await;
    let error =
        AuthorizationRequest::builder(&authorize(&server), "someone-else", "http://127.0.0.1:1/cb")
            .push(
                &par(&server, ClientAuth::public("cli")),
                &RequestContext::default(),
            )
            .await
            .unwrap_err();
    assert!(matches!(error, Error::Config(_)), "{error:?}");
    assert!(error.to_string().contains("someone-else"), "{error}");
}

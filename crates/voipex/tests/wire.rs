//! Voipex on the wire, as its getting-started page describes it, against
//! wiremock on 127.0.0.1.

use std::time::Duration;

use authkit_core::endpoint::{EndpointSettings, RequestContext, RetryPolicy};
use authkit_core::{
    AccountState, ClientSecret, Error, ExposeSecret, Password, RefreshToken, TokenProvider,
};
use authkit_voipex::{Voipex, VoipexRefusal};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

const PASSWORD: &str = "p&ss+w=rd %ü";

/// The page's own example response.
fn page_example() -> serde_json::Value {
    serde_json::json!({
        "access_token": "kc-access-0123456789",
        "expires_in": 3000,
        "refresh_expires_in": 7200,
        "refresh_token": "kc-refresh-0123456789",
        "token_type": "Bearer",
        "not-before-policy": 0,
        "session_state": "fbf59841-8288-4a71-8192-2bd4bf8a5c50",
        "scope": "profile email"
    })
}

use authkit_testkit::support::token_endpoint_answering as server_answering;

fn voipex(server: &MockServer) -> Voipex {
    Voipex::builder("your@email.com", Password::new(PASSWORD))
        .endpoint(
            EndpointSettings::new()
                .base_url(server.uri())
                .retry_policy(RetryPolicy::none())
                .timeout(Duration::from_secs(5)),
        )
        .build()
        .unwrap()
}

fn cx() -> RequestContext {
    RequestContext::default()
}

fn form(request: &wiremock::Request) -> Vec<(String, String)> {
    form_urlencoded::parse(&request.body).into_owned().collect()
}

fn refusal_body(description: &str) -> serde_json::Value {
    serde_json::json!({"error": "invalid_grant", "error_description": description})
}

#[tokio::test]
async fn authenticate_sends_the_password_grant_exactly_as_the_page_shows() {
    let server = server_answering(ResponseTemplate::new(200).set_body_json(page_example())).await;
    voipex(&server).authenticate(&cx()).await.unwrap();
    let requests = server.received_requests().await.unwrap();
    let request = &requests[0];
    assert_eq!(request.url.path(), "/token");
    assert_eq!(
        request.headers.get("content-type").unwrap(),
        "application/x-www-form-urlencoded"
    );
    assert!(
        request.headers.get("authorization").is_none(),
        "a public client sends no credentials"
    );
    let body = String::from_utf8(request.body.clone()).unwrap();
    assert!(body.contains("username=your%40email.com"), "{body}");
    assert!(
        body.contains("password=p%26ss%2Bw%3Drd+%25%C3%BC"),
        "{body}"
    );
    let mut fields = form(request);
    fields.sort();
    assert_eq!(
        fields,
        [
            ("client_id".to_owned(), "api".to_owned()),
            ("grant_type".to_owned(), "password".to_owned()),
            ("password".to_owned(), PASSWORD.to_owned()),
            ("username".to_owned(), "your@email.com".to_owned()),
        ]
    );
}

#[tokio::test]
async fn refresh_sends_the_refresh_token_with_the_client_id() {
    let server = server_answering(ResponseTemplate::new(200).set_body_json(page_example())).await;
    voipex(&server)
        .refresh(&RefreshToken::new("rt-xyz"), &cx())
        .await
        .unwrap();
    let requests = server.received_requests().await.unwrap();
    let mut fields = form(&requests[0]);
    fields.sort();
    assert_eq!(
        fields,
        [
            ("client_id".to_owned(), "api".to_owned()),
            ("grant_type".to_owned(), "refresh_token".to_owned()),
            ("refresh_token".to_owned(), "rt-xyz".to_owned()),
        ]
    );
}

#[tokio::test]
async fn the_page_example_response_parses_with_every_field_kept() {
    let server = server_answering(ResponseTemplate::new(200).set_body_json(page_example())).await;
    let tokens = voipex(&server).authenticate(&cx()).await.unwrap();
    assert_eq!(
        tokens.access_token().expose_secret(),
        "kc-access-0123456789"
    );
    assert_eq!(
        tokens.refresh_token().unwrap().expose_secret(),
        "kc-refresh-0123456789"
    );
    assert_eq!(tokens.token_type().as_str(), "Bearer");
    assert_eq!(
        tokens.expires_at() - tokens.issued_at(),
        time::Duration::seconds(3000)
    );
    assert_eq!(
        tokens.refresh_expires_at().unwrap() - tokens.issued_at(),
        time::Duration::seconds(7200)
    );
    assert_eq!(tokens.scopes().unwrap(), ["profile", "email"]);
    assert_eq!(
        tokens.extra()["session_state"],
        "fbf59841-8288-4a71-8192-2bd4bf8a5c50"
    );
    assert_eq!(tokens.extra()["not-before-policy"], 0);
    let text = format!("{tokens:?}");
    assert!(
        !text.contains("kc-access") && !text.contains("kc-refresh"),
        "{text}"
    );
}

#[tokio::test]
async fn a_zero_refresh_expires_in_means_no_known_expiry() {
    let mut body = page_example();
    body["refresh_expires_in"] = 0.into();
    let server = server_answering(ResponseTemplate::new(200).set_body_json(body)).await;
    let tokens = voipex(&server).authenticate(&cx()).await.unwrap();
    assert!(tokens.refresh_token().is_some());
    assert_eq!(tokens.refresh_expires_at(), None);
}

#[tokio::test]
async fn keycloak_refusals_are_classified_by_code_and_description_in_either_status() {
    let cases = [
        (
            "Invalid user credentials",
            VoipexRefusal::InvalidCredentials,
        ),
        ("Account disabled", VoipexRefusal::AccountDisabled),
        (
            "Account is not fully set up",
            VoipexRefusal::AccountNotFullySetUp,
        ),
    ];
    for status in [400, 401] {
        for (description, expected) in cases {
            let server = server_answering(
                ResponseTemplate::new(status).set_body_json(refusal_body(description)),
            )
            .await;
            let error = voipex(&server).authenticate(&cx()).await.unwrap_err();
            assert_eq!(
                VoipexRefusal::of(&error),
                Some(expected),
                "{status} {description}"
            );
            assert!(!error.is_retryable());
            assert_eq!(
                server.received_requests().await.unwrap().len(),
                1,
                "refusals are not retried"
            );
            let text = format!("{error:?} {error}");
            assert!(!text.contains(PASSWORD), "{text}");
            let terminal = error.refusal().and_then(|r| r.account_state());
            match expected {
                VoipexRefusal::AccountDisabled => {
                    assert_eq!(terminal, Some(AccountState::Disabled))
                }
                VoipexRefusal::AccountNotFullySetUp => {
                    assert_eq!(terminal, Some(AccountState::NotFullySetUp))
                }
                _ => assert_eq!(terminal, None, "wrong credentials are not terminal"),
            }
        }
    }
    let server = server_answering(ResponseTemplate::new(400).set_body_json(serde_json::json!({
        "error": "unauthorized_client", "error_description": "Client not allowed for direct access grants"
    })))
    .await;
    let error = voipex(&server).authenticate(&cx()).await.unwrap_err();
    assert_eq!(
        VoipexRefusal::of(&error),
        Some(VoipexRefusal::ClientNotAllowed)
    );
}

#[tokio::test]
async fn every_dead_refresh_token_answer_means_authenticate_again() {
    let answers = [
        ("invalid_grant", "Token is not active"),
        ("invalid_grant", "Session not active"),
        ("invalid_grant", "Stale token"),
        (
            "invalid_grant",
            "Maximum allowed refresh token reuse exceeded",
        ),
        ("invalid_token", "Session not active"),
        (
            "unauthorized_client",
            "Token client and authorized client don't match",
        ),
    ];
    for status in [400, 401] {
        for (code, description) in answers {
            let server = server_answering(ResponseTemplate::new(status).set_body_json(
                serde_json::json!({"error": code, "error_description": description}),
            ))
            .await;
            let error = voipex(&server)
                .refresh(&RefreshToken::new("rt-dead"), &cx())
                .await
                .unwrap_err();
            assert!(
                error.is_refresh_token_dead(),
                "{status} {code} {description}: {error:?}"
            );
            assert_eq!(
                VoipexRefusal::of(&error),
                Some(VoipexRefusal::RefreshTokenDead)
            );
        }
    }
}

#[tokio::test]
async fn a_realm_token_url_and_a_confidential_client_are_supported() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/realms/voipex/protocol/openid-connect/token"))
        .respond_with(ResponseTemplate::new(200).set_body_json(page_example()))
        .mount(&server)
        .await;
    let voipex = Voipex::builder("your@email.com", Password::new(PASSWORD))
        .endpoint(EndpointSettings::new().token_url(format!(
            "{}/realms/voipex/protocol/openid-connect/token",
            server.uri()
        )))
        .client_id("backend")
        .client_secret(ClientSecret::new("backend-secret"))
        .scopes(["openid"])
        .build()
        .unwrap();
    voipex.authenticate(&cx()).await.unwrap();
    let requests = server.received_requests().await.unwrap();
    let fields = form(&requests[0]);
    assert!(fields.contains(&("client_id".into(), "backend".into())));
    assert!(fields.contains(&("client_secret".into(), "backend-secret".into())));
    assert!(fields.contains(&("scope".into(), "openid".into())));
    assert!(!format!("{voipex:?}").contains("backend-secret"));
    assert!(!format!("{voipex:?}").contains(PASSWORD));
}

#[test]
fn the_account_key_is_the_provider_and_user_name_at_its_server() {
    let voipex = Voipex::builder("alice@example.com", Password::new("x"))
        .build()
        .unwrap();
    assert!(
        voipex
            .account_key()
            .as_str()
            .starts_with("voipex:alice@example.com#"),
        "{}",
        voipex.account_key()
    );
    assert_eq!(voipex.token_url(), "https://auth.voipex.io/token");
    let staging = Voipex::builder("alice@example.com", Password::new("x"))
        .endpoint(EndpointSettings::new().base_url("https://auth.staging.voipex.io"))
        .build()
        .unwrap();
    assert_ne!(
        staging.account_key(),
        voipex.account_key(),
        "staging and production are different accounts"
    );
    let refused = Voipex::builder("alice", Password::new("x"))
        .endpoint(EndpointSettings::new().base_url("http://auth.voipex.io"))
        .build();
    assert!(
        matches!(refused, Err(Error::Config(_))),
        "plain http to a remote host"
    );
}

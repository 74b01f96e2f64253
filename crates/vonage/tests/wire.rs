//! Vonage on the wire, as its getting-started page describes it, against
//! wiremock on 127.0.0.1.

use std::time::Duration;

use authkit_core::endpoint::RetryPolicy;
use authkit_core::secret::AuthorizationCode;
use authkit_core::{ClientSecret, Error, ExposeSecret, Password, RefreshToken, TokenProvider};
use authkit_vonage::{Callback, Vonage, VonageRefusal, vbc_username};
use base64::Engine;
use wiremock::{MockServer, ResponseTemplate};

const PASSWORD: &str = "p&ss+w=rd %ü";
const SECRET: &str = "se:cr&t+%";

/// The page's example answer to a code exchange.
fn code_example() -> serde_json::Value {
    serde_json::json!({
        "access_token": "1c31afac-175c-3e3a-9d4b-8ecee3980cfa",
        "refresh_token": "dde2a67f-d99f-3f03-810b-1fcae59245de",
        "scope": "default",
        "token_type": "Bearer",
        "expires_in": 86400
    })
}

/// The page's example answer to a password sign-in.
fn password_example() -> serde_json::Value {
    serde_json::json!({
        "access_token": "abc123-580f-3ace-9a55-9584aaa60842",
        "refresh_token": "abc123-5903-3513-8d27-333daf581837",
        "scope": "openid",
        "id_token": "abc123eyJ4NQiOiJNemcxTnpZeU5UTXhPR1kxTlRNMU1HUTBPR1ZsTVRnM05XRXlZamRpWVdRNE1XSTFemhrWmciLCJhbGciOiJSUzI1NiJ9..gs7JO2RLPFIld7NXM9gnOy9CYaLs",
        "token_type": "Bearer",
        "expires_in": 82566
    })
}

async fn server_answering(body: serde_json::Value, status: u16) -> MockServer {
    authkit_testkit::support::token_endpoint_answering(
        ResponseTemplate::new(status).set_body_json(body),
    )
    .await
}

fn vonage(server: &MockServer) -> Vonage {
    Vonage::builder("consumer-key", ClientSecret::new(SECRET))
        .endpoint(
            authkit_core::endpoint::EndpointSettings::new()
                .base_url(server.uri())
                .retry_policy(RetryPolicy::none())
                .timeout(Duration::from_secs(5)),
        )
        .build()
        .unwrap()
}

fn cx() -> authkit_core::endpoint::RequestContext {
    authkit_core::endpoint::RequestContext::default()
}

async fn sorted_form(server: &MockServer) -> Vec<(String, String)> {
    let requests = server.received_requests().await.unwrap();
    let mut fields: Vec<(String, String)> = form_urlencoded::parse(&requests[0].body)
        .into_owned()
        .collect();
    fields.sort();
    fields
}

fn pair(k: &str, v: &str) -> (String, String) {
    (k.to_owned(), v.to_owned())
}

#[test]
fn user_names_get_the_vbc_suffix_once() {
    assert_eq!(vbc_username("alice"), "alice@vbc.prod");
    assert_eq!(vbc_username("name@corp.com"), "name@corp.com@vbc.prod");
    assert_eq!(vbc_username("bob@vbc.prod"), "bob@vbc.prod");
    assert_eq!(vbc_username(" carol "), "carol@vbc.prod");
}

#[tokio::test]
async fn the_password_grant_sends_what_the_page_shows() {
    let server = server_answering(password_example(), 200).await;
    vonage(&server)
        .password_account("name@corp.com", Password::new(PASSWORD))
        .authenticate(&cx())
        .await
        .unwrap();
    let requests = server.received_requests().await.unwrap();
    assert!(requests[0].headers.get("authorization").is_none());
    let body = String::from_utf8(requests[0].body.clone()).unwrap();
    assert!(
        body.contains("password=p%26ss%2Bw%3Drd+%25%C3%BC"),
        "{body}"
    );
    assert!(
        body.contains("username=name%40corp.com%40vbc.prod"),
        "{body}"
    );
    assert_eq!(
        sorted_form(&server).await,
        [
            pair("client_id", "consumer-key"),
            pair("client_secret", SECRET),
            pair("grant_type", "password"),
            pair("password", PASSWORD),
            pair("scope", "openid"),
            pair("username", "name@corp.com@vbc.prod"),
        ]
    );
}

#[tokio::test]
async fn the_page_password_example_keeps_the_id_token_and_its_shorter_lifetime() {
    let server = server_answering(password_example(), 200).await;
    let account = vonage(&server).password_account("alice", Password::new(PASSWORD));
    assert!(
        account.account_key().as_str().starts_with("vonage:alice#"),
        "{}",
        account.account_key()
    );
    let tokens = account.authenticate(&cx()).await.unwrap();
    assert!(
        tokens
            .id_token()
            .unwrap()
            .expose_secret()
            .starts_with("abc123eyJ4")
    );
    assert_eq!(
        tokens.expires_at() - tokens.issued_at(),
        time::Duration::seconds(82566),
        "the server's word, not 24 h"
    );
    assert_eq!(
        tokens.refresh_expires_at().unwrap() - tokens.issued_at(),
        time::Duration::days(7)
    );
    assert_eq!(tokens.scopes().unwrap(), ["openid"]);
    let text = format!("{tokens:?} {account:?}");
    for secret in ["abc123-580f", "abc123-5903", "abc123eyJ4", PASSWORD, SECRET] {
        assert!(!text.contains(secret), "{secret} in {text}");
    }
}

#[tokio::test]
async fn refresh_sends_client_id_secret_and_refresh_token() {
    let server = server_answering(code_example(), 200).await;
    let account = vonage(&server).password_account("alice", Password::new(PASSWORD));
    let tokens = account
        .refresh(&RefreshToken::new("rt-old"), &cx())
        .await
        .unwrap();
    assert_eq!(
        sorted_form(&server).await,
        [
            pair("client_id", "consumer-key"),
            pair("client_secret", SECRET),
            pair("grant_type", "refresh_token"),
            pair("refresh_token", "rt-old"),
        ]
    );
    assert_eq!(
        tokens.refresh_token().unwrap().expose_secret(),
        "dde2a67f-d99f-3f03-810b-1fcae59245de"
    );
    assert_eq!(
        tokens.expires_at() - tokens.issued_at(),
        time::Duration::days(1)
    );
}

#[tokio::test]
async fn the_authorization_url_carries_state_and_pkce() {
    let server = MockServer::start().await;
    let account = vonage(&server)
        .code_account("http://127.0.0.1:8400/callback", "desk")
        .unwrap();
    assert!(
        account
            .account_key()
            .as_str()
            .starts_with("vonage:consumer-key:desk#"),
        "{}",
        account.account_key()
    );
    let other_app = Vonage::builder("other-key", ClientSecret::new(SECRET))
        .endpoint(authkit_core::endpoint::EndpointSettings::new().base_url(server.uri()))
        .build()
        .unwrap();
    assert_ne!(
        other_app
            .password_account("alice", Password::new("x"))
            .account_key(),
        vonage(&server)
            .password_account("alice", Password::new("x"))
            .account_key(),
        "two Vonage applications for the same user are different accounts"
    );
    let request = account.authorization_request();
    let url = request.url();
    assert_eq!(url.path(), "/authorize");
    let params: std::collections::HashMap<String, String> =
        url.query_pairs().into_owned().collect();
    assert_eq!(params["scope"], "openid");
    assert_eq!(params["response_type"], "code");
    assert_eq!(params["redirect_uri"], "http://127.0.0.1:8400/callback");
    assert_eq!(params["client_id"], "consumer-key");
    assert!(request.state().matches(&params["state"]));
    assert_eq!(params["code_challenge_method"], "S256");
    assert_eq!(params["code_challenge"].len(), 43);
    assert_ne!(
        account.authorization_request().state().as_str(),
        request.state().as_str(),
        "fresh state each time"
    );

    let without_pkce = Vonage::builder("consumer-key", ClientSecret::new(SECRET))
        .endpoint(authkit_core::endpoint::EndpointSettings::new().base_url(server.uri()))
        .pkce(false)
        .build()
        .unwrap()
        .code_account("http://127.0.0.1:8400/callback", "desk")
        .unwrap()
        .authorization_request();
    assert!(
        !without_pkce
            .url()
            .query_pairs()
            .any(|(k, _)| k.starts_with("code_challenge"))
    );
}

#[tokio::test]
async fn the_code_exchange_uses_raw_basic_credentials_and_the_same_redirect_uri() {
    let server = server_answering(code_example(), 200).await;
    let redirect = "http://127.0.0.1:8400/callback?client=cli";
    let account = vonage(&server).code_account(redirect, "desk").unwrap();
    let request = account.authorization_request();
    let callback = Callback {
        code: AuthorizationCode::new("the-code"),
        state: Some(request.state().as_str().to_owned()),
        iss: None,
    };
    let tokens = account.exchange(request, &callback, &cx()).await.unwrap();
    assert_eq!(tokens.scopes().unwrap(), ["default"]);

    let requests = server.received_requests().await.unwrap();
    let expected = format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("consumer-key:{SECRET}"))
    );
    assert_eq!(
        requests[0]
            .headers
            .get("authorization")
            .unwrap()
            .to_str()
            .unwrap(),
        expected
    );
    let fields = sorted_form(&server).await;
    assert_eq!(fields[0], pair("code", "the-code"));
    assert_eq!(fields[1].0, "code_verifier");
    assert_eq!(fields[2], pair("grant_type", "authorization_code"));
    assert_eq!(
        fields[3],
        pair("redirect_uri", redirect),
        "byte-identical to the authorization request's"
    );
    assert_eq!(fields.len(), 4, "no secret in the body: {fields:?}");
}

#[tokio::test]
async fn a_mismatched_state_is_refused_before_any_request() {
    let server = server_answering(code_example(), 200).await;
    let account = vonage(&server)
        .code_account("http://127.0.0.1:8400/callback", "desk")
        .unwrap();
    for returned in [Some("forged".to_owned()), None] {
        let request = account.authorization_request();
        let callback = Callback {
            code: AuthorizationCode::new("the-code"),
            state: returned,
            iss: None,
        };
        let error = account
            .exchange(request, &callback, &cx())
            .await
            .unwrap_err();
        assert!(matches!(error, Error::SignInRequired { .. }), "{error:?}");
    }
    assert!(server.received_requests().await.unwrap().is_empty());
}

#[tokio::test]
async fn a_code_account_cannot_sign_in_without_a_person() {
    let server = MockServer::start().await;
    let account = vonage(&server)
        .code_account("http://127.0.0.1:8400/callback", "desk")
        .unwrap();
    assert!(matches!(
        account.authenticate(&cx()).await,
        Err(Error::SignInRequired { .. })
    ));
}

#[tokio::test]
async fn the_api_managers_refusals_are_classified() {
    let refusal = |code: &str, description: &str| serde_json::json!({"error": code, "error_description": description});
    let password =
        |server: &MockServer| vonage(server).password_account("alice", Password::new(PASSWORD));
    let cases = [
        (
            400,
            refusal("invalid_grant", "Authentication failed for alice@vbc.prod"),
            VonageRefusal::InvalidCredentials,
        ),
        (
            400,
            refusal(
                "invalid_grant",
                "17003 Account is locked for user alice@vbc.prod",
            ),
            VonageRefusal::AccountLocked,
        ),
        (
            401,
            refusal("invalid_client", "Client Authentication failed."),
            VonageRefusal::InvalidClient,
        ),
        (
            400,
            refusal("invalid_request", "Unsupported grant_type value"),
            VonageRefusal::UnsupportedGrant,
        ),
    ];
    for (status, body, expected) in cases {
        let server = server_answering(body.clone(), status).await;
        let error = password(&server).authenticate(&cx()).await.unwrap_err();
        assert_eq!(VonageRefusal::of(&error), Some(expected), "{body}");
        assert!(!error.is_retryable());
        assert!(!format!("{error:?} {error}").contains(PASSWORD));
    }

    let server = server_answering(
        refusal("invalid_grant", "Persisted access token data not found"),
        400,
    )
    .await;
    let error = password(&server)
        .refresh(&RefreshToken::new("spent"), &cx())
        .await
        .unwrap_err();
    assert!(error.is_refresh_token_dead());
    assert_eq!(
        VonageRefusal::of(&error),
        Some(VonageRefusal::RefreshTokenDead)
    );

    let server = server_answering(
        refusal(
            "invalid_grant",
            "Invalid authorization code received from token request",
        ),
        400,
    )
    .await;
    let account = vonage(&server)
        .code_account("http://127.0.0.1:8400/callback", "desk")
        .unwrap();
    let request = account.authorization_request();
    let callback = Callback {
        code: AuthorizationCode::new("bad"),
        state: Some(request.state().as_str().to_owned()),
        iss: None,
    };
    let error = account
        .exchange(request, &callback, &cx())
        .await
        .unwrap_err();
    assert_eq!(VonageRefusal::of(&error), Some(VonageRefusal::InvalidCode));
}

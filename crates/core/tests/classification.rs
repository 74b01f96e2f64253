//! How the token endpoint reads answers, specified without a server: a
//! scripted transport plays each response, so these tests say only what the
//! parser and classifier must do with it.

use std::sync::Arc;
use std::time::Duration;

use authkit_core::endpoint::RequestContext;
use authkit_core::error::{ConfigErrorKind, TransientKind};
use authkit_core::grant::{GrantKind, PasswordGrant, RefreshTokenGrant};
use authkit_core::token::{Scopes, TokenType};
use authkit_core::{
    ClientAuth, Error, ErrorCode, ExposeSecret, Password, ProtocolError, RefreshToken,
    TokenEndpoint, TokenSet,
};
use authkit_testkit::support::{assert_error_has_no_secrets, assert_no_secrets, quick_retries};
use authkit_testkit::{Scripted, ScriptedTransport};
use serde_json::json;
use time::OffsetDateTime;

const PASSWORD: &str = "p&ss+w=rd %é";
const TOKEN_URL: &str = "https://auth.example.com/token";

fn endpoint_with(transport: &ScriptedTransport) -> TokenEndpoint {
    TokenEndpoint::builder(TOKEN_URL)
        .client_auth(ClientAuth::public("api"))
        .transport(Arc::new(transport.clone()))
        .retry_policy(quick_retries(3))
        .build()
        .expect("valid endpoint")
}

fn password_grant() -> PasswordGrant {
    PasswordGrant::new("your@email.com", Password::new(PASSWORD))
}

/// The result of one password grant answered by `answers`, and how many
/// requests it took.
async fn answer(answers: Vec<Scripted>) -> (Result<TokenSet, Error>, usize) {
    let transport = ScriptedTransport::new(answers);
    let result = endpoint_with(&transport)
        .request(&password_grant(), &RequestContext::default())
        .await;
    (result, transport.sent().len())
}

async fn success(body: serde_json::Value) -> Result<TokenSet, Error> {
    answer(vec![Scripted::json(200, body)]).await.0
}

#[tokio::test]
async fn the_page_example_of_a_keycloak_response_parses_whole() {
    let before = OffsetDateTime::now_utc();
    let tokens = success(json!({
        "access_token": "kc-access",
        "expires_in": 3000,
        "refresh_expires_in": 7200,
        "refresh_token": "kc-refresh",
        "token_type": "Bearer",
        "not-before-policy": 0,
        "session_state": "fbf59841-8288-4a71-8192-2bd4bf8a5c50",
        "scope": "profile email"
    }))
    .await
    .unwrap();
    let after = OffsetDateTime::now_utc();

    assert_eq!(tokens.access_token().expose_secret(), "kc-access");
    assert_eq!(
        tokens.refresh_token().unwrap().expose_secret(),
        "kc-refresh"
    );
    assert_eq!(tokens.token_type(), &TokenType::Bearer);
    assert!(tokens.issued_at() >= before && tokens.issued_at() <= after);
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
    assert!(!tokens.expiry_estimated());
    assert_no_secrets(&format!("{tokens:?}"), &["kc-access", "kc-refresh"]);
}

#[tokio::test]
async fn every_set_is_bound_to_the_endpoint_client_and_granted_scopes() {
    let granted = success(json!({"access_token": "a", "scope": "read write"}))
        .await
        .unwrap();
    let binding = granted.binding().expect("bound");
    assert_eq!(binding.token_endpoint(), TOKEN_URL);
    assert_eq!(binding.client_id().as_str(), "api");
    assert_eq!(binding.scopes(), &Scopes::parse("write read"));

    // Without `scope` in the response, the requested scopes were granted.
    let transport = ScriptedTransport::new([Scripted::json(200, json!({"access_token": "a"}))]);
    let tokens = endpoint_with(&transport)
        .request(
            &password_grant().with_scopes(["openid", "email"]),
            &RequestContext::default(),
        )
        .await
        .unwrap();
    assert_eq!(
        tokens.binding().unwrap().scopes(),
        &Scopes::parse("openid email")
    );
}

async fn lifetime_for(expires_in: serde_json::Value) -> Result<(time::Duration, bool), Error> {
    let mut body = json!({"access_token": "at"});
    if !expires_in.is_null() {
        body["expires_in"] = expires_in;
    }
    let tokens = success(body).await?;
    Ok((
        tokens.expires_at() - tokens.issued_at(),
        tokens.expiry_estimated(),
    ))
}

#[tokio::test]
async fn expires_in_is_read_tolerantly_and_never_means_forever() {
    let five_minutes = time::Duration::minutes(5);
    let ten_years = time::Duration::days(3650);
    for (sent, expected) in [
        (json!(3600), (time::Duration::hours(1), false)),
        (json!("3600"), (time::Duration::hours(1), false)),
        (json!(" 120 "), (time::Duration::minutes(2), false)),
        (json!(59.9), (time::Duration::seconds(59), false)),
        (json!("86400.5"), (time::Duration::days(1), false)),
        (json!(0), (five_minutes, true)),
        (json!(-5), (five_minutes, true)),
        (serde_json::Value::Null, (five_minutes, true)),
        (json!(i64::MAX), (ten_years, false)),
        (json!(u64::MAX), (ten_years, false)),
        (json!(1e300), (ten_years, false)),
        (json!(i64::MAX.to_string()), (ten_years, false)),
    ] {
        assert_eq!(
            lifetime_for(sent.clone()).await.unwrap(),
            expected,
            "{sent}"
        );
    }
}

#[tokio::test]
async fn a_field_of_the_wrong_kind_is_a_malformed_success() {
    for (field, value) in [
        ("expires_in", json!("soon")),
        ("expires_in", json!(true)),
        ("expires_in", json!({"seconds": 60})),
        ("expires_in", json!([60])),
        ("refresh_expires_in", json!("later")),
        ("token_type", json!(1)),
        ("token_type", json!({"scheme": "Bearer"})),
        ("refresh_token", json!(42)),
    ] {
        let mut body = json!({"access_token": "wrong-kind-at-1234567", "expires_in": 60});
        body[field] = value.clone();
        let error = success(body).await.unwrap_err();
        match &error {
            Error::Protocol(ProtocolError::Malformed {
                status: 200,
                reason,
            }) => {
                assert!(reason.contains(field), "{field}: {reason}")
            }
            other => panic!("{field} = {value}: expected a malformed success, got {other:?}"),
        }
        assert_error_has_no_secrets(&error, &["wrong-kind-at-1234567"]);
    }
}

#[tokio::test]
async fn token_type_is_case_insensitive_and_defaults_to_bearer() {
    for sent in [Some("bearer"), Some("BEARER"), Some(""), None] {
        let mut body = json!({"access_token": "at", "expires_in": 60});
        if let Some(t) = sent {
            body["token_type"] = t.into();
        }
        assert_eq!(
            success(body).await.unwrap().token_type(),
            &TokenType::Bearer,
            "{sent:?}"
        );
    }
}

#[tokio::test]
async fn a_token_this_client_cannot_present_is_refused_not_handed_out() {
    for token_type in ["DPoP", "mac", "N_A"] {
        let error =
            success(json!({"access_token": "dpop-bound-at-12345678", "token_type": token_type}))
                .await
                .unwrap_err();
        assert!(
            matches!(&error, Error::Protocol(ProtocolError::UnusableTokenType { token_type: t }) if t == token_type),
            "{token_type}: {error:?}"
        );
        assert_error_has_no_secrets(&error, &["dpop-bound-at-12345678"]);
    }
    // A caller that enabled the scheme gets the token.
    let transport = ScriptedTransport::new([Scripted::json(
        200,
        json!({"access_token": "at", "token_type": "DPoP"}),
    )]);
    let endpoint = TokenEndpoint::builder(TOKEN_URL)
        .client_auth(ClientAuth::public("api"))
        .transport(Arc::new(transport))
        .accept_token_type(TokenType::parse("DPoP"))
        .build()
        .unwrap();
    let tokens = endpoint
        .request(&password_grant(), &RequestContext::default())
        .await
        .unwrap();
    assert_eq!(tokens.token_type(), &TokenType::parse("dpop"));
}

#[tokio::test]
async fn form_encoded_success_bodies_are_understood() {
    let (tokens, _) = answer(vec![Scripted::body(
        200,
        "application/x-www-form-urlencoded",
        "access_token=form-at&token_type=bearer&expires_in=60&scope=repo%20user",
    )])
    .await;
    let tokens = tokens.unwrap();
    assert_eq!(tokens.access_token().expose_secret(), "form-at");
    assert_eq!(tokens.scopes().unwrap(), ["repo", "user"]);
}

#[tokio::test]
async fn a_200_with_an_error_body_is_a_refusal_with_every_field_kept() {
    let (result, sent) = answer(vec![Scripted::json(
        200,
        json!({
            "error": "invalid_grant",
            "error_description": "Invalid user credentials",
            "reason": "locked_by_admin",
            "error_uri": "https://docs.example.com/errors"
        }),
    )])
    .await;
    let error = result.unwrap_err();
    let refusal = error.refusal().expect("a refusal");
    assert_eq!(refusal.grant(), &GrantKind::Password);
    assert_eq!(refusal.code(), &ErrorCode::InvalidGrant);
    assert_eq!(refusal.description(), Some("Invalid user credentials"));
    assert_eq!(refusal.uri(), Some("https://docs.example.com/errors"));
    assert_eq!(refusal.status(), 200);
    assert_eq!(refusal.field_text("reason"), Some("locked_by_admin"));
    assert!(!refusal.is_refresh_token_dead(), "a password refusal");
    assert!(!error.is_retryable());
    assert_eq!(sent, 1, "refusals are never retried");
    assert_error_has_no_secrets(&error, &[PASSWORD]);
}

#[tokio::test]
async fn the_description_is_read_from_the_fields_servers_use_for_it() {
    for field in [
        "error_description",
        "error_message",
        "errorMessage",
        "message",
        "detail",
    ] {
        let mut body = json!({"error": "invalid_client"});
        body[field] = json!("Client authentication failed");
        let (result, _) = answer(vec![Scripted::json(401, body)]).await;
        let error = result.unwrap_err();
        assert_eq!(
            error.refusal().and_then(|r| r.description()),
            Some("Client authentication failed"),
            "{field}"
        );
    }
}

#[tokio::test]
async fn a_dead_refresh_token_is_a_typed_fact_in_either_status() {
    for status in [400, 401] {
        let transport = ScriptedTransport::new([Scripted::json(
            status,
            json!({"error": "invalid_grant", "error_description": "Token is not active"}),
        )]);
        let error = endpoint_with(&transport)
            .request(
                &RefreshTokenGrant::new(RefreshToken::new("dead-rt-123456")),
                &RequestContext::default(),
            )
            .await
            .unwrap_err();
        assert!(error.is_refresh_token_dead(), "{status}: {error:?}");
        assert_eq!(transport.sent().len(), 1, "refusals are never retried");
        assert_error_has_no_secrets(&error, &["dead-rt-123456"]);
    }
}

#[tokio::test]
async fn an_oauth_error_with_a_5xx_status_is_a_server_failure_and_retried() {
    let failure = Scripted::json(
        500,
        json!({"error": "invalid_grant", "error_description": "database unavailable"}),
    );
    let (result, sent) = answer(vec![failure.clone(), failure.clone(), failure]).await;
    let error = result.unwrap_err();
    assert!(
        matches!(&error, Error::Transient(t) if t.kind() == TransientKind::ServerFailure { status: 500 }),
        "{error:?}"
    );
    assert!(error.refusal().is_none(), "a 5xx is never a refusal");
    assert!(error.is_retryable());
    assert_eq!(sent, 3, "retried up to the policy's attempts");

    // ... and a refresh, which may already be spent after a 500, is not re-sent.
    let transport = ScriptedTransport::new([Scripted::json(502, json!({"error": "server_error"}))]);
    let error = endpoint_with(&transport)
        .request(
            &RefreshTokenGrant::new(RefreshToken::new("rt")),
            &RequestContext::default(),
        )
        .await
        .unwrap_err();
    assert!(error.is_retryable());
    assert_eq!(transport.sent().len(), 1);
}

#[tokio::test]
async fn server_error_codes_are_transient_whatever_the_status() {
    for code in ["server_error", "temporarily_unavailable"] {
        let (result, _) = answer(vec![
            Scripted::json(400, json!({"error": code})).with_retry_after("0"),
            Scripted::json(200, json!({"access_token": "after"})),
        ])
        .await;
        assert_eq!(
            result.unwrap().access_token().expose_secret(),
            "after",
            "{code}"
        );
    }
}

#[tokio::test]
async fn retry_after_travels_with_the_transient_error() {
    let (result, _) = answer(vec![
        Scripted::body(503, "text/plain", "busy").with_retry_after("3600"),
    ])
    .await;
    let error = result.unwrap_err();
    assert_eq!(error.retry_after(), Some(Duration::from_secs(3600)));
    assert!(matches!(&error, Error::Transient(t) if t.status() == Some(503)));
}

#[tokio::test]
async fn an_nginx_502_page_is_a_server_failure_without_body_secrets() {
    let page = "<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n<center><h1>502 Bad Gateway</h1></center>\r\n<!-- upstream echoed refresh_token=rt-0123456789abcdef0123 -->\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n";
    let answers = vec![Scripted::body(502, "text/html", page); 3];
    let (result, sent) = answer(answers).await;
    let error = result.unwrap_err();
    match &error {
        Error::Transient(t) => {
            assert_eq!(t.kind(), TransientKind::ServerFailure { status: 502 });
            assert!(t.detail().contains("502 Bad Gateway"), "{}", t.detail());
        }
        other => panic!("expected a server failure, got {other:?}"),
    }
    assert!(error.is_retryable());
    assert_eq!(sent, 3, "retried up to the policy's attempts");
    assert_error_has_no_secrets(&error, &["rt-0123456789abcdef0123", PASSWORD]);
}

#[tokio::test]
async fn an_html_404_is_a_wrong_url_not_a_server_failure() {
    let (result, sent) = answer(vec![Scripted::body(
        404,
        "text/html",
        "<html><body><h1>Not Found</h1></body></html>",
    )])
    .await;
    let error = result.unwrap_err();
    assert!(
        matches!(&error, Error::Config(c) if c.kind() == ConfigErrorKind::NotATokenEndpoint),
        "{error:?}"
    );
    assert!(!error.is_retryable());
    assert_eq!(sent, 1);
}

#[tokio::test]
async fn an_html_login_page_with_status_200_is_not_oauth() {
    let page = "<!DOCTYPE html><html><head><title>Sign in</title><script>var csrf='9f8e7d6c5b4a39281706f5e4'</script></head><body><form>Sign in to continue</form></body></html>";
    let (result, _) = answer(vec![Scripted::body(200, "text/html; charset=utf-8", page)]).await;
    let error = result.unwrap_err();
    match &error {
        Error::Protocol(ProtocolError::NotOAuth {
            status,
            content_type,
            excerpt,
        }) => {
            assert_eq!(*status, 200);
            assert_eq!(content_type, "text/html; charset=utf-8");
            assert!(excerpt.contains("Sign in"), "{excerpt}");
        }
        other => panic!("expected NotOAuth, got {other:?}"),
    }
    assert_error_has_no_secrets(&error, &["9f8e7d6c5b4a39281706f5e4"]);
}

#[tokio::test]
async fn a_malformed_success_does_not_leak_the_tokens_it_held() {
    for body in [
        r#"{"access_token": "leaky-at-1234567", "refresh_token": 42}"#,
        r#"{"access_token": "leaky-at-1234567", "refresh_token": "leaky-rt-7654321""#,
        r#"{"token": "leaky-at-1234567"}"#,
        r#"["leaky-at-1234567"]"#,
    ] {
        let (result, _) = answer(vec![Scripted::body(200, "application/json", body)]).await;
        let error = result.unwrap_err();
        assert!(
            matches!(
                error,
                Error::Protocol(ProtocolError::Malformed { status: 200, .. })
            ),
            "{body}: {error:?}"
        );
        assert_error_has_no_secrets(&error, &["leaky-at-1234567", "leaky-rt-7654321"]);
    }
}

#[tokio::test]
async fn an_application_not_enabled_is_an_administrators_state_not_a_persons() {
    for (code, status, words) in [
        ("unauthorized_client", 400, "Client disabled"),
        (
            "invalid_client",
            401,
            "The application is not enabled for this account",
        ),
        (
            "access_denied",
            403,
            "Application is not subscribed to this API",
        ),
    ] {
        let (result, sent) = answer(vec![Scripted::json(
            status,
            json!({"error": code, "error_description": words}),
        )])
        .await;
        let error = result.unwrap_err();
        let refusal = error.refusal().expect("a refusal");
        assert_eq!(
            refusal.account_state(),
            Some(authkit_core::AccountState::ApplicationNotEnabled),
            "{code}: {words}"
        );
        assert!(refusal.account_state().unwrap().needs_an_administrator());
        assert_eq!(sent, 1, "not retried");
    }
    // A wrong client secret is not the application's state.
    let (result, _) = answer(vec![Scripted::json(
        401,
        json!({"error": "invalid_client", "error_description": "Invalid client credentials"}),
    )])
    .await;
    assert_eq!(result.unwrap_err().refusal().unwrap().account_state(), None);
}

#[test]
fn a_classifier_recodes_a_refusal_in_one_line_and_keeps_its_marks() {
    // A server that answers a wrong account id with `invalid_request`.
    let refusal = authkit_core::Refusal::new(GrantKind::Password, ErrorCode::InvalidRequest, 400)
        .with_description("Unknown account id");
    let recoded = refusal.clone().with_code(ErrorCode::InvalidGrant);
    assert_eq!(recoded.code(), &ErrorCode::InvalidGrant);
    assert_eq!(recoded.description(), Some("Unknown account id"));
    assert_eq!(recoded.status(), 400);
    assert!(!recoded.is_refresh_token_dead(), "a password grant");

    // A refresh re-coded as invalid_grant: its refresh token is dead, and
    // its words are read for the account's state.
    let refresh =
        authkit_core::Refusal::new(GrantKind::RefreshToken, ErrorCode::InvalidRequest, 400)
            .with_description("User is disabled");
    assert!(!refresh.is_refresh_token_dead());
    let recoded = refresh.with_code(ErrorCode::InvalidGrant);
    assert!(recoded.is_refresh_token_dead());
    assert_eq!(
        recoded.account_state(),
        Some(authkit_core::AccountState::Disabled)
    );

    // A mark made before is kept.
    let marked = authkit_core::Refusal::new(GrantKind::Password, ErrorCode::InvalidRequest, 400)
        .with_account_state(authkit_core::AccountState::Locked)
        .with_code(ErrorCode::InvalidGrant);
    assert_eq!(
        marked.account_state(),
        Some(authkit_core::AccountState::Locked)
    );
}

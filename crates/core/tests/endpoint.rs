//! The token endpoint client, specified against a wiremock server on 127.0.0.1.

mod support;

use std::time::Duration;

use authkit_core::{
    ClientAuth, ClientCredentialsGrant, ClientSecret, Error, ExposeSecret, NetworkErrorKind,
    Password, PasswordGrant, RefreshToken, RefreshTokenGrant, TokenEndpoint, TokenType,
};
use support::{
    assert_error_has_no_secrets, assert_no_secrets, endpoint, quick_retries, token_json,
};
use time::OffsetDateTime;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

const PASSWORD: &str = "p&ss+w=rd %é";

async fn server_answering(template: ResponseTemplate) -> MockServer {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/token"))
        .respond_with(template)
        .mount(&server)
        .await;
    server
}

/// A server that answers the first token request with `failure`, and every
/// later one with tokens whose access token is `access`.
async fn failing_once_then_issuing(failure: ResponseTemplate, access: &str) -> MockServer {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(failure)
        .up_to_n_times(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200).set_body_json(token_json(access, None, 60.into())))
        .mount(&server)
        .await;
    server
}

fn password_grant() -> PasswordGrant {
    PasswordGrant::new("your@email.com", Password::new(PASSWORD))
}

fn public() -> ClientAuth {
    ClientAuth::public("api")
}

fn form_of(request: &wiremock::Request) -> Vec<(String, String)> {
    form_urlencoded::parse(&request.body)
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}

#[tokio::test]
async fn password_grant_is_a_form_post_with_every_value_encoded() {
    let server = server_answering(ResponseTemplate::new(200).set_body_json(token_json(
        "at",
        Some("rt"),
        300.into(),
    )))
    .await;
    endpoint(&server, public())
        .request(&password_grant().with_scopes(["openid", "email"]))
        .await
        .unwrap();

    let requests = server.received_requests().await.unwrap();
    assert_eq!(requests.len(), 1);
    let request = &requests[0];
    assert_eq!(
        request.headers.get("content-type").unwrap(),
        "application/x-www-form-urlencoded"
    );
    assert_eq!(request.headers.get("accept").unwrap(), "application/json");
    assert!(request.headers.get("authorization").is_none());
    let body = String::from_utf8(request.body.clone()).unwrap();
    assert_eq!(
        body,
        "grant_type=password&client_id=api&username=your%40email.com&password=p%26ss%2Bw%3Drd+%25%C3%A9&scope=openid+email"
    );
    assert_eq!(
        form_of(request),
        vec![
            ("grant_type".into(), "password".into()),
            ("client_id".into(), "api".into()),
            ("username".into(), "your@email.com".into()),
            ("password".into(), PASSWORD.into()),
            ("scope".into(), "openid email".into()),
        ]
    );
}

#[tokio::test]
async fn each_client_authentication_style_is_sent_as_chosen() {
    use base64::Engine;
    let b64 = |s: &str| base64::engine::general_purpose::STANDARD.encode(s);
    let cases = [
        (
            ClientAuth::BasicEncoded {
                client_id: "my app".into(),
                client_secret: ClientSecret::new("s:c&t"),
            },
            Some(format!("Basic {}", b64("my+app:s%3Ac%26t"))),
            vec![],
        ),
        (
            ClientAuth::BasicRaw {
                client_id: "key".into(),
                client_secret: ClientSecret::new("s:c&t"),
            },
            Some(format!("Basic {}", b64("key:s:c&t"))),
            vec![],
        ),
        (
            ClientAuth::Body {
                client_id: "key".into(),
                client_secret: ClientSecret::new("s:c&t"),
            },
            None,
            vec![
                ("client_id".to_owned(), "key".to_owned()),
                ("client_secret".to_owned(), "s:c&t".to_owned()),
            ],
        ),
    ];
    for (auth, header, body_params) in cases {
        let server = server_answering(ResponseTemplate::new(200).set_body_json(token_json(
            "at",
            None,
            60.into(),
        )))
        .await;
        endpoint(&server, auth.clone())
            .request(&ClientCredentialsGrant::new())
            .await
            .unwrap();
        let requests = server.received_requests().await.unwrap();
        let request = &requests[0];
        assert_eq!(
            request
                .headers
                .get("authorization")
                .map(|v| v.to_str().unwrap().to_owned()),
            header,
            "{auth:?}"
        );
        let mut expected = vec![("grant_type".to_owned(), "client_credentials".to_owned())];
        expected.extend(body_params);
        assert_eq!(form_of(request), expected, "{auth:?}");
        assert_no_secrets(&format!("{auth:?}"), &["s:c&t"]);
    }
}

#[tokio::test]
async fn the_page_example_of_a_keycloak_response_parses_whole() {
    let body = serde_json::json!({
        "access_token": "kc-access",
        "expires_in": 3000,
        "refresh_expires_in": 7200,
        "refresh_token": "kc-refresh",
        "token_type": "Bearer",
        "not-before-policy": 0,
        "session_state": "fbf59841-8288-4a71-8192-2bd4bf8a5c50",
        "scope": "profile email"
    });
    let server = server_answering(ResponseTemplate::new(200).set_body_json(body)).await;
    let before = OffsetDateTime::now_utc();
    let tokens = endpoint(&server, public())
        .request(&password_grant())
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

async fn lifetime_for(expires_in: serde_json::Value) -> (time::Duration, bool) {
    let mut body = token_json("at", None, serde_json::Value::Null);
    match expires_in {
        serde_json::Value::Null => {
            body.as_object_mut().unwrap().remove("expires_in");
        }
        value => body["expires_in"] = value,
    }
    let server = server_answering(ResponseTemplate::new(200).set_body_json(body)).await;
    let tokens = endpoint(&server, public())
        .request(&password_grant())
        .await
        .unwrap();
    (
        tokens.expires_at() - tokens.issued_at(),
        tokens.expiry_estimated(),
    )
}

#[tokio::test]
async fn expires_in_is_read_tolerantly_and_never_means_forever() {
    use serde_json::json;
    let five_minutes = time::Duration::minutes(5);
    let ten_years = time::Duration::days(3650);
    assert_eq!(
        lifetime_for(json!(3600)).await,
        (time::Duration::hours(1), false)
    );
    assert_eq!(
        lifetime_for(json!("3600")).await,
        (time::Duration::hours(1), false)
    );
    assert_eq!(
        lifetime_for(json!(" 120 ")).await,
        (time::Duration::minutes(2), false)
    );
    assert_eq!(
        lifetime_for(json!(59.9)).await,
        (time::Duration::seconds(59), false)
    );
    assert_eq!(
        lifetime_for(json!("86400.5")).await,
        (time::Duration::days(1), false)
    );
    assert_eq!(lifetime_for(json!(0)).await, (five_minutes, true));
    assert_eq!(lifetime_for(json!(-5)).await, (five_minutes, true));
    assert_eq!(lifetime_for(json!("soon")).await, (five_minutes, true));
    assert_eq!(
        lifetime_for(serde_json::Value::Null).await,
        (five_minutes, true)
    );
    assert_eq!(lifetime_for(json!(i64::MAX)).await, (ten_years, false));
    assert_eq!(lifetime_for(json!(u64::MAX)).await, (ten_years, false));
    assert_eq!(lifetime_for(json!(1e300)).await, (ten_years, false));
    assert_eq!(
        lifetime_for(json!(i64::MAX.to_string())).await,
        (ten_years, false)
    );
}

#[tokio::test]
async fn a_configured_default_lifetime_applies_when_the_server_is_silent() {
    let server = server_answering(
        ResponseTemplate::new(200).set_body_json(serde_json::json!({"access_token": "at"})),
    )
    .await;
    let endpoint = TokenEndpoint::builder(format!("{}/token", server.uri()))
        .client_auth(public())
        .default_lifetime(Duration::from_secs(86400))
        .build()
        .unwrap();
    let tokens = endpoint.request(&password_grant()).await.unwrap();
    assert_eq!(
        tokens.expires_at() - tokens.issued_at(),
        time::Duration::days(1)
    );
    assert!(tokens.expiry_estimated());
}

#[tokio::test]
async fn token_type_is_case_insensitive_and_defaults_to_bearer() {
    for (sent, expected) in [
        (Some("bearer"), TokenType::Bearer),
        (Some("BEARER"), TokenType::Bearer),
        (None, TokenType::Bearer),
        (Some("DPoP"), TokenType::Other("DPoP".into())),
    ] {
        let mut body = serde_json::json!({"access_token": "at", "expires_in": 60});
        if let Some(t) = sent {
            body["token_type"] = t.into();
        }
        let server = server_answering(ResponseTemplate::new(200).set_body_json(body)).await;
        let tokens = endpoint(&server, public())
            .request(&password_grant())
            .await
            .unwrap();
        assert_eq!(tokens.token_type(), &expected);
    }
}

#[tokio::test]
async fn form_encoded_success_bodies_are_understood() {
    let server = server_answering(ResponseTemplate::new(200).set_body_raw(
        "access_token=form-at&token_type=bearer&expires_in=60&scope=repo%20user",
        "application/x-www-form-urlencoded",
    ))
    .await;
    let tokens = endpoint(&server, public())
        .request(&password_grant())
        .await
        .unwrap();
    assert_eq!(tokens.access_token().expose_secret(), "form-at");
    assert_eq!(tokens.scopes().unwrap(), ["repo", "user"]);
}

#[tokio::test]
async fn a_200_with_an_error_body_is_a_refusal() {
    let server = server_answering(ResponseTemplate::new(200).set_body_json(serde_json::json!({
        "error": "invalid_grant", "error_description": "Invalid user credentials"
    })))
    .await;
    let error = endpoint(&server, public())
        .request(&password_grant())
        .await
        .unwrap_err();
    match &error {
        Error::Refused { grant, refusal } => {
            assert_eq!(grant, "password");
            assert_eq!(refusal.code(), "invalid_grant");
            assert_eq!(refusal.description(), Some("Invalid user credentials"));
            assert_eq!(refusal.status(), 200);
        }
        other => panic!("expected a refusal, got {other:?}"),
    }
    assert!(!error.is_retryable());
    assert_error_has_no_secrets(&error, &[PASSWORD]);
}

#[tokio::test]
async fn invalid_grant_is_classified_by_code_in_either_status_and_never_retried() {
    for status in [400, 401] {
        let server = server_answering(ResponseTemplate::new(status).set_body_json(
            serde_json::json!({
                "error": "invalid_grant", "error_description": "Token is not active"
            }),
        ))
        .await;
        let error = endpoint(&server, public())
            .request(&RefreshTokenGrant::new(RefreshToken::new("dead-rt-123456")))
            .await
            .unwrap_err();
        assert!(error.is_refresh_token_rejected(), "{status}: {error:?}");
        assert_eq!(
            server.received_requests().await.unwrap().len(),
            1,
            "refusals are never retried"
        );
        assert_error_has_no_secrets(&error, &["dead-rt-123456"]);
    }
}

#[tokio::test]
async fn an_nginx_502_page_is_classified_with_its_status_and_no_body_secrets() {
    let page = "<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n<center><h1>502 Bad Gateway</h1></center>\r\n<!-- upstream echoed refresh_token=rt-0123456789abcdef0123 -->\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n";
    let server = server_answering(ResponseTemplate::new(502).set_body_raw(page, "text/html")).await;
    let error = endpoint(&server, public())
        .request(&password_grant())
        .await
        .unwrap_err();
    match &error {
        Error::ServerFailure {
            status, excerpt, ..
        } => {
            assert_eq!(*status, 502);
            assert!(excerpt.contains("502 Bad Gateway"), "{excerpt}");
        }
        other => panic!("expected a server failure, got {other:?}"),
    }
    assert!(error.is_retryable());
    assert_eq!(
        server.received_requests().await.unwrap().len(),
        3,
        "retried up to the policy's attempts"
    );
    assert_error_has_no_secrets(&error, &["rt-0123456789abcdef0123", PASSWORD]);
}

#[tokio::test]
async fn an_html_login_page_with_status_200_is_not_oauth() {
    let page = "<!DOCTYPE html><html><head><title>Sign in</title><script>var csrf='9f8e7d6c5b4a39281706f5e4'</script></head><body><form>Sign in to continue</form></body></html>";
    let server =
        server_answering(ResponseTemplate::new(200).set_body_raw(page, "text/html; charset=utf-8"))
            .await;
    let error = endpoint(&server, public())
        .request(&password_grant())
        .await
        .unwrap_err();
    match &error {
        Error::NotOAuth {
            status,
            content_type,
            excerpt,
        } => {
            assert_eq!(*status, 200);
            assert_eq!(content_type, "text/html; charset=utf-8");
            assert!(excerpt.contains("Sign in"), "{excerpt}");
        }
        other => panic!("expected NotOAuth, got {other:?}"),
    }
    assert_error_has_no_secrets(&error, &["9f8e7d6c5b4a39281706f5e4"]);
}

#[tokio::test]
async fn a_503_then_a_200_succeeds() {
    let server = failing_once_then_issuing(
        ResponseTemplate::new(503).set_body_string("busy"),
        "at-after-503",
    )
    .await;
    let tokens = endpoint(&server, public())
        .request(&password_grant())
        .await
        .unwrap();
    assert_eq!(tokens.access_token().expose_secret(), "at-after-503");
    assert_eq!(server.received_requests().await.unwrap().len(), 2);
}

#[tokio::test]
async fn rate_limiting_honours_retry_after() {
    let server = failing_once_then_issuing(
        ResponseTemplate::new(429).insert_header("Retry-After", "1"),
        "at",
    )
    .await;
    let started = std::time::Instant::now();
    endpoint(&server, public())
        .request(&password_grant())
        .await
        .unwrap();
    assert!(
        started.elapsed() >= Duration::from_secs(1),
        "waited as the server asked"
    );

    let always_limited =
        server_answering(ResponseTemplate::new(429).insert_header("Retry-After", "3600")).await;
    let error = endpoint(&always_limited, public())
        .request(&password_grant())
        .await
        .unwrap_err();
    assert!(
        matches!(error, Error::RateLimited { retry_after: Some(d) } if d == Duration::from_secs(3600)),
        "{error:?}"
    );
    assert_eq!(
        always_limited.received_requests().await.unwrap().len(),
        1,
        "a wait beyond the budget is not made"
    );
}

#[tokio::test]
async fn a_refresh_token_is_not_resent_after_an_ambiguous_failure() {
    let server = server_answering(ResponseTemplate::new(502)).await;
    let error = endpoint(&server, public())
        .request(&RefreshTokenGrant::new(RefreshToken::new("rt-once")))
        .await
        .unwrap_err();
    assert!(matches!(error, Error::ServerFailure { status: 502, .. }));
    assert_eq!(
        server.received_requests().await.unwrap().len(),
        1,
        "the server may have spent it"
    );
}

#[tokio::test]
async fn a_malformed_success_does_not_leak_the_tokens_it_held() {
    for body in [
        r#"{"access_token": "leaky-at-1234567", "refresh_token": 42}"#,
        r#"{"access_token": "leaky-at-1234567", "refresh_token": "leaky-rt-7654321""#,
        r#"{"token": "leaky-at-1234567"}"#,
        r#"["leaky-at-1234567"]"#,
    ] {
        let server =
            server_answering(ResponseTemplate::new(200).set_body_raw(body, "application/json"))
                .await;
        let error = endpoint(&server, public())
            .request(&password_grant())
            .await
            .unwrap_err();
        assert!(
            matches!(error, Error::MalformedResponse { status: 200, .. }),
            "{body}: {error:?}"
        );
        assert_error_has_no_secrets(&error, &["leaky-at-1234567", "leaky-rt-7654321"]);
    }
}

#[tokio::test]
async fn bodies_over_the_limit_are_refused() {
    let big = format!(r#"{{"access_token": "{}"}}"#, "a".repeat(2 * 1024 * 1024));
    let server =
        server_answering(ResponseTemplate::new(200).set_body_raw(big, "application/json")).await;
    let error = endpoint(&server, public())
        .request(&password_grant())
        .await
        .unwrap_err();
    assert!(
        matches!(
            error,
            Error::ResponseTooLarge {
                limit: 1_048_576,
                ..
            }
        ),
        "{error:?}"
    );
}

#[tokio::test]
async fn redirects_to_another_origin_are_not_followed() {
    let elsewhere = server_answering(ResponseTemplate::new(200).set_body_json(token_json(
        "stolen",
        None,
        60.into(),
    )))
    .await;
    let server = server_answering(
        ResponseTemplate::new(307).insert_header("Location", format!("{}/token", elsewhere.uri())),
    )
    .await;
    let error = endpoint(&server, public())
        .request(&password_grant())
        .await
        .unwrap_err();
    assert!(
        matches!(error, Error::NotOAuth { status: 307, .. }),
        "{error:?}"
    );
    assert!(
        elsewhere.received_requests().await.unwrap().is_empty(),
        "the password never left for another origin"
    );
}

#[tokio::test]
async fn a_dead_server_is_a_network_error() {
    // A port that was just free: nothing listens there.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let url = format!("http://127.0.0.1:{port}/token");
    let endpoint = TokenEndpoint::builder(url)
        .client_auth(public())
        .retry_policy(quick_retries(2))
        .build()
        .unwrap();
    let error = endpoint.request(&password_grant()).await.unwrap_err();
    match &error {
        Error::Network(net) => assert_eq!(net.kind(), NetworkErrorKind::Connect),
        other => panic!("expected a network error, got {other:?}"),
    }
    assert!(error.is_retryable());
    assert_error_has_no_secrets(&error, &[PASSWORD]);
}

#[tokio::test]
async fn a_slow_server_times_out() {
    let server = server_answering(
        ResponseTemplate::new(200)
            .set_body_json(token_json("late", None, 60.into()))
            .set_delay(Duration::from_secs(3)),
    )
    .await;
    let endpoint = TokenEndpoint::builder(format!("{}/token", server.uri()))
        .client_auth(public())
        .retry_policy(quick_retries(1))
        .timeout(Duration::from_millis(200))
        .build()
        .unwrap();
    let error = endpoint.request(&password_grant()).await.unwrap_err();
    assert!(
        matches!(&error, Error::Network(n) if n.kind() == NetworkErrorKind::Timeout),
        "{error:?}"
    );
}

#[test]
fn plain_http_to_a_remote_host_is_refused() {
    let error = TokenEndpoint::builder("http://auth.voipex.io/token")
        .client_auth(public())
        .build()
        .unwrap_err();
    assert!(matches!(error, Error::Config(_)));
}

#[tokio::test]
async fn a_503_with_retry_after_is_retried_after_the_wait() {
    let server = failing_once_then_issuing(
        ResponseTemplate::new(503).insert_header("Retry-After", "1"),
        "after-wait",
    )
    .await;
    let started = std::time::Instant::now();
    let tokens = endpoint(&server, public())
        .request(&RefreshTokenGrant::new(RefreshToken::new("rt")))
        .await
        .unwrap();
    assert_eq!(tokens.access_token().expose_secret(), "after-wait");
    assert!(
        started.elapsed() >= Duration::from_secs(1),
        "waited as the server asked"
    );
}

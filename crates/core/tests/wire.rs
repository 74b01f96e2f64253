//! The token endpoint on the wire, specified against a wiremock server on
//! 127.0.0.1: how requests are encoded and authenticated, and what the HTTP
//! layer does (retries and waits, redirects, limits, timeouts, dead servers,
//! a caller's own client). How responses are read and classified is in
//! `classification.rs`, without a server.

use std::time::Duration;

use authkit_core::endpoint::RequestContext;
use authkit_core::error::TransientKind;
use authkit_core::grant::{ClientCredentialsGrant, PasswordGrant, RefreshTokenGrant};
use authkit_core::{
    ClientAuth, Error, ExposeSecret, Password, ProtocolError, RefreshToken, TokenEndpoint,
};
use authkit_testkit::support::{
    assert_error_has_no_secrets, assert_no_secrets, quick_retries, token_json,
};
use wiremock::matchers::method;
use wiremock::{Mock, MockServer, ResponseTemplate};

const PASSWORD: &str = "p&ss+w=rd %é";

use authkit_testkit::support::token_endpoint_answering as server_answering;

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

/// An endpoint at `server`'s `/token` with the given client authentication.
fn endpoint(server: &MockServer, auth: ClientAuth) -> TokenEndpoint {
    TokenEndpoint::builder(format!("{}/token", server.uri()))
        .client_auth(auth)
        .retry_policy(quick_retries(3))
        .timeout(Duration::from_secs(5))
        .build()
        .expect("valid endpoint")
}

/// A caller's own client builder, with authkit's TLS set-up.
fn own_client_builder() -> reqwest::ClientBuilder {
    authkit_core::transport::http_client_builder().unwrap()
}

/// A server whose token endpoint redirects (307) to another origin's, which
/// would issue `access`.
async fn redirecting_elsewhere(access: &str) -> (MockServer, MockServer) {
    let elsewhere = server_answering(ResponseTemplate::new(200).set_body_json(token_json(
        access,
        None,
        60.into(),
    )))
    .await;
    let server = server_answering(
        ResponseTemplate::new(307).insert_header("Location", format!("{}/token", elsewhere.uri())),
    )
    .await;
    (server, elsewhere)
}

/// A port that was just free: nothing listens there.
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn cx() -> RequestContext {
    RequestContext::default()
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
        .request(&password_grant().with_scopes(["openid", "email"]), &cx())
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
            ClientAuth::basic("my app", "s:c&t"),
            Some(format!("Basic {}", b64("my+app:s%3Ac%26t"))),
            vec![],
        ),
        (
            ClientAuth::basic_raw("key", "s:c&t"),
            Some(format!("Basic {}", b64("key:s:c&t"))),
            vec![],
        ),
        (
            ClientAuth::secret_in_body("key", "s:c&t"),
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
            .request(&ClientCredentialsGrant::new(), &cx())
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
async fn a_503_then_a_200_succeeds() {
    let server = failing_once_then_issuing(
        ResponseTemplate::new(503).set_body_string("busy"),
        "at-after-503",
    )
    .await;
    let tokens = endpoint(&server, public())
        .request(&password_grant(), &cx())
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
        .request(&password_grant(), &cx())
        .await
        .unwrap();
    assert!(
        started.elapsed() >= Duration::from_secs(1),
        "waited as the server asked"
    );

    let always_limited =
        server_answering(ResponseTemplate::new(429).insert_header("Retry-After", "3600")).await;
    let error = endpoint(&always_limited, public())
        .request(&password_grant(), &cx())
        .await
        .unwrap_err();
    assert!(
        matches!(&error, Error::Transient(t) if t.kind() == TransientKind::RateLimited { status: 429 }),
        "{error:?}"
    );
    assert_eq!(
        error.retry_after(),
        Some(Duration::from_secs(3600)),
        "the wait is carried once, as data of the transient kind"
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
        .request(&RefreshTokenGrant::new(RefreshToken::new("rt-once")), &cx())
        .await
        .unwrap_err();
    assert!(
        matches!(&error, Error::Transient(t) if t.status() == Some(502)),
        "{error:?}"
    );
    assert_eq!(
        server.received_requests().await.unwrap().len(),
        1,
        "the server may have spent it"
    );
}

#[tokio::test]
async fn bodies_over_the_limit_are_refused() {
    let big = format!(r#"{{"access_token": "{}"}}"#, "a".repeat(2 * 1024 * 1024));
    let server =
        server_answering(ResponseTemplate::new(200).set_body_raw(big, "application/json")).await;
    let error = endpoint(&server, public())
        .request(&password_grant(), &cx())
        .await
        .unwrap_err();
    assert!(
        matches!(
            error,
            Error::Protocol(ProtocolError::TooLarge {
                limit: 1_048_576,
                ..
            })
        ),
        "{error:?}"
    );
}

#[tokio::test]
async fn redirects_to_another_origin_are_not_followed() {
    let (server, elsewhere) = redirecting_elsewhere("stolen").await;
    let error = endpoint(&server, public())
        .request(&password_grant(), &cx())
        .await
        .unwrap_err();
    assert!(
        matches!(
            error,
            Error::Protocol(ProtocolError::NotOAuth { status: 307, .. })
        ),
        "{error:?}"
    );
    assert!(
        elsewhere.received_requests().await.unwrap().is_empty(),
        "the password never left for another origin"
    );
}

#[tokio::test]
async fn a_dead_server_is_a_network_error() {
    let port = free_port();
    let url = format!("http://127.0.0.1:{port}/token");
    let endpoint = TokenEndpoint::builder(url)
        .client_auth(public())
        .retry_policy(quick_retries(2))
        .build()
        .unwrap();
    let error = endpoint
        .request(&password_grant(), &cx())
        .await
        .unwrap_err();
    match &error {
        Error::Transient(t) => {
            assert_eq!(t.kind(), TransientKind::Connect);
            assert!(t.request_not_sent());
            assert!(
                std::error::Error::source(t).is_some(),
                "the transport's cause is kept"
            );
        }
        other => panic!("expected a transient failure, got {other:?}"),
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
    let error = endpoint
        .request(&password_grant(), &cx())
        .await
        .unwrap_err();
    assert!(
        matches!(&error, Error::Transient(t) if t.kind() == TransientKind::Timeout),
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
        .request(&RefreshTokenGrant::new(RefreshToken::new("rt")), &cx())
        .await
        .unwrap();
    assert_eq!(tokens.access_token().expose_secret(), "after-wait");
    assert!(
        started.elapsed() >= Duration::from_secs(1),
        "waited as the server asked"
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
    let tokens = endpoint.request(&password_grant(), &cx()).await.unwrap();
    assert_eq!(
        tokens.expires_at() - tokens.issued_at(),
        time::Duration::days(1)
    );
    assert!(tokens.expiry_estimated());
}

#[tokio::test]
async fn a_supplied_client_is_used_with_its_proxy() {
    // The "proxy" is a wiremock server; the token URL points at a port where
    // nothing listens, so only a request through the proxy can succeed.
    let proxy = server_answering(ResponseTemplate::new(200).set_body_json(token_json(
        "via-proxy",
        None,
        60.into(),
    )))
    .await;
    let port = free_port();
    let client = own_client_builder()
        .proxy(reqwest::Proxy::http(proxy.uri()).unwrap())
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let endpoint = TokenEndpoint::builder(format!("http://127.0.0.1:{port}/token"))
        .client_auth(public())
        .http_client(client)
        .retry_policy(quick_retries(1))
        .build()
        .unwrap();
    let tokens = endpoint.request(&password_grant(), &cx()).await.unwrap();
    assert_eq!(tokens.access_token().expose_secret(), "via-proxy");
    let requests = proxy.received_requests().await.unwrap();
    assert_eq!(requests.len(), 1, "the request went through the proxy");
    assert_eq!(requests[0].url.path(), "/token");
}

#[tokio::test]
async fn a_supplied_client_still_has_the_body_cap_and_the_https_rule() {
    let big = format!(r#"{{"access_token": "{}"}}"#, "a".repeat(64 * 1024));
    let server =
        server_answering(ResponseTemplate::new(200).set_body_raw(big, "application/json")).await;
    let endpoint = TokenEndpoint::builder(format!("{}/token", server.uri()))
        .client_auth(public())
        .http_client(own_client_builder().build().unwrap())
        .max_response_bytes(1024)
        .build()
        .unwrap();
    let error = endpoint
        .request(&password_grant(), &cx())
        .await
        .unwrap_err();
    assert!(
        matches!(
            error,
            Error::Protocol(ProtocolError::TooLarge { limit: 1024, .. })
        ),
        "{error:?}"
    );
    let remote = TokenEndpoint::builder("http://auth.example.com/token")
        .client_auth(public())
        .http_client(own_client_builder().build().unwrap())
        .build()
        .unwrap_err();
    assert!(matches!(remote, Error::Config(_)), "{remote:?}");
}

#[tokio::test]
async fn a_supplied_client_that_follows_a_redirect_elsewhere_gets_no_tokens() {
    let (server, elsewhere) = redirecting_elsewhere("from-elsewhere").await;
    // A client built without authkit's redirect rule.
    let endpoint = TokenEndpoint::builder(format!("{}/token", server.uri()))
        .client_auth(public())
        .http_client(own_client_builder().build().unwrap())
        .retry_policy(quick_retries(1))
        .build()
        .unwrap();
    let error = endpoint
        .request(&password_grant(), &cx())
        .await
        .unwrap_err();
    assert!(
        matches!(error, Error::Protocol(ProtocolError::ForeignOrigin { .. })),
        "{error:?}"
    );
    // What authkit cannot prevent with a client it did not build: the client
    // re-sent the body there. Hence the advice to build supplied clients with
    // `same_origin_redirects`, which the next lines show is enough.
    assert_eq!(elsewhere.received_requests().await.unwrap().len(), 1);
    let careful = TokenEndpoint::builder(format!("{}/token", server.uri()))
        .client_auth(public())
        .http_client(
            own_client_builder()
                .redirect(authkit_core::transport::same_origin_redirects(
                    &url::Url::parse(&server.uri()).unwrap(),
                ))
                .build()
                .unwrap(),
        )
        .retry_policy(quick_retries(1))
        .build()
        .unwrap();
    careful.request(&password_grant(), &cx()).await.unwrap_err();
    assert_eq!(
        elsewhere.received_requests().await.unwrap().len(),
        1,
        "with the rule, nothing more reached the other origin"
    );
}

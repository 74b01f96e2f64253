//! The mock authorization server behaves like the real servers it stands in
//! for. Clients talk to it through the core's own `TokenEndpoint`.

use std::time::Duration;

use authkit_core::client_auth::BasicEncoding;
use authkit_core::endpoint::RetryPolicy;
use authkit_core::error::TransientKind;
use authkit_core::grant::{
    AuthorizationCodeGrant, ClientCredentialsGrant, PasswordGrant, PkceVerifier, RefreshTokenGrant,
    State,
};
use authkit_core::secret::AuthorizationCode;
use authkit_core::{
    ClientAuth, ClientSecret, Error, ExposeSecret, Password, ProtocolError, RefreshToken,
    TokenEndpoint, TokenSet,
};
use authkit_testkit::{
    ClientAuthUsed, Fault, MockAuthServer, MockClient, RefreshPolicy, ResponseStyle,
};

const REDIRECT: &str = "http://127.0.0.1:8765/callback";

fn endpoint(server: &MockAuthServer, auth: ClientAuth) -> TokenEndpoint {
    TokenEndpoint::builder(server.token_url())
        .client_auth(auth)
        .retry_policy(RetryPolicy {
            max_attempts: 2,
            initial_backoff: Duration::from_millis(5),
            max_backoff: Duration::from_millis(10),
            max_elapsed: Duration::from_secs(2),
        })
        .timeout(Duration::from_secs(2))
        .build()
        .unwrap()
}

fn public() -> ClientAuth {
    ClientAuth::public("api")
}

async fn basic_server() -> MockAuthServer {
    MockAuthServer::builder()
        .user("alice", "pw")
        .client(MockClient::public("api").redirect_uri(REDIRECT))
        .start()
        .await
}

async fn sign_in(server: &MockAuthServer) -> TokenSet {
    endpoint(server, public())
        .request(
            &PasswordGrant::new("alice", Password::new("pw")),
            &server.context(),
        )
        .await
        .unwrap()
}

fn rt(tokens: &TokenSet) -> RefreshToken {
    tokens.refresh_token().unwrap().clone()
}

async fn refresh(server: &MockAuthServer, token: &RefreshToken) -> Result<TokenSet, Error> {
    endpoint(server, public())
        .request(&RefreshTokenGrant::new(token.clone()), &server.context())
        .await
}

/// Calls `GET /authorize` without following the redirect; returns the status
/// and the redirect's query parameters.
async fn authorize(
    server: &MockAuthServer,
    query: &[(&str, &str)],
) -> (u16, Vec<(String, String)>) {
    let client = authkit_core::transport::http_client_builder()
        .unwrap()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let mut url = url::Url::parse(&server.authorize_url()).unwrap();
    url.query_pairs_mut().extend_pairs(query);
    let response = client.get(url).send().await.unwrap();
    let status = response.status().as_u16();
    let params = response
        .headers()
        .get("location")
        .map(|l| {
            url::Url::parse(l.to_str().unwrap())
                .unwrap()
                .query_pairs()
                .into_owned()
                .collect()
        })
        .unwrap_or_default();
    (status, params)
}

fn param<'a>(params: &'a [(String, String)], name: &str) -> Option<&'a str> {
    params
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

#[tokio::test]
async fn the_authorization_code_flow_with_pkce_works_once() {
    let server = basic_server().await;
    let verifier = PkceVerifier::generate();
    let state = State::generate();
    let challenge = verifier.challenge();
    let (status, params) = authorize(
        &server,
        &[
            ("response_type", "code"),
            ("client_id", "api"),
            ("redirect_uri", REDIRECT),
            ("state", state.as_str()),
            ("code_challenge", challenge.as_str()),
            ("code_challenge_method", "S256"),
        ],
    )
    .await;
    assert_eq!(status, 302);
    assert!(state.matches(param(&params, "state").unwrap()));
    let code = AuthorizationCode::new(param(&params, "code").unwrap());
    let grant = AuthorizationCodeGrant::new(code, REDIRECT).with_pkce_verifier(verifier);
    let tokens = endpoint(&server, public())
        .request(&grant, &server.context())
        .await
        .unwrap();
    assert!(server.is_access_token_active(tokens.access_token()));

    let replay = endpoint(&server, public())
        .request(&grant, &server.context())
        .await
        .unwrap_err();
    assert_eq!(
        replay.refusal().map(|r| r.code().as_str()),
        Some("invalid_grant")
    );
    assert!(
        !server.is_access_token_active(tokens.access_token()),
        "a replayed code revokes what it issued"
    );
}

#[tokio::test]
async fn codes_are_bound_to_verifier_redirect_uri_and_lifetime() {
    let server = basic_server().await;
    let verifier = PkceVerifier::generate();
    let exchange = |code: AuthorizationCode, redirect: &str, verifier: Option<PkceVerifier>| {
        let mut grant = AuthorizationCodeGrant::new(code, redirect);
        if let Some(v) = verifier {
            grant = grant.with_pkce_verifier(v);
        }
        let endpoint = endpoint(&server, public());
        let cx = server.context();
        async move { endpoint.request(&grant, &cx).await }
    };
    let code = server.issue_authorization_code("api", REDIRECT, Some(&verifier.challenge()));
    let wrong_verifier = exchange(code, REDIRECT, Some(PkceVerifier::generate()))
        .await
        .unwrap_err();
    assert_eq!(
        wrong_verifier.refusal().map(|r| r.code().as_str()),
        Some("invalid_grant")
    );

    let code = server.issue_authorization_code("api", REDIRECT, Some(&verifier.challenge()));
    let missing_verifier = exchange(code, REDIRECT, None).await.unwrap_err();
    assert_eq!(
        missing_verifier.refusal().map(|r| r.code().as_str()),
        Some("invalid_grant")
    );

    let code = server.issue_authorization_code("api", REDIRECT, None);
    let other_redirect = exchange(code, "http://127.0.0.1:8765/callback/", None)
        .await
        .unwrap_err();
    assert_eq!(
        other_redirect.refusal().map(|r| r.code().as_str()),
        Some("invalid_grant")
    );

    let code = server.issue_authorization_code("api", REDIRECT, None);
    server.clock().advance(time::Duration::minutes(2));
    let expired = exchange(code, REDIRECT, None).await.unwrap_err();
    assert_eq!(
        expired.refusal().map(|r| r.code().as_str()),
        Some("invalid_grant")
    );

    let code = server.issue_authorization_code("api", REDIRECT, Some(&verifier.challenge()));
    exchange(code, REDIRECT, Some(verifier)).await.unwrap();
}

#[tokio::test]
async fn the_authorization_endpoint_refuses_unregistered_redirects_and_can_deny() {
    let server = basic_server().await;
    let (status, params) = authorize(
        &server,
        &[
            ("response_type", "code"),
            ("client_id", "api"),
            ("redirect_uri", "https://evil.example/cb"),
        ],
    )
    .await;
    assert_eq!(status, 400);
    assert!(params.is_empty(), "never redirects to an unregistered URI");

    server.deny_next_authorization();
    let (status, params) = authorize(
        &server,
        &[
            ("response_type", "code"),
            ("client_id", "api"),
            ("redirect_uri", REDIRECT),
            ("state", "xyz"),
        ],
    )
    .await;
    assert_eq!(status, 302);
    assert_eq!(param(&params, "error"), Some("access_denied"));
    assert_eq!(param(&params, "state"), Some("xyz"));
}

#[tokio::test]
async fn reuse_of_a_spent_refresh_token_revokes_the_family() {
    let server = basic_server().await;
    let first = sign_in(&server).await;
    let second = refresh(&server, &rt(&first)).await.unwrap();
    let replay = refresh(&server, &rt(&first)).await.unwrap_err();
    assert!(replay.is_refresh_token_dead());
    let newest = refresh(&server, &rt(&second)).await.unwrap_err();
    assert!(
        newest.is_refresh_token_dead(),
        "the newer token died with its family"
    );
    assert!(!server.is_access_token_active(second.access_token()));
    assert!(server.log().any_refresh_token_sent_twice());
}

#[tokio::test]
async fn without_reuse_detection_only_the_spent_token_dies() {
    let server = MockAuthServer::builder()
        .user("alice", "pw")
        .client(MockClient::public("api"))
        .refresh_policy(RefreshPolicy {
            rotate: true,
            reuse_detection: false,
        })
        .start()
        .await;
    let first = sign_in(&server).await;
    let second = refresh(&server, &rt(&first)).await.unwrap();
    refresh(&server, &rt(&first)).await.unwrap_err();
    refresh(&server, &rt(&second)).await.unwrap();
}

#[tokio::test]
async fn without_rotation_the_response_omits_the_refresh_token() {
    let server = MockAuthServer::builder()
        .user("alice", "pw")
        .client(MockClient::public("api"))
        .refresh_policy(RefreshPolicy {
            rotate: false,
            reuse_detection: false,
        })
        .start()
        .await;
    let first = sign_in(&server).await;
    let second = refresh(&server, &rt(&first)).await.unwrap();
    assert!(second.refresh_token().is_none());
    refresh(&server, &rt(&first)).await.unwrap();
}

#[tokio::test]
async fn refresh_tokens_expire_on_the_server_clock() {
    let server = MockAuthServer::builder()
        .user("alice", "pw")
        .client(MockClient::public("api"))
        .refresh_ttl(Some(Duration::from_secs(600)))
        .invalid_grant_status(401)
        .start()
        .await;
    let first = sign_in(&server).await;
    server.clock().advance(time::Duration::minutes(11));
    let error = refresh(&server, &rt(&first)).await.unwrap_err();
    assert!(error.is_refresh_token_dead());
    assert!(matches!(&error, Error::Refused(refusal) if refusal.status() == 401));
}

#[tokio::test]
async fn clients_must_authenticate_as_registered() {
    let server = MockAuthServer::builder()
        .client(MockClient::basic(
            "rfc",
            "s:c&t",
            BasicEncoding::FormUrlEncoded,
        ))
        .client(MockClient::basic("wso2", "s:c&t", BasicEncoding::Raw))
        .client(MockClient::secret_in_body("body", "s:c&t").allow_grants(["password"]))
        .start()
        .await;
    let secret = || ClientSecret::new("s:c&t");
    let cc = ClientCredentialsGrant::new();
    endpoint(
        &server,
        ClientAuth::BasicEncoded {
            client_id: "rfc".into(),
            client_secret: secret(),
        },
    )
    .request(&cc, &server.context())
    .await
    .unwrap();
    endpoint(
        &server,
        ClientAuth::BasicRaw {
            client_id: "wso2".into(),
            client_secret: secret(),
        },
    )
    .request(&cc, &server.context())
    .await
    .unwrap();
    let wrong_encoding = endpoint(
        &server,
        ClientAuth::BasicEncoded {
            client_id: "wso2".into(),
            client_secret: secret(),
        },
    )
    .request(&cc, &server.context())
    .await
    .unwrap_err();
    assert_eq!(
        wrong_encoding.refusal().map(|r| r.code().as_str()),
        Some("invalid_client")
    );
    let not_allowed = endpoint(
        &server,
        ClientAuth::Body {
            client_id: "body".into(),
            client_secret: secret(),
        },
    )
    .request(&cc, &server.context())
    .await
    .unwrap_err();
    assert_eq!(
        not_allowed.refusal().map(|r| r.code().as_str()),
        Some("unauthorized_client")
    );
    let no_secret = endpoint(&server, ClientAuth::public("rfc"))
        .request(&cc, &server.context())
        .await
        .unwrap_err();
    assert_eq!(
        no_secret.refusal().map(|r| r.code().as_str()),
        Some("invalid_client")
    );

    let log = server.log();
    let used: Vec<ClientAuthUsed> = log.entries().iter().map(|e| e.client_auth).collect();
    assert_eq!(
        used,
        [
            ClientAuthUsed::Basic,
            ClientAuthUsed::Basic,
            ClientAuthUsed::Basic,
            ClientAuthUsed::SecretInBody,
            ClientAuthUsed::PublicId
        ]
    );
    assert!(!format!("{log:?}").contains("s:c&t"));
}

#[tokio::test]
async fn response_styles_look_like_their_servers() {
    let keycloak = MockAuthServer::builder()
        .style(ResponseStyle::Keycloak)
        .user("alice", "pw")
        .client(MockClient::public("api"))
        .start()
        .await;
    let tokens = sign_in(&keycloak).await;
    assert!(tokens.extra().contains_key("session_state"));
    assert_eq!(tokens.extra()["not-before-policy"], 0);
    assert_eq!(
        tokens.refresh_expires_at().unwrap() - tokens.issued_at(),
        time::Duration::days(7)
    );

    let manager = MockAuthServer::builder()
        .style(ResponseStyle::ApiManager)
        .user("alice", "pw")
        .client(MockClient::public("api"))
        .start()
        .await;
    let plain = sign_in(&manager).await;
    assert_eq!(plain.scopes().unwrap(), ["default"]);
    assert!(plain.id_token().is_none());
    let openid = endpoint(&manager, public())
        .request(
            &PasswordGrant::new("alice", Password::new("pw")).with_scopes(["openid"]),
            &manager.context(),
        )
        .await
        .unwrap();
    assert_eq!(openid.scopes().unwrap(), ["openid"]);
    assert!(openid.id_token().is_some());
}

#[tokio::test]
async fn injected_faults_reach_the_client_as_classified_errors() {
    let server = basic_server().await;
    let password = PasswordGrant::new("alice", Password::new("pw"));
    type Expectation = fn(&Error) -> bool;
    let cases: Vec<(Fault, Expectation)> = vec![
        (
            Fault::ServerError(502),
            |e| matches!(e, Error::Transient(t) if t.kind() == TransientKind::ServerFailure { status: 502 }),
        ),
        (
            Fault::RateLimited {
                retry_after_secs: 3600,
            },
            |e| matches!(e, Error::Transient(t) if matches!(t.kind(), TransientKind::RateLimited { .. })),
        ),
        (Fault::TruncatedJson, |e| {
            matches!(e, Error::Protocol(ProtocolError::Malformed { .. }))
        }),
        (Fault::HtmlLoginPage, |e| {
            matches!(
                e,
                Error::Protocol(ProtocolError::NotOAuth { status: 200, .. })
            )
        }),
        (
            Fault::ErrorIn200 {
                code: "invalid_scope".into(),
            },
            |e| e.refusal().map(|r| r.code().as_str()) == Some("invalid_scope"),
        ),
        (Fault::HugeBody, |e| {
            matches!(e, Error::Protocol(ProtocolError::TooLarge { .. }))
        }),
        (
            Fault::Delay(Duration::from_secs(5)),
            |e| matches!(e, Error::Transient(t) if t.kind() == TransientKind::Timeout),
        ),
    ];
    for (fault, expected) in cases {
        server.inject_n(fault.clone(), 2);
        let error = endpoint(&server, public())
            .request(&password, &server.context())
            .await
            .unwrap_err();
        assert!(expected(&error), "{fault:?} gave {error:?}");
        // Drain what the client did not consume, so the next case starts clean.
        while endpoint(&server, public())
            .request(&password, &server.context())
            .await
            .is_err()
        {}
    }
    server.inject(Fault::ServerError(503));
    let tokens = endpoint(&server, public())
        .request(&password, &server.context())
        .await
        .unwrap();
    assert!(
        server.is_access_token_active(tokens.access_token()),
        "a 503 is retried and then succeeds"
    );
}

#[tokio::test]
async fn the_request_log_counts_and_never_prints_secrets() {
    let server = basic_server().await;
    let first = sign_in(&server).await;
    refresh(&server, &rt(&first)).await.unwrap();
    endpoint(&server, public())
        .request(
            &PasswordGrant::new("alice", Password::new("nope")),
            &server.context(),
        )
        .await
        .unwrap_err();
    let log = server.log();
    assert_eq!(
        (log.len(), log.count("password"), log.count("refresh_token")),
        (3, 2, 1)
    );
    assert_eq!(log.refusals("invalid_grant"), 1);
    assert!(log.refresh_tokens_presented()[0].same_secret(&rt(&first)));
    let text = format!("{log:?} {server:?}");
    for secret in server.all_secrets() {
        assert!(!text.contains(&secret), "{secret} leaked");
    }
    assert!(!text.contains(first.access_token().expose_secret()));
}

#[tokio::test]
async fn a_protected_resource_accepts_only_live_bearer_tokens() {
    let server = MockAuthServer::builder()
        .user("alice", "pw")
        .client(MockClient::public("api"))
        .protected_resource("/api/me")
        .start()
        .await;
    let tokens = sign_in(&server).await;
    let http = authkit_core::transport::http_client_builder()
        .unwrap()
        .build()
        .unwrap();
    let url = format!("{}/api/me", server.base_url());
    let call = |token: Option<String>| {
        let mut request = http.get(&url);
        if let Some(t) = token {
            request = request.bearer_auth(t);
        }
        async move { request.send().await.unwrap().status().as_u16() }
    };
    let live = tokens.access_token().expose_secret().to_owned();
    assert_eq!(call(Some(live.clone())).await, 200);
    assert_eq!(call(None).await, 401);
    assert_eq!(call(Some("forged".into())).await, 401);
    server.clock().advance(time::Duration::hours(2));
    assert_eq!(call(Some(live)).await, 401, "expired on the server's clock");
}

//! The standards against a real, OpenID Certified server: panva's
//! `oidc-provider` from npm, started here on 127.0.0.1 (see the testkit's
//! `oidc_provider` module). Discovery, every client authentication method,
//! resource indicators, the device flow, refresh, revocation on sign-out and
//! introspection, as a user of the generic provider meets them.
//!
//! Without the server the tests say SKIPPED; with
//! `AUTHKIT_REQUIRE_REAL_SERVERS=1` (as in CI) they fail instead.

use authkit_core::client_auth::{AssertionAudience, AssertionKey, ClientAssertion};
use authkit_core::device::DeviceAuthorization;
use authkit_core::discovery::{Discovery, ServerMetadata};
use authkit_core::endpoint::{EndpointSettings, RequestContext};
use authkit_core::grant::{ClientCredentialsGrant, RefreshTokenGrant};
use authkit_core::revocation::{Revocation, TokenTypeHint};
use authkit_core::{
    ClientAuth, Error, ErrorCode, ExposeSecret, GenericProvider, MemoryStore, TokenEndpoint,
    TokenManager,
};
use authkit_testkit::oidc_provider::{OidcProvider, introspect, test_key};

fn endpoint(metadata: &ServerMetadata, auth: ClientAuth) -> TokenEndpoint {
    metadata
        .token_endpoint_builder(auth)
        .expect("an accepted method")
        .build()
        .expect("endpoint")
}

#[tokio::test]
async fn discovery_reads_the_servers_endpoints_and_refuses_another_issuer() {
    let Some(server) = OidcProvider::start() else {
        return;
    };
    let m = server.metadata().await;
    assert_eq!(m.issuer(), server.issuer());
    assert_eq!(m.token_endpoint(), Some(server.url("/token").as_str()));
    assert!(m.device_authorization_endpoint().is_some());
    assert!(m.revocation_endpoint().is_some());
    assert!(m.introspection_endpoint().is_some());
    assert!(m.supports_grant(&authkit_core::grant::GrantKind::DeviceCode));
    assert!(m.supports_client_auth(&ClientAuth::private_key_jwt(
        "x",
        AssertionKey::es256_pem(&test_key("es256.pem")).unwrap()
    )));
    assert_eq!(m.supports_pkce_s256(), Some(true));

    // The same server asked for under another spelling of its issuer: the
    // document names a different issuer, and is refused.
    let other = format!("{}/", server.issuer());
    let err = Discovery::new(EndpointSettings::new())
        .metadata(&other)
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Config(_)), "{err:?}");
}

#[tokio::test]
async fn every_client_authentication_method_gets_a_token_the_server_confirms() {
    let Some(server) = OidcProvider::start() else {
        return;
    };
    let m = server.metadata().await;
    let jwk = |name: &str| {
        AssertionKey::from_jwk(std::str::from_utf8(&test_key(name)).unwrap()).expect("jwk")
    };
    let clients: Vec<(&str, ClientAuth)> = vec![
        (
            "authkit-basic",
            ClientAuth::basic("authkit-basic", OidcProvider::CLIENT_SECRET),
        ),
        (
            "authkit-post",
            ClientAuth::secret_in_body("authkit-post", OidcProvider::CLIENT_SECRET),
        ),
        (
            "authkit-secret-jwt",
            ClientAuth::client_secret_jwt(
                "authkit-secret-jwt",
                OidcProvider::CLIENT_SECRET_JWT_SECRET,
            )
            .unwrap(),
        ),
        (
            "authkit-private-jwt-rs256",
            ClientAuth::private_key_jwt(
                "authkit-private-jwt-rs256",
                AssertionKey::rs256_pem(&test_key("rs256.pem")).unwrap(),
            ),
        ),
        (
            "authkit-private-jwt-es256",
            ClientAuth::private_key_jwt(
                "authkit-private-jwt-es256",
                AssertionKey::from_pem(&test_key("es256.pem")).unwrap(),
            ),
        ),
        (
            "authkit-private-jwt-ed25519",
            ClientAuth::private_key_jwt(
                "authkit-private-jwt-ed25519",
                AssertionKey::ed25519_pem(&test_key("ed25519.pem")).unwrap(),
            ),
        ),
        (
            "authkit-private-jwt-rs256",
            ClientAuth::private_key_jwt("authkit-private-jwt-rs256", jwk("rs256.jwk.json")),
        ),
        (
            "authkit-private-jwt-es256",
            ClientAuth::private_key_jwt("authkit-private-jwt-es256", jwk("es256.jwk.json")),
        ),
        (
            "authkit-private-jwt-ed25519",
            // The issuer as audience, for servers that want that.
            ClientAuth::Assertion(
                ClientAssertion::new("authkit-private-jwt-ed25519", jwk("ed25519.jwk.json"))
                    .audience(AssertionAudience::Issuer(server.issuer().to_owned())),
            ),
        ),
    ];
    for (client_id, auth) in clients {
        let style = auth.style();
        let endpoint = endpoint(&m, auth);
        // Two requests: a second assertion must not reuse the first's jti.
        for _ in 0..2 {
            let tokens = endpoint
                .request(
                    &ClientCredentialsGrant::new()
                        .with_resource(OidcProvider::API)
                        .with_scopes(["api:read"]),
                    &RequestContext::default(),
                )
                .await
                .unwrap_or_else(|e| panic!("{client_id} ({style}): {e}"));
            let seen = introspect(
                &m,
                tokens.access_token().expose_secret(),
                TokenTypeHint::AccessToken,
            )
            .await;
            assert!(seen.active(), "{client_id} ({style})");
            assert_eq!(seen.client_id(), Some(client_id));
            assert_eq!(seen.audiences(), vec![OidcProvider::API]);
            assert!(seen.scopes().iter().any(|s| s == "api:read"));
        }
    }
}

#[tokio::test]
async fn a_wrong_secret_is_refused_as_invalid_client() {
    let Some(server) = OidcProvider::start() else {
        return;
    };
    let m = server.metadata().await;
    for auth in [
        ClientAuth::basic("authkit-basic", "wrong"),
        ClientAuth::client_secret_jwt(
            "authkit-secret-jwt",
            "a wrong secret that is long enough for HS256",
        )
        .unwrap(),
        // A key the server does not hold for this client.
        ClientAuth::private_key_jwt(
            "authkit-private-jwt-es256",
            AssertionKey::ed25519_pem(&test_key("ed25519.pem")).unwrap(),
        ),
    ] {
        let err = endpoint(&m, auth)
            .request(&ClientCredentialsGrant::new(), &RequestContext::default())
            .await
            .unwrap_err();
        match &err {
            Error::Refused(refusal) => assert_eq!(refusal.code(), &ErrorCode::InvalidClient),
            other => panic!("expected invalid_client, got {other:?}"),
        }
        assert!(!err.to_string().contains("wrong"), "{err}");
    }
}

#[tokio::test]
async fn device_sign_in_then_one_token_per_resource_from_the_rotating_refresh_token() {
    let Some(server) = OidcProvider::start() else {
        return;
    };
    let m = server.metadata().await;
    let endpoint = endpoint(&m, ClientAuth::public("authkit-device"));
    let device =
        DeviceAuthorization::new(endpoint.clone(), m.device_authorization_endpoint().unwrap())
            .unwrap()
            .with_scopes(["openid", "offline_access", "api:read", "reports:read"])
            .with_resource(OidcProvider::API)
            .with_resource(OidcProvider::REPORTS);
    let cx = RequestContext::default();
    let pending = device.start(&cx).await.expect("device authorization");
    let prompt = pending.prompt().clone();
    assert!(!prompt.user_code().is_empty());
    assert!(prompt.verification_uri().starts_with(server.issuer()));
    let complete = prompt.verification_uri_complete().unwrap().to_owned();
    let (tokens, page) = tokio::join!(pending.finish(&cx), async {
        server.approve_device(&complete, "alice", true).await
    });
    assert!(page.contains("Sign-in Success"), "{page}");
    let tokens = tokens.expect("the device sign-in");
    let mut refresh = tokens.refresh_token().expect("a refresh token").clone();

    // One grant, one access token per resource (RFC 8707 §2.2). A public
    // client's refresh tokens rotate at this server: each refresh spends the
    // one it presents, so the next resource is asked for with its successor.
    for (resource, scope) in [
        (OidcProvider::API, "api:read"),
        (OidcProvider::REPORTS, "reports:read"),
    ] {
        let grant = RefreshTokenGrant::new(refresh.clone()).with_resources(&[resource.to_owned()]);
        let narrowed = endpoint.request(&grant, &cx).await.expect("refresh");
        let seen = introspect(
            &m,
            narrowed.access_token().expose_secret(),
            TokenTypeHint::AccessToken,
        )
        .await;
        assert_eq!(seen.audiences(), vec![resource]);
        assert!(
            seen.scopes().iter().any(|s| s == scope),
            "{:?}",
            seen.scopes()
        );
        assert_eq!(
            narrowed.binding().unwrap().resources().collect::<Vec<_>>(),
            vec![resource]
        );
        let next = narrowed.refresh_token().expect("a rotated refresh token");
        assert!(
            !next.same_secret(&refresh),
            "the refresh token did not rotate"
        );
        refresh = next.clone();
    }
}

#[tokio::test]
async fn signing_out_revokes_the_refresh_token_at_the_server() {
    let Some(server) = OidcProvider::start() else {
        return;
    };
    let m = server.metadata().await;
    let provider = GenericProvider::from_metadata(
        "alice",
        &m,
        ClientAuth::basic("authkit-basic", OidcProvider::CLIENT_SECRET),
        EndpointSettings::new(),
    )
    .unwrap();
    let device = DeviceAuthorization::new(
        provider.endpoint().clone(),
        m.device_authorization_endpoint().unwrap(),
    )
    .unwrap()
    .with_scopes(["openid", "offline_access"]);
    let cx = RequestContext::default();
    let tokens = server.device_sign_in(&device, &cx, "alice", true).await;
    let tokens = tokens.unwrap();
    let refresh = tokens.refresh_token().unwrap().expose_secret().to_owned();
    let access = tokens.access_token().expose_secret().to_owned();

    let manager = TokenManager::new(provider, MemoryStore::new());
    manager.sign_in_with(tokens).await.expect("stored");
    // The manager serves and refreshes it against the server that issued it.
    manager.invalidate();
    let fresh = manager.access_token().await.expect("a refreshed token");
    assert_ne!(fresh.expose_secret(), access);

    let signed_out = manager.sign_out().await.expect("signed out");
    assert!(signed_out.revoked(), "{:?}", signed_out.revocation());
    assert!(
        !introspect(&m, &refresh, TokenTypeHint::RefreshToken)
            .await
            .active(),
        "the server still knows the refresh token"
    );
    assert!(matches!(
        manager.access_token().await,
        Err(Error::SignInRequired { .. })
    ));
}

#[tokio::test]
async fn a_denied_device_sign_in_is_access_denied() {
    let Some(server) = OidcProvider::start() else {
        return;
    };
    let m = server.metadata().await;
    let device = DeviceAuthorization::new(
        endpoint(&m, ClientAuth::public("authkit-device")),
        m.device_authorization_endpoint().unwrap(),
    )
    .unwrap()
    .with_scopes(["openid"]);
    let cx = RequestContext::default();
    let result = server.device_sign_in(&device, &cx, "alice", false).await;
    match result {
        Err(Error::Refused(refusal)) => assert_eq!(refusal.code(), &ErrorCode::AccessDenied),
        other => panic!("expected access_denied, got {other:?}"),
    }
}

#[tokio::test]
async fn a_revocation_endpoint_that_fails_does_not_stop_the_sign_out() {
    let Some(server) = OidcProvider::start() else {
        return;
    };
    let m = server.metadata().await;
    let provider = GenericProvider::from_metadata(
        "bob",
        &m,
        ClientAuth::basic("authkit-basic", OidcProvider::CLIENT_SECRET),
        EndpointSettings::new().retry_policy(authkit_core::endpoint::RetryPolicy::none()),
    )
    .unwrap()
    // Not the revocation endpoint: the server answers 404 there.
    .with_revocation(&server.url("/no-such-revocation"))
    .unwrap()
    .with_grant(ClientCredentialsGrant::new());
    let manager = TokenManager::new(provider, MemoryStore::new());
    manager.access_token().await.expect("client credentials");
    let signed_out = manager.sign_out().await.expect("signed out locally");
    assert!(
        matches!(signed_out.revocation(), Revocation::Failed(_)),
        "{:?}",
        signed_out.revocation()
    );
    assert!(manager.cached_access_token().is_none());
}

#[tokio::test]
async fn resource_managers_share_one_rotating_refresh_token_without_spending_it_twice() {
    let Some(server) = OidcProvider::start() else {
        return;
    };
    let m = server.metadata().await;
    let provider = GenericProvider::from_metadata(
        "carol",
        &m,
        ClientAuth::public("authkit-device"),
        EndpointSettings::new(),
    )
    .unwrap()
    // The device sign-in's token is for the first resource it asks for.
    .with_resources([OidcProvider::API]);
    let device = DeviceAuthorization::new(
        provider.endpoint().clone(),
        m.device_authorization_endpoint().unwrap(),
    )
    .unwrap()
    .with_scopes(["openid", "offline_access", "api:read", "reports:read"])
    .with_resource(OidcProvider::API)
    .with_resource(OidcProvider::REPORTS);
    let cx = RequestContext::default();
    let tokens = server.device_sign_in(&device, &cx, "carol", true).await;
    let account = TokenManager::new(provider, MemoryStore::new());
    account.sign_in_with(tokens.unwrap()).await.unwrap();

    let api = account.for_resource(OidcProvider::API, ["api:read"]);
    let reports = account.for_resource(OidcProvider::REPORTS, ["reports:read"]);
    for round in 0..2 {
        for (manager, resource) in [(&api, OidcProvider::API), (&reports, OidcProvider::REPORTS)] {
            let token = manager
                .access_token()
                .await
                .unwrap_or_else(|e| panic!("round {round}, {resource}: {e}"));
            let seen = introspect(&m, token.expose_secret(), TokenTypeHint::AccessToken).await;
            assert!(seen.active());
            assert_eq!(seen.audiences(), vec![resource]);
            // Next round: each asks again, with the refresh token the other
            // rotated; a reused one would be refused (and the grant revoked).
            manager.invalidate();
        }
    }
    // The account itself still refreshes with the newest refresh token.
    account.invalidate();
    account.access_token().await.expect("the account refreshes");
}

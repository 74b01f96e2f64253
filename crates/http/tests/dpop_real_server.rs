//! DPoP (RFC 9449) end to end against a real server: panva's
//! `oidc-provider` (npm, OpenID Certified) with DPoP on and nonces required,
//! started here on 127.0.0.1. Sign in, call a protected resource through the
//! middleware, refresh, and see that the token alone, without the key, is
//! refused.
//!
//! Without the server the test says SKIPPED; with
//! `AUTHKIT_REQUIRE_REAL_SERVERS=1` (as in CI) it fails instead.

use authkit_core::device::DeviceAuthorization;
use authkit_core::endpoint::EndpointSettings;
use authkit_core::revocation::TokenTypeHint;
use authkit_core::{ClientAuth, ExposeSecret, GenericProvider, MemoryStore, TokenManager};
use authkit_testkit::oidc_provider::{OidcProvider, introspect};

/// The userinfo endpoint, called as a stolen token's thief would: the token
/// alone, with no proof.
async fn userinfo_without_proof(server: &OidcProvider, scheme: &str, token: &str) -> u16 {
    authkit_core::transport::http_client_builder()
        .unwrap()
        .build()
        .unwrap()
        .get(server.url("/me"))
        .header("authorization", format!("{scheme} {token}"))
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

#[tokio::test]
async fn dpop_bound_tokens_are_issued_used_refreshed_and_useless_without_the_key() {
    let Some(server) = OidcProvider::start() else {
        return;
    };
    let m = server.metadata().await;
    let provider = GenericProvider::from_metadata(
        "dora",
        &m,
        ClientAuth::public("authkit-dpop"),
        EndpointSettings::new(),
    )
    .unwrap();
    let device = DeviceAuthorization::new(
        provider.endpoint().clone(),
        m.device_authorization_endpoint().unwrap(),
    )
    .unwrap()
    .with_scopes(["openid", "offline_access"]);
    let store = MemoryStore::new();
    let manager = TokenManager::builder(provider, store.clone())
        .dpop()
        .build();

    // Sign in with a new key; the server demands a nonce, which is answered.
    let cx = manager.sign_in_context().unwrap();
    let key = cx.dpop().unwrap().key().clone();
    let tokens = server.device_sign_in(&device, &cx, "dora", true).await;
    let tokens = tokens.expect("a DPoP-bound sign-in");
    assert_eq!(tokens.token_type(), &authkit_core::token::TokenType::DPoP);
    assert_eq!(tokens.dpop_key().unwrap().thumbprint(), key.thumbprint());
    let first = tokens.access_token().expose_secret().to_owned();
    manager.sign_in_with(tokens).await.unwrap();

    // The server bound the token to the key.
    let seen = introspect(&m, &first, TokenTypeHint::AccessToken).await;
    assert_eq!(
        seen.field("cnf")
            .and_then(|c| c.get("jkt"))
            .and_then(|j| j.as_str()),
        Some(key.thumbprint())
    );

    // Through the middleware: DPoP scheme, a proof, the resource's nonce.
    let api = reqwest_middleware::ClientBuilder::new(
        authkit_core::transport::http_client_builder()
            .unwrap()
            .build()
            .unwrap(),
    )
    .with(authkit_http::AuthMiddleware::new(manager.clone()))
    .build();
    let me = api.get(server.url("/me")).send().await.unwrap();
    assert_eq!(me.status(), 200, "{:?}", me.headers());
    let claims: serde_json::Value = serde_json::from_slice(&me.bytes().await.unwrap()).unwrap();
    assert_eq!(claims["sub"], "dora");

    // A thief with the token and not the key gets nothing.
    // (The DPoP scheme without a proof is a malformed request, 400; as
    // Bearer it is an invalid token, 401.)
    for scheme in ["DPoP", "Bearer"] {
        let status = userinfo_without_proof(&server, scheme, &first).await;
        assert!(
            (400..500).contains(&status),
            "the token without its key was accepted as {scheme}: {status}"
        );
    }

    // A refresh keeps the key the tokens are bound to.
    manager.invalidate();
    let second = manager.access_token().await.expect("a DPoP refresh");
    assert_ne!(second.expose_secret(), first);
    let stored = authkit_testkit::support::load(&store, manager.account_key())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.dpop_key().unwrap().thumbprint(), key.thumbprint());
    let me = api.get(server.url("/me")).send().await.unwrap();
    assert_eq!(me.status(), 200);
}

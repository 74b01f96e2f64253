//! Pushed authorization requests (RFC 9126) at a real server: panva's
//! `oidc-provider`, whose clients `authkit-par` (Basic) and
//! `authkit-par-jwt` (`private_key_jwt`) must push. A person signs in over
//! plain HTTP (the testkit plays the browser), the code comes back with
//! the server's `iss` (RFC 9207), and the exchange gets tokens; a request
//! in the URL alone is refused by the server; a DPoP sign-in pushes its
//! proof and key, and its tokens are bound to that key.
//!
//! Without the server the tests say SKIPPED; with
//! `AUTHKIT_REQUIRE_REAL_SERVERS=1` (as in CI) they fail instead.

use std::collections::HashMap;

use authkit_core::client_auth::AssertionKey;
use authkit_core::discovery::ServerMetadata;
use authkit_core::dpop::{DpopContext, DpopKey, DpopNonces};
use authkit_core::endpoint::RequestContext;
use authkit_core::revocation::TokenTypeHint;
use authkit_core::secret::AuthorizationCode;
use authkit_core::sign_in::{AuthorizationRequest, Callback, PushedAuthorization};
use authkit_core::token::TokenType;
use authkit_core::{ClientAuth, ExposeSecret, TokenEndpoint, TokenSet};
use authkit_testkit::oidc_provider::{OidcProvider, introspect, test_key};

const REDIRECT_URI: &str = "http://127.0.0.1/callback";

fn endpoint(metadata: &ServerMetadata, auth: ClientAuth) -> TokenEndpoint {
    metadata
        .token_endpoint_builder(auth)
        .expect("an accepted method")
        .build()
        .expect("endpoint")
}

fn basic() -> ClientAuth {
    ClientAuth::basic("authkit-par", OidcProvider::CLIENT_SECRET)
}

fn authorize_url(metadata: &ServerMetadata) -> url::Url {
    url::Url::parse(metadata.authorization_endpoint().unwrap()).unwrap()
}

/// The query of the URL the server sent the browser back to.
fn answer(back: &url::Url) -> HashMap<String, String> {
    assert_eq!(
        back.as_str().split('?').next(),
        Some(REDIRECT_URI),
        "{back}"
    );
    back.query_pairs().into_owned().collect()
}

/// Pushes a sign-in for `endpoint`'s client in `cx`, signs in as a person,
/// and exchanges the code.
async fn sign_in(
    server: &OidcProvider,
    metadata: &ServerMetadata,
    endpoint: &TokenEndpoint,
    cx: &RequestContext,
) -> TokenSet {
    let par = PushedAuthorization::from_metadata(endpoint.clone(), metadata)
        .unwrap()
        .expect("the server has a pushed authorization request endpoint");
    let client_id = endpoint.client_auth().client_id().as_str().to_owned();
    let request = AuthorizationRequest::builder(&authorize_url(metadata), client_id, REDIRECT_URI)
        .scopes(["openid", "offline_access"])
        .issuer_from(metadata)
        .push(&par, cx)
        .await
        .expect("the push");
    let query: Vec<_> = request
        .url()
        .query_pairs()
        .map(|(k, _)| k.into_owned())
        .collect();
    assert_eq!(query, ["client_id", "request_uri"]);
    let left = request.expires_at().unwrap() - cx.clock().now();
    assert!(
        left > time::Duration::ZERO && left <= time::Duration::minutes(10),
        "{left}"
    );

    let back = server.authorize(request.url().as_str(), "paula").await;
    let fields = answer(&back);
    assert!(!fields.contains_key("error"), "{back}");
    let callback = Callback {
        code: AuthorizationCode::new(fields["code"].clone()),
        state: fields.get("state").cloned(),
        iss: fields.get("iss").cloned(),
    };
    let grant = request
        .grant(&callback)
        .expect("the answer to this sign-in");
    endpoint
        .request(&grant, cx)
        .await
        .expect("the code exchange")
}

#[tokio::test]
async fn a_client_that_must_push_signs_in_with_a_pushed_request_and_gets_tokens() {
    let Some(server) = OidcProvider::start() else {
        return;
    };
    let m = server.metadata().await;
    assert!(m.pushed_authorization_request_endpoint().is_some());
    assert!(
        !m.require_pushed_authorization_requests(),
        "the server requires it per client, not for all"
    );
    let tokens = sign_in(
        &server,
        &m,
        &endpoint(&m, basic()),
        &RequestContext::default(),
    )
    .await;
    assert!(tokens.refresh_token().is_some());
    let seen = introspect(
        &m,
        tokens.access_token().expose_secret(),
        TokenTypeHint::AccessToken,
    )
    .await;
    assert!(seen.active());
}

#[tokio::test]
async fn a_client_that_must_push_is_refused_a_request_in_the_url() {
    let Some(server) = OidcProvider::start() else {
        return;
    };
    let m = server.metadata().await;
    let request = AuthorizationRequest::builder(&authorize_url(&m), "authkit-par", REDIRECT_URI)
        .scopes(["openid"])
        .build(&RequestContext::default());
    let back = server.authorize(request.url().as_str(), "paula").await;
    let fields = answer(&back);
    assert_eq!(
        fields.get("error").map(String::as_str),
        Some("invalid_request"),
        "{back}"
    );
    assert!(!fields.contains_key("code"));
    let why = fields.get("error_description").map(String::as_str);
    assert_eq!(why, Some("Pushed Authorization Request must be used"));
}

#[tokio::test]
async fn a_client_that_signs_assertions_pushes_with_one() {
    let Some(server) = OidcProvider::start() else {
        return;
    };
    let m = server.metadata().await;
    let auth = ClientAuth::private_key_jwt(
        "authkit-par-jwt",
        AssertionKey::es256_pem(&test_key("es256.pem")).unwrap(),
    );
    let tokens = sign_in(&server, &m, &endpoint(&m, auth), &RequestContext::default()).await;
    assert!(tokens.refresh_token().is_some());
}

#[tokio::test]
async fn a_dpop_sign_in_pushes_its_key_and_gets_tokens_bound_to_it() {
    let Some(server) = OidcProvider::start() else {
        return;
    };
    let m = server.metadata().await;
    // The server wants a nonce in every proof: the push learns it first.
    let key = DpopKey::generate().unwrap();
    let cx = RequestContext::default().with_dpop(DpopContext::new(key.clone(), DpopNonces::new()));
    let tokens = sign_in(&server, &m, &endpoint(&m, basic()), &cx).await;
    assert_eq!(*tokens.token_type(), TokenType::DPoP);
    let seen = introspect(
        &m,
        tokens.access_token().expose_secret(),
        TokenTypeHint::AccessToken,
    )
    .await;
    assert!(seen.active());
    let bound = seen
        .field("cnf")
        .and_then(|cnf| cnf.get("jkt"))
        .and_then(|v| v.as_str());
    assert_eq!(bound, Some(key.thumbprint()));
}

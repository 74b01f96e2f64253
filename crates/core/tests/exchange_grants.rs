//! The grants the core ships beyond RFC 6749 (token exchange, JWT bearer)
//! and introspection, as a user meets them on the wire.

use std::sync::Arc;

use authkit_core::client_auth::AssertionKey;
use authkit_core::endpoint::RequestContext;
use authkit_core::grant::{JwtBearerGrant, TokenExchangeGrant, token_types};
use authkit_core::introspection::IntrospectionEndpoint;
use authkit_core::secret::{SecretString, SecurityToken};
use authkit_core::{ClientAuth, Error, TokenEndpoint};
use authkit_testkit::support::{assert_no_secrets, quick_retries};
use authkit_testkit::{Scripted, ScriptedTransport};
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde_json::json;

const TOKEN_URL: &str = "https://login.example.com/token";

fn endpoint(transport: &ScriptedTransport) -> TokenEndpoint {
    TokenEndpoint::builder(TOKEN_URL)
        .client_auth(ClientAuth::basic("gateway", "s3cret"))
        .transport(Arc::new(transport.clone()))
        .retry_policy(quick_retries(1))
        .build()
        .unwrap()
}

fn issued() -> Scripted {
    Scripted::json(
        200,
        json!({"access_token": "exchanged", "token_type": "Bearer", "expires_in": 300,
               "issued_token_type": "urn:ietf:params:oauth:token-type:access_token"}),
    )
}

#[tokio::test]
async fn token_exchange_sends_the_subject_actor_audience_resource_and_scope() {
    let transport = ScriptedTransport::new([issued()]);
    let grant = TokenExchangeGrant::new(
        SecurityToken::new("subject-token-secret"),
        token_types::ACCESS_TOKEN,
    )
    .with_actor(SecurityToken::new("actor-token-secret"), token_types::JWT)
    .with_requested_token_type(token_types::ACCESS_TOKEN)
    .with_audience("billing")
    .with_resource("https://billing.example.com/")
    .with_scopes(["invoices:read"]);
    assert_no_secrets(
        &format!("{grant:?}"),
        &["subject-token-secret", "actor-token-secret"],
    );
    let set = endpoint(&transport)
        .request(&grant, &RequestContext::default())
        .await
        .unwrap();
    let sent = &transport.sent()[0];
    assert_eq!(
        sent.field("grant_type"),
        Some("urn:ietf:params:oauth:grant-type:token-exchange")
    );
    assert_eq!(sent.field("subject_token"), Some("subject-token-secret"));
    assert_eq!(
        sent.field("subject_token_type"),
        Some(token_types::ACCESS_TOKEN)
    );
    assert_eq!(sent.field("actor_token"), Some("actor-token-secret"));
    assert_eq!(sent.field("actor_token_type"), Some(token_types::JWT));
    assert_eq!(
        sent.field("requested_token_type"),
        Some(token_types::ACCESS_TOKEN)
    );
    assert_eq!(sent.field("audience"), Some("billing"));
    assert_eq!(sent.field("resource"), Some("https://billing.example.com/"));
    assert_eq!(sent.field("scope"), Some("invoices:read"));
    assert_eq!(
        set.binding().unwrap().resources().collect::<Vec<_>>(),
        vec!["https://billing.example.com/"]
    );
    assert_eq!(
        set.extra().get("issued_token_type"),
        Some(&json!(token_types::ACCESS_TOKEN))
    );
}

#[tokio::test]
async fn a_signed_jwt_bearer_grant_carries_a_fresh_verifiable_assertion() {
    let secret = "a shared secret of at least thirty-two bytes";
    let key = AssertionKey::hs256(&SecretString::from(secret)).unwrap();
    let grant = JwtBearerGrant::signed(key, "svc@example.com", TOKEN_URL)
        .with_subject("alice")
        .with_scopes(["reports:read"]);
    let transport = ScriptedTransport::new([issued(), issued()]);
    let endpoint = endpoint(&transport);
    endpoint
        .request(&grant, &RequestContext::default())
        .await
        .unwrap();
    endpoint
        .request(&grant, &RequestContext::default())
        .await
        .unwrap();
    let mut jtis = Vec::new();
    for sent in transport.sent() {
        assert_eq!(
            sent.field("grant_type"),
            Some("urn:ietf:params:oauth:grant-type:jwt-bearer")
        );
        assert_eq!(sent.field("scope"), Some("reports:read"));
        let mut validation = Validation::new(Algorithm::HS256);
        validation.set_audience(&[TOKEN_URL]);
        let claims = jsonwebtoken::decode::<serde_json::Value>(
            sent.field("assertion").unwrap(),
            &DecodingKey::from_secret(secret.as_bytes()).unwrap(),
            &validation,
        )
        .expect("a verifiable assertion")
        .claims;
        assert_eq!(claims["iss"], "svc@example.com");
        assert_eq!(claims["sub"], "alice");
        jtis.push(claims["jti"].clone());
    }
    assert_ne!(jtis[0], jtis[1], "two requests shared a jti");
}

#[tokio::test]
async fn a_jwt_made_elsewhere_is_sent_as_given() {
    let transport = ScriptedTransport::new([issued()]);
    let grant = JwtBearerGrant::new(SecurityToken::new("eyJ.given.jwt"));
    assert_no_secrets(&format!("{grant:?}"), &["eyJ.given.jwt"]);
    endpoint(&transport)
        .request(&grant, &RequestContext::default())
        .await
        .unwrap();
    assert_eq!(
        transport.sent()[0].field("assertion"),
        Some("eyJ.given.jwt")
    );
}

#[tokio::test]
async fn introspection_reads_an_active_token_and_an_inactive_one() {
    let transport = ScriptedTransport::new([
        Scripted::json(
            200,
            json!({"active": true, "scope": "a b", "client_id": "gateway", "sub": "alice",
                   "aud": ["https://api.example.com/"], "exp": 2_000_000_000, "cnf": {"jkt": "x"}}),
        ),
        Scripted::json(200, json!({"active": false})),
        Scripted::body(200, "text/html", "<html>login</html>"),
    ]);
    let introspection =
        IntrospectionEndpoint::new(endpoint(&transport), "https://login.example.com/introspect")
            .unwrap();
    let cx = RequestContext::default();
    let active = introspection
        .introspect(
            "token-a",
            Some(authkit_core::revocation::TokenTypeHint::AccessToken),
            &cx,
        )
        .await
        .unwrap();
    assert!(active.active());
    assert_eq!(active.client_id(), Some("gateway"));
    assert_eq!(active.subject(), Some("alice"));
    assert_eq!(active.audiences(), vec!["https://api.example.com/"]);
    assert_eq!(active.scopes().iter().collect::<Vec<_>>(), vec!["a", "b"]);
    assert_eq!(
        active.expires_at().map(|t| t.unix_timestamp()),
        Some(2_000_000_000)
    );
    assert_eq!(active.field("cnf"), Some(&json!({"jkt": "x"})));
    let inactive = introspection
        .introspect("token-b", None, &cx)
        .await
        .unwrap();
    assert!(!inactive.active());
    let err = introspection
        .introspect("token-c", None, &cx)
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Protocol(_)), "{err:?}");
    let sent = transport.sent();
    assert_eq!(sent[0].url, "https://login.example.com/introspect");
    assert_eq!(sent[0].field("token"), Some("token-a"));
    assert_eq!(sent[0].field("token_type_hint"), Some("access_token"));
    assert!(sent[0].authorization, "introspection is authenticated");
}

//! Client authentication with signed assertions (RFC 7523 §2.2, OpenID
//! Connect Core §9): what each assertion says, verified with the public key,
//! and that no two carry the same `jti`, not even a retry's.

use std::sync::Arc;

use authkit_core::client_auth::{
    AssertionAudience, AssertionKey, ClientAssertion, JWT_BEARER_ASSERTION_TYPE,
};
use authkit_core::endpoint::RequestContext;
use authkit_core::grant::ClientCredentialsGrant;
use authkit_core::secret::SecretString;
use authkit_core::{ClientAuth, Error, TokenEndpoint};
use authkit_testkit::oidc_provider::test_key;
use authkit_testkit::support::{assert_no_secrets, quick_retries};
use authkit_testkit::{Scripted, ScriptedTransport, SentForm};
use jsonwebtoken::jwk::Jwk;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde_json::{Value, json};

const TOKEN_URL: &str = "https://login.example.com/oauth2/token";

fn ok() -> Scripted {
    Scripted::json(
        200,
        json!({"access_token": "at", "token_type": "Bearer", "expires_in": 60}),
    )
}

async fn sent_with(auth: ClientAuth, answers: Vec<Scripted>) -> Vec<SentForm> {
    let transport = ScriptedTransport::new(answers);
    let endpoint = TokenEndpoint::builder(TOKEN_URL)
        .client_auth(auth)
        .transport(Arc::new(transport.clone()))
        .retry_policy(quick_retries(3))
        .build()
        .unwrap();
    endpoint
        .request(&ClientCredentialsGrant::new(), &RequestContext::default())
        .await
        .expect("tokens");
    transport.sent()
}

fn public_key(jwk_file: &str) -> DecodingKey {
    let jwk: Jwk = serde_json::from_slice(&test_key(jwk_file)).unwrap();
    DecodingKey::from_jwk(&jwk).unwrap()
}

/// Verifies the assertion's signature with `key` and returns its header
/// and claims.
fn verified(form: &SentForm, key: &DecodingKey, alg: Algorithm, aud: &str) -> (Value, Value) {
    assert_eq!(
        form.field("client_assertion_type"),
        Some(JWT_BEARER_ASSERTION_TYPE)
    );
    assert!(!form.authorization, "an assertion client sent Basic too");
    assert_eq!(form.field("client_secret"), None);
    let jwt = form.field("client_assertion").expect("client_assertion");
    let mut validation = Validation::new(alg);
    validation.set_audience(&[aud]);
    validation.set_required_spec_claims(&["exp", "iss", "sub", "aud"]);
    let data = jsonwebtoken::decode::<Value>(jwt, key, &validation)
        .unwrap_or_else(|e| panic!("the assertion does not verify: {e}"));
    let header = serde_json::to_value(&data.header).unwrap();
    (header, data.claims)
}

fn assert_claims(claims: &Value, client_id: &str) {
    assert_eq!(claims["iss"], client_id);
    assert_eq!(claims["sub"], client_id);
    let iat = claims["iat"].as_i64().unwrap();
    let exp = claims["exp"].as_i64().unwrap();
    assert_eq!(exp - iat, 60, "an assertion lives a minute");
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    assert!((iat - now).abs() < 5);
    assert!(claims["jti"].as_str().unwrap().len() >= 22);
}

#[tokio::test]
async fn private_key_jwt_assertions_verify_with_the_public_key_for_every_algorithm() {
    for (pem, jwk, alg) in [
        ("rs256.pem", "rs256.jwk.json", Algorithm::RS256),
        ("es256.pem", "es256.jwk.json", Algorithm::ES256),
        ("ed25519.pem", "ed25519.jwk.json", Algorithm::EdDSA),
    ] {
        let from_pem = AssertionKey::from_pem(&test_key(pem)).unwrap();
        let from_jwk =
            AssertionKey::from_jwk(std::str::from_utf8(&test_key(jwk)).unwrap()).unwrap();
        for key in [from_pem, from_jwk] {
            let sent = sent_with(ClientAuth::private_key_jwt("svc", key), vec![ok()]).await;
            assert_eq!(sent[0].field("client_id"), Some("svc"));
            let (header, claims) = verified(&sent[0], &public_key(jwk), alg, TOKEN_URL);
            assert_eq!(header["alg"], json!(format!("{alg:?}")));
            assert_claims(&claims, "svc");
        }
    }
}

#[tokio::test]
async fn client_secret_jwt_assertions_verify_with_the_shared_secret() {
    let secret = "a shared secret of more than thirty-two bytes";
    let sent = sent_with(
        ClientAuth::client_secret_jwt("app", secret).unwrap(),
        vec![ok()],
    )
    .await;
    let (header, claims) = verified(
        &sent[0],
        &DecodingKey::from_secret(secret.as_bytes()).unwrap(),
        Algorithm::HS256,
        TOKEN_URL,
    );
    assert_eq!(header["alg"], "HS256");
    assert_claims(&claims, "app");
    let auth = ClientAuth::client_secret_jwt("app", secret).unwrap();
    assert_no_secrets(&format!("{auth:?}"), &[secret]);
}

#[tokio::test]
async fn a_retried_request_signs_a_new_assertion_with_a_new_jti() {
    let key = AssertionKey::es256_pem(&test_key("es256.pem")).unwrap();
    let sent = sent_with(
        ClientAuth::private_key_jwt("svc", key),
        vec![Scripted::json(503, json!({})), ok()],
    )
    .await;
    assert_eq!(sent.len(), 2);
    let jti = |form: &SentForm| {
        verified(
            form,
            &public_key("es256.jwk.json"),
            Algorithm::ES256,
            TOKEN_URL,
        )
        .1["jti"]
            .clone()
    };
    assert_ne!(jti(&sent[0]), jti(&sent[1]), "a jti was re-sent");
}

#[tokio::test]
async fn the_audience_and_lifetime_and_key_id_are_configurable() {
    let key = AssertionKey::ed25519_pem(&test_key("ed25519.pem"))
        .unwrap()
        .with_key_id("key-2026");
    let auth = ClientAuth::Assertion(
        ClientAssertion::new("svc", key)
            .audience(AssertionAudience::Issuer(
                "https://login.example.com".into(),
            ))
            .lifetime(std::time::Duration::from_secs(20)),
    );
    assert_eq!(auth.method_name(), "private_key_jwt");
    let sent = sent_with(auth, vec![ok()]).await;
    let (header, claims) = verified(
        &sent[0],
        &public_key("ed25519.jwk.json"),
        Algorithm::EdDSA,
        "https://login.example.com",
    );
    assert_eq!(header["kid"], "key-2026");
    assert_eq!(
        claims["exp"].as_i64().unwrap() - claims["iat"].as_i64().unwrap(),
        20
    );
}

#[test]
fn a_key_that_is_not_a_key_is_a_configuration_error_that_shows_nothing_of_it() {
    let not_a_key =
        b"-----BEGIN PRIVATE KEY-----\nbm90IGEga2V5IGF0IGFsbA==\n-----END PRIVATE KEY-----\n";
    for err in [
        AssertionKey::from_pem(not_a_key).unwrap_err(),
        AssertionKey::rs256_pem(&test_key("es256.pem")).unwrap_err(),
        AssertionKey::from_jwk(r#"{"kty":"EC","crv":"P-256","x":"AA","y":"AA"}"#).unwrap_err(),
        AssertionKey::from_jwk(r#"{"kty":"oct","k":"c2VjcmV0"}"#).unwrap_err(),
        AssertionKey::hs256(&SecretString::from("")).unwrap_err(),
    ] {
        assert!(matches!(err, Error::Config(_)), "{err:?}");
        assert_no_secrets(&format!("{err} {err:?}"), &["bm90IGEga2V5", "c2VjcmV0"]);
    }
}

#[test]
fn debug_of_a_key_and_of_the_client_auth_shows_no_key_material() {
    let pem = test_key("ed25519.pem");
    let key = AssertionKey::ed25519_pem(&pem).unwrap();
    let text = format!(
        "{key:?} {:?}",
        ClientAuth::private_key_jwt("svc", key.clone())
    );
    let body: String = String::from_utf8(pem)
        .unwrap()
        .lines()
        .filter(|l| !l.starts_with("-----"))
        .collect();
    assert_no_secrets(&text, &[body]);
    let jwk: Value = serde_json::from_slice(&test_key("ed25519.jwk.json")).unwrap();
    assert_no_secrets(&text, &[jwk["d"].as_str().unwrap()]);
    assert!(text.contains("EdDSA"));
}

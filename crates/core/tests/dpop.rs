//! DPoP (RFC 9449) as a specification: what a proof says (verified with the
//! key it carries), how token requests answer `use_dpop_nonce`, which token
//! types are accepted, and how a DPoP-bound token goes on an API request.

use std::sync::Arc;

use authkit_core::dpop::{DPOP_PROOF_TYPE, DpopContext, DpopKey, DpopNonces};
use authkit_core::endpoint::RequestContext;
use authkit_core::grant::PasswordGrant;
use authkit_core::token::TokenType;
use authkit_core::{
    ClientAuth, Error, ErrorCode, ExposeSecret, GenericProvider, MemoryStore, TokenEndpoint,
    TokenManager,
};
use authkit_testkit::support::{assert_no_secrets, load, quick_retries};
use authkit_testkit::{Scripted, ScriptedTransport};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::jwk::Jwk;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use url::Url;

const TOKEN_URL: &str = "https://login.example.com/token";

/// Verifies `proof` with the public key in its own header, as a server does,
/// and checks that key is `key`'s.
fn verified(proof: &str, key: &DpopKey) -> (Value, Value) {
    let header = jsonwebtoken::decode_header(proof).expect("a JWS");
    assert_eq!(header.typ.as_deref(), Some(DPOP_PROOF_TYPE));
    assert_eq!(header.alg, Algorithm::ES256);
    let jwk: Jwk = header.jwk.clone().expect("the public key in the header");
    assert_eq!(&jwk, key.public_jwk());
    let mut validation = Validation::new(Algorithm::ES256);
    validation.required_spec_claims.clear();
    validation.validate_exp = false;
    let data =
        jsonwebtoken::decode::<Value>(proof, &DecodingKey::from_jwk(&jwk).unwrap(), &validation)
            .expect("the proof verifies with its own key");
    let header = serde_json::to_value(&data.header).unwrap();
    assert!(
        header.get("jwk").and_then(|k| k.get("d")).is_none(),
        "the private key is in the header"
    );
    (header, data.claims)
}

#[test]
fn a_proof_names_the_request_and_is_signed_by_the_key_it_shows() {
    let key = DpopKey::generate().unwrap();
    let url = Url::parse("https://api.example.com/v1/items?page=2#top").unwrap();
    let token = authkit_core::AccessToken::new("the-access-token");
    let now = time::OffsetDateTime::now_utc();
    let proof = key
        .proof("GET", &url, Some("server-nonce"), Some(&token), now)
        .unwrap();
    let (_, claims) = verified(proof.expose_secret(), &key);
    assert_eq!(claims["htm"], "GET");
    assert_eq!(
        claims["htu"], "https://api.example.com/v1/items",
        "query and fragment stay out"
    );
    assert_eq!(claims["iat"], now.unix_timestamp());
    assert_eq!(claims["nonce"], "server-nonce");
    let ath = URL_SAFE_NO_PAD.encode(Sha256::digest(b"the-access-token"));
    assert_eq!(claims["ath"], ath);
    let again = key.proof("GET", &url, None, None, now).unwrap();
    let (_, second) = verified(again.expose_secret(), &key);
    assert_ne!(claims["jti"], second["jti"], "two proofs share a jti");
    assert!(second.get("nonce").is_none() && second.get("ath").is_none());
    assert_no_secrets(&format!("{key:?}"), &[key.secret_bytes().expose_secret()]);
}

fn endpoint(transport: &ScriptedTransport) -> TokenEndpoint {
    TokenEndpoint::builder(TOKEN_URL)
        .client_auth(ClientAuth::public("cli"))
        .transport(Arc::new(transport.clone()))
        .retry_policy(quick_retries(1))
        .build()
        .unwrap()
}

fn dpop_tokens() -> Scripted {
    Scripted::json(
        200,
        json!({"access_token": "dpop-bound", "token_type": "DPoP", "expires_in": 300,
               "refresh_token": "rt-bound"}),
    )
}

fn nonce_please(nonce: &str) -> Scripted {
    match Scripted::json(
        400,
        json!({"error": "use_dpop_nonce", "error_description": "Authorization server requires nonce in DPoP proof"}),
    ) {
        Scripted::Respond(mut response) => {
            response.dpop_nonce = Some(nonce.to_owned());
            Scripted::Respond(response)
        }
        other => other,
    }
}

fn context(key: &DpopKey, nonces: &DpopNonces) -> RequestContext {
    RequestContext::default().with_dpop(DpopContext::new(key.clone(), nonces.clone()))
}

#[tokio::test]
async fn a_token_request_carries_a_proof_and_answers_the_nonce_demand_once() {
    let transport = ScriptedTransport::new([nonce_please("n-1"), dpop_tokens()]);
    let (key, nonces) = (DpopKey::generate().unwrap(), DpopNonces::new());
    // A single-use grant: re-sent because the server said it did not use it.
    let grant =
        authkit_core::grant::RefreshTokenGrant::new(authkit_core::RefreshToken::new("rt-1"));
    let tokens = endpoint(&transport)
        .request(&grant, &context(&key, &nonces))
        .await
        .expect("tokens after the nonce");
    assert_eq!(tokens.token_type(), &TokenType::DPoP);
    assert_eq!(tokens.dpop_key().unwrap().thumbprint(), key.thumbprint());
    let sent = transport.sent();
    assert_eq!(sent.len(), 2);
    let first = verified(sent[0].dpop.as_deref().expect("a proof"), &key).1;
    let second = verified(sent[1].dpop.as_deref().expect("a proof"), &key).1;
    assert_eq!(first["htm"], "POST");
    assert_eq!(first["htu"], TOKEN_URL);
    assert!(first.get("nonce").is_none());
    assert_eq!(second["nonce"], "n-1");
    assert!(second.get("ath").is_none(), "a token request has no ath");
    // The nonce is remembered for the origin.
    assert_eq!(
        nonces.get(&Url::parse(TOKEN_URL).unwrap()).as_deref(),
        Some("n-1")
    );
}

#[tokio::test]
async fn a_second_nonce_demand_is_the_callers_error_not_a_loop() {
    let transport =
        ScriptedTransport::new([nonce_please("n-1"), nonce_please("n-2"), dpop_tokens()]);
    let (key, nonces) = (DpopKey::generate().unwrap(), DpopNonces::new());
    let err = endpoint(&transport)
        .request(
            &authkit_core::grant::ClientCredentialsGrant::new(),
            &context(&key, &nonces),
        )
        .await
        .unwrap_err();
    match err {
        Error::Refused(refusal) => assert_eq!(refusal.code(), &ErrorCode::UseDpopNonce),
        other => panic!("{other:?}"),
    }
    assert_eq!(transport.sent().len(), 2);
}

#[tokio::test]
async fn a_dpop_token_type_is_refused_without_dpop_and_a_bearer_one_is_not_bound() {
    let transport = ScriptedTransport::new([dpop_tokens()]);
    let err = endpoint(&transport)
        .request(
            &authkit_core::grant::ClientCredentialsGrant::new(),
            &RequestContext::default(),
        )
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Protocol(_)), "{err:?}");
    assert!(transport.sent()[0].dpop.is_none(), "a proof without DPoP");

    // A server that ignores DPoP answers Bearer: accepted, and not bound.
    let transport = ScriptedTransport::new([Scripted::json(
        200,
        json!({"access_token": "plain", "token_type": "Bearer", "expires_in": 300}),
    )]);
    let (key, nonces) = (DpopKey::generate().unwrap(), DpopNonces::new());
    let tokens = endpoint(&transport)
        .request(
            &authkit_core::grant::ClientCredentialsGrant::new(),
            &context(&key, &nonces),
        )
        .await
        .unwrap();
    assert_eq!(tokens.token_type(), &TokenType::Bearer);
    assert!(tokens.dpop_key().is_none());
}

fn dpop_manager(transport: &ScriptedTransport, store: &MemoryStore) -> TokenManager {
    let provider = GenericProvider::new("dan", endpoint(transport))
        .with_grant(PasswordGrant::new("dan", authkit_core::Password::new("pw")));
    TokenManager::builder(provider, store.clone())
        .dpop()
        .build()
}

#[tokio::test]
async fn the_manager_binds_a_new_key_at_sign_in_keeps_it_on_refresh_and_stores_it() {
    let transport = ScriptedTransport::new([
        dpop_tokens(),
        Scripted::json(
            200,
            json!({"access_token": "dpop-bound-2", "token_type": "DPoP", "expires_in": 300}),
        ),
    ]);
    let store = MemoryStore::new();
    let manager = dpop_manager(&transport, &store);
    manager.access_token().await.unwrap();
    let stored = load(&store, manager.account_key()).await.unwrap().unwrap();
    let key = stored
        .dpop_key()
        .expect("the key is stored with the tokens")
        .clone();
    manager.invalidate();
    manager.access_token().await.unwrap();
    let sent = transport.sent();
    assert_eq!(sent[1].field("grant_type"), Some("refresh_token"));
    verified(sent[0].dpop.as_deref().unwrap(), &key);
    verified(sent[1].dpop.as_deref().unwrap(), &key);
    let stored = load(&store, manager.account_key()).await.unwrap().unwrap();
    assert_eq!(stored.dpop_key().unwrap().thumbprint(), key.thumbprint());

    // A new manager reading the store uses the stored key.
    let url = Url::parse("https://api.example.com/items").unwrap();
    let other = dpop_manager(&transport, &store);
    let auth = other.authorize("GET", &url).await.unwrap();
    assert_eq!(
        auth.authorization().to_str().unwrap(),
        "DPoP dpop-bound-2",
        "a DPoP-bound token went out as Bearer"
    );
    let (_, claims) = verified(auth.dpop().unwrap().to_str().unwrap(), &key);
    assert_eq!(claims["htu"], "https://api.example.com/items");
    assert_eq!(
        claims["ath"],
        URL_SAFE_NO_PAD.encode(Sha256::digest(b"dpop-bound-2"))
    );
    assert!(auth.authorization().is_sensitive() && auth.dpop().unwrap().is_sensitive());
    assert_no_secrets(&format!("{auth:?}"), &["dpop-bound-2"]);
}

#[tokio::test]
async fn a_new_sign_in_gets_a_new_key() {
    let transport = ScriptedTransport::new([dpop_tokens(), dpop_tokens()]);
    let store = MemoryStore::new();
    let manager = dpop_manager(&transport, &store);
    let first = manager
        .sign_in_context()
        .unwrap()
        .dpop()
        .unwrap()
        .key()
        .thumbprint()
        .to_owned();
    let second = manager
        .sign_in_context()
        .unwrap()
        .dpop()
        .unwrap()
        .key()
        .thumbprint()
        .to_owned();
    assert_ne!(first, second);
    // Without DPoP, no key at all.
    let plain = TokenManager::new(
        GenericProvider::new("p", endpoint(&transport)),
        MemoryStore::new(),
    );
    assert!(plain.sign_in_context().unwrap().dpop().is_none());
}

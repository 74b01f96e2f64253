//! Any bytes as a `DPoP-Nonce` header (RFC 9449 §8): a nonce the server
//! sent is used in the next proof to its origin exactly as sent, and the
//! proof is a header value; never a panic, and a nonce from one origin
//! never reaches another.
#![no_main]

use std::sync::OnceLock;

use authkit_core::dpop::{DpopContext, DpopKey, DpopNonces};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use libfuzzer_sys::fuzz_target;
use authkit_core::deps::reqwest::header::HeaderValue;
use url::Url;

fn key() -> &'static DpopKey {
    static KEY: OnceLock<DpopKey> = OnceLock::new();
    KEY.get_or_init(|| DpopKey::generate().expect("a DPoP key"))
}

fuzz_target!(|data: &[u8]| {
    // What a response's header can hold: visible ASCII, as `HeaderValue::to_str` reads it.
    let Ok(header) = HeaderValue::from_bytes(data) else {
        return;
    };
    let Ok(nonce) = header.to_str() else {
        return;
    };
    let server = Url::parse("https://auth.example.com/token").expect("url");
    let elsewhere = Url::parse("https://api.example.net/v1").expect("url");
    let nonces = DpopNonces::new();
    nonces.set(&server, nonce);
    assert_eq!(nonces.get(&server).as_deref(), Some(nonce));
    assert_eq!(nonces.get(&elsewhere), None, "a nonce crossed origins");

    let context = DpopContext::new(key().clone(), nonces);
    let now = time::OffsetDateTime::UNIX_EPOCH + time::Duration::days(20_000);
    let proof = context
        .proof_header("POST", &server, None, now)
        .expect("a proof with any nonce a header can carry");
    let proof = proof.to_str().expect("a proof is ASCII");
    let claims = proof.split('.').nth(1).expect("a compact JWS");
    let claims = URL_SAFE_NO_PAD.decode(claims).expect("base64url claims");
    let claims: serde_json::Value = serde_json::from_slice(&claims).expect("JSON claims");
    assert_eq!(claims["nonce"].as_str(), Some(nonce));
});

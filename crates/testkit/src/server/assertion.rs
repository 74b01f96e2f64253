//! Client assertions at the mock server (RFC 7523 §2.2, OIDC Core §9):
//! a `client_secret_jwt` client proves itself with an HS256 JWT signed with
//! its secret. The server checks what a real one checks: the assertion
//! type, the signature, `iss` and `sub` naming the client, an `aud` that is
//! the token endpoint, an `exp` still ahead, and a `jti` never seen before
//! (a replayed assertion is refused).

use std::collections::HashMap;

use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde_json::Value;

use super::config::{ClientKind, MockClient};
use super::state::State;

/// The `client_assertion_type` of a JWT assertion.
pub(crate) const JWT_BEARER: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

impl State {
    /// The client that `form`'s assertion proves, or `None` when it proves
    /// none (wrong type, signature, claims, or a replay).
    pub(crate) fn assertion_client(
        &mut self,
        form: &HashMap<String, String>,
    ) -> Option<MockClient> {
        if form.get("client_assertion_type").map(String::as_str) != Some(JWT_BEARER) {
            return None;
        }
        let assertion = form.get("client_assertion")?;
        let header = jsonwebtoken::decode_header(assertion).ok()?;
        if header.alg != Algorithm::HS256 {
            return None;
        }
        let unverified = jsonwebtoken::dangerous::insecure_decode::<Value>(assertion).ok()?;
        let issuer = unverified.claims.get("iss")?.as_str()?.to_owned();
        let client = self
            .config
            .clients
            .iter()
            .find(|c| c.id == issuer && c.accepts(&ClientKind::SecretJwt))?
            .clone();
        let secret = client.secret.as_deref()?;
        let mut validation = Validation::new(Algorithm::HS256);
        validation.validate_aud = false;
        validation.set_required_spec_claims(&["exp", "iss", "sub"]);
        validation.validate_exp = false;
        let key = DecodingKey::from_secret(secret.as_bytes()).ok()?;
        let claims = jsonwebtoken::decode::<Value>(assertion, &key, &validation)
            .ok()?
            .claims;
        let now = self.now().unix_timestamp();
        let audience_ok = match claims.get("aud") {
            Some(Value::String(aud)) => aud.ends_with(&self.config.token_path),
            Some(Value::Array(auds)) => auds
                .iter()
                .filter_map(Value::as_str)
                .any(|aud| aud.ends_with(&self.config.token_path)),
            _ => false,
        };
        let fresh = claims
            .get("exp")
            .and_then(Value::as_i64)
            .is_some_and(|exp| exp > now);
        let subject_ok = claims.get("sub").and_then(Value::as_str) == Some(client.id.as_str());
        let jti = claims.get("jti").and_then(Value::as_str)?.to_owned();
        // A jti is spent only by an assertion that is otherwise good.
        (audience_ok && fresh && subject_ok && self.seen_assertions.insert(jti)).then_some(client)
    }
}

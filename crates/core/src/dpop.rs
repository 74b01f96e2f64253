//! DPoP (RFC 9449): tokens bound to a key the client holds.
//!
//! A Bearer token works for whoever holds it. With DPoP the client makes a
//! key pair, shows its public half in a signed *proof* on every token
//! request, and the server binds the tokens it issues to that key (`cnf.jkt`,
//! the key's thumbprint). Every later use of the token (a refresh, an API
//! call) carries a fresh proof signed with the same key, naming the HTTP
//! method and URL and, for an API call, the token's hash (`ath`). A stolen
//! token without the key is useless; so is a stolen proof, which names one
//! request.
//!
//! The key is an account's: a [`DpopKey`] is made with the account's first
//! sign-in, stored inside its token set (so the tokens and the key they are
//! bound to are saved, sealed and removed together, and a store that cannot
//! keep the key keeps nothing), kept by every refresh, and replaced only by
//! the next full sign-in. ES256 (P-256) is the algorithm: every DPoP server
//! accepts it. The private key never appears in `Debug`, errors or logs.
//! A proof goes on every API request, so its cost matters: the header is
//! encoded once per key and the signature made with `ring` (which rustls
//! already links), about three times faster here than through a general JWT
//! library (see `docs/performance.md`). Keys are made and kept with `p256`.
//!
//! Servers may demand a fresh `nonce` in proofs (§8, §9): they answer
//! `use_dpop_nonce` with a `DPoP-Nonce` header, and the client repeats the
//! request once with it. [`DpopNonces`] remembers the last nonce per origin.

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Mutex, PoisonError};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::jwk::{
    AlgorithmParameters, CommonParameters, EllipticCurve, EllipticCurveKeyParameters, Jwk,
};
use jsonwebtoken::{Algorithm, Header};
use reqwest::header::HeaderValue;
use secrecy::{ExposeSecret, SecretString};
use serde::Serialize;
use sha2::{Digest, Sha256};
use time::OffsetDateTime;
use url::Url;

use crate::client_auth::assertion::unique_id;
use crate::error::Error;
use crate::secret::AccessToken;

/// The `typ` of a DPoP proof (RFC 9449 §4.2).
pub const DPOP_PROOF_TYPE: &str = "dpop+jwt";

/// An account's DPoP key: a P-256 private key (ES256). Cheap to clone.
/// `Debug` shows the public thumbprint only.
#[derive(Clone)]
pub struct DpopKey {
    inner: Arc<KeyInner>,
}

struct KeyInner {
    secret: p256::SecretKey,
    /// Parsed once: a proof per API request must not re-read the key.
    signing: ring::signature::EcdsaKeyPair,
    /// The proof header (`typ`, `alg`, `jwk`), the same for every proof of
    /// this key, base64url-encoded once.
    header_b64: String,
    jwk: Jwk,
    thumbprint: String,
}

impl fmt::Debug for DpopKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DpopKey")
            .field("alg", &"ES256")
            .field("jkt", &self.inner.thumbprint)
            .finish_non_exhaustive()
    }
}

#[derive(Serialize)]
struct ProofClaims<'a> {
    jti: String,
    htm: &'a str,
    htu: &'a str,
    iat: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    nonce: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    ath: Option<String>,
}

impl DpopKey {
    /// A new random key.
    pub fn generate() -> Result<Self, Error> {
        loop {
            let mut bytes = zeroize::Zeroizing::new([0u8; 32]);
            getrandom::fill(bytes.as_mut())
                .map_err(|e| Error::Internal(format!("no randomness for a DPoP key: {e}")))?;
            // A 32-byte string is a valid scalar with overwhelming
            // probability; the rare one that is not is drawn again.
            if let Ok(key) = Self::from_secret_bytes(bytes.as_ref()) {
                return Ok(key);
            }
        }
    }

    /// The key whose private scalar is `bytes` (32 bytes, big-endian), as
    /// [`DpopKey::secret_bytes`] gives it.
    pub fn from_secret_bytes(bytes: &[u8]) -> Result<Self, Error> {
        let invalid = || Error::config("the DPoP key is not a P-256 private key");
        let secret = p256::SecretKey::from_slice(bytes).map_err(|_| invalid())?;
        let point = secret.public_key().to_sec1_bytes();
        // Uncompressed SEC1: 0x04, x, y.
        if point.len() != 65 || point[0] != 4 {
            return Err(invalid());
        }
        let x = URL_SAFE_NO_PAD.encode(&point[1..33]);
        let y = URL_SAFE_NO_PAD.encode(&point[33..65]);
        // RFC 7638: the members in lexicographic order, no spaces.
        let canonical = format!(r#"{{"crv":"P-256","kty":"EC","x":"{x}","y":"{y}"}}"#);
        let thumbprint = URL_SAFE_NO_PAD.encode(Sha256::digest(canonical.as_bytes()));
        let jwk = Jwk {
            common: CommonParameters::default(),
            algorithm: AlgorithmParameters::EllipticCurve(EllipticCurveKeyParameters {
                key_type: Default::default(),
                curve: EllipticCurve::P256,
                x,
                y,
            }),
        };
        let mut header = Header::new(Algorithm::ES256);
        header.typ = Some(DPOP_PROOF_TYPE.to_owned());
        header.jwk = Some(jwk.clone());
        let header_json = serde_json::to_vec(&header).map_err(|_| invalid())?;
        Ok(Self {
            inner: Arc::new(KeyInner {
                signing: ring::signature::EcdsaKeyPair::from_private_key_and_public_key(
                    &ring::signature::ECDSA_P256_SHA256_FIXED_SIGNING,
                    &secret.to_bytes(),
                    &point,
                    &ring::rand::SystemRandom::new(),
                )
                .map_err(|_| invalid())?,
                header_b64: URL_SAFE_NO_PAD.encode(header_json),
                secret,
                jwk,
                thumbprint,
            }),
        })
    }

    /// The private scalar, for a store to keep (inside the token set).
    pub fn secret_bytes(&self) -> SecretString {
        SecretString::from(URL_SAFE_NO_PAD.encode(self.inner.secret.to_bytes()))
    }

    /// The key as stored: [`DpopKey::secret_bytes`], base64url.
    pub(crate) fn from_stored(text: &str) -> Result<Self, Error> {
        let bytes = zeroize::Zeroizing::new(
            URL_SAFE_NO_PAD
                .decode(text)
                .map_err(|_| Error::config("the stored DPoP key is not base64url"))?,
        );
        Self::from_secret_bytes(&bytes)
    }

    /// The JWK thumbprint (RFC 7638, SHA-256): what the server binds tokens
    /// to (`cnf.jkt`), and the `dpop_jkt` of an authorization request.
    pub fn thumbprint(&self) -> &str {
        &self.inner.thumbprint
    }

    /// The public key as a JWK.
    pub fn public_jwk(&self) -> &Jwk {
        &self.inner.jwk
    }

    /// A proof for one request (RFC 9449 §4.2): `htm` `method`, `htu` the
    /// URL without query and fragment, a new `jti`, `iat` `now`, the server's
    /// `nonce` when it wants one, and for a resource request the token's hash
    /// (`ath`).
    pub fn proof(
        &self,
        method: &str,
        url: &Url,
        nonce: Option<&str>,
        access_token: Option<&AccessToken>,
        now: OffsetDateTime,
    ) -> Result<SecretString, Error> {
        let mut htu = url.clone();
        htu.set_query(None);
        htu.set_fragment(None);
        let claims = ProofClaims {
            jti: unique_id()?,
            htm: method,
            htu: htu.as_str(),
            iat: now.unix_timestamp(),
            nonce,
            ath: access_token
                .map(|t| URL_SAFE_NO_PAD.encode(Sha256::digest(t.expose_secret().as_bytes()))),
        };
        // A compact JWS (RFC 7515 §7.1) signed with ES256: the signature is
        // r and s, 32 bytes each (RFC 7518 §3.4).
        let claims = serde_json::to_vec(&claims)
            .map_err(|_| Error::Internal("a DPoP proof could not be encoded".into()))?;
        let mut jws = String::with_capacity(self.inner.header_b64.len() + claims.len() * 2 + 90);
        jws.push_str(&self.inner.header_b64);
        jws.push('.');
        URL_SAFE_NO_PAD.encode_string(&claims, &mut jws);
        let signature = self
            .inner
            .signing
            .sign(&ring::rand::SystemRandom::new(), jws.as_bytes())
            .map_err(|_| Error::Internal("a DPoP proof could not be signed".into()))?;
        jws.push('.');
        URL_SAFE_NO_PAD.encode_string(signature.as_ref(), &mut jws);
        Ok(SecretString::from(jws))
    }
}

/// The last `DPoP-Nonce` each origin sent (RFC 9449 §8, §9). Cheap to
/// clone; clones share the nonces.
#[derive(Clone, Debug, Default)]
pub struct DpopNonces {
    by_origin: Arc<Mutex<HashMap<String, String>>>,
}

impl DpopNonces {
    /// No nonces yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// The nonce to use for a request to `url`, if its origin sent one.
    pub fn get(&self, url: &Url) -> Option<String> {
        self.by_origin
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(&url.origin().ascii_serialization())
            .cloned()
    }

    /// Remembers the nonce `url`'s origin sent.
    pub fn set(&self, url: &Url, nonce: &str) {
        self.by_origin
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(url.origin().ascii_serialization(), nonce.to_owned());
    }
}

/// A DPoP key and the nonces of the servers it is shown to: what a token
/// request or an API call needs to make its proof.
#[derive(Clone, Debug)]
pub struct DpopContext {
    key: DpopKey,
    nonces: DpopNonces,
}

impl DpopContext {
    /// Proofs signed with `key`, with nonces from `nonces`.
    pub fn new(key: DpopKey, nonces: DpopNonces) -> Self {
        Self { key, nonces }
    }

    /// The key.
    pub fn key(&self) -> &DpopKey {
        &self.key
    }

    /// The nonces.
    pub fn nonces(&self) -> &DpopNonces {
        &self.nonces
    }

    /// The `DPoP` header for `method` `url`: a proof with the nonce the
    /// origin last sent, marked sensitive.
    pub fn proof_header(
        &self,
        method: &str,
        url: &Url,
        access_token: Option<&AccessToken>,
        now: OffsetDateTime,
    ) -> Result<HeaderValue, Error> {
        let nonce = self.nonces.get(url);
        let proof = self
            .key
            .proof(method, url, nonce.as_deref(), access_token, now)?;
        let mut header = HeaderValue::from_str(proof.expose_secret())
            .map_err(|_| Error::Internal("a DPoP proof is not a header value".into()))?;
        header.set_sensitive(true);
        Ok(header)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_survives_its_stored_form_and_keeps_its_thumbprint() {
        let key = DpopKey::generate().unwrap();
        let again = DpopKey::from_stored(key.secret_bytes().expose_secret()).unwrap();
        assert_eq!(key.thumbprint(), again.thumbprint());
        assert_eq!(key.thumbprint().len(), 43);
        assert!(!format!("{key:?}").contains(key.secret_bytes().expose_secret()));
    }

    #[test]
    fn the_thumbprint_is_rfc_7638s_over_the_public_jwk() {
        let key = DpopKey::generate().unwrap();
        let independent = key
            .public_jwk()
            .thumbprint(jsonwebtoken::jwk::ThumbprintHash::SHA256)
            .unwrap();
        assert_eq!(key.thumbprint(), independent);
    }
}

//! Client authentication with signed assertions (RFC 7523 §2.2, OpenID
//! Connect Core §9): `private_key_jwt` and `client_secret_jwt`.
//!
//! Instead of sending a secret, the client sends a short-lived JWT it signed:
//! issuer and subject are its client id, the audience is the server (the
//! token endpoint's URL, or the issuer where the server wants that), `jti`
//! is unique so the server can refuse a replay, and `exp` is a minute away.
//! A new assertion is signed for every attempt of every request, so a retry
//! never re-sends a `jti` the server may have seen.
//!
//! Keys are secret types: [`AssertionKey`]'s `Debug` shows the algorithm and
//! key id, never the key. Signing goes through `jsonwebtoken` (RustCrypto
//! backend); JWK private keys are converted to DER with the RustCrypto key
//! crates, never parsed by hand.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use secrecy::{ExposeSecret, SecretString};
use serde::Serialize;
use time::OffsetDateTime;
use url::Url;

use crate::error::Error;
use crate::secret::ClientId;

/// The default lifetime of an assertion: 60 seconds. Long enough for clock
/// skew between client and server, short enough that a captured assertion
/// is soon useless.
pub const DEFAULT_ASSERTION_LIFETIME: Duration = Duration::from_secs(60);

/// The `client_assertion_type` of a JWT assertion (RFC 7523 §2.2).
pub const JWT_BEARER_ASSERTION_TYPE: &str =
    "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

/// A key that signs client assertions (or JWT bearer grants): an RSA, P-256
/// or Ed25519 private key, or an HMAC secret. `Debug` shows the algorithm and
/// key id only.
#[derive(Clone)]
pub struct AssertionKey {
    algorithm: Algorithm,
    key: EncodingKey,
    key_id: Option<String>,
}

impl fmt::Debug for AssertionKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AssertionKey")
            .field("algorithm", &self.algorithm)
            .field("key_id", &self.key_id)
            .finish_non_exhaustive()
    }
}

fn key_error(what: &str) -> Error {
    Error::config(format!("the assertion key is not {what}"))
}

impl AssertionKey {
    /// An RSA private key (PKCS#1 or PKCS#8 PEM) that signs with RS256.
    pub fn rs256_pem(pem: &[u8]) -> Result<Self, Error> {
        let key = EncodingKey::from_rsa_pem(pem).map_err(|_| key_error("an RSA private key"))?;
        Self::checked(Algorithm::RS256, key, "an RSA private key")
    }

    /// A P-256 private key (PKCS#8 PEM) that signs with ES256.
    pub fn es256_pem(pem: &[u8]) -> Result<Self, Error> {
        let key = EncodingKey::from_ec_pem(pem).map_err(|_| key_error("a P-256 private key"))?;
        Self::checked(Algorithm::ES256, key, "a P-256 private key")
    }

    /// An Ed25519 private key (PKCS#8 PEM) that signs with EdDSA.
    pub fn ed25519_pem(pem: &[u8]) -> Result<Self, Error> {
        let key = EncodingKey::from_ed_pem(pem).map_err(|_| key_error("an Ed25519 private key"))?;
        Self::checked(Algorithm::EdDSA, key, "an Ed25519 private key")
    }

    /// A private key in PEM, its algorithm told by its contents: RSA keys
    /// sign with RS256, P-256 keys with ES256, Ed25519 keys with EdDSA.
    pub fn from_pem(pem: &[u8]) -> Result<Self, Error> {
        Self::es256_pem(pem)
            .or_else(|_| Self::ed25519_pem(pem))
            .or_else(|_| Self::rs256_pem(pem))
            .map_err(|_| key_error("an RSA, P-256 or Ed25519 private key in PEM"))
    }

    /// A private JWK (RFC 7517): `kty` `RSA`, `EC` with `crv` `P-256`, or
    /// `OKP` with `crv` `Ed25519`. Its `kid`, if any, goes into the header of
    /// every assertion.
    pub fn from_jwk(jwk: &str) -> Result<Self, Error> {
        let value: serde_json::Value =
            serde_json::from_str(jwk).map_err(|_| key_error("a JSON Web Key"))?;
        let field = |name: &str| value.get(name).and_then(|v| v.as_str());
        let bytes = |name: &str| -> Result<Vec<u8>, Error> {
            field(name)
                .and_then(|v| URL_SAFE_NO_PAD.decode(v).ok())
                .ok_or_else(|| key_error("a private JSON Web Key (a member is missing)"))
        };
        let mut key = match (field("kty"), field("crv")) {
            (Some("EC"), Some("P-256")) => {
                use p256::pkcs8::EncodePrivateKey;
                let secret = p256::SecretKey::from_slice(&bytes("d")?)
                    .map_err(|_| key_error("a P-256 private JWK"))?;
                let der = secret
                    .to_pkcs8_der()
                    .map_err(|_| key_error("a P-256 private JWK"))?;
                Self::checked(
                    Algorithm::ES256,
                    EncodingKey::from_ec_der(der.as_bytes()),
                    "a P-256 private JWK",
                )?
            }
            (Some("OKP"), Some("Ed25519")) => {
                use ed25519_dalek::pkcs8::EncodePrivateKey;
                let d: [u8; 32] = bytes("d")?
                    .try_into()
                    .map_err(|_| key_error("an Ed25519 private JWK"))?;
                let der = ed25519_dalek::SigningKey::from_bytes(&d)
                    .to_pkcs8_der()
                    .map_err(|_| key_error("an Ed25519 private JWK"))?;
                Self::checked(
                    Algorithm::EdDSA,
                    EncodingKey::from_ed_der(der.as_bytes()),
                    "an Ed25519 private JWK",
                )?
            }
            (Some("RSA"), _) => {
                use rsa::pkcs1::EncodeRsaPrivateKey;
                let uint =
                    |name: &str| bytes(name).map(|b| rsa::BoxedUint::from_be_slice_vartime(&b));
                let private =
                    rsa::PrivateKey::from_primes(vec![uint("p")?, uint("q")?], uint("e")?)
                        .map_err(|_| key_error("an RSA private JWK"))?;
                let der = private
                    .to_pkcs1_der()
                    .map_err(|_| key_error("an RSA private JWK"))?;
                Self::checked(
                    Algorithm::RS256,
                    EncodingKey::from_rsa_der(der.as_bytes()),
                    "an RSA private JWK",
                )?
            }
            _ => {
                return Err(key_error(
                    "a JWK of a supported type (RSA, EC P-256, OKP Ed25519)",
                ));
            }
        };
        key.key_id = field("kid").map(str::to_owned);
        Ok(key)
    }

    /// An HMAC secret that signs with HS256 (`client_secret_jwt`): the
    /// client secret the server issued.
    pub fn hs256(secret: &SecretString) -> Result<Self, Error> {
        if secret.expose_secret().is_empty() {
            return Err(key_error("a non-empty secret"));
        }
        let key = EncodingKey::from_secret(secret.expose_secret().as_bytes())
            .map_err(|_| key_error("a usable HMAC secret"))?;
        Self::checked(Algorithm::HS256, key, "an HMAC secret")
    }

    /// The same key, naming itself `key_id` in every header (`kid`), for
    /// servers that hold several keys of one client.
    pub fn with_key_id(mut self, key_id: impl Into<String>) -> Self {
        self.key_id = Some(key_id.into());
        self
    }

    /// The JWS algorithm it signs with (`RS256`, `ES256`, `EdDSA`, `HS256`).
    pub fn algorithm_name(&self) -> &'static str {
        match self.algorithm {
            Algorithm::RS256 => "RS256",
            Algorithm::ES256 => "ES256",
            Algorithm::EdDSA => "EdDSA",
            Algorithm::HS256 => "HS256",
            _ => "unsupported",
        }
    }

    /// The key id, if one was given or came with the JWK.
    pub fn key_id(&self) -> Option<&str> {
        self.key_id.as_deref()
    }

    /// Signs `claims` as a compact JWS with this key.
    pub fn sign<T: Serialize>(&self, claims: &T) -> Result<SecretString, Error> {
        let mut header = Header::new(self.algorithm);
        header.kid = self.key_id.clone();
        jsonwebtoken::encode(&header, claims, &self.key)
            .map(SecretString::from)
            .map_err(|_| Error::config("the assertion key cannot sign"))
    }

    /// Proves the key signs now, so a bad key is a configuration error when
    /// the client is built, not on the first token request.
    fn checked(algorithm: Algorithm, key: EncodingKey, what: &str) -> Result<Self, Error> {
        let key = Self {
            algorithm,
            key,
            key_id: None,
        };
        key.sign(&serde_json::json!({ "probe": true }))
            .map_err(|_| key_error(what))?;
        Ok(key)
    }
}

/// Which `aud` a client assertion carries.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum AssertionAudience {
    /// The token endpoint's URL (RFC 7523 §3, OpenID Connect Core §9): what
    /// most servers accept. The default.
    TokenEndpoint,
    /// The authorization server's issuer identifier, for servers that follow
    /// the newer rule that the audience is the issuer alone.
    Issuer(String),
}

/// How a client authenticates with assertions: its id, the key, the
/// audience and the lifetime of each assertion.
///
/// ```
/// use authkit_core::ClientAuth;
/// use authkit_core::client_auth::{AssertionAudience, AssertionKey, ClientAssertion};
/// use authkit_core::secret::SecretString;
///
/// let key = AssertionKey::hs256(&SecretString::from("a secret of thirty-two bytes or more"))?;
/// let auth = ClientAuth::Assertion(
///     ClientAssertion::new("my-app", key)
///         .audience(AssertionAudience::Issuer("https://login.example.com".into()))
///         .lifetime(std::time::Duration::from_secs(30)),
/// );
/// assert_eq!(auth.method_name(), "client_secret_jwt");
/// # Ok::<(), authkit_core::Error>(())
/// ```
#[derive(Clone, Debug)]
pub struct ClientAssertion {
    client_id: ClientId,
    key: Arc<AssertionKey>,
    audience: AssertionAudience,
    lifetime: Duration,
}

#[derive(Serialize)]
struct AssertionClaims<'a> {
    iss: &'a str,
    sub: &'a str,
    aud: &'a str,
    jti: String,
    iat: i64,
    exp: i64,
}

impl ClientAssertion {
    /// Assertions for `client_id` signed with `key`, for the token endpoint,
    /// valid for [`DEFAULT_ASSERTION_LIFETIME`].
    pub fn new(client_id: impl Into<ClientId>, key: AssertionKey) -> Self {
        Self {
            client_id: client_id.into(),
            key: Arc::new(key),
            audience: AssertionAudience::TokenEndpoint,
            lifetime: DEFAULT_ASSERTION_LIFETIME,
        }
    }

    /// The audience the server expects.
    pub fn audience(mut self, audience: AssertionAudience) -> Self {
        self.audience = audience;
        self
    }

    /// How long each assertion is valid.
    pub fn lifetime(mut self, lifetime: Duration) -> Self {
        self.lifetime = lifetime;
        self
    }

    /// The client's id.
    pub fn client_id(&self) -> &ClientId {
        &self.client_id
    }

    /// The key.
    pub fn key(&self) -> &AssertionKey {
        &self.key
    }

    /// Whether this is `client_secret_jwt` (an HMAC secret) rather than
    /// `private_key_jwt`.
    pub fn is_shared_secret(&self) -> bool {
        self.key.algorithm == Algorithm::HS256
    }

    /// A fresh assertion for a request to `endpoint` at `now`: a new `jti`
    /// every time.
    pub fn sign_for(&self, endpoint: &Url, now: OffsetDateTime) -> Result<SecretString, Error> {
        let aud = match &self.audience {
            AssertionAudience::TokenEndpoint => endpoint.as_str(),
            AssertionAudience::Issuer(issuer) => issuer.as_str(),
        };
        let iat = now.unix_timestamp();
        let lifetime = i64::try_from(self.lifetime.as_secs()).unwrap_or(i64::MAX);
        self.key.sign(&AssertionClaims {
            iss: self.client_id.as_str(),
            sub: self.client_id.as_str(),
            aud,
            jti: unique_id()?,
            iat,
            exp: iat.saturating_add(lifetime.max(1)),
        })
    }
}

/// 128 random bits, base64url: a `jti` no two assertions share.
pub(crate) fn unique_id() -> Result<String, Error> {
    let mut bytes = [0u8; 16];
    getrandom::fill(&mut bytes)
        .map_err(|e| Error::Internal(format!("no randomness for a jti: {e}")))?;
    Ok(URL_SAFE_NO_PAD.encode(bytes))
}

//! PKCE verifiers and challenges (RFC 7636) and the `state` parameter.
//!
//! Both are random values that bind the authorization request to the token
//! request: the verifier proves that whoever redeems the code is whoever asked
//! for it, and `state` proves that a redirect answers a request this client
//! made. Both come from the operating system's random source.

use std::fmt;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use secrecy::{ExposeSecret, SecretString};
use sha2::{Digest, Sha256};

/// A PKCE code verifier: 43 characters from 32 random bytes. Secret until
/// the token request sends it.
#[derive(Clone)]
pub struct PkceVerifier(SecretString);

impl PkceVerifier {
    /// A fresh verifier from the operating system's random source.
    pub fn generate() -> Self {
        Self(SecretString::from(random_url_safe(32)))
    }

    /// Wraps an existing verifier (one kept across a redirect, say).
    pub fn from_secret(value: impl Into<String>) -> Self {
        Self(SecretString::from(value.into()))
    }

    /// The S256 challenge to send in the authorization request.
    pub fn challenge(&self) -> PkceChallenge {
        let digest = Sha256::digest(self.0.expose_secret().as_bytes());
        PkceChallenge(URL_SAFE_NO_PAD.encode(digest))
    }
}

impl ExposeSecret<str> for PkceVerifier {
    fn expose_secret(&self) -> &str {
        self.0.expose_secret()
    }
}

impl fmt::Debug for PkceVerifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("PkceVerifier([REDACTED])")
    }
}

/// The S256 challenge of a [`PkceVerifier`]; public by design.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PkceChallenge(String);

impl PkceChallenge {
    /// The challenge value (`code_challenge`).
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The method (`code_challenge_method`), always `S256`.
    pub fn method(&self) -> &'static str {
        "S256"
    }
}

/// The `state` parameter of an authorization request: a random value the
/// redirect must bring back unchanged.
#[derive(Clone, PartialEq, Eq)]
pub struct State(String);

impl State {
    /// A fresh state from the operating system's random source.
    pub fn generate() -> Self {
        Self(random_url_safe(16))
    }

    /// The value to put in the authorization URL.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Whether a returned `state` is this one (compared in constant time).
    pub fn matches(&self, returned: &str) -> bool {
        let a = self.0.as_bytes();
        let b = returned.as_bytes();
        a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
    }
}

impl fmt::Debug for State {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("State([REDACTED])")
    }
}

fn random_url_safe(bytes: usize) -> String {
    let mut buf = vec![0u8; bytes];
    if let Err(err) = getrandom::fill(&mut buf) {
        // Without an OS random source nothing here is safe; this happens only
        // on exotic targets where getrandom has no backend.
        panic!("the operating system's random source failed: {err}");
    }
    URL_SAFE_NO_PAD.encode(buf)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc7636_appendix_b_example() {
        let verifier = PkceVerifier::from_secret("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk");
        assert_eq!(
            verifier.challenge().as_str(),
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
        );
    }

    #[test]
    fn verifiers_are_43_chars_and_differ() {
        let a = PkceVerifier::generate();
        let b = PkceVerifier::generate();
        assert_eq!(a.expose_secret().len(), 43);
        assert_ne!(a.expose_secret(), b.expose_secret());
    }

    #[test]
    fn state_matches_only_itself() {
        let s = State::generate();
        assert!(s.matches(s.as_str()));
        assert!(!s.matches("other"));
        assert!(!format!("{s:?}").contains(s.as_str()));
    }
}

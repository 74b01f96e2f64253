//! What a protected resource asks for before it serves a request: a
//! stronger or more recent sign-in (RFC 9470, `insufficient_user_authentication`
//! with `acr_values` and `max_age`), or scopes the token was not granted
//! (RFC 6750 §3.1, `insufficient_scope` with `scope`).
//!
//! Neither is cured by a fresh token of the same grant, so the HTTP layer
//! does not replay such a request: it hands the response back with a
//! [`StepUp`] saying what was asked, and a browser sign-in can ask for it
//! ([`crate::sign_in::AuthorizationRequestBuilder::step_up`]). A server
//! may sign the person in another way than asked (`acr_values` is a
//! request, not an order, OpenID Connect Core §3.1.2.1), so the new tokens
//! are checked against what the resource asked ([`StepUp::check`]) before
//! they are used: a token the resource would refuse again is no answer.

use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use secrecy::ExposeSecret;
use serde::Deserialize;
use time::OffsetDateTime;

use crate::error::Error;
use crate::error::protocol::ProtocolError;
use crate::token::binding::Scopes;
use crate::token::token_set::TokenSet;

/// How far the server's clock may be ahead of ours when `auth_time` is
/// compared with `max_age`.
pub const AUTH_TIME_LEEWAY: Duration = Duration::from_secs(60);

/// What a resource asks of the next sign-in before it serves a request.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StepUp {
    acr_values: Vec<String>,
    max_age: Option<Duration>,
    scopes: Vec<String>,
}

impl StepUp {
    /// A stronger or more recent sign-in (RFC 9470 §3): one of
    /// `acr_values` (in order of preference; empty when the resource names
    /// none), and at most `max_age` since the person last authenticated.
    pub fn for_user_authentication<I, S>(acr_values: I, max_age: Option<Duration>) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        Self {
            acr_values: acr_values.into_iter().map(Into::into).collect(),
            max_age,
            scopes: Vec::new(),
        }
    }

    /// Scopes the token lacks (RFC 6750 §3.1).
    pub fn for_scopes<I, S>(scopes: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        Self {
            acr_values: Vec::new(),
            max_age: None,
            scopes: scopes.into_iter().map(Into::into).collect(),
        }
    }

    /// Whether the person must sign in again (RFC 9470), not only be
    /// granted more scopes.
    pub fn needs_user_authentication(&self) -> bool {
        !self.acr_values.is_empty() || self.max_age.is_some()
    }

    /// The authentication context classes the resource accepts, preferred
    /// first.
    pub fn acr_values(&self) -> &[String] {
        &self.acr_values
    }

    /// How long ago the person may have last authenticated, at most.
    pub fn max_age(&self) -> Option<Duration> {
        self.max_age
    }

    /// The scopes the resource needs.
    pub fn scopes(&self) -> &[String] {
        &self.scopes
    }

    /// Whether `tokens` from the sign-in that asked for this satisfy it,
    /// at `now`: the ID token's `acr` is one of the `acr_values` asked for,
    /// its `auth_time` is no older than `max_age` (with
    /// [`AUTH_TIME_LEEWAY`] for the server's clock), and the granted scopes
    /// cover the scopes asked for. Refused with [`Error::SignInRequired`]
    /// naming what falls short, or with a protocol error for an ID token
    /// that cannot be read. The ID token came from the token endpoint over
    /// TLS, so its claims are read without checking its signature (OpenID
    /// Connect Core §3.1.3.7).
    ///
    /// ```
    /// use std::time::Duration;
    /// use authkit_core::sign_in::StepUp;
    /// use authkit_core::{AccessToken, TokenSet};
    ///
    /// let asked = StepUp::for_user_authentication(["urn:example:mfa"], Some(Duration::from_secs(300)));
    /// let now = time::OffsetDateTime::now_utc();
    /// let without_id_token = TokenSet::new(AccessToken::new("at"), now, now + time::Duration::hours(1));
    /// assert!(asked.check(&without_id_token, now).is_err());
    /// ```
    pub fn check(&self, tokens: &TokenSet, now: OffsetDateTime) -> Result<(), Error> {
        let asked_scopes = Scopes::new(self.scopes.iter().cloned());
        if !tokens.granted_scopes().covers(&asked_scopes) {
            return Err(Error::SignInRequired {
                reason: format!(
                    "the server granted {:?}, which lacks some of the scopes the resource asked for ({})",
                    tokens.granted_scopes().to_string(),
                    self.scopes.join(" ")
                ),
            });
        }
        if !self.needs_user_authentication() {
            return Ok(());
        }
        let claims = authentication_claims(tokens)?;
        if !self.acr_values.is_empty() {
            let met = claims
                .acr
                .as_deref()
                .is_some_and(|acr| self.acr_values.iter().any(|asked| asked == acr));
            if !met {
                return Err(Error::SignInRequired {
                    reason: format!(
                        "the server signed the person in with {}, not one of the authentication classes the resource asked for ({}): the server may not offer them to this person",
                        claims.acr.as_deref().map_or(
                            "no stated class (no acr)".to_owned(),
                            |acr| format!("acr {}", crate::error::scrub(acr, 100))
                        ),
                        self.acr_values.join(" ")
                    ),
                });
            }
        }
        if let Some(max_age) = self.max_age {
            let Some(auth_time) = claims.auth_time else {
                return Err(Error::SignInRequired {
                    reason: "the ID token does not say when the person signed in (no auth_time), so it cannot show the recent sign-in the resource asked for".into(),
                });
            };
            let seconds = auth_time
                .as_i64()
                .or_else(|| auth_time.as_f64().map(|f| f.floor() as i64));
            let signed_in = seconds
                .and_then(|s| OffsetDateTime::from_unix_timestamp(s).ok())
                .ok_or_else(|| {
                    Error::from(ProtocolError::Malformed {
                        status: 200,
                        reason: "the ID token's auth_time is not a time".into(),
                    })
                })?;
            let age = now - signed_in;
            let allowed =
                time::Duration::try_from(max_age + AUTH_TIME_LEEWAY).unwrap_or(time::Duration::MAX);
            if age > allowed {
                return Err(Error::SignInRequired {
                    reason: format!(
                        "the person last signed in {} s ago, longer than the {} s the resource allows: the server reused an older sign-in",
                        age.whole_seconds(),
                        max_age.as_secs()
                    ),
                });
            }
        }
        Ok(())
    }
}

/// The claims of an ID token that say how and when the person signed in.
#[derive(Deserialize)]
struct AuthenticationClaims {
    #[serde(default)]
    acr: Option<String>,
    #[serde(default)]
    auth_time: Option<serde_json::Number>,
}

/// Reads `acr` and `auth_time` from the set's ID token (a JWS: its
/// payload is the middle part).
fn authentication_claims(tokens: &TokenSet) -> Result<AuthenticationClaims, Error> {
    let Some(id_token) = tokens.id_token() else {
        return Err(Error::SignInRequired {
            reason: "the sign-in returned no ID token, so nothing shows how or when the person signed in (ask for the openid scope)".into(),
        });
    };
    let malformed = || {
        Error::from(ProtocolError::Malformed {
            status: 200,
            reason: "the ID token is not a JWT whose payload holds its claims".into(),
        })
    };
    let payload = id_token
        .expose_secret()
        .split('.')
        .nth(1)
        .ok_or_else(malformed)?;
    let bytes = URL_SAFE_NO_PAD
        .decode(payload.trim_end_matches('='))
        .map_err(|_| malformed())?;
    serde_json::from_slice(&bytes).map_err(|_| malformed())
}

//! What a protected resource asks for before it serves a request: a
//! stronger or more recent sign-in (RFC 9470, `insufficient_user_authentication`
//! with `acr_values` and `max_age`), or scopes the token was not granted
//! (RFC 6750 §3.1, `insufficient_scope` with `scope`).
//!
//! Neither is cured by a fresh token of the same grant, so the HTTP layer
//! does not replay such a request: it hands the response back with a
//! [`StepUp`] saying what was asked, and a browser sign-in can ask for it
//! ([`crate::sign_in::AuthorizationRequestBuilder::step_up`]).

use std::time::Duration;

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
}

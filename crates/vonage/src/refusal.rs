//! What the Vonage API manager's refusals mean.
//!
//! Vonage's token endpoint is a WSO2 API manager. It reports most refusals as
//! `invalid_grant` and tells them apart in `error_description`; a locked
//! account carries WSO2's error code 17003 there, and an unknown grant type
//! comes back as `invalid_request`, not `unsupported_grant_type`.

use authkit_core::Error;

/// The kinds of refusal Vonage's API manager gives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum VonageRefusal {
    /// Wrong user name or password. Not retried.
    InvalidCredentials,
    /// The user's account is locked (WSO2 code 17003) after too many failures.
    AccountLocked,
    /// The consumer key or secret is wrong (401 `invalid_client`).
    InvalidClient,
    /// The refresh token was already used (they are single-use) or expired.
    RefreshTokenDead,
    /// The authorization code is wrong, spent or expired, or the redirect
    /// URI differs from the authorization request's.
    InvalidCode,
    /// The grant type is not enabled for the application.
    UnsupportedGrant,
    /// Any other refusal.
    Other,
}

impl VonageRefusal {
    /// Classifies an error from a Vonage request; `None` when it is not a
    /// refusal (a network failure, say).
    pub fn of(error: &Error) -> Option<Self> {
        let Error::Refused { grant, refusal } = error else {
            return None;
        };
        let description = refusal.description().unwrap_or("").to_ascii_lowercase();
        Some(match (refusal.code(), grant.as_str()) {
            (_, _) if description.contains("17003") => VonageRefusal::AccountLocked,
            ("invalid_client", _) => VonageRefusal::InvalidClient,
            ("invalid_grant", "refresh_token") => VonageRefusal::RefreshTokenDead,
            ("invalid_grant", "authorization_code") => VonageRefusal::InvalidCode,
            ("invalid_grant", "password") => VonageRefusal::InvalidCredentials,
            ("unsupported_grant_type", _) => VonageRefusal::UnsupportedGrant,
            ("invalid_request", _) if description.contains("grant") => {
                VonageRefusal::UnsupportedGrant
            }
            ("unauthorized_client", _) => VonageRefusal::UnsupportedGrant,
            _ => VonageRefusal::Other,
        })
    }
}

//! What the Vonage API manager's refusals mean.
//!
//! Vonage's token endpoint is a WSO2 API manager. It reports most refusals as
//! `invalid_grant` and tells them apart in `error_description`; a locked
//! account carries WSO2's error code 17003 there, and an unknown grant type
//! comes back as `invalid_request`, not `unsupported_grant_type`.

use authkit_core::error::{RefusalRule, classify_refusal};
use authkit_core::grant::GrantKind;
use authkit_core::{AccountState, Error, ErrorCode, Refusal};

/// WSO2's error code for an account locked after too many failed sign-ins.
const ACCOUNT_LOCKED_CODE: &str = "17003";

/// Marks a locked account (WSO2 code 17003 in the description) as a
/// terminal state, so the manager does not send the password again.
pub(crate) fn classify(refusal: Refusal) -> Refusal {
    if refusal
        .description()
        .is_some_and(|d| d.contains(ACCOUNT_LOCKED_CODE))
    {
        refusal.with_account_state(AccountState::Locked)
    } else {
        refusal
    }
}

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

/// The API manager's refusals, read top to bottom.
const RULES: &[RefusalRule<VonageRefusal>] = &[
    RefusalRule::state(AccountState::Locked, VonageRefusal::AccountLocked),
    RefusalRule::code(ErrorCode::InvalidClient, VonageRefusal::InvalidClient),
    RefusalRule::dead_refresh_token(VonageRefusal::RefreshTokenDead),
    RefusalRule::code_for(
        ErrorCode::InvalidGrant,
        GrantKind::AuthorizationCode,
        VonageRefusal::InvalidCode,
    ),
    RefusalRule::code_for(
        ErrorCode::InvalidGrant,
        GrantKind::Password,
        VonageRefusal::InvalidCredentials,
    ),
    RefusalRule::code(
        ErrorCode::UnsupportedGrantType,
        VonageRefusal::UnsupportedGrant,
    ),
    RefusalRule::code(
        ErrorCode::UnauthorizedClient,
        VonageRefusal::UnsupportedGrant,
    ),
    // An unknown grant type comes back as `invalid_request`.
    RefusalRule::words(
        Some(ErrorCode::InvalidRequest),
        &["grant"],
        VonageRefusal::UnsupportedGrant,
    ),
];

impl VonageRefusal {
    /// Classifies an error from a Vonage request; `None` when it is not a
    /// refusal (a network failure, say).
    pub fn of(error: &Error) -> Option<Self> {
        Some(classify_refusal(
            error.refusal()?,
            RULES,
            VonageRefusal::Other,
        ))
    }
}

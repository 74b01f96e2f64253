//! What Keycloak's refusals mean.
//!
//! Keycloak reports most refusals as `invalid_grant` and says which in
//! `error_description`. The descriptions below are Keycloak's own strings
//! (stable across releases since Keycloak 4). The core already marks a
//! locked, disabled or unfinished account from them (its words are common
//! to many servers); [`classify`] adds what only Keycloak says (the ways a
//! refresh token dies), and [`VoipexRefusal`] names the kind for people.

use authkit_core::error::{RefusalRule, classify_refusal};
use authkit_core::grant::GrantKind;
use authkit_core::{AccountState, Error, ErrorCode, Refusal};

/// The kinds of refusal a Voipex (Keycloak) server gives, for callers that
/// want to tell a person what went wrong.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum VoipexRefusal {
    /// Wrong user name or password, or an account locked by brute-force
    /// protection (Keycloak answers both alike). Not retried.
    InvalidCredentials,
    /// The account is disabled.
    AccountDisabled,
    /// The account is locked by brute-force protection: a refresh says
    /// "User temporarily disabled" (a password grant answers as for wrong
    /// credentials). Not retried; the lockout ends by itself or an
    /// administrator lifts it.
    AccountLocked,
    /// The account has required actions pending (verify e-mail, update
    /// password, configure OTP); the user must sign in through the browser once.
    AccountNotFullySetUp,
    /// The client is not allowed to use this grant (direct access grants off)
    /// or its credentials are wrong.
    ClientNotAllowed,
    /// The refresh token is dead: expired, its session ended, already used,
    /// or issued to another client. Authenticate again.
    RefreshTokenDead,
    /// Any other refusal.
    Other,
}

const DEAD_REFRESH_TOKEN: &[&str] = &[
    "token is not active",
    "session not active",
    "stale token",
    "maximum allowed refresh token reuse exceeded",
    "invalid refresh token",
    "refresh token expired",
    "offline session not active",
    "token client and authorized client don't match",
    "session doesn't have required client",
    "user session not found",
];

/// Marks what a Keycloak refusal means beyond the core's reading: a
/// session that ended makes the refresh token dead whatever code it came
/// with (some Keycloak paths say `invalid_token` or `unauthorized_client`).
/// (A disabled, locked or unfinished account is marked by the core, so the
/// password is not sent again.)
pub(crate) fn classify(refusal: Refusal) -> Refusal {
    if *refusal.grant() == GrantKind::RefreshToken && refusal.mentions(DEAD_REFRESH_TOKEN) {
        refusal.with_refresh_token_dead(true)
    } else {
        refusal
    }
}

/// Keycloak's refusals, read top to bottom: the account's state first,
/// then a dead refresh token (whatever code it came with), then the client,
/// then the credentials.
const RULES: &[RefusalRule<VoipexRefusal>] = &[
    RefusalRule::state(AccountState::Disabled, VoipexRefusal::AccountDisabled),
    RefusalRule::state(AccountState::Locked, VoipexRefusal::AccountLocked),
    RefusalRule::state(
        AccountState::NotFullySetUp,
        VoipexRefusal::AccountNotFullySetUp,
    ),
    RefusalRule::dead_refresh_token(VoipexRefusal::RefreshTokenDead),
    RefusalRule::code(ErrorCode::InvalidClient, VoipexRefusal::ClientNotAllowed),
    RefusalRule::code(
        ErrorCode::UnauthorizedClient,
        VoipexRefusal::ClientNotAllowed,
    ),
    RefusalRule::code(ErrorCode::InvalidGrant, VoipexRefusal::InvalidCredentials),
];

impl VoipexRefusal {
    /// Classifies an error from a Voipex request; `None` when it is not a
    /// refusal (a network failure, say).
    pub fn of(error: &Error) -> Option<Self> {
        Some(classify_refusal(
            error.refusal()?,
            RULES,
            VoipexRefusal::Other,
        ))
    }
}

//! What Keycloak's refusals mean.
//!
//! Keycloak reports most refusals as `invalid_grant` and says which in
//! `error_description`. The descriptions below are Keycloak's own strings
//! (stable across releases since Keycloak 4); anything else is `Other`.

use authkit_core::Error;

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

impl VoipexRefusal {
    /// Classifies an error from a Voipex request; `None` when it is not a
    /// refusal (a network failure, say).
    pub fn of(error: &Error) -> Option<Self> {
        let Error::Refused { grant, refusal } = error else {
            return None;
        };
        let description = refusal.description().unwrap_or("").to_ascii_lowercase();
        Some(match refusal.code() {
            "invalid_client" | "unauthorized_client" => VoipexRefusal::ClientNotAllowed,
            "invalid_grant" if grant == "refresh_token" => VoipexRefusal::RefreshTokenDead,
            "invalid_grant" if description.contains("account disabled") => {
                VoipexRefusal::AccountDisabled
            }
            "invalid_grant" if description.contains("not fully set up") => {
                VoipexRefusal::AccountNotFullySetUp
            }
            "invalid_grant" if description.contains("invalid user credentials") => {
                VoipexRefusal::InvalidCredentials
            }
            _ if DEAD_REFRESH_TOKEN.iter().any(|d| description.contains(d)) => {
                VoipexRefusal::RefreshTokenDead
            }
            "invalid_grant" => VoipexRefusal::InvalidCredentials,
            _ => VoipexRefusal::Other,
        })
    }

    /// Whether a refresh refusal means the token is dead, whatever code it
    /// came with (some Keycloak paths say `invalid_token` or
    /// `unauthorized_client` for a session that ended).
    pub(crate) fn is_dead_refresh_token(error: &Error) -> bool {
        let Error::Refused { refusal, .. } = error else {
            return false;
        };
        let description = refusal.description().unwrap_or("").to_ascii_lowercase();
        refusal.code() == "invalid_grant"
            || DEAD_REFRESH_TOKEN.iter().any(|d| description.contains(d))
    }
}

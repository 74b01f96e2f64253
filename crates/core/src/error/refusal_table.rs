//! A provider's kinds of refusal as a table: [`RefusalRule`] rows read top
//! to bottom by [`classify_refusal`].
//!
//! Every adapter names the refusals of its server for people
//! (`VoipexRefusal`, `VonageRefusal`, ...), and each used to write the same
//! skeleton by hand: take the error's refusal, look at its account state,
//! its code, its grant, whether its refresh token is dead and what its
//! words say, in an order that matters. The skeleton is here once; an
//! adapter writes only its rows, in the order its server needs, and the
//! kind for everything else.

use crate::error::account_state::AccountState;
use crate::error::refusal::{ErrorCode, Refusal};
use crate::grant::kind::GrantKind;

/// What a row asks of a refusal.
#[derive(Debug, Clone, PartialEq)]
enum Condition {
    State(AccountState),
    DeadRefreshToken,
    Code(ErrorCode),
    CodeFor(ErrorCode, GrantKind),
    Words(Option<ErrorCode>, &'static [&'static str]),
}

/// One row of a provider's refusal table: a refusal that matches it is of
/// kind `K`. Rows are read in order and the first match wins.
///
/// ```
/// use authkit_core::error::{RefusalRule, classify_refusal};
/// use authkit_core::grant::GrantKind;
/// use authkit_core::{AccountState, ErrorCode, Refusal};
///
/// #[derive(Debug, Clone, Copy, PartialEq)]
/// enum Kind { Locked, WrongAccountId, DeadToken, WrongPassword, Other }
///
/// const RULES: &[RefusalRule<Kind>] = &[
///     RefusalRule::state(AccountState::Locked, Kind::Locked),
///     RefusalRule::words(Some(ErrorCode::InvalidRequest), &["account id"], Kind::WrongAccountId),
///     RefusalRule::dead_refresh_token(Kind::DeadToken),
///     RefusalRule::code(ErrorCode::InvalidGrant, Kind::WrongPassword),
/// ];
///
/// let refusal = Refusal::new(GrantKind::Password, ErrorCode::InvalidRequest, 400)
///     .with_description("Unknown account id");
/// assert_eq!(classify_refusal(&refusal, RULES, Kind::Other), Kind::WrongAccountId);
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct RefusalRule<K> {
    condition: Condition,
    kind: K,
}

impl<K> RefusalRule<K> {
    /// Matches a refusal marked with `state` (by the core's reading of
    /// common words, or by the adapter's `with_account_state`).
    pub const fn state(state: AccountState, kind: K) -> Self {
        Self {
            condition: Condition::State(state),
            kind,
        }
    }

    /// Matches a refusal whose refresh token is dead (see
    /// [`Refusal::is_refresh_token_dead`]).
    pub const fn dead_refresh_token(kind: K) -> Self {
        Self {
            condition: Condition::DeadRefreshToken,
            kind,
        }
    }

    /// Matches a refusal with `code`, of any grant.
    pub const fn code(code: ErrorCode, kind: K) -> Self {
        Self {
            condition: Condition::Code(code),
            kind,
        }
    }

    /// Matches a refusal with `code` of a `grant` request.
    pub const fn code_for(code: ErrorCode, grant: GrantKind, kind: K) -> Self {
        Self {
            condition: Condition::CodeFor(code, grant),
            kind,
        }
    }

    /// Matches a refusal (with `code`, or with any code for `None`) whose
    /// description or other text fields mention any of `words`, ignoring
    /// case (see [`Refusal::mentions`]).
    pub const fn words(code: Option<ErrorCode>, words: &'static [&'static str], kind: K) -> Self {
        Self {
            condition: Condition::Words(code, words),
            kind,
        }
    }

    fn matches(&self, refusal: &Refusal) -> bool {
        match &self.condition {
            Condition::State(state) => refusal.account_state() == Some(*state),
            Condition::DeadRefreshToken => refusal.is_refresh_token_dead(),
            Condition::Code(code) => refusal.code() == code,
            Condition::CodeFor(code, grant) => refusal.code() == code && refusal.grant() == grant,
            Condition::Words(code, words) => {
                code.as_ref().is_none_or(|code| refusal.code() == code) && refusal.mentions(words)
            }
        }
    }
}

/// The kind of `refusal` by the first of `rules` it matches, or
/// `otherwise`. Take the refusal from an error with `Error::refusal`: an
/// error that is no refusal (a network failure, say) has no kind of
/// refusal.
pub fn classify_refusal<K: Copy>(refusal: &Refusal, rules: &[RefusalRule<K>], otherwise: K) -> K {
    rules
        .iter()
        .find(|rule| rule.matches(refusal))
        .map_or(otherwise, |rule| rule.kind)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, Clone, Copy, PartialEq)]
    enum Kind {
        Locked,
        Dead,
        BadCode,
        BadPassword,
        Other,
    }

    const RULES: &[RefusalRule<Kind>] = &[
        RefusalRule::state(AccountState::Locked, Kind::Locked),
        RefusalRule::dead_refresh_token(Kind::Dead),
        RefusalRule::code_for(
            ErrorCode::InvalidGrant,
            GrantKind::AuthorizationCode,
            Kind::BadCode,
        ),
        RefusalRule::code(ErrorCode::InvalidGrant, Kind::BadPassword),
    ];

    fn kind_of(refusal: Refusal) -> Kind {
        classify_refusal(&refusal, RULES, Kind::Other)
    }

    #[test]
    fn the_first_matching_row_wins() {
        let locked_refresh = Refusal::new(GrantKind::RefreshToken, ErrorCode::InvalidGrant, 400)
            .with_account_state(AccountState::Locked);
        assert_eq!(kind_of(locked_refresh), Kind::Locked, "before dead");
        let dead = Refusal::new(GrantKind::RefreshToken, ErrorCode::InvalidGrant, 400);
        assert_eq!(kind_of(dead), Kind::Dead);
        let code = Refusal::new(GrantKind::AuthorizationCode, ErrorCode::InvalidGrant, 400);
        assert_eq!(kind_of(code), Kind::BadCode);
        let password = Refusal::new(GrantKind::Password, ErrorCode::InvalidGrant, 400);
        assert_eq!(kind_of(password), Kind::BadPassword);
        let other = Refusal::new(GrantKind::Password, ErrorCode::InvalidScope, 400);
        assert_eq!(kind_of(other), Kind::Other);
    }
}

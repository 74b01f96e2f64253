//! The state of an account that no retry and no other grant can get past
//! (locked, disabled, not fully set up), and the words with which servers
//! report it.
//!
//! The words are common to many servers, so the core reads them for every
//! provider: a refused refresh that says the account is locked must never
//! be answered with the stored password, whichever adapter (or none) sits
//! in between. Adapters add their server's own words with
//! [`crate::Refusal::with_account_state`].

use std::fmt;

/// A state of the account that no retry and no other grant can get past: the
/// manager stops after such a refusal instead of sending the password again.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum AccountState {
    /// Locked after too many failed sign-ins.
    Locked,
    /// Disabled by an administrator.
    Disabled,
    /// Required actions are pending (verify an e-mail address, change the
    /// password, set up a second factor): a person must sign in once through
    /// the browser.
    NotFullySetUp,
    /// The application (the OAuth client) is disabled, or not enabled for
    /// this account or its organisation: an administrator must act. Unlike
    /// the states above, nothing the account's owner does (a sign-in in
    /// the browser, a new password) gets past it.
    ApplicationNotEnabled,
}

impl AccountState {
    /// Whether the account's owner can get past this state (by waiting
    /// out a lockout or signing in once in the browser), or only an
    /// administrator can.
    pub fn needs_an_administrator(&self) -> bool {
        matches!(
            self,
            AccountState::Disabled | AccountState::ApplicationNotEnabled
        )
    }
}

impl fmt::Display for AccountState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            AccountState::Locked => "the account is locked",
            AccountState::Disabled => "the account is disabled",
            AccountState::NotFullySetUp => "the account is not fully set up",
            AccountState::ApplicationNotEnabled => {
                "the application is not enabled for this account (an administrator must enable it)"
            }
        })
    }
}

/// Words with which servers refuse a request because the account is locked
/// (after failed sign-ins): Keycloak's brute-force protection ("User
/// temporarily disabled"), WSO2 and others ("User account is locked").
const LOCKED: &[&str] = &[
    "temporarily disabled",
    "temporarily locked",
    "account is locked",
    "account locked",
    "account has been locked",
    "user is locked",
    "user locked",
];

/// Words with which servers refuse a request because an administrator
/// disabled the account: Keycloak ("Account disabled" on a password grant,
/// "User disabled" on a refresh), WSO2 and others ("User is disabled",
/// "inactive").
const DISABLED: &[&str] = &[
    "account disabled",
    "account is disabled",
    "account has been disabled",
    "user disabled",
    "user is disabled",
    "account is inactive",
    "user is inactive",
    "inactive user",
];

/// Words with which servers refuse a request because the application
/// itself may not be used: a client an administrator disabled, or an API
/// product or app not enabled for the account's organisation (API managers
/// such as WSO2 and Apigee, and Keycloak's "Client disabled").
const APPLICATION_NOT_ENABLED: &[&str] = &[
    "client disabled",
    "client is disabled",
    "client not enabled",
    "client is not enabled",
    "application is disabled",
    "application disabled",
    "application is not enabled",
    "application not enabled",
    "app is disabled",
    "app is not enabled",
    "not enabled for this account",
    "not subscribed to",
];

/// Words with which servers refuse a request because the account has
/// required actions pending (Keycloak: "Account is not fully set up").
const NOT_FULLY_SET_UP: &[&str] = &["not fully set up"];

impl AccountState {
    /// The state the server's words report, given a test of whether they
    /// mention any of some phrases (ignoring case); the application's state
    /// is checked first (it is no person's account), then locked, because
    /// "temporarily disabled" means locked.
    pub(crate) fn stated(mentions: impl Fn(&[&str]) -> bool) -> Option<AccountState> {
        [
            (APPLICATION_NOT_ENABLED, AccountState::ApplicationNotEnabled),
            (LOCKED, AccountState::Locked),
            (DISABLED, AccountState::Disabled),
            (NOT_FULLY_SET_UP, AccountState::NotFullySetUp),
        ]
        .into_iter()
        .find(|(phrases, _)| mentions(phrases))
        .map(|(_, state)| state)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stated_in(text: &str) -> Option<AccountState> {
        let text = text.to_ascii_lowercase();
        AccountState::stated(|phrases| phrases.iter().any(|p| text.contains(p)))
    }

    #[test]
    fn keycloak_words_are_read() {
        assert_eq!(stated_in("Account disabled"), Some(AccountState::Disabled));
        assert_eq!(stated_in("User disabled"), Some(AccountState::Disabled));
        assert_eq!(
            stated_in("User temporarily disabled"),
            Some(AccountState::Locked)
        );
        assert_eq!(
            stated_in("Account is not fully set up"),
            Some(AccountState::NotFullySetUp)
        );
    }

    #[test]
    fn other_servers_words_are_read() {
        assert_eq!(
            stated_in("User account is locked"),
            Some(AccountState::Locked)
        );
        assert_eq!(stated_in("User is locked"), Some(AccountState::Locked));
        assert_eq!(stated_in("User is disabled"), Some(AccountState::Disabled));
        assert_eq!(
            stated_in("The user is inactive"),
            Some(AccountState::Disabled)
        );
    }

    #[test]
    fn an_application_not_enabled_is_told_from_a_persons_account() {
        for words in [
            "Client disabled",
            "The application is not enabled for this account",
            "App is disabled by the administrator",
            "Application is not subscribed to this API",
        ] {
            assert_eq!(
                stated_in(words),
                Some(AccountState::ApplicationNotEnabled),
                "{words}"
            );
        }
        assert_eq!(stated_in("User disabled"), Some(AccountState::Disabled));
        assert!(AccountState::ApplicationNotEnabled.needs_an_administrator());
        assert!(AccountState::Disabled.needs_an_administrator());
        assert!(!AccountState::Locked.needs_an_administrator());
        assert!(!AccountState::NotFullySetUp.needs_an_administrator());
        assert!(
            AccountState::ApplicationNotEnabled
                .to_string()
                .contains("administrator")
        );
    }

    #[test]
    fn a_wrong_password_or_a_dead_token_states_nothing() {
        assert_eq!(stated_in("Invalid user credentials"), None);
        assert_eq!(stated_in("Token is not active"), None);
        assert_eq!(stated_in("Invalid credentials given."), None);
    }
}

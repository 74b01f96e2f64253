//! Password accounts: the password grant, for server-to-server use.

use authkit_core::grant::PasswordGrant;
use authkit_core::provider::Adapter;
use authkit_core::{GenericProvider, Password};

use crate::config::Vonage;

/// The suffix Vonage's API manager wants on password-grant user names.
pub const USERNAME_SUFFIX: &str = "@vbc.prod";

/// One Vonage user signed in with the password grant.
#[derive(Debug, Clone)]
pub struct VonagePasswordAccount {
    generic: GenericProvider,
    username: authkit_core::Username,
}

impl Adapter for VonagePasswordAccount {
    fn generic(&self) -> &GenericProvider {
        &self.generic
    }
}

impl Vonage {
    /// An account that signs in with the password grant (server-to-server use).
    pub fn password_account(
        &self,
        username: impl Into<String>,
        password: Password,
    ) -> VonagePasswordAccount {
        VonagePasswordAccount::new(self.clone(), username.into(), password)
    }
}

/// The user name as the password grant must send it: with `@vbc.prod`
/// appended unless it already ends so (an e-mail address gets it too:
/// `name@corp.com@vbc.prod`).
pub fn vbc_username(username: &str) -> String {
    let username = username.trim();
    if username.to_ascii_lowercase().ends_with(USERNAME_SUFFIX) {
        username.to_owned()
    } else {
        format!("{username}{USERNAME_SUFFIX}")
    }
}

impl VonagePasswordAccount {
    pub(crate) fn new(vonage: Vonage, username: String, password: Password) -> Self {
        let sent = vbc_username(&username);
        let plain = &sent[..sent.len() - USERNAME_SUFFIX.len()];
        let grant = PasswordGrant::new(sent.clone(), password).with_scopes(vonage.scopes.clone());
        Self {
            username: grant.username().clone(),
            generic: vonage.generic(format!("vonage:{plain}")).with_grant(grant),
        }
    }

    /// The user name as the password grant sends it (with `@vbc.prod`).
    pub fn username(&self) -> &authkit_core::Username {
        &self.username
    }
}

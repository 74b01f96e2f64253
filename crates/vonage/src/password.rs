//! Password accounts: the password grant, for server-to-server use.

use async_trait::async_trait;
use authkit_core::{
    AccountKey, Error, Password, PasswordGrant, RefreshToken, TokenProvider, TokenSet,
};

use crate::config::{Vonage, with_page_lifetimes};

/// The suffix Vonage's API manager wants on password-grant user names.
pub const USERNAME_SUFFIX: &str = "@vbc.prod";

/// One Vonage user signed in with the password grant.
#[derive(Debug, Clone)]
pub struct VonagePasswordAccount {
    vonage: Vonage,
    key: AccountKey,
    grant: PasswordGrant,
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
        Self {
            key: AccountKey::new(format!("vonage:{plain}")),
            grant: PasswordGrant::new(sent.clone(), password).with_scopes(vonage.scopes.clone()),
            vonage,
        }
    }
}

#[async_trait]
impl TokenProvider for VonagePasswordAccount {
    fn account_key(&self) -> &AccountKey {
        &self.key
    }

    async fn authenticate(&self) -> Result<TokenSet, Error> {
        self.vonage
            .token_endpoint
            .request(&self.grant)
            .await
            .map(with_page_lifetimes)
    }

    async fn refresh(&self, refresh_token: &RefreshToken) -> Result<TokenSet, Error> {
        self.vonage.refresh(refresh_token).await
    }
}

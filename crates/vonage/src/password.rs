//! Password accounts: the password grant, for server-to-server use.

use async_trait::async_trait;
use authkit_core::{
    AccountKey, Binding, Error, Password, PasswordGrant, RefreshToken, RequestContext, Scopes,
    TokenProvider, TokenSet,
};

use crate::config::{Vonage, with_page_lifetimes};
use crate::refusal::classify;

/// The suffix Vonage's API manager wants on password-grant user names.
pub const USERNAME_SUFFIX: &str = "@vbc.prod";

/// One Vonage user signed in with the password grant.
#[derive(Debug, Clone)]
pub struct VonagePasswordAccount {
    vonage: Vonage,
    key: AccountKey,
    binding: Binding,
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
        let binding = vonage
            .token_endpoint
            .binding()
            .with_scopes(Scopes::new(vonage.scopes.iter().cloned()));
        Self {
            key: binding.account_key(&format!("vonage:{plain}")),
            binding,
            grant: PasswordGrant::new(sent.clone(), password).with_scopes(vonage.scopes.clone()),
            vonage,
        }
    }
}

impl VonagePasswordAccount {
    /// The user name as the password grant sends it (with `@vbc.prod`).
    pub fn username(&self) -> &authkit_core::Username {
        self.grant.username()
    }
}

#[async_trait]
impl TokenProvider for VonagePasswordAccount {
    fn account_key(&self) -> &AccountKey {
        &self.key
    }

    fn binding(&self) -> &Binding {
        &self.binding
    }

    async fn authenticate(&self, cx: &RequestContext) -> Result<TokenSet, Error> {
        self.vonage
            .token_endpoint
            .request(&self.grant, cx)
            .await
            .map(with_page_lifetimes)
            .map_err(|e| e.map_refusal(classify))
    }

    async fn refresh(
        &self,
        refresh_token: &RefreshToken,
        cx: &RequestContext,
    ) -> Result<TokenSet, Error> {
        self.vonage.refresh(refresh_token, cx).await
    }
}

//! The provider contract: one account at one provider.

use std::fmt;
use std::sync::Arc;

use async_trait::async_trait;

use crate::endpoint::token_endpoint::RequestContext;
use crate::error::Error;
use crate::revocation::Revocation;
use crate::secret::{AccountKey, RefreshToken};
use crate::token::binding::Binding;
use crate::token::token_set::TokenSet;

/// One account at one provider.
#[async_trait]
pub trait TokenProvider: Send + Sync + fmt::Debug {
    /// The account's stable name, such as `voipex:alice@example.com#1a2b3c4d`:
    /// the key its tokens are stored under. It must differ between servers
    /// and clients (see [`Binding::account_key`]).
    fn account_key(&self) -> &AccountKey;

    /// Where this provider's tokens come from and what they must grant: the
    /// token endpoint, the client id, the resources and the scopes it asks
    /// for. The manager uses a stored set only when its own binding serves
    /// this one, and never sends its refresh token anywhere else.
    fn binding(&self) -> &Binding;

    /// Gets a fresh token set without a refresh token: a password or client
    /// credentials grant. Providers that need a person (authorization code)
    /// return [`Error::SignInRequired`].
    async fn authenticate(&self, cx: &RequestContext) -> Result<TokenSet, Error>;

    /// Exchanges a refresh token for a new token set. A refusal of the token
    /// itself must come back as a refusal for which
    /// [`crate::Refusal::is_refresh_token_dead`] is true, or as
    /// [`Error::SignInRequired`].
    async fn refresh(
        &self,
        refresh_token: &RefreshToken,
        cx: &RequestContext,
    ) -> Result<TokenSet, Error>;

    /// Asks for a token for other `resources` (RFC 8707 §2.2) or narrower
    /// `scopes` with `refresh_token`, for [`crate::TokenManager::for_resource`].
    /// The default cannot: a configuration error naming the provider.
    async fn refresh_for(
        &self,
        refresh_token: &RefreshToken,
        resources: &[String],
        scopes: &[String],
        cx: &RequestContext,
    ) -> Result<TokenSet, Error> {
        let _ = (refresh_token, resources, scopes, cx);
        Err(Error::config(format!(
            "{} cannot ask for tokens for other resources",
            self.account_key()
        )))
    }

    /// Revokes `tokens` at the server (RFC 7009) when the server offers
    /// revocation; the manager calls it on sign-out, under the store's hold,
    /// and removes the set whatever it returns. The default offers none.
    async fn revoke(&self, tokens: &TokenSet, cx: &RequestContext) -> Revocation {
        let _ = (tokens, cx);
        Revocation::NotOffered
    }
}

#[async_trait]
impl<T: TokenProvider + ?Sized> TokenProvider for Arc<T> {
    fn account_key(&self) -> &AccountKey {
        (**self).account_key()
    }

    fn binding(&self) -> &Binding {
        (**self).binding()
    }

    async fn authenticate(&self, cx: &RequestContext) -> Result<TokenSet, Error> {
        (**self).authenticate(cx).await
    }

    async fn refresh(
        &self,
        refresh_token: &RefreshToken,
        cx: &RequestContext,
    ) -> Result<TokenSet, Error> {
        (**self).refresh(refresh_token, cx).await
    }

    async fn refresh_for(
        &self,
        refresh_token: &RefreshToken,
        resources: &[String],
        scopes: &[String],
        cx: &RequestContext,
    ) -> Result<TokenSet, Error> {
        (**self)
            .refresh_for(refresh_token, resources, scopes, cx)
            .await
    }

    async fn revoke(&self, tokens: &TokenSet, cx: &RequestContext) -> Revocation {
        (**self).revoke(tokens, cx).await
    }
}

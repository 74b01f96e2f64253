//! Providers: one account at one authorization server.
//!
//! A [`TokenProvider`] knows how to get a token set from nothing
//! ([`TokenProvider::authenticate`]) and how to renew one
//! ([`TokenProvider::refresh`]). It knows nothing of caching, locking or
//! storing: the [`crate::TokenManager`] does that, the same way for every
//! provider. An adapter crate is a provider plus its server's quirks; the
//! [`GenericProvider`] serves any standard OAuth 2 server with none.

use std::fmt;
use std::sync::Arc;

use async_trait::async_trait;

use crate::endpoint::TokenEndpoint;
use crate::error::Error;
use crate::grant::{GrantType, RefreshTokenGrant};
use crate::secret::{AccountKey, RefreshToken};
use crate::token::TokenSet;

/// One account at one provider.
#[async_trait]
pub trait TokenProvider: Send + Sync + fmt::Debug {
    /// The account's stable name, such as `voipex:alice@example.com`: the key
    /// its tokens are stored under.
    fn account_key(&self) -> &AccountKey;

    /// Gets a fresh token set without a refresh token: a password or client
    /// credentials grant. Providers that need a person (authorization code)
    /// return [`Error::SignInRequired`].
    async fn authenticate(&self) -> Result<TokenSet, Error>;

    /// Exchanges a refresh token for a new token set. A refusal of the token
    /// itself must come back as an error for which
    /// [`Error::is_refresh_token_rejected`] is true, or as
    /// [`Error::SignInRequired`].
    async fn refresh(&self, refresh_token: &RefreshToken) -> Result<TokenSet, Error>;
}

/// A provider for any standard OAuth 2 server: a token endpoint, plus the
/// grant that authenticates unattended (password, client credentials), if any.
#[derive(Clone, Debug)]
pub struct GenericProvider {
    key: AccountKey,
    endpoint: TokenEndpoint,
    authentication: Option<Arc<dyn GrantType>>,
    refresh_scopes: Vec<String>,
}

impl GenericProvider {
    /// A provider for the account `key` at `endpoint`. Without
    /// [`GenericProvider::with_grant`] it can only refresh.
    pub fn new(key: impl Into<AccountKey>, endpoint: TokenEndpoint) -> Self {
        Self {
            key: key.into(),
            endpoint,
            authentication: None,
            refresh_scopes: Vec::new(),
        }
    }

    /// The grant that authenticates without a person.
    pub fn with_grant(mut self, grant: impl GrantType + 'static) -> Self {
        self.authentication = Some(Arc::new(grant));
        self
    }

    /// Narrows refresh requests to these scopes.
    pub fn with_refresh_scopes<I, S>(mut self, scopes: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.refresh_scopes = scopes.into_iter().map(Into::into).collect();
        self
    }

    /// The endpoint it talks to.
    pub fn endpoint(&self) -> &TokenEndpoint {
        &self.endpoint
    }
}

#[async_trait]
impl TokenProvider for GenericProvider {
    fn account_key(&self) -> &AccountKey {
        &self.key
    }

    async fn authenticate(&self) -> Result<TokenSet, Error> {
        match &self.authentication {
            Some(grant) => self.endpoint.request(grant.as_ref()).await,
            None => Err(Error::SignInRequired {
                reason: format!("{} has no way to sign in without a person", self.key),
            }),
        }
    }

    async fn refresh(&self, refresh_token: &RefreshToken) -> Result<TokenSet, Error> {
        let grant =
            RefreshTokenGrant::new(refresh_token.clone()).with_scopes(self.refresh_scopes.clone());
        self.endpoint.request(&grant).await
    }
}

#[async_trait]
impl<T: TokenProvider + ?Sized> TokenProvider for Arc<T> {
    fn account_key(&self) -> &AccountKey {
        (**self).account_key()
    }

    async fn authenticate(&self) -> Result<TokenSet, Error> {
        (**self).authenticate().await
    }

    async fn refresh(&self, refresh_token: &RefreshToken) -> Result<TokenSet, Error> {
        (**self).refresh(refresh_token).await
    }
}

//! [`Adapter`]: a provider made of a [`GenericProvider`] and its server's
//! facts.
//!
//! Most providers differ from a standard server only in facts: a default
//! URL, a client, a grant, the words of their refusals, default lifetimes.
//! Those all fit on a [`GenericProvider`], so an adapter is a builder that
//! makes one and a type that holds it; implementing [`Adapter`] (one
//! method) makes that type a [`TokenProvider`] that behaves exactly as the
//! generic provider inside, and leaves the adapter free to add methods of
//! its own (a browser sign-in, accessors). Override nothing here: a
//! provider that needs different behaviour implements [`TokenProvider`]
//! itself.

use std::fmt;

use async_trait::async_trait;

use crate::provider::generic::GenericProvider;

use crate::endpoint::token_endpoint::RequestContext;
use crate::error::Error;
use crate::provider::token_provider::TokenProvider;
use crate::revocation::Revocation;
use crate::secret::{AccountKey, RefreshToken};
use crate::token::binding::Binding;
use crate::token::token_set::TokenSet;

/// A provider that is a [`GenericProvider`] with its server's facts.
///
/// ```
/// use authkit_core::provider::Adapter;
/// use authkit_core::{GenericProvider, TokenEndpoint, TokenProvider};
///
/// /// One account at Example's server.
/// #[derive(Debug)]
/// pub struct Example(GenericProvider);
///
/// impl Adapter for Example {
///     fn generic(&self) -> &GenericProvider {
///         &self.0
///     }
/// }
///
/// # fn make(endpoint: TokenEndpoint) {
/// let example = Example(GenericProvider::new("example:me", endpoint));
/// let _: &dyn TokenProvider = &example;
/// # }
/// ```
pub trait Adapter: fmt::Debug + Send + Sync {
    /// The generic provider that does the work.
    fn generic(&self) -> &GenericProvider;
}

#[async_trait]
impl<T: Adapter> TokenProvider for T {
    fn account_key(&self) -> &AccountKey {
        self.generic().account_key()
    }

    fn binding(&self) -> &Binding {
        self.generic().binding()
    }

    async fn authenticate(&self, cx: &RequestContext) -> Result<TokenSet, Error> {
        self.generic().authenticate(cx).await
    }

    async fn refresh(
        &self,
        refresh_token: &RefreshToken,
        cx: &RequestContext,
    ) -> Result<TokenSet, Error> {
        self.generic().refresh(refresh_token, cx).await
    }

    async fn refresh_for(
        &self,
        refresh_token: &RefreshToken,
        resources: &[String],
        scopes: &[String],
        cx: &RequestContext,
    ) -> Result<TokenSet, Error> {
        self.generic()
            .refresh_for(refresh_token, resources, scopes, cx)
            .await
    }

    async fn revoke(&self, tokens: &TokenSet, cx: &RequestContext) -> Revocation {
        self.generic().revoke(tokens, cx).await
    }
}

//! Per-resource tokens (RFC 8707 §2.2): one sign-in, an access token for
//! each resource server.
//!
//! A person signs in once (the authorization covering several resources);
//! the account's refresh token then buys an access token for each resource,
//! narrowed to it (its audience, its scopes), so no API receives a token
//! another API would accept. [`TokenManager::for_resource`] gives a manager
//! per resource: each is cached, single-flighted, stored and bound on its
//! own (its binding names its resource, so its key differs), and hands out
//! only its resource's token.
//!
//! The refresh token stays with the account's own set. A resource manager
//! asks for its token under the account's hold, with the stored refresh
//! token, and saves a rotated successor back to the account before anyone
//! can use it; its own stored sets never hold a refresh token. So one
//! refresh token is never spent twice, whichever manager spends it, in one
//! process or across a shared store.

use std::sync::Arc;

use async_trait::async_trait;

use crate::endpoint::token_endpoint::RequestContext;
use crate::error::Error;
use crate::manager::flight;
use crate::manager::state::Inner;
use crate::manager::token_manager::TokenManager;
use crate::provider::token_provider::TokenProvider;
use crate::revocation::Revocation;
use crate::secret::{AccountKey, RefreshToken};
use crate::store::held::HeldAccount;
use crate::token::binding::{Binding, Scopes};
use crate::token::token_set::TokenSet;

impl TokenManager {
    /// A manager for access tokens for `resource` with `scopes` (none: what
    /// the server grants for it), obtained with this account's refresh token.
    /// It shares this manager's store, clock and refresh policy; it needs a
    /// provider that can ask for other resources
    /// ([`TokenProvider::refresh_for`], as [`crate::GenericProvider`] does)
    /// and a signed-in account.
    ///
    /// ```no_run
    /// # async fn run(account: authkit_core::TokenManager) -> Result<(), authkit_core::Error> {
    /// let billing = account.for_resource("https://billing.example.com/", ["invoices:read"]);
    /// let reports = account.for_resource("https://reports.example.com/", Vec::<String>::new());
    /// let token = billing.access_token().await?; // for billing only
    /// # let _ = (token, reports);
    /// # Ok(()) }
    /// ```
    pub fn for_resource<I, S>(&self, resource: impl Into<String>, scopes: I) -> TokenManager
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        let resources = vec![resource.into()];
        let scopes: Vec<String> = scopes.into_iter().map(Into::into).collect();
        let binding = self
            .inner
            .provider
            .binding()
            .clone()
            .with_resources(resources.iter().cloned())
            .with_scopes(Scopes::new(scopes.iter().cloned()));
        let readable = self
            .inner
            .key
            .as_str()
            .rsplit_once('#')
            .map_or(self.inner.key.as_str(), |(name, _)| name);
        // Its own name as well as its own binding: the account's set may be
        // bound to this very resource, and must never be overwritten by a
        // set without its refresh token.
        let provider = ResourceTokens {
            key: binding.account_key(&format!("{readable}>{}", resources[0])),
            binding,
            resources,
            scopes,
            account: Arc::clone(&self.inner),
        };
        let mut builder = TokenManager::builder(provider, Arc::clone(&self.inner.store))
            .clock(Arc::clone(&self.inner.clock))
            .refresh_policy(self.inner.policy.clone());
        // Its tokens are bound to the account's key, and the servers' nonces
        // are the account's.
        builder.dpop = self.inner.dpop.clone();
        builder.build()
    }
}

/// The provider of a resource manager: the account's refresh token, asked
/// for one resource.
struct ResourceTokens {
    key: AccountKey,
    binding: Binding,
    resources: Vec<String>,
    scopes: Vec<String>,
    account: Arc<Inner>,
}

impl std::fmt::Debug for ResourceTokens {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ResourceTokens")
            .field("key", &self.key)
            .field("resources", &self.resources)
            .field("account", &self.account.key)
            .finish_non_exhaustive()
    }
}

#[async_trait]
impl TokenProvider for ResourceTokens {
    fn account_key(&self) -> &AccountKey {
        &self.key
    }

    fn binding(&self) -> &Binding {
        &self.binding
    }

    async fn authenticate(&self, _cx: &RequestContext) -> Result<TokenSet, Error> {
        // The account's context (its clock and DPoP key) is the one that
        // counts: the request spends the account's refresh token.
        self.account
            .tokens_for(&self.resources, &self.scopes)
            .await
            .map(TokenSet::without_refresh_token)
    }

    async fn refresh(
        &self,
        _refresh_token: &RefreshToken,
        cx: &RequestContext,
    ) -> Result<TokenSet, Error> {
        // Its sets hold no refresh token; should one be stored by hand, the
        // account's is still the one used.
        self.authenticate(cx).await
    }

    async fn revoke(&self, _tokens: &TokenSet, _cx: &RequestContext) -> Revocation {
        // The account's sign-out revokes the grant these tokens came from.
        Revocation::NotOffered
    }
}

impl Inner {
    /// Under the account's hold: its stored refresh token, asked for
    /// `resources` and `scopes`; a rotated successor saved to the account
    /// before the new set is returned.
    async fn tokens_for(&self, resources: &[String], scopes: &[String]) -> Result<TokenSet, Error> {
        let mut held = HeldAccount::acquire(self.store.as_ref(), &self.key).await?;
        let result = self.tokens_for_held(&mut held, resources, scopes).await;
        flight::release(held).await;
        result
    }

    async fn tokens_for_held(
        &self,
        held: &mut HeldAccount,
        resources: &[String],
        scopes: &[String],
    ) -> Result<TokenSet, Error> {
        let stored = self.reload(held).await?;
        let current = flight::newest(stored, self.cache.load_full().map(|c| c.tokens.clone()));
        let now = self.clock.now();
        let Some((current, refresh_token)) = current
            .filter(|t| t.has_usable_refresh_token(now))
            .and_then(|t| t.refresh_token().cloned().map(|rt| (t, rt)))
        else {
            return Err(Error::SignInRequired {
                reason: format!(
                    "tokens for {} come from the refresh token of {}, which holds none: sign in first",
                    resources.join(", "),
                    self.key
                ),
            });
        };
        // The account's set must belong to this server and client before its
        // refresh token leaves the process.
        self.fit(&current)?;
        // The account's context: its clock, and for a DPoP-bound refresh
        // token its own key.
        let cx = self.context_for(Some(&current))?;
        // The successor of a rotated refresh token must have room in the
        // store before the refresh token is spent.
        held.prepare_save().await?;
        let fresh = self
            .provider
            .refresh_for(&refresh_token, resources, scopes, &cx)
            .await?;
        let Some(next) = fresh
            .refresh_token()
            .filter(|next| !next.same_secret(&refresh_token))
            .cloned()
        else {
            return Ok(fresh);
        };
        let updated = current.with_refresh_token(Some(next), fresh.refresh_expires_at());
        let saved = held.save(&updated, self.clock.now()).await;
        self.cache.publish(Some(Arc::new(self.schedule(updated))));
        match saved {
            Ok(()) => Ok(fresh),
            Err(source) => {
                tracing::error!(account = %self.key, error = %source, "the rotated refresh token could not be saved; it is kept in memory only");
                Err(Error::UnsavedRotation {
                    key: self.key.clone(),
                    source,
                })
            }
        }
    }
}

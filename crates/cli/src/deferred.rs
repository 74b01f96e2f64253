//! A provider whose credentials are read only when the server needs them.
//!
//! A shell user who runs `authkit token ...` a hundred times a day must not
//! be asked for a password while the store holds a usable or refreshable
//! token. The manager decides whether a request is needed; this provider
//! builds the real one at that moment: the refreshing one with what a refresh
//! needs (for Vonage, the consumer secret), the authenticating one with the
//! password too.

use std::sync::Arc;

use async_trait::async_trait;
use authkit_core::endpoint::RequestContext;
use authkit_core::revocation::Revocation;
use authkit_core::token::Binding;
use authkit_core::{AccountKey, Error, RefreshToken, TokenProvider, TokenSet};
use tokio::sync::OnceCell;

type Build = Box<dyn Fn() -> Result<Arc<dyn TokenProvider>, Error> + Send + Sync>;

/// Builds a provider once, on first use.
struct Lazy {
    build: Build,
    built: OnceCell<Arc<dyn TokenProvider>>,
}

impl Lazy {
    fn new(build: Build) -> Self {
        Self {
            build,
            built: OnceCell::new(),
        }
    }

    async fn get(&self) -> Result<&Arc<dyn TokenProvider>, Error> {
        self.built
            .get_or_try_init(|| async { (self.build)() })
            .await
    }
}

/// A provider that reads its secrets on first use.
pub struct Deferred {
    key: AccountKey,
    binding: Binding,
    refreshing: Lazy,
    authenticating: Lazy,
}

impl std::fmt::Debug for Deferred {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Deferred")
            .field("key", &self.key)
            .finish_non_exhaustive()
    }
}

impl Deferred {
    /// `placeholder` is the provider built without secrets (it names the
    /// account and its binding); `refreshing` builds a provider good for
    /// refreshing, `authenticating` one good for signing in.
    pub fn new(
        placeholder: &dyn TokenProvider,
        refreshing: impl Fn() -> Result<Arc<dyn TokenProvider>, Error> + Send + Sync + 'static,
        authenticating: impl Fn() -> Result<Arc<dyn TokenProvider>, Error> + Send + Sync + 'static,
    ) -> Self {
        Self {
            key: placeholder.account_key().clone(),
            binding: placeholder.binding().clone(),
            refreshing: Lazy::new(Box::new(refreshing)),
            authenticating: Lazy::new(Box::new(authenticating)),
        }
    }
}

#[async_trait]
impl TokenProvider for Deferred {
    fn account_key(&self) -> &AccountKey {
        &self.key
    }

    fn binding(&self) -> &Binding {
        &self.binding
    }

    async fn authenticate(&self, cx: &RequestContext) -> Result<TokenSet, Error> {
        self.authenticating.get().await?.authenticate(cx).await
    }

    async fn refresh(
        &self,
        refresh_token: &RefreshToken,
        cx: &RequestContext,
    ) -> Result<TokenSet, Error> {
        self.refreshing
            .get()
            .await?
            .refresh(refresh_token, cx)
            .await
    }

    async fn revoke(&self, tokens: &TokenSet, cx: &RequestContext) -> Revocation {
        // Revoking authenticates the client as a refresh does.
        match self.refreshing.get().await {
            Ok(provider) => provider.revoke(tokens, cx).await,
            Err(error) => Revocation::Failed(error),
        }
    }
}

/// A provider for an account that only a person can sign in.
#[derive(Debug)]
pub struct NeedsBrowser {
    /// The account.
    pub key: AccountKey,
    /// Its binding.
    pub binding: Binding,
    /// The command that signs it in.
    pub hint: String,
}

#[async_trait]
impl TokenProvider for NeedsBrowser {
    fn account_key(&self) -> &AccountKey {
        &self.key
    }

    fn binding(&self) -> &Binding {
        &self.binding
    }

    async fn authenticate(&self, _cx: &RequestContext) -> Result<TokenSet, Error> {
        Err(Error::SignInRequired {
            reason: format!("{} has no usable tokens; run `{}`", self.key, self.hint),
        })
    }

    async fn refresh(&self, _: &RefreshToken, cx: &RequestContext) -> Result<TokenSet, Error> {
        self.authenticate(cx).await
    }
}

//! The manager itself, its builder and the future its callers await.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll};

use time::OffsetDateTime;

use crate::clock::{Clock, HotClock, system_clock};
use crate::dpop::{DpopContext, DpopKey, DpopNonces};
use crate::endpoint::token_endpoint::RequestContext;
use crate::error::Error;
use crate::error::config::{ConfigError, ConfigErrorKind};
use crate::error::store::StoreError;
use crate::provider::token_provider::TokenProvider;
use crate::revocation::{Revocation, SignOut};
use crate::secret::{AccessToken, AccountKey};
use crate::store::held::HeldAccount;
use crate::store::token_store::TokenStore;
use crate::token::token_set::TokenSet;

use crate::manager::state::Inner;

use crate::manager::hot::HotCache;
use crate::manager::state::FlightSlot;

use crate::manager::policy::{Cached, RefreshPolicy};
use crate::telemetry::AccountMetrics;

/// Hands out access tokens for one account, refreshing and persisting them.
/// Cheap to clone; clones share the cache and the refresh flight.
#[derive(Clone)]
pub struct TokenManager {
    pub(super) inner: Arc<Inner>,
}

impl fmt::Debug for TokenManager {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenManager")
            .field("account", &self.inner.key)
            .field("provider", &self.inner.provider)
            .field("store", &self.inner.store)
            .field("policy", &self.inner.policy)
            .finish_non_exhaustive()
    }
}

impl TokenManager {
    /// A manager with the default [`RefreshPolicy`] and the system clock.
    pub fn new(provider: impl TokenProvider + 'static, store: impl TokenStore + 'static) -> Self {
        Self::builder(provider, store).build()
    }

    /// Starts building a manager for `provider`'s account, kept in `store`.
    pub fn builder(
        provider: impl TokenProvider + 'static,
        store: impl TokenStore + 'static,
    ) -> TokenManagerBuilder {
        Self::builder_shared(Arc::new(provider), Arc::new(store))
    }

    /// [`TokenManager::builder`] for a provider and store already shared.
    pub(crate) fn builder_shared(
        provider: Arc<dyn TokenProvider>,
        store: Arc<dyn TokenStore>,
    ) -> TokenManagerBuilder {
        TokenManagerBuilder {
            provider,
            store,
            clock: None,
            policy: RefreshPolicy::default(),
            metrics_label: None,
            dpop: None,
            requests: None,
        }
    }

    /// Whether this handle is the only one: no clone elsewhere and no
    /// refresh flight running (a flight holds the manager's state).
    pub(crate) fn is_unshared(&self) -> bool {
        Arc::strong_count(&self.inner) == 1
    }

    /// The manager's cache, for a pool's per-thread memo of recent accounts.
    pub(crate) fn hot_cache(&self) -> Arc<HotCache> {
        Arc::clone(&self.inner.cache)
    }

    /// When the token set in memory expires, if there is one.
    pub(crate) fn cached_expiry(&self) -> Option<OffsetDateTime> {
        self.inner.cache.load_full().map(|c| c.tokens.expires_at())
    }

    /// The account this manager serves.
    pub fn account_key(&self) -> &AccountKey {
        &self.inner.key
    }

    /// A valid access token: from memory when fresh, otherwise after one
    /// refresh shared with every concurrent caller.
    ///
    /// The memory check happens when this is called, so a fresh token costs
    /// no more than [`TokenManager::cached_access_token`]; only a caller
    /// holding nothing usable gets a future that waits.
    #[inline]
    pub fn access_token(&self) -> AccessTokenFuture<'_> {
        // A ready future when the token is in memory; the waiting one (large,
        // and rare) only when it is not, behind a box so the common case
        // neither builds nor moves it.
        match self.token_from_memory() {
            Some(token) => AccessTokenFuture::ready(token),
            None => AccessTokenFuture::waiting(self.inner.wait_for_tokens()),
        }
    }

    /// The fresh token in memory, starting a background refresh when it is
    /// inside its early-refresh window; `None` when there is nothing usable.
    #[inline]
    fn token_from_memory(&self) -> Option<AccessToken> {
        let (wall, monotonic) = self.inner.hot_clock.readings();
        self.token_from_memory_at(wall, monotonic)
    }

    /// [`TokenManager::token_from_memory`] with the clock already read (an
    /// [`crate::AccountPool`] reads it once for its own bookkeeping too).
    #[inline]
    pub(crate) fn token_from_memory_at(&self, wall: i64, monotonic: i64) -> Option<AccessToken> {
        let (token, fresh) = self.inner.cache.with(|cached| {
            let cached = cached?;
            if cached.is_fresh(wall, monotonic) {
                Some((cached.access_token(), true))
            } else if cached.is_usable(wall, monotonic) {
                Some((cached.access_token(), false))
            } else {
                None
            }
        })?;
        if !fresh {
            self.inner.metrics.served_while_refreshing();
            self.inner.refresh_in_background();
        }
        Some(token)
    }

    /// The access token if one is usable in memory, without any I/O or waiting.
    pub fn cached_access_token(&self) -> Option<AccessToken> {
        let (wall, monotonic) = self.inner.hot_clock.readings();
        self.inner.cache.with(|cached| {
            cached
                .filter(|c| c.is_usable(wall, monotonic))
                .map(|c| c.access_token())
        })
    }

    /// The whole current token set, after making sure it is valid: for
    /// status displays, and for a provider's own response fields, which
    /// [`TokenSet::extra`] keeps as sent.
    pub async fn token_set(&self) -> Result<TokenSet, Error> {
        self.access_token().await?;
        self.inner
            .cache
            .load_full()
            .map(|c| c.tokens.clone())
            .ok_or_else(|| Error::Internal("no token set after a successful refresh".into()))
    }

    /// Forces the next call to get a new token: for a caller whose API
    /// request came back 401. The rejected token is never handed out again.
    pub fn invalidate(&self) {
        if let Some(cached) = self.inner.cache.load_full() {
            self.inner.revoke(&cached);
        }
    }

    /// Like [`TokenManager::invalidate`], but only if `token` is still the
    /// current one, so that many requests failing with the same old token
    /// cause one refresh, not one each.
    pub fn invalidate_token(&self, token: &AccessToken) {
        if let Some(cached) = self.inner.cache.load_full()
            && cached.tokens.access_token().same_secret(token)
        {
            self.inner.revoke(&cached);
        }
    }

    /// The `tracing` span of the flight that produced the current tokens, for
    /// a request's span to follow from (the HTTP layer does).
    pub fn flight_span_id(&self) -> Option<tracing::span::Id> {
        self.inner
            .last_flight
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// The context the manager makes its requests in (its clock), for a
    /// request made on its behalf outside it. For a sign-in made outside it
    /// (a browser's code exchange, a device flow) use
    /// [`TokenManager::sign_in_context`], which also carries a new DPoP key
    /// when the manager binds tokens to one.
    pub fn context(&self) -> &RequestContext {
        &self.inner.cx
    }

    /// The context for a full sign-in made outside the manager: its clock,
    /// and with [`TokenManagerBuilder::dpop`] a new DPoP key (whose
    /// thumbprint is the `dpop_jkt` of an authorization request). The set it
    /// yields carries the key; [`TokenManager::sign_in_with`] stores both.
    pub fn sign_in_context(&self) -> Result<RequestContext, Error> {
        self.inner.context_for(None)
    }

    /// Whether the manager binds tokens to a DPoP key.
    pub fn uses_dpop(&self) -> bool {
        self.inner.dpop.is_some()
    }

    /// Takes a token set obtained outside the manager (a browser sign-in's
    /// code exchange) as the account's current one: saves it under the store's
    /// lock, then serves it. Clears any remembered failure. A set without a
    /// binding is taken as issued by this manager's provider; a set bound to
    /// another endpoint or client is refused.
    pub async fn sign_in_with(&self, tokens: TokenSet) -> Result<(), Error> {
        let wanted = self.inner.provider.binding();
        let tokens = match tokens.binding() {
            None => tokens.with_binding(wanted.clone()),
            Some(bound) if bound.same_origin(wanted) => tokens,
            Some(bound) => {
                return Err(Error::Config(ConfigError::new(
                    ConfigErrorKind::BindingMismatch,
                    format!(
                        "tokens issued at {bound} cannot sign in {} ({wanted})",
                        self.inner.key
                    ),
                )));
            }
        };
        let mut held = HeldAccount::acquire(self.inner.store.as_ref(), &self.inner.key).await?;
        held.save(&tokens, self.inner.now()).await?;
        self.inner
            .metrics
            .token_expires(tokens.expires_at().unix_timestamp());
        self.inner
            .cache
            .publish(Some(Arc::new(self.inner.schedule(tokens))));
        self.inner.forget_failure();
        drop(held);
        tracing::info!(account = %self.inner.key, "signed in");
        Ok(())
    }

    /// Signs the account out: under the store's hold, revokes the stored
    /// tokens at the server when the provider can (RFC 7009), then removes
    /// them from the store (a lease store refuses the removal if the lease
    /// was lost) and from memory. A server that fails to revoke does not
    /// stop the local sign-out; the returned [`SignOut`] says what the
    /// server did. Only a store failure is an error.
    pub async fn sign_out(&self) -> Result<SignOut, Error> {
        let mut held = HeldAccount::acquire(self.inner.store.as_ref(), &self.inner.key).await?;
        let stored = match held.load().await {
            Ok(stored) => stored,
            // An entry that cannot be read (set aside as corrupt, or sealed
            // with a key this process lacks) has nothing to revoke; signing
            // out still removes what is there.
            Err(error @ (StoreError::Unavailable { .. } | StoreError::Io { .. })) => {
                return Err(error.into());
            }
            Err(error) => {
                tracing::warn!(account = %self.inner.key, error = %error, "signing out an unreadable entry");
                None
            }
        };
        let revocation = match &stored {
            None => Revocation::NothingStored,
            Some(tokens) => {
                let cx = self.inner.context_for(Some(tokens))?;
                self.inner.provider.revoke(tokens, &cx).await
            }
        };
        if let Revocation::Failed(error) = &revocation {
            tracing::warn!(account = %self.inner.key, error = %error, "the server did not revoke the tokens");
        }
        held.remove().await?;
        self.inner.cache.publish(None);
        drop(held);
        tracing::info!(account = %self.inner.key, revoked = matches!(revocation, Revocation::Revoked), "signed out");
        Ok(SignOut::new(revocation))
    }
}

/// The future [`TokenManager::access_token`] returns: ready on its first
/// poll when the token is in memory, otherwise waiting for the refresh flight.
#[must_use = "a future does nothing unless awaited"]
pub struct AccessTokenFuture<'a> {
    state: FutureState<'a>,
}

enum FutureState<'a> {
    Ready(Option<AccessToken>),
    Waiting(Pin<Box<dyn Future<Output = Result<AccessToken, Error>> + Send + 'a>>),
}

impl fmt::Debug for AccessTokenFuture<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = match self.state {
            FutureState::Ready(_) => "ready",
            FutureState::Waiting(_) => "waiting for the refresh flight",
        };
        f.debug_struct("AccessTokenFuture")
            .field("state", &state)
            .finish()
    }
}

impl Future for AccessTokenFuture<'_> {
    type Output = Result<AccessToken, Error>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        match &mut self.state {
            FutureState::Ready(token) => Poll::Ready(token.take().ok_or_else(|| {
                Error::Internal("the access token future was polled after it completed".into())
            })),
            FutureState::Waiting(waiting) => waiting.as_mut().poll(cx),
        }
    }
}

impl<'a> AccessTokenFuture<'a> {
    /// A future already holding its token.
    #[inline]
    pub(crate) fn ready(token: AccessToken) -> Self {
        AccessTokenFuture {
            state: FutureState::Ready(Some(token)),
        }
    }

    /// A future that waits for `waiting`.
    pub(crate) fn waiting(
        waiting: impl Future<Output = Result<AccessToken, Error>> + Send + 'a,
    ) -> Self {
        AccessTokenFuture {
            state: FutureState::Waiting(Box::pin(waiting)),
        }
    }
}

impl Inner {
    fn revoke(&self, cached: &Cached) {
        *self.rejected.lock().unwrap_or_else(PoisonError::into_inner) =
            Some(cached.tokens.access_token().clone());
        self.cache
            .publish(Some(Arc::new(cached.revoked(self.clock.as_ref()))));
        tracing::debug!(account = %self.key, "access token invalidated");
    }

    pub(super) fn now(&self) -> OffsetDateTime {
        self.clock.now()
    }

    /// The context for a request about `tokens` (a refresh, a revocation:
    /// their DPoP key) or, with `None`, for a full sign-in (a new key).
    pub(crate) fn context_for(&self, tokens: Option<&TokenSet>) -> Result<RequestContext, Error> {
        let Some(nonces) = &self.dpop else {
            return Ok(self.cx.clone());
        };
        let key = match tokens.and_then(TokenSet::dpop_key) {
            Some(key) => key.clone(),
            None => DpopKey::generate()?,
        };
        Ok(self
            .cx
            .clone()
            .with_dpop(DpopContext::new(key, nonces.clone())))
    }
}

/// Builds a [`TokenManager`].
pub struct TokenManagerBuilder {
    pub(super) provider: Arc<dyn TokenProvider>,
    pub(super) store: Arc<dyn TokenStore>,
    pub(super) clock: Option<Arc<dyn Clock>>,
    pub(super) policy: RefreshPolicy,
    pub(super) metrics_label: Option<String>,
    pub(super) dpop: Option<DpopNonces>,
    pub(super) requests: Option<Arc<tokio::sync::Semaphore>>,
}

impl fmt::Debug for TokenManagerBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenManagerBuilder")
            .field("provider", &self.provider)
            .field("policy", &self.policy)
            .finish_non_exhaustive()
    }
}

impl TokenManagerBuilder {
    /// The clock expiry is judged by (tests inject a [`crate::clock::ManualClock`]);
    /// token requests count lifetimes and `Retry-After` dates on it too.
    pub fn clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = Some(clock);
        self
    }

    /// When to refresh and how to back off.
    pub fn refresh_policy(mut self, policy: RefreshPolicy) -> Self {
        self.policy = policy;
        self
    }

    /// The `account` label of this manager's metrics (see
    /// [`crate::telemetry`]). The default names the provider and the
    /// binding's fingerprint, never the user; choose something else only if
    /// it is bounded and not secret.
    pub fn metrics_label(mut self, label: impl Into<String>) -> Self {
        self.metrics_label = Some(label.into());
        self
    }

    /// Binds the account's tokens to a DPoP key (RFC 9449): a new key with
    /// every full sign-in, kept by refreshes and stored with the tokens;
    /// every token request carries a proof, and the server's nonces are
    /// answered. Access tokens then go out as `Authorization: DPoP` with a
    /// proof of their own ([`TokenManager::authorize`], which the HTTP layer
    /// uses).
    pub fn dpop(mut self) -> Self {
        self.dpop = Some(DpopNonces::new());
        self
    }

    /// Makes the manager one of an [`crate::AccountPool`]'s: its token
    /// requests share the pool's `permits`; its cached set keeps one copy
    /// of the access token instead of one per core (thousands of accounts
    /// trade the copies' contention-free reads for memory); and it records
    /// no expiry gauge (every account of the pool shares one label).
    pub(crate) fn pooled(mut self, permits: Arc<tokio::sync::Semaphore>) -> Self {
        self.requests = Some(permits);
        self
    }

    /// Builds the manager. Nothing is fetched until the first call.
    pub fn build(self) -> TokenManager {
        let key = self.provider.account_key().clone();
        let pooled = self.requests.is_some();
        let mut metrics = AccountMetrics::new(
            self.metrics_label
                .unwrap_or_else(|| crate::telemetry::account_label(&key)),
        );
        if pooled {
            metrics = metrics.without_expiry_gauge();
        }
        let (clock, hot_clock) = match self.clock {
            Some(clock) => (Arc::clone(&clock), HotClock::Other(clock)),
            None => (system_clock(), HotClock::System),
        };
        TokenManager {
            inner: Arc::new(Inner {
                provider: self.provider,
                store: self.store,
                key,
                cx: RequestContext::new(Arc::clone(&clock)),
                dpop: self.dpop,
                clock,
                hot_clock,
                policy: self.policy,
                cache: Arc::new(HotCache::new()),
                flight: Mutex::new(FlightSlot::default()),
                failure: Mutex::new(None),
                rejected: Mutex::new(None),
                metrics,
                last_flight: Mutex::new(None),
                requests: self.requests,
                stripes: if pooled {
                    1
                } else {
                    crate::manager::policy::stripe_count()
                },
            }),
        }
    }
}

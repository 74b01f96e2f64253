//! The pool itself: accounts by key, their managers made on first use.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use time::OffsetDateTime;

use crate::clock::{Clock, HotClock};
use crate::error::Error;
use crate::error::config::{ConfigError, ConfigErrorKind};
use crate::manager::{AccessTokenFuture, RefreshPolicy, TokenManager};
use crate::pool::builder::{AccountPoolBuilder, ProviderFactory};
use crate::pool::memo::{self, Sighting};
use crate::pool::table::{Table, entry};
use crate::provider::token_provider::TokenProvider;
use crate::revocation::SignOut;
use crate::secret::{AccessToken, AccountKey};
use crate::store::token_store::TokenStore;

/// Access tokens for many accounts in one process: one
/// [`TokenManager`] per account key, created on first use, sharing one
/// store, one clock and one bound on concurrent token requests. Cheap to
/// clone; clones share everything.
///
/// See [the module](crate::pool) for what it promises.
///
/// ```no_run
/// use authkit_core::grant::PasswordGrant;
/// use authkit_core::{AccountPool, ClientAuth, GenericProvider, MemoryStore, Password, TokenEndpoint};
///
/// # async fn run() -> Result<(), authkit_core::Error> {
/// let endpoint = TokenEndpoint::builder("https://auth.example.com/token")
///     .client_auth(ClientAuth::public("api"))
///     .build()?;
/// let pool = AccountPool::builder(MemoryStore::new()).build();
/// for (tenant, user, password) in [("acme", "ops@acme.example", "pw-1"), ("globex", "it@globex.example", "pw-2")] {
///     let provider = GenericProvider::new(user, endpoint.clone())
///         .with_grant(PasswordGrant::new(user, Password::new(password)));
///     pool.add(tenant, provider)?;
/// }
/// let token = pool.access_token("acme").await?;
/// # let _ = token;
/// # Ok(())
/// # }
/// ```
#[derive(Clone)]
pub struct AccountPool {
    inner: Arc<PoolInner>,
}

struct PoolInner {
    /// Tells this pool's accounts from others' in the per-thread memos.
    id: u64,
    table: Table,
    store: Arc<dyn TokenStore>,
    clock: Option<Arc<dyn Clock>>,
    hot_clock: HotClock,
    policy: RefreshPolicy,
    metrics_label: Option<String>,
    permits: Arc<tokio::sync::Semaphore>,
    max_concurrent_requests: usize,
    factory: Option<Arc<dyn ProviderFactory>>,
}

impl fmt::Debug for AccountPool {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AccountPool")
            .field("accounts", &self.len())
            .field("store", &self.inner.store)
            .field("policy", &self.inner.policy)
            .field(
                "max_concurrent_requests",
                &self.inner.max_concurrent_requests,
            )
            .field("factory", &self.inner.factory.is_some())
            .finish_non_exhaustive()
    }
}

impl AccountPoolBuilder {
    /// Builds the pool. Nothing is fetched until an account is used.
    pub fn build(self) -> AccountPool {
        AccountPool::from_builder(self)
    }
}

impl AccountPool {
    /// Starts building a pool whose accounts live in `store`.
    pub fn builder(store: impl TokenStore + 'static) -> AccountPoolBuilder {
        AccountPoolBuilder::new(Arc::new(store))
    }

    fn from_builder(builder: AccountPoolBuilder) -> Self {
        let hot_clock = match &builder.clock {
            Some(clock) => HotClock::Other(Arc::clone(clock)),
            None => HotClock::System,
        };
        AccountPool {
            inner: Arc::new(PoolInner {
                id: memo::new_pool_id(),
                table: Table::new(builder.shards),
                store: builder.store,
                clock: builder.clock,
                hot_clock,
                policy: builder.policy,
                metrics_label: builder.metrics_label,
                permits: Arc::new(tokio::sync::Semaphore::new(builder.max_concurrent_requests)),
                max_concurrent_requests: builder.max_concurrent_requests,
                factory: builder.factory,
            }),
        }
    }

    /// Adds an account under `key`, served by `provider`. Nothing is
    /// fetched until it is used.
    ///
    /// Adding a key again with the same provider (the same account key at
    /// the same endpoint, client and scopes) keeps the account as it is;
    /// with a different one it is a [`ConfigErrorKind::AccountConflict`]:
    /// remove the account first.
    pub fn add(
        &self,
        key: impl Into<AccountKey>,
        provider: impl TokenProvider + 'static,
    ) -> Result<(), Error> {
        self.add_shared(key, Arc::new(provider))
    }

    /// [`AccountPool::add`] for a provider already shared.
    pub fn add_shared(
        &self,
        key: impl Into<AccountKey>,
        provider: Arc<dyn TokenProvider>,
    ) -> Result<(), Error> {
        let key = key.into();
        let now = self.monotonic_now();
        let lookup = key.as_str().to_owned();
        self.inner.table.update(&lookup, move |slot| match slot {
            Some(existing) if same_provider(existing.provider.as_ref(), provider.as_ref()) => {
                existing.from_factory = false;
                Ok(())
            }
            Some(existing) => Err(Error::Config(ConfigError::new(
                ConfigErrorKind::AccountConflict,
                format!(
                    "the pool already holds {key} for {} at {}; a second provider ({} at {}) was refused: remove the account first",
                    existing.provider.account_key(),
                    existing.provider.binding(),
                    provider.account_key(),
                    provider.binding()
                ),
            ))),
            None => {
                *slot = Some(entry(key, provider, false, now));
                Ok(())
            }
        })
    }

    /// A valid access token for the account `key`: from memory when fresh,
    /// otherwise after one refresh shared with every concurrent caller for
    /// that account. An account not in memory is made (from the provider
    /// it was added with, or the factory) and loads its tokens from the
    /// store.
    ///
    /// An unknown key without a factory is a
    /// [`ConfigErrorKind::UnknownAccount`].
    #[inline]
    pub fn access_token(&self, key: &str) -> AccessTokenFuture<'static> {
        let inner = &*self.inner;
        let (wall, monotonic) = inner.hot_clock.readings();
        let hash = inner.table.hash(key);
        let generation = inner.table.generation(hash);
        if let Some(token) = memo::fresh_token(inner.id, hash, key, generation, wall, monotonic) {
            return AccessTokenFuture::ready(token);
        }
        let in_memory = inner.table.read_hashed(hash, key, |entry, generation| {
            let entry = entry?;
            entry.touch(monotonic);
            let manager = entry.manager.as_ref()?;
            let token = manager.token_from_memory_at(wall, monotonic)?;
            memo::remember(Sighting {
                pool: inner.id,
                hash,
                generation,
                key: &entry.key,
                manager,
                last_used: &entry.last_used,
            });
            Some(token)
        });
        match in_memory {
            Some(token) => AccessTokenFuture::ready(token),
            None => {
                let manager = self.manager(key);
                AccessTokenFuture::waiting(async move { manager?.access_token().await })
            }
        }
    }

    /// The manager of the account `key`, made if it is not in memory: for
    /// everything beyond [`AccountPool::access_token`] (the HTTP layer, a
    /// browser sign-in, [`TokenManager::invalidate_token`]). While a caller
    /// holds it, the account is not evicted.
    pub fn manager(&self, key: &str) -> Result<TokenManager, Error> {
        let now = self.monotonic_now();
        let held = self.inner.table.read(key, |entry| {
            let entry = entry?;
            entry.touch(now);
            entry.manager.clone()
        });
        if let Some(manager) = held {
            return Ok(manager);
        }
        self.inner.table.update(key, |slot| {
            let entry = match slot {
                Some(entry) => entry,
                None => {
                    let key = AccountKey::new(key);
                    let provider = self.inner.factory_provider(&key)?;
                    slot.insert(entry(key, provider, true, now))
                }
            };
            entry.touch(now);
            let manager = entry
                .manager
                .get_or_insert_with(|| self.inner.manager_for(&entry.provider));
            Ok(manager.clone())
        })
    }

    /// Removes the account `key` and signs it out: the manager revokes its
    /// tokens at the server where the provider can (RFC 7009) and removes
    /// them from the store. A key the pool does not hold is signed out
    /// through the factory, when there is one (its tokens may be in the
    /// store from an earlier run).
    ///
    /// When signing out fails (the store could not remove the tokens) the
    /// account is put back, so nothing is lost, and the error is returned.
    pub async fn remove(&self, key: &str) -> Result<SignOut, Error> {
        let taken = self.inner.table.update(key, Option::take);
        let entry = match taken {
            Some(entry) => entry,
            None => {
                let key = AccountKey::new(key);
                let provider = self.inner.factory_provider(&key)?;
                entry(key, provider, true, self.monotonic_now())
            }
        };
        let manager = match &entry.manager {
            Some(manager) => manager.clone(),
            None => self.inner.manager_for(&entry.provider),
        };
        match manager.sign_out().await {
            Ok(signed_out) => Ok(signed_out),
            Err(error) => {
                self.inner.table.update(key, |slot| {
                    if slot.is_none() {
                        *slot = Some(entry);
                    }
                });
                Err(error)
            }
        }
    }

    /// Drops the account's manager from memory if nothing is using it (no
    /// caller holds it and no refresh is running); its tokens stay in the
    /// store and come back on its next use. Returns whether it was evicted.
    pub fn evict(&self, key: &str) -> bool {
        self.inner.table.update(key, |slot| match slot {
            Some(entry) if entry.manager.is_some() && entry.is_idle() => {
                if !entry.evict() {
                    *slot = None;
                }
                true
            }
            _ => false,
        })
    }

    /// Evicts every account not used for `idle_for` or longer (see
    /// [`AccountPool::evict`]) and returns how many went. Call it from a
    /// periodic task to keep a pool of mostly idle accounts small.
    pub fn evict_idle(&self, idle_for: Duration) -> usize {
        let now_second = self.monotonic_now() / 1_000_000_000;
        let idle_seconds = i64::try_from(idle_for.as_secs()).unwrap_or(i64::MAX);
        let mut evicted = 0;
        self.inner.table.retain(|entry| {
            let idle = now_second.saturating_sub(entry.last_used_second()) >= idle_seconds;
            if entry.manager.is_none() || !idle || !entry.is_idle() {
                return true;
            }
            evicted += 1;
            entry.evict()
        });
        evicted
    }

    /// When the access token in memory for `key` expires; `None` when the
    /// account has none in memory (unknown, evicted, or not used yet).
    pub fn expires_at(&self, key: &str) -> Option<OffsetDateTime> {
        self.inner
            .table
            .read(key, |entry| entry?.manager.as_ref()?.cached_expiry())
    }

    /// The accounts whose access token in memory expires before `instant`:
    /// per-account expiry as a query, since a metric per account would not
    /// scale.
    pub fn expiring_before(&self, instant: OffsetDateTime) -> Vec<AccountKey> {
        let mut found = Vec::new();
        self.inner.table.for_each(|entry| {
            let expiry = entry.manager.as_ref().and_then(TokenManager::cached_expiry);
            if expiry.is_some_and(|at| at < instant) {
                found.push(entry.key.clone());
            }
        });
        found
    }

    /// Whether the pool holds the account `key` (in memory or not).
    pub fn contains(&self, key: &str) -> bool {
        self.inner.table.read(key, |entry| entry.is_some())
    }

    /// The keys of every account the pool holds, in no particular order.
    pub fn keys(&self) -> Vec<AccountKey> {
        let mut keys = Vec::with_capacity(self.len());
        self.inner
            .table
            .for_each(|entry| keys.push(entry.key.clone()));
        keys
    }

    /// How many accounts the pool holds.
    pub fn len(&self) -> usize {
        self.inner.table.len()
    }

    /// Whether the pool holds no account.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// How many accounts have their manager in memory.
    pub fn in_memory(&self) -> usize {
        let mut count = 0;
        self.inner.table.for_each(|entry| {
            count += usize::from(entry.manager.is_some());
        });
        count
    }

    /// Forces the next call for `key` to get a new token if `token` is still
    /// its current one: for a caller whose API request came back 401 (see
    /// [`TokenManager::invalidate_token`]).
    pub fn invalidate_token(&self, key: &str, token: &AccessToken) {
        self.inner.table.read(key, |entry| {
            if let Some(manager) = entry.and_then(|e| e.manager.as_ref()) {
                manager.invalidate_token(token);
            }
        });
    }

    /// How many more token requests could start now (the bound less those
    /// running): for a health page.
    pub fn available_request_permits(&self) -> usize {
        self.inner.permits.available_permits()
    }

    fn monotonic_now(&self) -> i64 {
        self.inner.hot_clock.readings().1
    }
}

impl PoolInner {
    fn factory_provider(&self, key: &AccountKey) -> Result<Arc<dyn TokenProvider>, Error> {
        match &self.factory {
            Some(factory) => factory.provider(key),
            None => Err(Error::Config(ConfigError::new(
                ConfigErrorKind::UnknownAccount,
                format!("the pool holds no account {key} and has no factory to make it"),
            ))),
        }
    }

    fn manager_for(&self, provider: &Arc<dyn TokenProvider>) -> TokenManager {
        let mut builder =
            TokenManager::builder_shared(Arc::clone(provider), Arc::clone(&self.store))
                .refresh_policy(self.policy.clone())
                .pooled(Arc::clone(&self.permits));
        if let Some(clock) = &self.clock {
            builder = builder.clock(Arc::clone(clock));
        }
        let label = match &self.metrics_label {
            Some(label) => label.clone(),
            None => crate::telemetry::pooled_account_label(provider.account_key()),
        };
        builder = builder.metrics_label(label);
        builder.build()
    }
}

/// Whether two providers serve the same account: the same account key at
/// the same endpoint, client, resources and scopes.
fn same_provider(a: &dyn TokenProvider, b: &dyn TokenProvider) -> bool {
    a.account_key() == b.account_key() && a.binding() == b.binding()
}

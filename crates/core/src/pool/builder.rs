//! Building an [`AccountPool`](crate::AccountPool): its knobs and their defaults.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use crate::clock::Clock;
use crate::error::Error;
use crate::manager::RefreshPolicy;
use crate::provider::token_provider::TokenProvider;
use crate::secret::AccountKey;
use crate::store::token_store::TokenStore;

/// How many refresh flights of one pool may talk to servers at once, unless
/// [`AccountPoolBuilder::max_concurrent_requests`] says otherwise: enough to
/// refresh ten thousand accounts in a few seconds at a server answering in
/// 100 ms, few enough that a pool does not look like an attack.
pub const DEFAULT_MAX_CONCURRENT_REQUESTS: usize = 32;

/// The `refresh_jitter` of a pool's [`RefreshPolicy`] unless
/// [`AccountPoolBuilder::refresh_policy`] says otherwise: four minutes,
/// where a lone manager's default is thirty seconds. Ten thousand accounts
/// signed in at the same minute then refresh over four minutes before the
/// five-minute margin (about 42 a second) instead of in half a minute; the
/// spread is capped at a quarter of each token's lifetime.
pub const DEFAULT_REFRESH_SPREAD: Duration = Duration::from_secs(4 * 60);

/// How many shards the pool's table has, unless
/// [`AccountPoolBuilder::shards`] says otherwise: a few per core of a large
/// machine, so threads serving different accounts rarely share a lock.
pub const DEFAULT_SHARDS: usize = 64;

/// Makes the provider of an account the pool has not been given, from its
/// key: a tenant's settings read from the program's database, say.
///
/// Any `Fn(&AccountKey) -> Result<P, Error>` is one. It is called under a
/// lock of the pool's table, once per account each time the account comes
/// into memory, so it should be quick and must not call back into the pool.
pub trait ProviderFactory: Send + Sync {
    /// The provider for `key`, or why there is none (an unknown tenant is a
    /// [`crate::error::ConfigErrorKind::UnknownAccount`], say).
    fn provider(&self, key: &AccountKey) -> Result<Arc<dyn TokenProvider>, Error>;
}

impl<F, P> ProviderFactory for F
where
    F: Fn(&AccountKey) -> Result<P, Error> + Send + Sync,
    P: TokenProvider + 'static,
{
    fn provider(&self, key: &AccountKey) -> Result<Arc<dyn TokenProvider>, Error> {
        self(key).map(|p| Arc::new(p) as Arc<dyn TokenProvider>)
    }
}

/// Builds an [`AccountPool`](crate::AccountPool); start with
/// [`AccountPool::builder`](crate::AccountPool::builder).
///
/// ```
/// use std::time::Duration;
/// use authkit_core::{AccountPool, MemoryStore};
/// use authkit_core::manager::RefreshPolicy;
///
/// let pool = AccountPool::builder(MemoryStore::new())
///     // At most 8 token requests at once, for every account together.
///     .max_concurrent_requests(8)
///     // Spread refreshes over two minutes before the five-minute margin.
///     .refresh_policy(RefreshPolicy {
///         refresh_jitter: Duration::from_secs(120),
///         ..RefreshPolicy::default()
///     })
///     .metrics_label("tenants")
///     .build();
/// assert!(pool.is_empty());
/// ```
pub struct AccountPoolBuilder {
    pub(super) store: Arc<dyn TokenStore>,
    pub(super) clock: Option<Arc<dyn Clock>>,
    pub(super) policy: RefreshPolicy,
    pub(super) metrics_label: Option<String>,
    pub(super) max_concurrent_requests: usize,
    pub(super) shards: usize,
    pub(super) factory: Option<Arc<dyn ProviderFactory>>,
}

impl fmt::Debug for AccountPoolBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AccountPoolBuilder")
            .field("store", &self.store)
            .field("policy", &self.policy)
            .field("max_concurrent_requests", &self.max_concurrent_requests)
            .field("shards", &self.shards)
            .field("factory", &self.factory.is_some())
            .finish_non_exhaustive()
    }
}

impl AccountPoolBuilder {
    pub(super) fn new(store: Arc<dyn TokenStore>) -> Self {
        Self {
            store,
            clock: None,
            policy: RefreshPolicy {
                refresh_jitter: DEFAULT_REFRESH_SPREAD,
                ..RefreshPolicy::default()
            },
            metrics_label: None,
            max_concurrent_requests: DEFAULT_MAX_CONCURRENT_REQUESTS,
            shards: DEFAULT_SHARDS,
            factory: None,
        }
    }

    /// The clock every account's expiry is judged by (tests inject a
    /// [`crate::clock::ManualClock`]); the system clock by default.
    pub fn clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = Some(clock);
        self
    }

    /// When every account refreshes and how it backs off; the default is
    /// [`RefreshPolicy::default`] with a `refresh_jitter` of
    /// [`DEFAULT_REFRESH_SPREAD`]. A larger `refresh_jitter` spreads the
    /// refreshes of accounts signed in at the same minute over a longer
    /// stretch.
    pub fn refresh_policy(mut self, policy: RefreshPolicy) -> Self {
        self.policy = policy;
        self
    }

    /// The `account` label of every pooled account's metrics. Without it
    /// each account is labelled with its provider's name (the part of its
    /// account key before the first `:`); either way the number of series
    /// does not grow with the number of accounts.
    pub fn metrics_label(mut self, label: impl Into<String>) -> Self {
        self.metrics_label = Some(label.into());
        self
    }

    /// At most this many refresh flights talk to servers at once (at least
    /// one); [`DEFAULT_MAX_CONCURRENT_REQUESTS`] by default. A flight waits
    /// for its turn before it takes its store lock; a token still usable
    /// is served meanwhile.
    pub fn max_concurrent_requests(mut self, limit: usize) -> Self {
        self.max_concurrent_requests = limit.max(1);
        self
    }

    /// How many shards the table of accounts has (rounded up to a power of
    /// two); [`DEFAULT_SHARDS`] by default.
    pub fn shards(mut self, shards: usize) -> Self {
        self.shards = shards;
        self
    }

    /// Makes providers for keys the pool was not given, on their first use.
    ///
    /// ```
    /// use authkit_core::grant::ClientCredentialsGrant;
    /// use authkit_core::{AccountPool, ClientAuth, ClientSecret, GenericProvider, MemoryStore, TokenEndpoint};
    ///
    /// # fn run() -> Result<(), authkit_core::Error> {
    /// // One endpoint, cloned into every account: one HTTP client for all.
    /// let endpoint = TokenEndpoint::builder("https://auth.example.com/token").build()?;
    /// let pool = AccountPool::builder(MemoryStore::new())
    ///     .factory(move |key: &authkit_core::AccountKey| {
    ///         let endpoint = endpoint.with_client_auth(ClientAuth::basic(
    ///             key.as_str(),
    ///             ClientSecret::new("looked up for this tenant"),
    ///         ));
    ///         Ok(GenericProvider::new(key.as_str(), endpoint).with_grant(ClientCredentialsGrant::new()))
    ///     })
    ///     .build();
    /// # let _ = pool;
    /// # Ok(())
    /// # }
    /// ```
    pub fn factory(mut self, factory: impl ProviderFactory + 'static) -> Self {
        self.factory = Some(Arc::new(factory));
        self
    }
}

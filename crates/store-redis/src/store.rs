//! [`RedisStore`]: token sets and their leases in Redis, on one node or a
//! cluster, with optional replica confirmation of every write.

use std::sync::Arc;
use std::sync::atomic::AtomicU64;
use std::time::Duration;

use async_trait::async_trait;
use authkit_core::store::StoreLock;
use authkit_core::{AccountKey, StoreError, TokenStore};
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use redis::cluster::ClusterClientBuilder;

use crate::backend::Backend;
use crate::connection::Connection;
use crate::durability::{Durability, Unconfirmed};
use crate::errors::store_error;
use crate::lease::RedisLock;

/// The prefix of every key a store writes unless told otherwise.
pub const DEFAULT_PREFIX: &str = "authkit:";
/// How long a lease lasts without renewal unless told otherwise.
pub const DEFAULT_LEASE: Duration = Duration::from_secs(30);
/// How long `lock` waits for another holder unless told otherwise.
pub const DEFAULT_LOCK_WAIT: Duration = Duration::from_secs(60);
/// The connection and command timeout unless told otherwise.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(5);
/// How long a write under the lease keeps being retried through a failover
/// unless told otherwise: long enough for a cluster to promote a replica
/// (`cluster-node-timeout` of a few seconds, plus the election).
pub const DEFAULT_FAILOVER_WAIT: Duration = Duration::from_secs(15);

/// Token sets and a lease lock per account in Redis, shared by every process
/// on every host that connects to it. Cheap to clone.
#[derive(Clone)]
pub struct RedisStore {
    backend: Backend,
}

impl std::fmt::Debug for RedisStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The connection (and its URL, which may hold a password) is not shown.
        f.debug_struct("RedisStore")
            .field("cluster", &self.backend.cluster)
            .field("prefix", &self.backend.prefix)
            .field("lease", &self.backend.lease)
            .field("durability", &self.backend.durability)
            .finish_non_exhaustive()
    }
}

impl RedisStore {
    /// Starts configuring a store on one Redis server at `url`:
    /// `redis://[user:password@]host:port/db`, `rediss://...` for TLS, or
    /// `redis+unix:///path/to/socket`.
    pub fn builder(url: impl Into<String>) -> RedisStoreBuilder {
        RedisStoreBuilder::new(Topology::Node(url.into()))
    }

    /// Starts configuring a store on a Redis Cluster, given the URLs of some
    /// of its nodes (`redis://[user:password@]host:port`; any reachable one
    /// is enough, the client learns the rest from it).
    ///
    /// ```no_run
    /// use authkit_store_redis::RedisStore;
    /// # async fn run() -> Result<(), authkit_core::StoreError> {
    /// let store = RedisStore::cluster_builder([
    ///     "redis://10.0.0.1:6379",
    ///     "redis://10.0.0.2:6379",
    ///     "redis://10.0.0.3:6379",
    /// ])
    /// .connect()
    /// .await?;
    /// # let _ = store; Ok(()) }
    /// ```
    pub fn cluster_builder<I, S>(nodes: I) -> RedisStoreBuilder
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        RedisStoreBuilder::new(Topology::Cluster(
            nodes.into_iter().map(Into::into).collect(),
        ))
    }

    /// How many writes of this store (and its clones) fewer replicas
    /// confirmed than asked, since it connected: a figure to export to
    /// monitoring. Always 0 without [`RedisStoreBuilder::wait_for_replicas`].
    pub fn unconfirmed_writes(&self) -> u64 {
        self.backend.unconfirmed_writes()
    }

    /// The Redis key that holds `key`'s token set: `authkit:{<account>}:tokens`.
    pub fn tokens_key(&self, key: &AccountKey) -> String {
        self.backend.tokens_key(key)
    }

    /// The Redis key that holds `key`'s lease: `authkit:{<account>}:lock`.
    pub fn lock_key(&self, key: &AccountKey) -> String {
        self.backend.lock_key(key)
    }
}

#[async_trait]
impl TokenStore for RedisStore {
    async fn lock(&self, key: &AccountKey) -> Result<Box<dyn StoreLock>, StoreError> {
        Ok(Box::new(
            RedisLock::acquire(self.backend.clone(), key.clone()).await?,
        ))
    }
}

/// Where the store connects.
enum Topology {
    Node(String),
    Cluster(Vec<String>),
}

/// Configures a [`RedisStore`]. Defaults: key prefix [`DEFAULT_PREFIX`], a
/// [`DEFAULT_LEASE`] lease, up to [`DEFAULT_LOCK_WAIT`] waiting for a lock,
/// [`DEFAULT_TIMEOUT`] timeouts, writes retried through a failover for
/// [`DEFAULT_FAILOVER_WAIT`], and no replica confirmation.
pub struct RedisStoreBuilder {
    topology: Topology,
    prefix: String,
    lease: Duration,
    lock_wait: Duration,
    timeout: Duration,
    failover_wait: Duration,
    replicas: u32,
    replica_timeout: Duration,
    on_unconfirmed: Unconfirmed,
}

impl std::fmt::Debug for RedisStoreBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisStoreBuilder")
            .field("cluster", &matches!(self.topology, Topology::Cluster(_)))
            .field("prefix", &self.prefix)
            .field("replicas", &self.replicas)
            .finish_non_exhaustive()
    }
}

impl RedisStoreBuilder {
    fn new(topology: Topology) -> Self {
        Self {
            topology,
            prefix: DEFAULT_PREFIX.into(),
            lease: DEFAULT_LEASE,
            lock_wait: DEFAULT_LOCK_WAIT,
            timeout: DEFAULT_TIMEOUT,
            failover_wait: DEFAULT_FAILOVER_WAIT,
            replicas: 0,
            replica_timeout: Duration::ZERO,
            on_unconfirmed: Unconfirmed::default(),
        }
    }

    /// The prefix of every key this store writes.
    pub fn prefix(mut self, prefix: impl Into<String>) -> Self {
        self.prefix = prefix.into();
        self
    }

    /// How long a lock lasts without renewal: how soon a dead holder's lock
    /// frees. The holder renews every third of it.
    pub fn lease(mut self, lease: Duration) -> Self {
        self.lease = lease.max(Duration::from_millis(30));
        self
    }

    /// How long `lock` waits for another holder before giving up.
    pub fn lock_wait(mut self, wait: Duration) -> Self {
        self.lock_wait = wait;
        self
    }

    /// The timeout for connecting and for each command.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// How long a save or removal under the lease keeps retrying when Redis
    /// is unreachable, restarting or failing over (`CLUSTERDOWN`,
    /// `TRYAGAIN`, a dropped connection), as long as the lease is not known
    /// to be lost. A rotated refresh token is already spent at the server:
    /// retrying its save until a promoted replica answers is what keeps the
    /// fleet from reading the spent one. `Duration::ZERO` tries once.
    pub fn failover_wait(mut self, wait: Duration) -> Self {
        self.failover_wait = wait;
        self
    }

    /// After taking a lease and after every save, removal or setting aside
    /// under it, waits (Redis `WAIT`) until `replicas` replicas of the
    /// primary have the write, up to `timeout`.
    ///
    /// Redis replicates asynchronously: a primary acknowledges a write
    /// before any replica has it, and a primary that fails right then takes
    /// the write with it when its replica is promoted. For a rotated refresh
    /// token that is the worst case: the fleet reads the previous, spent
    /// token and every host fails. With this set, a write counts as done
    /// only when the replicas have it; when they do not confirm in time the
    /// store reports it as [`on_unconfirmed`](Self::on_unconfirmed) says.
    ///
    /// ```no_run
    /// use std::time::Duration;
    /// use authkit_store_redis::{RedisStore, Unconfirmed};
    /// # async fn run() -> Result<(), authkit_core::StoreError> {
    /// let store = RedisStore::cluster_builder(["redis://10.0.0.1:6379"])
    ///     .wait_for_replicas(1, Duration::from_millis(500))
    ///     .on_unconfirmed(Unconfirmed::Fail)
    ///     .connect()
    ///     .await?;
    /// # let _ = store; Ok(()) }
    /// ```
    ///
    /// A count of 0 turns the waiting off.
    pub fn wait_for_replicas(mut self, replicas: u32, timeout: Duration) -> Self {
        self.replicas = replicas;
        self.replica_timeout = timeout.max(Duration::from_millis(1));
        self
    }

    /// What to do when the replicas do not confirm a write in time:
    /// [`Unconfirmed::Warn`] (the default) or [`Unconfirmed::Fail`]. Has an
    /// effect only with [`wait_for_replicas`](Self::wait_for_replicas).
    pub fn on_unconfirmed(mut self, unconfirmed: Unconfirmed) -> Self {
        self.on_unconfirmed = unconfirmed;
        self
    }

    /// Connects (reconnecting by itself later, after a restart or a
    /// failover).
    pub async fn connect(self) -> Result<RedisStore, StoreError> {
        let durability = (self.replicas > 0).then_some(Durability {
            replicas: self.replicas,
            timeout: self.replica_timeout,
            on_unconfirmed: self.on_unconfirmed,
        });
        let (conn, writes) = match &self.topology {
            Topology::Node(url) => {
                let conn = self.node_connection(url).await?;
                let writes = match durability {
                    Some(_) => self.node_connection(url).await?,
                    None => conn.clone(),
                };
                (conn, writes)
            }
            Topology::Cluster(nodes) => {
                let client = ClusterClientBuilder::new(nodes.iter().map(String::as_str))
                    .connection_timeout(self.timeout)
                    .response_timeout(self.timeout)
                    // The client's own retries (MOVED, ASK, a dropped node)
                    // are few and quick: 20 ms to 500 ms. The library's
                    // default starts at 1.28 s, which is most of a failover
                    // again; longer outages are ridden out by the store's
                    // failover wait.
                    .retries(3)
                    .min_retry_wait(20)
                    .max_retry_wait(500)
                    .retry_wait_formula(50, 2)
                    .build()
                    .map_err(|e| invalid_url(&e))?;
                let conn = cluster_connection(&client).await?;
                let writes = match durability {
                    Some(_) => cluster_connection(&client).await?,
                    None => conn.clone(),
                };
                (conn, writes)
            }
        };
        Ok(RedisStore {
            backend: Backend {
                conn,
                writes,
                prefix: self.prefix,
                lease: self.lease,
                lock_wait: self.lock_wait,
                failover_wait: self.failover_wait,
                durability,
                unconfirmed: Arc::new(AtomicU64::new(0)),
                pending_owners: Arc::default(),
                cluster: matches!(self.topology, Topology::Cluster(_)),
            },
        })
    }

    async fn node_connection(&self, url: &str) -> Result<Connection, StoreError> {
        let client = redis::Client::open(url).map_err(|e| invalid_url(&e))?;
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(self.timeout))
            .set_response_timeout(Some(self.timeout))
            .set_number_of_retries(2)
            .set_max_delay(Duration::from_millis(500));
        let conn = ConnectionManager::new_with_config(client, config)
            .await
            .map_err(|e| store_error("connecting", &e))?;
        Ok(Connection::Node(conn))
    }
}

async fn cluster_connection(
    client: &redis::cluster::ClusterClient,
) -> Result<Connection, StoreError> {
    let conn = client
        .get_async_connection()
        .await
        .map_err(|e| store_error("connecting to the cluster", &e))?;
    Ok(Connection::Cluster(conn))
}

/// The URL may hold a password: name only the kind of problem.
fn invalid_url(error: &redis::RedisError) -> StoreError {
    StoreError::unavailable(format!("invalid Redis URL ({})", error.category()))
}

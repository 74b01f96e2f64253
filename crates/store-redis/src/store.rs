//! [`RedisStore`]: token sets and their leases in Redis.

use std::time::Duration;

use async_trait::async_trait;
use authkit_core::{AccountKey, StoreError, StoreLock, TokenStore};
use redis::aio::{ConnectionManager, ConnectionManagerConfig};

use crate::errors::store_error;
use crate::lease::RedisLock;

/// Token sets and a lease lock per account in Redis, shared by every process
/// on every host that connects to it. Cheap to clone.
#[derive(Clone)]
pub struct RedisStore {
    conn: ConnectionManager,
    prefix: String,
    lease: Duration,
    lock_wait: Duration,
}

impl std::fmt::Debug for RedisStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The connection (and its URL, which may hold a password) is not shown.
        f.debug_struct("RedisStore")
            .field("prefix", &self.prefix)
            .field("lease", &self.lease)
            .finish_non_exhaustive()
    }
}

impl RedisStore {
    /// Starts configuring a store at `url`: `redis://[user:password@]host:port/db`,
    /// `rediss://...` for TLS, or `redis+unix:///path/to/socket`.
    pub fn builder(url: impl Into<String>) -> RedisStoreBuilder {
        RedisStoreBuilder {
            url: url.into(),
            prefix: "authkit:".into(),
            lease: Duration::from_secs(30),
            lock_wait: Duration::from_secs(60),
            timeout: Duration::from_secs(5),
        }
    }

    pub(crate) fn connection(&self) -> ConnectionManager {
        self.conn.clone()
    }

    pub(crate) fn lease(&self) -> Duration {
        self.lease
    }

    pub(crate) fn lock_wait(&self) -> Duration {
        self.lock_wait
    }

    /// The Redis key that holds `key`'s token set.
    pub fn tokens_key(&self, key: &AccountKey) -> String {
        format!("{}tokens:{}", self.prefix, key)
    }

    /// The Redis key that holds `key`'s lease.
    pub fn lock_key(&self, key: &AccountKey) -> String {
        format!("{}lock:{}", self.prefix, key)
    }

    /// The Redis key unreadable data of `key` is moved to, stamped `at`
    /// (Unix seconds).
    pub(crate) fn aside_key(&self, key: &AccountKey, at: i64) -> String {
        format!("{}corrupt:{}:{at}", self.prefix, key)
    }
}

#[async_trait]
impl TokenStore for RedisStore {
    async fn lock(&self, key: &AccountKey) -> Result<Box<dyn StoreLock>, StoreError> {
        Ok(Box::new(
            RedisLock::acquire(self.clone(), key.clone()).await?,
        ))
    }
}

/// Configures a [`RedisStore`]. Defaults: key prefix `authkit:`, a 30 s
/// lease, up to 60 s waiting for a lock, 5 s timeouts.
pub struct RedisStoreBuilder {
    url: String,
    prefix: String,
    lease: Duration,
    lock_wait: Duration,
    timeout: Duration,
}

impl std::fmt::Debug for RedisStoreBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisStoreBuilder")
            .field("prefix", &self.prefix)
            .finish_non_exhaustive()
    }
}

impl RedisStoreBuilder {
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

    /// Connects (reconnecting by itself later, after a restart).
    pub async fn connect(self) -> Result<RedisStore, StoreError> {
        let client = redis::Client::open(self.url.as_str()).map_err(|e| {
            // The URL may hold a password: name only the kind of problem.
            StoreError::unavailable(format!("invalid Redis URL ({})", e.category()))
        })?;
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(self.timeout))
            .set_response_timeout(Some(self.timeout))
            .set_number_of_retries(2)
            .set_max_delay(Duration::from_millis(500));
        let conn = ConnectionManager::new_with_config(client, config)
            .await
            .map_err(|e| store_error("connecting", &e))?;
        Ok(RedisStore {
            conn,
            prefix: self.prefix,
            lease: self.lease,
            lock_wait: self.lock_wait,
        })
    }
}

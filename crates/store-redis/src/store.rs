//! [`RedisStore`]: token sets and their leases in Redis.

use std::time::Duration;

use async_trait::async_trait;
use authkit_core::{AccountKey, StoreError, StoreLock, TokenSet, TokenStore};
use redis::AsyncCommands;
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use time::OffsetDateTime;

use crate::errors::store_error;
use crate::lease::RedisLock;

/// Token sets kept this much longer than the refresh token lives, so that a
/// set is never dropped while its refresh token could still be used.
const TTL_MARGIN: Duration = Duration::from_secs(3600);

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

    /// The TTL for a token set, in milliseconds (0: none): no shorter than
    /// its refresh token's remaining life, or its access token's when it has
    /// no refresh token; none when the refresh token's expiry is unknown.
    pub(crate) fn ttl_millis(&self, tokens: &TokenSet) -> u64 {
        let until = match (tokens.refresh_token(), tokens.refresh_expires_at()) {
            (Some(_), None) => return 0,
            (Some(_), Some(at)) => at,
            (None, _) => tokens.expires_at(),
        };
        let remaining = (until - OffsetDateTime::now_utc()).max(time::Duration::ZERO);
        let remaining = Duration::try_from(remaining).unwrap_or_default() + TTL_MARGIN;
        u64::try_from(remaining.as_millis()).unwrap_or(u64::MAX)
    }
}

#[async_trait]
impl TokenStore for RedisStore {
    async fn load(&self, key: &AccountKey) -> Result<Option<TokenSet>, StoreError> {
        let mut conn = self.connection();
        let bytes: Option<Vec<u8>> = conn
            .get(self.tokens_key(key))
            .await
            .map_err(|e| store_error("loading", &e))?;
        let Some(bytes) = bytes else { return Ok(None) };
        match TokenSet::from_store_bytes(&bytes) {
            Ok(tokens) => Ok(Some(tokens)),
            Err(format) => {
                // Set aside under another key, never deleted.
                let stamp = OffsetDateTime::now_utc().unix_timestamp();
                let aside = format!("{}corrupt:{}:{stamp}", self.prefix, key);
                let _: () = conn
                    .rename(self.tokens_key(key), &aside)
                    .await
                    .map_err(|e| store_error("setting aside unreadable data", &e))?;
                tracing::warn!(account = %key, moved_to = %aside, reason = %format, "unreadable token data set aside");
                Err(StoreError::Corrupt {
                    key: key.clone(),
                    moved_to: aside,
                    reason: format.to_string(),
                })
            }
        }
    }

    async fn save(&self, key: &AccountKey, tokens: &TokenSet) -> Result<(), StoreError> {
        let mut conn = self.connection();
        let bytes = tokens.to_store_bytes();
        let ttl = self.ttl_millis(tokens);
        let result: Result<(), _> = if ttl > 0 {
            conn.pset_ex(self.tokens_key(key), bytes, ttl).await
        } else {
            conn.set(self.tokens_key(key), bytes).await
        };
        result.map_err(|e| store_error("saving", &e))
    }

    async fn remove(&self, key: &AccountKey) -> Result<(), StoreError> {
        let mut conn = self.connection();
        let _: i64 = conn
            .del(self.tokens_key(key))
            .await
            .map_err(|e| store_error("removing", &e))?;
        Ok(())
    }

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
            StoreError::Unavailable(format!("invalid Redis URL ({})", e.category()))
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

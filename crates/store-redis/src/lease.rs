//! The lock: a lease in Redis, renewed while held, fenced on save.
//!
//! `SET lock owner NX PX lease` takes it, with a random owner value. A task
//! renews it every third of the lease while the holder lives; a holder that
//! dies stops renewing, and the lease lapses, freeing the account for the
//! others. Because a lease can also lapse while its holder still works (a
//! long pause, a partition), the holder's save is fenced: a script writes the
//! tokens only if the lock still holds this owner, and reports
//! [`StoreError::LockLost`] otherwise, so a late writer can never overwrite
//! the newer tokens of whoever holds the lease now.
//!
//! Two more guarantees matter on a replicated Redis (a primary with
//! replicas, or a cluster):
//!
//! - **Writes survive a failover.** A save, removal or setting aside that
//!   fails because Redis is unreachable or between primaries is sent again
//!   (it is idempotent and fenced) until the store's failover wait runs out
//!   or the lease is known lost. The rotated refresh token it carries is
//!   already spent at the server; giving up early would leave the fleet
//!   with the spent one.
//! - **Writes are confirmed by replicas** when the store asks for it
//!   (`WAIT`): the lease itself, before its holder acts on it (a lease lost
//!   in a failover would let a second holder spend the same refresh token),
//!   and every write under it.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use authkit_core::deps::secrecy::SecretSlice;
use authkit_core::{AccountKey, StoreError, StoreLock, StoreRecord};
use redis::AsyncCommands;

use crate::connection::Connection;
use crate::errors::{is_transient, store_error};
use crate::scripts::{FENCED_REMOVE, FENCED_SAVE, FENCED_SET_ASIDE, RELEASE, RENEW};
use crate::store::{RedisStore, Unconfirmed};

/// A held lease on one account of a [`RedisStore`]; released on drop.
pub struct RedisLock {
    store: RedisStore,
    key: AccountKey,
    owner: String,
    lost: Arc<AtomicBool>,
    renewal: Option<tokio::task::JoinHandle<()>>,
    released: bool,
}

impl std::fmt::Debug for RedisLock {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisLock")
            .field("key", &self.key)
            .field("lost", &self.lost.load(Ordering::Relaxed))
            .finish_non_exhaustive()
    }
}

impl RedisLock {
    /// Waits for the lease, polling with jittered backoff, up to the store's
    /// lock wait.
    pub(crate) async fn acquire(store: RedisStore, key: AccountKey) -> Result<Self, StoreError> {
        let owner = random_owner();
        let lock_key = store.lock_key(&key);
        let lease_ms = millis(store.lease());
        let deadline = tokio::time::Instant::now() + store.lock_wait();
        let mut pause = Duration::from_millis(10);
        loop {
            let mut conn = store.write_connection();
            let taken: Option<String> = redis::cmd("SET")
                .arg(&lock_key)
                .arg(&owner)
                .arg("NX")
                .arg("PX")
                .arg(lease_ms)
                .query_async(&mut conn)
                .await
                .map_err(|e| store_error("taking the lock", &e))?;
            if taken.is_some() {
                break;
            }
            if tokio::time::Instant::now() >= deadline {
                return Err(StoreError::unavailable(format!(
                    "the lock on {key} stayed held by another holder for {} s",
                    store.lock_wait().as_secs()
                )));
            }
            let jitter = Duration::from_millis(u64::from(random_u8()) % 10);
            tokio::time::sleep(pause + jitter).await;
            pause = (pause * 2).min(Duration::from_millis(200));
        }
        let lost = Arc::new(AtomicBool::new(false));
        if let Err(unconfirmed) = confirm(&store, &key, &lock_key).await {
            // Not acted on: give the lease back.
            let mut conn = store.connection();
            let _: Result<i64, _> = RELEASE
                .key(&lock_key)
                .arg(&owner)
                .invoke_async(&mut conn)
                .await;
            return Err(unconfirmed);
        }
        let renewal = tokio::spawn(renew(
            store.connection(),
            lock_key,
            owner.clone(),
            store.lease(),
            Arc::clone(&lost),
            key.clone(),
        ));
        Ok(Self {
            store,
            key,
            owner,
            lost,
            renewal: Some(renewal),
            released: false,
        })
    }

    /// Whether the renewal found the lease gone (another holder may have it).
    pub fn is_lost(&self) -> bool {
        self.lost.load(Ordering::SeqCst)
    }
}

/// Renews the lease every third of its length until it is lost or the task is aborted.
async fn renew(
    mut conn: Connection,
    lock_key: String,
    owner: String,
    lease: Duration,
    lost: Arc<AtomicBool>,
    key: AccountKey,
) {
    loop {
        tokio::time::sleep(lease / 3).await;
        let renewed: Result<i64, _> = RENEW
            .key(&lock_key)
            .arg(&owner)
            .arg(millis(lease))
            .invoke_async(&mut conn)
            .await;
        match renewed {
            Ok(1) => {}
            Ok(_) => {
                tracing::warn!(account = %key, "the Redis lease lapsed; saves under it will be refused");
                lost.store(true, Ordering::SeqCst);
                return;
            }
            // A failed renewal is retried; if Redis stays away the lease
            // lapses there and the fenced save says so.
            Err(error) => {
                tracing::warn!(account = %key, error = %store_error("renewing the lease", &error), "lease renewal failed")
            }
        }
    }
}

impl RedisLock {
    /// Turns a fenced script's answer into a result: 1 done, anything else
    /// the lease is gone and nothing was written.
    fn fenced(&mut self, written: i64) -> Result<(), StoreError> {
        if written == 1 {
            Ok(())
        } else {
            self.lost.store(true, Ordering::SeqCst);
            Err(StoreError::LockLost {
                key: self.key.clone(),
            })
        }
    }

    /// Runs one fenced write, sending it again while Redis is unreachable
    /// or failing over, for up to the store's failover wait and only while
    /// the lease is not known lost. Backs off from 50 ms to 250 ms: a
    /// promoted replica is used within a quarter second of taking over.
    async fn write<F, Fut>(&self, operation: &str, attempt: F) -> Result<i64, StoreError>
    where
        F: Fn(Connection) -> Fut,
        Fut: std::future::Future<Output = redis::RedisResult<i64>>,
    {
        let deadline = tokio::time::Instant::now() + self.store.failover_wait();
        let mut pause = Duration::from_millis(50);
        let mut attempts = 0u32;
        loop {
            attempts += 1;
            match attempt(self.store.write_connection()).await {
                Ok(written) => {
                    if attempts > 1 {
                        tracing::info!(account = %self.key, attempts, "Redis write went through after a failure");
                    }
                    return Ok(written);
                }
                Err(error)
                    if is_transient(&error)
                        && !self.is_lost()
                        && tokio::time::Instant::now() + pause < deadline =>
                {
                    tracing::warn!(
                        account = %self.key,
                        error = %store_error(operation, &error),
                        "Redis write failed; sending it again"
                    );
                    tokio::time::sleep(pause).await;
                    pause = (pause * 2).min(Duration::from_millis(250));
                }
                Err(error) => return Err(store_error(operation, &error)),
            }
        }
    }
}

/// Asks the replicas of the primary holding `redis_key` to confirm this
/// store's writes, when the store is configured to; reports a shortfall as
/// the store is configured to (a warning, or [`StoreError::NotReplicated`]).
async fn confirm(store: &RedisStore, key: &AccountKey, redis_key: &str) -> Result<(), StoreError> {
    let Some(durability) = store.durability() else {
        return Ok(());
    };
    let mut conn = store.write_connection();
    let confirmed = conn
        .wait_for_replicas(redis_key, durability.replicas, durability.timeout)
        .await
        // A primary that cannot be asked confirms nothing.
        .unwrap_or(0);
    if confirmed >= durability.replicas {
        return Ok(());
    }
    store.count_unconfirmed();
    let shortfall = StoreError::NotReplicated {
        key: key.clone(),
        wanted: durability.replicas,
        confirmed,
        timeout_ms: u64::try_from(durability.timeout.as_millis()).unwrap_or(u64::MAX),
    };
    match durability.on_unconfirmed {
        Unconfirmed::Fail => Err(shortfall),
        _ => {
            tracing::warn!(account = %key, error = %shortfall, "Redis replicas did not confirm a write");
            Ok(())
        }
    }
}

#[async_trait]
impl StoreLock for RedisLock {
    fn key(&self) -> &AccountKey {
        &self.key
    }

    async fn load(&mut self) -> Result<Option<SecretSlice<u8>>, StoreError> {
        let mut conn = self.store.connection();
        let bytes: Option<Vec<u8>> = conn
            .get(self.store.tokens_key(&self.key))
            .await
            .map_err(|e| store_error("loading", &e))?;
        Ok(bytes.map(SecretSlice::from))
    }

    async fn save(&mut self, record: StoreRecord<'_>) -> Result<(), StoreError> {
        let ttl_ms = record.keep_for.map_or(0, |keep| {
            u64::try_from(keep.as_millis()).unwrap_or(u64::MAX).max(1)
        });
        let lock_key = self.store.lock_key(&self.key);
        let tokens_key = self.store.tokens_key(&self.key);
        let owner = self.owner.clone();
        let written = self
            .write("saving under the lock", |mut conn| {
                let (lock_key, tokens_key, owner) = (&lock_key, &tokens_key, &owner);
                async move {
                    FENCED_SAVE
                        .key(lock_key)
                        .key(tokens_key)
                        .arg(owner)
                        .arg(record.bytes)
                        .arg(ttl_ms)
                        .invoke_async(&mut conn)
                        .await
                }
            })
            .await?;
        self.fenced(written)?;
        confirm(&self.store, &self.key, &tokens_key).await
    }

    async fn remove(&mut self) -> Result<(), StoreError> {
        let lock_key = self.store.lock_key(&self.key);
        let tokens_key = self.store.tokens_key(&self.key);
        let owner = self.owner.clone();
        let written = self
            .write("removing under the lock", |mut conn| {
                let (lock_key, tokens_key, owner) = (&lock_key, &tokens_key, &owner);
                async move {
                    FENCED_REMOVE
                        .key(lock_key)
                        .key(tokens_key)
                        .arg(owner)
                        .invoke_async(&mut conn)
                        .await
                }
            })
            .await?;
        self.fenced(written)?;
        confirm(&self.store, &self.key, &tokens_key).await
    }

    async fn set_aside(&mut self) -> Result<String, StoreError> {
        let aside = self
            .store
            .aside_key(&self.key, time::OffsetDateTime::now_utc().unix_timestamp());
        let lock_key = self.store.lock_key(&self.key);
        let tokens_key = self.store.tokens_key(&self.key);
        let owner = self.owner.clone();
        let written = self
            .write("setting aside unreadable data", |mut conn| {
                let (lock_key, tokens_key, aside, owner) = (&lock_key, &tokens_key, &aside, &owner);
                async move {
                    FENCED_SET_ASIDE
                        .key(lock_key)
                        .key(tokens_key)
                        .key(aside)
                        .arg(owner)
                        .invoke_async(&mut conn)
                        .await
                }
            })
            .await?;
        self.fenced(written)?;
        confirm(&self.store, &self.key, &tokens_key).await?;
        Ok(aside)
    }

    async fn release(mut self: Box<Self>) -> Result<(), StoreError> {
        if let Some(renewal) = self.renewal.take() {
            renewal.abort();
        }
        self.released = true;
        let mut conn = self.store.connection();
        let _: i64 = RELEASE
            .key(self.store.lock_key(&self.key))
            .arg(&self.owner)
            .invoke_async(&mut conn)
            .await
            .map_err(|e| store_error("releasing the lock", &e))?;
        Ok(())
    }
}

impl Drop for RedisLock {
    fn drop(&mut self) {
        if let Some(renewal) = self.renewal.take() {
            renewal.abort();
        }
        if self.released {
            return;
        }
        // Best effort: release in the background; if that fails the lease lapses.
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            let mut conn = self.store.connection();
            let lock_key = self.store.lock_key(&self.key);
            let owner = self.owner.clone();
            runtime.spawn(async move {
                let _: Result<i64, _> = RELEASE
                    .key(lock_key)
                    .arg(owner)
                    .invoke_async(&mut conn)
                    .await;
            });
        }
    }
}

fn millis(duration: Duration) -> u64 {
    u64::try_from(duration.as_millis())
        .unwrap_or(u64::MAX)
        .max(1)
}

fn random_owner() -> String {
    let mut bytes = [0u8; 16];
    // Uniqueness across holders is what matters; fall back to time if the OS fails.
    if getrandom::fill(&mut bytes).is_err() {
        let nanos = time::OffsetDateTime::now_utc().unix_timestamp_nanos();
        bytes.copy_from_slice(&nanos.to_le_bytes());
    }
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn random_u8() -> u8 {
    let mut byte = [0u8; 1];
    let _ = getrandom::fill(&mut byte);
    byte[0]
}

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
use authkit_core::store::{StoreLock, StoreRecord};
use authkit_core::{AccountKey, StoreError};
use redis::AsyncCommands;

use crate::backend::Backend;
use crate::connection::Connection;
use crate::durability::Unconfirmed;
use crate::errors::{is_transient, store_error};
use crate::scripts::{ACQUIRE, FENCED_REMOVE, FENCED_SAVE, FENCED_SET_ASIDE, RELEASE, RENEW};

/// A held lease on one account of a [`RedisStore`](crate::RedisStore);
/// released on drop.
pub struct RedisLock {
    store: Backend,
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
    pub(crate) async fn acquire(store: Backend, key: AccountKey) -> Result<Self, StoreError> {
        // An owner value whose attempt failed in flight is used again: if
        // that attempt did take the lease, this one adopts it instead of
        // waiting for it to lapse.
        let owner = store.take_pending_owner(&key).unwrap_or_else(random_owner);
        let lock_key = store.lock_key(&key);
        let lease_ms = millis(store.lease());
        let deadline = tokio::time::Instant::now() + store.lock_wait();
        let mut pause = Duration::from_millis(10);
        loop {
            let mut conn = store.write_connection();
            let taken: i64 = match ACQUIRE
                .key(&lock_key)
                .arg(&owner)
                .arg(lease_ms)
                .invoke_async(&mut conn)
                .await
            {
                Ok(taken) => taken,
                Err(error) => {
                    if is_transient(&error) {
                        store.remember_pending_owner(&key, owner);
                    }
                    return Err(store_error("taking the lock", &error));
                }
            };
            if taken == 1 {
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
        let mut lock = Self {
            store,
            key,
            owner,
            lost: Arc::new(AtomicBool::new(false)),
            renewal: None,
            released: false,
        };
        if let Err(unconfirmed) =
            confirm(&lock.store, &lock.key, &lock_key, Confirming::Lease).await
        {
            // Not acted on: give the lease back (through a failover, if one
            // is why it was not confirmed) rather than make the fleet wait
            // for it to lapse.
            lock.released = true;
            if let Err(error) = lock.give_back().await {
                tracing::warn!(account = %lock.key, error = %error, "an unconfirmed lease could not be given back; it lapses by itself");
            }
            return Err(unconfirmed);
        }
        lock.renewal = Some(tokio::spawn(renew(
            lock.store.connection(),
            lock_key,
            lock.owner.clone(),
            lock.store.lease(),
            Arc::clone(&lock.lost),
            lock.key.clone(),
        )));
        Ok(lock)
    }

    /// Deletes the lease if this holder still owns it, retrying through a
    /// failover like a write: a lease that is not given back keeps every
    /// other holder waiting until it lapses.
    async fn give_back(&self) -> Result<(), StoreError> {
        let lock_key = self.store.lock_key(&self.key);
        let owner = self.owner.clone();
        self.write("releasing the lock", |mut conn| {
            let (lock_key, owner) = (&lock_key, &owner);
            async move {
                RELEASE
                    .key(lock_key)
                    .arg(owner)
                    .invoke_async(&mut conn)
                    .await
            }
        })
        .await?;
        Ok(())
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

/// What a confirmation is for: the lease before its holder acts on it, or a
/// write already made under it.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Confirming {
    Lease,
    Write,
}

/// Asks the replicas of the primary holding `redis_key` to confirm this
/// store's writes, when the store is configured to; reports a shortfall as
/// the store is configured to (a warning, or [`StoreError::NotReplicated`]).
///
/// A primary that cannot be asked at all (it went away after the write) is
/// a different case for a lease: whether the lease survives the failover is
/// unknown, so it is not acted on, whatever the configuration
/// (`Unavailable`, retryable). A write already made is reported as
/// unconfirmed, as configured.
async fn confirm(
    store: &Backend,
    key: &AccountKey,
    redis_key: &str,
    what: Confirming,
) -> Result<(), StoreError> {
    let Some(durability) = store.durability() else {
        return Ok(());
    };
    let mut conn = store.write_connection();
    let confirmed = match conn
        .wait_for_replicas(redis_key, durability.replicas, durability.timeout)
        .await
    {
        Ok(confirmed) => confirmed,
        Err(error) if what == Confirming::Lease => {
            store.count_unconfirmed();
            return Err(store_error(
                "confirming the lease with the replicas",
                &error,
            ));
        }
        Err(_) => 0,
    };
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
        confirm(&self.store, &self.key, &tokens_key, Confirming::Write).await
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
        confirm(&self.store, &self.key, &tokens_key, Confirming::Write).await
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
        confirm(&self.store, &self.key, &tokens_key, Confirming::Write).await?;
        Ok(aside)
    }

    async fn release(mut self: Box<Self>) -> Result<(), StoreError> {
        if let Some(renewal) = self.renewal.take() {
            renewal.abort();
        }
        self.released = true;
        self.give_back().await
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
        // Released in the background, through a failover if need be (a lease
        // left behind keeps every other holder waiting until it lapses);
        // if even that fails, the lease lapses.
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            let giving_back = RedisLock {
                store: self.store.clone(),
                key: self.key.clone(),
                owner: self.owner.clone(),
                lost: Arc::new(AtomicBool::new(false)),
                renewal: None,
                released: true,
            };
            runtime.spawn(async move {
                let _ = giving_back.give_back().await;
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

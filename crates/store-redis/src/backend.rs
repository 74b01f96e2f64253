//! What a [`RedisStore`](crate::RedisStore) and its leases share: one
//! value, below both, so the lease never reaches back into the store.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use authkit_core::AccountKey;

use crate::connection::Connection;
use crate::durability::Durability;

/// What a store and the leases it hands out share: the connections, the
/// lease settings, the replica confirmation asked of writes, and the names
/// of an account's keys. Cheap to clone.
#[derive(Clone)]
pub(crate) struct Backend {
    /// Loads, lease renewals and releases.
    pub(crate) conn: Connection,
    /// Writes that are followed by `WAIT`. `WAIT` blocks its connection until
    /// the replicas answer, so these go on a connection of their own when
    /// replicas are awaited; otherwise it is the same connection.
    pub(crate) writes: Connection,
    pub(crate) prefix: String,
    pub(crate) lease: Duration,
    pub(crate) lock_wait: Duration,
    pub(crate) failover_wait: Duration,
    pub(crate) durability: Option<Durability>,
    pub(crate) unconfirmed: Arc<AtomicU64>,
    /// Owner values of lease attempts that failed in flight, per account, to
    /// be used again by the next attempt (see `RedisLock::acquire`).
    pub(crate) pending_owners: Arc<Mutex<HashMap<AccountKey, String>>>,
    pub(crate) cluster: bool,
}

impl Backend {
    /// The connection for loads, renewals and releases.
    pub(crate) fn connection(&self) -> Connection {
        self.conn.clone()
    }

    /// The connection for writes that are followed by `WAIT`.
    pub(crate) fn write_connection(&self) -> Connection {
        self.writes.clone()
    }

    /// How long a lease lasts without renewal.
    pub(crate) fn lease(&self) -> Duration {
        self.lease
    }

    /// How long taking a lease waits for another holder.
    pub(crate) fn lock_wait(&self) -> Duration {
        self.lock_wait
    }

    /// How long a write under the lease is retried through a failover.
    pub(crate) fn failover_wait(&self) -> Duration {
        self.failover_wait
    }

    /// The replica confirmation asked of writes, if any.
    pub(crate) fn durability(&self) -> Option<Durability> {
        self.durability
    }

    /// The owner value of a lease attempt on `key` that failed in flight,
    /// if any; taken, so one attempt reuses it.
    pub(crate) fn take_pending_owner(&self, key: &AccountKey) -> Option<String> {
        self.pending_owners
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(key)
    }

    /// Remembers the owner value of a lease attempt on `key` whose answer
    /// was lost: it may have taken the lease.
    pub(crate) fn remember_pending_owner(&self, key: &AccountKey, owner: String) {
        self.pending_owners
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(key.clone(), owner);
    }

    /// Counts one write the replicas did not confirm.
    pub(crate) fn count_unconfirmed(&self) {
        self.unconfirmed.fetch_add(1, Ordering::Relaxed);
    }

    /// How many writes fewer replicas confirmed than asked.
    pub(crate) fn unconfirmed_writes(&self) -> u64 {
        self.unconfirmed.load(Ordering::Relaxed)
    }

    /// The part every key of `key` shares: the prefix and the account in a
    /// hash tag, `authkit:{demo:alice}`. Redis Cluster places keys by the
    /// text between the first `{` and the next `}`, so an account's set, its
    /// lease and anything set aside live in one slot, and the fenced scripts,
    /// which touch several of them at once, run in cluster mode too.
    fn account_part(&self, key: &AccountKey) -> String {
        format!("{}{{{}}}", self.prefix, key)
    }

    /// The Redis key that holds `key`'s token set: `authkit:{<account>}:tokens`.
    pub(crate) fn tokens_key(&self, key: &AccountKey) -> String {
        format!("{}:tokens", self.account_part(key))
    }

    /// The Redis key that holds `key`'s lease: `authkit:{<account>}:lock`.
    pub(crate) fn lock_key(&self, key: &AccountKey) -> String {
        format!("{}:lock", self.account_part(key))
    }

    /// The Redis key unreadable data of `key` is moved to, stamped `at`
    /// (Unix seconds).
    pub(crate) fn aside_key(&self, key: &AccountKey, at: i64) -> String {
        format!("{}:corrupt:{at}", self.account_part(key))
    }
}

//! authkit's Redis store: one account's tokens shared by a fleet of hosts.
//!
//! When a service runs on many hosts that call one provider account, a file
//! cannot be shared, and each host refreshing on its own spends the others'
//! single-use refresh tokens. [`RedisStore`] keeps the token set and its lock
//! in Redis, so the `TokenManager` of every process on every host cooperates:
//! one takes the lease, reloads (someone else may have refreshed), refreshes,
//! and saves before releasing.
//!
//! - **A lease, not a lock.** `SET lock owner NX PX lease`, renewed every
//!   third of the lease while held, released by a script that checks the
//!   owner; a holder that dies frees the account when its lease lapses.
//! - **Fenced saves.** A lease can lapse while its holder still works, so a
//!   save under the lock is a script that writes only while this holder owns
//!   it, and otherwise returns `StoreError::LockLost` (see
//!   `authkit_core::store::StoreLock`).
//! - **TTL.** Token sets expire in Redis no sooner than their refresh token
//!   (plus an hour); sets whose refresh token has no known expiry do not expire.
//! - **Classified failures.** Connection failures, timeouts and a restarting
//!   server are `StoreError::Unavailable` (retryable); the manager keeps
//!   serving a still-valid token from memory meanwhile.
//! - **One server or a cluster.** [`RedisStore::builder`] for one server,
//!   [`RedisStore::cluster_builder`] for a Redis Cluster. An account's keys
//!   share a hash tag (`authkit:{demo:alice}:tokens`, `...:lock`), so they
//!   live in one slot and the fenced scripts run in cluster mode; the client
//!   follows `MOVED`/`ASK` and a failover, and a write under the lease is
//!   retried through one ([`RedisStoreBuilder::failover_wait`]).
//! - **Durable rotation.** Redis replicates asynchronously; with
//!   [`RedisStoreBuilder::wait_for_replicas`] every lease and every write
//!   under it waits for replicas (`WAIT`), and a shortfall is reported
//!   ([`Unconfirmed`]) rather than pretended.
//! - **TLS and authentication** through the URL (`rediss://user:pass@host`);
//!   the URL is never printed.
//!
//! ```no_run
//! use authkit_store_redis::RedisStore;
//! # async fn run() -> Result<(), authkit_core::StoreError> {
//! let store = RedisStore::builder("redis://127.0.0.1:6379/0").connect().await?;
//! # let _ = store; Ok(()) }
//! ```

#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod backend;
mod connection;
mod durability;
mod errors;
mod lease;
mod scripts;
mod store;

pub use durability::Unconfirmed;
pub use lease::RedisLock;
pub use store::{
    DEFAULT_FAILOVER_WAIT, DEFAULT_LEASE, DEFAULT_LOCK_WAIT, DEFAULT_PREFIX, DEFAULT_TIMEOUT,
    RedisStore, RedisStoreBuilder,
};

#[doc(no_inline)]
pub use authkit_core::TokenStore;

//! Many accounts in one process: [`AccountPool`].
//!
//! A service that holds a token per customer (an integration platform, a
//! CRM, a telephony back end) has thousands of accounts at the same
//! provider. Building a [`crate::TokenManager`] for each by hand works, but
//! costs each its own everything, and nothing stops ten thousand tokens
//! issued in the same minute from being refreshed in the same second.
//!
//! The pool holds one manager per account key and shares what they can
//! share: one store, one clock, one refresh policy, one bound on concurrent
//! token requests, and whatever the providers share among themselves (give
//! every account's provider a clone of one [`crate::TokenEndpoint`] and
//! they share its HTTP client and its connections). Managers are created on
//! first use, from a provider added under the key or from a factory given
//! the key; an idle one can be evicted from memory, and comes back from the
//! store on its next use without anyone noticing.
//!
//! What the pool promises:
//!
//! - **Each account keeps its guarantees.** A pooled account is a
//!   [`crate::TokenManager`]: one refresh at a time, a rotated refresh token
//!   saved before it is served, failures remembered per account.
//! - **No refresh storm.** Each token set refreshes at a jittered instant
//!   inside its early-refresh window (see [`crate::manager::RefreshPolicy`];
//!   a pool spreads over [`DEFAULT_REFRESH_SPREAD`] by default),
//!   and at most [`DEFAULT_MAX_CONCURRENT_REQUESTS`] flights talk to servers
//!   at once ([`AccountPoolBuilder::max_concurrent_requests`]); the others
//!   wait their turn before taking their store lock, so no lease lapses in
//!   the queue, while every account's current token is still served.
//! - **One failing account does not slow the others.** A flight holds one
//!   permit at most, and an account that fails remembers its failure, so it
//!   does not queue again for every caller.
//! - **Bounded metrics.** Pooled managers label their metrics with the
//!   provider's name (or the pool's [`AccountPoolBuilder::metrics_label`]),
//!   never with an account key or a per-account client's fingerprint, and
//!   record no per-account expiry gauge: ten thousand series would break a
//!   Prometheus server. [`AccountPool::expires_at`] and
//!   [`AccountPool::expiring_before`] answer per-account expiry instead.
//! - **Small.** An idle account with a cached token costs well under 2 KB
//!   of heap (its entry, its manager and its token set; see
//!   `docs/performance.md`): a pooled manager keeps one copy of its access
//!   token, where a lone manager keeps one per core.
//!
//! The hot path, [`AccountPool::access_token`] with a fresh token, hashes
//! the key and finds the account in a per-thread memo of the accounts the
//! thread served last, checked against its shard's count of writes (one
//! atomic load); it then takes the manager's own hot path. It writes
//! nothing shared and allocates nothing. An account the thread has not
//! served lately is read from one shard of the table under a read lock.

pub(crate) mod account_pool;
pub(crate) mod builder;
pub(crate) mod memo;
pub(crate) mod table;

pub use account_pool::AccountPool;
pub use builder::{
    AccountPoolBuilder, DEFAULT_MAX_CONCURRENT_REQUESTS, DEFAULT_REFRESH_SPREAD, DEFAULT_SHARDS,
    ProviderFactory,
};

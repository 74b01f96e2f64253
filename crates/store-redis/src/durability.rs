//! Replica confirmation of writes: what is asked, and what a shortfall does.

use std::time::Duration;

/// What a store does when fewer replicas confirm a write than it asked for
/// (see [`RedisStoreBuilder::wait_for_replicas`](crate::RedisStoreBuilder::wait_for_replicas)).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum Unconfirmed {
    /// Log a warning (target `authkit_store_redis`, level WARN, naming the
    /// account and the counts), count it in
    /// [`RedisStore::unconfirmed_writes`](crate::RedisStore::unconfirmed_writes), and carry on: the write is on the
    /// primary and the fleet keeps working, with the risk stated. The default.
    #[default]
    Warn,
    /// Fail the operation with [`StoreError::NotReplicated`](authkit_core::StoreError::NotReplicated): a lease is
    /// given back and not used; a save's data stays on the primary, but the
    /// manager reports the rotation as unsaved.
    Fail,
}

/// Replica confirmation asked of every write that matters: taking the lease
/// and every save, removal and setting aside under it.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Durability {
    /// How many replicas must have the write.
    pub(crate) replicas: u32,
    /// How long to wait for them.
    pub(crate) timeout: Duration,
    /// What a shortfall does.
    pub(crate) on_unconfirmed: Unconfirmed,
}

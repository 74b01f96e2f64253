//! Stores: where token sets live between calls, processes and hosts.
//!
//! A store is two things, and nothing more: bytes per account key, and an
//! exclusive hold on a key ([`TokenStore::lock`]). Every operation on an
//! account (load, save, remove, setting unreadable data aside) goes through
//! the hold, a [`StoreLock`], so a networked store whose hold is a lease can
//! fence every write alike: a save or a removal made after the lease was lost
//! is refused ([`crate::StoreError::LockLost`]), never written over the newer
//! tokens of whoever holds the lease now.
//!
//! Encoding, format versions and setting unreadable data aside are the
//! core's, written once in [`HeldAccount`]: a backend never sees a
//! [`TokenSet`](crate::TokenSet), only bytes, and a new backend (a database, a secret
//! manager, an encrypting wrapper) implements the two traits below.

pub(crate) mod held;
pub(crate) mod memory;
pub(crate) mod sealed;
pub(crate) mod token_store;
pub use held::{HeldAccount, KEEP_MARGIN};
pub use memory::MemoryStore;
pub use sealed::{SealedStore, SealingKey};

pub use token_store::{StoreLock, StoreRecord, TokenStore};

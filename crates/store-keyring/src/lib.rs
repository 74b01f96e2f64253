//! authkit's token store in the operating system's credential store: the
//! Secret Service (GNOME Keyring, KWallet) on Linux and the BSDs, the
//! Keychain on macOS, the Credential Manager on Windows, through the
//! `keyring` crate.
//!
//! People who run a command on their own machine expect their tokens where
//! the platform keeps secrets, as gh, gcloud and az keep theirs: encrypted
//! with the person's login, locked with the session, out of reach of
//! anything that reads files. [`KeyringStore`] keeps each account's token
//! set as one secret under a service name (`authkit` by default), named by
//! the account key.
//!
//! - **One holder at a time.** Credential stores have no locks, so the
//!   store contract's exclusive hold is a file lock in a state directory,
//!   as the file store's: two processes never refresh one account at once,
//!   and a holder that dies frees it. Writes are fenced against a lock file
//!   that was replaced.
//! - **Size limits.** Windows caps a secret at 2,560 bytes; a larger set is
//!   kept in parts behind a manifest, replaced whole (see
//!   [`DEFAULT_MAX_ENTRY_BYTES`]). A set that would take more than 64 parts
//!   is refused, and the stored one kept.
//! - **Nothing lost.** Bytes the core cannot read as a token set are set
//!   aside under `<key> [set aside <time>]`, never deleted.
//! - **Clear failures.** No credential store (a headless SSH session has no
//!   D-Bus session, so no Secret Service), a locked one whose unlock
//!   prompt cannot be shown or was dismissed: each is
//!   [`StoreError::Unavailable`](authkit_core::StoreError::Unavailable)
//!   naming the fix, and no secret is in any message.
//!
//! ```no_run
//! use authkit_core::TokenManager;
//! use authkit_store_keyring::KeyringStore;
//! # fn run(provider: authkit_core::GenericProvider) -> Result<(), authkit_core::StoreError> {
//! let store = KeyringStore::open_default()?;
//! let manager = TokenManager::new(provider, store);
//! # let _ = manager; Ok(()) }
//! ```

#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod backend;
mod entries;
mod errors;
mod lock;
mod store;

pub use lock::KeyringLock;
pub use store::{DEFAULT_MAX_ENTRY_BYTES, DEFAULT_SERVICE, KeyringStore};

#[doc(no_inline)]
pub use authkit_core::TokenStore;

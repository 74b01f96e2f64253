//! authkit: OAuth 2 access tokens for API clients, kept valid.
//!
//! This is the facade: one dependency line gives the core (traits, token
//! model, token endpoint, manager, memory store), and features named after
//! them add the provider adapters and stores as they land. See the
//! [`authkit_core`] documentation for the parts, and `docs/` in the
//! repository for the architecture.

#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub use authkit_core::*;

/// The Voipex adapter (feature `voipex`).
#[cfg(feature = "voipex")]
pub use authkit_voipex as voipex;

/// The Vonage Business Communications adapter (feature `vonage`).
#[cfg(feature = "vonage")]
pub use authkit_vonage as vonage;

/// The file store (feature `store-file`).
#[cfg(feature = "store-file")]
pub use authkit_store_file as store_file;

/// The Redis store (feature `store-redis`).
#[cfg(feature = "store-redis")]
pub use authkit_store_redis as store_redis;

/// The OS credential store (feature `store-keyring`).
#[cfg(feature = "store-keyring")]
pub use authkit_store_keyring as store_keyring;

/// The HTTP layer: tokens on requests, a 401 handled once (feature `http`).
#[cfg(feature = "http")]
pub use authkit_http as http;

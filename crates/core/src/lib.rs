//! The core of authkit: OAuth 2 access tokens for API clients, kept valid.
//!
//! The root holds what a user of the manager needs; everything else lives in
//! a module named for its role, and each module's page says when you need it.
//!
//! - [`TokenManager`] hands out access tokens, refreshing once for any
//!   number of callers and never losing a rotated refresh token.
//! - [`TokenProvider`] is one account at one provider; [`GenericProvider`]
//!   serves any standard OAuth 2 server, over a [`TokenEndpoint`] (the one
//!   place token requests are made) with a [`ClientAuth`] and a
//!   [`GrantType`] (the core's grants are in [`grant`]).
//! - [`AccountPool`] holds a manager per account for a service with
//!   thousands of them (one per customer), sharing a store and a bound on
//!   token requests.
//! - [`TokenStore`] is where token sets live between calls and processes;
//!   [`MemoryStore`] lives in memory, and [`store`] has the rest of the
//!   contract (the hold, records, sealing).
//! - [`TokenSet`] is what a grant hands back; [`Error`] says what went wrong,
//!   grouped by what a caller does next.
//!
//! | module | when you need it |
//! | --- | --- |
//! | [`grant`] | choosing how an account gets tokens, or writing a grant |
//! | [`client_auth`] | authenticating the client: Basic, body, JWT assertions |
//! | [`endpoint`] | tuning the token endpoint: timeouts, limits, retries |
//! | [`transport`] | bringing your own HTTP stack, or the same TLS for your API calls |
//! | [`provider`] | writing an adapter for a provider's quirks |
//! | [`manager`] | the manager's knobs, and tokens per resource |
//! | [`pool`] | thousands of accounts in one process |
//! | [`store`] | writing a store, or sealing one |
//! | [`token`] | reading a token set's binding, scopes and lifetimes |
//! | [`error`] | matching on an error's finer kinds |
//! | [`secret`] | every secret and identifier newtype |
//! | [`sign_in`] | a person's browser sign-in |
//! | [`device`] | the device authorization grant (RFC 8628) |
//! | [`discovery`] | building endpoints from an issuer's metadata |
//! | [`dpop`] | sender-constrained tokens (RFC 9449) |
//! | [`revocation`], [`introspection`] | signing out, asking what a token is |
//! | [`clock`] | a manual clock for tests |
//! | [`telemetry`] | the metric names and labels |
//!
//! Secrets ([`AccessToken`], [`RefreshToken`], [`Password`], ...) are
//! `secrecy` types: their `Debug` is redacted, and no error or log line
//! contains them.
//!
//! ```no_run
//! use authkit_core::grant::PasswordGrant;
//! use authkit_core::{ClientAuth, GenericProvider, MemoryStore, Password, TokenEndpoint, TokenManager};
//!
//! # async fn run() -> Result<(), authkit_core::Error> {
//! let endpoint = TokenEndpoint::builder("https://auth.example.com/token")
//!     .client_auth(ClientAuth::public("api"))
//!     .build()?;
//! let provider = GenericProvider::new("example:alice", endpoint)
//!     .with_grant(PasswordGrant::new("alice", Password::new("correct horse")));
//! let manager = TokenManager::new(provider, MemoryStore::new());
//! let token = manager.access_token().await?;
//! # let _ = token;
//! # Ok(())
//! # }
//! ```

#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod client_auth;
pub mod clock;
pub mod device;
pub mod discovery;
pub mod dpop;
pub mod endpoint;
pub mod error;
pub mod grant;
pub mod introspection;
pub mod manager;
pub mod pool;
pub mod provider;
pub mod revocation;
pub mod secret;
pub mod sign_in;
pub mod store;
pub mod telemetry;
pub mod token;
pub mod transport;

// What a user of the manager needs; the rest is in the modules above.
pub use client_auth::ClientAuth;
pub use endpoint::TokenEndpoint;
pub use error::{
    AccountState, ConfigError, Error, ErrorCode, ProtocolError, Refusal, StoreError, TransientError,
};
pub use grant::GrantType;
pub use manager::{TokenManager, TokenManagerBuilder};
pub use pool::AccountPool;
pub use provider::{GenericProvider, TokenProvider};
pub use secret::{
    AccessToken, AccountKey, ClientId, ClientSecret, ExposeSecret, Password, RefreshToken, Username,
};
pub use store::{MemoryStore, TokenStore};
pub use token::TokenSet;

/// The crates this one builds on, re-exported so adapters and stores use the
/// same versions.
pub mod deps {
    pub use async_trait::async_trait;
    pub use reqwest;
    pub use secrecy;
    pub use serde_json;
    pub use time;
}

/// Hooks for fuzzing and property tests: the parsers of what servers and
/// stores send (token responses, device authorization, pushed authorization
/// and introspection responses, sealed values) on their own. Not part of the stable interface.
#[doc(hidden)]
pub mod __private {
    pub use crate::device::read_authorization;
    pub use crate::endpoint::response::{ParseContext, ResponseParts, interpret};
    pub use crate::introspection::read_introspection;
    pub use crate::sign_in::pushed::read_pushed;
    pub use crate::store::sealed::open_sealed;
}

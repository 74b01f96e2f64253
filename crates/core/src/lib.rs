//! The core of authkit: OAuth 2 access tokens for API clients, kept valid.
//!
//! This crate defines what every provider, grant and store must do, and the
//! machinery they share:
//!
//! - [`GrantType`]: one way of asking a token endpoint for tokens; the core
//!   ships [`PasswordGrant`], [`AuthorizationCodeGrant`] (with PKCE),
//!   [`RefreshTokenGrant`] and [`ClientCredentialsGrant`].
//! - [`TokenProvider`]: one account at one provider, which can authenticate
//!   and refresh; [`GenericProvider`] serves any standard OAuth 2 server.
//! - [`TokenStore`]: where token sets live between calls and processes, with
//!   an exclusive [`StoreLock`] per account; [`MemoryStore`] lives in memory.
//! - [`TokenEndpoint`]: the one place token requests are made, with the wire
//!   rules (TLS, redirects, limits, retries, tolerant parsing) written once.
//! - [`TokenManager`]: hands out access tokens, refreshing once for any
//!   number of callers and never losing a rotated refresh token.
//!
//! Secrets ([`AccessToken`], [`RefreshToken`], [`Password`], ...) are
//! `secrecy` types: their `Debug` is redacted, and no error or log line
//! contains them.
//!
//! ```no_run
//! use authkit_core::{
//!     ClientAuth, GenericProvider, MemoryStore, Password, PasswordGrant, TokenEndpoint,
//!     TokenManager,
//! };
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
pub mod endpoint;
pub mod error;
pub mod excerpt;
pub mod grant;
pub mod manager;
pub mod provider;
pub mod secret;
pub mod store;
pub mod token;

pub use client_auth::{BasicEncoding, ClientAuth};
pub use clock::{Clock, ManualClock, SystemClock};
pub use endpoint::{EndpointSettings, RetryPolicy, TokenEndpoint, TokenEndpointBuilder};
pub use error::{Error, NetworkError, NetworkErrorKind, OAuthRefusal, StoreError};
pub use grant::{
    AuthorizationCodeGrant, ClientCredentialsGrant, FormParam, FormValue, GrantType, PasswordGrant,
    PkceChallenge, PkceVerifier, RefreshTokenGrant, State,
};
pub use manager::{RefreshPolicy, TokenManager, TokenManagerBuilder};
pub use provider::{GenericProvider, TokenProvider};
pub use secret::{
    AccessToken, AccountKey, AuthorizationCode, ClientId, ClientSecret, ExposeSecret, IdToken,
    Password, RefreshToken, Username,
};
pub use store::{MemoryStore, StoreLock, TokenStore};
pub use token::{TokenSet, TokenType};

/// The crates this one builds on, re-exported so adapters and stores use the
/// same versions.
pub mod deps {
    pub use async_trait::async_trait;
    pub use secrecy;
    pub use time;
}

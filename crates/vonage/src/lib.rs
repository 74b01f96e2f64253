//! authkit adapter for **Vonage Business Communications**.
//!
//! Vonage's token endpoint is an API manager (it behaves like WSO2) at
//! `https://api.vonage.com/token`, with the authorization endpoint at
//! `/authorize`. A [`Vonage`] application (consumer key and secret) makes two
//! kinds of account, each a `TokenProvider`:
//!
//! - [`VonagePasswordAccount`]: the password grant, for server-to-server use.
//!   The user name gets `@vbc.prod` appended unless it ends so; the consumer
//!   key and secret go in the body with `scope=openid`, and the `id_token`
//!   that comes back is kept.
//! - [`VonageCodeAccount`]: the authorization code grant, with `state` and
//!   PKCE, through the browser; [`LoopbackReceiver`] catches the redirect on
//!   127.0.0.1. The code exchange authenticates with HTTP Basic over the raw
//!   `key:secret`, as the page documents.
//!
//! Both refresh with `grant_type=refresh_token`, `client_id`, `client_secret`
//! and `refresh_token`. **Refresh tokens are single-use**: each refresh
//! returns a new one and the old one dies, so the `TokenManager` saves the
//! new set before anyone uses its access token. A spent or expired refresh
//! token means signing in again: with the password for password accounts, by
//! a person for code accounts.
//!
//! Access tokens last 24 hours and refresh tokens 7 days; these are assumed
//! when a response omits them.
//!
//! # Processes that share an account must share a store
//!
//! The API manager answers a repeated password sign-in for the same user with
//! the *same* token set (with a shorter `expires_in`, counted from the first
//! sign-in). Two processes that sign in as one user therefore hold the same
//! refresh token; the first to refresh spends it, and the second's refresh is
//! refused. Give them one store (`authkit-store-file` on one host): its lock
//! makes the second process find the first one's new tokens instead of
//! refreshing again.
//!
//! ```no_run
//! use authkit_core::{ClientSecret, MemoryStore, Password, TokenManager};
//! use authkit_vonage::Vonage;
//!
//! # async fn run() -> Result<(), authkit_core::Error> {
//! let vonage = Vonage::builder("consumer-key", ClientSecret::new("consumer-secret")).build()?;
//! let account = vonage.password_account("alice", Password::new("correct horse"));
//! let manager = TokenManager::new(account, MemoryStore::new());
//! let token = manager.access_token().await?;
//! # let _ = token; Ok(()) }
//! ```

#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod code;
mod config;
mod password;
mod refusal;

/// The authorization request, the loopback receiver and what it brings
/// back, from the core (RFC 6749 §4.1, RFC 8252):
/// kept here so code written against this crate keeps building.
pub use authkit_core::sign_in::{AuthorizationRequest, Callback, LoopbackReceiver};
pub use code::VonageCodeAccount;
pub use config::{
    ACCESS_TOKEN_LIFETIME, AUTHORIZE_PATH, DEFAULT_BASE_URL, REFRESH_TOKEN_LIFETIME, TOKEN_PATH,
    Vonage, VonageBuilder,
};
pub use password::{USERNAME_SUFFIX, VonagePasswordAccount, vbc_username};
pub use refusal::VonageRefusal;

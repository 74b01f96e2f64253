//! authkit adapter for **Voipex**, whose authorization server is Keycloak.
//!
//! Voipex's getting-started page signs in with the OAuth 2 password grant
//! against `https://auth.voipex.io/token`, as the public client `api`, and
//! answers in Keycloak's shape (`refresh_expires_in`, `session_state`,
//! `not-before-policy`). [`Voipex`] is a [`TokenProvider`] that does exactly
//! that, refreshes with the refresh token while it lives, and classifies
//! Keycloak's refusals ([`VoipexRefusal`]).
//!
//! ```no_run
//! use authkit_core::{MemoryStore, Password, TokenManager};
//! use authkit_voipex::Voipex;
//!
//! # async fn run() -> Result<(), authkit_core::Error> {
//! let voipex = Voipex::builder("alice@example.com", Password::new("correct horse")).build()?;
//! let manager = TokenManager::new(voipex, MemoryStore::new());
//! let token = manager.access_token().await?; // send as `Authorization: Bearer ...`
//! # let _ = token; Ok(()) }
//! ```
//!
//! # The password grant is legacy
//!
//! RFC 9700 (OAuth 2.0 Security Best Current Practice, §2.4) says the
//! resource owner password credentials grant must not be used: the client
//! handles the user's password, it cannot carry multi-factor sign-in, and it
//! teaches users to type passwords into programs. It is still the right tool
//! where the provider offers nothing else for unattended use, as Voipex's
//! page does, and the program runs on behalf of one account whose owner runs
//! it (a script, a service with its own account). Then: keep the password
//! out of the command line and the environment of other processes, let the
//! manager refresh with the refresh token so that the password is sent as
//! rarely as possible, and prefer a dedicated service account.
//!
//! The password lives in a [`Password`](authkit_core::Password) (a `secrecy` type) for the life of the
//! provider, because Keycloak's refresh tokens die (session idle and max
//! lifetimes, server restarts) and the provider must then sign in again
//! without asking anyone.
//!
//! # Refusals and lockout
//!
//! Keycloak says `invalid_grant` for a wrong password with status 401 in
//! older releases and 400 in newer ones; classification goes by the code and
//! the description, never the status. Its brute-force protection locks an
//! account after repeated failures and then answers exactly as for a wrong
//! password, so a wrong password must not be retried: the manager remembers
//! the refusal and backs off (1 s, doubling to 60 s) instead.

#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod provider;
mod refusal;

pub use provider::{DEFAULT_BASE_URL, DEFAULT_CLIENT_ID, TOKEN_PATH, Voipex, VoipexBuilder};
pub use refusal::VoipexRefusal;

#[doc(no_inline)]
pub use authkit_core::TokenProvider;

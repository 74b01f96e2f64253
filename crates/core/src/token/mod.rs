//! The token model: what a token endpoint hands back, kept whole.
//!
//! A [`TokenSet`] holds the access token and everything that came with it:
//! its type, when it was issued and when it expires (absolute instants,
//! counted from when the request was sent, so a slow response never makes a
//! token look younger than it is), the refresh token and its own expiry, the
//! id token, the granted scopes, and every other field of the response
//! (Keycloak's `session_state` and `not-before-policy`, say) so that nothing a
//! provider sent is lost on the way to a store.
//!
//! A `TokenSet` is not `Serialize`: a secret is written only when a store
//! serializes on purpose, through [`TokenSet::to_store_bytes`].

pub(crate) mod binding;
pub(crate) mod store_format;
pub(crate) mod token_set;

pub use binding::{Binding, Scopes};
pub use store_format::STORE_FORMAT_VERSION;
pub use token_set::{MAX_LIFETIME, TokenSet, TokenType};

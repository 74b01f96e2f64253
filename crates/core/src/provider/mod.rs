//! Providers: one account at one authorization server.
//!
//! A [`TokenProvider`] knows how to get a token set from nothing
//! ([`TokenProvider::authenticate`]) and how to renew one
//! ([`TokenProvider::refresh`]), and says where its tokens come from
//! ([`TokenProvider::binding`]). It knows nothing of caching, locking or
//! storing: the [`crate::TokenManager`] does that, the same way for every
//! provider. An adapter crate is a provider plus its server's quirks; the
//! [`GenericProvider`] serves any standard OAuth 2 server with none.

pub(crate) mod adapter;
pub(crate) mod generic;
pub(crate) mod token_provider;
pub use adapter::Adapter;
pub use generic::GenericProvider;

pub use token_provider::TokenProvider;

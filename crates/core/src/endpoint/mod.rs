//! The token endpoint client: one place where token requests are made.
//!
//! Every grant, provider and adapter goes through [`TokenEndpoint`], so the
//! wire rules are written once: a form POST with every value form-encoded;
//! the client authentication chosen explicitly; TLS always verified and
//! plain `http://` refused except for loopback; redirects followed only
//! within the same origin (a token request's body holds credentials); response
//! bodies capped; a timeout on every attempt; retries bounded and never for a
//! refusal. Lifetimes count from when the request was sent, on the clock of
//! the [`RequestContext`] the caller (usually the manager) passes in.
//!
//! Every token set the endpoint returns is stamped with its
//! [`Binding`](crate::token::Binding): this endpoint's URL, the client id, the
//! requested resources and the granted scopes.

pub(crate) mod builder;
pub(crate) mod response;
pub(crate) mod retry;
pub(crate) mod token_endpoint;

pub use builder::{
    DEFAULT_CONNECT_TIMEOUT, DEFAULT_MAX_RESPONSE_BYTES, DEFAULT_TIMEOUT, DEFAULT_TOKEN_LIFETIME,
    EndpointSettings, TokenEndpointBuilder,
};
pub use retry::RetryPolicy;
pub use token_endpoint::{RequestContext, TokenEndpoint};

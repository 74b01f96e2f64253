//! A person's browser sign-in (RFC 6749 §4.1 with PKCE, RFC 8252): the
//! authorization request and the loopback receiver that catches its answer.
//!
//! You need this module when an account signs in through a browser: build
//! an [`AuthorizationRequest`] (state, PKCE S256, and the DPoP key
//! thumbprint when tokens are DPoP-bound), send the person to its URL,
//! catch the redirect with a [`LoopbackReceiver`] on 127.0.0.1, and let the
//! request check the [`Callback`] and exchange the code. Where the server
//! asks for it, the request is pushed to it first
//! ([`PushedAuthorization`], RFC 9126). A resource that
//! asks for a stronger sign-in or more scopes says so in a [`StepUp`],
//! which the next request can carry. Unattended grants
//! (password, client credentials, assertions) never touch it.

pub(crate) mod authorization_request;
pub(crate) mod loopback;
pub(crate) mod pushed;
pub(crate) mod step_up;

pub use authorization_request::{AuthorizationRequest, AuthorizationRequestBuilder};
pub use loopback::{Callback, LoopbackReceiver};
pub use pushed::{PushedAuthorization, PushedRequest};
pub use step_up::{AUTH_TIME_LEEWAY, StepUp};

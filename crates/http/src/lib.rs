//! authkit's HTTP layer: an access token on every request, a 401 handled once.
//!
//! Every API client written on authkit needs the same dozen lines: get a
//! token before the request, put it in the `Authorization` header, and when
//! the API answers 401 (the token was revoked, or the clocks disagree)
//! invalidate it and try once more. This crate is those lines, written once
//! and tested:
//!
//! - [`AuthMiddleware`] for `reqwest_middleware`;
//! - [`AuthLayer`] / [`AuthService`] for tower, so hyper, tonic (the
//!   `authorization` metadata is the same header) and any tower client get it.
//!
//! ```no_run
//! # async fn run(manager: authkit_core::TokenManager) -> Result<(), Box<dyn std::error::Error>> {
//! let api = reqwest_middleware::ClientBuilder::new(authkit_core::transport::http_client_builder()?.build()?)
//!     .with(authkit_http::AuthMiddleware::new(manager))
//!     .build();
//! let response = api.get("https://api.example.com/me").send().await?;
//! # let _ = response; Ok(()) }
//! ```
//!
//! # The rules
//!
//! - **A refusal is handled once.** On a 401, a challenge with
//!   `error="invalid_token"` or a gRPC `UNAUTHENTICATED`, the token that was
//!   sent, and only that one, is invalidated
//!   (`TokenManager::invalidate_token`), so a hundred requests refused with
//!   the same token cause one refresh; the request is replayed once with the
//!   fresh token. A second refusal goes back to the caller: never a loop.
//! - **Only replayable requests are replayed.** A body in memory is sent
//!   again; a streaming body is not (see [`ReplayBody`]), and its 401 goes
//!   back as it is.
//! - **A missing scope or a weak sign-in is not a bad token.** A challenge
//!   with `error="insufficient_scope"` or
//!   `error="insufficient_user_authentication"` (RFC 9470, step-up) is
//!   returned at once: a new token of the same grant would be refused the
//!   same way.
//! - **The caller sees why.** A refusal that goes back carries the parsed
//!   [`BearerChallenge`] (`error`, `error_description`, `scope`,
//!   `acr_values`, `max_age`) in the response's extensions; for the two
//!   above also a typed [`StepUp`](authkit_core::sign_in::StepUp) saying
//!   what the resource asks of the next sign-in, which
//!   `AuthorizationRequestBuilder::step_up` puts on a browser sign-in.
//! - **Per request**: [`UseManager`] names another account's manager,
//!   [`WithoutToken`] sends the request bare.
//! - **Secrets**: the header value is marked sensitive; the token is in no
//!   `Debug`, error or log line of this crate, whose events name the account.

#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod body;
mod challenge;
mod choice;
mod credentials;
mod decision;
mod layer;
mod middleware;

pub use body::ReplayBody;
pub use challenge::{BearerChallenge, BearerError};
pub use choice::{UseManager, WithoutToken};
pub use layer::{AuthLayer, AuthService, BoxError};
pub use middleware::AuthMiddleware;

//! The behaviours every provider must have, run against a [`MockAuthServer`](crate::MockAuthServer).
//!
//! An adapter's test says how to configure the mock server so that it looks
//! like the adapter's provider (paths, client kind, response style, custom
//! grants, error shape) and how to build the adapter's provider pointed at
//! it, then calls [`Conformance::run`]. The same suite serves every shape of
//! provider, unchanged: it first finds the provider's shape from what
//! actually happens (does the server issue refresh tokens, and does a
//! refresh rotate them? does a person sign in? which credentials does the
//! provider read from its [`ProviderContext`]?), then runs each behaviour
//! against a fresh server. A behaviour that does not apply to the shape is
//! [`Verdict::Skipped`] with the reason, never passed by accident; the
//! report names every behaviour that broke and why.
//!
//! ```no_run
//! # use std::sync::Arc;
//! # use authkit_core::*;
//! # use authkit_core::grant::PasswordGrant;
//! use authkit_testkit::{MockAuthServer, MockClient, conformance::Conformance};
//!
//! # async fn run() {
//! Conformance::new(
//!     "generic",
//!     || MockAuthServer::builder().user("alice", "pw").client(MockClient::public("api")),
//!     |ctx| {
//!         let endpoint = TokenEndpoint::builder(ctx.server.token_url())
//!             .client_auth(ClientAuth::public(ctx.client_id()))
//!             .build()?;
//!         Ok(Arc::new(GenericProvider::new(format!("generic:{}", ctx.username()), endpoint)
//!             .with_grant(PasswordGrant::new(ctx.username(), Password::new(ctx.password())))))
//!     },
//! )
//! .run()
//! .await
//! .assert_passed();
//! # }
//! ```

mod behaviours;
mod context;
mod report;
mod run;
mod shape;
mod suite;

pub use behaviours::names as behaviour;
pub use context::{Credential, ProviderContext, SignInContext, SignInFuture};
pub use report::{ConformanceReport, Verdict};
pub use shape::{RefreshTokens, Shape};
pub use suite::{Conformance, SUITE_CLIENT_SECRET};

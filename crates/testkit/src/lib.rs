//! authkit's test kit: an in-process mock OAuth 2 authorization server and
//! the conformance suite every provider adapter runs.
//!
//! - [`MockAuthServer`] serves a real token endpoint and authorization
//!   endpoint on 127.0.0.1, with users, clients, rotating refresh tokens,
//!   reuse detection, response styles and injected faults. The quickstart and
//!   the end-to-end tests run against it, offline.
//! - [`conformance`] runs the behaviours every provider must have against a
//!   provider pointed at a `MockAuthServer`, and says which one broke.
//! - [`capture`] records `tracing` output so tests can prove no secret is logged.

#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod capture;
pub mod conformance;
mod server;

pub use server::{
    ClientAuthUsed, ClientKind, Fault, LoggedRequest, MockAuthServer, MockAuthServerBuilder,
    MockClient, Outcome, RefreshPolicy, RequestLog, ResponseStyle,
};

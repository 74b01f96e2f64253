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
//! - [`support`] holds the helpers every crate's tests share, and
//!   [`ScriptedTransport`] answers token requests from a script, without HTTP.
//! - [`WireCheck`] asserts exactly what a provider sent to the mock server
//!   ([`MockAuthServer::token_requests`]): its form, headers and Basic
//!   encoding.
//! - [`FakeIssuer`] issues tokens to any number of [`FakeAccount`]s without
//!   a network, and counts the requests in flight, for tests of many accounts.
//! - [`secret_service`] starts GNOME Keyring in a private D-Bus session,
//!   for tests of the OS credential store.
//! - [`mtls`] generates certificates and runs a TLS server that requires a
//!   client certificate, for mutual TLS (RFC 8705).

#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod capture;
pub mod conformance;
mod fake_issuer;
pub mod mtls;
pub mod oidc_provider;
mod scripted;
pub mod secret_service;
mod server;
pub mod support;
mod wire;

pub use fake_issuer::{FAKE_TOKEN_URL, FakeAccount, FakeIssuer};
pub use scripted::{Scripted, ScriptedTransport, SentForm};
pub use wire::{BasicFound, TELLING_CHARACTERS, WireCheck, WireRequest};

pub use server::{
    ClientAuthUsed, ClientKind, ErrorShape, Fault, GrantAnswer, GrantHandler, GrantRequest,
    LoggedRequest, MockAuthServer, MockAuthServerBuilder, MockClient, Outcome, RefreshPolicy,
    RequestLog, ResponseStyle,
};

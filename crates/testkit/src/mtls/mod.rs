//! Mutual TLS (RFC 8705) without a real server's set-up: certificates
//! generated for the test run ([`TestPki`]) and a server on 127.0.0.1 that
//! requires a client certificate in every handshake ([`MtlsServer`]), with a
//! token endpoint that authenticates clients by their certificate and binds
//! its tokens to it, and a resource that takes a bound token only from the
//! same certificate.
//!
//! The network is the point here (the handshake, the certificate the
//! client presents, the roots it trusts), so it is a real TLS server, not a
//! scripted transport; what it does after the handshake is the least an
//! authorization server must do.

mod pki;
mod server;

pub use pki::{IssuedCertificate, TestPki};
pub use server::{MtlsServer, SeenRequest};

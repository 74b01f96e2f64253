//! A client's TLS identity (RFC 8705): the certificate it presents in the
//! handshake and the private key that proves it holds it.
//!
//! With mutual TLS the certificate does two jobs. At the token endpoint it
//! authenticates the client (`tls_client_auth`, `self_signed_tls_client_auth`),
//! so no secret travels in a request; and a server that binds tokens to it
//! (`tls_client_certificate_bound_access_tokens`) records its SHA-256
//! thumbprint in the token (`cnf.x5t#S256`, RFC 8705 §3.1), so a resource
//! server takes the token only over a connection that presents the same
//! certificate. The same identity therefore goes on the token endpoint's
//! client and on the client that calls the API
//! ([`crate::transport::http_client_builder_with`]).

use std::fmt;
use std::sync::Arc;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use sha2::{Digest, Sha256};

use crate::error::Error;

/// A TLS client certificate chain (the client's own first) and its private
/// key. Cheap to clone; `Debug` shows the certificate's thumbprint only,
/// never the key.
#[derive(Clone)]
pub struct ClientIdentity {
    inner: Arc<Inner>,
}

struct Inner {
    chain: Vec<CertificateDer<'static>>,
    key: PrivateKeyDer<'static>,
    thumbprint: String,
}

impl fmt::Debug for ClientIdentity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientIdentity")
            .field("x5t#S256", &self.inner.thumbprint)
            .field("chain", &self.inner.chain.len())
            .finish_non_exhaustive()
    }
}

impl ClientIdentity {
    /// Reads the certificates (PEM, the client's own first, then any
    /// intermediates) and the private key (PEM: PKCS#8, PKCS#1 or SEC1).
    /// Refused with a configuration error when either is missing or they
    /// do not belong together; the error never quotes the key.
    pub fn from_pem(certificates: &[u8], private_key: &[u8]) -> Result<Self, Error> {
        let chain = CertificateDer::pem_slice_iter(certificates)
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| Error::config(format!("the client certificate is not PEM: {e}")))?;
        let Some(leaf) = chain.first() else {
            return Err(Error::config(
                "the client certificate file holds no certificate (BEGIN CERTIFICATE)",
            ));
        };
        let key = PrivateKeyDer::from_pem_slice(private_key).map_err(|_| {
            Error::config(
                "the client certificate's private key is not a PEM private key (PKCS#8, PKCS#1 or SEC1)",
            )
        })?;
        let thumbprint = URL_SAFE_NO_PAD.encode(Sha256::digest(leaf.as_ref()));
        let identity = Self {
            inner: Arc::new(Inner {
                chain,
                key,
                thumbprint,
            }),
        };
        identity.check()?;
        Ok(identity)
    }

    /// The SHA-256 thumbprint of the client's certificate, base64url: what
    /// a server binding tokens to it puts in `cnf.x5t#S256` (RFC 8705 §3.1).
    pub fn certificate_thumbprint(&self) -> &str {
        &self.inner.thumbprint
    }

    /// Asks the TLS stack whether it can present this identity (the key is
    /// the certificate's, of a kind it signs with), so a mismatch is an
    /// error when the identity is read, not at the first request.
    fn check(&self) -> Result<(), Error> {
        let (chain, key) = self.parts();
        rustls::ClientConfig::builder_with_provider(Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .and_then(|builder| {
            builder
                .with_root_certificates(rustls::RootCertStore::empty())
                .with_client_auth_cert(chain, key)
        })
        .map(|_| ())
        .map_err(|e| {
            Error::config(format!(
                "the client certificate and its private key cannot be used together: {e}"
            ))
        })
    }

    /// The chain and a copy of the key, for a TLS configuration.
    pub(crate) fn parts(&self) -> (Vec<CertificateDer<'static>>, PrivateKeyDer<'static>) {
        (self.inner.chain.clone(), self.inner.key.clone_key())
    }
}

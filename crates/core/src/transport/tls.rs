//! The HTTP client's TLS: rustls with the ring provider and the platform's
//! certificate verifier, configured per client rather than process-wide,
//! with what a deployment adds: a client certificate for mutual TLS (RFC
//! 8705) and the roots of a private CA its servers' certificates chain to.

use std::sync::Arc;

use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::PemObject;

use crate::error::Error;
use crate::transport::identity::ClientIdentity;

/// What authkit's HTTP client adds to its TLS defaults. The default adds
/// nothing: the platform's roots, no client certificate.
///
/// ```no_run
/// use authkit_core::endpoint::EndpointSettings;
/// use authkit_core::transport::{ClientIdentity, TlsSettings};
///
/// # fn run() -> Result<(), authkit_core::Error> {
/// let tls = TlsSettings::new()
///     .client_identity(ClientIdentity::from_pem(
///         &std::fs::read("client.crt").expect("the certificate"),
///         &std::fs::read("client.key").expect("its key"),
///     )?)
///     .trust_root_pem(&std::fs::read("corporate-ca.pem").expect("the CA"))?;
/// let settings = EndpointSettings::new().tls(tls);
/// # let _ = settings;
/// # Ok(()) }
/// ```
#[derive(Clone, Debug, Default)]
pub struct TlsSettings {
    identity: Option<ClientIdentity>,
    extra_roots: Vec<CertificateDer<'static>>,
}

impl TlsSettings {
    /// The defaults: the platform's roots and no client certificate.
    pub fn new() -> Self {
        Self::default()
    }

    /// Presents `identity` whenever a server asks for a client
    /// certificate: mutual TLS (RFC 8705).
    pub fn client_identity(mut self, identity: ClientIdentity) -> Self {
        self.identity = Some(identity);
        self
    }

    /// Trusts, besides the platform's roots, the CA certificates in `pem`
    /// (a private CA that the servers' certificates chain to). Refused
    /// when `pem` holds no certificate.
    pub fn trust_root_pem(mut self, pem: &[u8]) -> Result<Self, Error> {
        let roots = CertificateDer::pem_slice_iter(pem)
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| Error::config(format!("the trusted root is not PEM: {e}")))?;
        if roots.is_empty() {
            return Err(Error::config(
                "the trusted root file holds no certificate (BEGIN CERTIFICATE)",
            ));
        }
        self.extra_roots.extend(roots);
        Ok(self)
    }

    /// The client certificate presented, if any.
    pub fn identity(&self) -> Option<&ClientIdentity> {
        self.identity.as_ref()
    }
}

/// A `reqwest::ClientBuilder` with authkit's TLS: rustls with the ring
/// crypto provider and the platform's certificate verifier. authkit builds
/// reqwest without a crypto provider of its own (so the workspace links one,
/// ring, which the Redis client uses too) and configures it here rather than
/// through a process-wide default that the program may own; a program that
/// makes its API calls with reqwest starts its client from this builder (or
/// enables reqwest's `rustls` feature).
///
/// ```
/// let api = authkit_core::transport::http_client_builder()?
///     .timeout(std::time::Duration::from_secs(30))
///     .build()?;
/// # let _ = api;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn http_client_builder() -> Result<reqwest::ClientBuilder, rustls::Error> {
    Ok(reqwest::Client::builder().tls_backend_preconfigured(tls_config(&TlsSettings::new())?))
}

/// As [`http_client_builder`], with `tls` added: the client for API calls
/// with a certificate-bound token (RFC 8705 §3), which must present the
/// same certificate the token was issued to.
///
/// ```no_run
/// use authkit_core::transport::{ClientIdentity, TlsSettings, http_client_builder_with};
///
/// # fn run(identity: ClientIdentity) -> Result<(), Box<dyn std::error::Error>> {
/// let api = http_client_builder_with(&TlsSettings::new().client_identity(identity))?.build()?;
/// # let _ = api;
/// # Ok(()) }
/// ```
pub fn http_client_builder_with(tls: &TlsSettings) -> Result<reqwest::ClientBuilder, Error> {
    let config = tls_config(tls)
        .map_err(|e| Error::config(format!("cannot set up TLS for the HTTP client: {e}")))?;
    Ok(reqwest::Client::builder().tls_backend_preconfigured(config))
}

fn tls_config(tls: &TlsSettings) -> Result<rustls::ClientConfig, rustls::Error> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let verifier = rustls_platform_verifier::Verifier::new_with_extra_roots(
        tls.extra_roots.iter().cloned(),
        Arc::clone(&provider),
    )?;
    let builder = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(verifier));
    let mut config = match &tls.identity {
        Some(identity) => {
            let (chain, key) = identity.parts();
            builder.with_client_auth_cert(chain, key)?
        }
        None => builder.with_no_client_auth(),
    };
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(config)
}

//! Certificates made for one test run: a CA, the server's certificate for
//! 127.0.0.1, and client certificates signed by the CA or by themselves.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, DnType, IsCa, KeyPair, KeyUsagePurpose,
    SanType,
};
use sha2::{Digest, Sha256};

/// A certificate and its private key, in PEM, as a client or server would
/// load them from files.
#[derive(Clone)]
pub struct IssuedCertificate {
    /// The certificate (PEM).
    pub certificate_pem: String,
    /// Its private key (PEM, PKCS#8).
    pub private_key_pem: String,
    /// The SHA-256 thumbprint of the certificate, base64url (`x5t#S256`,
    /// RFC 8705 §3.1).
    pub thumbprint: String,
    pub(crate) der: Vec<u8>,
}

impl std::fmt::Debug for IssuedCertificate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IssuedCertificate")
            .field("thumbprint", &self.thumbprint)
            .finish_non_exhaustive()
    }
}

/// A certificate authority for one test run (ECDSA P-256), with the
/// server certificate it issued for `127.0.0.1`.
pub struct TestPki {
    ca: CertifiedIssuer<'static, KeyPair>,
    server: IssuedCertificate,
}

impl std::fmt::Debug for TestPki {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TestPki").finish_non_exhaustive()
    }
}

impl Default for TestPki {
    fn default() -> Self {
        Self::new()
    }
}

impl TestPki {
    /// A fresh CA and a server certificate for `127.0.0.1` and `localhost`.
    pub fn new() -> Self {
        let mut params = CertificateParams::new(Vec::<String>::new()).expect("CA parameters");
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params
            .distinguished_name
            .push(DnType::CommonName, "authkit test CA");
        params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        let ca = CertifiedIssuer::self_signed(params, KeyPair::generate().expect("a CA key"))
            .expect("the CA certificate");
        let mut server = CertificateParams::new(vec!["localhost".to_owned()]).expect("parameters");
        server
            .subject_alt_names
            .push(SanType::IpAddress(std::net::Ipv4Addr::LOCALHOST.into()));
        server
            .distinguished_name
            .push(DnType::CommonName, "127.0.0.1");
        let server = issue(server, Some(&ca));
        Self { ca, server }
    }

    /// The CA's certificate (PEM): what a client trusts the server with,
    /// and what the server checks `tls_client_auth` certificates against.
    pub fn ca_pem(&self) -> String {
        self.ca.pem()
    }

    /// A client certificate for `name`, signed by the CA (for
    /// `tls_client_auth`).
    pub fn client(&self, name: &str) -> IssuedCertificate {
        issue(client_params(name), Some(&self.ca))
    }

    /// A self-signed client certificate for `name` (for
    /// `self_signed_tls_client_auth`).
    pub fn self_signed_client(name: &str) -> IssuedCertificate {
        issue(client_params(name), None)
    }

    pub(crate) fn server(&self) -> &IssuedCertificate {
        &self.server
    }

    pub(crate) fn ca_der(&self) -> Vec<u8> {
        self.ca.der().to_vec()
    }
}

fn client_params(name: &str) -> CertificateParams {
    let mut params = CertificateParams::new(Vec::<String>::new()).expect("parameters");
    params.distinguished_name.push(DnType::CommonName, name);
    params
}

fn issue(
    params: CertificateParams,
    ca: Option<&CertifiedIssuer<'static, KeyPair>>,
) -> IssuedCertificate {
    let key = KeyPair::generate().expect("a key");
    let cert = match ca {
        Some(ca) => params.signed_by(&key, ca),
        None => params.self_signed(&key),
    }
    .expect("a certificate");
    IssuedCertificate {
        certificate_pem: cert.pem(),
        private_key_pem: key.serialize_pem(),
        thumbprint: URL_SAFE_NO_PAD.encode(Sha256::digest(cert.der())),
        der: cert.der().to_vec(),
    }
}

//! The mutual-TLS server: rustls on 127.0.0.1, a client certificate
//! required in every handshake, and a small HTTP/1.1 responder for a token
//! endpoint and a resource that takes certificate-bound tokens only.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use authkit_core::client_auth::MutualTlsMethod;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rustls::client::danger::HandshakeSignatureValid;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer, UnixTime};
use rustls::server::WebPkiClientVerifier;
use rustls::server::danger::{ClientCertVerified, ClientCertVerifier};
use rustls::{DigitallySignedStruct, DistinguishedName, SignatureScheme};
use serde_json::json;
use sha2::{Digest, Sha256};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use tokio_rustls::TlsAcceptor;

use super::pki::{IssuedCertificate, TestPki};

/// One request the server took: where, with which certificate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SeenRequest {
    /// The request's path.
    pub path: String,
    /// The thumbprint (`x5t#S256`) of the certificate the connection
    /// presented.
    pub client_certificate: Option<String>,
    /// The form's `client_id`, for a token request.
    pub client_id: Option<String>,
}

#[derive(Default)]
struct State {
    clients: HashMap<String, (MutualTlsMethod, String)>,
    tokens: HashMap<String, String>,
    seen: Vec<SeenRequest>,
    issued: u64,
}

/// An authorization server's mTLS endpoint and a resource server, on
/// 127.0.0.1 over TLS that requires a client certificate (a handshake
/// without one fails, as at a real `mtls_endpoint_aliases` host).
///
/// - `POST /token` takes `grant_type=client_credentials` from a registered
///   client whose connection presents its certificate: for
///   [`MutualTlsMethod::Pki`] one that chains to the [`TestPki`]'s CA (and is
///   the one registered, standing in for a subject name check), for
///   [`MutualTlsMethod::SelfSigned`] exactly the one registered. It answers
///   with an access token bound to that certificate (RFC 8705 §3), or
///   `invalid_client`.
/// - `GET /api` answers 200 to a bound token over a connection with the
///   same certificate, and 401 `invalid_token` otherwise.
/// - `GET /introspect?token=…` says what a token is bound to
///   (`cnf.x5t#S256`), as an introspection response would.
pub struct MtlsServer {
    port: u16,
    state: Arc<Mutex<State>>,
    task: tokio::task::JoinHandle<()>,
}

impl std::fmt::Debug for MtlsServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MtlsServer")
            .field("port", &self.port)
            .finish_non_exhaustive()
    }
}

impl Drop for MtlsServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl MtlsServer {
    /// Starts the server with `pki`'s server certificate.
    pub async fn start(pki: &TestPki) -> Self {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let mut roots = rustls::RootCertStore::empty();
        roots
            .add(CertificateDer::from(pki.ca_der()))
            .expect("the CA as a root");
        let chains_to_ca =
            WebPkiClientVerifier::builder_with_provider(Arc::new(roots), Arc::clone(&provider))
                .build()
                .expect("a verifier for the CA");
        let server = pki.server();
        let config = rustls::ServerConfig::builder_with_provider(Arc::clone(&provider))
            .with_safe_default_protocol_versions()
            .expect("TLS versions")
            .with_client_cert_verifier(Arc::new(AnyClientCertificate {
                provider: Arc::clone(&provider),
            }))
            .with_single_cert(
                vec![CertificateDer::from(server.der.clone())],
                PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(pem_body(&server.private_key_pem))),
            )
            .expect("the server certificate");
        let acceptor = TlsAcceptor::from(Arc::new(config));
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("a port");
        let port = listener.local_addr().expect("its address").port();
        let state = Arc::new(Mutex::new(State::default()));
        let shared = Arc::clone(&state);
        let task = tokio::spawn(async move {
            loop {
                let Ok((tcp, _)) = listener.accept().await else {
                    return;
                };
                let acceptor = acceptor.clone();
                let state = Arc::clone(&shared);
                let chains_to_ca = Arc::clone(&chains_to_ca);
                tokio::spawn(async move {
                    // A handshake without a certificate fails here.
                    let Ok(mut tls) = acceptor.accept(tcp).await else {
                        return;
                    };
                    let certificate = tls
                        .get_ref()
                        .1
                        .peer_certificates()
                        .and_then(|chain| chain.first())
                        .map(|leaf| leaf.clone().into_owned());
                    let Some(request) = read_request(&mut tls).await else {
                        return;
                    };
                    let issued_by_ca = certificate.as_ref().is_some_and(|leaf| {
                        chains_to_ca
                            .verify_client_cert(leaf, &[], UnixTime::now())
                            .is_ok()
                    });
                    let thumbprint = certificate
                        .as_ref()
                        .map(|leaf| URL_SAFE_NO_PAD.encode(Sha256::digest(leaf.as_ref())));
                    let (status, body, challenge) = {
                        let mut state = state.lock().unwrap_or_else(PoisonError::into_inner);
                        respond(&mut state, &request, thumbprint, issued_by_ca)
                    };
                    let mut head = format!(
                        "HTTP/1.1 {status} {}\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\ncache-control: no-store\r\n",
                        if status == 200 { "OK" } else { "Error" },
                        body.len()
                    );
                    if let Some(challenge) = challenge {
                        head.push_str(&format!("www-authenticate: {challenge}\r\n"));
                    }
                    head.push_str("\r\n");
                    let _ = tls.write_all(head.as_bytes()).await;
                    let _ = tls.write_all(body.as_bytes()).await;
                    let _ = tls.shutdown().await;
                });
            }
        });
        Self { port, state, task }
    }

    /// Registers `client_id`, authenticated by `certificate` checked as
    /// `method` says.
    pub fn register(
        &self,
        client_id: &str,
        method: MutualTlsMethod,
        certificate: &IssuedCertificate,
    ) {
        self.lock().clients.insert(
            client_id.to_owned(),
            (method, certificate.thumbprint.clone()),
        );
    }

    /// `https://127.0.0.1:<port><path>`.
    pub fn url(&self, path: &str) -> String {
        format!("https://127.0.0.1:{}{path}", self.port)
    }

    /// Every request taken, in order.
    pub fn requests(&self) -> Vec<SeenRequest> {
        self.lock().seen.clone()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

struct Request {
    method: String,
    path: String,
    query: HashMap<String, String>,
    headers: HashMap<String, String>,
    form: HashMap<String, String>,
}

fn respond(
    state: &mut State,
    request: &Request,
    thumbprint: Option<String>,
    issued_by_ca: bool,
) -> (u16, String, Option<String>) {
    state.seen.push(SeenRequest {
        path: request.path.clone(),
        client_certificate: thumbprint.clone(),
        client_id: request.form.get("client_id").cloned(),
    });
    match (request.method.as_str(), request.path.as_str()) {
        ("POST", "/token") => {
            let client = request
                .form
                .get("client_id")
                .and_then(|id| state.clients.get(id));
            let authenticated = match (client, &thumbprint) {
                (Some((MutualTlsMethod::Pki, registered)), Some(presented)) => {
                    issued_by_ca && registered == presented
                }
                (Some((MutualTlsMethod::SelfSigned, registered)), Some(presented)) => {
                    registered == presented
                }
                _ => false,
            };
            if !authenticated {
                return (
                    401,
                    json!({"error": "invalid_client", "error_description": "the client certificate does not authenticate this client"}).to_string(),
                    None,
                );
            }
            if request.form.get("grant_type").map(String::as_str) != Some("client_credentials") {
                return (
                    400,
                    json!({"error": "unsupported_grant_type"}).to_string(),
                    None,
                );
            }
            state.issued += 1;
            let token = format!("mtls-bound-{}", state.issued);
            let bound = thumbprint.unwrap_or_default();
            state.tokens.insert(token.clone(), bound);
            (
                200,
                json!({"access_token": token, "token_type": "Bearer", "expires_in": 3600})
                    .to_string(),
                None,
            )
        }
        ("GET", "/api") => {
            let token = request
                .headers
                .get("authorization")
                .and_then(|h| h.strip_prefix("Bearer "));
            let bound = token.and_then(|t| state.tokens.get(t));
            match (bound, &thumbprint) {
                (Some(bound), Some(presented)) if bound == presented => {
                    (200, json!({"hello": "bound caller"}).to_string(), None)
                }
                _ => (
                    401,
                    json!({"error": "invalid_token"}).to_string(),
                    Some("Bearer error=\"invalid_token\", error_description=\"the token is bound to another certificate\"".to_owned()),
                ),
            }
        }
        ("GET", "/introspect") => {
            let bound = request.query.get("token").and_then(|t| state.tokens.get(t));
            let body = match bound {
                Some(bound) => json!({"active": true, "cnf": {"x5t#S256": bound}}),
                None => json!({"active": false}),
            };
            (200, body.to_string(), None)
        }
        _ => (404, json!({"error": "not_found"}).to_string(), None),
    }
}

/// Reads one HTTP/1.1 request (headers and a `content-length` body).
async fn read_request<S: tokio::io::AsyncRead + Unpin>(stream: &mut S) -> Option<Request> {
    let mut buffer = Vec::new();
    let mut chunk = [0u8; 4096];
    let head_end = loop {
        let n = stream.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        buffer.extend_from_slice(&chunk[..n]);
        if let Some(at) = buffer.windows(4).position(|w| w == b"\r\n\r\n") {
            break at + 4;
        }
        if buffer.len() > 64 * 1024 {
            return None;
        }
    };
    let head = String::from_utf8_lossy(&buffer[..head_end]).into_owned();
    let mut lines = head.split("\r\n");
    let mut first = lines.next()?.split(' ');
    let method = first.next()?.to_owned();
    let target = first.next()?.to_owned();
    let headers: HashMap<String, String> = lines
        .filter_map(|line| line.split_once(':'))
        .map(|(name, value)| (name.trim().to_ascii_lowercase(), value.trim().to_owned()))
        .collect();
    let length: usize = headers
        .get("content-length")
        .and_then(|l| l.parse().ok())
        .unwrap_or(0);
    while buffer.len() < head_end + length {
        let n = stream.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        buffer.extend_from_slice(&chunk[..n]);
    }
    let body = &buffer[head_end..head_end + length];
    let (path, query) = target.split_once('?').unwrap_or((&target, ""));
    Some(Request {
        method,
        path: path.to_owned(),
        query: form_urlencoded::parse(query.as_bytes())
            .into_owned()
            .collect(),
        headers,
        form: form_urlencoded::parse(body).into_owned().collect(),
    })
}

/// The DER inside a PEM block.
fn pem_body(pem: &str) -> Vec<u8> {
    let base64: String = pem
        .lines()
        .filter(|line| !line.starts_with("-----"))
        .collect();
    base64::engine::general_purpose::STANDARD
        .decode(base64)
        .expect("PEM")
}

/// Takes any client certificate whose handshake signature verifies, and
/// requires one: who it authenticates is decided per request.
#[derive(Debug)]
struct AnyClientCertificate {
    provider: Arc<rustls::crypto::CryptoProvider>,
}

impl ClientCertVerifier for AnyClientCertificate {
    fn root_hint_subjects(&self) -> &[DistinguishedName] {
        &[]
    }

    fn client_auth_mandatory(&self) -> bool {
        true
    }

    fn verify_client_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _now: UnixTime,
    ) -> Result<ClientCertVerified, rustls::Error> {
        Ok(ClientCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider
            .signature_verification_algorithms
            .supported_schemes()
    }
}

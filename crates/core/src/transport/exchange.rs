//! The seam below the token endpoint: one form POST, one raw response.
//!
//! [`crate::TokenEndpoint`] owns the rules of a token request (encoding,
//! client authentication, retries, classification); a [`Transport`] only
//! carries the bytes. The default is [`ReqwestTransport`], over authkit's own
//! client or one the caller supplies. Tests plug in a scripted transport
//! (the testkit's `ScriptedTransport`) to feed responses without a server,
//! so parsing and classification are tested without HTTP.

use std::fmt;

use async_trait::async_trait;
use reqwest::header::{ACCEPT, AUTHORIZATION, CONTENT_TYPE, HeaderValue, RETRY_AFTER};
use url::Url;

use crate::error::Error;
use crate::error::config::{ConfigError, ConfigErrorKind};

use crate::error::protocol::ProtocolError;

use crate::error::transient::{TransientError, TransientKind};

/// One token request, ready to send. `Debug` shows neither the body nor
/// the `Authorization` header: both hold credentials.
#[derive(Clone, Copy)]
pub struct FormRequest<'a> {
    /// Where to send it.
    pub url: &'a Url,
    /// The `application/x-www-form-urlencoded` body.
    pub body: &'a [u8],
    /// The `Authorization` header (HTTP Basic client authentication), marked
    /// sensitive.
    pub authorization: Option<&'a HeaderValue>,
    /// The `DPoP` header (RFC 9449 proof), marked sensitive.
    pub dpop: Option<&'a HeaderValue>,
    /// The largest response body to read; a longer one is
    /// [`ProtocolError::TooLarge`].
    pub max_response_bytes: usize,
}

impl fmt::Debug for FormRequest<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FormRequest")
            .field("url", &self.url.as_str())
            .field("body_bytes", &self.body.len())
            .field("authorization", &self.authorization.map(|_| "[REDACTED]"))
            .field("dpop", &self.dpop.map(|_| "[REDACTED]"))
            .finish()
    }
}

/// A document to fetch with GET: server metadata (RFC 8414).
#[derive(Clone, Copy, Debug)]
pub struct GetRequest<'a> {
    /// Where it is.
    pub url: &'a Url,
    /// The largest response body to read.
    pub max_response_bytes: usize,
}

/// A response as the parser needs it.
#[derive(Clone, Default)]
pub struct RawResponse {
    /// The HTTP status.
    pub status: u16,
    /// The `Content-Type` header.
    pub content_type: Option<String>,
    /// The `Retry-After` header, as sent.
    pub retry_after: Option<String>,
    /// The `DPoP-Nonce` header (RFC 9449 §8), as sent.
    pub dpop_nonce: Option<String>,
    /// The origin that answered, when it is not the request URL's (a client
    /// followed a redirect elsewhere); `None` when it is the same.
    pub foreign_origin: Option<String>,
    /// The body (at most the request's `max_response_bytes`).
    pub body: Vec<u8>,
}

impl fmt::Debug for RawResponse {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The body may hold tokens.
        f.debug_struct("RawResponse")
            .field("status", &self.status)
            .field("content_type", &self.content_type)
            .field("body_bytes", &self.body.len())
            .finish_non_exhaustive()
    }
}

/// Carries a token request to the server and its response back.
#[async_trait]
pub trait Transport: Send + Sync + fmt::Debug {
    /// Sends `request` and reads the response. Failures below HTTP are
    /// [`Error::Transient`]; a body over the limit is
    /// [`ProtocolError::TooLarge`].
    async fn post_form(&self, request: FormRequest<'_>) -> Result<RawResponse, Error>;

    /// Fetches a document with GET (server metadata for discovery). The
    /// default refuses with a configuration error: a transport written only
    /// for token requests cannot discover a server, and says so.
    async fn get(&self, request: GetRequest<'_>) -> Result<RawResponse, Error> {
        Err(Error::config(format!(
            "this transport cannot fetch {}: it carries token requests only",
            request.url
        )))
    }
}

/// A [`Transport`] over a `reqwest::Client`.
#[derive(Clone, Debug)]
pub struct ReqwestTransport {
    client: reqwest::Client,
}

impl ReqwestTransport {
    /// A transport over `client`.
    pub fn new(client: reqwest::Client) -> Self {
        Self { client }
    }
}

#[async_trait]
impl Transport for ReqwestTransport {
    async fn post_form(&self, request: FormRequest<'_>) -> Result<RawResponse, Error> {
        let mut builder = self
            .client
            .post(request.url.clone())
            .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
            .header(ACCEPT, "application/json")
            .body(request.body.to_vec());
        if let Some(header) = request.authorization {
            builder = builder.header(AUTHORIZATION, header.clone());
        }
        if let Some(proof) = request.dpop {
            builder = builder.header("DPoP", proof.clone());
        }
        let response = builder.send().await.map_err(network_error)?;
        read_response(response, request.url, request.max_response_bytes).await
    }

    async fn get(&self, request: GetRequest<'_>) -> Result<RawResponse, Error> {
        let response = self
            .client
            .get(request.url.clone())
            .header(ACCEPT, "application/json")
            .send()
            .await
            .map_err(network_error)?;
        read_response(response, request.url, request.max_response_bytes).await
    }
}

/// Reads a response up to `limit` bytes, noting a foreign origin.
async fn read_response(
    mut response: reqwest::Response,
    requested: &Url,
    limit: usize,
) -> Result<RawResponse, Error> {
    let status = response.status().as_u16();
    let header = |name| {
        response
            .headers()
            .get(name)
            .and_then(|v: &HeaderValue| v.to_str().ok())
            .map(str::to_owned)
    };
    let content_type = header(CONTENT_TYPE);
    let retry_after = header(RETRY_AFTER);
    let dpop_nonce = header(reqwest::header::HeaderName::from_static("dpop-nonce"));
    let answered = response.url();
    let foreign_origin =
        (!same_origin(answered, requested)).then(|| answered.origin().ascii_serialization());
    let body = match response.content_length() {
        Some(len) if len > limit as u64 => {
            return Err(ProtocolError::TooLarge { status, limit }.into());
        }
        // HTTP framing stops the body at its declared length, so it can
        // be read in one piece (measurably faster than chunk by chunk).
        Some(_) => response.bytes().await.map_err(network_error)?.to_vec(),
        None => {
            let mut body = Vec::new();
            while let Some(chunk) = response.chunk().await.map_err(network_error)? {
                if body.len() + chunk.len() > limit {
                    return Err(ProtocolError::TooLarge { status, limit }.into());
                }
                body.extend_from_slice(&chunk);
            }
            body
        }
    };
    Ok(RawResponse {
        status,
        content_type,
        retry_after,
        dpop_nonce,
        foreign_origin,
        body,
    })
}

/// What is wrong, when a failure is a TLS certificate that one side does
/// not accept: a fault of the set-up, which no retry mends.
fn certificate_refusal(err: &reqwest::Error) -> Option<&'static str> {
    use rustls::AlertDescription as Alert;
    let mut cause: Option<&(dyn std::error::Error + 'static)> = Some(err);
    while let Some(current) = cause {
        match as_rustls(current) {
            Some(rustls::Error::InvalidCertificate(_)) => {
                return Some(
                    "the server's certificate is not trusted (check its name, its dates, and the roots: TlsSettings::trust_root_pem for a private CA)",
                );
            }
            Some(rustls::Error::AlertReceived(Alert::CertificateRequired)) => {
                return Some(
                    "the server requires a client certificate and none was presented (TlsSettings::client_identity)",
                );
            }
            Some(rustls::Error::AlertReceived(
                Alert::BadCertificate
                | Alert::UnsupportedCertificate
                | Alert::CertificateRevoked
                | Alert::CertificateExpired
                | Alert::CertificateUnknown
                | Alert::UnknownCA
                | Alert::AccessDenied,
            )) => {
                return Some("the server refused the client certificate presented");
            }
            _ => {}
        }
        cause = current.source();
    }
    None
}

/// The rustls error `error` is, or carries inside (nested) I/O errors,
/// which hide it from `source()`.
fn as_rustls<'a>(mut error: &'a (dyn std::error::Error + 'static)) -> Option<&'a rustls::Error> {
    loop {
        if let Some(tls) = error.downcast_ref::<rustls::Error>() {
            return Some(tls);
        }
        error = error.downcast_ref::<std::io::Error>()?.get_ref()?;
    }
}

/// Whether two URLs share scheme, host and port, without allocating.
fn same_origin(a: &Url, b: &Url) -> bool {
    a.scheme() == b.scheme()
        && a.host_str() == b.host_str()
        && a.port_or_known_default() == b.port_or_known_default()
}

/// Classifies a transport failure. The URL is dropped from the error (it
/// may carry a query) and the cause is kept for `source()`; none of it can
/// hold the request body.
fn network_error(err: reqwest::Error) -> Error {
    if let Some(refused) = certificate_refusal(&err) {
        let err = err.without_url();
        return Error::Config(
            ConfigError::new(
                ConfigErrorKind::Tls,
                format!("the TLS handshake failed: {refused}"),
            )
            .with_source(err),
        );
    }
    let kind = if err.is_connect() {
        TransientKind::Connect
    } else if err.is_timeout() {
        TransientKind::Timeout
    } else if err.is_body() || err.is_decode() {
        TransientKind::ConnectionBroken
    } else {
        TransientKind::Other
    };
    let err = err.without_url();
    let mut detail = err.to_string();
    let mut source = std::error::Error::source(&err);
    while let Some(cause) = source {
        detail.push_str(": ");
        detail.push_str(&cause.to_string());
        source = cause.source();
    }
    Error::Transient(TransientError::new(kind, detail).with_source(err))
}

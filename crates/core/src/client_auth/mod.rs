//! How the client proves who it is to the token endpoint (RFC 6749 §2.3).
//!
//! The style is chosen explicitly and never probed: trying one style and then
//! re-sending the grant with another would send a password or a single-use
//! refresh token twice. Servers disagree on HTTP Basic: RFC 6749 §2.3.1 says
//! to form-urlencode the id and secret before base64, but some servers (WSO2
//! API managers among them) compare the raw `id:secret` and reject encoded
//! credentials that contain special characters. Both are offered.
//!
//! Confidential clients that must not send a secret at all sign an assertion
//! instead ([`ClientAuth::Assertion`], see [`ClientAssertion`]), or present
//! a TLS client certificate ([`ClientAuth::MutualTls`], RFC 8705), which
//! also binds the tokens to that certificate where the server does so.

pub(crate) mod assertion;

pub use assertion::{
    AssertionAudience, AssertionKey, ClientAssertion, DEFAULT_ASSERTION_LIFETIME,
    JWT_BEARER_ASSERTION_TYPE,
};

use std::fmt;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use secrecy::{ExposeSecret, SecretString};
use time::OffsetDateTime;
use url::Url;

use crate::error::Error;
use crate::grant::grant_type::FormParam;
use crate::secret::{ClientId, ClientSecret};

/// The client authentication of a token endpoint.
#[derive(Clone)]
#[non_exhaustive]
pub enum ClientAuth {
    /// A public client: `client_id` in the body and no secret.
    None {
        /// The client's id.
        client_id: ClientId,
    },
    /// HTTP Basic with RFC 6749 §2.3.1 encoding: id and secret are
    /// form-urlencoded, joined by `:`, then base64-encoded.
    BasicEncoded {
        /// The client's id.
        client_id: ClientId,
        /// The client's secret.
        client_secret: ClientSecret,
    },
    /// HTTP Basic with the raw `id:secret` base64-encoded, for servers that
    /// do not decode (WSO2).
    BasicRaw {
        /// The client's id.
        client_id: ClientId,
        /// The client's secret.
        client_secret: ClientSecret,
    },
    /// `client_id` and `client_secret` as form parameters in the body.
    Body {
        /// The client's id.
        client_id: ClientId,
        /// The client's secret.
        client_secret: ClientSecret,
    },
    /// A signed JWT in `client_assertion` (RFC 7523 §2.2):
    /// `private_key_jwt`, or `client_secret_jwt` with an HMAC key.
    Assertion(ClientAssertion),
    /// Mutual TLS (RFC 8705 §2): the client's certificate, presented in
    /// the TLS handshake, authenticates it, and `client_id` in the body
    /// says which client it is. The certificate is the endpoint's
    /// [`ClientIdentity`](crate::transport::ClientIdentity), set with
    /// [`TlsSettings`](crate::transport::TlsSettings).
    MutualTls {
        /// The client's id.
        client_id: ClientId,
        /// How the server checks the certificate.
        method: MutualTlsMethod,
    },
}

/// How a server checks a client's certificate (RFC 8705 §2.1, §2.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MutualTlsMethod {
    /// `tls_client_auth`: a certificate from a CA the server trusts, whose
    /// subject (or a subject alternative name) is registered for the client.
    Pki,
    /// `self_signed_tls_client_auth`: a self-signed certificate registered
    /// for the client (in its JWKS), matched exactly.
    SelfSigned,
}

/// Which encoding an HTTP Basic credential uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BasicEncoding {
    /// RFC 6749 §2.3.1: form-urlencode id and secret first.
    FormUrlEncoded,
    /// The raw `id:secret`.
    Raw,
}

impl ClientAuth {
    /// A public client: its id in the body, no secret.
    pub fn public(client_id: impl Into<ClientId>) -> Self {
        ClientAuth::None {
            client_id: client_id.into(),
        }
    }

    /// HTTP Basic as RFC 6749 §2.3.1 says (id and secret form-encoded first):
    /// what most servers expect of a confidential client.
    pub fn basic(client_id: impl Into<ClientId>, client_secret: impl Into<ClientSecret>) -> Self {
        ClientAuth::BasicEncoded {
            client_id: client_id.into(),
            client_secret: client_secret.into(),
        }
    }

    /// HTTP Basic over the raw `id:secret`, for servers that do not decode
    /// (WSO2 API managers).
    pub fn basic_raw(
        client_id: impl Into<ClientId>,
        client_secret: impl Into<ClientSecret>,
    ) -> Self {
        ClientAuth::BasicRaw {
            client_id: client_id.into(),
            client_secret: client_secret.into(),
        }
    }

    /// `client_id` and `client_secret` as form parameters in the body
    /// (`client_secret_post`).
    pub fn secret_in_body(
        client_id: impl Into<ClientId>,
        client_secret: impl Into<ClientSecret>,
    ) -> Self {
        ClientAuth::Body {
            client_id: client_id.into(),
            client_secret: client_secret.into(),
        }
    }

    /// `private_key_jwt`: assertions signed with the client's private key
    /// (RS256, ES256 or EdDSA), for the token endpoint.
    pub fn private_key_jwt(client_id: impl Into<ClientId>, key: AssertionKey) -> Self {
        ClientAuth::Assertion(ClientAssertion::new(client_id, key))
    }

    /// `client_secret_jwt`: assertions signed with HS256 over the client
    /// secret, for the token endpoint.
    pub fn client_secret_jwt(
        client_id: impl Into<ClientId>,
        client_secret: impl Into<ClientSecret>,
    ) -> Result<Self, Error> {
        let secret: ClientSecret = client_secret.into();
        let key = AssertionKey::hs256(&SecretString::from(secret.expose_secret()))?;
        Ok(ClientAuth::Assertion(ClientAssertion::new(client_id, key)))
    }

    /// `tls_client_auth` (RFC 8705 §2.1): a client certificate from a CA
    /// the server trusts authenticates `client_id`. The certificate goes on
    /// the endpoint's HTTP client:
    ///
    /// ```no_run
    /// use authkit_core::{ClientAuth, TokenEndpoint};
    /// use authkit_core::endpoint::EndpointSettings;
    /// use authkit_core::transport::{ClientIdentity, TlsSettings};
    ///
    /// # fn run() -> Result<(), authkit_core::Error> {
    /// let identity = ClientIdentity::from_pem(
    ///     &std::fs::read("client.crt").expect("the certificate"),
    ///     &std::fs::read("client.key").expect("its key"),
    /// )?;
    /// let endpoint = TokenEndpoint::builder("https://mtls.login.example.com/token")
    ///     .client_auth(ClientAuth::tls_client_auth("reports-app"))
    ///     .settings(EndpointSettings::new().tls(TlsSettings::new().client_identity(identity)))
    ///     .build()?;
    /// # let _ = endpoint;
    /// # Ok(()) }
    /// ```
    pub fn tls_client_auth(client_id: impl Into<ClientId>) -> Self {
        ClientAuth::MutualTls {
            client_id: client_id.into(),
            method: MutualTlsMethod::Pki,
        }
    }

    /// `self_signed_tls_client_auth` (RFC 8705 §2.2): a self-signed client
    /// certificate registered for `client_id` authenticates it; set up as
    /// [`ClientAuth::tls_client_auth`].
    pub fn self_signed_tls_client_auth(client_id: impl Into<ClientId>) -> Self {
        ClientAuth::MutualTls {
            client_id: client_id.into(),
            method: MutualTlsMethod::SelfSigned,
        }
    }

    /// Whether the client authenticates with its TLS certificate (RFC
    /// 8705), so its requests go to the server's mTLS endpoints.
    pub fn is_mutual_tls(&self) -> bool {
        matches!(self, ClientAuth::MutualTls { .. })
    }

    /// The client's id.
    pub fn client_id(&self) -> &ClientId {
        match self {
            ClientAuth::None { client_id }
            | ClientAuth::BasicEncoded { client_id, .. }
            | ClientAuth::BasicRaw { client_id, .. }
            | ClientAuth::Body { client_id, .. }
            | ClientAuth::MutualTls { client_id, .. } => client_id,
            ClientAuth::Assertion(assertion) => assertion.client_id(),
        }
    }

    /// A short name of the style, for logs.
    pub fn style(&self) -> &'static str {
        match self {
            ClientAuth::None { .. } => "none",
            ClientAuth::BasicEncoded { .. } => "basic",
            ClientAuth::BasicRaw { .. } => "basic-raw",
            ClientAuth::Body { .. } => "body",
            ClientAuth::Assertion(a) if a.is_shared_secret() => "client-secret-jwt",
            ClientAuth::Assertion(_) => "private-key-jwt",
            ClientAuth::MutualTls {
                method: MutualTlsMethod::Pki,
                ..
            } => "tls",
            ClientAuth::MutualTls {
                method: MutualTlsMethod::SelfSigned,
                ..
            } => "self-signed-tls",
        }
    }

    /// The registered name of the method (RFC 7591 §2,
    /// `token_endpoint_auth_method`), as server metadata lists it:
    /// `none`, `client_secret_basic`, `client_secret_post`,
    /// `client_secret_jwt`, `private_key_jwt`, `tls_client_auth` or
    /// `self_signed_tls_client_auth`.
    pub fn method_name(&self) -> &'static str {
        match self {
            ClientAuth::None { .. } => "none",
            ClientAuth::BasicEncoded { .. } | ClientAuth::BasicRaw { .. } => "client_secret_basic",
            ClientAuth::Body { .. } => "client_secret_post",
            ClientAuth::Assertion(a) if a.is_shared_secret() => "client_secret_jwt",
            ClientAuth::Assertion(_) => "private_key_jwt",
            ClientAuth::MutualTls {
                method: MutualTlsMethod::Pki,
                ..
            } => "tls_client_auth",
            ClientAuth::MutualTls {
                method: MutualTlsMethod::SelfSigned,
                ..
            } => "self_signed_tls_client_auth",
        }
    }

    /// The form parameters this style adds to a request to `endpoint` sent
    /// at `now`. An assertion is signed afresh on every call.
    pub fn form_params(
        &self,
        endpoint: &Url,
        now: OffsetDateTime,
    ) -> Result<Vec<FormParam>, Error> {
        Ok(match self {
            ClientAuth::None { client_id } | ClientAuth::MutualTls { client_id, .. } => {
                vec![FormParam::plain("client_id", client_id.as_str())]
            }
            ClientAuth::Body {
                client_id,
                client_secret,
            } => vec![
                FormParam::plain("client_id", client_id.as_str()),
                FormParam::secret("client_secret", client_secret.expose_secret()),
            ],
            ClientAuth::Assertion(assertion) => vec![
                FormParam::plain("client_id", assertion.client_id().as_str()),
                FormParam::plain("client_assertion_type", JWT_BEARER_ASSERTION_TYPE),
                FormParam::secret(
                    "client_assertion",
                    assertion.sign_for(endpoint, now)?.expose_secret(),
                ),
            ],
            ClientAuth::BasicEncoded { .. } | ClientAuth::BasicRaw { .. } => Vec::new(),
        })
    }

    /// Whether each request needs a freshly encoded body (an assertion's
    /// `jti` must not repeat, even on a retry).
    pub fn signs_each_request(&self) -> bool {
        matches!(self, ClientAuth::Assertion(_))
    }

    /// The `Authorization` header value this style sends, if any.
    pub fn authorization_header(&self) -> Option<SecretString> {
        match self {
            ClientAuth::BasicEncoded {
                client_id,
                client_secret,
            } => Some(encode_basic(
                client_id.as_str(),
                client_secret.expose_secret(),
                BasicEncoding::FormUrlEncoded,
            )),
            ClientAuth::BasicRaw {
                client_id,
                client_secret,
            } => Some(encode_basic(
                client_id.as_str(),
                client_secret.expose_secret(),
                BasicEncoding::Raw,
            )),
            ClientAuth::None { .. }
            | ClientAuth::Body { .. }
            | ClientAuth::Assertion(_)
            | ClientAuth::MutualTls { .. } => None,
        }
    }
}

impl fmt::Debug for ClientAuth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientAuth")
            .field("style", &self.style())
            .field("client_id", self.client_id())
            .finish_non_exhaustive()
    }
}

/// The full `Authorization` header value (`Basic ...`) for an id and secret.
pub fn encode_basic(client_id: &str, client_secret: &str, encoding: BasicEncoding) -> SecretString {
    let joined = match encoding {
        BasicEncoding::FormUrlEncoded => format!(
            "{}:{}",
            form_urlencoded::byte_serialize(client_id.as_bytes()).collect::<String>(),
            form_urlencoded::byte_serialize(client_secret.as_bytes()).collect::<String>()
        ),
        BasicEncoding::Raw => format!("{client_id}:{client_secret}"),
    };
    SecretString::from(format!("Basic {}", STANDARD.encode(joined.as_bytes())))
}

/// Reads an `Authorization: Basic ...` header value back into the id and
/// secret, the inverse of [`encode_basic`]. Returns `None` when the value is
/// not a well-formed Basic credential in that encoding. Mock servers and tests
/// use it.
pub fn decode_basic(header: &str, encoding: BasicEncoding) -> Option<(String, SecretString)> {
    let (scheme, payload) = header.trim().split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let bytes = STANDARD.decode(payload.trim()).ok()?;
    let joined = String::from_utf8(bytes).ok()?;
    let (id, secret) = joined.split_once(':')?;
    match encoding {
        BasicEncoding::Raw => Some((id.to_owned(), SecretString::from(secret))),
        BasicEncoding::FormUrlEncoded => {
            let id = form_decode(id)?;
            let secret = form_decode(secret)?;
            Some((id, SecretString::from(secret)))
        }
    }
}

fn form_decode(value: &str) -> Option<String> {
    // A form-encoded value never holds a raw ':' or other reserved byte.
    if value
        .bytes()
        .any(|b| !b.is_ascii_alphanumeric() && !b"*-._+%".contains(&b))
    {
        return None;
    }
    let pair = format!("v={value}");
    form_urlencoded::parse(pair.as_bytes())
        .next()
        .map(|(_, v)| v.into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc_encoding_escapes_before_base64() {
        let header = encode_basic("my client", "s3cr:t&+", BasicEncoding::FormUrlEncoded);
        let expected = format!("Basic {}", STANDARD.encode("my+client:s3cr%3At%26%2B"));
        assert_eq!(header.expose_secret(), expected);
        let (id, secret) =
            decode_basic(header.expose_secret(), BasicEncoding::FormUrlEncoded).unwrap();
        assert_eq!(id, "my client");
        assert_eq!(secret.expose_secret(), "s3cr:t&+");
    }

    #[test]
    fn raw_encoding_keeps_the_bytes() {
        let header = encode_basic("key", "se cr%et", BasicEncoding::Raw);
        assert_eq!(
            header.expose_secret(),
            format!("Basic {}", STANDARD.encode("key:se cr%et"))
        );
        let (id, secret) = decode_basic(header.expose_secret(), BasicEncoding::Raw).unwrap();
        assert_eq!((id.as_str(), secret.expose_secret()), ("key", "se cr%et"));
    }

    #[test]
    fn debug_shows_style_and_id_only() {
        let auth = ClientAuth::Body {
            client_id: "app".into(),
            client_secret: ClientSecret::new("very-secret"),
        };
        let text = format!("{auth:?}");
        assert!(text.contains("body") && text.contains("app"));
        assert!(!text.contains("very-secret"));
    }
}

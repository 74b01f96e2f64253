//! How token requests reach the wire: the [`Transport`] seam, authkit's TLS
//! set-up (with a client certificate for mutual TLS, [`ClientIdentity`],
//! and private roots, [`TlsSettings`]) and the URL and redirect rules.
//!
//! You need this module when you bring your own HTTP stack or a scripted
//! transport for tests ([`Transport`], [`FormRequest`], [`RawResponse`]),
//! when your program makes its own API calls with the same TLS set-up as
//! authkit ([`http_client_builder`], [`http_client_builder_with`] when
//! the API takes certificate-bound tokens), or when you check a URL the way the
//! token endpoint does ([`validate_url`], [`is_loopback`]). A user of the
//! manager with the default client never names anything here.

pub(crate) mod exchange;
pub(crate) mod identity;
pub(crate) mod tls;
pub(crate) mod url_policy;

pub use exchange::{FormRequest, GetRequest, RawResponse, ReqwestTransport, Transport};
pub use identity::ClientIdentity;
pub use tls::{TlsSettings, http_client_builder, http_client_builder_with};
pub use url_policy::{is_loopback, same_origin_redirects, validate_url};

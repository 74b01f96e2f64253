//! Discovery: an authorization server described by its own metadata
//! (RFC 8414, OpenID Connect Discovery 1.0).
//!
//! Given an issuer URL, the client fetches the server's metadata document
//! and learns its endpoints (token, authorization, device authorization,
//! revocation, introspection) and what it supports (grants, client
//! authentication methods, PKCE methods). The document's `issuer` must be
//! exactly the issuer asked for (RFC 8414 §3.3, OpenID Connect Discovery
//! §4.3): otherwise a server could pose as another and collect its clients'
//! credentials, so a mismatch is refused before anything is used.
//!
//! For an issuer with a path, RFC 8414's location
//! (`/.well-known/oauth-authorization-server` inserted before the path) is
//! tried first, then OpenID Connect's (`{issuer}/.well-known/openid-configuration`),
//! as RFC 8414 §5 orders them; for an issuer without one, OpenID Connect's
//! first. Metadata changes rarely; a
//! [`Discovery`] keeps each document for [`DEFAULT_METADATA_LIFETIME`] and
//! fetches it once however many callers ask at the same time. A server
//! without metadata still works: build its [`crate::TokenEndpoint`] from
//! explicit URLs.

use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde::Deserialize;
use url::Url;

use crate::client_auth::ClientAuth;
use crate::endpoint::builder::{EndpointSettings, TokenEndpointBuilder};
use crate::error::Error;
use crate::error::config::{ConfigError, ConfigErrorKind};
use crate::error::excerpt::scrub;
use crate::error::protocol::ProtocolError;
use crate::grant::kind::GrantKind;
use crate::transport::exchange::GetRequest;
use crate::transport::url_policy::validate_url;

/// How long a [`Discovery`] keeps a metadata document: one hour. Servers
/// change endpoints and keys on the scale of days; an hour bounds how long a
/// process works with a stale document.
pub const DEFAULT_METADATA_LIFETIME: Duration = Duration::from_secs(60 * 60);

/// An authorization server's metadata (RFC 8414 §2): where its endpoints are
/// and what it supports. Every member, known or not, is kept
/// ([`ServerMetadata::field`]).
#[derive(Clone, Deserialize)]
pub struct ServerMetadata {
    issuer: String,
    #[serde(default)]
    authorization_endpoint: Option<String>,
    #[serde(default)]
    token_endpoint: Option<String>,
    #[serde(default)]
    device_authorization_endpoint: Option<String>,
    #[serde(default)]
    revocation_endpoint: Option<String>,
    #[serde(default)]
    introspection_endpoint: Option<String>,
    #[serde(default)]
    jwks_uri: Option<String>,
    #[serde(default)]
    grant_types_supported: Option<Vec<String>>,
    #[serde(default)]
    token_endpoint_auth_methods_supported: Option<Vec<String>>,
    #[serde(default)]
    code_challenge_methods_supported: Option<Vec<String>>,
    #[serde(default)]
    scopes_supported: Option<Vec<String>>,
    #[serde(default)]
    dpop_signing_alg_values_supported: Option<Vec<String>>,
    #[serde(default)]
    authorization_response_iss_parameter_supported: bool,
    #[serde(default)]
    pushed_authorization_request_endpoint: Option<String>,
    #[serde(default)]
    require_pushed_authorization_requests: bool,
    #[serde(default)]
    mtls_endpoint_aliases: Option<MtlsEndpointAliases>,
    #[serde(default)]
    tls_client_certificate_bound_access_tokens: bool,
    #[serde(flatten)]
    fields: serde_json::Map<String, serde_json::Value>,
}

/// The endpoints a server offers to clients that present a TLS certificate
/// (`mtls_endpoint_aliases`, RFC 8705 §5): often another host, whose TLS
/// asks for a client certificate, while the plain one does not.
#[derive(Clone, Debug, Default, Deserialize, PartialEq, Eq)]
pub struct MtlsEndpointAliases {
    /// The token endpoint.
    #[serde(default)]
    pub token_endpoint: Option<String>,
    /// The revocation endpoint (RFC 7009).
    #[serde(default)]
    pub revocation_endpoint: Option<String>,
    /// The introspection endpoint (RFC 7662).
    #[serde(default)]
    pub introspection_endpoint: Option<String>,
    /// The device authorization endpoint (RFC 8628).
    #[serde(default)]
    pub device_authorization_endpoint: Option<String>,
    /// The pushed authorization request endpoint (RFC 9126).
    #[serde(default)]
    pub pushed_authorization_request_endpoint: Option<String>,
}

impl fmt::Debug for ServerMetadata {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ServerMetadata")
            .field("issuer", &self.issuer)
            .field("token_endpoint", &self.token_endpoint)
            .field("grant_types_supported", &self.grant_types_supported)
            .finish_non_exhaustive()
    }
}

impl ServerMetadata {
    /// Reads a metadata document and checks that it describes `issuer`:
    /// its `issuer` member must equal the one asked for, character for
    /// character.
    pub fn from_json(body: &[u8], issuer: &str) -> Result<Self, Error> {
        let metadata: ServerMetadata = serde_json::from_slice(body).map_err(|e| {
            Error::Protocol(ProtocolError::Malformed {
                status: 200,
                reason: format!("the server metadata is not a metadata document: {e}"),
            })
        })?;
        if metadata.issuer != issuer {
            return Err(Error::Config(ConfigError::new(
                ConfigErrorKind::InvalidSetting,
                format!(
                    "the metadata of {issuer} names another issuer, {}: refusing it (RFC 8414 §3.3)",
                    scrub(&metadata.issuer, 200)
                ),
            )));
        }
        for url in [
            &metadata.token_endpoint,
            &metadata.authorization_endpoint,
            &metadata.device_authorization_endpoint,
            &metadata.revocation_endpoint,
            &metadata.introspection_endpoint,
            &metadata.pushed_authorization_request_endpoint,
        ]
        .into_iter()
        .chain(metadata.mtls_endpoint_aliases.iter().flat_map(|aliases| {
            [
                &aliases.token_endpoint,
                &aliases.revocation_endpoint,
                &aliases.introspection_endpoint,
                &aliases.device_authorization_endpoint,
                &aliases.pushed_authorization_request_endpoint,
            ]
        }))
        .flatten()
        {
            validate_url(url)?;
        }
        Ok(metadata)
    }

    /// The issuer identifier.
    pub fn issuer(&self) -> &str {
        &self.issuer
    }

    /// The token endpoint.
    pub fn token_endpoint(&self) -> Option<&str> {
        self.token_endpoint.as_deref()
    }

    /// The authorization endpoint (code flow).
    pub fn authorization_endpoint(&self) -> Option<&str> {
        self.authorization_endpoint.as_deref()
    }

    /// Whether the server names itself in every authorization response's
    /// `iss` parameter (RFC 9207): then a response without one is refused.
    pub fn authorization_response_iss_parameter_supported(&self) -> bool {
        self.authorization_response_iss_parameter_supported
    }

    /// The device authorization endpoint (RFC 8628).
    pub fn device_authorization_endpoint(&self) -> Option<&str> {
        self.device_authorization_endpoint.as_deref()
    }

    /// The pushed authorization request endpoint (RFC 9126 §5), where a
    /// browser sign-in's parameters can be sent ahead, authenticated.
    pub fn pushed_authorization_request_endpoint(&self) -> Option<&str> {
        self.pushed_authorization_request_endpoint.as_deref()
    }

    /// Whether the server takes browser sign-ins only as pushed requests
    /// (`require_pushed_authorization_requests`, RFC 9126 §5).
    pub fn require_pushed_authorization_requests(&self) -> bool {
        self.require_pushed_authorization_requests
    }

    /// The endpoints for clients that present a TLS certificate (RFC 8705
    /// §5), when the server names any.
    pub fn mtls_endpoint_aliases(&self) -> Option<&MtlsEndpointAliases> {
        self.mtls_endpoint_aliases.as_ref()
    }

    /// Whether the server binds access tokens to the client's certificate
    /// (`tls_client_certificate_bound_access_tokens`, RFC 8705 §3.3).
    pub fn tls_client_certificate_bound_access_tokens(&self) -> bool {
        self.tls_client_certificate_bound_access_tokens
    }

    /// The metadata as a client that presents a TLS certificate uses it:
    /// each endpoint with an alias in `mtls_endpoint_aliases` replaced by
    /// the alias (RFC 8705 §5), the others as they are.
    /// [`ServerMetadata::token_endpoint_builder`] does this by itself for a
    /// [`ClientAuth::MutualTls`] client; a client that presents a
    /// certificate only to bind its tokens calls it first.
    pub fn with_mtls_aliases(&self) -> ServerMetadata {
        let mut metadata = self.clone();
        if let Some(aliases) = &self.mtls_endpoint_aliases {
            let replace = |slot: &mut Option<String>, alias: &Option<String>| {
                if alias.is_some() {
                    slot.clone_from(alias);
                }
            };
            replace(&mut metadata.token_endpoint, &aliases.token_endpoint);
            replace(
                &mut metadata.revocation_endpoint,
                &aliases.revocation_endpoint,
            );
            replace(
                &mut metadata.introspection_endpoint,
                &aliases.introspection_endpoint,
            );
            replace(
                &mut metadata.device_authorization_endpoint,
                &aliases.device_authorization_endpoint,
            );
            replace(
                &mut metadata.pushed_authorization_request_endpoint,
                &aliases.pushed_authorization_request_endpoint,
            );
        }
        metadata
    }

    /// The revocation endpoint (RFC 7009).
    pub fn revocation_endpoint(&self) -> Option<&str> {
        self.revocation_endpoint.as_deref()
    }

    /// The introspection endpoint (RFC 7662).
    pub fn introspection_endpoint(&self) -> Option<&str> {
        self.introspection_endpoint.as_deref()
    }

    /// The server's key set, for verifying what it signs.
    pub fn jwks_uri(&self) -> Option<&str> {
        self.jwks_uri.as_deref()
    }

    /// The scopes it lists, if it lists them.
    pub fn scopes_supported(&self) -> Option<&[String]> {
        self.scopes_supported.as_deref()
    }

    /// The DPoP proof algorithms it accepts (RFC 9449 §5.1), if any.
    pub fn dpop_signing_alg_values_supported(&self) -> Option<&[String]> {
        self.dpop_signing_alg_values_supported.as_deref()
    }

    /// Any member of the document, by name.
    pub fn field(&self, name: &str) -> Option<&serde_json::Value> {
        self.fields.get(name)
    }

    /// Whether it supports `grant`. A server that lists nothing supports
    /// `authorization_code` and `implicit` (RFC 8414 §2).
    pub fn supports_grant(&self, grant: &GrantKind) -> bool {
        match &self.grant_types_supported {
            Some(list) => list.iter().any(|g| g == grant.as_str()),
            None => matches!(grant, GrantKind::AuthorizationCode),
        }
    }

    /// Whether it accepts `auth` at the token endpoint. A server that lists
    /// nothing accepts `client_secret_basic` (RFC 8414 §2).
    pub fn supports_client_auth(&self, auth: &ClientAuth) -> bool {
        let method = auth.method_name();
        match &self.token_endpoint_auth_methods_supported {
            Some(list) => list.iter().any(|m| m == method),
            None => method == "client_secret_basic",
        }
    }

    /// Whether it supports PKCE with S256. A server that lists no methods
    /// may still support it; authkit sends S256 regardless, as RFC 9700 §2.1.1
    /// recommends.
    pub fn supports_pkce_s256(&self) -> Option<bool> {
        self.code_challenge_methods_supported
            .as_ref()
            .map(|list| list.iter().any(|m| m == "S256"))
    }

    /// A builder for its token endpoint with `auth`, refusing an
    /// authentication method the server says it does not accept. A
    /// [`ClientAuth::MutualTls`] client gets the mTLS alias of the token
    /// endpoint when the server names one (RFC 8705 §5).
    pub fn token_endpoint_builder(&self, auth: ClientAuth) -> Result<TokenEndpointBuilder, Error> {
        let aliased = auth
            .is_mutual_tls()
            .then_some(self.mtls_endpoint_aliases.as_ref())
            .flatten()
            .and_then(|aliases| aliases.token_endpoint.as_deref());
        let url = aliased.or(self.token_endpoint.as_deref()).ok_or_else(|| {
            Error::config(format!(
                "the metadata of {} names no token endpoint",
                self.issuer
            ))
        })?;
        if !self.supports_client_auth(&auth) {
            return Err(Error::config(format!(
                "{} does not accept the client authentication {} (it lists {})",
                self.issuer,
                auth.method_name(),
                self.token_endpoint_auth_methods_supported
                    .as_deref()
                    .map(|l| l.join(", "))
                    .unwrap_or_else(|| "client_secret_basic".into())
            )));
        }
        Ok(crate::endpoint::token_endpoint::TokenEndpoint::builder(url).client_auth(auth))
    }
}

/// Where the metadata of `issuer` may be, in the order they are tried. For
/// an issuer with a path, RFC 8414's own form (`/.well-known/...` inserted
/// before the path, §3.1) comes first, then OpenID Connect's (appended), as
/// RFC 8414 §5 orders them: a host that serves several tenants answers the
/// inserted form for the one asked about. Without a path the two differ only
/// in name, and the OpenID Connect document, the more widely served, is
/// asked for first.
fn metadata_urls(issuer: &Url) -> Vec<Url> {
    let trimmed = issuer.path().trim_end_matches('/');
    let mut oidc = issuer.clone();
    oidc.set_path(&format!("{trimmed}/.well-known/openid-configuration"));
    let mut oauth = issuer.clone();
    oauth.set_path(&format!("/.well-known/oauth-authorization-server{trimmed}"));
    if trimmed.is_empty() {
        vec![oidc, oauth]
    } else {
        vec![oauth, oidc]
    }
}

/// Fetches and caches server metadata; clone it to share the cache.
///
/// ```no_run
/// use authkit_core::{ClientAuth, GenericProvider};
/// use authkit_core::discovery::Discovery;
/// use authkit_core::endpoint::EndpointSettings;
///
/// # async fn run() -> Result<(), authkit_core::Error> {
/// let discovery = Discovery::new(EndpointSettings::new());
/// let metadata = discovery.metadata("https://login.example.com").await?;
/// let provider = GenericProvider::from_metadata(
///     "reports",
///     &metadata,
///     ClientAuth::basic("reports-app", "s3cret"),
///     EndpointSettings::new(),
/// )?;
/// # let _ = provider;
/// # Ok(()) }
/// ```
#[derive(Clone, Debug)]
pub struct Discovery {
    settings: EndpointSettings,
    lifetime: Duration,
    cache: Arc<tokio::sync::Mutex<MetadataCache>>,
}

/// Documents by issuer, with when each was fetched.
type MetadataCache = HashMap<String, (Arc<ServerMetadata>, Instant)>;

impl Discovery {
    /// Discovery with `settings` (timeouts, HTTP client or transport) and
    /// the default lifetime.
    pub fn new(settings: EndpointSettings) -> Self {
        Self {
            settings,
            lifetime: DEFAULT_METADATA_LIFETIME,
            cache: Arc::default(),
        }
    }

    /// Keeps documents for `lifetime` instead.
    pub fn with_lifetime(mut self, lifetime: Duration) -> Self {
        self.lifetime = lifetime;
        self
    }

    /// The metadata of `issuer`: from the cache while it is fresh, else
    /// fetched (once, however many ask at the same time).
    pub async fn metadata(&self, issuer: &str) -> Result<Arc<ServerMetadata>, Error> {
        let mut cache = self.cache.lock().await;
        if let Some((metadata, fetched)) = cache.get(issuer)
            && fetched.elapsed() < self.lifetime
        {
            return Ok(Arc::clone(metadata));
        }
        let metadata = Arc::new(self.fetch(issuer).await?);
        cache.insert(issuer.to_owned(), (Arc::clone(&metadata), Instant::now()));
        Ok(metadata)
    }

    async fn fetch(&self, issuer: &str) -> Result<ServerMetadata, Error> {
        let issuer_url = validate_url(issuer)?;
        if issuer_url.query().is_some() || issuer_url.fragment().is_some() {
            return Err(Error::config(format!(
                "an issuer has no query or fragment (RFC 8414 §2): {issuer}"
            )));
        }
        let transport = self.settings.transport_for(&issuer_url)?;
        let limit = self.settings.max_response_bytes_or_default();
        let mut last = None;
        for url in metadata_urls(&issuer_url) {
            let response = tokio::time::timeout(
                self.settings.timeout_or_default(),
                transport.get(GetRequest {
                    url: &url,
                    max_response_bytes: limit,
                }),
            )
            .await
            .map_err(|_| {
                Error::Transient(crate::error::transient::TransientError::new(
                    crate::error::transient::TransientKind::Timeout,
                    format!("no metadata from {url} in time"),
                ))
            })??;
            tracing::debug!(url = %url, status = response.status, "server metadata");
            match response.status {
                200 => return ServerMetadata::from_json(&response.body, issuer),
                404 | 405 | 410 => last = Some(url),
                status if status >= 500 => {
                    return Err(Error::Transient(
                        crate::error::transient::TransientError::new(
                            crate::error::transient::TransientKind::ServerFailure { status },
                            format!("{url} answered {status}"),
                        ),
                    ));
                }
                status => {
                    return Err(Error::Protocol(ProtocolError::NotOAuth {
                        status,
                        content_type: response
                            .content_type
                            .as_deref()
                            .map(|c| scrub(c, 80))
                            .unwrap_or_else(|| "none".into()),
                        excerpt: scrub(&String::from_utf8_lossy(&response.body), 200),
                    }));
                }
            }
        }
        Err(Error::Config(ConfigError::new(
            ConfigErrorKind::NotATokenEndpoint,
            format!(
                "{issuer} publishes no metadata (tried {}); give the token endpoint's URL instead",
                last.map(|u| u.to_string()).unwrap_or_default()
            ),
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metadata_locations_follow_both_specifications() {
        let urls = metadata_urls(&Url::parse("https://login.example.com/tenant/v2").unwrap());
        // With a path, RFC 8414's inserted form first (RFC 8414 §5).
        assert_eq!(
            urls[0].as_str(),
            "https://login.example.com/.well-known/oauth-authorization-server/tenant/v2"
        );
        assert_eq!(
            urls[1].as_str(),
            "https://login.example.com/tenant/v2/.well-known/openid-configuration"
        );
        let root = metadata_urls(&Url::parse("https://login.example.com").unwrap());
        assert_eq!(
            root[0].as_str(),
            "https://login.example.com/.well-known/openid-configuration"
        );
        assert_eq!(
            root[1].as_str(),
            "https://login.example.com/.well-known/oauth-authorization-server"
        );
    }

    #[test]
    fn a_document_for_another_issuer_is_refused() {
        let body =
            br#"{"issuer":"https://evil.example","token_endpoint":"https://evil.example/token"}"#;
        let err = ServerMetadata::from_json(body, "https://login.example.com").unwrap_err();
        assert!(matches!(err, Error::Config(_)), "{err:?}");
        assert!(err.to_string().contains("https://evil.example"));
    }

    #[test]
    fn defaults_apply_when_the_server_lists_nothing() {
        let m = ServerMetadata::from_json(
            br#"{"issuer":"https://a.example","token_endpoint":"https://a.example/t"}"#,
            "https://a.example",
        )
        .unwrap();
        assert!(m.supports_grant(&GrantKind::AuthorizationCode));
        assert!(!m.supports_grant(&GrantKind::ClientCredentials));
        assert!(m.supports_client_auth(&ClientAuth::basic("a", "b")));
        assert!(!m.supports_client_auth(&ClientAuth::secret_in_body("a", "b")));
        assert!(
            m.token_endpoint_builder(ClientAuth::secret_in_body("a", "b"))
                .is_err()
        );
    }

    #[test]
    fn an_endpoint_over_plain_http_to_a_remote_host_is_refused() {
        let body = br#"{"issuer":"https://a.example","token_endpoint":"http://a.example/t"}"#;
        assert!(ServerMetadata::from_json(body, "https://a.example").is_err());
    }
}

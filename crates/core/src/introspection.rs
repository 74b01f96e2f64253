//! Introspection (RFC 7662): asking the server what a token is.
//!
//! A resource server learns whether a token is active, for whom, for which
//! client and scopes, and until when; a client can check what it holds, and
//! tests check what a server issued or revoked. The request is authenticated
//! as the token endpoint's client.

use std::collections::BTreeMap;

use serde::Deserialize;
use time::OffsetDateTime;
use url::Url;

use crate::endpoint::token_endpoint::{Call, RequestContext, TokenEndpoint};
use crate::error::Error;
use crate::error::protocol::ProtocolError;
use crate::grant::grant_type::FormParam;
use crate::grant::kind::GrantKind;
use crate::revocation::TokenTypeHint;
use crate::token::binding::Scopes;
use crate::transport::url_policy::validate_url;

/// A client for one introspection endpoint.
#[derive(Clone, Debug)]
pub struct IntrospectionEndpoint {
    endpoint: TokenEndpoint,
    url: Url,
}

/// What the server said about a token (RFC 7662 §2.2). An inactive token
/// carries nothing else.
#[derive(Clone, Debug, Deserialize)]
pub struct Introspection {
    active: bool,
    #[serde(default)]
    scope: Option<String>,
    #[serde(default)]
    client_id: Option<String>,
    #[serde(default)]
    username: Option<String>,
    #[serde(default)]
    token_type: Option<String>,
    #[serde(default)]
    exp: Option<i64>,
    #[serde(default)]
    iat: Option<i64>,
    #[serde(default)]
    sub: Option<String>,
    #[serde(default)]
    aud: Option<serde_json::Value>,
    #[serde(default)]
    iss: Option<String>,
    #[serde(flatten)]
    fields: BTreeMap<String, serde_json::Value>,
}

impl Introspection {
    /// Whether the token is active: issued by this server, not expired, not
    /// revoked.
    pub fn active(&self) -> bool {
        self.active
    }

    /// Its scopes.
    pub fn scopes(&self) -> Scopes {
        self.scope.as_deref().map(Scopes::parse).unwrap_or_default()
    }

    /// The client it was issued to.
    pub fn client_id(&self) -> Option<&str> {
        self.client_id.as_deref()
    }

    /// The resource owner's user name.
    pub fn username(&self) -> Option<&str> {
        self.username.as_deref()
    }

    /// Its type (`Bearer`, `DPoP`).
    pub fn token_type(&self) -> Option<&str> {
        self.token_type.as_deref()
    }

    /// When it expires.
    pub fn expires_at(&self) -> Option<OffsetDateTime> {
        self.exp
            .and_then(|s| OffsetDateTime::from_unix_timestamp(s).ok())
    }

    /// When it was issued.
    pub fn issued_at(&self) -> Option<OffsetDateTime> {
        self.iat
            .and_then(|s| OffsetDateTime::from_unix_timestamp(s).ok())
    }

    /// Its subject.
    pub fn subject(&self) -> Option<&str> {
        self.sub.as_deref()
    }

    /// Its audiences (one string or a list, §2.2).
    pub fn audiences(&self) -> Vec<&str> {
        match &self.aud {
            Some(serde_json::Value::String(a)) => vec![a.as_str()],
            Some(serde_json::Value::Array(list)) => {
                list.iter().filter_map(|v| v.as_str()).collect()
            }
            _ => Vec::new(),
        }
    }

    /// Its issuer.
    pub fn issuer(&self) -> Option<&str> {
        self.iss.as_deref()
    }

    /// Any other member, by name (`cnf`, `jti`, server extensions).
    pub fn field(&self, name: &str) -> Option<&serde_json::Value> {
        self.fields.get(name)
    }
}

impl IntrospectionEndpoint {
    /// Introspects at `url` as `endpoint`'s client.
    pub fn new(endpoint: TokenEndpoint, url: &str) -> Result<Self, Error> {
        Ok(Self {
            endpoint,
            url: validate_url(url)?,
        })
    }

    /// Asks about `token`, optionally saying what kind it is.
    pub async fn introspect(
        &self,
        token: &str,
        hint: Option<TokenTypeHint>,
        cx: &RequestContext,
    ) -> Result<Introspection, Error> {
        let mut params = vec![FormParam::secret("token", token)];
        if let Some(hint) = hint {
            params.push(FormParam::plain("token_type_hint", hint.as_str()));
        }
        let call = Call {
            url: &self.url,
            label: "introspection",
            grant_type: None,
            params,
            single_use: false,
        };
        let endpoint = &self.endpoint;
        endpoint
            .send(&call, cx, |response, _| {
                if response.status != 200 {
                    return Err(endpoint.failure(
                        &response,
                        GrantKind::Other("introspection".into()),
                        cx,
                    ));
                }
                read_introspection(&response.body)
            })
            .await
    }
}

/// Reads the body of a successful introspection response (RFC 7662 §2.2):
/// an object with a boolean `active`, every other member kept.
#[doc(hidden)]
pub fn read_introspection(body: &[u8]) -> Result<Introspection, Error> {
    serde_json::from_slice::<Introspection>(body).map_err(|_| {
        ProtocolError::Malformed {
            status: 200,
            reason: "the introspection response has no boolean `active`".into(),
        }
        .into()
    })
}

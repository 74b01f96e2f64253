//! The JWT bearer grant (RFC 7523 §2.1): a signed JWT as the grant.
//!
//! Service accounts (Google's, Salesforce's, Okta's) sign a JWT naming who
//! they are (`iss`), whom the token is for (`sub`) and the server (`aud`),
//! and trade it for an access token. The grant either carries a JWT made
//! elsewhere or signs one afresh for every request with an
//! [`AssertionKey`].

use std::sync::Arc;
use std::time::Duration;

use serde::Serialize;

use crate::client_auth::assertion::{AssertionKey, DEFAULT_ASSERTION_LIFETIME, unique_id};
use crate::grant::grant_type::{FormParam, GrantType, scope_param};
use crate::secret::{ExposeSecret, SecurityToken};

/// `urn:ietf:params:oauth:grant-type:jwt-bearer` (RFC 7523 §2.1).
///
/// ```
/// use authkit_core::client_auth::AssertionKey;
/// use authkit_core::grant::JwtBearerGrant;
/// use authkit_core::secret::SecretString;
///
/// let key = AssertionKey::hs256(&SecretString::from("a shared secret of at least 32 bytes"))?;
/// let grant = JwtBearerGrant::signed(key, "my-service", "https://login.example.com/token")
///     .with_subject("alice")
///     .with_scopes(["reports:read"]);
/// # let _ = grant;
/// # Ok::<(), authkit_core::Error>(())
/// ```
#[derive(Clone, Debug)]
pub struct JwtBearerGrant {
    source: Source,
    scopes: Vec<String>,
}

#[derive(Clone, Debug)]
enum Source {
    Given(SecurityToken),
    Signed {
        key: Arc<AssertionKey>,
        issuer: String,
        subject: Option<String>,
        audience: String,
        lifetime: Duration,
    },
}

#[derive(Serialize)]
struct BearerClaims<'a> {
    iss: &'a str,
    sub: &'a str,
    aud: &'a str,
    jti: String,
    iat: i64,
    exp: i64,
}

impl JwtBearerGrant {
    /// Presents `assertion`, a JWT made elsewhere.
    pub fn new(assertion: SecurityToken) -> Self {
        Self {
            source: Source::Given(assertion),
            scopes: Vec::new(),
        }
    }

    /// Signs a JWT with `key` for every request: `iss` is `issuer` (and
    /// `sub`, unless [`JwtBearerGrant::with_subject`] names another), `aud`
    /// is `audience` (usually the token endpoint's URL), with a unique `jti`
    /// and a lifetime of [`DEFAULT_ASSERTION_LIFETIME`].
    pub fn signed(
        key: AssertionKey,
        issuer: impl Into<String>,
        audience: impl Into<String>,
    ) -> Self {
        Self {
            source: Source::Signed {
                key: Arc::new(key),
                issuer: issuer.into(),
                subject: None,
                audience: audience.into(),
                lifetime: DEFAULT_ASSERTION_LIFETIME,
            },
            scopes: Vec::new(),
        }
    }

    /// The subject the token is for, when it is not the issuer (a user the
    /// service account acts for). Ignored for a JWT made elsewhere.
    pub fn with_subject(mut self, subject: impl Into<String>) -> Self {
        if let Source::Signed { subject: s, .. } = &mut self.source {
            *s = Some(subject.into());
        }
        self
    }

    /// Requests these scopes.
    pub fn with_scopes<I, S>(mut self, scopes: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.scopes = scopes.into_iter().map(Into::into).collect();
        self
    }

    fn assertion(&self) -> Option<SecurityToken> {
        match &self.source {
            Source::Given(token) => Some(token.clone()),
            Source::Signed {
                key,
                issuer,
                subject,
                audience,
                lifetime,
            } => {
                let iat = time::OffsetDateTime::now_utc().unix_timestamp();
                let lifetime = i64::try_from(lifetime.as_secs()).unwrap_or(i64::MAX);
                let claims = BearerClaims {
                    iss: issuer,
                    sub: subject.as_deref().unwrap_or(issuer),
                    aud: audience,
                    jti: unique_id().ok()?,
                    iat,
                    exp: iat.saturating_add(lifetime.max(1)),
                };
                key.sign(&claims)
                    .ok()
                    .map(|jwt| SecurityToken::new(jwt.expose_secret()))
            }
        }
    }
}

impl GrantType for JwtBearerGrant {
    fn grant_type(&self) -> &str {
        "urn:ietf:params:oauth:grant-type:jwt-bearer"
    }

    fn parameters(&self) -> Vec<FormParam> {
        // A key that signs was proven when it was built; should signing
        // still fail, the request goes without an assertion and the server
        // refuses it as `invalid_request`, which names the problem.
        let mut params: Vec<FormParam> = self
            .assertion()
            .map(|a| FormParam::secret("assertion", a.expose_secret()))
            .into_iter()
            .collect();
        params.extend(scope_param(&self.scopes));
        params
    }

    fn requested_scopes(&self) -> &[String] {
        &self.scopes
    }
}

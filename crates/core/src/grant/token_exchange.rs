//! The token exchange grant (RFC 8693): a token for another token.
//!
//! A service that holds a user's token asks for one it may pass on: for
//! another audience or resource, with fewer scopes, or acting for the user
//! (delegation, with an actor token). The subject and actor tokens are
//! secrets and travel as such.

use crate::grant::grant_type::{FormParam, GrantType, resource_params, scope_param};
use crate::secret::{ExposeSecret, SecurityToken};

/// The token type URIs of RFC 8693 §3.
pub mod token_types {
    /// An OAuth 2 access token.
    pub const ACCESS_TOKEN: &str = "urn:ietf:params:oauth:token-type:access_token";
    /// An OAuth 2 refresh token.
    pub const REFRESH_TOKEN: &str = "urn:ietf:params:oauth:token-type:refresh_token";
    /// An OpenID Connect id token.
    pub const ID_TOKEN: &str = "urn:ietf:params:oauth:token-type:id_token";
    /// A JWT (RFC 7519).
    pub const JWT: &str = "urn:ietf:params:oauth:token-type:jwt";
    /// A base64url-encoded SAML 2.0 assertion.
    pub const SAML2: &str = "urn:ietf:params:oauth:token-type:saml2";
}

/// `urn:ietf:params:oauth:grant-type:token-exchange` (RFC 8693 §2.1).
///
/// ```
/// use authkit_core::grant::{TokenExchangeGrant, token_types};
/// use authkit_core::secret::SecurityToken;
///
/// let grant = TokenExchangeGrant::new(SecurityToken::new("user-access-token"), token_types::ACCESS_TOKEN)
///     .with_audience("billing")
///     .with_scopes(["invoices:read"]);
/// # let _ = grant;
/// ```
#[derive(Clone, Debug)]
pub struct TokenExchangeGrant {
    subject_token: SecurityToken,
    subject_token_type: String,
    actor: Option<(SecurityToken, String)>,
    requested_token_type: Option<String>,
    audiences: Vec<String>,
    resources: Vec<String>,
    scopes: Vec<String>,
}

impl TokenExchangeGrant {
    /// Exchanges `subject_token`, of the type `subject_token_type` (one of
    /// [`token_types`]).
    pub fn new(subject_token: SecurityToken, subject_token_type: impl Into<String>) -> Self {
        Self {
            subject_token,
            subject_token_type: subject_token_type.into(),
            actor: None,
            requested_token_type: None,
            audiences: Vec::new(),
            resources: Vec::new(),
            scopes: Vec::new(),
        }
    }

    /// Acts for the subject: the party that acts and its token's type
    /// (delegation, RFC 8693 §1.1).
    pub fn with_actor(
        mut self,
        actor_token: SecurityToken,
        actor_token_type: impl Into<String>,
    ) -> Self {
        self.actor = Some((actor_token, actor_token_type.into()));
        self
    }

    /// Asks for a token of this type (`requested_token_type`).
    pub fn with_requested_token_type(mut self, token_type: impl Into<String>) -> Self {
        self.requested_token_type = Some(token_type.into());
        self
    }

    /// Names a logical audience the token is for; may be repeated.
    pub fn with_audience(mut self, audience: impl Into<String>) -> Self {
        self.audiences.push(audience.into());
        self
    }

    /// Asks for a token for this resource (RFC 8707); may be repeated.
    pub fn with_resource(mut self, resource: impl Into<String>) -> Self {
        self.resources.push(resource.into());
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
}

impl GrantType for TokenExchangeGrant {
    fn grant_type(&self) -> &str {
        "urn:ietf:params:oauth:grant-type:token-exchange"
    }

    fn parameters(&self) -> Vec<FormParam> {
        let mut params = vec![
            FormParam::secret("subject_token", self.subject_token.expose_secret()),
            FormParam::plain("subject_token_type", self.subject_token_type.clone()),
        ];
        if let Some((token, token_type)) = &self.actor {
            params.push(FormParam::secret("actor_token", token.expose_secret()));
            params.push(FormParam::plain("actor_token_type", token_type.clone()));
        }
        if let Some(token_type) = &self.requested_token_type {
            params.push(FormParam::plain("requested_token_type", token_type.clone()));
        }
        params.extend(
            self.audiences
                .iter()
                .map(|a| FormParam::plain("audience", a.clone())),
        );
        params.extend(resource_params(&self.resources));
        params.extend(scope_param(&self.scopes));
        params
    }

    fn requested_scopes(&self) -> &[String] {
        &self.scopes
    }

    fn resources(&self) -> &[String] {
        &self.resources
    }
}

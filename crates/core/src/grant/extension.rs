//! Extension grants (RFC 6749 §4.5): a grant type of the server's own,
//! named by an absolute URI, with parameters of its own.
//!
//! Most providers' own grants are nothing more than a `grant_type` and a few
//! form fields, one of them a secret. [`ExtensionGrant`] is that, so an
//! adapter states the facts instead of writing a [`GrantType`]: secrets go
//! in as [`FormParam::secret`] and stay redacted in `Debug`, errors and logs.
//! A grant with behaviour of its own (single use, signed parameters)
//! implements [`GrantType`] itself.

use crate::grant::grant_type::{FormParam, GrantType, resource_params, scope_param};

/// A grant type of the server's own, with its form fields.
///
/// ```
/// use authkit_core::grant::{ExtensionGrant, FormParam};
///
/// let grant = ExtensionGrant::new("urn:acme:params:oauth:grant-type:api-key")
///     .with_param(FormParam::secret("api_key", "k-123"))
///     .with_scopes(["reports"]);
/// assert!(!format!("{grant:?}").contains("k-123"));
/// ```
#[derive(Clone, Debug)]
pub struct ExtensionGrant {
    grant_type: String,
    params: Vec<FormParam>,
    scopes: Vec<String>,
    resources: Vec<String>,
}

impl ExtensionGrant {
    /// The grant `grant_type` (an absolute URI, RFC 6749 §4.5), with no
    /// fields yet.
    pub fn new(grant_type: impl Into<String>) -> Self {
        Self {
            grant_type: grant_type.into(),
            params: Vec::new(),
            scopes: Vec::new(),
            resources: Vec::new(),
        }
    }

    /// Adds a form field (plain or secret).
    pub fn with_param(mut self, param: FormParam) -> Self {
        self.params.push(param);
        self
    }

    /// Asks for these scopes; sets are bound to them.
    pub fn with_scopes<I, S>(mut self, scopes: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.scopes = scopes.into_iter().map(Into::into).collect();
        self
    }

    /// Asks for a token for this resource (RFC 8707); may be repeated.
    pub fn with_resource(mut self, resource: impl Into<String>) -> Self {
        self.resources.push(resource.into());
        self
    }
}

impl GrantType for ExtensionGrant {
    fn grant_type(&self) -> &str {
        &self.grant_type
    }

    fn parameters(&self) -> Vec<FormParam> {
        let mut params = self.params.clone();
        params.extend(scope_param(&self.scopes));
        params.extend(resource_params(&self.resources));
        params
    }

    fn requested_scopes(&self) -> &[String] {
        &self.scopes
    }

    fn resources(&self) -> &[String] {
        &self.resources
    }
}

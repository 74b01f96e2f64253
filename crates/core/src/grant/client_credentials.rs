//! The client credentials grant (RFC 6749 §4.4).

use crate::grant::grant_type::{FormParam, GrantType, resource_params, scope_param};

/// Tokens for the client itself, authenticated by the endpoint's client
/// authentication; no user is involved.
#[derive(Clone, Debug, Default)]
pub struct ClientCredentialsGrant {
    scopes: Vec<String>,
    resources: Vec<String>,
}

impl ClientCredentialsGrant {
    /// A client credentials grant with no explicit scope.
    pub fn new() -> Self {
        Self::default()
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

    /// Asks for a token for this resource (RFC 8707); may be repeated.
    pub fn with_resource(mut self, resource: impl Into<String>) -> Self {
        self.resources.push(resource.into());
        self
    }
}

impl GrantType for ClientCredentialsGrant {
    fn grant_type(&self) -> &str {
        "client_credentials"
    }

    fn parameters(&self) -> Vec<FormParam> {
        scope_param(&self.scopes)
            .into_iter()
            .chain(resource_params(&self.resources))
            .collect()
    }

    fn requested_scopes(&self) -> &[String] {
        &self.scopes
    }

    fn resources(&self) -> &[String] {
        &self.resources
    }
}

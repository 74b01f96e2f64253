//! The refresh token grant (RFC 6749 §6).

use secrecy::ExposeSecret;

use crate::grant::grant_type::{FormParam, GrantType, resource_params, scope_param};
use crate::secret::RefreshToken;

/// Exchanges a refresh token for a new token set.
///
/// Single-use: many servers rotate refresh tokens and treat a second use of
/// the same one as theft, revoking the whole family. The endpoint therefore
/// never re-sends this grant unless the request certainly did not arrive.
#[derive(Clone, Debug)]
pub struct RefreshTokenGrant {
    refresh_token: RefreshToken,
    scopes: Vec<String>,
    resources: Vec<String>,
}

impl RefreshTokenGrant {
    /// A refresh with the given token, keeping the originally granted scopes.
    pub fn new(refresh_token: RefreshToken) -> Self {
        Self {
            refresh_token,
            scopes: Vec::new(),
            resources: Vec::new(),
        }
    }

    /// Narrows the request to these scopes.
    pub fn with_scopes<I, S>(mut self, scopes: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.scopes = scopes.into_iter().map(Into::into).collect();
        self
    }

    /// Asks for a token for these resources (RFC 8707), as the original
    /// grant did.
    pub fn with_resources(mut self, resources: &[String]) -> Self {
        self.resources = resources.to_vec();
        self
    }
}

impl GrantType for RefreshTokenGrant {
    fn grant_type(&self) -> &str {
        "refresh_token"
    }

    fn parameters(&self) -> Vec<FormParam> {
        let mut params = vec![FormParam::secret(
            "refresh_token",
            self.refresh_token.expose_secret(),
        )];
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

    fn is_single_use(&self) -> bool {
        true
    }
}

//! The resource owner password credentials grant (RFC 6749 §4.3).

use secrecy::ExposeSecret;

use crate::grant::grant_type::{FormParam, GrantType, resource_params, scope_param};
use crate::secret::{Password, Username};

/// Exchanges a user name and password for tokens.
///
/// RFC 9700 (OAuth 2.0 Security Best Current Practice) says this grant must
/// not be used, because the client sees the password. It remains the only way
/// some providers offer for unattended server-to-server use; prefer the
/// authorization code grant wherever a person can sign in once.
#[derive(Clone, Debug)]
pub struct PasswordGrant {
    username: Username,
    password: Password,
    scopes: Vec<String>,
    resources: Vec<String>,
}

impl PasswordGrant {
    /// A password grant for one user.
    pub fn new(username: impl Into<Username>, password: Password) -> Self {
        Self {
            username: username.into(),
            password,
            scopes: Vec::new(),
            resources: Vec::new(),
        }
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

    /// The user name.
    pub fn username(&self) -> &Username {
        &self.username
    }
}

impl GrantType for PasswordGrant {
    fn grant_type(&self) -> &str {
        "password"
    }

    fn parameters(&self) -> Vec<FormParam> {
        let mut params = vec![
            FormParam::plain("username", self.username.as_str()),
            FormParam::secret("password", self.password.expose_secret()),
        ];
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

//! The authorization code grant's token request (RFC 6749 §4.1.3), with PKCE
//! (RFC 7636).

use secrecy::ExposeSecret;

use crate::grant::grant_type::{FormParam, GrantType};

use crate::grant::pkce::PkceVerifier;
use crate::secret::AuthorizationCode;

/// Exchanges the code from the authorization endpoint's redirect for tokens.
///
/// The `redirect_uri` must be byte-identical to the one in the authorization
/// request; the PKCE verifier is the one whose challenge that request carried.
#[derive(Clone, Debug)]
pub struct AuthorizationCodeGrant {
    code: AuthorizationCode,
    redirect_uri: String,
    pkce_verifier: Option<PkceVerifier>,
    scopes: Vec<String>,
}

impl AuthorizationCodeGrant {
    /// An exchange of `code`, which was sent to `redirect_uri`.
    pub fn new(code: AuthorizationCode, redirect_uri: impl Into<String>) -> Self {
        Self {
            code,
            redirect_uri: redirect_uri.into(),
            pkce_verifier: None,
            scopes: Vec::new(),
        }
    }

    /// Adds the PKCE verifier whose challenge the authorization request sent.
    pub fn with_pkce_verifier(mut self, verifier: PkceVerifier) -> Self {
        self.pkce_verifier = Some(verifier);
        self
    }

    /// The scopes the authorization request asked for. They are not sent
    /// again; a token set whose response names no `scope` is bound to them.
    pub fn for_scopes<I, S>(mut self, scopes: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.scopes = scopes.into_iter().map(Into::into).collect();
        self
    }
}

impl GrantType for AuthorizationCodeGrant {
    fn grant_type(&self) -> &str {
        "authorization_code"
    }

    fn parameters(&self) -> Vec<FormParam> {
        let mut params = vec![
            FormParam::secret("code", self.code.expose_secret()),
            FormParam::plain("redirect_uri", self.redirect_uri.clone()),
        ];
        if let Some(verifier) = &self.pkce_verifier {
            params.push(FormParam::secret("code_verifier", verifier.expose_secret()));
        }
        params
    }

    fn requested_scopes(&self) -> &[String] {
        &self.scopes
    }

    fn is_single_use(&self) -> bool {
        true
    }
}

//! Revocation (RFC 7009): telling the server a token is no longer wanted.
//!
//! Signing out removes tokens locally, but a copied refresh token stays
//! usable at the server until it expires. A server with a revocation
//! endpoint can be told: revoking the refresh token (which, by §2.1, also
//! ends the access tokens issued from the same grant on most servers), then
//! the access token for servers that keep them apart. A revocation request
//! is authenticated like a token request, with the same client.
//!
//! [`crate::TokenManager::sign_out`] revokes through the provider
//! ([`crate::TokenProvider::revoke`]) and removes the set under the store's
//! hold whether or not the server agreed; the [`SignOut`] it returns says
//! what the server did.

use url::Url;

use crate::endpoint::token_endpoint::{Call, RequestContext, TokenEndpoint};

use crate::error::Error;
use crate::grant::grant_type::FormParam;
use crate::grant::kind::GrantKind;
use crate::secret::ExposeSecret;
use crate::token::token_set::TokenSet;
use crate::transport::url_policy::validate_url;

/// Which kind of token is revoked (`token_type_hint`, RFC 7009 §2.1).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TokenTypeHint {
    /// `access_token`
    AccessToken,
    /// `refresh_token`
    RefreshToken,
}

impl TokenTypeHint {
    /// The hint as it goes on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            TokenTypeHint::AccessToken => "access_token",
            TokenTypeHint::RefreshToken => "refresh_token",
        }
    }
}

/// A client for one revocation endpoint, authenticated as the token
/// endpoint's client and over its connections.
#[derive(Clone, Debug)]
pub struct RevocationEndpoint {
    endpoint: TokenEndpoint,
    url: Url,
}

impl RevocationEndpoint {
    /// Revokes at `url` as `endpoint`'s client.
    pub fn new(endpoint: TokenEndpoint, url: &str) -> Result<Self, Error> {
        Ok(Self {
            endpoint,
            url: validate_url(url)?,
        })
    }

    /// The endpoint's URL.
    pub fn url(&self) -> &Url {
        &self.url
    }

    /// Revokes one token. A 200 is success, also for a token the server did
    /// not know (§2.2); a 503 is transient and retried as the retry policy
    /// allows; an error body is the server's refusal.
    pub async fn revoke(
        &self,
        token: &str,
        hint: TokenTypeHint,
        cx: &RequestContext,
    ) -> Result<(), Error> {
        let call = Call {
            url: &self.url,
            label: "revocation",
            grant_type: None,
            params: vec![
                FormParam::secret("token", token),
                FormParam::plain("token_type_hint", hint.as_str()),
            ],
            single_use: false,
        };
        let endpoint = &self.endpoint;
        endpoint
            .send(&call, cx, |response, _| match response.status {
                200..=299 => Ok(()),
                _ => Err(endpoint.failure(&response, GrantKind::Other("revocation".into()), cx)),
            })
            .await
    }

    /// Revokes a set: its refresh token first, then its access token. Stops
    /// at the first failure.
    pub async fn revoke_set(&self, tokens: &TokenSet, cx: &RequestContext) -> Result<(), Error> {
        if let Some(refresh) = tokens.refresh_token() {
            self.revoke(refresh.expose_secret(), TokenTypeHint::RefreshToken, cx)
                .await?;
        }
        self.revoke(
            tokens.access_token().expose_secret(),
            TokenTypeHint::AccessToken,
            cx,
        )
        .await
    }
}

/// What the server did when an account signed out.
#[derive(Debug)]
#[non_exhaustive]
pub enum Revocation {
    /// The server revoked the stored tokens.
    Revoked,
    /// The provider has no revocation endpoint; the tokens stay valid at the
    /// server until they expire.
    NotOffered,
    /// Nothing was stored, so there was nothing to revoke.
    NothingStored,
    /// The server could not be told (it refused, failed or was
    /// unreachable); the tokens may stay valid there until they expire.
    Failed(Error),
}

/// The outcome of [`crate::TokenManager::sign_out`]: the account is gone
/// from the store and from memory; this says what the server did.
#[derive(Debug)]
#[must_use = "a failed revocation leaves tokens valid at the server; tell the user"]
pub struct SignOut {
    revocation: Revocation,
}

impl SignOut {
    pub(crate) fn new(revocation: Revocation) -> Self {
        Self { revocation }
    }

    /// What the server did.
    pub fn revocation(&self) -> &Revocation {
        &self.revocation
    }

    /// Whether the server revoked the tokens.
    pub fn revoked(&self) -> bool {
        matches!(self.revocation, Revocation::Revoked)
    }
}

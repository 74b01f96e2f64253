//! What goes on an API request: the `Authorization` header, and for a
//! DPoP-bound token the proof that the caller holds its key.
//!
//! A Bearer token is the header alone. A DPoP-bound token (RFC 9449 §7) goes
//! as `Authorization: DPoP <token>`, never as Bearer, with a `DPoP` header
//! holding a proof for this request's method and URL and the token's hash
//! (`ath`), and the resource server's last nonce. The token and the key come
//! from the same cached set, so a proof always matches its token.

use reqwest::header::HeaderValue;
use url::Url;

use crate::dpop::DpopContext;
use crate::error::Error;
use crate::manager::token_manager::TokenManager;
use crate::secret::AccessToken;
use crate::token::token_set::TokenType;

/// The headers for one API request. `Debug` shows neither.
#[derive(Clone)]
pub struct Authorization {
    token: AccessToken,
    authorization: HeaderValue,
    dpop: Option<HeaderValue>,
}

impl std::fmt::Debug for Authorization {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Authorization")
            .field(
                "scheme",
                &if self.dpop.is_some() {
                    "DPoP"
                } else {
                    "Bearer"
                },
            )
            .finish_non_exhaustive()
    }
}

impl Authorization {
    /// The access token sent (to report it with
    /// [`TokenManager::invalidate_token`] when the API refuses it).
    pub fn token(&self) -> &AccessToken {
        &self.token
    }

    /// The `Authorization` header value (`Bearer …` or `DPoP …`), marked
    /// sensitive.
    pub fn authorization(&self) -> &HeaderValue {
        &self.authorization
    }

    /// The `DPoP` header value (the proof), for a DPoP-bound token.
    pub fn dpop(&self) -> Option<&HeaderValue> {
        self.dpop.as_ref()
    }
}

impl TokenManager {
    /// The headers for a `method` request to `url`: a valid access token (as
    /// [`TokenManager::access_token`] gives it) in the scheme its server
    /// bound it to, and for DPoP a fresh proof.
    pub async fn authorize(&self, method: &str, url: &Url) -> Result<Authorization, Error> {
        let token = self.access_token().await?;
        self.authorization_for(token, method, url)
    }

    /// The headers for `token`, which [`TokenManager::access_token`] handed
    /// out, on a `method` request to `url`.
    pub fn authorization_for(
        &self,
        token: AccessToken,
        method: &str,
        url: &Url,
    ) -> Result<Authorization, Error> {
        let cached = self.inner.cache.load_full();
        let bound = cached
            .as_ref()
            .map(|c| &c.tokens)
            .filter(|set| set.access_token().same_secret(&token))
            .filter(|set| *set.token_type() == TokenType::DPoP)
            .and_then(|set| set.dpop_key().cloned());
        let (Some(key), Some(nonces)) = (bound, self.inner.dpop.as_ref()) else {
            return Ok(Authorization {
                authorization: token.bearer_header(),
                token,
                dpop: None,
            });
        };
        let context = DpopContext::new(key, nonces.clone());
        let dpop = context.proof_header(method, url, Some(&token), self.inner.clock.now())?;
        Ok(Authorization {
            authorization: token.header_with_scheme("DPoP"),
            token,
            dpop: Some(dpop),
        })
    }

    /// Remembers the `DPoP-Nonce` a resource server at `url` sent, for the
    /// next proof to it (RFC 9449 §9). Without DPoP it does nothing.
    pub fn remember_dpop_nonce(&self, url: &Url, nonce: &str) {
        if let Some(nonces) = &self.inner.dpop {
            nonces.set(url, nonce);
        }
    }
}

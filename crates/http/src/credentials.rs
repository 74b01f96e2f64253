//! The headers a request carries for its account: `Authorization` (Bearer,
//! or DPoP for a DPoP-bound token, RFC 9449 §7) and the DPoP proof; and the
//! resource server's demand for a DPoP nonce (§9). Shared by the middleware
//! and the tower layer.

use authkit_core::{AccessToken, Error, TokenManager};
use http::header::{AUTHORIZATION, WWW_AUTHENTICATE};
use http::{HeaderMap, HeaderValue, StatusCode};
use url::Url;

use crate::decision::{Verdict, verdict};

/// What one request sends.
pub(crate) struct Credentials {
    pub(crate) token: AccessToken,
    authorization: HeaderValue,
    dpop: Option<HeaderValue>,
}

impl Credentials {
    /// Sets the headers on `headers`.
    pub(crate) fn apply(&self, headers: &mut HeaderMap) {
        headers.insert(AUTHORIZATION, self.authorization.clone());
        match &self.dpop {
            Some(proof) => {
                headers.insert("dpop", proof.clone());
            }
            None => {
                headers.remove("dpop");
            }
        }
    }
}

/// The credentials for `token` on a `method` request to `url`: Bearer, or
/// DPoP with a fresh proof when the manager binds tokens to a key.
pub(crate) fn credentials_for(
    manager: &TokenManager,
    token: AccessToken,
    method: &str,
    url: &str,
) -> Result<Credentials, Error> {
    if !manager.uses_dpop() {
        return Ok(Credentials {
            authorization: token.bearer_header(),
            token,
            dpop: None,
        });
    }
    let url = Url::parse(url).map_err(|_| {
        Error::config(format!(
            "a DPoP proof names the request's absolute URL, and {url:?} is not one"
        ))
    })?;
    let authorization = manager.authorization_for(token, method, &url)?;
    Ok(Credentials {
        token: authorization.token().clone(),
        authorization: authorization.authorization().clone(),
        dpop: authorization.dpop().cloned(),
    })
}

/// Why a response calls for the one replay.
pub(crate) enum Replay {
    /// The API wants a DPoP nonce (RFC 9449 §9): the same token, a new proof.
    Nonce(String),
    /// The API refused the token: a fresh one.
    FreshToken,
}

/// Whether the response calls for a replay, and why.
pub(crate) fn replay_for(status: StatusCode, headers: &HeaderMap) -> Option<Replay> {
    if let Some(nonce) = demanded_nonce(status, headers) {
        return Some(Replay::Nonce(nonce));
    }
    (verdict(status, headers) == Verdict::Refused).then_some(Replay::FreshToken)
}

/// The credentials to replay a `method` request to `url` with, after `sent`
/// met `replay`; `None` when there is nothing new to send (the manager has
/// no fresher token than the refused one).
pub(crate) async fn replay_credentials(
    manager: &TokenManager,
    replay: Replay,
    sent: &Credentials,
    method: &str,
    url: &str,
) -> Result<Option<Credentials>, Error> {
    match replay {
        Replay::Nonce(nonce) => {
            if let Ok(parsed) = Url::parse(url) {
                manager.remember_dpop_nonce(&parsed, &nonce);
            }
            tracing::debug!(account = %manager.account_key(), "the API wants a DPoP nonce; replaying once with it");
            credentials_for(manager, sent.token.clone(), method, url).map(Some)
        }
        Replay::FreshToken => {
            manager.invalidate_token(&sent.token);
            let fresh = manager.access_token().await?;
            if fresh.same_secret(&sent.token) {
                return Ok(None);
            }
            tracing::debug!(account = %manager.account_key(), "the token was refused; replaying once with a fresh one");
            credentials_for(manager, fresh, method, url).map(Some)
        }
    }
}

/// The nonce a resource server demands (RFC 9449 §9): a 401 whose DPoP
/// challenge says `use_dpop_nonce`, with a `DPoP-Nonce` header.
fn demanded_nonce(status: StatusCode, headers: &HeaderMap) -> Option<String> {
    if status != StatusCode::UNAUTHORIZED {
        return None;
    }
    let asks = headers.get_all(WWW_AUTHENTICATE).iter().any(|value| {
        value.to_str().is_ok_and(|v| {
            let v = v.trim_start();
            v.len() > 4 && v[..4].eq_ignore_ascii_case("dpop") && v.contains("use_dpop_nonce")
        })
    });
    if !asks {
        return None;
    }
    headers
        .get("dpop-nonce")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_nonce_is_demanded_only_by_a_401_with_the_dpop_challenge_and_a_nonce() {
        let mut headers = HeaderMap::new();
        headers.insert(
            WWW_AUTHENTICATE,
            HeaderValue::from_static(r#"DPoP error="use_dpop_nonce", error_description="Resource server requires nonce in DPoP proof""#),
        );
        headers.insert(
            "dpop-nonce",
            HeaderValue::from_static("eyJ7S_zG.eyJH0-Z.HX4w-7v"),
        );
        assert_eq!(
            demanded_nonce(StatusCode::UNAUTHORIZED, &headers).as_deref(),
            Some("eyJ7S_zG.eyJH0-Z.HX4w-7v")
        );
        assert_eq!(demanded_nonce(StatusCode::FORBIDDEN, &headers), None);
        headers.remove("dpop-nonce");
        assert_eq!(demanded_nonce(StatusCode::UNAUTHORIZED, &headers), None);
        let mut bearer = HeaderMap::new();
        bearer.insert(
            WWW_AUTHENTICATE,
            HeaderValue::from_static(r#"Bearer error="invalid_token""#),
        );
        bearer.insert("dpop-nonce", HeaderValue::from_static("n"));
        assert_eq!(demanded_nonce(StatusCode::UNAUTHORIZED, &bearer), None);
    }
}

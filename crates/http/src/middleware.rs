//! The reqwest-middleware: a token on every request, a 401 handled once.

use std::fmt;

use authkit_core::TokenManager;
use http::Extensions;
use reqwest_middleware::{Middleware, Next};
use tracing::Instrument;

use crate::challenge::BearerChallenge;
use crate::choice::manager_for;
use crate::credentials::{credentials_for, replay_credentials, replay_for};

/// Attaches `Authorization: Bearer <token>` from a [`TokenManager`] to every
/// request of a `reqwest_middleware::ClientWithMiddleware`, and replays a
/// request refused with 401 once with a fresh token.
///
/// ```no_run
/// # async fn run(manager: authkit_core::TokenManager) -> Result<(), Box<dyn std::error::Error>> {
/// use authkit_http::AuthMiddleware;
///
/// let api = reqwest_middleware::ClientBuilder::new(authkit_core::transport::http_client_builder()?.build()?)
///     .with(AuthMiddleware::new(manager))
///     .build();
/// let me = api.get("https://api.example.com/me").send().await?;
/// # let _ = me; Ok(()) }
/// ```
///
/// On a 401, or a challenge with `error="invalid_token"`, exactly the token
/// that was sent is invalidated (so many requests refused with the same token
/// cause one refresh) and the request is sent once more with a fresh token,
/// when it can be cloned (a body in memory); a streaming body is not replayed.
/// A second refusal, and a 403 with `insufficient_scope`, go back to the
/// caller, with the parsed [`BearerChallenge`] in the response's extensions.
/// A failure to get a token is a `reqwest_middleware::Error::Middleware`
/// holding the [`authkit_core::Error`].
#[derive(Clone)]
pub struct AuthMiddleware {
    manager: TokenManager,
}

impl AuthMiddleware {
    /// Tokens from `manager`, unless a request names another
    /// ([`crate::UseManager`]) or opts out ([`crate::WithoutToken`]).
    pub fn new(manager: TokenManager) -> Self {
        Self { manager }
    }
}

impl fmt::Debug for AuthMiddleware {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AuthMiddleware")
            .field("account", self.manager.account_key())
            .finish()
    }
}

fn with_challenge(mut response: reqwest::Response) -> reqwest::Response {
    if let Some(challenge) = BearerChallenge::from_headers(response.headers()) {
        challenge.attach_to(response.extensions_mut());
    }
    response
}

#[async_trait::async_trait]
impl Middleware for AuthMiddleware {
    async fn handle(
        &self,
        request: reqwest::Request,
        extensions: &mut Extensions,
        next: Next<'_>,
    ) -> reqwest_middleware::Result<reqwest::Response> {
        let Some(manager) = manager_for(extensions, &self.manager).cloned() else {
            return next.run(request, extensions).await.map(with_challenge);
        };
        let span = request_span(&manager);
        send_with_token(manager, request, extensions, next)
            .instrument(span)
            .await
    }
}

/// A span per request naming the account (never the token), following from
/// the flight that produced the current tokens.
pub(crate) fn request_span(manager: &TokenManager) -> tracing::Span {
    let span = tracing::debug_span!("authkit.http.request", account = %manager.account_key());
    if let Some(flight) = manager.flight_span_id() {
        span.follows_from(flight);
    }
    span
}

async fn send_with_token(
    manager: TokenManager,
    mut request: reqwest::Request,
    extensions: &mut Extensions,
    next: Next<'_>,
) -> reqwest_middleware::Result<reqwest::Response> {
    let token = manager
        .access_token()
        .await
        .map_err(reqwest_middleware::Error::middleware)?;
    let method = request.method().as_str().to_owned();
    let url = request.url().to_string();
    let sent = credentials_for(&manager, token, &method, &url)
        .map_err(reqwest_middleware::Error::middleware)?;
    let replay = request.try_clone();
    sent.apply(request.headers_mut());
    let response = next.clone().run(request, extensions).await?;
    let Some(why) = replay_for(response.status(), response.headers()) else {
        return Ok(with_challenge(response));
    };
    let Some(mut again) = replay else {
        tracing::debug!(account = %manager.account_key(), "the token was refused; the request has a streaming body and is not replayed");
        return Ok(with_challenge(response));
    };
    let Some(retry) = replay_credentials(&manager, why, &sent, &method, &url)
        .await
        .map_err(reqwest_middleware::Error::middleware)?
    else {
        return Ok(with_challenge(response));
    };
    retry.apply(again.headers_mut());
    let second = next.run(again, extensions).await?;
    Ok(with_challenge(second))
}

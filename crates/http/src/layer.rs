//! The tower layer: the same for hyper, tonic and any tower client.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use authkit_core::TokenManager;
use tower_layer::Layer;
use tower_service::Service;
use tracing::Instrument;

use crate::body::{ReplayBody, try_clone_request};
use crate::challenge::BearerChallenge;
use crate::choice::manager_for;
use crate::credentials::{credentials_for, replay_credentials, replay_for};

/// The error of an [`AuthService`]: the inner service's, or the token's
/// ([`authkit_core::Error`], which it can be downcast to).
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// A [`Layer`] that wraps a service in an [`AuthService`].
///
/// ```no_run
/// # fn run(manager: authkit_core::TokenManager) {
/// use authkit_http::AuthLayer;
/// use tower::ServiceBuilder;
///
/// let client = hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
///     .build_http::<http_body_util::Full<bytes::Bytes>>();
/// let api = ServiceBuilder::new().layer(AuthLayer::new(manager)).service(client);
/// # let _ = api; }
/// ```
#[derive(Clone)]
pub struct AuthLayer {
    manager: TokenManager,
}

impl AuthLayer {
    /// Tokens from `manager`, unless a request names another
    /// ([`crate::UseManager`]) or opts out ([`crate::WithoutToken`]).
    pub fn new(manager: TokenManager) -> Self {
        Self { manager }
    }
}

impl fmt::Debug for AuthLayer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AuthLayer")
            .field("account", self.manager.account_key())
            .finish()
    }
}

impl<S> Layer<S> for AuthLayer {
    type Service = AuthService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        AuthService {
            inner,
            manager: self.manager.clone(),
        }
    }
}

/// A service that sets `Authorization: Bearer <token>` on every
/// `http::Request` (for gRPC: the `authorization` metadata) and replays a
/// request refused with 401, `invalid_token` or gRPC `UNAUTHENTICATED` once
/// with a fresh token, when its body implements [`ReplayBody`] with a copy.
/// The parsed [`BearerChallenge`] of a refusal that goes back to the caller
/// is in the response's extensions.
#[derive(Clone)]
pub struct AuthService<S> {
    inner: S,
    manager: TokenManager,
}

impl<S> fmt::Debug for AuthService<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AuthService")
            .field("account", self.manager.account_key())
            .finish_non_exhaustive()
    }
}

fn with_challenge<B>(mut response: http::Response<B>) -> http::Response<B> {
    if let Some(challenge) = BearerChallenge::from_headers(response.headers()) {
        challenge.attach_to(response.extensions_mut());
    }
    response
}

impl<S, B, R> Service<http::Request<B>> for AuthService<S>
where
    S: Service<http::Request<B>, Response = http::Response<R>> + Clone + Send + 'static,
    S::Future: Send,
    S::Error: Into<BoxError>,
    B: ReplayBody + Send + 'static,
    R: Send + 'static,
{
    type Response = http::Response<R>;
    type Error = BoxError;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, BoxError>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), BoxError>> {
        self.inner.poll_ready(cx).map_err(Into::into)
    }

    fn call(&mut self, mut request: http::Request<B>) -> Self::Future {
        // The clone that was made ready goes with this call; this service
        // keeps a fresh clone for the next (the usual tower pattern).
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        let manager = manager_for(request.extensions(), &self.manager).cloned();
        let span = manager
            .as_ref()
            .map_or_else(tracing::Span::none, crate::middleware::request_span);
        Box::pin(async move {
            let Some(manager) = manager else {
                let response = inner.call(request).await.map_err(Into::into)?;
                return Ok(with_challenge(response));
            };
            let token = manager.access_token().await.map_err(Box::new)?;
            let method = request.method().as_str().to_owned();
            let url = request.uri().to_string();
            let sent = credentials_for(&manager, token, &method, &url).map_err(Box::new)?;
            let replay = try_clone_request(&request);
            sent.apply(request.headers_mut());
            let response = inner.call(request).await.map_err(Into::into)?;
            let Some(why) = replay_for(response.status(), response.headers()) else {
                return Ok(with_challenge(response));
            };
            let Some(mut again) = replay else {
                tracing::debug!(account = %manager.account_key(), "the token was refused; the body cannot be replayed");
                return Ok(with_challenge(response));
            };
            let Some(retry) = replay_credentials(&manager, why, &sent, &method, &url)
                .await
                .map_err(Box::new)?
            else {
                return Ok(with_challenge(response));
            };
            retry.apply(again.headers_mut());
            futures::future::poll_fn(|cx| inner.poll_ready(cx))
                .await
                .map_err(Into::into)?;
            let second = inner.call(again).await.map_err(Into::into)?;
            Ok(with_challenge(second))
        }.instrument(span))
    }
}

//! The token endpoint client: one token request, made by the wire rules.

use std::borrow::Cow;
use std::fmt;
use std::sync::Arc;
use std::time::Instant;

use reqwest::header::HeaderValue;
use secrecy::{ExposeSecret, SecretString};
use url::Url;

use crate::client_auth::ClientAuth;
use crate::clock::{Clock, system_clock};
use crate::dpop::DpopContext;
use crate::endpoint::response::{ParseContext, ResponseParts, interpret};
use crate::endpoint::retry::{self, RetryPolicy};
use crate::error::Error;
use crate::error::protocol::ProtocolError;
use crate::error::refusal::ErrorCode;
use crate::error::transient::{TransientError, TransientKind};
use crate::grant::grant_type::{FormParam, GrantType};
use crate::grant::kind::GrantKind;
use crate::token::binding::Binding;
use crate::token::token_set::{TokenSet, TokenType};
use crate::transport::exchange::{FormRequest, RawResponse, Transport};

/// What a token request needs from whoever makes it: the clock that
/// lifetimes and `Retry-After` dates are counted with. The manager passes its
/// own, so one clock rules a whole account.
#[derive(Clone, Debug)]
pub struct RequestContext {
    clock: Arc<dyn Clock>,
    dpop: Option<DpopContext>,
}

impl RequestContext {
    /// A context on `clock`.
    pub fn new(clock: Arc<dyn Clock>) -> Self {
        Self { clock, dpop: None }
    }

    /// The same context with DPoP (RFC 9449): every request carries a proof
    /// signed with the context's key, and tokens come back bound to it.
    pub fn with_dpop(mut self, dpop: DpopContext) -> Self {
        self.dpop = Some(dpop);
        self
    }

    /// The clock.
    pub fn clock(&self) -> &Arc<dyn Clock> {
        &self.clock
    }

    /// The DPoP key and nonces requests are made with, if any.
    pub fn dpop(&self) -> Option<&DpopContext> {
        self.dpop.as_ref()
    }
}

impl Default for RequestContext {
    /// A context on the system clock.
    fn default() -> Self {
        Self::new(system_clock())
    }
}

/// A client for one token endpoint with one client authentication. Cheap to
/// clone; clones share the connection pool.
#[derive(Clone)]
pub struct TokenEndpoint {
    pub(crate) inner: Arc<Inner>,
}

#[derive(Clone)]
pub(crate) struct Inner {
    pub(crate) url: Url,
    pub(crate) auth: ClientAuth,
    pub(crate) transport: Arc<dyn Transport>,
    pub(crate) timeout: std::time::Duration,
    pub(crate) retry: RetryPolicy,
    pub(crate) max_response_bytes: usize,
    pub(crate) default_lifetime: time::Duration,
    pub(crate) default_refresh_lifetime: Option<time::Duration>,
    pub(crate) accepted_token_types: Vec<TokenType>,
    pub(crate) description_fields: Vec<String>,
}

impl fmt::Debug for TokenEndpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenEndpoint")
            .field("url", &self.inner.url.as_str())
            .field("client_auth", &self.inner.auth)
            .field("retry", &self.inner.retry)
            .finish_non_exhaustive()
    }
}

impl TokenEndpoint {
    /// The endpoint's URL.
    pub fn url(&self) -> &Url {
        &self.inner.url
    }

    /// The client authentication it uses.
    pub fn client_auth(&self) -> &ClientAuth {
        &self.inner.auth
    }

    /// The binding of the sets this endpoint issues, before scopes and
    /// resources: its URL and the client id.
    pub fn binding(&self) -> Binding {
        Binding::new(&self.inner.url, self.inner.auth.client_id().clone())
    }

    /// The same endpoint with another client authentication of the same
    /// client, sharing the connection pool and every other setting. For
    /// servers that want one style for one grant and another for the next
    /// (Vonage: HTTP Basic for the code exchange, the secret in the body for
    /// the others).
    pub fn with_client_auth(&self, auth: ClientAuth) -> TokenEndpoint {
        TokenEndpoint {
            inner: Arc::new(Inner {
                auth,
                ..(*self.inner).clone()
            }),
        }
    }

    /// Sends `grant` and returns the token set the server granted, bound to
    /// this endpoint and client, retrying failures that the [`RetryPolicy`]
    /// allows.
    pub async fn request(
        &self,
        grant: &dyn GrantType,
        cx: &RequestContext,
    ) -> Result<TokenSet, Error> {
        let kind = grant.kind();
        let call = Call {
            url: &self.inner.url,
            label: kind.as_str(),
            grant_type: Some(grant.grant_type()),
            params: grant.parameters(),
            single_use: grant.is_single_use(),
        };
        let started = Instant::now();
        let result = self
            .send(&call, cx, |response, sent_at| {
                self.interpret_tokens(grant, response, sent_at, cx)
            })
            .await;
        crate::telemetry::token_request(&kind, &result, started.elapsed());
        result
    }

    /// Sends a form POST with this client's authentication to `url`, one of
    /// the authorization server's endpoints (device authorization,
    /// revocation, introspection), with the same wire rules, timeouts and
    /// retries as a token request. `interpret` turns each response into the
    /// answer or an error; its retryable errors are retried.
    pub(crate) async fn send<T>(
        &self,
        call: &Call<'_>,
        cx: &RequestContext,
        interpret: impl Fn(RawResponse, time::OffsetDateTime) -> Result<T, Error>,
    ) -> Result<T, Error> {
        let authorization = self.authorization_header()?;
        // Assertions are signed per attempt (a `jti` never repeats); other
        // bodies are encoded once.
        let mut body = None;
        let started = Instant::now();
        let mut attempt = 1u32;
        let mut nonce_retried = false;
        loop {
            tracing::debug!(
                request = call.label,
                url = %call.url,
                client_auth = self.inner.auth.style(),
                attempt,
                "authorization server request"
            );
            if body.is_none() || self.inner.auth.signs_each_request() {
                body = Some(self.encode_body(call, cx)?);
            }
            let encoded = body
                .as_ref()
                .map(|b| b.expose_secret().as_bytes())
                .unwrap_or_default();
            let proof = match cx.dpop() {
                Some(dpop) => Some(dpop.proof_header("POST", call.url, None, cx.clock.now())?),
                None => None,
            };
            // One timer for the whole attempt, response body included.
            let sent_at = cx.clock.now();
            let result = tokio::time::timeout(
                self.inner.timeout,
                self.exchange(call.url, encoded, authorization.as_ref(), proof.as_ref()),
            )
            .await
            .unwrap_or_else(|_| {
                Err(TransientError::new(
                    TransientKind::Timeout,
                    format!(
                        "no complete response within {} ms",
                        self.inner.timeout.as_millis()
                    ),
                )
                .into())
            })
            .and_then(|response| {
                if let (Some(dpop), Some(nonce)) = (cx.dpop(), response.dpop_nonce.as_deref()) {
                    dpop.nonces().set(call.url, nonce);
                }
                interpret(response, sent_at)
            });
            // RFC 9449 §8: the server wants a nonce and has sent one. It did
            // not process the request, so even a single-use grant is sent
            // once more, at once, with the nonce.
            if let Err(Error::Refused(refusal)) = &result
                && refusal.code() == &ErrorCode::UseDpopNonce
                && cx.dpop().is_some()
                && !nonce_retried
            {
                nonce_retried = true;
                tracing::debug!(
                    request = call.label,
                    "the server wants a DPoP nonce; sending again with it"
                );
                continue;
            }
            let error = match result {
                Ok(answer) => {
                    tracing::debug!(request = call.label, attempt, "request succeeded");
                    return Ok(answer);
                }
                Err(error) => error,
            };
            let Some(delay) =
                self.inner
                    .retry
                    .delay_after(&error, attempt, started.elapsed(), call.single_use)
            else {
                tracing::debug!(request = call.label, attempt, error = %error, "request failed");
                return Err(error);
            };
            if call.grant_type.is_some() {
                crate::telemetry::token_retry(&GrantKind::from_grant_type(call.label));
            }
            tracing::warn!(
                request = call.label,
                attempt,
                delay_ms = u64::try_from(delay.as_millis()).unwrap_or(u64::MAX),
                error = %error,
                "request failed; retrying"
            );
            tokio::time::sleep(delay).await;
            attempt += 1;
        }
    }

    fn encode_body(&self, call: &Call<'_>, cx: &RequestContext) -> Result<SecretString, Error> {
        let mut form = form_urlencoded::Serializer::new(String::new());
        if let Some(grant_type) = call.grant_type {
            form.append_pair("grant_type", grant_type);
        }
        // The audience of an assertion is the token endpoint, whichever of
        // the server's endpoints the request goes to (RFC 7523 §3).
        let auth = self
            .inner
            .auth
            .form_params(&self.inner.url, cx.clock.now())?;
        // A field the client authentication sends (a pushed authorization
        // request's `client_id`) is sent once, as the authentication has it.
        let own = call
            .params
            .iter()
            .filter(|param| !auth.iter().any(|a| a.name() == param.name()));
        for param in auth.iter().chain(own) {
            form.append_pair(param.name(), param.value().expose());
        }
        Ok(SecretString::from(form.finish()))
    }

    fn authorization_header(&self) -> Result<Option<HeaderValue>, Error> {
        let Some(value) = self.inner.auth.authorization_header() else {
            return Ok(None);
        };
        let mut header = HeaderValue::from_str(value.expose_secret()).map_err(|_| {
            Error::config("the client credentials cannot form an Authorization header")
        })?;
        header.set_sensitive(true);
        Ok(Some(header))
    }

    /// One POST and its raw response, checked against the origin and size
    /// rules.
    async fn exchange(
        &self,
        url: &Url,
        body: &[u8],
        authorization: Option<&HeaderValue>,
        dpop: Option<&HeaderValue>,
    ) -> Result<RawResponse, Error> {
        let response = self
            .inner
            .transport
            .post_form(FormRequest {
                url,
                body,
                authorization,
                dpop,
                max_response_bytes: self.inner.max_response_bytes,
            })
            .await?;
        if let Some(origin) = response.foreign_origin {
            return Err(ProtocolError::ForeignOrigin { origin }.into());
        }
        if response.body.len() > self.inner.max_response_bytes {
            return Err(ProtocolError::TooLarge {
                status: response.status,
                limit: self.inner.max_response_bytes,
            }
            .into());
        }
        Ok(response)
    }

    /// Reads a token response: a bound token set, or the classified error.
    fn interpret_tokens(
        &self,
        grant: &dyn GrantType,
        response: RawResponse,
        sent_at: time::OffsetDateTime,
        cx: &RequestContext,
    ) -> Result<TokenSet, Error> {
        let binding = self
            .binding()
            .with_resources(grant.resources().iter().cloned());
        let mut accepted = Cow::Borrowed(&self.inner.accepted_token_types[..]);
        if cx.dpop().is_some() && !accepted.contains(&TokenType::DPoP) {
            accepted.to_mut().push(TokenType::DPoP);
        }
        let tokens = interpret(
            &ResponseParts {
                status: response.status,
                content_type: response.content_type.as_deref(),
                retry_after: response
                    .retry_after
                    .as_deref()
                    .and_then(|v| retry::parse_retry_after(v, cx.clock.now())),
                body: &response.body,
            },
            &ParseContext {
                grant: grant.kind(),
                sent_at,
                default_lifetime: self.inner.default_lifetime,
                binding,
                requested_scopes: grant.requested_scopes(),
                accepted_token_types: &accepted,
                description_fields: &self.inner.description_fields,
            },
        )?;
        let tokens = match self.inner.default_refresh_lifetime {
            Some(lifetime)
                if tokens.refresh_token().is_some() && tokens.refresh_expires_at().is_none() =>
            {
                let refresh = tokens.refresh_token().cloned();
                let ends = tokens.issued_at() + lifetime;
                tokens.with_refresh_token(refresh, Some(ends))
            }
            _ => tokens,
        };
        // A DPoP-bound set keeps the key it is bound to.
        Ok(match (cx.dpop(), tokens.token_type()) {
            (Some(dpop), TokenType::DPoP) => tokens.with_dpop_key(Some(dpop.key().clone())),
            _ => tokens,
        })
    }

    /// Classifies a response that is not the success a call wanted, the way
    /// a token response is classified: an OAuth error body is a refusal, a
    /// server failure or 429 is transient (with `Retry-After`), anything else
    /// is a protocol error.
    pub(crate) fn failure(
        &self,
        response: &RawResponse,
        kind: GrantKind,
        cx: &RequestContext,
    ) -> Error {
        let status = if (200..300).contains(&response.status) {
            // A 2xx that the caller could not use: read it as the error body
            // it may be, else as malformed.
            0
        } else {
            response.status
        };
        let parsed = interpret(
            &ResponseParts {
                status: if status == 0 { 400 } else { status },
                content_type: response.content_type.as_deref(),
                retry_after: response
                    .retry_after
                    .as_deref()
                    .and_then(|v| retry::parse_retry_after(v, cx.clock.now())),
                body: &response.body,
            },
            &ParseContext {
                grant: kind,
                sent_at: cx.clock.now(),
                default_lifetime: self.inner.default_lifetime,
                binding: self.binding(),
                requested_scopes: &[],
                accepted_token_types: &self.inner.accepted_token_types,
                description_fields: &self.inner.description_fields,
            },
        );
        match parsed {
            Err(error) if status != 0 || matches!(error, Error::Refused(_)) => error,
            _ => ProtocolError::Malformed {
                status: response.status,
                reason: "the response is not the document the endpoint should send".into(),
            }
            .into(),
        }
    }
}

/// One form POST a [`TokenEndpoint`] makes.
pub(crate) struct Call<'a> {
    /// Where it goes.
    pub(crate) url: &'a Url,
    /// What it is, for logs (the `grant_type`, or `revocation` and such).
    pub(crate) label: &'a str,
    /// The `grant_type`, for a token request.
    pub(crate) grant_type: Option<&'a str>,
    /// The parameters besides `grant_type` and the client authentication.
    pub(crate) params: Vec<FormParam>,
    /// Whether what it presents is spent by the server (re-sent only when
    /// the request certainly never arrived).
    pub(crate) single_use: bool,
}

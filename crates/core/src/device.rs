//! The device authorization grant (RFC 8628): sign-in for terminals, SSH
//! sessions and devices without a browser.
//!
//! The client asks the device authorization endpoint for a pair of codes,
//! shows the person a short `user_code` and where to enter it (on a phone or
//! laptop), and polls the token endpoint with the `device_code` until the
//! person approves or denies. The rules of §3.5 are followed: poll no faster
//! than the server's `interval` (5 s when it names none), add 5 s on every
//! `slow_down`, keep polling on `authorization_pending`, stop on
//! `access_denied` and `expired_token` with the server's refusal, back off
//! (doubling the interval) while the server or network fails, and stop when
//! the codes expire. After the tokens come, the device code is never sent
//! again: [`PendingDeviceSignIn::finish`] consumes it.
//!
//! The sign-in is cancelled by dropping its future (with `tokio::select!` on
//! Ctrl-C, or `tokio::time::timeout`): nothing is polled afterwards.
//!
//! The token set comes from the token endpoint like any other, bound to it;
//! hand it to [`crate::TokenManager::sign_in_with`] to store it.

use std::fmt;
use std::time::Duration;

use serde::Deserialize;
use time::OffsetDateTime;
use url::Url;

use crate::endpoint::token_endpoint::{Call, RequestContext, TokenEndpoint};

use crate::error::Error;
use crate::error::protocol::ProtocolError;
use crate::error::refusal::ErrorCode;
use crate::grant::device_code::DeviceCodeGrant;
use crate::grant::grant_type::{resource_params, scope_param};
use crate::grant::kind::GrantKind;
use crate::secret::DeviceCode;
use crate::token::token_set::TokenSet;
use crate::transport::url_policy::validate_url;

/// The polling interval when the server names none (RFC 8628 §3.2).
pub const DEFAULT_POLL_INTERVAL: Duration = Duration::from_secs(5);
/// What every `slow_down` adds to the interval (RFC 8628 §3.5).
pub const SLOW_DOWN_STEP: Duration = Duration::from_secs(5);
/// The longest wait between polls while the server or network fails.
pub const MAX_POLL_INTERVAL: Duration = Duration::from_secs(60);

/// Starts device sign-ins at one server for one client: the token endpoint
/// (its client authentication included) and the device authorization
/// endpoint, with the scopes and resources to ask for.
///
/// ```no_run
/// use authkit_core::{ClientAuth, TokenEndpoint};
/// use authkit_core::device::DeviceAuthorization;
/// use authkit_core::endpoint::RequestContext;
///
/// # async fn run() -> Result<(), authkit_core::Error> {
/// let endpoint = TokenEndpoint::builder("https://login.example.com/token")
///     .client_auth(ClientAuth::public("cli"))
///     .build()?;
/// let device = DeviceAuthorization::new(endpoint, "https://login.example.com/device/auth")?
///     .with_scopes(["openid", "offline_access"]);
/// let tokens = device
///     .sign_in(
///         |prompt| eprintln!("Open {} and enter {}", prompt.verification_uri(), prompt.user_code()),
///         &RequestContext::default(),
///     )
///     .await?;
/// # let _ = tokens;
/// # Ok(()) }
/// ```
#[derive(Clone, Debug)]
pub struct DeviceAuthorization {
    endpoint: TokenEndpoint,
    url: Url,
    scopes: Vec<String>,
    resources: Vec<String>,
}

/// What to show the person: the code to enter and where, and until when.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DevicePrompt {
    user_code: String,
    verification_uri: String,
    verification_uri_complete: Option<String>,
    expires_at: OffsetDateTime,
    interval: Duration,
}

impl DevicePrompt {
    /// The code the person enters (not a secret: it is shown on screen).
    pub fn user_code(&self) -> &str {
        &self.user_code
    }

    /// Where the person enters it.
    pub fn verification_uri(&self) -> &str {
        &self.verification_uri
    }

    /// The same page with the code filled in, for a link or QR code.
    pub fn verification_uri_complete(&self) -> Option<&str> {
        self.verification_uri_complete.as_deref()
    }

    /// When the codes expire.
    pub fn expires_at(&self) -> OffsetDateTime {
        self.expires_at
    }

    /// How often the client polls, as the server asked.
    pub fn interval(&self) -> Duration {
        self.interval
    }
}

/// A device sign-in that has started: the prompt to show, and the device
/// code to poll with. `Debug` never shows the device code.
pub struct PendingDeviceSignIn {
    endpoint: TokenEndpoint,
    grant: DeviceCodeGrant,
    prompt: DevicePrompt,
}

impl fmt::Debug for PendingDeviceSignIn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PendingDeviceSignIn")
            .field("prompt", &self.prompt)
            .finish_non_exhaustive()
    }
}

/// Reads the body of a successful device authorization response (RFC 8628
/// §3.2) sent at `sent_at`: the device code and what to show the person.
/// The polling interval is at least a second (the default when the server
/// names none), and a lifetime too large for a date ends at the last one.
#[doc(hidden)]
pub fn read_authorization(
    body: &[u8],
    sent_at: OffsetDateTime,
) -> Result<(DeviceCode, DevicePrompt), Error> {
    let answer = serde_json::from_slice::<AuthorizationResponse>(body).map_err(|_| {
        Error::from(ProtocolError::Malformed {
            status: 200,
            reason: "the device authorization response lacks device_code, \
                     user_code, verification_uri or expires_in"
                .into(),
        })
    })?;
    let malformed = |field: &str| {
        Error::from(ProtocolError::Malformed {
            status: 200,
            reason: format!(
                "the device authorization response's `{field}` is not a number of seconds"
            ),
        })
    };
    let expires_in = whole_seconds(&answer.expires_in).ok_or_else(|| malformed("expires_in"))?;
    let interval = match &answer.interval {
        None | Some(serde_json::Value::Null) => DEFAULT_POLL_INTERVAL,
        Some(value) => {
            Duration::from_secs(whole_seconds(value).ok_or_else(|| malformed("interval"))?)
        }
    }
    .max(Duration::from_secs(1));
    let lifetime = time::Duration::seconds(i64::try_from(expires_in).unwrap_or(i64::MAX));
    Ok((
        DeviceCode::new(answer.device_code),
        DevicePrompt {
            user_code: answer.user_code,
            verification_uri: answer.verification_uri,
            verification_uri_complete: answer.verification_uri_complete,
            expires_at: sent_at.saturating_add(lifetime),
            interval,
        },
    ))
}

#[derive(Deserialize)]
struct AuthorizationResponse {
    device_code: String,
    user_code: String,
    #[serde(alias = "verification_url")]
    verification_uri: String,
    #[serde(default)]
    verification_uri_complete: Option<String>,
    expires_in: serde_json::Value,
    #[serde(default)]
    interval: Option<serde_json::Value>,
}

/// Whole seconds from a JSON number or a numeric string (Azure AD's v1
/// endpoint sends `"expires_in": "900"`), a fraction rounded down; `None`
/// for anything else, a negative number included.
fn whole_seconds(value: &serde_json::Value) -> Option<u64> {
    let from_float = |f: f64| (f.is_finite() && f >= 0.0).then(|| f.floor() as u64);
    match value {
        serde_json::Value::Number(n) => n.as_u64().or_else(|| n.as_f64().and_then(from_float)),
        serde_json::Value::String(s) => {
            let s = s.trim();
            s.parse()
                .ok()
                .or_else(|| s.parse().ok().and_then(from_float))
        }
        _ => None,
    }
}

impl DeviceAuthorization {
    /// Device sign-ins with `endpoint`'s client at the device authorization
    /// endpoint `url`.
    pub fn new(endpoint: TokenEndpoint, url: &str) -> Result<Self, Error> {
        Ok(Self {
            endpoint,
            url: validate_url(url)?,
            scopes: Vec::new(),
            resources: Vec::new(),
        })
    }

    /// Asks for these scopes.
    pub fn with_scopes<I, S>(mut self, scopes: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.scopes = scopes.into_iter().map(Into::into).collect();
        self
    }

    /// Asks for tokens for this resource (RFC 8707); may be repeated. The
    /// authorization covers every resource named; the token request names
    /// the first (servers issue an access token for one resource at a time,
    /// §2.2), and tokens for the others come from refreshing with a
    /// `resource` ([`crate::grant::RefreshTokenGrant::with_resources`]).
    pub fn with_resource(mut self, resource: impl Into<String>) -> Self {
        self.resources.push(resource.into());
        self
    }

    /// Asks the server for codes (RFC 8628 §3.1).
    pub async fn start(&self, cx: &RequestContext) -> Result<PendingDeviceSignIn, Error> {
        let mut params: Vec<_> = scope_param(&self.scopes).into_iter().collect();
        params.extend(resource_params(&self.resources));
        let call = Call {
            url: &self.url,
            label: "device_authorization",
            grant_type: None,
            params,
            single_use: false,
        };
        let endpoint = &self.endpoint;
        let answer = endpoint
            .send(&call, cx, |response, sent_at| {
                if response.status != 200 {
                    return Err(endpoint.failure(&response, GrantKind::DeviceCode, cx));
                }
                read_authorization(&response.body, sent_at)
            })
            .await?;
        let (device_code, prompt) = answer;
        Ok(PendingDeviceSignIn {
            endpoint: self.endpoint.clone(),
            grant: DeviceCodeGrant::new(
                device_code,
                self.scopes.clone(),
                self.resources.iter().take(1).cloned().collect(),
            ),
            prompt,
        })
    }

    /// Starts a sign-in, hands the prompt to `show`, and polls until the
    /// person approves (the token set), denies (a refusal with
    /// [`ErrorCode::AccessDenied`]) or the codes expire
    /// ([`ErrorCode::ExpiredToken`]).
    pub async fn sign_in(
        &self,
        show: impl FnOnce(&DevicePrompt),
        cx: &RequestContext,
    ) -> Result<TokenSet, Error> {
        let pending = self.start(cx).await?;
        show(pending.prompt());
        pending.finish(cx).await
    }
}

impl PendingDeviceSignIn {
    /// What to show the person.
    pub fn prompt(&self) -> &DevicePrompt {
        &self.prompt
    }

    /// Polls until the sign-in ends (RFC 8628 §3.4, §3.5). Consumes the
    /// device code: it is never polled with again.
    pub async fn finish(self, cx: &RequestContext) -> Result<TokenSet, Error> {
        let mut interval = self.prompt.interval;
        loop {
            tokio::time::sleep(interval).await;
            if cx.clock().now() >= self.prompt.expires_at {
                return Err(Error::SignInRequired {
                    reason: "the device code expired before the sign-in was approved".into(),
                });
            }
            match self.endpoint.request(&self.grant, cx).await {
                Ok(tokens) => return Ok(tokens),
                Err(Error::Refused(refusal)) => match refusal.code() {
                    ErrorCode::AuthorizationPending => {
                        tracing::debug!("device sign-in: still pending");
                    }
                    ErrorCode::SlowDown => {
                        interval += SLOW_DOWN_STEP;
                        tracing::debug!(
                            interval_s = interval.as_secs(),
                            "device sign-in: the server asked to slow down"
                        );
                    }
                    _ => return Err(Error::Refused(refusal)),
                },
                Err(Error::Transient(error)) => {
                    interval = (interval * 2).min(MAX_POLL_INTERVAL);
                    tracing::warn!(
                        interval_s = interval.as_secs(),
                        error = %error,
                        "device sign-in: polling failed; backing off"
                    );
                }
                Err(other) => return Err(other),
            }
        }
    }
}

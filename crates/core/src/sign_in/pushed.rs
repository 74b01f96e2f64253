//! Pushed authorization requests (RFC 9126): a browser sign-in's
//! parameters go to the server first, authenticated, and the browser gets
//! only a short-lived reference to them.
//!
//! Why push: the parameters of a plain authorization request travel in the
//! browser's address bar, where anything on the way can read or change
//! them, and the server learns who the client is only at the code
//! exchange. A pushed request is a form POST from the client itself, with
//! the client's own authentication (Basic, body, a JWT assertion) and its
//! DPoP proof, so the server checks the client and the parameters before a
//! person sees a page; the URL the person opens carries only `client_id`
//! and the `request_uri` the server answered with. The security BCP (RFC
//! 9700 §2.1) recommends it, and servers such as oidc-provider, Keycloak
//! and Okta can require it per client or for all.
//!
//! The request goes through the [`TokenEndpoint`] of the sign-in, so it
//! has the token request's wire rules, retries and classification: a
//! refusal from the pushed authorization request endpoint is an
//! [`Error::Refused`] like a token endpoint's, a server failure is
//! transient. The `request_uri` expires soon (a minute is common): the
//! request records when ([`crate::sign_in::AuthorizationRequest::expires_at`]).

use serde::Deserialize;
use serde_json::Value;
use time::OffsetDateTime;
use url::Url;

use crate::discovery::ServerMetadata;
use crate::endpoint::response::{expiry_after, lifetime_seconds};
use crate::endpoint::token_endpoint::{Call, RequestContext, TokenEndpoint};
use crate::error::Error;
use crate::error::protocol::ProtocolError;
use crate::grant::grant_type::FormParam;
use crate::grant::kind::GrantKind;
use crate::transport::url_policy::validate_url;

/// A server's pushed authorization request endpoint, for the client of a
/// [`TokenEndpoint`] (whose client authentication the pushes use).
///
/// ```no_run
/// use authkit_core::{ClientAuth, ClientSecret, TokenEndpoint};
/// use authkit_core::sign_in::{AuthorizationRequest, PushedAuthorization};
///
/// # async fn run(cx: authkit_core::endpoint::RequestContext) -> Result<(), authkit_core::Error> {
/// let endpoint = TokenEndpoint::builder("https://login.example.com/token")
///     .client_auth(ClientAuth::basic("cli", ClientSecret::new("s3cret")))
///     .build()?;
/// let par = PushedAuthorization::new(endpoint, "https://login.example.com/par")?;
/// let authorize = url::Url::parse("https://login.example.com/authorize").expect("a URL");
/// let request = AuthorizationRequest::builder(&authorize, "cli", "http://127.0.0.1:8400/callback")
///     .scopes(["openid"])
///     .push(&par, &cx)
///     .await?;
/// // https://login.example.com/authorize?client_id=cli&request_uri=urn%3A...
/// println!("{}", request.url());
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct PushedAuthorization {
    endpoint: TokenEndpoint,
    url: Url,
}

/// What the server answered a push with: the reference for the browser,
/// and until when it holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PushedRequest {
    /// The reference the authorization URL carries (`request_uri`).
    pub request_uri: String,
    /// When the server forgets it.
    pub expires_at: OffsetDateTime,
}

impl PushedAuthorization {
    /// Pushes with `endpoint`'s client to the endpoint at `url` (checked
    /// like every endpoint URL: `https`, or `http` on loopback only).
    pub fn new(endpoint: TokenEndpoint, url: &str) -> Result<Self, Error> {
        Ok(Self {
            endpoint,
            url: validate_url(url)?,
        })
    }

    /// The endpoint `metadata` names, if any.
    pub fn from_metadata(
        endpoint: TokenEndpoint,
        metadata: &ServerMetadata,
    ) -> Result<Option<Self>, Error> {
        metadata
            .pushed_authorization_request_endpoint()
            .map(|url| Self::new(endpoint, url))
            .transpose()
    }

    /// Where pushes go.
    pub fn url(&self) -> &Url {
        &self.url
    }

    /// The client the pushes authenticate as.
    pub fn client_id(&self) -> &str {
        self.endpoint.client_auth().client_id().as_str()
    }

    /// Pushes the authorization request's `params` (RFC 9126 §2.1) and
    /// reads the answer (§2.2), or the classified error (§2.3).
    pub(crate) async fn push(
        &self,
        params: Vec<FormParam>,
        cx: &RequestContext,
    ) -> Result<PushedRequest, Error> {
        let call = Call {
            url: &self.url,
            label: "pushed_authorization_request",
            grant_type: None,
            params,
            // Each push makes a new reference; sending one again is harmless.
            single_use: false,
        };
        let endpoint = &self.endpoint;
        endpoint
            .send(&call, cx, |response, sent_at| {
                if !matches!(response.status, 200 | 201) {
                    return Err(endpoint.failure(&response, GrantKind::AuthorizationCode, cx));
                }
                read_pushed(&response.body, sent_at)
            })
            .await
    }
}

#[derive(Deserialize)]
struct PushedResponse {
    request_uri: Value,
    expires_in: Value,
}

/// Reads the body of a successful pushed authorization response (RFC 9126
/// §2.2) to a push sent at `sent_at`: a non-empty `request_uri`, and an
/// `expires_in` of a positive number of seconds (a numeric string is taken
/// too; a fraction is rounded down; a lifetime too large for a date is
/// clamped).
#[doc(hidden)]
pub fn read_pushed(body: &[u8], sent_at: OffsetDateTime) -> Result<PushedRequest, Error> {
    let malformed = |reason: &str| {
        Error::from(ProtocolError::Malformed {
            status: 201,
            reason: format!("the pushed authorization response {reason}"),
        })
    };
    let answer = serde_json::from_slice::<PushedResponse>(body)
        .map_err(|_| malformed("is not a JSON object with request_uri and expires_in"))?;
    let request_uri = match answer.request_uri {
        Value::String(uri) if !uri.trim().is_empty() => uri,
        _ => return Err(malformed("has no request_uri (a non-empty string)")),
    };
    // Read as a token response's lifetime is: zero or less is no lifetime.
    let seconds = lifetime_seconds(&answer.expires_in)
        .ok()
        .flatten()
        .ok_or_else(|| malformed("has an expires_in that is not a positive number of seconds"))?;
    Ok(PushedRequest {
        request_uri,
        expires_at: expiry_after(sent_at, seconds),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at() -> OffsetDateTime {
        OffsetDateTime::from_unix_timestamp(1_700_000_000).unwrap()
    }

    #[test]
    fn the_reference_holds_for_the_lifetime_the_server_names() {
        let pushed = read_pushed(
            br#"{"request_uri":"urn:ietf:params:oauth:request_uri:6esc_11ACC5bwc014ltc14eY22c","expires_in":60}"#,
            at(),
        )
        .unwrap();
        assert_eq!(
            pushed.request_uri,
            "urn:ietf:params:oauth:request_uri:6esc_11ACC5bwc014ltc14eY22c"
        );
        assert_eq!(pushed.expires_at, at() + time::Duration::seconds(60));
    }

    #[test]
    fn a_lifetime_as_a_string_or_a_fraction_is_read_and_a_huge_one_is_clamped() {
        let read = |body: &str| read_pushed(body.as_bytes(), at()).map(|p| p.expires_at);
        let lifetime = |seconds| at() + time::Duration::seconds(seconds);
        assert_eq!(
            read(r#"{"request_uri":"u","expires_in":"90"}"#).unwrap(),
            lifetime(90)
        );
        assert_eq!(
            read(r#"{"request_uri":"u","expires_in":59.9}"#).unwrap(),
            lifetime(59)
        );
        let far = read(r#"{"request_uri":"u","expires_in":18446744073709551615}"#).unwrap();
        assert!(far > lifetime(3600));
    }

    #[test]
    fn an_answer_without_a_usable_reference_or_lifetime_is_malformed() {
        for body in [
            "",
            "<html>Created</html>",
            "[]",
            r#"{"expires_in":60}"#,
            r#"{"request_uri":"","expires_in":60}"#,
            r#"{"request_uri":42,"expires_in":60}"#,
            r#"{"request_uri":"u"}"#,
            r#"{"request_uri":"u","expires_in":0}"#,
            r#"{"request_uri":"u","expires_in":-5}"#,
            r#"{"request_uri":"u","expires_in":0.5}"#,
            r#"{"request_uri":"u","expires_in":"soon"}"#,
            r#"{"request_uri":"u","expires_in":null}"#,
        ] {
            let error = read_pushed(body.as_bytes(), at()).unwrap_err();
            assert!(
                matches!(error, Error::Protocol(ProtocolError::Malformed { .. })),
                "{body}: {error:?}"
            );
        }
    }
}

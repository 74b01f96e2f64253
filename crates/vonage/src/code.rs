//! Browser sign-in: the authorization code flow with PKCE and `state`.
//!
//! [`VonageCodeAccount::authorization_request`] makes the URL to open in a
//! browser, with a fresh `state` and PKCE verifier that stay in the returned
//! [`AuthorizationRequest`]. The browser comes back to the redirect URI (see
//! [`crate::LoopbackReceiver`]) with a code, which
//! [`VonageCodeAccount::exchange`] checks against the request's `state` and
//! trades for tokens, authenticating with HTTP Basic in the raw
//! `key:secret` form the page documents (the API manager does not decode a
//! form-encoded one). Hand the tokens to `TokenManager::sign_in_with`; from
//! then on the manager refreshes them, and when the refresh token dies it
//! says a person must sign in again.

use authkit_core::endpoint::RequestContext;
use authkit_core::provider::Adapter;
use authkit_core::sign_in::{AuthorizationRequest, Callback};
use authkit_core::{ClientAuth, Error, GenericProvider, TokenSet};
use url::Url;

use crate::config::Vonage;

impl Vonage {
    /// An account that signs in through the browser (authorization code),
    /// redirected to `redirect_uri`; `label` names it among the accounts of
    /// this application (its key is `vonage:<consumer key>:<label>`).
    pub fn code_account(
        &self,
        redirect_uri: impl Into<String>,
        label: impl Into<String>,
    ) -> Result<VonageCodeAccount, Error> {
        VonageCodeAccount::new(self.clone(), redirect_uri.into(), label.into())
    }
}

/// One Vonage user who signs in through the browser.
#[derive(Debug, Clone)]
pub struct VonageCodeAccount {
    vonage: Vonage,
    generic: GenericProvider,
    redirect_uri: String,
}

impl Adapter for VonageCodeAccount {
    fn generic(&self) -> &GenericProvider {
        &self.generic
    }
}

impl VonageCodeAccount {
    pub(crate) fn new(vonage: Vonage, redirect_uri: String, label: String) -> Result<Self, Error> {
        let parsed = Url::parse(&redirect_uri)
            .map_err(|e| Error::config(format!("invalid redirect URI: {e}")))?;
        if parsed.fragment().is_some() {
            return Err(Error::config("a redirect URI must not have a fragment"));
        }
        let label = if label.trim().is_empty() {
            "default".to_owned()
        } else {
            label
        };
        let generic = vonage
            .generic(format!("vonage:{}:{label}", vonage.consumer_key))
            .with_scopes(vonage.scopes.iter().cloned())
            .with_sign_in_hint("signs in through the browser (for example `authkit login vonage`)");
        Ok(Self {
            generic,
            vonage,
            redirect_uri,
        })
    }

    /// The redirect URI, exactly as it is sent.
    pub fn redirect_uri(&self) -> &str {
        &self.redirect_uri
    }

    /// A fresh authorization request: `scope`, `response_type=code`,
    /// `redirect_uri`, `client_id`, `state`, and (unless switched off) the
    /// PKCE S256 challenge.
    pub fn authorization_request(&self) -> AuthorizationRequest {
        self.authorization_request_in(&RequestContext::default())
    }

    /// The same, for a sign-in made in `cx` (from
    /// `TokenManager::sign_in_context`): when `cx` carries a DPoP key, the
    /// request names its thumbprint (`dpop_jkt`, RFC 9449 §10), so the code
    /// can only be exchanged with a proof of that key. Exchange the code in
    /// the same `cx`.
    pub fn authorization_request_in(&self, cx: &RequestContext) -> AuthorizationRequest {
        AuthorizationRequest::builder(
            &self.vonage.authorize_url,
            self.vonage.consumer_key.as_str(),
            self.redirect_uri.clone(),
        )
        .scopes(self.vonage.scopes.iter().cloned())
        .pkce(self.vonage.pkce)
        .build(cx)
    }

    /// Checks the callback's `state` against the request's, then trades the
    /// code for tokens. A mismatched or missing `state` is refused without
    /// contacting the server: the redirect did not answer this request.
    pub async fn exchange(
        &self,
        request: AuthorizationRequest,
        callback: &Callback,
        cx: &RequestContext,
    ) -> Result<TokenSet, Error> {
        let grant = request.grant(callback)?;
        let basic = self
            .vonage
            .token_endpoint
            .with_client_auth(ClientAuth::basic_raw(
                self.vonage.consumer_key.clone(),
                self.vonage.consumer_secret.clone(),
            ));
        basic
            .request(&grant, cx)
            .await
            .map_err(|e| e.map_refusal(crate::refusal::classify))
    }
}

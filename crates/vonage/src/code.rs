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

use authkit_core::{
    Adapter, AuthorizationCodeGrant, Callback, ClientAuth, Error, GenericProvider, PkceVerifier,
    RequestContext, State, TokenSet,
};
use url::Url;

use crate::config::Vonage;

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

/// A pending browser sign-in: the URL to open, and what the exchange needs.
#[derive(Debug)]
pub struct AuthorizationRequest {
    url: Url,
    state: State,
    verifier: Option<PkceVerifier>,
    redirect_uri: String,
}

impl AuthorizationRequest {
    /// The URL to open in the browser.
    pub fn url(&self) -> &Url {
        &self.url
    }

    /// The `state` the redirect must bring back.
    pub fn state(&self) -> &State {
        &self.state
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
        let state = State::generate();
        let verifier = self.vonage.pkce.then(PkceVerifier::generate);
        let mut url = self.vonage.authorize_url.clone();
        {
            let mut query = url.query_pairs_mut();
            query.append_pair("scope", &self.vonage.scopes.join(" "));
            query.append_pair("response_type", "code");
            query.append_pair("redirect_uri", &self.redirect_uri);
            query.append_pair("client_id", self.vonage.consumer_key.as_str());
            query.append_pair("state", state.as_str());
            if let Some(verifier) = &verifier {
                let challenge = verifier.challenge();
                query.append_pair("code_challenge", challenge.as_str());
                query.append_pair("code_challenge_method", challenge.method());
            }
            if let Some(dpop) = cx.dpop() {
                query.append_pair("dpop_jkt", dpop.key().thumbprint());
            }
        }
        AuthorizationRequest {
            url,
            state,
            verifier,
            redirect_uri: self.redirect_uri.clone(),
        }
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
        let state_matches = callback
            .state
            .as_deref()
            .is_some_and(|s| request.state.matches(s));
        if !state_matches {
            return Err(Error::SignInRequired {
                reason: "the sign-in response does not answer this sign-in (its state differs); start again".into(),
            });
        }
        let mut grant = AuthorizationCodeGrant::new(callback.code.clone(), request.redirect_uri)
            .for_scopes(self.vonage.scopes.iter().cloned());
        if let Some(verifier) = request.verifier {
            grant = grant.with_pkce_verifier(verifier);
        }
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

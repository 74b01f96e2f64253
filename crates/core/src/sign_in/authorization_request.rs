//! The authorization request of a browser sign-in (RFC 6749 §4.1.1, PKCE
//! RFC 7636, DPoP RFC 9449 §10): the URL a person opens, and the `state`
//! and PKCE verifier its answer is checked and exchanged with.
//!
//! Every browser provider asks the same way, so the request is built here
//! once: `response_type=code`, `client_id`, `redirect_uri`, the scopes and
//! resources, a fresh `state`, the S256 challenge of a fresh verifier
//! (unless a server cannot take one), and the DPoP key's thumbprint when the
//! sign-in's context carries one. [`AuthorizationRequest::grant`] checks the
//! redirect's `state`, and its `iss` when the issuer is known (RFC 9207),
//! before anything is sent, and makes the code exchange. The same
//! parameters can be pushed to the server instead of riding in the URL
//! ([`AuthorizationRequestBuilder::push`], RFC 9126).

use std::time::Duration;

use time::OffsetDateTime;
use url::Url;

use crate::discovery::ServerMetadata;
use crate::endpoint::token_endpoint::RequestContext;
use crate::error::{Error, scrub};
use crate::grant::authorization_code::AuthorizationCodeGrant;
use crate::grant::grant_type::FormParam;
use crate::grant::pkce::{PkceVerifier, State};
use crate::sign_in::loopback::Callback;
use crate::sign_in::pushed::PushedAuthorization;
use crate::sign_in::step_up::StepUp;

/// A pending browser sign-in: the URL to open, and what the exchange needs.
#[derive(Debug)]
pub struct AuthorizationRequest {
    url: Url,
    state: State,
    verifier: Option<PkceVerifier>,
    redirect_uri: String,
    scopes: Vec<String>,
    issuer: Option<ExpectedIssuer>,
    expires_at: Option<OffsetDateTime>,
}

/// The issuer a sign-in's response must come from (RFC 9207), and whether
/// the server promised to name itself in every response.
#[derive(Debug, Clone)]
struct ExpectedIssuer {
    issuer: String,
    required: bool,
}

/// Configures an [`AuthorizationRequest`].
///
/// ```
/// use authkit_core::endpoint::RequestContext;
/// use authkit_core::sign_in::AuthorizationRequest;
///
/// let authorize = url::Url::parse("https://login.example.com/authorize")?;
/// let request = AuthorizationRequest::builder(&authorize, "cli", "http://127.0.0.1:8400/callback")
///     .scopes(["openid", "offline_access"])
///     .build(&RequestContext::default());
/// assert!(request.url().as_str().contains("code_challenge_method=S256"));
/// # Ok::<(), url::ParseError>(())
/// ```
#[derive(Debug, Clone)]
pub struct AuthorizationRequestBuilder {
    url: Url,
    client_id: String,
    redirect_uri: String,
    scopes: Vec<String>,
    resources: Vec<String>,
    pkce: bool,
    issuer: Option<ExpectedIssuer>,
    acr_values: Vec<String>,
    max_age: Option<Duration>,
}

impl AuthorizationRequest {
    /// Starts a request to the authorization endpoint `authorize_url` for
    /// `client_id`, answered at `redirect_uri`. PKCE is on by default.
    pub fn builder(
        authorize_url: &Url,
        client_id: impl Into<String>,
        redirect_uri: impl Into<String>,
    ) -> AuthorizationRequestBuilder {
        AuthorizationRequestBuilder {
            url: authorize_url.clone(),
            client_id: client_id.into(),
            redirect_uri: redirect_uri.into(),
            scopes: Vec::new(),
            resources: Vec::new(),
            pkce: true,
            issuer: None,
            acr_values: Vec::new(),
            max_age: None,
        }
    }

    /// The URL to open in the browser.
    pub fn url(&self) -> &Url {
        &self.url
    }

    /// The `state` the redirect must bring back.
    pub fn state(&self) -> &State {
        &self.state
    }

    /// Until when the URL can be opened: a pushed request's `request_uri`
    /// expires (RFC 9126 §2.2), after which the server shows the person an
    /// error instead of a sign-in; push again for a new URL. `None` for a
    /// request that was not pushed, whose URL holds everything.
    pub fn expires_at(&self) -> Option<OffsetDateTime> {
        self.expires_at
    }

    /// Whether the URL was pushed and its reference has expired at `now`.
    pub fn is_expired(&self, now: OffsetDateTime) -> bool {
        self.expires_at.is_some_and(|at| now >= at)
    }

    /// The redirect URI, exactly as it was sent.
    pub fn redirect_uri(&self) -> &str {
        &self.redirect_uri
    }

    /// The code exchange for the redirect `callback`: refused, without
    /// contacting the server, when its `state` is missing or differs (the
    /// redirect did not answer this request, and may be a forged one).
    pub fn grant(self, callback: &Callback) -> Result<AuthorizationCodeGrant, Error> {
        let state_matches = callback
            .state
            .as_deref()
            .is_some_and(|s| self.state.matches(s));
        if !state_matches {
            return Err(Error::SignInRequired {
                reason: "the sign-in response does not answer this sign-in (its state differs); start again".into(),
            });
        }
        if let Some(expected) = &self.issuer {
            match callback.iss.as_deref() {
                Some(iss) if iss == expected.issuer => {}
                Some(iss) => {
                    return Err(Error::SignInRequired {
                        reason: format!(
                            "the sign-in response comes from the issuer {}, not {}: another server answered (a mix-up, RFC 9207), so its code was not sent anywhere; start again",
                            scrub(iss, 200),
                            expected.issuer
                        ),
                    });
                }
                None if expected.required => {
                    return Err(Error::SignInRequired {
                        reason: format!(
                            "the sign-in response does not name its issuer, though {} names itself in every response (RFC 9207): it may come from another server, so its code was not sent anywhere; start again",
                            expected.issuer
                        ),
                    });
                }
                None => {}
            }
        }
        let grant = AuthorizationCodeGrant::new(callback.code.clone(), self.redirect_uri)
            .for_scopes(self.scopes);
        Ok(match self.verifier {
            Some(verifier) => grant.with_pkce_verifier(verifier),
            None => grant,
        })
    }
}

impl AuthorizationRequestBuilder {
    /// The scopes to ask for; a set whose response names none is bound to them.
    pub fn scopes<I, S>(mut self, scopes: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.scopes = scopes.into_iter().map(Into::into).collect();
        self
    }

    /// Asks for tokens for this resource (RFC 8707); may be repeated.
    pub fn resource(mut self, resource: impl Into<String>) -> Self {
        self.resources.push(resource.into());
        self
    }

    /// The issuer the response must come from (RFC 9207, the defence
    /// against mix-up attacks when a client knows several servers): a
    /// response whose `iss` names another is refused before its code is
    /// sent anywhere. With `required` (the server's metadata says
    /// `authorization_response_iss_parameter_supported`) a response without
    /// `iss` is refused too. Without this call `iss` is not checked.
    ///
    /// ```
    /// use authkit_core::endpoint::RequestContext;
    /// use authkit_core::sign_in::{AuthorizationRequest, Callback};
    /// use authkit_core::secret::AuthorizationCode;
    ///
    /// let authorize = url::Url::parse("https://login.example.com/authorize")?;
    /// let request = AuthorizationRequest::builder(&authorize, "cli", "http://127.0.0.1:8400/callback")
    ///     .issuer("https://login.example.com", true)
    ///     .build(&RequestContext::default());
    /// let forged = Callback {
    ///     code: AuthorizationCode::new("code"),
    ///     state: Some(request.state().as_str().to_owned()),
    ///     iss: Some("https://evil.example".into()),
    /// };
    /// assert!(request.grant(&forged).is_err());
    /// # Ok::<(), url::ParseError>(())
    /// ```
    pub fn issuer(mut self, issuer: impl Into<String>, required: bool) -> Self {
        self.issuer = Some(ExpectedIssuer {
            issuer: issuer.into(),
            required,
        });
        self
    }

    /// [`AuthorizationRequestBuilder::issuer`] from the server's metadata:
    /// its issuer, required when it says it names itself in responses.
    pub fn issuer_from(self, metadata: &ServerMetadata) -> Self {
        let required = metadata.authorization_response_iss_parameter_supported();
        self.issuer(metadata.issuer(), required)
    }

    /// Asks for what a resource's challenge asked for ([`StepUp`], RFC
    /// 9470 §4): its `acr_values` and `max_age` go on the request, and its
    /// scopes join the request's.
    ///
    /// ```
    /// use std::time::Duration;
    /// use authkit_core::endpoint::RequestContext;
    /// use authkit_core::sign_in::{AuthorizationRequest, StepUp};
    ///
    /// let authorize = url::Url::parse("https://login.example.com/authorize")?;
    /// let asked = StepUp::for_user_authentication(["urn:mace:incommon:iap:silver"], Some(Duration::from_secs(300)));
    /// let request = AuthorizationRequest::builder(&authorize, "cli", "http://127.0.0.1:8400/callback")
    ///     .step_up(&asked)
    ///     .build(&RequestContext::default());
    /// let query = request.url().query().unwrap_or_default();
    /// assert!(query.contains("acr_values=urn%3Amace%3Aincommon%3Aiap%3Asilver"));
    /// assert!(query.contains("max_age=300"));
    /// # Ok::<(), url::ParseError>(())
    /// ```
    pub fn step_up(mut self, asked: &StepUp) -> Self {
        for acr in asked.acr_values() {
            if !self.acr_values.contains(acr) {
                self.acr_values.push(acr.clone());
            }
        }
        if let Some(max_age) = asked.max_age() {
            self.max_age = Some(self.max_age.map_or(max_age, |m| m.min(max_age)));
        }
        for scope in asked.scopes() {
            if !self.scopes.contains(scope) {
                self.scopes.push(scope.clone());
            }
        }
        self
    }

    /// Sends a PKCE challenge (the default); off only for a server that
    /// refuses one.
    pub fn pkce(mut self, enabled: bool) -> Self {
        self.pkce = enabled;
        self
    }

    /// A fresh request (new `state` and verifier) for a sign-in made in
    /// `cx` (from `TokenManager::sign_in_context`): when `cx` carries a DPoP
    /// key, the request names its thumbprint (`dpop_jkt`), so the code can
    /// only be exchanged with a proof of that key. Exchange in the same `cx`.
    pub fn build(self, cx: &RequestContext) -> AuthorizationRequest {
        let state = State::generate();
        let verifier = self.pkce.then(PkceVerifier::generate);
        let mut url = self.url.clone();
        url.query_pairs_mut()
            .extend_pairs(self.parameters(&state, verifier.as_ref(), cx));
        self.finish(url, state, verifier, None)
    }

    /// As [`AuthorizationRequestBuilder::build`], with the parameters
    /// pushed to the server first (RFC 9126) with the client's own
    /// authentication and, when `cx` carries a DPoP key, its proof. The
    /// URL to open then carries only `client_id` and the `request_uri` the
    /// server answered with, and [`AuthorizationRequest::expires_at`] says
    /// until when it can be opened. Use it when the server's metadata says
    /// `require_pushed_authorization_requests`, when the client is
    /// registered to require it, or whenever the server offers it.
    ///
    /// A refusal from the endpoint is an [`Error::Refused`] like a token
    /// endpoint's (`invalid_client`, `invalid_request`, `invalid_scope`);
    /// a `client_id` other than the endpoint's client is a configuration
    /// error, found before anything is sent.
    pub async fn push(
        self,
        par: &PushedAuthorization,
        cx: &RequestContext,
    ) -> Result<AuthorizationRequest, Error> {
        if par.client_id() != self.client_id {
            return Err(Error::config(format!(
                "the sign-in is for the client {}, but the pushed authorization request would authenticate as {}",
                self.client_id,
                par.client_id()
            )));
        }
        let state = State::generate();
        let verifier = self.pkce.then(PkceVerifier::generate);
        let params = self
            .parameters(&state, verifier.as_ref(), cx)
            .into_iter()
            .map(|(name, value)| FormParam::plain(name, value))
            .collect();
        let pushed = par.push(params, cx).await?;
        let mut url = self.url.clone();
        url.query_pairs_mut()
            .append_pair("client_id", &self.client_id)
            .append_pair("request_uri", &pushed.request_uri);
        Ok(self.finish(url, state, verifier, Some(pushed.expires_at)))
    }

    /// The authorization request's parameters (RFC 6749 §4.1.1 and the
    /// extensions), in the order they are sent.
    fn parameters(
        &self,
        state: &State,
        verifier: Option<&PkceVerifier>,
        cx: &RequestContext,
    ) -> Vec<(&'static str, String)> {
        let mut params = Vec::new();
        if !self.scopes.is_empty() {
            params.push(("scope", self.scopes.join(" ")));
        }
        params.push(("response_type", "code".to_owned()));
        params.push(("redirect_uri", self.redirect_uri.clone()));
        params.push(("client_id", self.client_id.clone()));
        params.push(("state", state.as_str().to_owned()));
        if let Some(verifier) = verifier {
            let challenge = verifier.challenge();
            params.push(("code_challenge", challenge.as_str().to_owned()));
            params.push(("code_challenge_method", challenge.method().to_owned()));
        }
        for resource in &self.resources {
            params.push(("resource", resource.clone()));
        }
        if let Some(dpop) = cx.dpop() {
            params.push(("dpop_jkt", dpop.key().thumbprint().to_owned()));
        }
        if !self.acr_values.is_empty() {
            params.push(("acr_values", self.acr_values.join(" ")));
        }
        if let Some(max_age) = self.max_age {
            params.push(("max_age", max_age.as_secs().to_string()));
        }
        params
    }

    fn finish(
        self,
        url: Url,
        state: State,
        verifier: Option<PkceVerifier>,
        expires_at: Option<OffsetDateTime>,
    ) -> AuthorizationRequest {
        AuthorizationRequest {
            url,
            state,
            verifier,
            redirect_uri: self.redirect_uri,
            scopes: self.scopes,
            issuer: self.issuer,
            expires_at,
        }
    }
}

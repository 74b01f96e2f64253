//! [`GenericProvider`]: a token endpoint, the grant that authenticates
//! unattended, and what an adapter adds of its server's facts (how its
//! refusals read, what to tell a person who must sign in).

use std::fmt;
use std::sync::Arc;

use async_trait::async_trait;

use crate::client_auth::ClientAuth;
use crate::discovery::ServerMetadata;
use crate::endpoint::builder::EndpointSettings;
use crate::endpoint::token_endpoint::{RequestContext, TokenEndpoint};
use crate::error::Error;
use crate::error::refusal::Refusal;
use crate::grant::grant_type::GrantType;
use crate::grant::refresh::RefreshTokenGrant;
use crate::provider::token_provider::TokenProvider;
use crate::revocation::{Revocation, RevocationEndpoint};
use crate::secret::{AccountKey, RefreshToken};
use crate::token::binding::{Binding, Scopes};
use crate::token::token_set::TokenSet;

/// A provider for any standard OAuth 2 server: a token endpoint, plus the
/// grant that authenticates unattended (password, client credentials), if any.
///
/// Its account key is the name you give followed by `#` and the binding's
/// fingerprint, so the same name at two servers or clients is two accounts.
///
/// It is also what an adapter is made of: the adapter builds one with its
/// server's facts (default URL and path on the endpoint, the client
/// authentication, the grant, [`GenericProvider::with_refusals`] for how
/// the server words its refusals, [`GenericProvider::with_sign_in_hint`]
/// for what a person must do) and wraps it (see [`super::Adapter`]).
#[derive(Clone, Debug)]
pub struct GenericProvider {
    name: String,
    key: AccountKey,
    binding: Binding,
    endpoint: TokenEndpoint,
    authentication: Option<Arc<dyn GrantType>>,
    refresh_scopes: Vec<String>,
    scopes: Vec<String>,
    resources: Vec<String>,
    revocation: Option<RevocationEndpoint>,
    refusals: Option<Classifier>,
    sign_in_hint: Option<String>,
}

/// A server's reading of its own refusals.
#[derive(Clone)]
struct Classifier(Arc<dyn Fn(Refusal) -> Refusal + Send + Sync>);

impl fmt::Debug for Classifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Classifier")
    }
}

impl GenericProvider {
    /// A provider for the account named `name` at `endpoint`. Without
    /// [`GenericProvider::with_grant`] it can only refresh.
    pub fn new(name: impl Into<String>, endpoint: TokenEndpoint) -> Self {
        let name = name.into();
        let binding = endpoint.binding();
        Self {
            key: binding.account_key(&name),
            name,
            binding,
            endpoint,
            authentication: None,
            refresh_scopes: Vec::new(),
            scopes: Vec::new(),
            resources: Vec::new(),
            revocation: None,
            refusals: None,
            sign_in_hint: None,
        }
    }

    /// Reads every refusal of this server with `classify` before the manager
    /// sees it: mark a dead refresh token
    /// ([`Refusal::with_refresh_token_dead`]) and terminal account states
    /// ([`Refusal::with_account_state`]) from the server's own words.
    ///
    /// ```
    /// # use authkit_core::*;
    /// fn classify(refusal: Refusal) -> Refusal {
    ///     if refusal.mentions(&["account locked"]) {
    ///         refusal.with_account_state(AccountState::Locked)
    ///     } else {
    ///         refusal
    ///     }
    /// }
    /// let endpoint = TokenEndpoint::builder("https://auth.example.com/token")
    ///     .client_auth(ClientAuth::public("cli"))
    ///     .build()?;
    /// let provider = GenericProvider::new("example:me", endpoint).with_refusals(classify);
    /// # Ok::<(), authkit_core::Error>(())
    /// ```
    pub fn with_refusals(
        mut self,
        classify: impl Fn(Refusal) -> Refusal + Send + Sync + 'static,
    ) -> Self {
        self.refusals = Some(Classifier(Arc::new(classify)));
        self
    }

    /// What [`Error::SignInRequired`] tells a person when this account has
    /// no unattended grant (a browser account): the command or page that
    /// signs it in, such as "signs in through the browser (`authkit login`)".
    pub fn with_sign_in_hint(mut self, hint: impl Into<String>) -> Self {
        self.sign_in_hint = Some(hint.into());
        self
    }

    fn classified(&self, result: Result<TokenSet, Error>) -> Result<TokenSet, Error> {
        match &self.refusals {
            Some(Classifier(classify)) => result.map_err(|e| e.map_refusal(|r| classify(r))),
            None => result,
        }
    }

    /// The resources (RFC 8707) this account's tokens are for, when no
    /// grant names them: a set signed in elsewhere (a device or browser
    /// sign-in that asked for a resource) is bound to them, and refreshes
    /// ask for them.
    pub fn with_resources<I, S>(mut self, resources: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.resources = resources.into_iter().map(Into::into).collect();
        self.rebind();
        self
    }

    /// The scopes this account's tokens must grant, when no grant names
    /// them: a set signed in elsewhere (a browser sign-in that asked for
    /// them) serves this provider only if it was granted them. Refreshes do
    /// not send them (see [`GenericProvider::with_refresh_scopes`] for that).
    pub fn with_scopes<I, S>(mut self, scopes: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.scopes = scopes.into_iter().map(Into::into).collect();
        self.rebind();
        self
    }

    /// A provider for the account named `name` at the server `metadata`
    /// describes (see [`crate::discovery::Discovery`]): its token endpoint with `auth`
    /// (refused when the server does not list that method) and `settings`,
    /// and its revocation endpoint when it has one.
    pub fn from_metadata(
        name: impl Into<String>,
        metadata: &ServerMetadata,
        auth: ClientAuth,
        settings: EndpointSettings,
    ) -> Result<Self, Error> {
        // A client that presents a certificate (to authenticate, or to bind
        // its tokens) uses the server's mTLS endpoints (RFC 8705 §5).
        let presents_certificate =
            auth.is_mutual_tls() || settings.tls_settings().identity().is_some();
        let aliased;
        let metadata = if presents_certificate {
            aliased = metadata.with_mtls_aliases();
            &aliased
        } else {
            metadata
        };
        let endpoint = metadata
            .token_endpoint_builder(auth)?
            .settings(settings)
            .build()?;
        let mut provider = Self::new(name, endpoint);
        if let Some(url) = metadata.revocation_endpoint() {
            provider = provider.with_revocation(url)?;
        }
        Ok(provider)
    }

    /// Revokes tokens at `url` (RFC 7009) when the account signs out.
    pub fn with_revocation(mut self, url: &str) -> Result<Self, Error> {
        self.revocation = Some(RevocationEndpoint::new(self.endpoint.clone(), url)?);
        Ok(self)
    }

    /// The grant that authenticates without a person; its scopes and
    /// resources become the provider's binding.
    pub fn with_grant(mut self, grant: impl GrantType + 'static) -> Self {
        self.authentication = Some(Arc::new(grant));
        self.rebind();
        self
    }

    /// Narrows refresh requests to these scopes; a set granted them serves
    /// this provider.
    pub fn with_refresh_scopes<I, S>(mut self, scopes: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.refresh_scopes = scopes.into_iter().map(Into::into).collect();
        self.rebind();
        self
    }

    /// The binding this provider wants: its endpoint and client, the grant's
    /// resources, and the scopes it asks for (the narrowed refresh scopes
    /// when set, else the grant's).
    fn rebind(&mut self) {
        let (scopes, mut resources) = match &self.authentication {
            Some(grant) => (grant.requested_scopes(), grant.resources()),
            None => (&self.scopes[..], &[][..]),
        };
        if resources.is_empty() {
            resources = &self.resources[..];
        }
        let scopes = if self.refresh_scopes.is_empty() {
            scopes
        } else {
            &self.refresh_scopes[..]
        };
        self.binding = self
            .endpoint
            .binding()
            .with_scopes(Scopes::new(scopes.iter().cloned()))
            .with_resources(resources.iter().cloned());
        self.key = self.binding.account_key(&self.name);
    }

    /// The endpoint it talks to.
    pub fn endpoint(&self) -> &TokenEndpoint {
        &self.endpoint
    }
}

#[async_trait]
impl TokenProvider for GenericProvider {
    fn account_key(&self) -> &AccountKey {
        &self.key
    }

    fn binding(&self) -> &Binding {
        &self.binding
    }

    async fn authenticate(&self, cx: &RequestContext) -> Result<TokenSet, Error> {
        match &self.authentication {
            Some(grant) => self.classified(self.endpoint.request(grant.as_ref(), cx).await),
            None => Err(Error::SignInRequired {
                reason: match &self.sign_in_hint {
                    Some(hint) => format!("{} {hint}", self.key),
                    None => format!("{} has no way to sign in without a person", self.key),
                },
            }),
        }
    }

    async fn refresh(
        &self,
        refresh_token: &RefreshToken,
        cx: &RequestContext,
    ) -> Result<TokenSet, Error> {
        let resources: Vec<String> = self.binding.resources().map(str::to_owned).collect();
        self.refresh_for(refresh_token, &resources, &self.refresh_scopes, cx)
            .await
    }

    async fn refresh_for(
        &self,
        refresh_token: &RefreshToken,
        resources: &[String],
        scopes: &[String],
        cx: &RequestContext,
    ) -> Result<TokenSet, Error> {
        let grant = RefreshTokenGrant::new(refresh_token.clone())
            .with_scopes(scopes.to_vec())
            .with_resources(resources);
        self.classified(self.endpoint.request(&grant, cx).await)
    }

    async fn revoke(&self, tokens: &TokenSet, cx: &RequestContext) -> Revocation {
        match &self.revocation {
            None => Revocation::NotOffered,
            Some(endpoint) => match endpoint.revoke_set(tokens, cx).await {
                Ok(()) => Revocation::Revoked,
                Err(error) => Revocation::Failed(error),
            },
        }
    }
}

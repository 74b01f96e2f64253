//! Providers: one account at one authorization server.
//!
//! A [`TokenProvider`] knows how to get a token set from nothing
//! ([`TokenProvider::authenticate`]) and how to renew one
//! ([`TokenProvider::refresh`]), and says where its tokens come from
//! ([`TokenProvider::binding`]). It knows nothing of caching, locking or
//! storing: the [`crate::TokenManager`] does that, the same way for every
//! provider. An adapter crate is a provider plus its server's quirks; the
//! [`GenericProvider`] serves any standard OAuth 2 server with none.

use std::fmt;
use std::sync::Arc;

use async_trait::async_trait;

use crate::binding::{Binding, Scopes};
use crate::client_auth::ClientAuth;
use crate::discovery::ServerMetadata;
use crate::endpoint::{EndpointSettings, RequestContext, TokenEndpoint};
use crate::error::Error;
use crate::grant::{GrantType, RefreshTokenGrant};
use crate::revocation::{Revocation, RevocationEndpoint};
use crate::secret::{AccountKey, RefreshToken};
use crate::token::TokenSet;

/// One account at one provider.
#[async_trait]
pub trait TokenProvider: Send + Sync + fmt::Debug {
    /// The account's stable name, such as `voipex:alice@example.com#1a2b3c4d`:
    /// the key its tokens are stored under. It must differ between servers
    /// and clients (see [`Binding::account_key`]).
    fn account_key(&self) -> &AccountKey;

    /// Where this provider's tokens come from and what they must grant: the
    /// token endpoint, the client id, the resources and the scopes it asks
    /// for. The manager uses a stored set only when its own binding serves
    /// this one, and never sends its refresh token anywhere else.
    fn binding(&self) -> &Binding;

    /// Gets a fresh token set without a refresh token: a password or client
    /// credentials grant. Providers that need a person (authorization code)
    /// return [`Error::SignInRequired`].
    async fn authenticate(&self, cx: &RequestContext) -> Result<TokenSet, Error>;

    /// Exchanges a refresh token for a new token set. A refusal of the token
    /// itself must come back as a refusal for which
    /// [`crate::Refusal::is_refresh_token_dead`] is true, or as
    /// [`Error::SignInRequired`].
    async fn refresh(
        &self,
        refresh_token: &RefreshToken,
        cx: &RequestContext,
    ) -> Result<TokenSet, Error>;

    /// Asks for a token for other `resources` (RFC 8707 §2.2) or narrower
    /// `scopes` with `refresh_token`, for [`crate::TokenManager::for_resource`].
    /// The default cannot: a configuration error naming the provider.
    async fn refresh_for(
        &self,
        refresh_token: &RefreshToken,
        resources: &[String],
        scopes: &[String],
        cx: &RequestContext,
    ) -> Result<TokenSet, Error> {
        let _ = (refresh_token, resources, scopes, cx);
        Err(Error::config(format!(
            "{} cannot ask for tokens for other resources",
            self.account_key()
        )))
    }

    /// Revokes `tokens` at the server (RFC 7009) when the server offers
    /// revocation; the manager calls it on sign-out, under the store's hold,
    /// and removes the set whatever it returns. The default offers none.
    async fn revoke(&self, tokens: &TokenSet, cx: &RequestContext) -> Revocation {
        let _ = (tokens, cx);
        Revocation::NotOffered
    }
}

/// A provider for any standard OAuth 2 server: a token endpoint, plus the
/// grant that authenticates unattended (password, client credentials), if any.
///
/// Its account key is the name you give followed by `#` and the binding's
/// fingerprint, so the same name at two servers or clients is two accounts.
#[derive(Clone, Debug)]
pub struct GenericProvider {
    name: String,
    key: AccountKey,
    binding: Binding,
    endpoint: TokenEndpoint,
    authentication: Option<Arc<dyn GrantType>>,
    refresh_scopes: Vec<String>,
    resources: Vec<String>,
    revocation: Option<RevocationEndpoint>,
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
            resources: Vec::new(),
            revocation: None,
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

    /// A provider for the account named `name` at the server `metadata`
    /// describes (see [`crate::Discovery`]): its token endpoint with `auth`
    /// (refused when the server does not list that method) and `settings`,
    /// and its revocation endpoint when it has one.
    pub fn from_metadata(
        name: impl Into<String>,
        metadata: &ServerMetadata,
        auth: ClientAuth,
        settings: EndpointSettings,
    ) -> Result<Self, Error> {
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
            None => (&[][..], &[][..]),
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
            Some(grant) => self.endpoint.request(grant.as_ref(), cx).await,
            None => Err(Error::SignInRequired {
                reason: format!("{} has no way to sign in without a person", self.key),
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
        self.endpoint.request(&grant, cx).await
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

#[async_trait]
impl<T: TokenProvider + ?Sized> TokenProvider for Arc<T> {
    fn account_key(&self) -> &AccountKey {
        (**self).account_key()
    }

    fn binding(&self) -> &Binding {
        (**self).binding()
    }

    async fn authenticate(&self, cx: &RequestContext) -> Result<TokenSet, Error> {
        (**self).authenticate(cx).await
    }

    async fn refresh(
        &self,
        refresh_token: &RefreshToken,
        cx: &RequestContext,
    ) -> Result<TokenSet, Error> {
        (**self).refresh(refresh_token, cx).await
    }

    async fn refresh_for(
        &self,
        refresh_token: &RefreshToken,
        resources: &[String],
        scopes: &[String],
        cx: &RequestContext,
    ) -> Result<TokenSet, Error> {
        (**self)
            .refresh_for(refresh_token, resources, scopes, cx)
            .await
    }

    async fn revoke(&self, tokens: &TokenSet, cx: &RequestContext) -> Revocation {
        (**self).revoke(tokens, cx).await
    }
}

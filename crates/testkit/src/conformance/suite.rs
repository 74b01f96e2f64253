//! A conformance run's definition: the provider's name, how to configure
//! the mock server like the provider's, and how to build the provider
//! pointed at it; with the steps every behaviour starts from (a fresh
//! server, the provider for some credentials, the first tokens).

use std::sync::Arc;

use authkit_core::{Error, TokenProvider, TokenSet};

use super::context::{
    Credentials, ProviderContext, ProviderFactory, Reads, ServerFactory, SignIn, SignInContext,
    SignInFuture,
};
use crate::server::{MockAuthServer, MockAuthServerBuilder};

/// A conformance run for one provider.
pub struct Conformance {
    pub(super) name: String,
    server: ServerFactory,
    provider: ProviderFactory,
    sign_in: Option<SignIn>,
}

impl std::fmt::Debug for Conformance {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Conformance")
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

impl Conformance {
    /// A run for the provider `name`: `server` configures the mock (it must
    /// have at least one user, who is the one signed in, and its first
    /// client is the provider's), and `provider` builds the provider
    /// pointed at it, with the credentials of its [`ProviderContext`].
    pub fn new(
        name: impl Into<String>,
        server: impl Fn() -> MockAuthServerBuilder + Send + Sync + 'static,
        provider: impl Fn(&ProviderContext<'_>) -> Result<Arc<dyn TokenProvider>, Error>
        + Send
        + Sync
        + 'static,
    ) -> Self {
        Self {
            name: name.into(),
            server: Box::new(server),
            provider: Box::new(provider),
            sign_in: None,
        }
    }

    /// For providers that only a person can sign in (authorization code):
    /// `sign_in` plays the person and returns the first token set (for
    /// example with [`crate::support::authorize`], which follows the mock
    /// server's `/authorize` redirect, and the provider's code exchange).
    /// The suite then seeds its managers with it, and checks that the
    /// provider's own `authenticate` says a person must sign in.
    pub fn with_sign_in(
        mut self,
        sign_in: impl Fn(SignInContext) -> SignInFuture + Send + Sync + 'static,
    ) -> Self {
        self.sign_in = Some(Box::new(sign_in));
        self
    }

    /// Whether a person signs in (a sign-in function was given).
    pub(super) fn person_signs_in(&self) -> bool {
        self.sign_in.is_some()
    }

    pub(super) async fn start(&self) -> (MockAuthServer, Credentials) {
        let server = (self.server)().start().await;
        let (_, password) = server.first_user();
        let (client_id, client_secret) = server.first_client().unwrap_or_default();
        (
            server,
            Credentials {
                password,
                client_id,
                client_secret,
            },
        )
    }

    /// The provider for `credentials`, and which of them it read.
    pub(super) fn provider(
        &self,
        server: &MockAuthServer,
        credentials: &Credentials,
    ) -> Result<(Arc<dyn TokenProvider>, Reads), String> {
        let (username, _) = server.first_user();
        let reads = Reads::default();
        let provider = (self.provider)(&ProviderContext {
            server,
            username: &username,
            credentials,
            reads: &reads,
        })
        .map_err(|e| format!("the provider could not be built: {e}"))?;
        Ok((provider, reads))
    }

    /// The first token set: from the sign-in function, or the provider.
    pub(super) async fn first_tokens(
        &self,
        server: &MockAuthServer,
        credentials: &Credentials,
        provider: &Arc<dyn TokenProvider>,
    ) -> Result<TokenSet, Error> {
        match &self.sign_in {
            Some(sign_in) => {
                sign_in(SignInContext {
                    base_url: server.base_url(),
                    authorize_url: server.authorize_url(),
                    token_url: server.token_url(),
                    username: server.first_user().0,
                    client_id: credentials.client_id.clone(),
                    client_secret: credentials.client_secret.clone().unwrap_or_default(),
                    clock: server.shared_clock(),
                })
                .await
            }
            None => provider.authenticate(&server.context()).await,
        }
    }
}

impl MockAuthServer {
    /// The first configured user, who the conformance suite signs in as.
    pub(crate) fn first_user(&self) -> (String, String) {
        self.users().into_iter().next().unwrap_or_default()
    }
}

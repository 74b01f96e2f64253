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

/// The client secret every conformance run gives the server's first
/// client, whatever the server's configuration says: its characters read
/// differently raw and form-encoded (RFC 6749 §2.3.1), so a provider that
/// sends HTTP Basic in an encoding its server does not take is refused,
/// where plain letters would have passed either way.
pub const SUITE_CLIENT_SECRET: &str = "the conformance suite's client secret: +/%&=~ @";

/// A conformance run for one provider.
pub struct Conformance {
    pub(super) name: String,
    server: ServerFactory,
    provider: ProviderFactory,
    sign_in: Option<SignIn>,
    identifiers: Vec<(String, String)>,
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
            identifiers: Vec::new(),
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

    /// Declares a credential that is no secret (an account id, a tenant):
    /// the factory reads it with [`ProviderContext::identifier`], the
    /// wrong-credential behaviour makes it wrong on its own and expects a
    /// refusal of the credentials, and the leak check lets it appear in
    /// `Debug`, errors and logs. `value` is the one the server's
    /// configuration accepts.
    ///
    /// ```no_run
    /// # use std::sync::Arc;
    /// # use authkit_core::*;
    /// # use authkit_core::grant::{ExtensionGrant, FormParam};
    /// # use authkit_testkit::{MockAuthServer, MockClient, conformance::Conformance};
    /// # fn server() -> authkit_testkit::MockAuthServerBuilder { MockAuthServer::builder() }
    /// let run = Conformance::new("globex", server, |ctx| {
    ///     let endpoint = TokenEndpoint::builder(ctx.server.token_url())
    ///         .client_auth(ClientAuth::basic(ctx.client_id(), ClientSecret::new(ctx.client_secret())))
    ///         .build()?;
    ///     let grant = ExtensionGrant::new("urn:globex:account")
    ///         .with_param(FormParam::plain("account_id", ctx.identifier("account_id")));
    ///     Ok(Arc::new(GenericProvider::new("globex", endpoint).with_grant(grant)))
    /// })
    /// .with_identifier("account_id", "acct-42");
    /// # let _ = run;
    /// ```
    pub fn with_identifier(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.identifiers.push((name.into(), value.into()));
        self
    }

    /// Whether a person signs in (a sign-in function was given).
    pub(super) fn person_signs_in(&self) -> bool {
        self.sign_in.is_some()
    }

    /// A fresh server, its first client's secret replaced with
    /// [`SUITE_CLIENT_SECRET`], and the credentials that sign in there.
    pub(super) async fn start(&self) -> (MockAuthServer, Credentials) {
        let server = (self.server)()
            .first_client_secret(SUITE_CLIENT_SECRET)
            .start()
            .await;
        let (username, password) = server.first_user();
        let (client_id, client_secret) = server.first_client().unwrap_or_default();
        (
            server,
            Credentials {
                username,
                password,
                client_id,
                client_secret,
                identifiers: self.identifiers.clone(),
            },
        )
    }

    /// The provider for `credentials`, and which of them it read.
    pub(super) fn provider(
        &self,
        server: &MockAuthServer,
        credentials: &Credentials,
    ) -> Result<(Arc<dyn TokenProvider>, Reads), String> {
        let reads = Reads::default();
        let provider = (self.provider)(&ProviderContext {
            server,
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
                    username: credentials.username.clone(),
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

//! The behaviours every provider must have, run against a [`MockAuthServer`].
//!
//! An adapter's test says how to configure the mock server so that it looks
//! like the adapter's provider (paths, client kind, response style, custom
//! grants, error shape) and how to build the adapter's provider pointed at
//! it, then calls [`Conformance::run`]. The same suite serves every shape of
//! provider, unchanged: it first finds the provider's shape from what
//! actually happens (does the server issue refresh tokens, and does a
//! refresh rotate them? does a person sign in? which credentials does the
//! provider read from its [`ProviderContext`]?), then runs each behaviour
//! against a fresh server. A behaviour that does not apply to the shape is
//! [`Verdict::Skipped`] with the reason, never passed by accident; the
//! report names every behaviour that broke and why.
//!
//! ```no_run
//! # use std::sync::Arc;
//! # use authkit_core::*;
//! # use authkit_core::grant::PasswordGrant;
//! use authkit_testkit::{MockAuthServer, MockClient, conformance::Conformance};
//!
//! # async fn run() {
//! Conformance::new(
//!     "generic",
//!     || MockAuthServer::builder().user("alice", "pw").client(MockClient::public("api")),
//!     |ctx| {
//!         let endpoint = TokenEndpoint::builder(ctx.server.token_url())
//!             .client_auth(ClientAuth::public(ctx.client_id()))
//!             .build()?;
//!         Ok(Arc::new(GenericProvider::new(format!("generic:{}", ctx.username), endpoint)
//!             .with_grant(PasswordGrant::new(ctx.username, Password::new(ctx.password())))))
//!     },
//! )
//! .run()
//! .await
//! .assert_passed();
//! # }
//! ```

mod behaviours;
mod report;
mod shape;

use std::cell::Cell;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use authkit_core::clock::Clock;
use authkit_core::{Error, TokenProvider, TokenSet};

use crate::server::{MockAuthServer, MockAuthServerBuilder};

pub use behaviours::names as behaviour;
pub use report::{ConformanceReport, Verdict};
pub use shape::{RefreshTokens, Shape};

/// What a provider factory gets: the server, and the credentials to use.
/// The suite notes which credentials the factory reads: a provider that
/// reads none has no wrong credential to be refused for.
#[derive(Debug)]
pub struct ProviderContext<'a> {
    /// The server the provider must talk to.
    pub server: &'a MockAuthServer,
    /// The user name to sign in as (the server's first user).
    pub username: &'a str,
    credentials: &'a Credentials,
    reads: &'a Reads,
}

impl ProviderContext<'_> {
    /// The password to use (deliberately wrong in the wrong-credential
    /// behaviour).
    pub fn password(&self) -> &str {
        self.reads.password.set(true);
        &self.credentials.password
    }

    /// The client id (the server's first client).
    pub fn client_id(&self) -> &str {
        &self.credentials.client_id
    }

    /// The client secret (deliberately wrong in the wrong-credential
    /// behaviour); empty for a public client.
    pub fn client_secret(&self) -> &str {
        match &self.credentials.client_secret {
            Some(secret) => {
                self.reads.client_secret.set(true);
                secret
            }
            None => "",
        }
    }
}

/// The credentials a run hands to the factory.
#[derive(Debug, Clone)]
struct Credentials {
    password: String,
    client_id: String,
    client_secret: Option<String>,
}

impl Credentials {
    /// Only the password made wrong.
    fn wrong_password(&self) -> Self {
        Self {
            password: format!("{}-wrong", self.password),
            ..self.clone()
        }
    }

    /// Only the client secret made wrong.
    fn wrong_client_secret(&self) -> Self {
        Self {
            client_secret: self.client_secret.as_ref().map(|s| format!("{s}-wrong")),
            ..self.clone()
        }
    }

    /// Every credential made wrong.
    fn wrong(&self) -> Self {
        Self {
            password: format!("{}-wrong", self.password),
            client_id: self.client_id.clone(),
            client_secret: self.client_secret.as_ref().map(|s| format!("{s}-wrong")),
        }
    }
}

/// Which credentials a factory read.
#[derive(Debug, Default)]
struct Reads {
    password: Cell<bool>,
    client_secret: Cell<bool>,
}

/// What a sign-in function gets, owned: where the server is, whom to sign in.
#[derive(Debug, Clone)]
pub struct SignInContext {
    /// The server's base URL.
    pub base_url: String,
    /// The authorization endpoint's URL.
    pub authorize_url: String,
    /// The token endpoint's URL.
    pub token_url: String,
    /// The user the server signs in at its authorization endpoint.
    pub username: String,
    /// The client id (the server's first client).
    pub client_id: String,
    /// The client secret, empty for a public client.
    pub client_secret: String,
    /// The server's clock.
    pub clock: Arc<dyn Clock>,
}

/// The future a sign-in function returns.
pub type SignInFuture = Pin<Box<dyn Future<Output = Result<TokenSet, Error>> + Send>>;
type SignIn = Box<dyn Fn(SignInContext) -> SignInFuture + Send + Sync>;
type ServerFactory = Box<dyn Fn() -> MockAuthServerBuilder + Send + Sync>;
type ProviderFactory =
    Box<dyn Fn(&ProviderContext<'_>) -> Result<Arc<dyn TokenProvider>, Error> + Send + Sync>;

/// A conformance run for one provider.
pub struct Conformance {
    name: String,
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

    /// Finds the provider's shape, then runs every behaviour, each against a
    /// fresh server.
    pub async fn run(&self) -> ConformanceReport {
        let shape = self.shape().await;
        let results = self.behaviours(&shape).await;
        ConformanceReport {
            name: self.name.clone(),
            shape: shape.to_string(),
            results,
        }
    }

    async fn start(&self) -> (MockAuthServer, Credentials) {
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
    fn provider(
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
    async fn first_tokens(
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

//! What the suite hands a provider's factory and sign-in function: the
//! server, and the credentials to use (sometimes deliberately wrong), with
//! a note of which the factory read.

use std::cell::Cell;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use authkit_core::clock::Clock;
use authkit_core::{Error, TokenProvider, TokenSet};

use crate::server::{MockAuthServer, MockAuthServerBuilder};

/// What a provider factory gets: the server, and the credentials to use.
/// The suite notes which credentials the factory reads: a provider that
/// reads none has no wrong credential to be refused for.
#[derive(Debug)]
pub struct ProviderContext<'a> {
    /// The server the provider must talk to.
    pub server: &'a MockAuthServer,
    /// The user name to sign in as (the server's first user).
    pub username: &'a str,
    pub(super) credentials: &'a Credentials,
    pub(super) reads: &'a Reads,
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
pub(super) struct Credentials {
    pub(super) password: String,
    pub(super) client_id: String,
    pub(super) client_secret: Option<String>,
}

impl Credentials {
    /// Only the password made wrong.
    pub(super) fn wrong_password(&self) -> Self {
        Self {
            password: format!("{}-wrong", self.password),
            ..self.clone()
        }
    }

    /// Only the client secret made wrong.
    pub(super) fn wrong_client_secret(&self) -> Self {
        Self {
            client_secret: self.client_secret.as_ref().map(|s| format!("{s}-wrong")),
            ..self.clone()
        }
    }

    /// Every credential made wrong.
    pub(super) fn wrong(&self) -> Self {
        Self {
            password: format!("{}-wrong", self.password),
            client_id: self.client_id.clone(),
            client_secret: self.client_secret.as_ref().map(|s| format!("{s}-wrong")),
        }
    }
}

/// Which credentials a factory read.
#[derive(Debug, Default)]
pub(super) struct Reads {
    pub(super) password: Cell<bool>,
    pub(super) client_secret: Cell<bool>,
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
pub(super) type SignIn = Box<dyn Fn(SignInContext) -> SignInFuture + Send + Sync>;
pub(super) type ServerFactory = Box<dyn Fn() -> MockAuthServerBuilder + Send + Sync>;
pub(super) type ProviderFactory =
    Box<dyn Fn(&ProviderContext<'_>) -> Result<Arc<dyn TokenProvider>, Error> + Send + Sync>;

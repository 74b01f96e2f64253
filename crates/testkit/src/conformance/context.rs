//! What the suite hands a provider's factory and sign-in function: the
//! server, and the credentials to use (sometimes deliberately wrong), with
//! a note of which the factory read.

use std::cell::RefCell;
use std::collections::BTreeSet;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use authkit_core::clock::Clock;
use authkit_core::{Error, TokenProvider, TokenSet};

use crate::server::{MockAuthServer, MockAuthServerBuilder};

/// What a provider factory gets: the server, and the credentials to use.
/// The suite notes which credentials the factory reads: each one read is
/// made wrong on its own in the wrong-credential behaviour, and one that
/// is read but never sent shows up there as "accepted". A provider that
/// reads none has no wrong credential to be refused for.
#[derive(Debug)]
pub struct ProviderContext<'a> {
    /// The server the provider must talk to.
    pub server: &'a MockAuthServer,
    pub(super) credentials: &'a Credentials,
    pub(super) reads: &'a Reads,
}

impl ProviderContext<'_> {
    /// The user name to sign in as: the server's first user (deliberately
    /// wrong in the wrong-credential behaviour). Not a secret: it may appear
    /// in the account's name and in logs.
    pub fn username(&self) -> &str {
        self.reads.note(Credential::Username);
        &self.credentials.username
    }

    /// The password to use (deliberately wrong in the wrong-credential
    /// behaviour).
    pub fn password(&self) -> &str {
        self.reads.note(Credential::Password);
        &self.credentials.password
    }

    /// The client id (the server's first client). It is never made wrong:
    /// a client the server does not know is refused as `invalid_client` by
    /// every server alike.
    pub fn client_id(&self) -> &str {
        &self.credentials.client_id
    }

    /// The client secret (deliberately wrong in the wrong-credential
    /// behaviour); empty for a public client. The suite gives the server's
    /// first client [`SUITE_CLIENT_SECRET`](super::SUITE_CLIENT_SECRET), whatever
    /// the server's configuration says, so that a client sending Basic in
    /// the wrong encoding is refused.
    pub fn client_secret(&self) -> &str {
        match &self.credentials.client_secret {
            Some(secret) => {
                self.reads.note(Credential::ClientSecret);
                secret
            }
            None => "",
        }
    }

    /// A credential that is no secret (an account id, a tenant), declared
    /// with [`Conformance::with_identifier`](super::Conformance::with_identifier):
    /// deliberately wrong in the wrong-credential behaviour, and free to
    /// appear in `Debug`, errors and logs.
    ///
    /// # Panics
    ///
    /// When the run declares no identifier `name`: the test is wrong, and
    /// says how to fix it.
    pub fn identifier(&self, name: &str) -> &str {
        let value = self
            .credentials
            .identifiers
            .iter()
            .find(|(declared, _)| declared == name)
            .map(|(_, value)| value.as_str());
        match value {
            Some(value) => {
                self.reads.note(Credential::Identifier(name.to_owned()));
                value
            }
            None => panic!(
                "the conformance run declares no identifier `{name}`: add .with_identifier(\"{name}\", value)"
            ),
        }
    }
}

/// A credential a provider can read from its [`ProviderContext`].
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum Credential {
    /// [`ProviderContext::username`].
    Username,
    /// [`ProviderContext::password`].
    Password,
    /// [`ProviderContext::client_secret`].
    ClientSecret,
    /// [`ProviderContext::identifier`], by name.
    Identifier(String),
}

impl Credential {
    /// Whether it is a secret: the leak check looks for secrets, wrong ones
    /// included, and never for identifiers or user names.
    pub fn is_secret(&self) -> bool {
        matches!(self, Credential::Password | Credential::ClientSecret)
    }
}

impl std::fmt::Display for Credential {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Credential::Username => f.write_str("user name"),
            Credential::Password => f.write_str("password"),
            Credential::ClientSecret => f.write_str("client secret"),
            Credential::Identifier(name) => write!(f, "identifier `{name}`"),
        }
    }
}

/// The credentials a run hands to the factory.
#[derive(Debug, Clone)]
pub(super) struct Credentials {
    pub(super) username: String,
    pub(super) password: String,
    pub(super) client_id: String,
    pub(super) client_secret: Option<String>,
    pub(super) identifiers: Vec<(String, String)>,
}

impl Credentials {
    /// Only `which` made wrong.
    pub(super) fn with_wrong(&self, which: &Credential) -> Self {
        let wrong = |value: &str| format!("{value}-wrong");
        let mut spoiled = self.clone();
        match which {
            Credential::Username => spoiled.username = wrong(&self.username),
            Credential::Password => spoiled.password = wrong(&self.password),
            Credential::ClientSecret => {
                spoiled.client_secret = self.client_secret.as_deref().map(wrong)
            }
            Credential::Identifier(name) => {
                for (declared, value) in &mut spoiled.identifiers {
                    if declared == name {
                        *value = wrong(value);
                    }
                }
            }
        }
        spoiled
    }

    /// Every secret made wrong; the rest kept.
    pub(super) fn wrong_secrets(&self) -> Self {
        self.with_wrong(&Credential::Password)
            .with_wrong(&Credential::ClientSecret)
    }
}

/// Which credentials a factory read.
#[derive(Debug, Default)]
pub(super) struct Reads(RefCell<BTreeSet<Credential>>);

impl Reads {
    fn note(&self, credential: Credential) {
        self.0.borrow_mut().insert(credential);
    }

    /// What was read, user name first, identifiers last.
    pub(super) fn read(&self) -> Vec<Credential> {
        self.0.borrow().iter().cloned().collect()
    }
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

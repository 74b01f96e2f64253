//! The behaviours every provider must have, run against a [`MockAuthServer`].
//!
//! An adapter's test describes how to configure the mock server so that it
//! looks like the adapter's provider (paths, client kind, response style)
//! and how to build the adapter's provider pointed at it, then calls
//! [`Conformance::run`]. Each behaviour runs against a fresh server; the
//! report names every behaviour that broke and why.
//!
//! ```no_run
//! # use std::sync::Arc;
//! # use authkit_core::*;
//! use authkit_testkit::{MockAuthServer, MockClient, conformance::Conformance};
//!
//! # async fn run() {
//! Conformance::new(
//!     "generic",
//!     || MockAuthServer::builder().user("alice", "pw").client(MockClient::public("api")),
//!     |ctx| {
//!         let endpoint = TokenEndpoint::builder(ctx.server.token_url())
//!             .client_auth(ClientAuth::public("api"))
//!             .build()?;
//!         Ok(Arc::new(GenericProvider::new(format!("generic:{}", ctx.username), endpoint)
//!             .with_grant(PasswordGrant::new(ctx.username, Password::new(ctx.password)))))
//!     },
//! )
//! .run()
//! .await
//! .assert_passed();
//! # }
//! ```

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use authkit_core::{
    AccountKey, Clock, Error, ExposeSecret, HeldAccount, MemoryStore, TokenManager, TokenProvider,
    TokenSet,
};

use crate::capture::capture_logs;
use crate::server::{Fault, MockAuthServer, MockAuthServerBuilder};

/// What a provider factory gets: the server, and the credentials to use.
#[derive(Debug)]
pub struct ProviderContext<'a> {
    /// The server the provider must talk to.
    pub server: &'a MockAuthServer,
    /// The user name to sign in as.
    pub username: &'a str,
    /// The password to use (deliberately wrong in some behaviours).
    pub password: &'a str,
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
    /// The server's clock.
    pub clock: Arc<dyn Clock>,
}

/// What [`Conformance::signed_in`] sets up.
struct SignedIn {
    server: MockAuthServer,
    provider: Arc<dyn TokenProvider>,
    store: MemoryStore,
    manager: TokenManager,
    first: TokenSet,
}

type SignInFuture = Pin<Box<dyn Future<Output = Result<TokenSet, Error>> + Send>>;
type SignIn = Box<dyn Fn(SignInContext) -> SignInFuture + Send + Sync>;
type ServerFactory = Box<dyn Fn() -> MockAuthServerBuilder + Send + Sync>;
type ProviderFactory =
    Box<dyn Fn(&ProviderContext<'_>) -> Result<Arc<dyn TokenProvider>, Error> + Send + Sync>;
type Check<'a> = Pin<Box<dyn Future<Output = Result<(), String>> + 'a>>;

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

/// The outcome of each behaviour.
#[derive(Debug)]
pub struct ConformanceReport {
    name: String,
    results: Vec<(&'static str, Result<(), String>)>,
}

impl ConformanceReport {
    /// Every behaviour and whether it held.
    pub fn results(&self) -> &[(&'static str, Result<(), String>)] {
        &self.results
    }

    /// The behaviours that broke.
    pub fn failures(&self) -> Vec<(&'static str, &str)> {
        self.results
            .iter()
            .filter_map(|(name, r)| r.as_ref().err().map(|e| (*name, e.as_str())))
            .collect()
    }

    /// Panics, naming every behaviour that broke, unless all held.
    pub fn assert_passed(&self) {
        let failures = self.failures();
        if !failures.is_empty() {
            let lines: Vec<String> = failures
                .iter()
                .map(|(n, e)| format!("  - {n}: {e}"))
                .collect();
            panic!(
                "conformance of `{}`: {} of {} behaviours broke:\n{}",
                self.name,
                failures.len(),
                self.results.len(),
                lines.join("\n")
            );
        }
    }
}

fn ensure(condition: bool, message: impl Into<String>) -> Result<(), String> {
    if condition {
        Ok(())
    } else {
        Err(message.into())
    }
}

fn lifetime(tokens: &TokenSet) -> time::Duration {
    tokens.expires_at() - tokens.issued_at()
}

impl Conformance {
    /// A run for the provider `name`: `server` configures the mock (it must
    /// have at least one user, who is the one signed in), and `provider`
    /// builds the provider pointed at it.
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
    /// example by following the mock server's `/authorize` redirect and
    /// exchanging the code). The suite then seeds its managers with it, and
    /// checks that the provider's own `authenticate` says a person must sign
    /// in instead of the wrong-password behaviour.
    pub fn with_sign_in(
        mut self,
        sign_in: impl Fn(SignInContext) -> SignInFuture + Send + Sync + 'static,
    ) -> Self {
        self.sign_in = Some(Box::new(sign_in));
        self
    }

    /// The first token set: from the sign-in function, or the provider.
    async fn first_tokens(
        &self,
        server: &MockAuthServer,
        provider: &Arc<dyn TokenProvider>,
    ) -> Result<TokenSet, Error> {
        match &self.sign_in {
            Some(sign_in) => {
                sign_in(SignInContext {
                    base_url: server.base_url(),
                    authorize_url: server.authorize_url(),
                    token_url: server.token_url(),
                    username: server.first_user().0,
                    clock: server.shared_clock(),
                })
                .await
            }
            None => provider.authenticate(&server.context()).await,
        }
    }

    /// A fresh server, the provider, a store, and a manager that holds its
    /// first token set: where most behaviours start.
    async fn signed_in(&self) -> Result<SignedIn, String> {
        let (server, user, password) = self.start().await;
        let provider = self.provider(&server, &user, &password)?;
        let store = MemoryStore::new();
        let manager = self
            .signed_in_manager(&server, Arc::clone(&provider), store.clone())
            .await?;
        let first = manager
            .token_set()
            .await
            .map_err(|e| format!("first token failed: {e}"))?;
        Ok(SignedIn {
            server,
            provider,
            store,
            manager,
            first,
        })
    }

    /// A manager holding its first token set.
    async fn signed_in_manager(
        &self,
        server: &MockAuthServer,
        provider: Arc<dyn TokenProvider>,
        store: MemoryStore,
    ) -> Result<TokenManager, String> {
        let manager = self.manager(server, Arc::clone(&provider), store);
        if self.sign_in.is_some() {
            let tokens = self
                .first_tokens(server, &provider)
                .await
                .map_err(|e| format!("sign-in failed: {e}"))?;
            manager
                .sign_in_with(tokens)
                .await
                .map_err(|e| format!("storing the sign-in failed: {e}"))?;
        }
        Ok(manager)
    }

    /// Runs every behaviour, each against a fresh server.
    pub async fn run(&self) -> ConformanceReport {
        let checks: Vec<(&'static str, Check<'_>)> = vec![
            ("authenticate", Box::pin(self.authenticates())),
            ("refresh", Box::pin(self.refreshes())),
            (
                "rotation persisted through the manager and store",
                Box::pin(self.persists_rotation()),
            ),
            (
                "wrong password is a refusal and not retried",
                Box::pin(self.refuses_wrong_password()),
            ),
            (
                "spent refresh token leads to re-authentication or sign-in",
                Box::pin(self.recovers_from_spent_refresh_token()),
            ),
            (
                "a stampede of callers makes one request",
                Box::pin(self.survives_stampede()),
            ),
            (
                "server failures are retried",
                Box::pin(self.retries_server_failures()),
            ),
            (
                "no secret in Debug, errors or logs",
                Box::pin(self.keeps_secrets()),
            ),
        ];
        let mut results = Vec::with_capacity(checks.len());
        for (name, check) in checks {
            results.push((name, check.await));
        }
        ConformanceReport {
            name: self.name.clone(),
            results,
        }
    }

    async fn start(&self) -> (MockAuthServer, String, String) {
        let server = (self.server)().start().await;
        let (username, password) = server.first_user();
        (server, username, password)
    }

    fn provider(
        &self,
        server: &MockAuthServer,
        username: &str,
        password: &str,
    ) -> Result<Arc<dyn TokenProvider>, String> {
        (self.provider)(&ProviderContext {
            server,
            username,
            password,
        })
        .map_err(|e| format!("the provider could not be built: {e}"))
    }

    fn manager(
        &self,
        server: &MockAuthServer,
        provider: Arc<dyn TokenProvider>,
        store: MemoryStore,
    ) -> TokenManager {
        TokenManager::builder(provider, store)
            .clock(server.shared_clock())
            .build()
    }

    async fn authenticates(&self) -> Result<(), String> {
        let (server, user, password) = self.start().await;
        let provider = self.provider(&server, &user, &password)?;
        let tokens = self
            .first_tokens(&server, &provider)
            .await
            .map_err(|e| format!("authenticate failed: {e}"))?;
        ensure(
            server.is_access_token_active(tokens.access_token()),
            "the access token is not one the server issued",
        )?;
        ensure(
            tokens.refresh_token().is_some(),
            "the refresh token the server sent was not kept",
        )?;
        ensure(
            lifetime(&tokens) > time::Duration::ZERO,
            "the token set has no lifetime",
        )?;
        ensure(
            server.log().len() == 1,
            format!(
                "expected one token request, the server saw {}",
                server.log().len()
            ),
        )
    }

    async fn refreshes(&self) -> Result<(), String> {
        let (server, user, password) = self.start().await;
        let provider = self.provider(&server, &user, &password)?;
        let first = self
            .first_tokens(&server, &provider)
            .await
            .map_err(|e| format!("authenticate failed: {e}"))?;
        let rt = first
            .refresh_token()
            .ok_or("no refresh token to refresh with")?;
        let second = provider
            .refresh(rt, &server.context())
            .await
            .map_err(|e| format!("refresh failed: {e}"))?;
        ensure(
            server.is_access_token_active(second.access_token()),
            "the refreshed access token is not live",
        )?;
        let presented = server.log().refresh_tokens_presented();
        ensure(
            presented.len() == 1 && presented[0].same_secret(rt),
            "the refresh request did not present the refresh token it was given",
        )
    }

    async fn persists_rotation(&self) -> Result<(), String> {
        let SignedIn {
            server,
            provider,
            store,
            manager,
            ..
        } = self.signed_in().await?;
        for round in 1..=3 {
            let current = stored(&store, provider.account_key())
                .await
                .map_err(|e| e.to_string())?
                .ok_or("nothing was stored")?;
            server
                .clock()
                .advance(lifetime(&current) + time::Duration::minutes(1));
            let token = manager
                .access_token()
                .await
                .map_err(|e| format!("round {round}: {e}"))?;
            ensure(
                server.is_access_token_active(&token),
                format!("round {round}: the token handed out is not live"),
            )?;
            let stored = stored(&store, provider.account_key())
                .await
                .map_err(|e| e.to_string())?
                .ok_or("nothing was stored")?;
            ensure(
                stored.access_token().same_secret(&token),
                format!("round {round}: the new set was not saved"),
            )?;
        }
        let log = server.log();
        ensure(
            !log.any_refresh_token_sent_twice(),
            "a refresh token was sent twice",
        )?;
        ensure(
            log.count("refresh_token") == 3,
            format!("expected 3 refreshes, saw {}", log.count("refresh_token")),
        )
    }

    async fn refuses_wrong_password(&self) -> Result<(), String> {
        let (server, user, password) = self.start().await;
        if self.sign_in.is_some() {
            // A provider only a person can sign in has no password to get wrong:
            // its `authenticate` must say so, without a request.
            let provider = self.provider(&server, &user, &password)?;
            return match provider.authenticate(&server.context()).await {
                Err(Error::SignInRequired { .. }) => ensure(
                    server.log().is_empty(),
                    "authenticate sent a request instead of asking for a person",
                ),
                other => Err(format!(
                    "expected SignInRequired from authenticate, got {other:?}"
                )),
            };
        }
        let provider = self.provider(&server, &user, &format!("{password}-wrong"))?;
        match provider.authenticate(&server.context()).await {
            Ok(_) => return Err("a wrong password was accepted".into()),
            Err(error) => {
                ensure(
                    error.is_refusal(),
                    format!("expected a refusal, got: {error}"),
                )?;
                ensure(
                    !error.is_retryable(),
                    "a refusal was classified as retryable",
                )?;
            }
        }
        ensure(
            server.log().len() == 1,
            format!("the refusal was retried: {} requests", server.log().len()),
        )
    }

    async fn recovers_from_spent_refresh_token(&self) -> Result<(), String> {
        let SignedIn {
            server,
            manager,
            first,
            ..
        } = self.signed_in().await?;
        server.revoke_all_refresh_tokens();
        server
            .clock()
            .advance(lifetime(&first) + time::Duration::minutes(1));
        match manager.access_token().await {
            Ok(token) => ensure(
                server.is_access_token_active(&token),
                "the recovered token is not live",
            )?,
            Err(Error::SignInRequired { .. }) => {}
            Err(other) => {
                return Err(format!(
                    "expected re-authentication or SignInRequired, got: {other}"
                ));
            }
        }
        let _ = manager.access_token().await;
        ensure(
            !server.log().any_refresh_token_sent_twice(),
            "the refused refresh token was sent again",
        )
    }

    async fn survives_stampede(&self) -> Result<(), String> {
        let SignedIn {
            server,
            manager,
            first,
            ..
        } = self.signed_in().await?;
        server
            .clock()
            .advance(lifetime(&first) + time::Duration::minutes(1));
        let callers = (0..200).map(|_| manager.access_token());
        let results = futures::future::join_all(callers).await;
        let tokens: Result<Vec<_>, _> = results.into_iter().collect();
        let tokens = tokens.map_err(|e| format!("a caller failed: {e}"))?;
        ensure(
            tokens.windows(2).all(|w| w[0].same_secret(&w[1])),
            "callers got different tokens",
        )?;
        let refreshes = server.log().count("refresh_token");
        ensure(
            refreshes == 1,
            format!("200 callers caused {refreshes} refreshes"),
        )
    }

    async fn retries_server_failures(&self) -> Result<(), String> {
        let (server, user, password) = self.start().await;
        let provider = self.provider(&server, &user, &password)?;
        server.inject(Fault::ServerError(503));
        let tokens = self
            .first_tokens(&server, &provider)
            .await
            .map_err(|e| format!("a 503 was not retried: {e}"))?;
        ensure(
            server.is_access_token_active(tokens.access_token()),
            "the token after the retry is not live",
        )?;
        ensure(
            server.log().len() == 2,
            format!("expected 2 requests, saw {}", server.log().len()),
        )
    }

    async fn keeps_secrets(&self) -> Result<(), String> {
        let (server, user, password) = self.start().await;
        let (logs, guard) = capture_logs();
        let mut seen = Vec::new();
        let provider = self.provider(&server, &user, &password)?;
        seen.push(format!("{provider:?}"));
        let manager = self
            .signed_in_manager(&server, Arc::clone(&provider), MemoryStore::new())
            .await?;
        let tokens = manager
            .token_set()
            .await
            .map_err(|e| format!("first token failed: {e}"))?;
        seen.push(format!("{tokens:?} {manager:?}"));
        server
            .clock()
            .advance(lifetime(&tokens) + time::Duration::minutes(1));
        server.inject(Fault::TruncatedJson);
        if let Err(error) = manager.access_token().await {
            seen.push(format!("{error:?} {error}"));
        }
        server.clock().advance(time::Duration::minutes(2));
        let refreshed = manager
            .token_set()
            .await
            .map_err(|e| format!("refresh failed: {e}"))?;
        seen.push(format!("{refreshed:?}"));
        let wrong = self.provider(&server, &user, &format!("{password}-wrong"))?;
        seen.push(format!("{wrong:?}"));
        if let Err(error) = wrong.authenticate(&server.context()).await {
            seen.push(format!("{error:?} {error}"));
        }
        drop(guard);
        seen.push(logs.text());
        let mut secrets = server.all_secrets();
        secrets.push(format!("{password}-wrong"));
        secrets.push(refreshed.access_token().expose_secret().to_owned());
        let text = seen.join("\n");
        for secret in secrets {
            ensure(
                !text.contains(&secret),
                format!(
                    "a secret ({} chars) appeared in Debug, an error or a log line",
                    secret.len()
                ),
            )?;
        }
        Ok(())
    }
}

impl MockAuthServer {
    /// The first configured user, who the conformance suite signs in as.
    pub(crate) fn first_user(&self) -> (String, String) {
        self.users().into_iter().next().unwrap_or_default()
    }
}

/// The set `store` holds for `key`, read under its hold.
async fn stored(
    store: &MemoryStore,
    key: &AccountKey,
) -> Result<Option<TokenSet>, authkit_core::StoreError> {
    HeldAccount::acquire(store, key).await?.load().await
}

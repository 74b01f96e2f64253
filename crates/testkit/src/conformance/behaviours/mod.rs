//! The behaviours, each a specification sentence: its name says what it
//! checks, its body checks it against a fresh server, and it is skipped,
//! with the reason, where the provider's shape gives it nothing to check.

mod credentials;
mod renewal;
mod secrets;

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use authkit_core::store::HeldAccount;
use authkit_core::{AccountKey, MemoryStore, TokenManager, TokenProvider, TokenSet};

use super::context::Credentials;
use super::report::Verdict;
use super::shape::{RefreshTokens, Shape};
use super::suite::Conformance;
use crate::server::MockAuthServer;

type Check<'a> = Pin<Box<dyn Future<Output = Result<(), String>> + 'a>>;

/// The behaviours' names, as reports give them.
pub mod names {
    /// Every shape: the first sign-in.
    pub const FIRST_SIGN_IN: &str = "the first sign-in gets live tokens with a lifetime in one request, keeping any refresh token";
    /// With refresh tokens: one refresh.
    pub const REFRESH: &str =
        "a refresh presents the refresh token it was given and gets live tokens";
    /// Rotating refresh tokens: renewal through the manager and store.
    pub const ROTATING: &str = "rotating refresh tokens: each renewal at expiry is saved and no refresh token is sent twice";
    /// Reused refresh tokens: renewal through the manager and store.
    pub const REUSED: &str =
        "a reused refresh token: each renewal at expiry is saved and the refresh token is kept";
    /// No refresh tokens: renewal by repeating the grant.
    pub const NO_REFRESH: &str =
        "without refresh tokens: each renewal at expiry repeats the grant and is saved";
    /// Unattended providers that read a credential: a wrong one.
    pub const WRONG_CREDENTIAL: &str =
        "a wrong credential is refused as invalid_grant or invalid_client, and not retried";
    /// Every shape: the reason a refusal gives, in the field the server's
    /// error shape puts it in.
    pub const DESCRIPTION: &str =
        "a refusal's reason reaches the caller from the field the server puts it in";
    /// Providers a person signs in: `authenticate`.
    pub const PERSON_ONLY: &str =
        "a provider only a person signs in asks for a person, without a request";
    /// With refresh tokens: a dead one.
    pub const DEAD_REFRESH: &str =
        "a dead refresh token leads to a new sign-in or SignInRequired, and is never sent again";
    /// Every shape: single flight.
    pub const STAMPEDE: &str = "200 callers at expiry make one renewal request and get one token";
    /// Every shape: a server failure.
    pub const RETRIES: &str = "a 503 is retried and then succeeds";
    /// Every shape: secrets.
    pub const SECRETS: &str = "no secret reaches Debug, an error or a log line";
}

use names::*;

/// What [`Conformance::signed_in`] sets up.
struct SignedIn {
    server: MockAuthServer,
    provider: Arc<dyn TokenProvider>,
    store: MemoryStore,
    manager: TokenManager,
    first: TokenSet,
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

/// Requests after the first sign-in that renewed tokens (any grant).
fn renewals(server: &MockAuthServer, before: usize) -> usize {
    server.log().len().saturating_sub(before)
}

impl Conformance {
    /// Every behaviour, in order, with its verdict for `shape`.
    pub(super) async fn behaviours(&self, shape: &Shape) -> Vec<(&'static str, Verdict)> {
        let refresh = shape.refresh_tokens;
        let no_refresh = "the server issues no refresh tokens: renewal repeats the grant";
        let has_refresh = "the server issues refresh tokens";
        let checks: Vec<(&'static str, Option<String>, Check<'_>)> = vec![
            (FIRST_SIGN_IN, None, Box::pin(self.first_sign_in())),
            (
                REFRESH,
                (refresh == RefreshTokens::None).then(|| no_refresh.to_owned()),
                Box::pin(self.refreshes()),
            ),
            (
                ROTATING,
                (refresh != RefreshTokens::Rotating).then(|| format!("the shape has {refresh}")),
                Box::pin(self.renews_at_expiry(RefreshTokens::Rotating)),
            ),
            (
                REUSED,
                (refresh != RefreshTokens::Reused).then(|| format!("the shape has {refresh}")),
                Box::pin(self.renews_at_expiry(RefreshTokens::Reused)),
            ),
            (
                NO_REFRESH,
                (refresh != RefreshTokens::None).then(|| has_refresh.to_owned()),
                Box::pin(self.renews_at_expiry(RefreshTokens::None)),
            ),
            (
                WRONG_CREDENTIAL,
                if shape.person {
                    Some("a person signs in: there is no credential to get wrong".to_owned())
                } else if shape.reads.is_empty() {
                    Some("the provider reads no credential from its context".to_owned())
                } else {
                    None
                },
                Box::pin(self.refuses_wrong_credentials(shape)),
            ),
            (
                DESCRIPTION,
                None,
                Box::pin(self.reads_refusal_descriptions()),
            ),
            (
                PERSON_ONLY,
                (!shape.person).then(|| "the provider signs in unattended".to_owned()),
                Box::pin(self.asks_for_a_person()),
            ),
            (
                DEAD_REFRESH,
                (refresh == RefreshTokens::None).then(|| no_refresh.to_owned()),
                Box::pin(self.recovers_from_dead_refresh_token()),
            ),
            (STAMPEDE, None, Box::pin(self.survives_stampede())),
            (RETRIES, None, Box::pin(self.retries_server_failures())),
            (SECRETS, None, Box::pin(self.keeps_secrets())),
        ];
        let mut results = Vec::with_capacity(checks.len());
        for (name, skip, check) in checks {
            let verdict = match skip {
                Some(reason) => Verdict::Skipped(reason),
                None => match check.await {
                    Ok(()) => Verdict::Passed,
                    Err(why) => Verdict::Failed(why),
                },
            };
            results.push((name, verdict));
        }
        results
    }

    /// A fresh server, the provider, a store, and a manager that holds its
    /// first token set: where most behaviours start.
    async fn signed_in(&self) -> Result<SignedIn, String> {
        let (server, credentials) = self.start().await;
        let (provider, _) = self.provider(&server, &credentials)?;
        let store = MemoryStore::new();
        let manager = self
            .signed_in_manager(&server, &credentials, Arc::clone(&provider), store.clone())
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
        credentials: &Credentials,
        provider: Arc<dyn TokenProvider>,
        store: MemoryStore,
    ) -> Result<TokenManager, String> {
        let manager = TokenManager::builder(Arc::clone(&provider), store)
            .clock(server.shared_clock())
            .build();
        if self.person_signs_in() {
            let tokens = self
                .first_tokens(server, credentials, &provider)
                .await
                .map_err(|e| format!("sign-in failed: {e}"))?;
            manager
                .sign_in_with(tokens)
                .await
                .map_err(|e| format!("storing the sign-in failed: {e}"))?;
        }
        Ok(manager)
    }
}

/// The set `store` holds for `key`, read under its hold.
async fn stored(
    store: &MemoryStore,
    key: &AccountKey,
) -> Result<Option<TokenSet>, authkit_core::StoreError> {
    HeldAccount::acquire(store, key).await?.load().await
}

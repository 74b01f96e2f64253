//! The behaviours, each a specification sentence: its name says what it
//! checks, its body checks it against a fresh server, and it is skipped,
//! with the reason, where the provider's shape gives it nothing to check.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use authkit_core::store::HeldAccount;
use authkit_core::{
    AccountKey, Error, ErrorCode, ExposeSecret, MemoryStore, TokenManager, TokenProvider, TokenSet,
};

use super::context::Credentials;
use super::report::Verdict;
use super::shape::{RefreshTokens, Shape};
use super::suite::Conformance;
use crate::capture::capture_logs;
use crate::server::{Fault, MockAuthServer};

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
                } else if !shape.reads_password && !shape.reads_client_secret {
                    Some(
                        "the provider reads no password or client secret from its context"
                            .to_owned(),
                    )
                } else {
                    None
                },
                Box::pin(self.refuses_wrong_credentials(*shape)),
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

    async fn first_sign_in(&self) -> Result<(), String> {
        let (server, credentials) = self.start().await;
        let (provider, _) = self.provider(&server, &credentials)?;
        let tokens = self
            .first_tokens(&server, &credentials, &provider)
            .await
            .map_err(|e| format!("the first sign-in failed: {e}"))?;
        ensure(
            server.is_access_token_active(tokens.access_token()),
            "the access token is not one the server issued",
        )?;
        let issued = server
            .log()
            .entries()
            .iter()
            .any(|e| e.issued_refresh_token);
        ensure(
            !issued || tokens.refresh_token().is_some(),
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
        let (server, credentials) = self.start().await;
        let (provider, _) = self.provider(&server, &credentials)?;
        let first = self
            .first_tokens(&server, &credentials, &provider)
            .await
            .map_err(|e| format!("the first sign-in failed: {e}"))?;
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

    /// Three rounds at expiry through the manager and its store, checked
    /// the way `expected` renews.
    async fn renews_at_expiry(&self, expected: RefreshTokens) -> Result<(), String> {
        let SignedIn {
            server,
            provider,
            store,
            manager,
            first,
        } = self.signed_in().await?;
        let requests_before = server.log().len();
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
            let saved = stored(&store, provider.account_key())
                .await
                .map_err(|e| e.to_string())?
                .ok_or("nothing was stored")?;
            ensure(
                saved.access_token().same_secret(&token),
                format!("round {round}: the new set was not saved"),
            )?;
            if expected == RefreshTokens::Reused {
                let kept = saved
                    .refresh_token()
                    .zip(first.refresh_token())
                    .is_some_and(|(now, then)| now.same_secret(then));
                ensure(
                    kept,
                    format!("round {round}: the refresh token the server did not replace was lost"),
                )?;
            }
        }
        let log = server.log();
        let refreshes = log.count("refresh_token");
        match expected {
            RefreshTokens::Rotating => {
                ensure(
                    !log.any_refresh_token_sent_twice(),
                    "a refresh token was sent twice",
                )?;
                ensure(
                    refreshes == 3,
                    format!("expected 3 refreshes, saw {refreshes}"),
                )
            }
            RefreshTokens::Reused => ensure(
                refreshes == 3,
                format!("expected 3 refreshes, saw {refreshes}"),
            ),
            RefreshTokens::None => {
                ensure(
                    refreshes == 0,
                    format!("{refreshes} refreshes without a refresh token"),
                )?;
                let renewed = renewals(&server, requests_before);
                ensure(
                    renewed == 3,
                    format!("expected 3 renewals repeating the grant, saw {renewed}"),
                )
            }
        }
    }

    /// Each credential the provider reads, made wrong on its own (so a
    /// refusal of one cannot hide how the other is refused).
    async fn refuses_wrong_credentials(&self, shape: Shape) -> Result<(), String> {
        type Spoil = fn(&Credentials) -> Credentials;
        let mut wrongs: Vec<(&str, Spoil)> = Vec::new();
        if shape.reads_password {
            wrongs.push(("password", Credentials::wrong_password));
        }
        if shape.reads_client_secret {
            wrongs.push(("client secret", Credentials::wrong_client_secret));
        }
        for (which, wrong) in wrongs {
            let (server, credentials) = self.start().await;
            let (provider, _) = self.provider(&server, &wrong(&credentials))?;
            match provider.authenticate(&server.context()).await {
                Ok(_) => return Err(format!("a wrong {which} was accepted")),
                Err(error) => {
                    let code = error.refusal().map(|r| r.code().clone());
                    ensure(
                        matches!(
                            code,
                            Some(ErrorCode::InvalidGrant | ErrorCode::InvalidClient)
                        ),
                        format!(
                            "a wrong {which}: expected a refusal of the credentials (invalid_grant or invalid_client), got: {error}"
                        ),
                    )?;
                    ensure(
                        !error.is_retryable(),
                        format!("a wrong {which}: the refusal was classified as retryable"),
                    )?;
                }
            }
            ensure(
                server.log().len() == 1,
                format!(
                    "a wrong {which}: the refusal was retried: {} requests",
                    server.log().len()
                ),
            )?;
        }
        Ok(())
    }

    async fn asks_for_a_person(&self) -> Result<(), String> {
        let (server, credentials) = self.start().await;
        let (provider, _) = self.provider(&server, &credentials)?;
        match provider.authenticate(&server.context()).await {
            Err(Error::SignInRequired { .. }) => ensure(
                server.log().is_empty(),
                "authenticate sent a request instead of asking for a person",
            ),
            other => Err(format!(
                "expected SignInRequired from authenticate, got {other:?}"
            )),
        }
    }

    async fn recovers_from_dead_refresh_token(&self) -> Result<(), String> {
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
        let before = server.log().len();
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
        let renewed = renewals(&server, before);
        ensure(
            renewed == 1,
            format!("200 callers caused {renewed} renewal requests"),
        )
    }

    async fn retries_server_failures(&self) -> Result<(), String> {
        let (server, credentials) = self.start().await;
        let (provider, _) = self.provider(&server, &credentials)?;
        server.inject(Fault::ServerError(503));
        let tokens = self
            .first_tokens(&server, &credentials, &provider)
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
        let (server, credentials) = self.start().await;
        let (logs, guard) = capture_logs();
        let mut seen = Vec::new();
        let (provider, _) = self.provider(&server, &credentials)?;
        seen.push(format!("{provider:?}"));
        let manager = self
            .signed_in_manager(
                &server,
                &credentials,
                Arc::clone(&provider),
                MemoryStore::new(),
            )
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
        let renewed = manager
            .token_set()
            .await
            .map_err(|e| format!("renewal failed: {e}"))?;
        seen.push(format!("{renewed:?}"));
        let wrong_credentials = credentials.wrong();
        let (wrong, _) = self.provider(&server, &wrong_credentials)?;
        seen.push(format!("{wrong:?}"));
        if let Err(error) = wrong.authenticate(&server.context()).await {
            seen.push(format!("{error:?} {error}"));
        }
        drop(guard);
        seen.push(logs.text());
        let mut secrets = server.all_secrets();
        secrets.push(wrong_credentials.password.clone());
        secrets.extend(wrong_credentials.client_secret.clone());
        secrets.push(renewed.access_token().expose_secret().to_owned());
        let text = seen.join("\n");
        for secret in secrets.iter().filter(|s| !s.is_empty()) {
            ensure(
                !text.contains(secret.as_str()),
                format!(
                    "a secret ({} chars) appeared in Debug, an error or a log line",
                    secret.len()
                ),
            )?;
        }
        Ok(())
    }
}

/// The set `store` holds for `key`, read under its hold.
async fn stored(
    store: &MemoryStore,
    key: &AccountKey,
) -> Result<Option<TokenSet>, authkit_core::StoreError> {
    HeldAccount::acquire(store, key).await?.load().await
}

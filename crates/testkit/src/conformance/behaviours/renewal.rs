//! Getting and keeping tokens: the first sign-in, refreshing, renewal at
//! expiry through the manager and its store, a dead refresh token, many
//! callers at once, and a failing server.

use authkit_core::{Error, TokenProvider};

use super::{SignedIn, ensure, lifetime, renewals, stored};
use crate::conformance::shape::RefreshTokens;
use crate::conformance::suite::Conformance;
use crate::server::Fault;

impl Conformance {
    pub(super) async fn first_sign_in(&self) -> Result<(), String> {
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

    pub(super) async fn refreshes(&self) -> Result<(), String> {
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
    pub(super) async fn renews_at_expiry(&self, expected: RefreshTokens) -> Result<(), String> {
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

    pub(super) async fn recovers_from_dead_refresh_token(&self) -> Result<(), String> {
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

    pub(super) async fn survives_stampede(&self) -> Result<(), String> {
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

    pub(super) async fn retries_server_failures(&self) -> Result<(), String> {
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
}

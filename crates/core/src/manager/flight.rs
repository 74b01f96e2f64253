//! The refresh flight: one task per manager that gets new tokens, shared by
//! every caller that needs them.

use std::sync::{Arc, PoisonError};

use futures::FutureExt;

use time::OffsetDateTime;
use tracing::Instrument;

use crate::manager::state::Inner;

use crate::error::Error;
use crate::error::config::{ConfigError, ConfigErrorKind};
use crate::error::store::StoreError;
use crate::manager::policy::Cached;
use crate::manager::state::{Flight, FlightResult, RememberedFailure};
use crate::secret::{AccessToken, RefreshToken};
use crate::store::held::HeldAccount;
use crate::token::token_set::TokenSet;

/// What the stored set may be used for, judged against the provider's binding.
pub(super) enum Fit {
    /// Same endpoint, client and resources, and every wanted scope granted.
    Serves,
    /// Same endpoint, client and resources, but scopes are wanted that the set
    /// was not granted: a new grant is needed; the refresh token may not buy
    /// wider scopes (RFC 6749 §6).
    NeedsWiderGrant,
}

impl Inner {
    /// Starts a flight unless one is running or a failure is being remembered.
    pub(super) fn refresh_in_background(self: &Arc<Self>) {
        if self.remembered_failure().is_none() {
            drop(self.join_or_start_flight().0);
        }
    }

    /// Waits for a flight (joining the running one) and returns its token.
    pub(super) async fn wait_for_tokens(self: &Arc<Self>) -> Result<AccessToken, Error> {
        if let Some(error) = self.remembered_failure() {
            return Err(error);
        }
        let (flight, started) = self.join_or_start_flight();
        if !started {
            self.metrics.flight_joined();
        }
        let cached = flight.await?;
        Ok(cached.tokens.access_token().clone())
    }

    pub(super) fn forget_failure(&self) {
        *self.failure.lock().unwrap_or_else(PoisonError::into_inner) = None;
        *self.rejected.lock().unwrap_or_else(PoisonError::into_inner) = None;
    }

    fn remembered_failure(&self) -> Option<Error> {
        let now = self.clock.monotonic_nanos();
        let failure = self.failure.lock().unwrap_or_else(PoisonError::into_inner);
        failure
            .as_ref()
            .filter(|f| now < f.until_monotonic)
            .map(|f| f.error.clone())
    }

    /// The running flight, or a new one; and whether it was started here.
    fn join_or_start_flight(self: &Arc<Self>) -> (Flight, bool) {
        let mut slot = self.flight.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some((_, flight)) = &slot.current {
            return (flight.clone(), false);
        }
        let id = slot.next_id;
        slot.next_id += 1;
        let inner = Arc::clone(self);
        self.metrics.flight_started();
        // One span per flight, naming the account (never a token); its
        // grant and outcome are recorded as they become known.
        let span = tracing::info_span!(
            "authkit.flight",
            account = %self.key,
            grant = tracing::field::Empty,
            outcome = tracing::field::Empty,
        );
        let work = async move {
            let started = std::time::Instant::now();
            let result = inner.refresh_under_lock().await;
            let outcome = crate::telemetry::outcome(&result);
            tracing::Span::current().record("outcome", outcome);
            inner.metrics.flight_ended(&result, started.elapsed());
            *inner
                .last_flight
                .lock()
                .unwrap_or_else(PoisonError::into_inner) = tracing::Span::current().id();
            inner.land(id, &result);
            result
        }
        .instrument(span);
        let flight: Flight = match tokio::runtime::Handle::try_current() {
            Ok(runtime) => {
                let task = runtime.spawn(work);
                async move {
                    task.await.unwrap_or_else(|e| {
                        Err(Error::Internal(format!(
                            "the refresh task did not finish: {e}"
                        )))
                    })
                }
                .boxed()
                .shared()
            }
            // Outside a Tokio runtime the flight runs in the callers' future;
            // it is still shared, but a caller that drops it cancels it.
            Err(_) => work.boxed().shared(),
        };
        slot.current = Some((id, flight.clone()));
        (flight, true)
    }

    /// Records a flight's outcome and clears the slot for the next flight.
    fn land(&self, id: u64, result: &FlightResult) {
        {
            let mut failure = self.failure.lock().unwrap_or_else(PoisonError::into_inner);
            match result {
                Ok(_) | Err(Error::UnsavedRotation { .. }) => *failure = None,
                Err(error) => {
                    let consecutive = failure.as_ref().map_or(0, |f| f.consecutive) + 1;
                    let cooldown = self.policy.cooldown(consecutive);
                    let cooldown = i64::try_from(cooldown.as_nanos()).unwrap_or(i64::MAX);
                    *failure = Some(RememberedFailure {
                        error: error.clone(),
                        until_monotonic: self.clock.monotonic_nanos().saturating_add(cooldown),
                        consecutive,
                    });
                }
            }
        }
        let mut slot = self.flight.lock().unwrap_or_else(PoisonError::into_inner);
        if slot
            .current
            .as_ref()
            .is_some_and(|(current, _)| *current == id)
        {
            slot.current = None;
        }
    }

    /// The flight's work: lock, reload, check the binding, refresh or
    /// authenticate, save, cache.
    async fn refresh_under_lock(&self) -> FlightResult {
        if let Some(fresh) = self.fresh_in_memory() {
            return Ok(fresh);
        }
        // In a pool, a flight first waits for one of the pool's permits and
        // holds it until it lands, so a lease on the store is never held
        // while the flight waits for its turn.
        let _permit = self.request_permit().await?;
        let waiting = std::time::Instant::now();
        let held = HeldAccount::acquire(self.store.as_ref(), &self.key).await;
        self.metrics.lock_waited(waiting.elapsed(), held.is_ok());
        let mut held = held?;
        let stored = self.reload(&mut held).await?;
        let now = self.now();
        let current = newest(stored, self.cache.load_full().map(|c| c.tokens.clone()));
        // Nothing leaves this process before the stored set is known to
        // belong to this provider's server and client.
        let fit = match &current {
            Some(tokens) => Some(self.fit(tokens)?),
            None => None,
        };

        if let (Some(tokens), Some(Fit::Serves)) = (&current, &fit) {
            // The set this process already holds keeps its own deadlines (on
            // the monotonic clock too); a set another holder stored is judged
            // afresh.
            let candidate = match self.cache.load_full() {
                Some(held_set)
                    if held_set
                        .tokens
                        .access_token()
                        .same_secret(tokens.access_token()) =>
                {
                    held_set
                }
                _ => Arc::new(self.schedule(tokens.clone())),
            };
            let (wall, monotonic) = (self.clock.now_unix_nanos(), self.clock.monotonic_nanos());
            if candidate.is_fresh(wall, monotonic) && !self.is_rejected(tokens.access_token()) {
                tracing::debug!(account = %self.key, "using tokens another holder already refreshed");
                self.metrics
                    .token_expires(tokens.expires_at().unix_timestamp());
                self.cache.publish(Some(Arc::clone(&candidate)));
                return Ok(candidate);
            }
        }

        let renewable = match fit {
            Some(Fit::Serves) => current.as_ref(),
            Some(Fit::NeedsWiderGrant) => {
                tracing::info!(account = %self.key, "more scopes are wanted than the stored set was granted; signing in afresh");
                None
            }
            None => None,
        };
        let (fresh, spent) = self.obtain(renewable, now, &mut held).await?;
        let rotated = spent.is_some_and(|old| {
            fresh
                .refresh_token()
                .is_some_and(|new| !new.same_secret(&old))
        });
        let saved = held.save(&fresh, self.now()).await;
        if let Err(StoreError::LockLost { .. }) = &saved {
            self.metrics.lease_lost();
        }
        self.metrics
            .token_expires(fresh.expires_at().unix_timestamp());
        let cached = Arc::new(self.schedule(fresh));
        self.cache.publish(Some(Arc::clone(&cached)));
        *self.rejected.lock().unwrap_or_else(PoisonError::into_inner) = None;
        release(held).await;
        match saved {
            Ok(()) => Ok(cached),
            Err(source) if rotated => {
                tracing::error!(
                    account = %self.key,
                    error = %source,
                    "new tokens could not be saved after the server rotated the refresh token; they are kept in memory only"
                );
                Err(Error::UnsavedRotation {
                    key: self.key.clone(),
                    source,
                })
            }
            Err(source) => {
                tracing::warn!(account = %self.key, error = %source, "new tokens could not be saved; serving them from memory");
                Ok(cached)
            }
        }
    }

    /// Judges a set against the provider's binding. Another endpoint, client
    /// or resource, or no binding at all, is a configuration error: the set
    /// is left as it is and nothing is sent.
    pub(super) fn fit(&self, tokens: &TokenSet) -> Result<Fit, Error> {
        let wanted = self.provider.binding();
        let Some(bound) = tokens.binding() else {
            return Err(Error::Config(ConfigError::new(
                ConfigErrorKind::BindingMismatch,
                format!(
                    "the stored tokens for {} do not say which server and client issued them (written by authkit 0.1 or by hand); they were left untouched: sign out of the account, then sign in",
                    self.key
                ),
            )));
        };
        if !bound.same_origin(wanted) {
            return Err(Error::Config(ConfigError::new(
                ConfigErrorKind::BindingMismatch,
                format!(
                    "the stored tokens for {} were issued at {} but this configuration names {}; they were left untouched and nothing was sent",
                    self.key, bound, wanted
                ),
            )));
        }
        Ok(if bound.scopes().covers(wanted.scopes()) {
            Fit::Serves
        } else {
            Fit::NeedsWiderGrant
        })
    }

    /// Gets new tokens from the provider: a refresh when there is a usable
    /// refresh token, otherwise (or when it is refused as dead)
    /// authentication. A refusal that reports a terminal state of the account
    /// ends the flow there. Returns the new set and the refresh token that
    /// was spent, if any.
    async fn obtain(
        &self,
        current: Option<&TokenSet>,
        now: OffsetDateTime,
        held: &mut HeldAccount,
    ) -> Result<(TokenSet, Option<RefreshToken>), Error> {
        let base = current.filter(|t| t.has_usable_refresh_token(now));
        let Some((base, refresh_token)) =
            base.and_then(|b| b.refresh_token().map(|rt| (b, rt.clone())))
        else {
            tracing::Span::current().record("grant", "authenticate");
            tracing::info!(account = %self.key, "authenticating");
            let cx = self.context_for(None)?;
            return Ok((self.provider.authenticate(&cx).await?, None));
        };
        tracing::Span::current().record("grant", "refresh_token");
        let cx = self.context_for(Some(base))?;
        // A server that rotates takes this refresh token only once: the store
        // must be able to keep its successor before it is spent.
        held.prepare_save().await?;
        tracing::info!(account = %self.key, "refreshing the access token");
        match self.provider.refresh(&refresh_token, &cx).await {
            Ok(fresh) => Ok((fresh.inherit_refresh_token(base), Some(refresh_token))),
            Err(error)
                if error.is_refresh_token_dead()
                    || matches!(error, Error::SignInRequired { .. }) =>
            {
                // Forget the dead refresh token first, so it is never sent again
                // even if authentication fails.
                let without = base.clone().without_refresh_token();
                if let Err(e) = held.save(&without, now).await {
                    tracing::warn!(account = %self.key, error = %e, "could not drop the refused refresh token from the store");
                }
                self.cache.publish(Some(Arc::new(self.schedule(without))));
                if let Some(state) = error.refusal().and_then(|r| r.account_state()) {
                    tracing::warn!(account = %self.key, %state, "the refresh was refused for the state of the account; not signing in again");
                    return Err(error);
                }
                tracing::info!(account = %self.key, error = %error, "the refresh token was refused; authenticating again");
                let cx = self.context_for(None)?;
                Ok((self.provider.authenticate(&cx).await?, None))
            }
            Err(error) => Err(error),
        }
    }

    async fn request_permit(&self) -> Result<Option<tokio::sync::OwnedSemaphorePermit>, Error> {
        let Some(permits) = &self.requests else {
            return Ok(None);
        };
        Arc::clone(permits)
            .acquire_owned()
            .await
            .map(Some)
            .map_err(|_| Error::Internal("the pool's request permits were closed".into()))
    }

    fn fresh_in_memory(&self) -> Option<Arc<Cached>> {
        let (wall, monotonic) = (self.clock.now_unix_nanos(), self.clock.monotonic_nanos());
        self.cache
            .load_full()
            .filter(|c| c.is_fresh(wall, monotonic))
    }

    fn is_rejected(&self, token: &AccessToken) -> bool {
        self.rejected
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .as_ref()
            .is_some_and(|bad| bad.same_secret(token))
    }

    /// Loads the account under the hold. Unreadable data has been set aside
    /// by [`HeldAccount::load`]; the manager goes on as if nothing were stored.
    pub(super) async fn reload(&self, held: &mut HeldAccount) -> Result<Option<TokenSet>, Error> {
        match held.load().await {
            Ok(stored) => Ok(stored),
            Err(error @ (StoreError::Corrupt { .. } | StoreError::Format(_))) => {
                tracing::warn!(account = %self.key, error = %error, "ignoring unreadable stored tokens");
                Ok(None)
            }
            Err(error) => Err(error.into()),
        }
    }
}

pub(super) async fn release(held: HeldAccount) {
    let key = held.key().clone();
    if let Err(error) = held.release().await {
        tracing::warn!(account = %key, error = %error, "could not release the store lock");
    }
}

/// The more recently issued of two token sets; the store wins a tie.
pub(super) fn newest(stored: Option<TokenSet>, memory: Option<TokenSet>) -> Option<TokenSet> {
    match (stored, memory) {
        (Some(s), Some(m)) if m.issued_at() > s.issued_at() => Some(m),
        (Some(s), _) => Some(s),
        (None, m) => m,
    }
}

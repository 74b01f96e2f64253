//! The refresh flight: one task per manager that gets new tokens, shared by
//! every caller that needs them.

use std::sync::{Arc, PoisonError};

use futures::FutureExt;
use futures::future::{BoxFuture, Shared};
use time::OffsetDateTime;

use super::Inner;
use super::policy::Cached;
use crate::error::{Error, StoreError};
use crate::secret::AccessToken;
use crate::store::StoreLock;
use crate::token::TokenSet;

type FlightResult = Result<Arc<Cached>, Error>;
type Flight = Shared<BoxFuture<'static, FlightResult>>;

/// The flight in progress, if any, with a number that tells flights apart.
#[derive(Default)]
pub(crate) struct FlightSlot {
    current: Option<(u64, Flight)>,
    next_id: u64,
}

/// A failure, served to callers without a usable token until `until`.
pub(crate) struct RememberedFailure {
    error: Error,
    until: OffsetDateTime,
    consecutive: u32,
}

impl Inner {
    /// Starts a flight unless one is running or a failure is being remembered.
    pub(super) fn refresh_in_background(self: &Arc<Self>, now: OffsetDateTime) {
        if self.remembered_failure(now).is_none() {
            drop(self.join_or_start_flight());
        }
    }

    /// Waits for a flight (joining the running one) and returns its token.
    pub(super) async fn wait_for_tokens(
        self: &Arc<Self>,
        now: OffsetDateTime,
    ) -> Result<AccessToken, Error> {
        if let Some(error) = self.remembered_failure(now) {
            return Err(error);
        }
        let cached = self.join_or_start_flight().await?;
        Ok(cached.tokens.access_token().clone())
    }

    pub(super) fn forget_failure(&self) {
        *self.failure.lock().unwrap_or_else(PoisonError::into_inner) = None;
        *self.rejected.lock().unwrap_or_else(PoisonError::into_inner) = None;
    }

    fn remembered_failure(&self, now: OffsetDateTime) -> Option<Error> {
        let failure = self.failure.lock().unwrap_or_else(PoisonError::into_inner);
        failure
            .as_ref()
            .filter(|f| now < f.until)
            .map(|f| f.error.clone())
    }

    fn join_or_start_flight(self: &Arc<Self>) -> Flight {
        let mut slot = self.flight.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some((_, flight)) = &slot.current {
            return flight.clone();
        }
        let id = slot.next_id;
        slot.next_id += 1;
        let inner = Arc::clone(self);
        let work = async move {
            let result = inner.refresh_under_lock().await;
            inner.land(id, &result);
            result
        };
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
        flight
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
                    let cooldown =
                        time::Duration::try_from(cooldown).unwrap_or(time::Duration::MINUTE);
                    *failure = Some(RememberedFailure {
                        error: error.clone(),
                        until: self.now() + cooldown,
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

    /// The flight's work: lock, reload, refresh or authenticate, save, cache.
    async fn refresh_under_lock(&self) -> FlightResult {
        if let Some(fresh) = self.fresh_in_memory() {
            return Ok(fresh);
        }
        let mut lock = self.store.lock(&self.key).await?;
        let stored = self.reload().await?;
        let now = self.now();
        let current = newest(stored, self.cache.load_full().map(|c| c.tokens.clone()));

        if let Some(tokens) = &current {
            // The set this process already holds keeps its own deadlines (on
            // the monotonic clock too); a set another holder stored is judged
            // afresh.
            let candidate = match self.cache.load_full() {
                Some(held)
                    if held
                        .tokens
                        .access_token()
                        .same_secret(tokens.access_token()) =>
                {
                    held
                }
                _ => Arc::new(self.policy.schedule(tokens.clone(), self.clock.as_ref())),
            };
            let (wall, monotonic) = (self.clock.now_unix_nanos(), self.clock.monotonic_nanos());
            if candidate.is_fresh(wall, monotonic) && !self.is_rejected(tokens.access_token()) {
                tracing::debug!(account = %self.key, "using tokens another holder already refreshed");
                self.cache.store(Some(Arc::clone(&candidate)));
                return Ok(candidate);
            }
        }

        let (fresh, spent) = self.obtain(current.as_ref(), now, lock.as_mut()).await?;
        let rotated = spent.is_some_and(|old| {
            fresh
                .refresh_token()
                .is_some_and(|new| !new.same_secret(&old))
        });
        let saved = lock.save(&fresh).await;
        let cached = Arc::new(self.policy.schedule(fresh, self.clock.as_ref()));
        self.cache.store(Some(Arc::clone(&cached)));
        *self.rejected.lock().unwrap_or_else(PoisonError::into_inner) = None;
        release(lock, &self.key).await;
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

    /// Gets new tokens from the provider: a refresh when there is a usable
    /// refresh token, otherwise (or when it is refused) authentication.
    /// Returns the new set and the refresh token that was spent, if any.
    async fn obtain(
        &self,
        current: Option<&TokenSet>,
        now: OffsetDateTime,
        lock: &mut dyn StoreLock,
    ) -> Result<(TokenSet, Option<crate::secret::RefreshToken>), Error> {
        let base = current.filter(|t| t.has_usable_refresh_token(now));
        let Some((base, refresh_token)) =
            base.and_then(|b| b.refresh_token().map(|rt| (b, rt.clone())))
        else {
            tracing::info!(account = %self.key, "authenticating");
            return Ok((self.provider.authenticate().await?, None));
        };
        tracing::info!(account = %self.key, "refreshing the access token");
        match self.provider.refresh(&refresh_token).await {
            Ok(fresh) => Ok((fresh.inherit_refresh_token(base), Some(refresh_token))),
            Err(error)
                if error.is_refresh_token_rejected()
                    || matches!(error, Error::SignInRequired { .. }) =>
            {
                tracing::info!(account = %self.key, error = %error, "the refresh token was refused; authenticating again");
                // Forget the dead refresh token first, so it is never sent again
                // even if authentication fails.
                let without = base.clone().without_refresh_token();
                if let Err(e) = lock.save(&without).await {
                    tracing::warn!(account = %self.key, error = %e, "could not drop the refused refresh token from the store");
                }
                self.cache.store(Some(Arc::new(
                    self.policy.schedule(without, self.clock.as_ref()),
                )));
                Ok((self.provider.authenticate().await?, None))
            }
            Err(error) => Err(error),
        }
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

    /// Loads the account from the store. Unreadable data has been set aside
    /// by the store; the manager goes on as if nothing were stored.
    async fn reload(&self) -> Result<Option<TokenSet>, Error> {
        match self.store.load(&self.key).await {
            Ok(stored) => Ok(stored),
            Err(error @ (StoreError::Corrupt { .. } | StoreError::Format(_))) => {
                tracing::warn!(account = %self.key, error = %error, "ignoring unreadable stored tokens");
                Ok(None)
            }
            Err(error) => Err(error.into()),
        }
    }
}

async fn release(lock: Box<dyn StoreLock>, key: &crate::secret::AccountKey) {
    if let Err(error) = lock.release().await {
        tracing::warn!(account = %key, error = %error, "could not release the store lock");
    }
}

/// The more recently issued of two token sets; the store wins a tie.
fn newest(stored: Option<TokenSet>, memory: Option<TokenSet>) -> Option<TokenSet> {
    match (stored, memory) {
        (Some(s), Some(m)) if m.issued_at() > s.issued_at() => Some(m),
        (Some(s), _) => Some(s),
        (None, m) => m,
    }
}

//! When a token counts as stale, and how long failures are remembered.

use std::sync::OnceLock;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use time::OffsetDateTime;

use crate::clock::{Clock, unix_nanos};
use crate::secret::AccessToken;
use crate::token::token_set::TokenSet;

/// When the [`crate::TokenManager`] refreshes, and how it backs off.
///
/// Each token set gets two instants: from `refresh_at` on, one task refreshes
/// in the background while callers keep getting the current token; from
/// `usable_until` on, the token is no longer handed out and callers wait for a
/// new one. Margins are capped by a share of the token's lifetime, so a
/// one-minute token is not considered stale from the moment it arrives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefreshPolicy {
    /// Refresh this long before expiry (at most half the token's lifetime).
    pub refresh_margin: Duration,
    /// Up to this much more, chosen at random per token set (at most a quarter
    /// of the lifetime), so a fleet does not refresh in the same second.
    pub refresh_jitter: Duration,
    /// Stop handing out a token this long before it expires (at most a tenth
    /// of its lifetime), so it does not expire on its way to the API.
    pub expiry_margin: Duration,
    /// After a failure, callers that have no usable token get the same error
    /// without a new request for this long; it doubles with each consecutive
    /// refusal, up to [`RefreshPolicy::max_failure_cooldown`]. Repeated wrong
    /// passwords must not hammer a server into locking the account.
    pub failure_cooldown: Duration,
    /// The longest a failure is remembered.
    pub max_failure_cooldown: Duration,
}

impl Default for RefreshPolicy {
    fn default() -> Self {
        Self {
            refresh_margin: Duration::from_secs(5 * 60),
            refresh_jitter: Duration::from_secs(30),
            expiry_margin: Duration::from_secs(10),
            failure_cooldown: Duration::from_secs(1),
            max_failure_cooldown: Duration::from_secs(60),
        }
    }
}

/// A token set with the instants that govern it, also as Unix nanoseconds
/// for the hot path's comparisons, and the access token striped across cache
/// lines (see [`Cached::access_token`]).
#[derive(Debug)]
pub(crate) struct Cached {
    pub(crate) tokens: TokenSet,
    pub(crate) refresh_at_nanos: i64,
    pub(crate) usable_until_nanos: i64,
    /// The same deadlines on the monotonic clock, as of when the set was
    /// scheduled: a wall clock set back cannot postpone them.
    pub(crate) refresh_at_monotonic: i64,
    pub(crate) usable_until_monotonic: i64,
    stripes: Box<[Stripe]>,
}

/// One copy of the access token on a cache line of its own.
#[derive(Debug)]
#[repr(align(128))]
struct Stripe(AccessToken);

/// How many copies of the access token a cached set keeps by default: one
/// per core, up to 32.
pub(crate) fn stripe_count() -> usize {
    static COUNT: OnceLock<usize> = OnceLock::new();
    *COUNT.get_or_init(|| {
        std::thread::available_parallelism()
            .map_or(4, |n| n.get())
            .clamp(1, 32)
    })
}

thread_local! {
    static STRIPE_INDEX: usize = {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        NEXT.fetch_add(1, Ordering::Relaxed)
    };
}

impl RefreshPolicy {
    #[cfg(test)]
    pub(crate) fn schedule(&self, tokens: TokenSet, clock: &dyn Clock) -> Cached {
        self.schedule_striped(tokens, clock, stripe_count())
    }

    /// The set's instants under this policy, with `stripes` copies of the
    /// access token (see [`Cached::access_token`]).
    pub(crate) fn schedule_striped(
        &self,
        tokens: TokenSet,
        clock: &dyn Clock,
        stripes: usize,
    ) -> Cached {
        let lifetime = (tokens.expires_at() - tokens.issued_at()).max(time::Duration::ZERO);
        let share = |d: Duration, divisor: i32| -> time::Duration {
            time::Duration::try_from(d)
                .unwrap_or(time::Duration::MAX)
                .min(lifetime / divisor)
        };
        let usable_until = tokens.expires_at() - share(self.expiry_margin, 10);
        let jitter = share(self.refresh_jitter, 4) * fastrand::f64();
        let refresh_at =
            (tokens.expires_at() - share(self.refresh_margin, 2) - jitter).min(usable_until);
        Cached::new(tokens, refresh_at, usable_until, clock, stripes)
    }

    pub(crate) fn cooldown(&self, consecutive_failures: u32) -> Duration {
        let factor = 2u32.saturating_pow(consecutive_failures.saturating_sub(1).min(16));
        self.failure_cooldown
            .checked_mul(factor)
            .unwrap_or(self.max_failure_cooldown)
            .min(self.max_failure_cooldown)
    }
}

impl Cached {
    fn new(
        tokens: TokenSet,
        refresh_at: OffsetDateTime,
        usable_until: OffsetDateTime,
        clock: &dyn Clock,
        stripes: usize,
    ) -> Self {
        let stripes = (0..stripes.max(1))
            .map(|_| Stripe(tokens.access_token().deep_copy()))
            .collect();
        let (wall, monotonic) = (clock.now_unix_nanos(), clock.monotonic_nanos());
        let on_monotonic = |deadline: i64| monotonic.saturating_add(deadline.saturating_sub(wall));
        Cached {
            tokens,
            refresh_at_nanos: unix_nanos(refresh_at),
            usable_until_nanos: unix_nanos(usable_until),
            refresh_at_monotonic: on_monotonic(unix_nanos(refresh_at)),
            usable_until_monotonic: on_monotonic(unix_nanos(usable_until)),
            stripes,
        }
    }

    /// Whether the set is before its early-refresh instant on both clocks.
    pub(crate) fn is_fresh(&self, wall: i64, monotonic: i64) -> bool {
        wall < self.refresh_at_nanos && monotonic < self.refresh_at_monotonic
    }

    /// Whether the set may still be handed out, on both clocks.
    pub(crate) fn is_usable(&self, wall: i64, monotonic: i64) -> bool {
        wall < self.usable_until_nanos && monotonic < self.usable_until_monotonic
    }

    /// The access token, for handing out. Handing out a token bumps a
    /// reference count; if every thread bumped the same one, the cache line
    /// holding it would bounce between cores and the hot path would slow
    /// down several times when all threads call at once. Each thread uses the
    /// copy of its own stripe instead.
    pub(crate) fn access_token(&self) -> AccessToken {
        let index = STRIPE_INDEX.with(|i| *i) % self.stripes.len();
        self.stripes[index].0.clone()
    }

    /// An unusable copy that keeps the tokens (for their refresh token).
    pub(crate) fn revoked(&self, clock: &dyn Clock) -> Cached {
        Cached::new(
            self.tokens.clone(),
            OffsetDateTime::UNIX_EPOCH,
            OffsetDateTime::UNIX_EPOCH,
            clock,
            self.stripes.len(),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::secret::AccessToken;
    use time::macros::datetime;

    fn set(lifetime_secs: i64) -> TokenSet {
        let at = datetime!(2026-01-01 00:00 UTC);
        TokenSet::new(
            AccessToken::new("a"),
            at,
            at + time::Duration::seconds(lifetime_secs),
        )
    }

    #[test]
    fn long_tokens_refresh_five_minutes_early_plus_jitter() {
        let policy = RefreshPolicy::default();
        let c = policy.schedule(set(3600), &crate::clock::SystemClock);
        let expires = c.tokens.expires_at();
        assert_eq!(
            c.usable_until_nanos,
            unix_nanos(expires - time::Duration::seconds(10))
        );
        assert!(c.refresh_at_nanos <= unix_nanos(expires - time::Duration::seconds(300)));
        assert!(c.refresh_at_nanos >= unix_nanos(expires - time::Duration::seconds(330)));
    }

    #[test]
    fn short_tokens_are_not_stale_on_arrival() {
        let c = RefreshPolicy::default().schedule(set(60), &crate::clock::SystemClock);
        let issued = c.tokens.issued_at();
        assert!(c.refresh_at_nanos >= unix_nanos(issued + time::Duration::seconds(15)));
        assert_eq!(
            c.usable_until_nanos,
            unix_nanos(issued + time::Duration::seconds(54))
        );
    }

    #[test]
    fn cooldown_doubles_to_its_cap() {
        let p = RefreshPolicy::default();
        let secs: Vec<u64> = (1..=8).map(|n| p.cooldown(n).as_secs()).collect();
        assert_eq!(secs, [1, 2, 4, 8, 16, 32, 60, 60]);
    }
}

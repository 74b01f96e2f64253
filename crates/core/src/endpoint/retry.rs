//! When and how long to wait before trying a token request again.
//!
//! Server failures, rate limiting and connection failures are retried with
//! capped, jittered exponential backoff that honours `Retry-After`, bounded in
//! attempts and in total time. OAuth refusals are never retried: the server
//! has decided. A single-use grant (a refresh token that rotates, an
//! authorization code) is re-sent only when the server certainly did not act
//! on it: the connection was never made, or the server said 429 or 503
//! (it refused to handle the request). After a 500, 502 or 504, or a
//! connection that broke mid-response, the token may already be spent, and
//! re-sending it could make the server revoke the whole token family.

use std::time::Duration;

use time::OffsetDateTime;

use crate::error::Error;

use crate::error::transient::TransientKind;

/// How a token endpoint retries failed requests.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Attempts in all, the first included; `1` means no retry.
    pub max_attempts: u32,
    /// The wait before the first retry; each later wait doubles.
    pub initial_backoff: Duration,
    /// No wait is longer than this.
    pub max_backoff: Duration,
    /// No retry starts after this much time since the first attempt.
    pub max_elapsed: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_attempts: 4,
            initial_backoff: Duration::from_millis(250),
            max_backoff: Duration::from_secs(8),
            max_elapsed: Duration::from_secs(30),
        }
    }
}

impl RetryPolicy {
    /// A policy that never retries.
    pub fn none() -> Self {
        Self {
            max_attempts: 1,
            ..Self::default()
        }
    }

    /// The wait before attempt `attempt + 1` (attempts count from 1) after
    /// `error`, or `None` when no retry should be made.
    pub(crate) fn delay_after(
        &self,
        error: &Error,
        attempt: u32,
        elapsed: Duration,
        single_use: bool,
    ) -> Option<Duration> {
        if attempt >= self.max_attempts || !may_retry(error, single_use) {
            return None;
        }
        let delay = error
            .retry_after()
            .unwrap_or_else(|| jittered(self.backoff(attempt)));
        (elapsed + delay <= self.max_elapsed).then_some(delay)
    }

    fn backoff(&self, attempt: u32) -> Duration {
        let factor = 2u32.saturating_pow(attempt.saturating_sub(1));
        self.initial_backoff
            .checked_mul(factor)
            .unwrap_or(self.max_backoff)
            .min(self.max_backoff)
    }
}

fn may_retry(error: &Error, single_use: bool) -> bool {
    let Error::Transient(transient) = error else {
        return false;
    };
    match transient.kind() {
        TransientKind::RateLimited { .. } => true,
        TransientKind::ServerFailure { status } => !single_use || status == 503,
        _ => !single_use || transient.request_not_sent(),
    }
}

/// "Equal jitter": half the backoff, plus a random part of the other half, so
/// a fleet that failed together does not retry together.
fn jittered(backoff: Duration) -> Duration {
    let half = backoff / 2;
    half + half.mul_f64(fastrand::f64())
}

/// Parses a `Retry-After` header: delay-seconds or an HTTP date (RFC 9110
/// §10.2.3), counted from `now` (the request context's clock).
pub(crate) fn parse_retry_after(value: &str, now: OffsetDateTime) -> Option<Duration> {
    let value = value.trim();
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    let at = httpdate::parse_http_date(value).ok()?;
    let at = OffsetDateTime::from(at);
    Some(Duration::try_from(at - now).unwrap_or(Duration::ZERO))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::refusal::{ErrorCode, Refusal};
    use crate::error::transient::TransientError;
    use crate::grant::kind::GrantKind;

    fn server(status: u16) -> Error {
        TransientError::new(TransientKind::ServerFailure { status }, "").into()
    }

    #[test]
    fn refusals_are_never_retried() {
        let refused: Error = Refusal::new(GrantKind::Password, ErrorCode::InvalidGrant, 400).into();
        assert_eq!(
            RetryPolicy::default().delay_after(&refused, 1, Duration::ZERO, false),
            None
        );
    }

    #[test]
    fn backoff_doubles_and_is_capped() {
        let policy = RetryPolicy {
            max_attempts: 10,
            initial_backoff: Duration::from_secs(1),
            max_backoff: Duration::from_secs(4),
            max_elapsed: Duration::from_secs(100),
        };
        for (attempt, cap) in [(1, 1), (2, 2), (3, 4), (4, 4), (9, 4)] {
            let d = policy
                .delay_after(&server(502), attempt, Duration::ZERO, false)
                .unwrap();
            assert!(
                d <= Duration::from_secs(cap) && d >= Duration::from_secs(cap) / 2,
                "{attempt}: {d:?}"
            );
        }
        assert_eq!(
            policy.delay_after(&server(502), 10, Duration::ZERO, false),
            None
        );
    }

    #[test]
    fn retry_after_is_honoured_within_the_budget() {
        let policy = RetryPolicy::default();
        let limited: Error = TransientError::new(TransientKind::RateLimited { status: 429 }, "")
            .with_retry_after(Some(Duration::from_secs(3)))
            .into();
        assert_eq!(
            policy.delay_after(&limited, 1, Duration::ZERO, true),
            Some(Duration::from_secs(3))
        );
        assert_eq!(
            policy.delay_after(&limited, 1, Duration::from_secs(29), true),
            None
        );
    }

    #[test]
    fn single_use_grants_are_resent_only_when_unprocessed() {
        let policy = RetryPolicy::default();
        assert!(
            policy
                .delay_after(&server(503), 1, Duration::ZERO, true)
                .is_some()
        );
        assert!(
            policy
                .delay_after(&server(502), 1, Duration::ZERO, true)
                .is_none()
        );
        let connect: Error = TransientError::new(TransientKind::Connect, "refused").into();
        let broken: Error = TransientError::new(TransientKind::ConnectionBroken, "reset").into();
        assert!(
            policy
                .delay_after(&connect, 1, Duration::ZERO, true)
                .is_some()
        );
        assert!(
            policy
                .delay_after(&broken, 1, Duration::ZERO, true)
                .is_none()
        );
        assert!(
            policy
                .delay_after(&broken, 1, Duration::ZERO, false)
                .is_some()
        );
    }

    #[test]
    fn a_503_with_retry_after_waits_as_told() {
        let unavailable: Error =
            TransientError::new(TransientKind::ServerFailure { status: 503 }, "")
                .with_retry_after(Some(Duration::from_secs(2)))
                .into();
        let policy = RetryPolicy::default();
        assert_eq!(
            policy.delay_after(&unavailable, 1, Duration::ZERO, true),
            Some(Duration::from_secs(2))
        );
        assert_eq!(
            policy.delay_after(&unavailable, 1, Duration::from_secs(29), false),
            None,
            "beyond the budget"
        );
    }

    #[test]
    fn retry_after_parses_seconds_and_dates() {
        let now = time::macros::datetime!(2015-10-21 07:27:50 UTC);
        assert_eq!(parse_retry_after(" 7 ", now), Some(Duration::from_secs(7)));
        assert_eq!(
            parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", now),
            Some(Duration::from_secs(10)),
            "a date counts from the context's clock"
        );
        assert_eq!(
            parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", now + time::Duration::HOUR),
            Some(Duration::ZERO)
        );
        assert_eq!(parse_retry_after("soon", now), None);
    }
}

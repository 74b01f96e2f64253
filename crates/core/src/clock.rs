//! Time as the token machinery sees it, replaceable in tests.
//!
//! Expiry decisions read the clock on every call, so tests that want to see a
//! token go stale inject a [`ManualClock`] and move it, instead of sleeping.
//!
//! The manager's hot path reads [`Clock::now_unix_nanos`], not
//! [`Clock::now`]. On Linux the system clock answers it from
//! `CLOCK_REALTIME_COARSE`, which costs a few nanoseconds instead of the
//! 40 to 60 of a precise read on a virtual machine, and lags real time by at
//! most one scheduler tick (a few milliseconds): nothing next to the seconds
//! of margin a token is given before it expires. Token lifetimes are counted
//! with the precise [`Clock::now`].

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

use time::{Duration, OffsetDateTime};

/// A source of the current wall-clock time.
pub trait Clock: Send + Sync + fmt::Debug {
    /// The current time in UTC.
    fn now(&self) -> OffsetDateTime;

    /// The current time as nanoseconds since the Unix epoch, possibly coarse
    /// (a few milliseconds behind); what the hot path compares against.
    fn now_unix_nanos(&self) -> i64 {
        unix_nanos(self.now())
    }

    /// Nanoseconds on a clock that only moves forward (possibly coarse),
    /// from an arbitrary origin. The manager checks freshness against both
    /// clocks, so a wall clock set back does not make an old token look fresh.
    fn monotonic_nanos(&self) -> i64;
}

/// An instant as nanoseconds since the Unix epoch, saturating outside the
/// years 1678 to 2262.
pub fn unix_nanos(at: OffsetDateTime) -> i64 {
    i64::try_from(at.unix_timestamp_nanos()).unwrap_or(if at.year() < 1970 {
        i64::MIN
    } else {
        i64::MAX
    })
}

/// The system's wall clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> OffsetDateTime {
        OffsetDateTime::now_utc()
    }

    #[cfg(any(target_os = "linux", target_os = "android"))]
    #[inline]
    fn now_unix_nanos(&self) -> i64 {
        let ts = rustix::time::clock_gettime(rustix::time::ClockId::RealtimeCoarse);
        ts.tv_sec
            .saturating_mul(1_000_000_000)
            .saturating_add(ts.tv_nsec)
    }

    #[cfg(any(target_os = "linux", target_os = "android"))]
    #[inline]
    fn monotonic_nanos(&self) -> i64 {
        let ts = rustix::time::clock_gettime(rustix::time::ClockId::MonotonicCoarse);
        ts.tv_sec
            .saturating_mul(1_000_000_000)
            .saturating_add(ts.tv_nsec)
    }

    #[cfg(not(any(target_os = "linux", target_os = "android")))]
    fn monotonic_nanos(&self) -> i64 {
        static ORIGIN: std::sync::OnceLock<std::time::Instant> = std::sync::OnceLock::new();
        let origin = *ORIGIN.get_or_init(std::time::Instant::now);
        i64::try_from(origin.elapsed().as_nanos()).unwrap_or(i64::MAX)
    }
}

/// A span of time in either crate's spelling: `std::time::Duration` (what
/// the test kit, timeouts and [`crate::manager::RefreshPolicy`] take) or
/// `time::Duration` (what token lifetimes are computed in; it may be
/// negative). [`ManualClock::advance`] takes both, so a test needs one.
pub trait TimeSpan {
    /// The span in nanoseconds, negative for a span backwards.
    fn signed_nanoseconds(&self) -> i128;
}

impl TimeSpan for std::time::Duration {
    fn signed_nanoseconds(&self) -> i128 {
        i128::try_from(self.as_nanos()).unwrap_or(i128::MAX)
    }
}

impl TimeSpan for Duration {
    fn signed_nanoseconds(&self) -> i128 {
        self.whole_nanoseconds()
    }
}

/// A clock that stands still until told to move; cloning shares it.
///
/// [`ManualClock::advance`] moves time forward (both the wall clock and the
/// monotonic one); [`ManualClock::set_wall`] changes only the wall clock, as
/// an administrator or NTP would.
#[derive(Debug, Clone)]
pub struct ManualClock {
    unix_nanos: Arc<AtomicI64>,
    monotonic: Arc<AtomicI64>,
}

impl ManualClock {
    /// A clock that reads `start`.
    pub fn new(start: OffsetDateTime) -> Self {
        Self {
            unix_nanos: Arc::new(AtomicI64::new(unix_nanos(start))),
            monotonic: Arc::new(AtomicI64::new(0)),
        }
    }

    /// A clock that starts at the current system time.
    pub fn starting_now() -> Self {
        Self::new(OffsetDateTime::now_utc())
    }

    /// Lets time pass: moves the wall clock and the monotonic clock forward
    /// (a negative duration moves only the wall clock back). Takes either
    /// crate's duration (see [`TimeSpan`]), so a test passes the same
    /// `std::time::Duration` it gives the test kit's servers.
    ///
    /// ```
    /// use authkit_core::clock::{Clock, ManualClock};
    ///
    /// let clock = ManualClock::starting_now();
    /// let start = clock.now();
    /// clock.advance(std::time::Duration::from_secs(60));
    /// clock.advance(time::Duration::minutes(1));
    /// assert_eq!(clock.now() - start, time::Duration::minutes(2));
    /// ```
    pub fn advance(&self, by: impl TimeSpan) {
        let nanos = i64::try_from(by.signed_nanoseconds()).unwrap_or(i64::MAX);
        self.unix_nanos.fetch_add(nanos, Ordering::SeqCst);
        if nanos > 0 {
            self.monotonic.fetch_add(nanos, Ordering::SeqCst);
        }
    }

    /// Sets the wall clock to `to` without time passing: a clock jump.
    pub fn set_wall(&self, to: OffsetDateTime) {
        self.unix_nanos.store(unix_nanos(to), Ordering::SeqCst);
    }
}

impl Clock for ManualClock {
    fn now(&self) -> OffsetDateTime {
        let nanos = self.unix_nanos.load(Ordering::SeqCst);
        OffsetDateTime::from_unix_timestamp_nanos(i128::from(nanos))
            .unwrap_or(OffsetDateTime::UNIX_EPOCH)
    }

    fn now_unix_nanos(&self) -> i64 {
        self.unix_nanos.load(Ordering::SeqCst)
    }

    fn monotonic_nanos(&self) -> i64 {
        self.monotonic.load(Ordering::SeqCst)
    }
}

/// The manager's hot-path view of its clock: the system clock read directly
/// (no dynamic dispatch), or any other clock through its trait object.
#[derive(Clone, Debug)]
pub(crate) enum HotClock {
    /// [`SystemClock`], called directly.
    System,
    /// Another clock (a test's [`ManualClock`]).
    Other(Arc<dyn Clock>),
}

impl HotClock {
    /// The wall clock and the monotonic clock, each read once.
    #[inline]
    pub(crate) fn readings(&self) -> (i64, i64) {
        match self {
            HotClock::System => (SystemClock.now_unix_nanos(), SystemClock.monotonic_nanos()),
            HotClock::Other(clock) => (clock.now_unix_nanos(), clock.monotonic_nanos()),
        }
    }
}

/// The clock every builder uses unless told otherwise.
pub fn system_clock() -> Arc<dyn Clock> {
    Arc::new(SystemClock)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_coarse_reading_agrees_with_the_precise_one() {
        let clock = SystemClock;
        let precise = unix_nanos(clock.now());
        let coarse = clock.now_unix_nanos();
        // A coarse clock lags by at most a scheduler tick; allow a generous bound.
        assert!(
            (precise - coarse).abs() < 50_000_000,
            "{precise} vs {coarse}"
        );
    }

    #[test]
    fn a_manual_clock_moves_only_when_told() {
        let clock = ManualClock::new(OffsetDateTime::UNIX_EPOCH);
        assert_eq!(clock.now_unix_nanos(), 0);
        clock.advance(Duration::seconds(90));
        assert_eq!(
            clock.now(),
            OffsetDateTime::UNIX_EPOCH + Duration::seconds(90)
        );
        assert_eq!(clock.now_unix_nanos(), 90_000_000_000);
    }
}

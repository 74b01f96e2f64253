//! Time as the token machinery sees it, replaceable in tests.
//!
//! Expiry decisions read the clock on every call, so tests that want to see a
//! token go stale inject a [`ManualClock`] and move it, instead of sleeping.

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

use time::{Duration, OffsetDateTime};

/// A source of the current wall-clock time.
pub trait Clock: Send + Sync + fmt::Debug {
    /// The current time in UTC.
    fn now(&self) -> OffsetDateTime;
}

/// The system's wall clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> OffsetDateTime {
        OffsetDateTime::now_utc()
    }
}

/// A clock that stands still until told to move; cloning shares it.
#[derive(Debug, Clone)]
pub struct ManualClock {
    unix_nanos: Arc<AtomicI64>,
}

impl ManualClock {
    /// A clock that reads `start`.
    pub fn new(start: OffsetDateTime) -> Self {
        Self {
            unix_nanos: Arc::new(AtomicI64::new(to_nanos(start))),
        }
    }

    /// A clock that starts at the current system time.
    pub fn starting_now() -> Self {
        Self::new(OffsetDateTime::now_utc())
    }

    /// Moves the clock forward (or back, with a negative duration).
    pub fn advance(&self, by: Duration) {
        let nanos = i64::try_from(by.whole_nanoseconds()).unwrap_or(i64::MAX);
        self.unix_nanos.fetch_add(nanos, Ordering::SeqCst);
    }

    /// Sets the clock to `to`.
    pub fn set(&self, to: OffsetDateTime) {
        self.unix_nanos.store(to_nanos(to), Ordering::SeqCst);
    }
}

impl Clock for ManualClock {
    fn now(&self) -> OffsetDateTime {
        let nanos = self.unix_nanos.load(Ordering::SeqCst);
        OffsetDateTime::from_unix_timestamp_nanos(i128::from(nanos))
            .unwrap_or(OffsetDateTime::UNIX_EPOCH)
    }
}

fn to_nanos(at: OffsetDateTime) -> i64 {
    i64::try_from(at.unix_timestamp_nanos()).unwrap_or(i64::MAX)
}

/// The clock every builder uses unless told otherwise.
pub fn system_clock() -> Arc<dyn Clock> {
    Arc::new(SystemClock)
}

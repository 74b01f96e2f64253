//! What one manager's clones share, and the flight's bookkeeping in it.
//!
//! The manager (`token_manager.rs`), the refresh flight (`flight.rs`) and
//! per-resource tokens (`resource.rs`) all work on this state; keeping it
//! in a file of its own lets each of them import it without importing the
//! others.

use std::sync::{Arc, Mutex};

use futures::future::{BoxFuture, Shared};

use crate::clock::{Clock, HotClock};
use crate::dpop::DpopNonces;
use crate::endpoint::token_endpoint::RequestContext;
use crate::error::Error;
use crate::manager::hot::HotCache;
use crate::manager::policy::{Cached, RefreshPolicy};
use crate::provider::token_provider::TokenProvider;
use crate::secret::{AccessToken, AccountKey};
use crate::store::token_store::TokenStore;
use crate::telemetry::AccountMetrics;
use crate::token::token_set::TokenSet;

pub(super) type FlightResult = Result<Arc<Cached>, Error>;
pub(super) type Flight = Shared<BoxFuture<'static, FlightResult>>;

/// The flight in progress, if any, with a number that tells flights apart.
#[derive(Default)]
pub(crate) struct FlightSlot {
    pub(super) current: Option<(u64, Flight)>,
    pub(super) next_id: u64,
}

/// A failure, served to callers without a usable token until the
/// monotonic clock reaches `until_monotonic` (a wall clock set back cannot
/// stretch the cooldown, nor set forward cut it short).
pub(crate) struct RememberedFailure {
    pub(super) error: Error,
    pub(super) until_monotonic: i64,
    pub(super) consecutive: u32,
}

/// What the clones of one manager share: the account's provider, store
/// and clock, the hot cache, and the flight in progress.
pub(crate) struct Inner {
    pub(super) provider: Arc<dyn TokenProvider>,
    pub(super) store: Arc<dyn TokenStore>,
    pub(super) key: AccountKey,
    pub(super) clock: Arc<dyn Clock>,
    /// The same clock, read on the hot path without dynamic dispatch when it
    /// is the system clock.
    pub(super) hot_clock: HotClock,
    pub(super) cx: RequestContext,
    /// The DPoP nonces of this account's servers, when its tokens are
    /// DPoP-bound (RFC 9449).
    pub(super) dpop: Option<DpopNonces>,
    pub(super) policy: RefreshPolicy,
    /// Shared with an [`crate::AccountPool`]'s per-thread memo, which reads
    /// it without going through the manager.
    pub(super) cache: Arc<HotCache>,
    pub(super) flight: Mutex<FlightSlot>,
    pub(super) failure: Mutex<Option<RememberedFailure>>,
    /// The access token a caller reported as rejected: never handed out again,
    /// even when the store still holds it.
    pub(super) rejected: Mutex<Option<AccessToken>>,
    pub(super) metrics: AccountMetrics,
    /// The span of the flight that last landed, for spans that follow from it.
    pub(super) last_flight: Mutex<Option<tracing::span::Id>>,
    /// A bound on token requests shared with other managers (an
    /// [`crate::AccountPool`]'s): a flight holds one permit while it talks to
    /// the server.
    pub(super) requests: Option<Arc<tokio::sync::Semaphore>>,
    /// How many copies of the access token a cached set keeps (see
    /// `policy.rs`): one per core for a lone manager, one in a pool.
    pub(super) stripes: usize,
}

impl Inner {
    /// Schedules `tokens` under this manager's policy and clock.
    pub(super) fn schedule(&self, tokens: TokenSet) -> Cached {
        self.policy
            .schedule_striped(tokens, self.clock.as_ref(), self.stripes)
    }
}

//! The token manager: hands out access tokens and keeps them valid.
//!
//! [`TokenManager::access_token`] is called before every API request, so its
//! common case, a fresh token in memory, is one atomic load of the manager's
//! publication counter, this thread's own copy of the cached set (see
//! `hot.rs`), one read of each coarse clock (see [`crate::clock`]; the
//! system clock without dynamic dispatch) and a reference-count increment on
//! a per-core copy of the token: no lock, no await on I/O, no allocation,
//! and no cache line that every thread writes.
//!
//! Everything else happens in a *refresh flight*: one spawned task per manager
//! that takes the store's lock on the account, reloads the store (another
//! process may already have refreshed), and only then refreshes, or
//! authenticates when there is no usable refresh token. The new set is saved
//! before any caller sees it. Callers with nothing usable wait for the
//! flight's result; callers whose token is merely inside its early-refresh
//! window get it at once while the flight runs. The flight is a spawned task,
//! so a caller that gives up waiting cannot cancel it halfway between the
//! server rotating a refresh token and the store saving the new one.
//!
//! Failures are remembered for a short, growing cooldown (see
//! [`RefreshPolicy`]), so many callers, or one caller in a loop, do not turn
//! one wrong password into a storm of requests.

pub(crate) mod authorize;
pub(crate) mod flight;
pub(crate) mod hot;
pub(crate) mod policy;
pub(crate) mod resource;
pub(crate) mod state;
pub(crate) mod token_manager;
pub use authorize::Authorization;
pub use policy::RefreshPolicy;

pub use token_manager::{AccessTokenFuture, TokenManager, TokenManagerBuilder};

//! A fake issuer for many accounts, without a network: [`FakeIssuer`] and
//! the [`FakeAccount`] providers it hands out.
//!
//! Tests of what happens across thousands of accounts (an
//! `authkit_core::AccountPool`'s bound on concurrent requests, its single
//! flight per account, its spread of refreshes) need to count requests
//! exactly, hold some of them open and refuse others, thousands of times a
//! second. The network is not the point there, so the issuer is a scripted
//! fake: each account's provider calls it directly, and it counts how many
//! requests are in flight at once, per account and in all.

use std::collections::{HashMap, HashSet};
use std::fmt;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use async_trait::async_trait;
use authkit_core::endpoint::RequestContext;
use authkit_core::error::{ErrorCode, Refusal};
use authkit_core::grant::GrantKind;
use authkit_core::revocation::Revocation;
use authkit_core::token::Binding;
use authkit_core::{
    AccessToken, AccountKey, ClientId, Error, RefreshToken, TokenProvider, TokenSet,
};
use std::time::Duration;

/// The token endpoint every [`FakeAccount`] is bound to.
pub const FAKE_TOKEN_URL: &str = "https://fake-issuer.invalid/token";

/// The client of [`FakeIssuer::account`]'s accounts.
pub const FAKE_CLIENT_ID: &str = "fake-client";

/// A scripted issuer of numbered tokens for any number of accounts. Cheap to
/// clone; clones share what they have seen.
#[derive(Clone)]
pub struct FakeIssuer {
    state: Arc<IssuerState>,
}

struct IssuerState {
    lifetime: Duration,
    delay: Mutex<Duration>,
    issued: AtomicU64,
    in_flight: AtomicUsize,
    peak_in_flight: AtomicUsize,
    requests: Mutex<HashMap<String, usize>>,
    in_flight_per_account: Mutex<HashMap<String, usize>>,
    peak_per_account: AtomicUsize,
    hanging: Mutex<HashSet<String>>,
    refusing: Mutex<HashSet<String>>,
    revoked: Mutex<Vec<String>>,
}

impl fmt::Debug for FakeIssuer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FakeIssuer")
            .field("requests", &self.requests())
            .field("peak_in_flight", &self.peak_in_flight())
            .finish_non_exhaustive()
    }
}

impl Default for FakeIssuer {
    fn default() -> Self {
        Self::new(Duration::from_secs(3600))
    }
}

impl FakeIssuer {
    /// An issuer whose tokens live `lifetime` from the instant of the
    /// request's clock, and that answers at once.
    pub fn new(lifetime: Duration) -> Self {
        Self {
            state: Arc::new(IssuerState {
                lifetime,
                delay: Mutex::new(Duration::ZERO),
                issued: AtomicU64::new(0),
                in_flight: AtomicUsize::new(0),
                peak_in_flight: AtomicUsize::new(0),
                requests: Mutex::default(),
                in_flight_per_account: Mutex::default(),
                peak_per_account: AtomicUsize::new(0),
                hanging: Mutex::default(),
                refusing: Mutex::default(),
                revoked: Mutex::default(),
            }),
        }
    }

    /// Every answer from now on takes `delay` of real time.
    pub fn set_delay(&self, delay: Duration) {
        *lock(&self.state.delay) = delay;
    }

    /// Requests for `user` from now on never answer.
    pub fn hang(&self, user: &str) {
        lock(&self.state.hanging).insert(user.to_owned());
    }

    /// Requests for `user` from now on are refused with `invalid_grant`.
    pub fn refuse(&self, user: &str) {
        lock(&self.state.refusing).insert(user.to_owned());
    }

    /// The provider of `user`'s account at this issuer, keyed
    /// `fake:<user>#<fingerprint>`.
    pub fn account(&self, user: &str) -> FakeAccount {
        self.account_of_client(user, FAKE_CLIENT_ID)
    }

    /// The provider of `user`'s account through the client `client_id`: a
    /// service whose tenants each registered their own client.
    pub fn account_of_client(&self, user: &str, client_id: &str) -> FakeAccount {
        let url = url::Url::parse(FAKE_TOKEN_URL).expect("a valid constant URL");
        let binding = Binding::new(&url, ClientId::new(client_id));
        FakeAccount {
            key: binding.account_key(&format!("fake:{user}")),
            user: user.to_owned(),
            binding,
            issuer: self.clone(),
        }
    }

    /// A token set as this issuer would have issued it to `account` at
    /// `issued_at`, for seeding a store.
    pub fn issued_set(&self, account: &FakeAccount, issued_at: time::OffsetDateTime) -> TokenSet {
        let n = self.state.issued.fetch_add(1, Ordering::SeqCst) + 1;
        self.token_set(account, n, issued_at)
    }

    /// How many token requests arrived, for every account.
    pub fn requests(&self) -> usize {
        lock(&self.state.requests).values().sum()
    }

    /// How many token requests arrived for `user`.
    pub fn requests_for(&self, user: &str) -> usize {
        lock(&self.state.requests).get(user).copied().unwrap_or(0)
    }

    /// How many requests are being answered now.
    pub fn in_flight(&self) -> usize {
        self.state.in_flight.load(Ordering::SeqCst)
    }

    /// The most requests that were ever being answered at once.
    pub fn peak_in_flight(&self) -> usize {
        self.state.peak_in_flight.load(Ordering::SeqCst)
    }

    /// The most requests for one account that were ever being answered at
    /// once: above one, an account's single flight broke.
    pub fn peak_in_flight_per_account(&self) -> usize {
        self.state.peak_per_account.load(Ordering::SeqCst)
    }

    /// The users whose tokens were revoked, in order.
    pub fn revoked(&self) -> Vec<String> {
        lock(&self.state.revoked).clone()
    }

    async fn answer(
        &self,
        account: &FakeAccount,
        grant: GrantKind,
        cx: &RequestContext,
    ) -> Result<TokenSet, Error> {
        let user = account.user.as_str();
        *lock(&self.state.requests)
            .entry(user.to_owned())
            .or_default() += 1;
        let _flight = InFlight::start(&self.state, user);
        if lock(&self.state.hanging).contains(user) {
            std::future::pending::<()>().await;
        }
        let delay = *lock(&self.state.delay);
        if !delay.is_zero() {
            tokio::time::sleep(delay).await;
        }
        if lock(&self.state.refusing).contains(user) {
            return Err(Error::Refused(
                Refusal::new(grant, ErrorCode::InvalidGrant, 400)
                    .with_description("Invalid user credentials"),
            ));
        }
        let n = self.state.issued.fetch_add(1, Ordering::SeqCst) + 1;
        Ok(self.token_set(account, n, cx.clock().now()))
    }

    fn token_set(
        &self,
        account: &FakeAccount,
        n: u64,
        issued_at: time::OffsetDateTime,
    ) -> TokenSet {
        let user = &account.user;
        TokenSet::expiring_in(
            AccessToken::new(format!("at-{n}-{user}")),
            issued_at,
            self.state.lifetime,
        )
        .with_refresh_token(Some(RefreshToken::new(format!("rt-{n}-{user}"))), None)
        .with_binding(account.binding.clone())
    }
}

/// Counts a request in flight until dropped.
struct InFlight<'a> {
    state: &'a IssuerState,
    user: String,
}

impl<'a> InFlight<'a> {
    fn start(state: &'a IssuerState, user: &str) -> Self {
        let now = state.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
        state.peak_in_flight.fetch_max(now, Ordering::SeqCst);
        let mut per_account = lock(&state.in_flight_per_account);
        let mine = per_account.entry(user.to_owned()).or_default();
        *mine += 1;
        state.peak_per_account.fetch_max(*mine, Ordering::SeqCst);
        Self {
            state,
            user: user.to_owned(),
        }
    }
}

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.state.in_flight.fetch_sub(1, Ordering::SeqCst);
        if let Some(mine) = lock(&self.state.in_flight_per_account).get_mut(&self.user) {
            *mine -= 1;
        }
    }
}

/// One account at a [`FakeIssuer`]: signs in, refreshes and revokes by
/// calling it directly.
#[derive(Clone)]
pub struct FakeAccount {
    key: AccountKey,
    user: String,
    binding: Binding,
    issuer: FakeIssuer,
}

impl fmt::Debug for FakeAccount {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FakeAccount")
            .field("key", &self.key)
            .finish_non_exhaustive()
    }
}

#[async_trait]
impl TokenProvider for FakeAccount {
    fn account_key(&self) -> &AccountKey {
        &self.key
    }

    fn binding(&self) -> &Binding {
        &self.binding
    }

    async fn authenticate(&self, cx: &RequestContext) -> Result<TokenSet, Error> {
        self.issuer.answer(self, GrantKind::Password, cx).await
    }

    async fn refresh(&self, _: &RefreshToken, cx: &RequestContext) -> Result<TokenSet, Error> {
        self.issuer.answer(self, GrantKind::RefreshToken, cx).await
    }

    async fn revoke(&self, _: &TokenSet, _: &RequestContext) -> Revocation {
        lock(&self.issuer.state.revoked).push(self.user.clone());
        Revocation::Revoked
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

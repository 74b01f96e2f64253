//! Metrics, through the `metrics` facade: what an operator of a fleet needs
//! to see token health before API calls fail.
//!
//! authkit records to whatever recorder the program installs (a Prometheus
//! exporter, OpenTelemetry, statsd) and forces none on it; without a
//! recorder every call here is a no-op. Names follow the Prometheus
//! conventions (`_total` counters, `_seconds` histograms, base units), and
//! every label has a small, fixed set of values: a grant kind, an outcome
//! class, an OAuth error code from the standard list (anything else is
//! `other`), and an account label that names the provider and the binding's
//! fingerprint but never the user (`voipex#1a2b3c4d`; a program may choose
//! another with `TokenManagerBuilder::metrics_label`). No token, secret or
//! user name becomes a label.
//!
//! The fresh-token hot path records nothing.

use std::time::Duration;

use crate::error::Error;

use crate::error::refusal::ErrorCode;
use crate::grant::kind::GrantKind;
use crate::secret::AccountKey;

/// Counter: token requests, by `grant` and `outcome` (`success`, `refused`,
/// `transient`, `protocol`, `config`, `other`).
pub const TOKEN_REQUESTS: &str = "authkit_token_requests_total";
/// Counter: refusals by the authorization server, by `grant` and `code`.
pub const TOKEN_REFUSALS: &str = "authkit_token_refusals_total";
/// Counter: token request attempts that were retried, by `grant`.
pub const TOKEN_RETRIES: &str = "authkit_token_request_retries_total";
/// Histogram: the duration of a token request, retries included, by `grant`.
pub const TOKEN_REQUEST_DURATION: &str = "authkit_token_request_duration_seconds";
/// Counter: refresh flights started, by `account`.
pub const FLIGHTS_STARTED: &str = "authkit_flights_started_total";
/// Counter: callers that joined a flight already running, by `account`.
pub const FLIGHTS_JOINED: &str = "authkit_flights_joined_total";
/// Histogram: the duration of a flight, by `account` and `outcome`.
pub const FLIGHT_DURATION: &str = "authkit_flight_duration_seconds";
/// Counter: tokens handed out inside their early-refresh window while a
/// flight renews them, by `account`.
pub const SERVED_WHILE_REFRESHING: &str = "authkit_tokens_served_while_refreshing_total";
/// Histogram: the wait for the store's hold on an account, by `account`.
pub const STORE_LOCK_WAIT: &str = "authkit_store_lock_wait_seconds";
/// Counter: failures to take the store's hold, by `account`.
pub const STORE_LOCK_FAILURES: &str = "authkit_store_lock_failures_total";
/// Counter: writes refused because the store's lease was lost, by `account`.
pub const LEASES_LOST: &str = "authkit_store_leases_lost_total";
/// Counter: rotated token sets that could not be saved, by `account`.
pub const UNSAVED_ROTATIONS: &str = "authkit_unsaved_rotations_total";
/// Counter: flights that ended in "a person must sign in again", by `account`.
pub const SIGN_INS_REQUIRED: &str = "authkit_sign_ins_required_total";
/// Gauge: when the account's current access token expires, as a Unix
/// timestamp in seconds, by `account`. Alert on
/// `authkit_token_expiry_timestamp_seconds - time()`: a timestamp stays true
/// between scrapes, a countdown would not.
pub const TOKEN_EXPIRY: &str = "authkit_token_expiry_timestamp_seconds";

/// The outcome class of a result, for the `outcome` label.
pub(crate) fn outcome<T>(result: &Result<T, Error>) -> &'static str {
    match result {
        Ok(_) => "success",
        Err(Error::Refused(_)) => "refused",
        Err(Error::SignInRequired { .. }) => "sign_in_required",
        Err(Error::Transient(_)) => "transient",
        Err(Error::Protocol(_)) => "protocol",
        Err(Error::Config(_)) => "config",
        Err(Error::Store(_)) => "store",
        Err(Error::UnsavedRotation { .. }) => "unsaved_rotation",
        Err(_) => "other",
    }
}

/// A grant kind as a label: its `grant_type`, which code, not users, decides.
fn grant_label(grant: &GrantKind) -> String {
    grant.as_str().chars().take(64).collect()
}

/// An error code as a label: the standard codes, or `other`.
fn code_label(code: &ErrorCode) -> &'static str {
    code.standard().unwrap_or("other")
}

/// The default account label: the provider's name (before the first `:`)
/// and the binding's fingerprint (after `#`), never the user name.
pub(crate) fn account_label(key: &AccountKey) -> String {
    let text = key.as_str();
    let provider = text.split(':').next().unwrap_or("account");
    let provider = if text.contains(':') {
        provider
    } else {
        "account"
    };
    match text.rsplit_once('#') {
        Some((_, fingerprint)) => format!("{provider}#{fingerprint}"),
        None => provider.to_owned(),
    }
}

/// The label of a pooled account: the provider's name only. A pool's
/// accounts may each have their own client (a binding fingerprint each), so
/// the fingerprint would make one series per account.
pub(crate) fn pooled_account_label(key: &AccountKey) -> String {
    match key.as_str().split_once(':') {
        Some((provider, _)) => provider.to_owned(),
        None => "account".to_owned(),
    }
}

/// Records one finished token request.
pub(crate) fn token_request<T>(grant: &GrantKind, result: &Result<T, Error>, took: Duration) {
    let grant = grant_label(grant);
    metrics::counter!(TOKEN_REQUESTS, "grant" => grant.clone(), "outcome" => outcome(result))
        .increment(1);
    metrics::histogram!(TOKEN_REQUEST_DURATION, "grant" => grant.clone()).record(took);
    if let Err(Error::Refused(refusal)) = result {
        metrics::counter!(TOKEN_REFUSALS, "grant" => grant, "code" => code_label(refusal.code()))
            .increment(1);
    }
}

/// Records one retry of a token request.
pub(crate) fn token_retry(grant: &GrantKind) {
    metrics::counter!(TOKEN_RETRIES, "grant" => grant_label(grant)).increment(1);
}

/// A manager's metrics, labelled with its account.
#[derive(Debug, Clone)]
pub(crate) struct AccountMetrics {
    account: String,
    expiry_gauge: bool,
}

impl AccountMetrics {
    pub(crate) fn new(account: String) -> Self {
        Self {
            account,
            expiry_gauge: true,
        }
    }

    /// Without the expiry gauge: in a pool, thousands of accounts share one
    /// label, so one gauge would show whichever account wrote last; the pool
    /// answers per-account expiry as a query instead.
    pub(crate) fn without_expiry_gauge(mut self) -> Self {
        self.expiry_gauge = false;
        self
    }

    pub(crate) fn flight_started(&self) {
        metrics::counter!(FLIGHTS_STARTED, "account" => self.account.clone()).increment(1);
    }

    pub(crate) fn flight_joined(&self) {
        metrics::counter!(FLIGHTS_JOINED, "account" => self.account.clone()).increment(1);
    }

    pub(crate) fn flight_ended<T>(&self, result: &Result<T, Error>, took: Duration) {
        metrics::histogram!(FLIGHT_DURATION, "account" => self.account.clone(), "outcome" => outcome(result))
            .record(took);
        match result {
            Err(Error::SignInRequired { .. }) => {
                metrics::counter!(SIGN_INS_REQUIRED, "account" => self.account.clone()).increment(1)
            }
            Err(Error::UnsavedRotation { .. }) => {
                metrics::counter!(UNSAVED_ROTATIONS, "account" => self.account.clone()).increment(1)
            }
            _ => {}
        }
    }

    pub(crate) fn served_while_refreshing(&self) {
        metrics::counter!(SERVED_WHILE_REFRESHING, "account" => self.account.clone()).increment(1);
    }

    pub(crate) fn lock_waited(&self, took: Duration, ok: bool) {
        metrics::histogram!(STORE_LOCK_WAIT, "account" => self.account.clone()).record(took);
        if !ok {
            metrics::counter!(STORE_LOCK_FAILURES, "account" => self.account.clone()).increment(1);
        }
    }

    pub(crate) fn lease_lost(&self) {
        metrics::counter!(LEASES_LOST, "account" => self.account.clone()).increment(1);
    }

    pub(crate) fn token_expires(&self, unix_seconds: i64) {
        if !self.expiry_gauge {
            return;
        }
        metrics::gauge!(TOKEN_EXPIRY, "account" => self.account.clone()).set(unix_seconds as f64);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_account_label_never_holds_the_user_name() {
        assert_eq!(
            account_label(&AccountKey::new("voipex:alice@example.com#1a2b3c4d")),
            "voipex#1a2b3c4d"
        );
        assert_eq!(
            account_label(&AccountKey::new("vonage:key:desk#00ff00ff")),
            "vonage#00ff00ff"
        );
        assert_eq!(
            account_label(&AccountKey::new("alice@example.com")),
            "account",
            "a key that is only a user name gives nothing of it away"
        );
    }
}

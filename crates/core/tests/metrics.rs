//! The metrics an operator reads (see `authkit_core::telemetry`), recorded
//! by a test recorder after scripted lifecycles: sign-in, refresh, refusal,
//! retry, stampede, lost lease. And no label ever holds a user name or a
//! secret.

mod fixture;

use std::sync::OnceLock;
use std::sync::atomic::Ordering;

use authkit_core::telemetry::*;
use authkit_testkit::support::assert_no_secrets;
use fixture::{Fixture, PASSWORD, TestServer};
use metrics_util::debugging::{DebugValue, DebuggingRecorder, Snapshotter};
use time::Duration;

/// One recorder for the whole binary (a recorder is process-wide); the
/// tests take turns, and each reads what was recorded since it began.
fn snapshotter() -> &'static Snapshotter {
    static SNAPSHOTTER: OnceLock<Snapshotter> = OnceLock::new();
    SNAPSHOTTER.get_or_init(|| {
        let recorder = DebuggingRecorder::new();
        let snapshotter = recorder.snapshotter();
        recorder.install().expect("the only recorder");
        snapshotter
    })
}

static TURN: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// One recorded metric: its name, its labels and its value.
type Recorded = (String, Vec<(String, String)>, DebugValue);

/// What was recorded since the last reading, by name and labels.
struct Reading(Vec<Recorded>);

fn read() -> Reading {
    Reading(
        snapshotter()
            .snapshot()
            .into_vec()
            .into_iter()
            .map(|(key, _, _, value)| {
                let key = key.key();
                let labels = key
                    .labels()
                    .map(|l| (l.key().to_owned(), l.value().to_owned()))
                    .collect();
                (key.name().to_owned(), labels, value)
            })
            .collect(),
    )
}

impl Reading {
    fn matching<'a>(
        &'a self,
        name: &'a str,
        labels: &'a [(&'a str, &'a str)],
    ) -> impl Iterator<Item = &'a DebugValue> + 'a {
        self.0.iter().filter_map(move |(n, ls, v)| {
            (n == name
                && labels
                    .iter()
                    .all(|(k, val)| ls.iter().any(|(lk, lv)| lk == k && lv == val)))
            .then_some(v)
        })
    }

    fn counter(&self, name: &str, labels: &[(&str, &str)]) -> u64 {
        self.matching(name, labels)
            .map(|v| match v {
                DebugValue::Counter(n) => *n,
                _ => 0,
            })
            .sum()
    }

    fn observations(&self, name: &str, labels: &[(&str, &str)]) -> usize {
        self.matching(name, labels)
            .map(|v| match v {
                DebugValue::Histogram(values) => values.len(),
                _ => 0,
            })
            .sum()
    }

    fn gauge(&self, name: &str, labels: &[(&str, &str)]) -> Option<f64> {
        self.matching(name, labels).find_map(|v| match v {
            DebugValue::Gauge(g) => Some(g.into_inner()),
            _ => None,
        })
    }

    fn label_values(&self) -> String {
        self.0
            .iter()
            .flat_map(|(_, labels, _)| labels.iter().map(|(k, v)| format!("{k}={v}")))
            .collect::<Vec<_>>()
            .join(" ")
    }
}

fn account(f: &Fixture) -> String {
    let key = f.manager.account_key().as_str();
    let fingerprint = key.rsplit_once('#').expect("fingerprinted").1;
    format!("test#{fingerprint}")
}

#[tokio::test]
async fn a_sign_in_and_a_refresh_are_counted_timed_and_their_expiry_shown() {
    let _turn = TURN.lock().await;
    read();
    let f = Fixture::new().await;
    let account = account(&f);
    f.token().await;
    let after_sign_in = read();
    assert_eq!(
        after_sign_in.counter(
            TOKEN_REQUESTS,
            &[("grant", "password"), ("outcome", "success")]
        ),
        1
    );
    assert_eq!(
        after_sign_in.observations(TOKEN_REQUEST_DURATION, &[("grant", "password")]),
        1
    );
    assert_eq!(
        after_sign_in.counter(FLIGHTS_STARTED, &[("account", &account)]),
        1
    );
    assert_eq!(
        after_sign_in.observations(
            FLIGHT_DURATION,
            &[("account", &account), ("outcome", "success")]
        ),
        1
    );
    assert_eq!(
        after_sign_in.observations(STORE_LOCK_WAIT, &[("account", &account)]),
        1
    );
    let expiry = after_sign_in
        .gauge(TOKEN_EXPIRY, &[("account", &account)])
        .expect("the expiry gauge");
    let expected =
        (authkit_core::clock::Clock::now(&f.clock) + Duration::hours(1)).unix_timestamp() as f64;
    assert!((expiry - expected).abs() <= 2.0, "{expiry} vs {expected}");

    f.clock.advance(Duration::hours(2));
    f.token().await;
    let after_refresh = read();
    assert_eq!(
        after_refresh.counter(
            TOKEN_REQUESTS,
            &[("grant", "refresh_token"), ("outcome", "success")]
        ),
        1
    );
    assert_eq!(
        after_refresh.counter(FLIGHTS_STARTED, &[("account", &account)]),
        1
    );
}

#[tokio::test]
async fn refusals_carry_their_code_and_retries_are_counted() {
    let _turn = TURN.lock().await;
    read();
    let f = Fixture::with(TestServer::new(), "wrong-password-42").await;
    f.manager.access_token().await.unwrap_err();
    let refused = read();
    assert_eq!(
        refused.counter(
            TOKEN_REFUSALS,
            &[("grant", "password"), ("code", "invalid_grant")]
        ),
        1
    );
    assert_eq!(
        refused.counter(
            TOKEN_REQUESTS,
            &[("grant", "password"), ("outcome", "refused")]
        ),
        1
    );

    let failing = TestServer {
        refresh_status: Some(503),
        ..TestServer::new()
    };
    let f = Fixture::with(failing, PASSWORD).await;
    f.token().await;
    f.clock.advance(Duration::hours(2));
    f.manager.access_token().await.unwrap_err();
    let retried = read();
    assert_eq!(
        retried.counter(TOKEN_RETRIES, &[("grant", "refresh_token")]),
        1,
        "a 503 is retried once within the fixture's two attempts"
    );
    assert_eq!(
        retried.counter(
            TOKEN_REQUESTS,
            &[("grant", "refresh_token"), ("outcome", "transient")]
        ),
        1
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_stampede_is_one_flight_that_the_others_join() {
    let _turn = TURN.lock().await;
    read();
    let f = Fixture::new().await;
    let account = account(&f);
    f.token().await;
    f.clock.advance(Duration::hours(2));
    read();
    let callers: Vec<_> = (0..100)
        .map(|_| {
            let manager = f.manager.clone();
            tokio::spawn(async move { manager.access_token().await })
        })
        .collect();
    for caller in callers {
        caller.await.unwrap().unwrap();
    }
    let stampede = read();
    assert_eq!(
        stampede.counter(FLIGHTS_STARTED, &[("account", &account)]),
        1
    );
    let joined = stampede.counter(FLIGHTS_JOINED, &[("account", &account)]);
    assert!((1..100).contains(&joined), "joined: {joined}");
    assert_eq!(
        stampede.counter(TOKEN_REQUESTS, &[("grant", "refresh_token")]),
        1
    );

    // Inside the early window the current token is served while one flight renews it.
    f.clock.advance(Duration::minutes(58));
    f.token().await;
    f.wait_for_cached("at-3-secret").await;
    assert!(read().counter(SERVED_WHILE_REFRESHING, &[("account", &account)]) >= 1);
}

#[tokio::test]
async fn a_lost_lease_after_a_rotation_is_a_lost_lease_and_an_unsaved_rotation() {
    let _turn = TURN.lock().await;
    read();
    let f = Fixture::new().await;
    let account = account(&f);
    f.token().await;
    f.store.lose_leases.store(true, Ordering::SeqCst);
    f.clock.advance(Duration::hours(2));
    f.manager.access_token().await.unwrap_err();
    let lost = read();
    assert_eq!(lost.counter(LEASES_LOST, &[("account", &account)]), 1);
    assert_eq!(lost.counter(UNSAVED_ROTATIONS, &[("account", &account)]), 1);
    assert_eq!(
        lost.observations(
            FLIGHT_DURATION,
            &[("account", &account), ("outcome", "unsaved_rotation")]
        ),
        1
    );
}

#[tokio::test]
async fn no_label_holds_a_user_name_or_a_secret() {
    let _turn = TURN.lock().await;
    read();
    let f = Fixture::new().await;
    f.token().await;
    f.clock.advance(Duration::hours(2));
    f.token().await;
    let f2 = Fixture::with(TestServer::new(), "wrong-password-42").await;
    f2.manager.access_token().await.unwrap_err();
    let labels = read().label_values();
    assert!(labels.contains("account=test#"), "{labels}");
    let mut secrets = f.secrets();
    secrets.push("alice".into());
    secrets.push("wrong-password-42".into());
    assert_no_secrets(&labels, &secrets);
}

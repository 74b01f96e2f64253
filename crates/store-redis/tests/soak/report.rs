//! The workers' reports: read, summed up as figures, and held to what the
//! soak promises.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::Child;

use super::faults::{Fault, Window};
use super::{ACCESS_TTL_SECONDS, FILE_ACCOUNT, GRACE, redis_accounts};

/// What the workers reported, per account.
#[derive(Default)]
pub struct Account {
    ok: u64,
    failures: Vec<(u64, String, String)>,
    /// Each token's fingerprint, and when a worker first had it.
    tokens: BTreeMap<String, u64>,
    workers_done: usize,
}

/// Whether a failure of this class may come and go with a fault: the
/// server or the store could not be reached or could not keep the set.
/// Anything else (a refusal, a sign-in asked for) means a session was hurt.
fn is_passing(class: &str) -> bool {
    class.starts_with("transient:")
        || class.starts_with("store:")
        || class.starts_with("unsaved_rotation:")
}

/// Waits for every worker and reads its report, per account.
pub async fn collect(children: Vec<(Child, PathBuf)>) -> BTreeMap<String, Account> {
    let mut report: BTreeMap<String, Account> = BTreeMap::new();
    for (child, out) in children {
        let output = tokio::task::spawn_blocking(move || child.wait_with_output())
            .await
            .unwrap()
            .unwrap();
        assert!(
            output.status.success(),
            "a worker failed: {:?}",
            output.status
        );
        let text = std::fs::read_to_string(&out).expect("the worker's report");
        for line in text.lines() {
            let mut words = line.splitn(5, ' ');
            match words.next() {
                Some("FAIL") => {
                    let when: u64 = words.next().unwrap().parse().unwrap();
                    let key = words.next().unwrap().to_owned();
                    let class = words.next().unwrap().to_owned();
                    let message = words.next().unwrap_or_default().to_owned();
                    report
                        .entry(key)
                        .or_default()
                        .failures
                        .push((when, class, message));
                }
                Some("TOKEN") => {
                    let when: u64 = words.next().unwrap().parse().unwrap();
                    let key = words.next().unwrap().to_owned();
                    let print = words.next().unwrap().to_owned();
                    let first = report
                        .entry(key)
                        .or_default()
                        .tokens
                        .entry(print)
                        .or_insert(when);
                    *first = (*first).min(when);
                }
                Some("DONE") => {
                    let key = words.next().unwrap().to_owned();
                    let account = report.entry(key).or_default();
                    account.ok += words.next().unwrap().parse::<u64>().unwrap();
                    account.workers_done += 1;
                }
                _ => panic!("an unexpected line in a worker's report: {line}"),
            }
        }
    }

    report
}

/// When `key` first had each new token between `from` and `to`.
fn new_tokens_within(
    report: &BTreeMap<String, Account>,
    key: &str,
    from: u64,
    to: u64,
) -> Vec<u64> {
    report.get(key).map_or(Vec::new(), |a| {
        a.tokens
            .values()
            .copied()
            .filter(|t| *t >= from && *t <= to)
            .collect()
    })
}

/// Prints each fault with how soon new tokens came after it, and each
/// account's counts.
pub fn print_figures(report: &BTreeMap<String, Account>, windows: &[Window], started: u64) {
    for window in windows {
        let affected: Vec<String> = match window.kind {
            Fault::RedisPrimaryKilled => vec![redis_accounts()[0].to_string()],
            Fault::ServerRefusing => report.keys().cloned().collect(),
            Fault::DiskFull => vec![FILE_ACCOUNT.to_owned()],
        };
        let recovered: Vec<String> = affected
            .iter()
            .map(|key| {
                new_tokens_within(report, key, window.to, u64::MAX)
                    .into_iter()
                    .min()
                    .map_or("never".to_owned(), |t| {
                        format!("{:.1} s", (t - window.to) as f64 / 1000.0)
                    })
            })
            .collect();
        eprintln!(
            "fault at +{:.1} s for {:.1} s: {} ({}); first new token after it: {}",
            (window.from - started) as f64 / 1000.0,
            (window.to - window.from) as f64 / 1000.0,
            window.fault,
            window.note,
            recovered.join(", ")
        );
    }
    for (key, account) in report {
        let mut classes: BTreeMap<&str, usize> = BTreeMap::new();
        for (_, class, _) in &account.failures {
            *classes.entry(class).or_default() += 1;
        }
        eprintln!(
            "{key}: {} tokens served, {} distinct tokens (one per refresh), {} failures reported {classes:?}",
            account.ok,
            account.tokens.len(),
            account.failures.len()
        );
    }
}

/// What the soak promises: every worker finished every account, refreshes
/// went on, each fault did what it must to the callers, and every failure
/// was passing and came with a fault.
pub fn assert_outcome(
    report: &BTreeMap<String, Account>,
    windows: &[Window],
    started: u64,
    seconds: u64,
    processes: usize,
) {
    // What each fault must have done to the callers.
    for window in windows {
        match window.kind {
            Fault::ServerRefusing => {
                for (key, account) in report {
                    assert!(
                        account.failures.iter().any(|(t, class, _)| {
                            *t >= window.from && *t <= window.to && class.starts_with("transient:")
                        }),
                        "{key}: the server refused connections longer than a token lives, and no caller was told"
                    );
                }
            }
            Fault::DiskFull => assert!(
                !new_tokens_within(report, FILE_ACCOUNT, window.from, window.to).is_empty(),
                "no refresh of the file store's account succeeded while its disk was full"
            ),
            Fault::RedisPrimaryKilled => {}
        }
        for key in report.keys() {
            assert!(
                !new_tokens_within(report, key, window.to, window.to + GRACE.as_millis() as u64)
                    .is_empty(),
                "{key}: no new token within {GRACE:?} of the end of {}",
                window.fault
            );
        }
    }

    // Every worker reported on every account.
    for (key, account) in report {
        assert_eq!(
            account.workers_done, processes,
            "{key}: every worker finished it"
        );
        assert!(account.ok > 0, "{key}: served tokens");
        assert!(
            account.tokens.len() as u64 >= seconds / ACCESS_TTL_SECONDS,
            "{key}: refreshed all along ({} tokens in {seconds} s)",
            account.tokens.len()
        );
        for (when, class, message) in &account.failures {
            assert!(
                is_passing(class),
                "{key}: a session was hurt at +{:.1} s: {class}: {message}",
                (when - started) as f64 / 1000.0
            );
            assert!(
                !message.contains("invalid_grant"),
                "{key}: a refresh token was refused: {message}"
            );
            assert!(
                windows
                    .iter()
                    .any(|w| *when >= w.from && *when <= w.to + GRACE.as_millis() as u64),
                "{key}: a failure outside every fault at +{:.1} s: {class}: {message}",
                (when - started) as f64 / 1000.0
            );
        }
    }
}

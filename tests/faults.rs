//! Fault injection through the testkit: storms of 503, 429 with
//! `Retry-After`, a server slower than the timeout, connection resets,
//! truncated and oversized bodies, an HTML page with status 200, during
//! sign-in and during refresh, with concurrent callers. Each ends in a
//! classified error or a successful retry, a still-valid token keeps being
//! served, and retries stay within their bounds.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration as StdDuration;

use authkit::endpoint::RetryPolicy;
use authkit::error::TransientKind;
use authkit::grant::PasswordGrant;
use authkit::{
    AccessToken, ClientAuth, Error, GenericProvider, Password, ProtocolError, TokenEndpoint,
    TokenManager,
};
use authkit_testkit::{Fault, MockAuthServer, MockClient};
use time::Duration;

const ATTEMPTS: u32 = 3;
const CALLERS: usize = 50;

fn retries() -> RetryPolicy {
    authkit_testkit::support::quick_retries(ATTEMPTS)
}

async fn server() -> MockAuthServer {
    MockAuthServer::builder()
        .user("alice", "pw")
        .client(MockClient::public("api"))
        .start()
        .await
}

fn manager_at(token_url: String, server: &MockAuthServer, timeout: StdDuration) -> TokenManager {
    let endpoint = TokenEndpoint::builder(token_url)
        .client_auth(ClientAuth::public("api"))
        .retry_policy(retries())
        .timeout(timeout)
        .build()
        .unwrap();
    let provider = GenericProvider::new("demo:alice", endpoint)
        .with_grant(PasswordGrant::new("alice", Password::new("pw")));
    TokenManager::builder(provider, authkit::MemoryStore::new())
        .clock(server.shared_clock())
        .build()
}

fn manager(server: &MockAuthServer) -> TokenManager {
    manager_at(server.token_url(), server, StdDuration::from_secs(5))
}

async fn all_callers(manager: &TokenManager) -> Vec<Result<AccessToken, Error>> {
    let callers: Vec<_> = (0..CALLERS)
        .map(|_| {
            let manager = manager.clone();
            tokio::spawn(async move { manager.access_token().await })
        })
        .collect();
    let mut results = Vec::new();
    for caller in callers {
        results.push(caller.await.unwrap());
    }
    results
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_storm_of_503_during_sign_in_is_retried_within_bounds_then_classified() {
    let server = server().await;
    server.inject_n(Fault::ServerError(503), 20);
    let manager = manager(&server);
    for result in all_callers(&manager).await {
        let error = result.unwrap_err();
        assert!(
            matches!(&error, Error::Transient(t) if t.kind() == TransientKind::ServerFailure { status: 503 }),
            "{error:?}"
        );
        assert!(error.is_retryable());
    }
    assert_eq!(
        server.log().len(),
        ATTEMPTS as usize,
        "{CALLERS} callers, one flight, {ATTEMPTS} attempts"
    );
    // Within the cooldown the failure is served from memory.
    all_callers(&manager).await;
    assert_eq!(server.log().len(), ATTEMPTS as usize);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failures_during_an_early_refresh_never_reach_callers_holding_a_valid_token() {
    for fault in [
        Fault::ServerError(503),
        Fault::ServerError(502),
        Fault::RateLimited {
            retry_after_secs: 3600,
        },
        Fault::TruncatedJson,
        Fault::HtmlLoginPage,
        Fault::HugeBody,
    ] {
        let server = server().await;
        let manager = manager(&server);
        let first = manager.access_token().await.unwrap();
        server.clock().advance(Duration::minutes(57));
        server.inject_n(fault.clone(), 20);
        for round in 0..3 {
            for result in all_callers(&manager).await {
                assert!(
                    result.unwrap().same_secret(&first),
                    "{fault:?}, round {round}"
                );
            }
            tokio::time::sleep(StdDuration::from_millis(50)).await;
        }
        // The background refresh may still be on its way on a loaded machine.
        for _ in 0..500 {
            if server.log().count("refresh_token") > 0 {
                break;
            }
            tokio::time::sleep(StdDuration::from_millis(10)).await;
        }
        let refreshes = server.log().count("refresh_token");
        assert!(
            (1..=ATTEMPTS as usize).contains(&refreshes),
            "{fault:?}: {refreshes} refresh requests"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rate_limited_refresh_waits_as_told_and_succeeds() {
    let server = server().await;
    let manager = manager(&server);
    let first = manager.access_token().await.unwrap();
    server.clock().advance(Duration::hours(2));
    server.inject(Fault::RateLimited {
        retry_after_secs: 1,
    });
    let started = std::time::Instant::now();
    for result in all_callers(&manager).await {
        let token = result.unwrap();
        assert!(!token.same_secret(&first));
        assert!(server.is_access_token_active(&token));
    }
    assert!(started.elapsed() >= StdDuration::from_secs(1));
    assert_eq!(
        server.log().count("refresh_token"),
        2,
        "a 429 is retried even for a single-use token"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn expired_callers_get_classified_errors_and_refresh_tokens_are_not_resent_blindly() {
    type Check = fn(&Error) -> bool;
    let cases: Vec<(Fault, Check, usize)> = vec![
        (
            Fault::ServerError(502),
            |e| matches!(e, Error::Transient(t) if t.kind() == TransientKind::ServerFailure { status: 502 }),
            1,
        ),
        (
            Fault::ServerError(503),
            |e| matches!(e, Error::Transient(t) if t.kind() == TransientKind::ServerFailure { status: 503 }),
            ATTEMPTS as usize,
        ),
        (
            Fault::TruncatedJson,
            |e| matches!(e, Error::Protocol(ProtocolError::Malformed { .. })),
            1,
        ),
        (
            Fault::HtmlLoginPage,
            |e| {
                matches!(
                    e,
                    Error::Protocol(ProtocolError::NotOAuth { status: 200, .. })
                )
            },
            1,
        ),
        (
            Fault::HugeBody,
            |e| matches!(e, Error::Protocol(ProtocolError::TooLarge { .. })),
            1,
        ),
        (
            Fault::ErrorIn200 {
                code: "temporarily_unavailable".into(),
            },
            |e| e.is_retryable(),
            1,
        ),
    ];
    for (fault, expected, requests) in cases {
        let server = server().await;
        let manager = manager(&server);
        manager.access_token().await.unwrap();
        server.clock().advance(Duration::hours(2));
        server.inject_n(fault.clone(), 20);
        for result in all_callers(&manager).await {
            let error = result.unwrap_err();
            assert!(expected(&error), "{fault:?} gave {error:?}");
        }
        assert_eq!(server.log().count("refresh_token"), requests, "{fault:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_slower_than_the_timeout_is_a_timeout() {
    let server = server().await;
    server.inject_n(Fault::Delay(StdDuration::from_secs(3)), 10);
    let manager = manager_at(server.token_url(), &server, StdDuration::from_millis(300));
    let error = manager.access_token().await.unwrap_err();
    assert!(
        matches!(&error, Error::Transient(t) if t.kind() == TransientKind::Timeout),
        "{error:?}"
    );
    assert!(error.is_retryable());
}

/// A TCP server on 127.0.0.1 that resets every connection it accepts.
async fn resetting_server() -> (String, Arc<AtomicUsize>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let accepted = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&accepted);
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            counter.fetch_add(1, Ordering::SeqCst);
            // A zero linger makes the close a reset (RST). It cannot block,
            // which is what the deprecation warns about for non-zero values.
            #[allow(deprecated)]
            let _ = stream.set_linger(Some(StdDuration::ZERO));
            drop(stream);
        }
    });
    (format!("http://{address}/token"), accepted)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connection_resets_are_retried_for_a_password_and_classified() {
    let server = server().await;
    let (url, accepted) = resetting_server().await;
    let manager = manager_at(url, &server, StdDuration::from_secs(5));
    for result in all_callers(&manager).await {
        let error = result.unwrap_err();
        assert!(
            matches!(&error, Error::Transient(t) if t.status().is_none()),
            "{error:?}"
        );
        assert!(error.is_retryable());
    }
    let connections = accepted.load(Ordering::SeqCst);
    assert!(
        (1..=ATTEMPTS as usize * 2).contains(&connections),
        "retries are bounded: {connections} connections for {CALLERS} callers"
    );
}

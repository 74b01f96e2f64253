//! The token manager's invariants (docs/architecture.md), each with a test
//! that fails if it breaks, against the scripted account of `fixture`.

mod fixture;

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration as StdDuration;

use authkit_core::manager::RefreshPolicy;
use authkit_core::{
    Error, ExposeSecret, GenericProvider, MemoryStore, TokenManager, TokenProvider,
};
use std::collections::HashSet;

use authkit_testkit::support::{assert_error_has_no_secrets, assert_no_secrets};
use fixture::{Fixture, PASSWORD, TestServer, stored_in};
use time::Duration;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_thousand_callers_on_an_expired_token_cause_one_token_request() {
    let f = Fixture::new().await;
    assert_eq!(f.token().await, "at-1-secret");

    f.clock.advance(Duration::hours(2));
    let callers: Vec<_> = (0..1000)
        .map(|_| {
            let manager = f.manager.clone();
            tokio::spawn(async move { manager.access_token().await })
        })
        .collect();
    for caller in callers {
        assert_eq!(
            caller.await.unwrap().unwrap().expose_secret(),
            "at-2-secret"
        );
    }
    assert_eq!(f.state.count("password"), 1);
    assert_eq!(
        f.state.count("refresh_token"),
        1,
        "one refresh for a thousand callers"
    );
    f.assert_clean(&format!("{:?}", f.manager));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_callers_in_one_process_share_one_flight_and_one_store_lock() {
    let f = Fixture::new().await;
    let callers: Vec<_> = (0..500)
        .map(|_| {
            let manager = f.manager.clone();
            tokio::spawn(async move { manager.access_token().await })
        })
        .collect();
    for caller in callers {
        caller.await.unwrap().unwrap();
    }
    let locks = f.store.locks_taken.load(Ordering::SeqCst);
    // Callers that arrive after the flight landed find the token in memory;
    // the ones that overlap it wait for it instead of queueing on the store.
    assert_eq!(locks, 1, "500 callers took the store lock {locks} times");
}

#[tokio::test]
async fn a_fresh_token_is_served_from_memory_without_a_request() {
    let f = Fixture::new().await;
    for _ in 0..10 {
        f.token().await;
        f.clock.advance(Duration::minutes(1));
    }
    assert_eq!(f.state.requests(), 1);
    assert!(f.manager.cached_access_token().is_some());
}

#[tokio::test]
async fn an_old_refresh_token_is_never_sent_twice_and_each_rotation_is_stored() {
    let f = Fixture::new().await;
    f.token().await;
    for round in 2..=6 {
        f.clock.advance(Duration::hours(2));
        assert_eq!(f.token().await, format!("at-{round}-secret"));
        let stored = f.stored().await;
        assert_eq!(
            stored.refresh_token().unwrap().expose_secret(),
            format!("rt-{round}-secret"),
            "saved before use"
        );
    }
    let presented = f.state.presented();
    assert_eq!(
        presented,
        [
            "rt-1-secret",
            "rt-2-secret",
            "rt-3-secret",
            "rt-4-secret",
            "rt-5-secret"
        ]
    );
    assert_eq!(
        presented.iter().collect::<HashSet<_>>().len(),
        presented.len()
    );
    assert_eq!(f.state.count("password"), 1);
}

#[tokio::test]
async fn a_refresh_without_a_refresh_token_keeps_the_old_one() {
    let f = Fixture::with(
        TestServer {
            rotate: false,
            ..TestServer::new()
        },
        PASSWORD,
    )
    .await;
    f.token().await;
    for _ in 0..3 {
        f.clock.advance(Duration::hours(2));
        f.token().await;
    }
    assert_eq!(f.state.presented(), ["rt-1-secret"; 3]);
    let stored = f.stored().await;
    assert_eq!(
        stored.refresh_token().unwrap().expose_secret(),
        "rt-1-secret"
    );
    assert_eq!(stored.access_token().expose_secret(), "at-4-secret");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn inside_the_early_window_the_current_token_is_served_while_one_task_refreshes() {
    // A refresh that takes a while: every call below returns before it lands.
    let server = TestServer {
        refresh_delay: StdDuration::from_millis(300),
        ..TestServer::new()
    };
    let f = Fixture::with(server, PASSWORD).await;
    f.token().await;
    // Two minutes before expiry: inside the five-minute window, still valid.
    f.clock.advance(Duration::minutes(58));
    for _ in 0..50 {
        assert_eq!(f.token().await, "at-1-secret");
    }
    f.wait_for_cached("at-2-secret").await;
    assert_eq!(f.state.count("refresh_token"), 1);
}

#[tokio::test]
async fn a_failed_early_refresh_leaves_the_valid_token_in_service() {
    let f = Fixture::with(
        TestServer {
            refresh_status: Some(500),
            ..TestServer::new()
        },
        PASSWORD,
    )
    .await;
    f.token().await;
    f.clock.advance(Duration::minutes(58));
    for _ in 0..20 {
        assert_eq!(f.token().await, "at-1-secret");
        tokio::task::yield_now().await;
    }
    // Wait for the background refresh to have failed, then keep calling.
    for _ in 0..500 {
        if f.state.count("refresh_token") > 0 {
            break;
        }
        tokio::time::sleep(StdDuration::from_millis(10)).await;
    }
    tokio::time::sleep(StdDuration::from_millis(50)).await;
    for _ in 0..20 {
        assert_eq!(f.token().await, "at-1-secret");
    }
    assert_eq!(
        f.state.count("refresh_token"),
        1,
        "the failure is remembered, not retried on every call"
    );
}

#[tokio::test]
async fn repeated_wrong_passwords_do_not_hammer_the_server() {
    let f = Fixture::with(TestServer::new(), "wrong-password-456").await;
    for _ in 0..20 {
        let error = f.manager.access_token().await.unwrap_err();
        assert_eq!(
            error.refusal().map(|r| r.code()),
            Some(&authkit_core::ErrorCode::InvalidGrant)
        );
        assert_error_has_no_secrets(&error, &["wrong-password-456"]);
    }
    assert_eq!(f.state.requests(), 1, "refusals are remembered");
    f.clock.advance(Duration::seconds(2));
    f.manager.access_token().await.unwrap_err();
    assert_eq!(f.state.requests(), 2, "and tried again after the cooldown");
    // The cooldown grows with each consecutive refusal.
    f.clock.advance(Duration::seconds(1));
    f.manager.access_token().await.unwrap_err();
    assert_eq!(f.state.requests(), 2);
    assert_no_secrets(&format!("{:?}", f.manager), &["wrong-password-456"]);
}

#[tokio::test]
async fn a_refused_refresh_token_is_dropped_and_the_password_used_again() {
    let f = Fixture::new().await;
    f.token().await;
    // The server forgets the session (restart, admin logout).
    f.state.ledger.lock().unwrap().live_refresh_tokens.clear();
    f.clock.advance(Duration::hours(2));
    assert_eq!(f.token().await, "at-2-secret");
    assert_eq!(f.state.presented(), ["rt-1-secret"]);
    assert_eq!(f.state.count("password"), 2);
    f.clock.advance(Duration::hours(2));
    f.token().await;
    assert_eq!(
        f.state.presented(),
        ["rt-1-secret", "rt-2-secret"],
        "the dead token was never sent again"
    );
}

#[tokio::test]
async fn without_an_unattended_grant_a_refused_refresh_token_means_sign_in_again() {
    let f = Fixture::new().await;
    // Seed the store as a browser sign-in would have.
    f.token().await;
    f.state.ledger.lock().unwrap().live_refresh_tokens.clear();

    let provider = GenericProvider::new("test:alice", Fixture::endpoint(&f.server, &f.clock));
    let manager = TokenManager::builder(provider, f.store.clone())
        .clock(Arc::new(f.clock.clone()))
        .build();
    assert_eq!(
        manager.access_token().await.unwrap().expose_secret(),
        "at-1-secret"
    );
    f.clock.advance(Duration::hours(2));
    let error = manager.access_token().await.unwrap_err();
    assert!(matches!(error, Error::SignInRequired { .. }), "{error:?}");
    assert!(
        f.stored().await.refresh_token().is_none(),
        "the refused refresh token is forgotten"
    );
    f.assert_clean(&format!("{error:?} {error}"));
}

#[tokio::test]
async fn invalidate_forces_a_refresh_and_the_rejected_token_is_not_reused() {
    let f = Fixture::new().await;
    let first = f.manager.access_token().await.unwrap();
    f.manager.invalidate();
    assert_eq!(
        f.token().await,
        "at-2-secret",
        "the store still held at-1 but it was rejected"
    );
    assert_eq!(f.state.count("refresh_token"), 1);
    // A late 401 for the old token does not throw away the new one.
    f.manager.invalidate_token(&first);
    assert_eq!(f.token().await, "at-2-secret");
    assert_eq!(f.state.requests(), 2);
}

#[tokio::test]
async fn managers_sharing_a_store_refresh_once_between_them() {
    let f = Fixture::new().await;
    let other = f.second_manager();
    f.token().await;
    assert_eq!(
        other.access_token().await.unwrap().expose_secret(),
        "at-1-secret",
        "the other manager found the tokens in the store"
    );
    f.clock.advance(Duration::hours(2));
    let (mine, theirs) = tokio::join!(f.manager.access_token(), other.access_token());
    assert_eq!(mine.unwrap().expose_secret(), "at-2-secret");
    assert_eq!(theirs.unwrap().expose_secret(), "at-2-secret");
    assert_eq!(f.state.requests(), 2, "one sign-in and one refresh in all");
    assert_eq!(f.state.presented(), ["rt-1-secret"]);
}

#[tokio::test]
async fn a_save_that_fails_after_a_rotation_is_a_loud_error_and_the_set_stays_in_memory() {
    let f = Fixture::new().await;
    f.token().await;

    f.store.fail_saves.store(true, Ordering::SeqCst);
    f.clock.advance(Duration::hours(2));
    let error = f.manager.access_token().await.unwrap_err();
    assert!(matches!(error, Error::UnsavedRotation { .. }), "{error:?}");
    assert!(!error.is_retryable());
    f.assert_clean(&format!("{error:?} {error}"));

    // The rotated set is kept: served from memory, and its refresh token is the one used next.
    assert_eq!(f.token().await, "at-2-secret");
    f.store.fail_saves.store(false, Ordering::SeqCst);
    f.clock.advance(Duration::hours(2));
    assert_eq!(f.token().await, "at-3-secret");
    assert_eq!(f.state.presented(), ["rt-1-secret", "rt-2-secret"]);
    assert_eq!(
        f.stored().await.refresh_token().unwrap().expose_secret(),
        "rt-3-secret"
    );
}

#[tokio::test]
async fn sign_out_forgets_the_account() {
    let f = Fixture::new().await;
    f.token().await;
    let signed_out = f.manager.sign_out().await.unwrap();
    assert!(matches!(
        signed_out.revocation(),
        authkit_core::revocation::Revocation::NotOffered
    ));
    assert!(stored_in(&f.store, f.manager.account_key()).await.is_none());
    assert_eq!(
        f.store.removals.load(Ordering::SeqCst),
        1,
        "removed through the hold"
    );
    assert!(f.manager.cached_access_token().is_none());
    f.token().await;
    assert_eq!(f.state.count("password"), 2);
}

#[tokio::test]
async fn the_refresh_policy_is_configurable() {
    let f = Fixture::new().await;
    let policy = RefreshPolicy {
        refresh_margin: StdDuration::from_secs(30 * 60),
        refresh_jitter: StdDuration::ZERO,
        ..RefreshPolicy::default()
    };
    let manager = Fixture::manager(&f.server, &f.clock, PASSWORD, MemoryStore::new(), policy);
    manager.access_token().await.unwrap();
    f.clock.advance(Duration::minutes(29));
    manager.access_token().await.unwrap();
    tokio::time::sleep(StdDuration::from_millis(50)).await;
    assert_eq!(f.state.requests(), 1);
    f.clock.advance(Duration::minutes(2));
    manager.access_token().await.unwrap();
    for _ in 0..200 {
        if f.state.requests() >= 2 {
            break;
        }
        tokio::time::sleep(StdDuration::from_millis(10)).await;
    }
    assert_eq!(
        f.state.count("refresh_token"),
        1,
        "inside the 30-minute window a refresh starts"
    );
}

#[tokio::test]
async fn tokens_from_a_browser_sign_in_are_saved_and_served() {
    let f = Fixture::new().await;
    // Tokens obtained outside the manager (here: straight from the provider).
    let seeded = Fixture::provider(&f.server, &f.clock, PASSWORD)
        .authenticate(&authkit_core::endpoint::RequestContext::new(Arc::new(
            f.clock.clone(),
        )))
        .await
        .unwrap();
    let provider = GenericProvider::new("test:alice", Fixture::endpoint(&f.server, &f.clock));
    let manager = TokenManager::builder(provider, f.store.clone())
        .clock(Arc::new(f.clock.clone()))
        .build();
    manager.sign_in_with(seeded).await.unwrap();
    assert_eq!(
        f.stored().await.access_token().expose_secret(),
        "at-1-secret",
        "saved under the lock"
    );
    assert_eq!(
        manager.access_token().await.unwrap().expose_secret(),
        "at-1-secret"
    );
    assert_eq!(f.state.requests(), 1, "served without another request");
}

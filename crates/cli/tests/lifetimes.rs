//! Lifetimes at the edge of what a number can hold: a server that says a
//! token lives for `i64::MAX / 1000` or `i64::MAX` seconds gets its token
//! cached and served (the lifetime clamped to ten years), not a new token
//! request on the next call.

mod support;

use serde_json::json;
use support::{authkit, expire, run, stderr, stdout};
use wiremock::matchers::{body_string_contains, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

/// `i64::MAX / 1000`: the largest number of seconds whose milliseconds fit in an i64.
const HUGE_MILLIS_SAFE: i64 = i64::MAX / 1000;

fn tokens(access: &str, refresh: &str, expires_in: i64) -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_json(json!({
        "access_token": access,
        "token_type": "Bearer",
        "expires_in": expires_in,
        "refresh_token": refresh,
    }))
}

fn voipex_token(store: &std::path::Path, server: &MockServer) -> std::process::Command {
    let mut command = authkit(store);
    command
        .args([
            "token",
            "voipex",
            "--username",
            "me@example.com",
            "--token-url",
        ])
        .arg(format!("{}/token", server.uri()))
        .env("AUTHKIT_PASSWORD", "pw");
    command
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sign_in_that_lives_for_i64_max_millis_is_served_from_the_store() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/token"))
        .and(body_string_contains("grant_type=password"))
        .respond_with(tokens("at-huge", "rt-1", HUGE_MILLIS_SAFE))
        .expect(1)
        .mount(&server)
        .await;
    let dir = tempfile::tempdir().unwrap();

    for call in 0..3 {
        let output = run(voipex_token(dir.path(), &server)).await;
        assert!(output.status.success(), "call {call}: {}", stderr(&output));
        assert_eq!(stdout(&output).trim_end(), "at-huge", "call {call}");
    }
    // `expect(1)`: the later calls were served from the store.
    server.verify().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refresh_that_lives_for_i64_max_seconds_is_served_from_the_store() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/token"))
        .and(body_string_contains("grant_type=password"))
        .respond_with(tokens("at-1", "rt-1", 300))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/token"))
        .and(body_string_contains("grant_type=refresh_token"))
        .respond_with(tokens("at-huge", "rt-2", i64::MAX))
        .expect(1)
        .mount(&server)
        .await;
    let dir = tempfile::tempdir().unwrap();

    let output = run(voipex_token(dir.path(), &server)).await;
    assert!(output.status.success(), "{}", stderr(&output));
    assert_eq!(stdout(&output).trim_end(), "at-1");
    expire(dir.path(), "voipex:me@example.com").await;

    for call in 0..3 {
        let output = run(voipex_token(dir.path(), &server)).await;
        assert!(output.status.success(), "call {call}: {}", stderr(&output));
        assert_eq!(stdout(&output).trim_end(), "at-huge", "call {call}");
    }
    // One refresh, then the refreshed token from the store.
    server.verify().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_json_output_of_a_huge_lifetime_says_ten_years() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/token"))
        .respond_with(tokens("at-huge", "rt-1", i64::MAX))
        .expect(1)
        .mount(&server)
        .await;
    let dir = tempfile::tempdir().unwrap();

    let mut command = voipex_token(dir.path(), &server);
    command.arg("--json");
    let output = run(command).await;
    assert!(output.status.success(), "{}", stderr(&output));
    let printed: serde_json::Value = serde_json::from_str(&stdout(&output)).expect("JSON");
    let expires_in = printed["expires_in"].as_i64().expect("expires_in");
    let ten_years = 10 * 365 * 24 * 3600;
    assert!(
        (ten_years - 60..=ten_years).contains(&expires_in),
        "clamped to ten years: {expires_in}"
    );
    assert_eq!(printed["expiry_estimated"], false);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn huge_lifetimes_as_text_with_a_huge_refresh_lifetime_in_a_sealed_store_are_served() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/token"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "access_token": "at-huge",
            "token_type": "bearer",
            "expires_in": "9223372036854775807",
            "refresh_expires_in": i64::MAX,
            "refresh_token": "rt-1",
        })))
        .expect(1)
        .mount(&server)
        .await;
    let dir = tempfile::tempdir().unwrap();
    let key = "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=";
    for call in 0..2 {
        let mut command = voipex_token(dir.path(), &server);
        command.env("AUTHKIT_STORE_KEY", key);
        let output = run(command).await;
        assert!(output.status.success(), "call {call}: {}", stderr(&output));
        assert_eq!(stdout(&output).trim_end(), "at-huge", "call {call}");
    }
    server.verify().await;
}

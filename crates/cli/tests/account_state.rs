//! A refresh refused because the account is locked, disabled or not set up
//! stops there: the command reports the account's state and exits 3, and
//! the stored password is not sent again (to a locked account, another
//! password attempt only extends the lockout).

mod support;

use serde_json::json;
use support::{authkit, expire, run, stderr, stdout};
use wiremock::matchers::{body_string_contains, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

fn tokens() -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_json(json!({
        "access_token": "at-1",
        "token_type": "Bearer",
        "expires_in": 300,
        "refresh_token": "rt-1",
    }))
}

fn refused(description: &str) -> ResponseTemplate {
    ResponseTemplate::new(400).set_body_json(json!({
        "error": "invalid_grant",
        "error_description": description,
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

/// Signs in, makes the token look expired, and has the server refuse the
/// refresh with `description`; the password grant would succeed, so a
/// command that falls back to it exits 0. The server expects
/// `password_grants` password grants in all.
async fn refresh_refused_with(
    description: &str,
    password_grants: u64,
) -> (std::process::Output, MockServer) {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/token"))
        .and(body_string_contains("grant_type=password"))
        .respond_with(tokens())
        .expect(password_grants)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/token"))
        .and(body_string_contains("grant_type=refresh_token"))
        .respond_with(refused(description))
        .expect(1)
        .mount(&server)
        .await;
    let dir = tempfile::tempdir().unwrap();
    let output = run(voipex_token(dir.path(), &server)).await;
    assert!(output.status.success(), "{}", stderr(&output));
    expire(dir.path(), "voipex:me@example.com").await;
    let output = run(voipex_token(dir.path(), &server)).await;
    (output, server)
}

async fn assert_stops_with(description: &str, state: &str) {
    let (output, server) = refresh_refused_with(description, 1).await;
    assert_eq!(
        output.status.code(),
        Some(3),
        "{description}: refused, not signed in again; stdout {:?}, stderr {}",
        stdout(&output),
        stderr(&output)
    );
    assert!(stdout(&output).is_empty(), "no token printed");
    assert!(
        stderr(&output).contains(state),
        "{description}: the account's state is reported: {}",
        stderr(&output)
    );
    // `expect(1)` on the password grant: it was not sent again.
    server.verify().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keycloak_account_disabled_stops_the_command() {
    // "Account disabled" on a password grant, "User disabled" on a refresh.
    assert_stops_with("Account disabled", "disabled").await;
    assert_stops_with("User disabled", "disabled").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keycloak_account_not_fully_set_up_stops_the_command() {
    assert_stops_with("Account is not fully set up", "not fully set up").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keycloak_user_temporarily_disabled_stops_the_command() {
    // Keycloak's brute-force protection: locked after failed sign-ins.
    assert_stops_with("User is temporarily disabled", "locked").await;
    assert_stops_with("User temporarily disabled", "locked").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wso2_style_locked_and_disabled_users_stop_the_command() {
    assert_stops_with("User account is locked", "locked").await;
    assert_stops_with("User is disabled", "disabled").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dead_refresh_token_still_signs_in_again() {
    // The contrast: a refresh token that merely ended is answered with the
    // password grant, and the command prints the new token.
    let (output, server) = refresh_refused_with("Token is not active", 2).await;
    assert!(output.status.success(), "{}", stderr(&output));
    assert_eq!(stdout(&output).trim_end(), "at-1");
    server.verify().await;
}

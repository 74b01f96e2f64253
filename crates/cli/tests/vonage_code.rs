//! A Vonage browser sign-in, end to end in the command: after `authkit
//! login vonage` completes its code exchange, `authkit token vonage` for
//! the same application finds the stored tokens (the account key that
//! login stores under is the one token looks up), whether or not either
//! names scopes, and without sending a token request while they are fresh.

mod support;

use authkit_core::AccessToken;
use authkit_testkit::MockAuthServer;
use support::{authkit, run, sign_in_through_the_browser, stderr, stdout};

const SECRET: &str = "consumer:secret%";

fn free_redirect() -> String {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    format!("http://127.0.0.1:{port}/callback")
}

async fn vonage_server(redirect_uri: &str) -> MockAuthServer {
    support::vonage_server(redirect_uri, "pw", SECRET).await
}

/// `authkit login vonage` for the application, at `server`, catching the
/// redirect at `redirect`, with `scope` when given.
fn login(
    store: &std::path::Path,
    server: &MockAuthServer,
    redirect: &str,
    scope: Option<&str>,
) -> std::process::Command {
    let mut login = authkit(store);
    login
        .args(["login", "vonage", "--client-id", "consumer-key"])
        .args(["--redirect-uri", redirect, "--base-url", &server.base_url()])
        .args(["--no-browser", "--timeout", "30"])
        .env("AUTHKIT_CLIENT_SECRET", SECRET);
    if let Some(scope) = scope {
        login.args(["--scope", scope]);
    }
    login
}

/// Signs in with `login vonage` (plus `login_scope`), then asks for a token
/// with `token vonage` (plus `token_scope`): the token printed is the one
/// the sign-in stored, and no further token request is made.
async fn signs_in_then_serves(login_scope: Option<&str>, token_scope: Option<&str>) {
    let redirect = free_redirect();
    let server = vonage_server(&redirect).await;
    let dir = tempfile::tempdir().unwrap();

    let signed_in =
        sign_in_through_the_browser(login(dir.path(), &server, &redirect, login_scope)).await;
    assert!(signed_in.success, "login: {}", signed_in.stderr);
    let requests_after_login = server.log().count("authorization_code");
    assert_eq!(requests_after_login, 1, "one code exchange");

    let mut token = authkit(dir.path());
    token.args(["token", "vonage", "--client-id", "consumer-key"]);
    token.args(["--base-url", &server.base_url()]);
    if let Some(scope) = token_scope {
        token.args(["--scope", scope]);
    }
    let output = run(token).await;
    assert!(
        output.status.success(),
        "login {login_scope:?}, token {token_scope:?}: {}",
        stderr(&output)
    );
    let printed = AccessToken::new(stdout(&output).trim_end());
    assert!(server.is_access_token_active(&printed));
    assert_eq!(
        server.log().count("refresh_token") + server.log().count("password"),
        0,
        "login {login_scope:?}, token {token_scope:?}: served from the store"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_browser_sign_in_without_scopes_serves_token() {
    signs_in_then_serves(None, None).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_browser_sign_in_with_scopes_serves_token_without_them() {
    signs_in_then_serves(Some("openid profile"), None).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_browser_sign_in_with_scopes_serves_token_with_the_same_scopes() {
    signs_in_then_serves(Some("openid profile"), Some("profile openid")).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_browser_sign_in_without_scopes_serves_token_asking_the_default_scope() {
    // Vonage's default scope is `openid`: naming it asks for nothing new.
    signs_in_then_serves(None, Some("openid")).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wider_scope_for_a_browser_account_says_which_sign_in_to_run() {
    let redirect = free_redirect();
    let server = vonage_server(&redirect).await;
    let dir = tempfile::tempdir().unwrap();
    let signed_in = sign_in_through_the_browser(login(dir.path(), &server, &redirect, None)).await;
    assert!(signed_in.success, "login: {}", signed_in.stderr);

    let mut wider = authkit(dir.path());
    wider
        .args(["token", "vonage", "--client-id", "consumer-key"])
        .args([
            "--base-url",
            &server.base_url(),
            "--scope",
            "openid contacts",
        ])
        .env("AUTHKIT_CLIENT_SECRET", SECRET);
    let output = run(wider).await;
    let message = stderr(&output);
    assert_eq!(
        output.status.code(),
        Some(3),
        "a person must sign in: {message}"
    );
    assert!(stdout(&output).is_empty(), "never the old token");
    assert!(
        message.contains("authkit login vonage --client-id consumer-key")
            && message.contains("--scope 'openid contacts'"),
        "says what to run: {message}"
    );
    assert_eq!(
        server.log().count("refresh_token"),
        0,
        "no refresh to widen"
    );
}

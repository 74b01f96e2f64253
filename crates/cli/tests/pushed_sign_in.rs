//! `authkit login` with pushed authorization requests (RFC 9126): pushed
//! when the server's metadata requires it even though the profile does not
//! ask, a profile that asks without an endpoint told what to give, and a
//! refused push reported as the server's refusal. A wiremock server plays
//! the authorization server; `browser.rs` signs in through a pushed request
//! at a real one.

mod support;

use std::path::Path;

use support::{authkit, run, stderr};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

const REQUEST_URI: &str = "urn:ietf:params:oauth:request_uri:cli-test-0001";

/// An issuer whose metadata names a pushed authorization request endpoint,
/// requiring it for every client when `required`.
async fn issuer(required: bool) -> MockServer {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/.well-known/openid-configuration"))
        .respond_with(ResponseTemplate::new(200).set_body_json(serde_json::json!({
            "issuer": server.uri(),
            "authorization_endpoint": format!("{}/authorize", server.uri()),
            "token_endpoint": format!("{}/token", server.uri()),
            "pushed_authorization_request_endpoint": format!("{}/par", server.uri()),
            "require_pushed_authorization_requests": required,
        })))
        .mount(&server)
        .await;
    server
}

fn add_profile(store: &Path, server: &MockServer, extra: &[&str]) {
    let mut command = authkit(store);
    command
        .args(["profile", "add", "web", "--grant", "code"])
        .args(["--issuer", &server.uri(), "--client-id", "cli"])
        .args(extra);
    let output = command.output().unwrap();
    assert!(output.status.success(), "{}", stderr(&output));
}

/// Runs `authkit login --profile web --no-browser` with a one-second wait
/// for the browser (nobody opens the URL), and returns the URL it printed
/// and all it said.
async fn printed_sign_in(store: &Path) -> (String, String) {
    let mut command = authkit(store);
    command.args([
        "login",
        "--profile",
        "web",
        "--no-browser",
        "--timeout",
        "1",
    ]);
    let said = stderr(&run(command).await);
    let url = said
        .lines()
        .find_map(|line| {
            line.trim()
                .strip_prefix("http")
                .map(|rest| format!("http{rest}"))
        })
        .unwrap_or_else(|| panic!("no URL in {said}"));
    (url, said)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_that_requires_pushed_requests_gets_them_without_the_profile_asking() {
    let server = issuer(true).await;
    Mock::given(method("POST"))
        .and(path("/par"))
        .respond_with(ResponseTemplate::new(201).set_body_json(serde_json::json!({
            "request_uri": REQUEST_URI, "expires_in": 90,
        })))
        .expect(1)
        .mount(&server)
        .await;
    let store = tempfile::tempdir().unwrap();
    add_profile(store.path(), &server, &[]);
    let (url, printed) = printed_sign_in(store.path()).await;
    let url = url::Url::parse(&url).unwrap();
    let query: Vec<(String, String)> = url.query_pairs().into_owned().collect();
    assert_eq!(
        query,
        [
            ("client_id".to_owned(), "cli".to_owned()),
            ("request_uri".to_owned(), REQUEST_URI.to_owned())
        ]
    );
    assert!(
        printed.contains("pushed to the server and works for"),
        "{printed}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_that_only_offers_pushed_requests_gets_them_when_the_profile_asks() {
    for (asks, pushed) in [(false, 0), (true, 1)] {
        let server = issuer(false).await;
        Mock::given(method("POST"))
            .and(path("/par"))
            .respond_with(ResponseTemplate::new(201).set_body_json(serde_json::json!({
                "request_uri": REQUEST_URI, "expires_in": 60,
            })))
            .expect(pushed)
            .mount(&server)
            .await;
        let store = tempfile::tempdir().unwrap();
        add_profile(store.path(), &server, if asks { &["--par"] } else { &[] });
        let (url, _) = printed_sign_in(store.path()).await;
        assert_eq!(url.contains("request_uri="), asks, "{url}");
        assert_eq!(url.contains("code_challenge="), !asks, "{url}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_profile_that_asks_to_push_with_no_endpoint_is_told_what_to_give() {
    let store = tempfile::tempdir().unwrap();
    let mut add = authkit(store.path());
    add.args(["profile", "add", "web", "--grant", "code", "--par"])
        .args(["--authorize-url", "http://127.0.0.1:9/authorize"])
        .args(["--token-url", "http://127.0.0.1:9/token"])
        .args(["--client-id", "cli"]);
    assert!(add.output().unwrap().status.success());
    let mut login = authkit(store.path());
    login.args([
        "login",
        "--profile",
        "web",
        "--no-browser",
        "--timeout",
        "5",
    ]);
    let output = run(login).await;
    assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
    let said = stderr(&output);
    assert!(said.contains("par_url"), "{said}");
    assert!(said.contains("RFC 9126"), "{said}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_push_is_reported_as_the_servers_refusal() {
    let server = issuer(true).await;
    Mock::given(method("POST"))
        .and(path("/par"))
        .respond_with(ResponseTemplate::new(400).set_body_json(serde_json::json!({
            "error": "invalid_redirect_uri",
            "error_description": "the redirect_uri is not registered for this client",
        })))
        .mount(&server)
        .await;
    let store = tempfile::tempdir().unwrap();
    add_profile(store.path(), &server, &[]);
    let mut login = authkit(store.path());
    login.args([
        "login",
        "--profile",
        "web",
        "--no-browser",
        "--timeout",
        "5",
    ]);
    let output = run(login).await;
    assert_eq!(output.status.code(), Some(3), "{}", stderr(&output));
    let said = stderr(&output);
    assert!(said.contains("not registered for this client"), "{said}");
    assert!(!said.contains("Open this URL"), "no URL is offered: {said}");
}

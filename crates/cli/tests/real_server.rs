//! The `authkit` binary against a real, OpenID Certified authorization
//! server (panva's oidc-provider, started by the testkit on 127.0.0.1):
//! profiles that discover the server from its issuer, device sign-in
//! driven by the test playing the person, `--json`, and a logout that the
//! server sees (it no longer knows the refresh token).
//!
//! Without Node.js or the server's modules the tests say SKIPPED; with
//! `AUTHKIT_REQUIRE_REAL_SERVERS=1` (as in CI) they fail instead.

mod support;

use std::io::{BufRead, BufReader};
use std::process::Stdio;

use authkit_core::ExposeSecret;
use authkit_core::revocation::TokenTypeHint;
use authkit_store_file::FileStore;
use authkit_testkit::oidc_provider::{OidcProvider, introspect};

use support::{authkit, run, stderr, stdout};

/// The refresh token stored for the one account whose key starts with `readable#`.
async fn stored_refresh_token(store: &std::path::Path, readable: &str) -> String {
    let (_, _, set) = support::stored_account(store, readable).await;
    set.refresh_token()
        .expect("a refresh token")
        .expose_secret()
        .to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn device_sign_in_by_profile_then_json_tokens_then_a_logout_the_server_sees() {
    let Some(server) = OidcProvider::start() else {
        return;
    };
    let dir = tempfile::tempdir().expect("a temporary directory");
    let store = dir.path().join("tokens");
    let mut add = authkit(&store);
    add.args(["profile", "add", "dev", "--grant", "device"])
        .args(["--issuer", server.issuer()])
        .args(["--client-id", "authkit-device"])
        .args(["--scope", "openid offline_access"]);
    let added = run(add).await;
    assert!(added.status.success(), "{}", stderr(&added));

    // `login --device` prints the code and where to enter it, and waits;
    // the test plays the person on the verification page.
    let mut login = authkit(&store);
    login
        .args(["login", "--profile", "dev", "--device", "--timeout", "60"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = login.spawn().expect("authkit login");
    let mut lines = BufReader::new(child.stderr.take().expect("stderr")).lines();
    let mut printed = Vec::new();
    let complete = loop {
        let line = lines
            .next()
            .expect("authkit login ended before printing the code")
            .expect("a line");
        printed.push(line.clone());
        if let Some(rest) = line.strip_prefix("(or open ") {
            break rest.trim_end_matches(')').to_owned();
        }
    };
    let said = printed.join("\n");
    assert!(said.contains("enter the code: "), "{said}");
    assert!(said.contains(&server.url("/device")), "{said}");
    let rest = std::thread::spawn(move || lines.map_while(Result::ok).collect::<Vec<_>>());
    let page = server.approve_device(&complete, "dana", true).await;
    assert!(!page.is_empty());
    let status = tokio::task::spawn_blocking(move || child.wait().expect("login ends"))
        .await
        .expect("joined");
    let rest = rest.join().expect("stderr read").join("\n");
    assert!(status.success(), "login failed: {rest}");
    assert!(rest.contains("Signed in: dev:authkit-device#"), "{rest}");

    // `token --json` for the profile: served from the store, the shape a
    // script relies on.
    let mut token = authkit(&store);
    token.args(["token", "--profile", "dev", "--json"]);
    let token = run(token).await;
    assert!(token.status.success(), "{}", stderr(&token));
    let json: serde_json::Value = serde_json::from_str(&stdout(&token)).expect("JSON");
    let access = json["access_token"].as_str().expect("access_token");
    assert!(!access.is_empty());
    assert!(
        json["token_type"]
            .as_str()
            .is_some_and(|t| t.eq_ignore_ascii_case("bearer"))
    );
    assert!(
        json["expires_in"].as_i64().is_some_and(|s| s > 3000),
        "{json}"
    );
    assert!(
        time::OffsetDateTime::parse(
            json["expires_at"].as_str().expect("expires_at"),
            &time::format_description::well_known::Rfc3339
        )
        .is_ok(),
        "{json}"
    );
    assert_eq!(json["expiry_estimated"], serde_json::json!(false));
    assert!(
        json["account"]
            .as_str()
            .is_some_and(|a| a.starts_with("dev:authkit-device#")),
        "{json}"
    );
    assert!(
        json["scopes"].as_array().is_some_and(|s| !s.is_empty()),
        "{json}"
    );

    // `logout --profile` revokes at the server, then forgets.
    let refresh = stored_refresh_token(&store, "dev:authkit-device").await;
    let metadata = server.metadata().await;
    assert!(
        introspect(&metadata, &refresh, TokenTypeHint::RefreshToken)
            .await
            .active()
    );
    let mut logout = authkit(&store);
    logout.args(["logout", "--profile", "dev"]);
    let logout = run(logout).await;
    assert!(logout.status.success(), "{}", stderr(&logout));
    assert!(
        stderr(&logout).contains("the server revoked its tokens"),
        "{}",
        stderr(&logout)
    );
    assert!(
        !introspect(&metadata, &refresh, TokenTypeHint::RefreshToken)
            .await
            .active(),
        "the server still knows the refresh token"
    );
    assert!(
        FileStore::open(&store)
            .expect("the store")
            .keys()
            .await
            .expect("keys")
            .is_empty()
    );
    assert!(
        std::fs::read_dir(store.join("accounts"))
            .expect("the records directory")
            .next()
            .is_none(),
        "the record is removed too"
    );
    // Nothing any command printed holds the refresh token.
    for text in [said, rest, stdout(&token), stderr(&token), stderr(&logout)] {
        assert!(!text.contains(&refresh), "the refresh token leaked");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_credentials_profile_discovers_its_server_and_signs_in_on_first_token() {
    let Some(server) = OidcProvider::start() else {
        return;
    };
    let dir = tempfile::tempdir().expect("a temporary directory");
    let store = dir.path().join("tokens");
    let mut add = authkit(&store);
    add.args(["profile", "add", "ci", "--grant", "client-credentials"])
        .args(["--issuer", server.issuer()])
        .args(["--client-id", "authkit-post", "--client-auth", "post"])
        .args(["--resource", OidcProvider::API, "--scope", "api:read"]);
    assert!(run(add).await.status.success());

    let mut token = authkit(&store);
    token
        .args(["--verbose", "token", "--profile", "ci"])
        .env("RUST_LOG", "trace")
        .env("AUTHKIT_CLIENT_SECRET", OidcProvider::CLIENT_SECRET);
    let token = run(token).await;
    assert!(token.status.success(), "{}", stderr(&token));
    let access = stdout(&token).trim().to_owned();
    let seen = introspect(
        &*server.metadata().await,
        &access,
        TokenTypeHint::AccessToken,
    )
    .await;
    assert!(seen.active());
    assert_eq!(seen.client_id(), Some("authkit-post"));
    assert_eq!(seen.audiences(), vec![OidcProvider::API]);
    assert!(!stderr(&token).contains(OidcProvider::CLIENT_SECRET));
    assert!(!stderr(&token).contains(&access));

    // The record keeps the discovered endpoints: the next call needs
    // neither the profile's issuer nor a discovery request, and serves the
    // stored token.
    let mut again = authkit(&store);
    again
        .args(["token", "--account", "ci:authkit-post"])
        .env("AUTHKIT_CLIENT_SECRET", OidcProvider::CLIENT_SECRET);
    let again = run(again).await;
    assert!(again.status.success(), "{}", stderr(&again));
    assert_eq!(stdout(&again).trim(), access);

    // A token URL that is not one: exit 2, and the message names the URL.
    let mut wrong = authkit(&store);
    wrong
        .args(["profile", "add", "wrong", "--grant", "client-credentials"])
        .args(["--token-url", &server.url("/no-such-endpoint")])
        .args(["--client-id", "authkit-post", "--client-auth", "post"]);
    assert!(run(wrong).await.status.success());
    let mut call = authkit(&store);
    call.args(["token", "--profile", "wrong"])
        .env("AUTHKIT_CLIENT_SECRET", OidcProvider::CLIENT_SECRET);
    let call = run(call).await;
    let message = stderr(&call);
    assert_eq!(call.status.code(), Some(2), "{message}");
    assert!(message.contains("/no-such-endpoint"), "{message}");
    assert!(message.contains("check"), "{message}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ctrl_c_while_a_device_sign_in_waits_cancels_it_and_stores_nothing() {
    let Some(server) = OidcProvider::start() else {
        return;
    };
    let dir = tempfile::tempdir().expect("a temporary directory");
    let store = dir.path().join("tokens");
    let mut add = authkit(&store);
    add.args(["profile", "add", "dev", "--grant", "device"])
        .args(["--issuer", server.issuer()])
        .args(["--client-id", "authkit-device"]);
    assert!(run(add).await.status.success());
    let mut login = authkit(&store);
    login
        .args(["login", "--device", "--timeout", "60"])
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    let mut child = login.spawn().expect("authkit login");
    let mut lines = BufReader::new(child.stderr.take().expect("stderr")).lines();
    while let Some(Ok(line)) = lines.next() {
        if line.starts_with("(or open ") {
            break;
        }
    }
    let interrupted = std::process::Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .expect("kill");
    assert!(interrupted.success());
    let rest = std::thread::spawn(move || lines.map_while(Result::ok).collect::<Vec<_>>());
    let status = tokio::task::spawn_blocking(move || child.wait().expect("login ends"))
        .await
        .expect("joined");
    let rest = rest.join().expect("stderr read").join("\n");
    assert_eq!(status.code(), Some(130), "{rest}");
    assert!(rest.contains("cancelled"), "{rest}");
    assert!(
        FileStore::open(&store)
            .expect("the store")
            .keys()
            .await
            .expect("keys")
            .is_empty()
    );
}

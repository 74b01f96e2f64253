//! The `authkit` binary end to end, against the testkit's mock server on
//! 127.0.0.1: what scripts see on stdout, stderr and in the exit code.

mod support;

use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};

use support::{authkit, expire, run, sign_in_through_the_browser, stderr, stdout};

use authkit_core::{AccessToken, TokenSet};
use authkit_store_file::FileStore;
use authkit_testkit::support::save;
use authkit_testkit::{Fault, MockAuthServer, MockClient, ResponseStyle};
use time::OffsetDateTime;

const PASSWORD: &str = "correct horse & battery+staple";
const SECRET: &str = "consumer:secret%";

async fn keycloak() -> MockAuthServer {
    MockAuthServer::builder()
        .style(ResponseStyle::Keycloak)
        .invalid_grant_status(401)
        .user("me@example.com", PASSWORD)
        .client(MockClient::public("api"))
        .start()
        .await
}

fn voipex_token(store: &Path, server: &MockAuthServer) -> Command {
    let mut command = authkit(store);
    command.args([
        "token",
        "voipex",
        "--username",
        "me@example.com",
        "--base-url",
        &server.base_url(),
    ]);
    command
}

fn assert_no_secrets(text: &str, server: &MockAuthServer, except: Option<&str>) {
    for secret in server
        .all_secrets()
        .iter()
        .map(String::as_str)
        .chain([PASSWORD, SECRET])
    {
        if Some(secret) != except {
            assert!(!text.contains(secret), "a secret leaked into: {text}");
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn signs_in_once_then_serves_from_the_store_then_refreshes() {
    let server = keycloak().await;
    let dir = tempfile::tempdir().unwrap();

    let mut first = voipex_token(dir.path(), &server);
    first.env("AUTHKIT_PASSWORD", PASSWORD).arg("--verbose");
    let output = run(first).await;
    assert!(output.status.success(), "{}", stderr(&output));
    let token = stdout(&output);
    assert!(
        token.ends_with('\n') && token.lines().count() == 1,
        "only the token and a newline: {token:?}"
    );
    let token = token.trim_end().to_owned();
    assert!(server.is_access_token_active(&AccessToken::new(token.clone())));
    assert_no_secrets(&stderr(&output), &server, None);

    // No password this time: the store holds a usable token, so none is asked for.
    let output = run(voipex_token(dir.path(), &server)).await;
    assert!(output.status.success(), "{}", stderr(&output));
    assert_eq!(stdout(&output).trim_end(), token);
    assert_eq!(
        server.log().len(),
        1,
        "served from the store with no request"
    );

    expire(dir.path(), "voipex:me@example.com").await;
    let mut refresh = voipex_token(dir.path(), &server);
    refresh.arg("--verbose");
    let output = run(refresh).await;
    assert!(output.status.success(), "{}", stderr(&output));
    let refreshed = stdout(&output).trim_end().to_owned();
    assert_ne!(refreshed, token);
    assert!(server.is_access_token_active(&AccessToken::new(refreshed.clone())));
    let log = server.log();
    assert_eq!((log.count("password"), log.count("refresh_token")), (1, 1));
    assert_no_secrets(&stderr(&output), &server, None);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_password_can_come_from_stdin() {
    let server = keycloak().await;
    let dir = tempfile::tempdir().unwrap();
    let mut command = voipex_token(dir.path(), &server);
    command
        .arg("--password-stdin")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let output = tokio::task::spawn_blocking(move || {
        let mut child = command.spawn().unwrap();
        child
            .stdin
            .take()
            .unwrap()
            .write_all(format!("{PASSWORD}\n").as_bytes())
            .unwrap();
        child.wait_with_output().unwrap()
    })
    .await
    .unwrap();
    assert!(output.status.success(), "{}", stderr(&output));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_failure_class_has_its_exit_code_and_one_line() {
    let server = keycloak().await;
    let dir = tempfile::tempdir().unwrap();

    // 3: the server refused.
    let mut wrong = voipex_token(dir.path(), &server);
    wrong.env("AUTHKIT_PASSWORD", "wrong password");
    let output = run(wrong).await;
    assert_eq!(output.status.code(), Some(3));
    let message = stderr(&output);
    assert_eq!(message.lines().count(), 1, "{message}");
    assert!(
        message.contains("invalid_grant") && message.contains("Invalid user credentials"),
        "{message}"
    );
    assert!(stdout(&output).is_empty());
    assert!(!message.contains("wrong password"));
    assert!(
        message.contains("check --username"),
        "no next step: {message}"
    );

    // 2: configuration (no password available, stdin not a terminal), usage, plain http.
    let output = run(voipex_token(dir.path(), &server)).await;
    assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
    assert!(stderr(&output).contains("AUTHKIT_PASSWORD"));
    let mut usage = authkit(dir.path());
    usage.args(["token", "voipex"]);
    assert_eq!(run(usage).await.status.code(), Some(2));
    let mut insecure = authkit(dir.path());
    insecure.args([
        "token",
        "voipex",
        "--username",
        "u",
        "--base-url",
        "http://auth.example.com",
    ]);
    assert_eq!(run(insecure).await.status.code(), Some(2));
    // A URL that is not a token endpoint (an HTML 404): fix the command, not "retry later".
    let mut wrong_path = authkit(dir.path());
    wrong_path
        .args([
            "token",
            "voipex",
            "--username",
            "me@example.com",
            "--token-url",
            &format!("{}/no/such/path", server.base_url()),
        ])
        .env("AUTHKIT_PASSWORD", PASSWORD);
    let output = run(wrong_path).await;
    assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
    assert!(
        stderr(&output).contains("not a token endpoint"),
        "{}",
        stderr(&output)
    );
    assert!(
        stderr(&output).contains("check --base-url or --token-url"),
        "no next step: {}",
        stderr(&output)
    );

    // 4: the server failed, or nobody listens.
    server.inject_n(Fault::ServerError(503), 10);
    let mut failing = voipex_token(dir.path(), &server);
    failing.env("AUTHKIT_PASSWORD", PASSWORD);
    let output = run(failing).await;
    assert_eq!(output.status.code(), Some(4), "{}", stderr(&output));
    assert!(stderr(&output).contains("503"));
    assert!(stderr(&output).contains("trying again later may work"));
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut dead = authkit(dir.path());
    dead.args([
        "token",
        "voipex",
        "--username",
        "u",
        "--base-url",
        &format!("http://127.0.0.1:{port}"),
    ])
    .env("AUTHKIT_PASSWORD", PASSWORD);
    assert_eq!(run(dead).await.status.code(), Some(4));

    // 5: the store cannot be used.
    let file = dir.path().join("a-file");
    std::fs::write(&file, b"not a directory").unwrap();
    let mut broken = authkit(&file);
    broken.args(["status"]);
    assert_eq!(run(broken).await.status.code(), Some(5));
}

async fn vonage_server(redirect_uri: &str) -> MockAuthServer {
    support::vonage_server(redirect_uri, PASSWORD, SECRET).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_vonage_password_account_gets_tokens() {
    let server = vonage_server("http://127.0.0.1:1/unused").await;
    let dir = tempfile::tempdir().unwrap();
    let mut command = authkit(dir.path());
    command
        .args([
            "token",
            "vonage",
            "--username",
            "me",
            "--client-id",
            "consumer-key",
            "--base-url",
            &server.base_url(),
        ])
        .env("AUTHKIT_PASSWORD", PASSWORD)
        .env("AUTHKIT_CLIENT_SECRET", SECRET);
    let output = run(command).await;
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(server.is_access_token_active(&AccessToken::new(stdout(&output).trim_end())));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn browser_sign_in_then_tokens_then_status_then_logout() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let redirect = format!("http://127.0.0.1:{port}/callback");
    let server = vonage_server(&redirect).await;
    let dir = tempfile::tempdir().unwrap();

    let mut login = authkit(dir.path());
    login
        .args([
            "--verbose",
            "login",
            "vonage",
            "--client-id",
            "consumer-key",
            "--redirect-uri",
            &redirect,
        ])
        .args([
            "--base-url",
            &server.base_url(),
            "--no-browser",
            "--timeout",
            "30",
        ])
        .env("AUTHKIT_CLIENT_SECRET", SECRET);
    let signed_in = sign_in_through_the_browser(login).await;
    let (page, login_stderr) = (signed_in.page, signed_in.stderr);
    assert!(page.contains("You are signed in as"), "{page}");
    assert!(page.contains("vonage:consumer-key:default#"), "{page}");
    assert!(signed_in.success, "{login_stderr}");
    assert!(login_stderr.contains("Signed in: vonage:consumer-key:default"));
    assert_no_secrets(&login_stderr, &server, None);

    // The stored sign-in serves tokens; no secret is needed while they are fresh.
    let mut token = authkit(dir.path());
    token.args([
        "token",
        "vonage",
        "--client-id",
        "consumer-key",
        "--base-url",
        &server.base_url(),
    ]);
    let output = run(token).await;
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(server.is_access_token_active(&AccessToken::new(stdout(&output).trim_end())));

    let mut status = authkit(dir.path());
    status.args(["status", "--json"]);
    let output = run(status).await;
    assert!(output.status.success());
    let report: serde_json::Value = serde_json::from_str(&stdout(&output)).unwrap();
    let accounts = report["accounts"].as_array().unwrap();
    assert_eq!(accounts.len(), 1);
    assert!(
        accounts[0]["key"]
            .as_str()
            .unwrap()
            .starts_with("vonage:consumer-key:default#"),
        "{}",
        accounts[0]["key"]
    );
    assert_eq!(accounts[0]["provider"], "vonage");
    assert!(accounts[0]["access_token_expires_in"].as_i64().unwrap() > 3000);
    assert_eq!(accounts[0]["access_token_expiry_estimated"], false);
    assert!(accounts[0]["refresh_token_expires_in"].as_i64().unwrap() > 6 * 86400);
    assert_no_secrets(&stdout(&output), &server, None);

    // Expired, the refresh needs the consumer secret, and uses the stored refresh token.
    expire(dir.path(), "vonage:consumer-key:default").await;
    let mut refresh = authkit(dir.path());
    refresh
        .args([
            "token",
            "vonage",
            "--client-id",
            "consumer-key",
            "--base-url",
            &server.base_url(),
        ])
        .env("AUTHKIT_CLIENT_SECRET", SECRET);
    let output = run(refresh).await;
    assert!(output.status.success(), "{}", stderr(&output));
    assert_eq!(server.log().count("refresh_token"), 1);

    let mut logout = authkit(dir.path());
    logout.args(["logout", "vonage:consumer-key:default"]);
    assert!(run(logout).await.status.success());
    let mut after = authkit(dir.path());
    after.args([
        "token",
        "vonage",
        "--client-id",
        "consumer-key",
        "--base-url",
        &server.base_url(),
    ]);
    let output = run(after).await;
    assert_eq!(
        output.status.code(),
        Some(3),
        "signed out: a person must sign in again"
    );
    assert!(
        stderr(&output).contains("authkit login vonage"),
        "{}",
        stderr(&output)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_a_store_key_the_token_files_are_sealed() {
    use authkit_core::deps::secrecy::ExposeSecret;
    let server = keycloak().await;
    let dir = tempfile::tempdir().unwrap();
    let key = authkit_core::store::SealingKey::generate("1").unwrap();
    let key = key.to_base64();

    let mut first = voipex_token(dir.path(), &server);
    first
        .env("AUTHKIT_PASSWORD", PASSWORD)
        .env("AUTHKIT_STORE_KEY", key.expose_secret());
    let output = run(first).await;
    assert!(output.status.success(), "{}", stderr(&output));
    let token = stdout(&output).trim_end().to_owned();
    let files: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .filter_map(Result::ok)
        .filter(|e| e.file_name().to_string_lossy().ends_with(".json"))
        .collect();
    assert_eq!(files.len(), 1);
    let on_disk = std::fs::read(files[0].path()).unwrap();
    assert!(on_disk.starts_with(b"AKSEAL1\n"));
    assert!(!String::from_utf8_lossy(&on_disk).contains(&token));

    let mut again = voipex_token(dir.path(), &server);
    again.env("AUTHKIT_STORE_KEY", key.expose_secret());
    let output = run(again).await;
    assert_eq!(
        stdout(&output).trim_end(),
        token,
        "served from the sealed store"
    );

    // Without the key the sealed file is reported and left alone.
    let output = run(voipex_token(dir.path(), &server)).await;
    assert_eq!(output.status.code(), Some(5), "{}", stderr(&output));
    assert!(stderr(&output).contains("sealed"), "{}", stderr(&output));
    assert_eq!(std::fs::read(files[0].path()).unwrap(), on_disk);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn token_json_says_what_a_script_needs_and_force_refresh_gets_a_new_token() {
    let server = keycloak().await;
    let dir = tempfile::tempdir().unwrap();
    let mut first = voipex_token(dir.path(), &server);
    first.env("AUTHKIT_PASSWORD", PASSWORD).arg("--json");
    let output = run(first).await;
    assert!(output.status.success(), "{}", stderr(&output));
    let json: serde_json::Value = serde_json::from_str(stdout(&output).trim()).unwrap();
    let token = json["access_token"].as_str().unwrap().to_owned();
    assert!(server.is_access_token_active(&AccessToken::new(token.clone())));
    assert_eq!(json["token_type"], "Bearer");
    let expires_at = OffsetDateTime::parse(
        json["expires_at"].as_str().unwrap(),
        &time::format_description::well_known::Rfc3339,
    )
    .expect("an RFC 3339 expiry");
    let left = json["expires_in"].as_i64().unwrap();
    assert!(
        left > 3500 && left <= 3600,
        "the server grants an hour: {json}"
    );
    assert!((expires_at - OffsetDateTime::now_utc()).whole_seconds() <= left + 1);
    assert_eq!(json["expiry_estimated"], false);
    assert!(json["scopes"].is_array());
    assert!(
        json["account"]
            .as_str()
            .unwrap()
            .starts_with("voipex:me@example.com#")
    );
    assert_no_secrets(&stdout(&output), &server, Some(&token));

    // The stored token is fresh; --force-refresh still gets a new one, with
    // no password (a refresh).
    let mut again = voipex_token(dir.path(), &server);
    again.arg("--force-refresh");
    let output = run(again).await;
    assert!(output.status.success(), "{}", stderr(&output));
    let fresh = stdout(&output).trim().to_owned();
    assert_ne!(fresh, token);
    assert!(server.is_access_token_active(&AccessToken::new(fresh)));
}

#[tokio::test]
async fn completions_are_generated_for_every_shell() {
    for shell in ["bash", "zsh", "fish", "powershell", "elvish"] {
        let dir = tempfile::tempdir().unwrap();
        let mut command = authkit(dir.path());
        command.args(["completions", shell]);
        let output = run(command).await;
        assert!(output.status.success(), "{shell}: {}", stderr(&output));
        let script = stdout(&output);
        assert!(
            script.contains("authkit") && script.contains("logout"),
            "{shell}"
        );
    }
}

#[tokio::test]
async fn status_is_an_aligned_table_that_marks_estimated_lifetimes() {
    let dir = tempfile::tempdir().unwrap();
    let store = FileStore::open(dir.path()).unwrap();
    let binding = authkit_core::token::Binding::new(
        &url::Url::parse("https://auth.example.com/token").unwrap(),
        authkit_core::ClientId::new("app"),
    );
    let now = OffsetDateTime::now_utc();
    for (name, estimated) in [
        ("example:short", false),
        ("example:a-much-longer-name", true),
    ] {
        let set = TokenSet::new(
            AccessToken::new(format!("at-{name}")),
            now,
            now + time::Duration::minutes(30),
        )
        .with_expiry_estimated(estimated)
        .with_binding(binding.clone());
        save(&store, &binding.account_key(name), &set)
            .await
            .unwrap();
    }
    let mut status = authkit(dir.path());
    status.arg("status");
    let output = run(status).await;
    assert!(output.status.success(), "{}", stderr(&output));
    let table = stdout(&output);
    let lines: Vec<&str> = table.lines().collect();
    let header = lines[0].find("ACCESS TOKEN").unwrap();
    for row in &lines[1..3] {
        let at = row.find("29 min").unwrap();
        let start = if row[..at].ends_with('~') { at - 1 } else { at };
        assert_eq!(start, header, "misaligned:\n{table}");
    }
    let estimated = lines
        .iter()
        .find(|l| l.contains("a-much-longer-name"))
        .unwrap();
    assert!(estimated.contains("~29 min"), "{table}");
    let stated = lines.iter().find(|l| l.contains("example:short")).unwrap();
    assert!(!stated.contains('~'), "{table}");
    assert!(table.contains("did not say how long"), "{table}");
    assert!(!table.contains("at-example"), "a token in the table");
    // The last column names the server that issued each set.
    let server = lines[0].find("SERVER").unwrap();
    for row in &lines[1..3] {
        assert_eq!(
            row.find("auth.example.com"),
            Some(server),
            "misaligned:\n{table}"
        );
    }
}

//! Profiles and account records, end to end against the testkit's mock
//! server on 127.0.0.1: a profile names an account once, the account then
//! remembers its server, and nothing a flag says can send its refresh
//! token anywhere else.

mod support;

use std::path::Path;

use authkit_core::AccessToken;
use authkit_testkit::{MockAuthServer, MockClient};

use support::{authkit, config_path, expire, run, stderr, stdout};

const PASSWORD: &str = "pa55 w0rd & more";
const SECRET: &str = "s3cret-of-the-ci-client";

async fn server() -> MockAuthServer {
    MockAuthServer::builder()
        .user("me@example.com", PASSWORD)
        .client(MockClient::public("cli"))
        .client(MockClient::basic(
            "ci-bot",
            SECRET,
            authkit_core::client_auth::BasicEncoding::FormUrlEncoded,
        ))
        .start()
        .await
}

fn add_password_profile(store: &Path, server: &MockAuthServer) -> std::process::Command {
    let mut add = authkit(store);
    add.args(["profile", "add", "work", "--grant", "password"])
        .args(["--token-url", &server.token_url()])
        .args(["--client-id", "cli", "--username", "me@example.com"])
        .args(["--scope", "openid email"]);
    add
}

/// Adds the password profile `work` and gets its first token (the
/// password from the environment); returns that call's output.
async fn signed_in_through_the_work_profile(
    store: &Path,
    server: &MockAuthServer,
) -> std::process::Output {
    assert!(
        run(add_password_profile(store, server))
            .await
            .status
            .success()
    );
    let mut first = authkit(store);
    first
        .args(["token", "--profile", "work"])
        .env("AUTHKIT_PASSWORD", PASSWORD);
    let first = run(first).await;
    assert!(first.status.success(), "{}", stderr(&first));
    first
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_profile_round_trips_through_add_list_show_default_and_remove() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let store = dir.path().join("tokens");
    let server = server().await;

    let added = run(add_password_profile(&store, &server)).await;
    assert!(added.status.success(), "{}", stderr(&added));
    let mut ci = authkit(&store);
    ci.args(["profile", "add", "ci", "--grant", "client-credentials"])
        .args(["--issuer", "https://login.example.com"])
        .args(["--client-id", "ci-bot", "--client-auth", "basic"]);
    assert!(run(ci).await.status.success());

    // The file is TOML a person can read, with the first profile as default.
    let text = std::fs::read_to_string(config_path(&store)).expect("the profiles file");
    assert!(text.contains("default = \"work\""), "{text}");
    assert!(text.contains("[profiles.work]"), "{text}");
    assert!(text.contains("grant = \"password\""), "{text}");
    assert!(text.contains("client_auth = \"basic\""), "{text}");

    let mut list = authkit(&store);
    list.args(["profile", "list"]);
    let listed = stdout(&run(list).await);
    let lines: Vec<&str> = listed.lines().collect();
    assert_eq!(lines.len(), 3, "{listed}");
    assert!(lines[0].starts_with("  PROFILE"), "{listed}");
    assert!(
        lines[2].starts_with("* work"),
        "the default is marked: {listed}"
    );
    let column = |line: &str| line.find("generic").expect("the kind column");
    assert_eq!(column(lines[1]), column(lines[2]), "aligned: {listed}");
    assert_eq!(lines[0].find("KIND"), Some(column(lines[1])), "{listed}");

    let mut show = authkit(&store);
    show.args(["profile", "show", "ci"]);
    let shown = stdout(&run(show).await);
    assert!(
        shown.contains("issuer = \"https://login.example.com\""),
        "{shown}"
    );
    assert!(shown.contains("client_id = \"ci-bot\""), "{shown}");

    let mut default = authkit(&store);
    default.args(["profile", "default", "ci"]);
    assert!(run(default).await.status.success());
    let text = std::fs::read_to_string(config_path(&store)).expect("the profiles file");
    assert!(text.contains("default = \"ci\""), "{text}");

    let mut remove = authkit(&store);
    remove.args(["profile", "remove", "ci"]);
    assert!(run(remove).await.status.success());
    let mut show = authkit(&store);
    show.args(["profile", "show", "ci"]);
    let missing = run(show).await;
    assert_eq!(missing.status.code(), Some(2));
    assert!(
        stderr(&missing).contains("no profile ci (known: work"),
        "{}",
        stderr(&missing)
    );

    // A profile missing what its kind needs is refused when it is added.
    let mut incomplete = authkit(&store);
    incomplete.args([
        "profile",
        "add",
        "half",
        "--grant",
        "device",
        "--client-id",
        "x",
    ]);
    let refused = run(incomplete).await;
    assert_eq!(refused.status.code(), Some(2));
    assert!(
        stderr(&refused).contains("--issuer"),
        "{}",
        stderr(&refused)
    );
    assert!(server.log().is_empty(), "profile commands send nothing");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_account_signed_in_by_profile_refreshes_against_its_server_with_no_flags() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let store = dir.path().join("tokens");
    let server = server().await;
    let first = signed_in_through_the_work_profile(&store, &server).await;
    assert_eq!(server.log().count("password"), 1);

    // The account's record names the server, never a secret.
    let records: Vec<_> = std::fs::read_dir(store.join("accounts"))
        .expect("the records")
        .map(|e| std::fs::read_to_string(e.expect("an entry").path()).expect("a record"))
        .collect();
    assert_eq!(records.len(), 1);
    assert!(records[0].contains(&server.token_url()), "{}", records[0]);
    assert!(
        records[0].contains("\"profile\": \"work\""),
        "{}",
        records[0]
    );
    assert!(!records[0].contains(PASSWORD));
    for secret in server.all_secrets() {
        assert!(!records[0].contains(&secret), "a secret in the record");
    }

    // Expired: the account alone (no profile, no URL, no password) refreshes
    // against the server that issued its tokens.
    expire(&store, "work:me@example.com").await;
    std::fs::remove_file(config_path(&store)).expect("the profiles file is gone");
    let mut again = authkit(&store);
    again.args(["token", "--account", "work:me@example.com"]);
    let again = run(again).await;
    assert!(again.status.success(), "{}", stderr(&again));
    assert_eq!(server.log().count("refresh_token"), 1);
    assert_eq!(server.log().count("password"), 1, "no second sign-in");
    assert_ne!(stdout(&again), stdout(&first));
    assert!(server.is_access_token_active(&AccessToken::new(stdout(&again).trim())));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_v1_style_call_remembers_its_server_for_the_next_call() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let store = dir.path().join("tokens");
    let server = MockAuthServer::builder()
        .style(authkit_testkit::ResponseStyle::Keycloak)
        .user("me@example.com", PASSWORD)
        .client(MockClient::public("api"))
        .start()
        .await;
    let mut first = authkit(&store);
    first
        .args(["token", "voipex", "--username", "me@example.com"])
        .args(["--base-url", &server.base_url()])
        .env("AUTHKIT_PASSWORD", PASSWORD);
    let first = run(first).await;
    assert!(first.status.success(), "{}", stderr(&first));

    // Without --base-url the account would once have gone to Voipex's own
    // host; now it refreshes where it signed in.
    expire(&store, "voipex:me@example.com").await;
    let mut again = authkit(&store);
    again.args(["token", "voipex", "--username", "me@example.com"]);
    let again = run(again).await;
    assert!(again.status.success(), "{}", stderr(&again));
    assert_eq!(server.log().count("refresh_token"), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wider_scope_gets_a_new_grant_unattended_and_the_record_keeps_it() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let store = dir.path().join("tokens");
    let server = server().await;
    let first = signed_in_through_the_work_profile(&store, &server).await;

    // A narrower or equal scope is served by the stored set: nothing is sent.
    for how in [["--account", "work:me@example.com"], ["--profile", "work"]] {
        let mut narrower = authkit(&store);
        narrower.arg("token").args(how).args(["--scope", "email"]);
        let narrower = run(narrower).await;
        assert!(narrower.status.success(), "{how:?}: {}", stderr(&narrower));
        assert_eq!(stdout(&narrower), stdout(&first), "{how:?}");
    }
    assert_eq!(server.log().count("password"), 1);

    // A wider scope: a new password grant for all of them, never the old
    // token, never the refresh token to buy more (RFC 6749 §6).
    let mut wider = authkit(&store);
    wider
        .args([
            "token",
            "--account",
            "work:me@example.com",
            "--scope",
            "admin",
        ])
        .env("AUTHKIT_PASSWORD", PASSWORD);
    let wider = run(wider).await;
    assert!(wider.status.success(), "{}", stderr(&wider));
    assert_ne!(stdout(&wider), stdout(&first), "a new token");
    assert_eq!(server.log().count("password"), 2);
    assert_eq!(server.log().count("refresh_token"), 0);

    // The record keeps the wider scopes: the profile alone now serves the
    // wider token, and asking for `admin` again sends nothing.
    for how in [["--profile", "work"], ["--account", "work:me@example.com"]] {
        let mut again = authkit(&store);
        again.arg("token").args(how).args(["--scope", "admin"]);
        let again = run(again).await;
        assert!(again.status.success(), "{how:?}: {}", stderr(&again));
        assert_eq!(stdout(&again), stdout(&wider), "{how:?}");
    }
    assert_eq!(server.log().count("password"), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn flags_that_contradict_the_stored_account_are_refused_with_nothing_sent() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let store = dir.path().join("tokens");
    let elsewhere = server().await;
    let server = server().await;
    assert!(
        run(add_password_profile(&store, &server))
            .await
            .status
            .success()
    );
    let mut first = authkit(&store);
    first
        .args(["token", "--profile", "work"])
        .env("AUTHKIT_PASSWORD", PASSWORD);
    assert!(run(first).await.status.success());
    expire(&store, "work:me@example.com").await;
    let sent_before = server.log().len();

    for (flag, value, stored) in [
        ("--token-url", elsewhere.token_url(), server.token_url()),
        ("--client-id", "someone-else".to_owned(), "cli".to_owned()),
    ] {
        for how in [["--account", "work:me@example.com"], ["--profile", "work"]] {
            let mut call = authkit(&store);
            call.arg("token").args(how).args([flag, &value]);
            let refused = run(call).await;
            let message = stderr(&refused);
            assert_eq!(refused.status.code(), Some(2), "{how:?} {flag}: {message}");
            assert!(
                message.contains(&value),
                "names the flag's value: {message}"
            );
            assert!(
                message.contains(&stored),
                "names the stored value: {message}"
            );
            assert!(stdout(&refused).is_empty());
        }
    }
    assert!(
        elsewhere.log().is_empty(),
        "nothing went to the other server"
    );
    assert_eq!(server.log().len(), sent_before, "nothing was sent at all");

    // The same value as stored is no contradiction.
    let mut agreeing = authkit(&store);
    agreeing
        .args(["token", "--account", "work:me@example.com"])
        .args(["--token-url", &server.token_url()]);
    let agreeing = run(agreeing).await;
    assert!(agreeing.status.success(), "{}", stderr(&agreeing));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn naming_no_account_or_an_unknown_one_says_what_to_do() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let store = dir.path().join("tokens");
    let mut bare = authkit(&store);
    bare.arg("token");
    let bare = run(bare).await;
    assert_eq!(bare.status.code(), Some(2));
    assert!(stderr(&bare).contains("--profile"), "{}", stderr(&bare));

    let mut unknown = authkit(&store);
    unknown.args(["token", "--account", "nobody:here"]);
    let unknown = run(unknown).await;
    assert_eq!(unknown.status.code(), Some(2));
    assert!(
        stderr(&unknown).contains("authkit status"),
        "{}",
        stderr(&unknown)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_confidential_client_profile_reads_its_secret_and_never_shows_it() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let store = dir.path().join("tokens");
    let server = server().await;
    let mut add = authkit(&store);
    add.args(["profile", "add", "ci", "--grant", "client-credentials"])
        .args(["--token-url", &server.token_url()])
        .args(["--client-id", "ci-bot", "--client-auth", "basic"]);
    assert!(run(add).await.status.success());

    // No secret: a usage error naming the variable it is read from.
    let mut without = authkit(&store);
    without.args(["token", "--profile", "ci"]);
    let without = run(without).await;
    assert_eq!(without.status.code(), Some(2), "{}", stderr(&without));
    assert!(
        stderr(&without).contains("AUTHKIT_CLIENT_SECRET"),
        "{}",
        stderr(&without)
    );

    // A wrong one: refused, and the message says which variable to fix.
    let mut wrong = authkit(&store);
    wrong
        .args(["token", "--profile", "ci"])
        .env("AUTHKIT_CLIENT_SECRET", "not-the-secret");
    let wrong = run(wrong).await;
    assert_eq!(wrong.status.code(), Some(3), "{}", stderr(&wrong));
    assert!(
        stderr(&wrong).contains("AUTHKIT_CLIENT_SECRET"),
        "{}",
        stderr(&wrong)
    );

    // Right, at --verbose and RUST_LOG=trace: the token on stdout, and no
    // secret anywhere else.
    let mut right = authkit(&store);
    right
        .args(["--verbose", "token", "--profile", "ci", "--json"])
        .env("RUST_LOG", "trace")
        .env("AUTHKIT_CLIENT_SECRET", SECRET);
    let right = run(right).await;
    assert!(right.status.success(), "{}", stderr(&right));
    let json: serde_json::Value = serde_json::from_str(&stdout(&right)).expect("JSON");
    let token = json["access_token"].as_str().expect("a token").to_owned();
    let everything = format!("{}{}", stdout(&right), stderr(&right));
    assert!(!everything.contains(SECRET), "the client secret leaked");
    assert!(!stderr(&right).contains(&token), "the token reached stderr");
    assert!(
        stderr(&right).contains("DEBUG"),
        "verbose logs: {}",
        stderr(&right)
    );
    for secret in server.all_secrets() {
        if secret != token {
            assert!(!everything.contains(&secret), "a secret leaked");
        }
    }
}

#[tokio::test]
async fn help_shows_each_example_on_its_own_line() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    for (command, example) in [
        (vec!["token", "--help"], "  authkit token --profile work"),
        (
            vec!["login", "--help"],
            "  authkit login --profile work --device     # a code to enter on another device",
        ),
        (
            vec!["profile", "add", "--help"],
            "  authkit profile add me --kind voipex --username me@example.com --default",
        ),
        (vec!["--help"], "  authkit login --profile work --device"),
    ] {
        let mut help = authkit(dir.path());
        help.args(&command);
        let help = run(help).await;
        assert!(help.status.success());
        let text = stdout(&help);
        assert!(
            text.lines().any(|line| line.trim_end() == example),
            "{command:?}: no line {example:?} in\n{text}"
        );
    }
}

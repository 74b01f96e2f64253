//! The command and the OS credential store: tokens go to the Secret Service
//! when there is one (GNOME Keyring in a private D-Bus session, the
//! testkit's `secret_service`), `authkit status` says where each account's
//! tokens are, accounts already in files keep working, and without a
//! credential store (no D-Bus session, a locked keyring) tokens go to files
//! with a one-line notice, or, when the credential store was asked for, the
//! command fails naming the fix. What is stored is read back with
//! `secret-tool`.
//!
//! Without the daemons the tests say SKIPPED; with
//! `AUTHKIT_REQUIRE_REAL_SERVERS=1` (as in CI) they fail instead.

mod support;

use std::path::Path;
use std::process::{Command, Output};

use authkit_testkit::secret_service::SecretService;
use authkit_testkit::{MockAuthServer, MockClient};
use support::{authkit, run, stderr, stdout};

const PASSWORD: &str = "keyring-test-password";
const USER: &str = "me@example.com";

async fn server() -> MockAuthServer {
    MockAuthServer::builder()
        .user(USER, PASSWORD)
        .client(MockClient::public("cli"))
        .start()
        .await
}

/// `authkit` in `session` (or with no session at all), tokens where the
/// command decides (`AUTHKIT_TOKEN_STORE=auto`).
fn authkit_in(store: &Path, session: Option<&SecretService>, no_bus: &Path) -> Command {
    let mut command = authkit(store);
    command.env("AUTHKIT_TOKEN_STORE", "auto");
    match session {
        Some(session) => {
            for (name, value) in session.env() {
                command.env(name, value);
            }
        }
        None => {
            command
                .env_remove("DBUS_SESSION_BUS_ADDRESS")
                .env("XDG_RUNTIME_DIR", no_bus);
        }
    }
    command
}

async fn add_profile(store: &Path, server: &MockAuthServer) {
    let mut add = authkit(store);
    add.args(["profile", "add", "work", "--grant", "password"])
        .args(["--token-url", &server.token_url()])
        .args(["--client-id", "cli", "--username", USER]);
    let output = run(add).await;
    assert!(output.status.success(), "{}", stderr(&output));
}

async fn token(mut command: Command) -> Output {
    command
        .args(["token", "--profile", "work"])
        .env("AUTHKIT_PASSWORD", PASSWORD);
    run(command).await
}

/// The token files in the store directory (not records, not locks).
fn token_files(store: &Path) -> Vec<String> {
    std::fs::read_dir(store)
        .map(|entries| {
            entries
                .filter_map(Result::ok)
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .filter(|name| name.ends_with(".json"))
                .collect()
        })
        .unwrap_or_default()
}

fn status_json(output: &Output) -> serde_json::Value {
    serde_json::from_slice(&output.stdout).expect("status --json")
}

/// What `secret-tool` finds for `account` under the service of `store`.
fn secret_tool_lookup(session: &SecretService, store: &Path, account: &str) -> Option<String> {
    let service = format!("authkit {}", store.display());
    let output = session
        .command("secret-tool")
        .args(["lookup", "service", &service, "username", account])
        .output()
        .expect("secret-tool");
    output
        .status
        .success()
        .then(|| String::from_utf8_lossy(&output.stdout).into_owned())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_a_credential_store_tokens_live_there_and_status_says_so() {
    let Some(session) = SecretService::start() else {
        return;
    };
    let server = server().await;
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("store");
    add_profile(&store, &server).await;

    let first = token(authkit_in(&store, Some(&session), dir.path())).await;
    assert!(first.status.success(), "{}", stderr(&first));
    let access = stdout(&first).trim().to_owned();
    assert!(token_files(&store).is_empty(), "{:?}", token_files(&store));

    let mut status = authkit_in(&store, Some(&session), dir.path());
    status.args(["status", "--json"]);
    let status = run(status).await;
    assert!(status.status.success(), "{}", stderr(&status));
    let json = status_json(&status);
    let account = json["accounts"][0]["key"].as_str().unwrap().to_owned();
    let tokens = json["accounts"][0]["tokens"].as_str().unwrap();
    assert!(tokens.contains("OS credential store"), "{json}");
    assert!(
        json["new_tokens_go_to"]
            .as_str()
            .unwrap()
            .contains("OS credential store"),
        "{json}"
    );
    let stored = secret_tool_lookup(&session, &store, &account).expect("the entry");
    assert!(
        stored.contains(&access),
        "the token set is in the Secret Service"
    );

    // The next call is served from there, without a new sign-in.
    let second = token(authkit_in(&store, Some(&session), dir.path())).await;
    assert_eq!(stdout(&second).trim(), access);
    assert_eq!(server.log().count("password"), 1);

    // Signing out removes it.
    let mut logout = authkit_in(&store, Some(&session), dir.path());
    logout.args(["logout", "--profile", "work"]);
    let output = run(logout).await;
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(secret_tool_lookup(&session, &store, &account).is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_account_kept_in_files_keeps_working_when_a_credential_store_appears() {
    let Some(session) = SecretService::start() else {
        return;
    };
    let server = server().await;
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("store");
    add_profile(&store, &server).await;
    let in_files = token(authkit(&store)).await;
    assert!(in_files.status.success(), "{}", stderr(&in_files));
    assert_eq!(token_files(&store).len(), 1);

    let later = token(authkit_in(&store, Some(&session), dir.path())).await;
    assert_eq!(stdout(&later), stdout(&in_files), "the same stored token");
    assert_eq!(server.log().count("password"), 1);
    let mut status = authkit_in(&store, Some(&session), dir.path());
    status.arg("status");
    let table = stdout(&run(status).await);
    assert!(table.contains(" file "), "{table}");
    assert!(
        table.contains("New tokens go to the OS credential store"),
        "{table}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_a_credential_store_tokens_go_to_files_with_a_notice() {
    let server = server().await;
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("store");
    add_profile(&store, &server).await;
    let mut login = authkit_in(&store, None, dir.path());
    login
        .args(["login", "--profile", "work"])
        .env("AUTHKIT_PASSWORD", PASSWORD);
    let output = run(login).await;
    assert!(output.status.success(), "{}", stderr(&output));
    let said = stderr(&output);
    let notice: Vec<&str> = said
        .lines()
        .filter(|l| l.starts_with("Tokens are kept in a file"))
        .collect();
    assert_eq!(notice.len(), 1, "one line: {said}");
    assert!(notice[0].contains("D-Bus session"), "{said}");
    assert_eq!(token_files(&store).len(), 1);
    assert!(!said.contains(PASSWORD));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn asking_for_the_credential_store_where_there_is_none_fails_naming_the_fix() {
    let server = server().await;
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("store");
    add_profile(&store, &server).await;
    let mut command = authkit_in(&store, None, dir.path());
    command.env("AUTHKIT_TOKEN_STORE", "keyring");
    let output = token(command).await;
    assert_eq!(output.status.code(), Some(5), "{}", stderr(&output));
    let said = stderr(&output);
    assert!(said.contains("D-Bus session"), "{said}");
    assert!(said.contains("--token-store file"), "{said}");
    assert_eq!(server.log().count("password"), 0, "nothing was sent");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_locked_keyring_is_reported_with_the_fix_and_auto_falls_back_to_files() {
    let Some(session) = SecretService::start() else {
        return;
    };
    session.lock_keyring();
    let server = server().await;
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("store");
    add_profile(&store, &server).await;

    let mut asked = authkit_in(&store, Some(&session), dir.path());
    asked.env("AUTHKIT_TOKEN_STORE", "keyring");
    let output = token(asked).await;
    assert_eq!(output.status.code(), Some(5), "{}", stderr(&output));
    let said = stderr(&output);
    assert!(said.contains("locked"), "{said}");
    assert!(said.contains("gnome-keyring-daemon --unlock"), "{said}");

    let mut login = authkit_in(&store, Some(&session), dir.path());
    login
        .args(["login", "--profile", "work"])
        .env("AUTHKIT_PASSWORD", PASSWORD);
    let output = run(login).await;
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(stderr(&output).contains("locked"), "{}", stderr(&output));
    assert_eq!(token_files(&store).len(), 1);
}

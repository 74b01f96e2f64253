//! Running the `authkit` binary in tests: a clean environment (no secret,
//! store or profile from the person running the tests), its output read
//! off a blocking thread so the mock servers keep answering.

#![allow(dead_code)]

use std::path::Path;
use std::process::{Command, Output, Stdio};

/// `authkit --store <store>`, with the profiles file beside the store and
/// no secret, store key or profile taken from the environment. Tokens go to
/// files (`AUTHKIT_TOKEN_STORE=file`), so that no test touches the keyring
/// of the person running it; the tests of the credential store start a
/// private one and say so.
pub fn authkit(store: &Path) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_authkit"));
    command
        .env_remove("AUTHKIT_PASSWORD")
        .env_remove("AUTHKIT_CLIENT_SECRET")
        .env_remove("AUTHKIT_STORE")
        .env_remove("AUTHKIT_STORE_KEY")
        .env_remove("AUTHKIT_STORE_KEY_FILE")
        .env_remove("AUTHKIT_STORE_KEY_ID")
        .env_remove("AUTHKIT_PROFILE")
        .env_remove("RUST_LOG")
        .env("AUTHKIT_TOKEN_STORE", "file")
        .env("AUTHKIT_CONFIG", config_path(store))
        .arg("--store")
        .arg(store)
        .stdin(Stdio::null());
    command
}

/// The profiles file the tests' `authkit` uses for `store`.
pub fn config_path(store: &Path) -> std::path::PathBuf {
    store.with_extension("config.toml")
}

/// Runs `command` to the end.
pub async fn run(mut command: Command) -> Output {
    tokio::task::spawn_blocking(move || command.output().expect("authkit runs"))
        .await
        .expect("the blocking task ends")
}

/// Its stdout.
pub fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// Its stderr.
pub fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// The key and token set stored in `store` for the one account whose key
/// starts with `readable#`.
pub async fn stored_account(
    store: &Path,
    readable: &str,
) -> (
    authkit_store_file::FileStore,
    authkit_core::AccountKey,
    authkit_core::TokenSet,
) {
    let files = authkit_store_file::FileStore::open(store).expect("the store");
    let keys = files.keys().await.expect("keys");
    let key = keys
        .iter()
        .find(|k| k.as_str().starts_with(&format!("{readable}#")))
        .unwrap_or_else(|| panic!("no stored account {readable} in {keys:?}"))
        .clone();
    let set = authkit_testkit::support::load(&files, &key)
        .await
        .expect("loads")
        .expect("stored");
    (files, key, set)
}

/// Makes the one stored account whose key starts with `readable#` look
/// expired, keeping its refresh token and binding.
pub async fn expire(store: &Path, readable: &str) {
    let (files, key, stored) = stored_account(store, readable).await;
    let past = time::OffsetDateTime::now_utc() - time::Duration::hours(2);
    let expired = authkit_core::TokenSet::new(
        stored.access_token().clone(),
        past,
        past + time::Duration::hours(1),
    )
    .with_refresh_token(stored.refresh_token().cloned(), None)
    .with_binding(stored.binding().expect("bound").clone());
    authkit_testkit::support::save(&files, &key, &expired)
        .await
        .expect("saved");
}

/// What a browser sign-in by the command came to.
pub struct BrowserSignIn {
    /// Whether the command succeeded.
    pub success: bool,
    /// Everything it wrote on stderr.
    pub stderr: String,
    /// The page the browser ended on (the loopback receiver's).
    pub page: String,
}

/// Runs `login` (an `authkit login …` with `--no-browser`) and plays the
/// browser: reads the sign-in URL from its stderr and follows it through
/// the server's `/authorize` redirect to the command's loopback receiver.
pub async fn sign_in_through_the_browser(mut login: Command) -> BrowserSignIn {
    use std::io::{BufRead, BufReader};
    login.stdout(Stdio::piped()).stderr(Stdio::piped());
    let mut child = login.spawn().expect("authkit login starts");
    let stderr_pipe = child.stderr.take().expect("stderr");
    let (url_tx, url_rx) = std::sync::mpsc::channel();
    let reader = std::thread::spawn(move || {
        let mut lines = Vec::new();
        for line in BufReader::new(stderr_pipe).lines().map_while(Result::ok) {
            if line.trim_start().starts_with("http://") {
                let _ = url_tx.send(line.trim().to_owned());
            }
            lines.push(line);
        }
        lines.join("\n")
    });
    let url = tokio::task::spawn_blocking(move || {
        url_rx
            .recv_timeout(std::time::Duration::from_secs(20))
            .expect("authkit login printed a sign-in URL")
    })
    .await
    .expect("the blocking task ends");
    let browser = authkit_core::transport::http_client_builder()
        .expect("a client")
        .redirect(reqwest::redirect::Policy::limited(5))
        .build()
        .expect("a client");
    let page = browser
        .get(&url)
        .send()
        .await
        .expect("the sign-in URL answers")
        .text()
        .await
        .expect("a page");
    let status = tokio::task::spawn_blocking(move || child.wait().expect("authkit login ends"))
        .await
        .expect("the blocking task ends");
    BrowserSignIn {
        success: status.success(),
        stderr: reader.join().expect("the stderr reader ends"),
        page,
    }
}

/// A mock Vonage API manager: the user `me@vbc.prod` with `password`, and
/// the application `consumer-key` with `secret` (HTTP Basic over the raw
/// `key:secret` for the code exchange, the secret in the body otherwise)
/// whose callback is `redirect_uri`.
pub async fn vonage_server(
    redirect_uri: &str,
    password: &str,
    secret: &str,
) -> authkit_testkit::MockAuthServer {
    use authkit_testkit::{ClientKind, MockAuthServer, MockClient, ResponseStyle};
    MockAuthServer::builder()
        .style(ResponseStyle::ApiManager)
        .user("me@vbc.prod", password)
        .client(
            MockClient::basic(
                "consumer-key",
                secret,
                authkit_core::client_auth::BasicEncoding::Raw,
            )
            .also_accepting(ClientKind::SecretInBody)
            .redirect_uri(redirect_uri),
        )
        .start()
        .await
}

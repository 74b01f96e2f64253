//! Running the `authkit` binary in tests: a clean environment (no secret,
//! store or profile from the person running the tests), its output read
//! off a blocking thread so the mock servers keep answering.

#![allow(dead_code)]

use std::path::Path;
use std::process::{Command, Output, Stdio};

/// `authkit --store <store>`, with the profiles file beside the store and
/// no secret, store key or profile taken from the environment.
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

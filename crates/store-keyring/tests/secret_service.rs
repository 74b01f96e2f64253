//! The keyring store against a real Secret Service: GNOME Keyring in a
//! private D-Bus session (the testkit's `secret_service`). Each test starts
//! a session and runs again inside it, in a child process; the child does
//! the work. What is stored is read back with `secret-tool`, the Secret
//! Service's own command, to show it is really there.
//!
//! Without the daemons the tests say SKIPPED; with
//! `AUTHKIT_REQUIRE_REAL_SERVERS=1` (as in CI) they fail instead.

use std::future::Future;
use std::process::Command;
use std::time::Duration;

use authkit_core::grant::PasswordGrant;
use authkit_core::store::HeldAccount;
use authkit_core::{
    AccessToken, AccountKey, ClientAuth, ExposeSecret, GenericProvider, Password, RefreshToken,
    StoreError, TokenEndpoint, TokenManager, TokenProvider, TokenSet, TokenStore,
};
use authkit_store_keyring::KeyringStore;
use authkit_testkit::secret_service::SecretService;
use authkit_testkit::support::{assert_no_secrets, load, save};
use authkit_testkit::{MockAuthServer, MockClient};
use time::OffsetDateTime;

const SERVICE: &str = "authkit-test";

/// Runs `body` inside a fresh Secret Service session (set up with `setup`).
fn inside<F: Future<Output = ()>>(
    name: &str,
    setup: impl FnOnce(&SecretService),
    body: impl FnOnce() -> F,
) {
    if SecretService::inside() {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap()
            .block_on(body());
        return;
    }
    let Some(session) = SecretService::start() else {
        return;
    };
    setup(&session);
    session.run_test_inside(name);
}

fn store() -> KeyringStore {
    let locks = std::env::var("XDG_STATE_HOME").expect("inside a session");
    KeyringStore::open(SERVICE, std::path::Path::new(&locks).join("locks")).unwrap()
}

fn set(access: &str, refresh: &str) -> TokenSet {
    let now = OffsetDateTime::now_utc();
    TokenSet::new(
        AccessToken::new(access),
        now,
        now + time::Duration::hours(1),
    )
    .with_refresh_token(Some(RefreshToken::new(refresh)), None)
}

/// A mock server where alice signs in with the public client `api`.
async fn alice_server() -> MockAuthServer {
    MockAuthServer::builder()
        .user("alice", "pw")
        .client(MockClient::public("api"))
        .start()
        .await
}

/// Alice's account at `server`, by the password grant.
fn alice(server: &MockAuthServer) -> GenericProvider {
    let endpoint = TokenEndpoint::builder(server.token_url())
        .client_auth(ClientAuth::public("api"))
        .build()
        .unwrap();
    GenericProvider::new("demo:alice", endpoint)
        .with_grant(PasswordGrant::new("alice", Password::new("pw")))
}

fn key() -> AccountKey {
    AccountKey::new("voipex:alice@example.com")
}

/// What `secret-tool` finds for the entry `name` of the test service.
fn secret_tool_lookup(name: &str) -> Option<String> {
    let output = Command::new("secret-tool")
        .args(["lookup", "service", SERVICE, "username", name])
        .output()
        .expect("secret-tool");
    output
        .status
        .success()
        .then(|| String::from_utf8_lossy(&output.stdout).into_owned())
}

/// The labels of every item of the test service, as `secret-tool` lists them.
fn secret_tool_names() -> Vec<String> {
    let output = Command::new("secret-tool")
        .args(["search", "--all", "service", SERVICE])
        .output()
        .expect("secret-tool");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    text.lines()
        .filter_map(|line| line.strip_prefix("attribute.username = "))
        .map(str::to_owned)
        .collect()
}

#[test]
fn a_token_set_saved_is_in_the_secret_service_and_read_back() {
    inside(
        "a_token_set_saved_is_in_the_secret_service_and_read_back",
        |_| {},
        || async {
            let store = store();
            save(&store, &key(), &set("at-1", "rt-1")).await.unwrap();
            let loaded = load(&store, &key()).await.unwrap().unwrap();
            assert_eq!(loaded.access_token().expose_secret(), "at-1");
            // The Secret Service's own command finds it, under the account key.
            let stored = secret_tool_lookup(key().as_str()).expect("the entry");
            assert!(stored.contains("at-1"), "the encoded set");
            assert!(store.contains(&key()).await.unwrap());
            // A second store on the same service reads the same set.
            let again = load(&self::store(), &key()).await.unwrap().unwrap();
            assert_eq!(again.access_token().expose_secret(), "at-1");
        },
    );
}

#[test]
fn the_hold_excludes_other_holders_until_dropped() {
    inside(
        "the_hold_excludes_other_holders_until_dropped",
        |_| {},
        || async {
            let held = store().lock(&key()).await.unwrap();
            let second = store();
            let waiting = tokio::spawn(async move { second.lock(&key()).await.map(|_| ()) });
            tokio::time::sleep(Duration::from_millis(200)).await;
            assert!(!waiting.is_finished(), "the second holder waits");
            drop(held);
            tokio::time::timeout(Duration::from_secs(5), waiting)
                .await
                .unwrap()
                .unwrap()
                .unwrap();
        },
    );
}

#[test]
fn managers_sharing_the_store_refresh_a_rotating_token_once() {
    inside(
        "managers_sharing_the_store_refresh_a_rotating_token_once",
        |_| {},
        || async {
            let server = alice_server().await;
            // Two managers, as two processes would have, on one clock.
            let clock = std::sync::Arc::new(authkit_core::clock::ManualClock::starting_now());
            let manager = || {
                TokenManager::builder(alice(&server), store())
                    .clock(clock.clone())
                    .build()
            };
            let (first, second) = (manager(), manager());
            first.access_token().await.unwrap();
            // The token expires for both; both ask at once.
            clock.advance(Duration::from_secs(3 * 3600));
            let (a, b) = tokio::join!(first.access_token(), second.access_token());
            let (a, b) = (a.unwrap(), b.unwrap());
            assert!(a.same_secret(&b), "one refresh served both");
            assert!(server.is_access_token_active(&a));
            let log = server.log();
            assert_eq!(log.count("refresh_token"), 1, "one refresh for both");
            assert!(
                !log.any_refresh_token_sent_twice(),
                "no refresh token was spent twice"
            );
            assert_eq!(log.refusals("invalid_grant"), 0);
        },
    );
}

#[test]
fn a_set_larger_than_the_entry_limit_is_kept_in_parts_and_replaced_whole() {
    inside(
        "a_set_larger_than_the_entry_limit_is_kept_in_parts_and_replaced_whole",
        |_| {},
        || async {
            let store = store().with_max_entry_bytes(Some(512));
            let long = "x".repeat(3000);
            save(&store, &key(), &set(&long, "rt-long")).await.unwrap();
            let names = secret_tool_names();
            assert!(
                names.iter().filter(|n| n.contains("[part ")).count() >= 6,
                "{names:?}"
            );
            let loaded = load(&store, &key()).await.unwrap().unwrap();
            assert_eq!(loaded.access_token().expose_secret(), long);

            save(&store, &key(), &set("short", "rt-short"))
                .await
                .unwrap();
            let names = secret_tool_names();
            assert_eq!(names, [key().as_str().to_owned()], "the old parts are gone");
            let loaded = load(&store, &key()).await.unwrap().unwrap();
            assert_eq!(loaded.access_token().expose_secret(), "short");
        },
    );
}

#[test]
fn unreadable_data_is_set_aside_and_the_manager_signs_in_again() {
    inside(
        "unreadable_data_is_set_aside_and_the_manager_signs_in_again",
        |_| {},
        || async {
            let server = alice_server().await;
            let provider = alice(&server);
            let account = provider.account_key().clone();
            let mut store_it = Command::new("secret-tool")
                .args([
                    "store",
                    "--label=garbage",
                    "service",
                    SERVICE,
                    "username",
                    account.as_str(),
                ])
                .stdin(std::process::Stdio::piped())
                .spawn()
                .unwrap();
            std::io::Write::write_all(&mut store_it.stdin.take().unwrap(), b"not json at all")
                .unwrap();
            assert!(store_it.wait().unwrap().success());

            let manager = TokenManager::new(provider, store());
            let token = manager.access_token().await.unwrap();
            assert!(server.is_access_token_active(&token));
            let names = secret_tool_names();
            let aside: Vec<_> = names.iter().filter(|n| n.contains("[set aside ")).collect();
            assert_eq!(aside.len(), 1, "{names:?}");
            assert_eq!(
                secret_tool_lookup(aside[0]).as_deref(),
                Some("not json at all")
            );
        },
    );
}

#[test]
fn a_locked_keyring_is_a_clear_error_that_names_the_fix() {
    inside(
        "a_locked_keyring_is_a_clear_error_that_names_the_fix",
        |session| session.lock_keyring(),
        || async {
            let store = store();
            let error = store.probe().await.unwrap_err();
            assert!(matches!(error, StoreError::Unavailable { .. }), "{error:?}");
            let said = error.to_string();
            assert!(said.contains("locked"), "{said}");
            assert!(said.contains("gnome-keyring-daemon --unlock"), "{said}");
            assert!(said.contains("--token-store file"), "{said}");
            let mut held = HeldAccount::acquire(&store, &key()).await.unwrap();
            let error = held
                .save(
                    &set("at-secret-value", "rt-secret-value"),
                    OffsetDateTime::now_utc(),
                )
                .await
                .unwrap_err();
            assert!(error.to_string().contains("locked"), "{error}");
            assert_no_secrets(
                &format!("{error} {error:?}"),
                &["at-secret-value", "rt-secret-value"],
            );
        },
    );
}

#[test]
fn without_a_d_bus_session_opening_the_store_says_what_is_missing() {
    if SecretService::inside() {
        let error = KeyringStore::open(SERVICE, std::env::temp_dir().join("authkit-no-bus-locks"))
            .unwrap_err();
        assert!(matches!(error, StoreError::Unavailable { .. }), "{error:?}");
        assert!(error.to_string().contains("D-Bus session"), "{error}");
        return;
    }
    let runtime = tempfile::tempdir().unwrap();
    let output = Command::new(std::env::current_exe().unwrap())
        .args([
            "without_a_d_bus_session_opening_the_store_says_what_is_missing",
            "--exact",
            "--nocapture",
        ])
        .env("AUTHKIT_SECRET_SERVICE_INSIDE", "1")
        .env_remove("DBUS_SESSION_BUS_ADDRESS")
        .env("XDG_RUNTIME_DIR", runtime.path())
        .output()
        .unwrap();
    let printed = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        output.status.success() && printed.contains("1 passed"),
        "{printed}"
    );
}

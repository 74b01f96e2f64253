//! The file store shared by separate processes: one refresh for all of them,
//! no torn file whenever a writer dies, and a clear error when the directory
//! cannot be written.
//!
//! The helper processes are this same test binary, started again with a role
//! in the environment; `helper_process` is their entry point.

use std::process::{Command, Output, Stdio};
use std::time::Duration;

use authkit_core::grant::PasswordGrant;
use authkit_core::{
    AccessToken, AccountKey, ClientAuth, ExposeSecret, GenericProvider, Password, RefreshToken,
    StoreError, TokenEndpoint, TokenManager, TokenProvider, TokenSet,
};
use authkit_store_file::FileStore;
use authkit_testkit::support::{load, save};
use authkit_testkit::{MockAuthServer, MockClient, RefreshPolicy};
use sha2::{Digest, Sha256};
use time::OffsetDateTime;

const ROLE: &str = "AUTHKIT_FILE_STORE_TEST_ROLE";
const STORE_DIR: &str = "AUTHKIT_FILE_STORE_TEST_DIR";
const TOKEN_URL: &str = "AUTHKIT_FILE_STORE_TEST_TOKEN_URL";

fn account() -> AccountKey {
    AccountKey::new("demo:alice")
}

fn fingerprint(token: &AccessToken) -> String {
    Sha256::digest(token.expose_secret().as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Not a test of its own: the entry point of the helper processes. Without
/// a role in the environment it returns at once.
#[test]
fn helper_process() {
    let Ok(role) = std::env::var(ROLE) else {
        return;
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let code = runtime.block_on(async {
        let store = FileStore::open(std::env::var(STORE_DIR).unwrap()).unwrap();
        match role.as_str() {
            "refresh" => refresh_role(store).await,
            "writer" => writer_role(store).await,
            "save-once" => save_once_role(store).await,
            _ => 2,
        }
    });
    std::process::exit(code);
}

/// Gets a token through a manager on the shared store; prints its fingerprint.
async fn refresh_role(store: FileStore) -> i32 {
    let endpoint = TokenEndpoint::builder(std::env::var(TOKEN_URL).unwrap())
        .client_auth(ClientAuth::public("api"))
        .build()
        .unwrap();
    let provider = GenericProvider::new("demo:alice", endpoint)
        .with_grant(PasswordGrant::new("alice", Password::new("pw")));
    match TokenManager::new(provider, store).access_token().await {
        Ok(token) => {
            println!("FINGERPRINT {}", fingerprint(&token));
            0
        }
        Err(error) => {
            println!("ERROR {error}");
            1
        }
    }
}

fn padded_set(name: &str) -> TokenSet {
    let now = OffsetDateTime::now_utc();
    let mut extra = std::collections::BTreeMap::new();
    // Large enough that a kill often lands in the middle of a write.
    extra.insert(
        "padding".to_owned(),
        serde_json::Value::String(name.repeat(50_000)),
    );
    TokenSet::new(
        AccessToken::new(format!("at-{name}")),
        now,
        now + time::Duration::hours(1),
    )
    .with_refresh_token(Some(RefreshToken::new(format!("rt-{name}"))), None)
    .with_extra(extra)
}

/// Saves two sets alternately, forever, until killed.
async fn writer_role(store: FileStore) -> i32 {
    let sets = [padded_set("A"), padded_set("B")];
    for i in 0.. {
        if save(&store, &account(), &sets[i % 2]).await.is_err() {
            return 1;
        }
    }
    0
}

/// Tries one save; exits 0 when it fails with an I/O error, printing it.
async fn save_once_role(store: FileStore) -> i32 {
    match save(&store, &account(), &padded_set("C")).await {
        Err(error @ StoreError::Io { .. }) => {
            println!("STORE-ERROR {error}");
            0
        }
        other => {
            println!("UNEXPECTED {other:?}");
            1
        }
    }
}

fn spawn_helper(role: &str, dir: &std::path::Path, token_url: Option<&str>) -> Command {
    helper_from(&std::env::current_exe().unwrap(), role, dir, token_url)
}

fn helper_from(
    exe: &std::path::Path,
    role: &str,
    dir: &std::path::Path,
    token_url: Option<&str>,
) -> Command {
    let mut command = Command::new(exe);
    command
        .args([
            "--exact",
            "helper_process",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(ROLE, role)
        .env(STORE_DIR, dir)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    if let Some(url) = token_url {
        command.env(TOKEN_URL, url);
    }
    command
}

fn lines_starting(output: &Output, prefix: &str) -> Vec<String> {
    String::from_utf8_lossy(&output.stdout)
        .lines()
        // libtest prints `test helper_process ... ` before the helper's own output.
        .filter_map(|l| l.find(prefix).map(|at| l[at + prefix.len()..].to_owned()))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn processes_sharing_a_store_at_expiry_cause_one_refresh() {
    let server = MockAuthServer::builder()
        .user("alice", "pw")
        .client(MockClient::public("api"))
        .refresh_policy(RefreshPolicy {
            rotate: true,
            reuse_detection: true,
        })
        .start()
        .await;
    let dir = tempfile::tempdir().unwrap();
    let store = FileStore::open(dir.path()).unwrap();

    // Sign in once, then make the stored set look expired to everyone.
    let endpoint = TokenEndpoint::builder(server.token_url())
        .client_auth(ClientAuth::public("api"))
        .build()
        .unwrap();
    let provider = GenericProvider::new("demo:alice", endpoint)
        .with_grant(PasswordGrant::new("alice", Password::new("pw")));
    let key = provider.account_key().clone();
    TokenManager::new(provider, store.clone())
        .access_token()
        .await
        .unwrap();
    let signed_in = load(&store, &key).await.unwrap().unwrap();
    let long_ago = OffsetDateTime::now_utc() - time::Duration::hours(2);
    let expired = TokenSet::new(
        signed_in.access_token().clone(),
        long_ago,
        long_ago + time::Duration::hours(1),
    )
    .with_refresh_token(signed_in.refresh_token().cloned(), None)
    .with_binding(signed_in.binding().expect("bound").clone());
    save(&store, &key, &expired).await.unwrap();

    const PROCESSES: usize = 8;
    let children: Vec<_> = (0..PROCESSES)
        .map(|_| {
            spawn_helper("refresh", dir.path(), Some(&server.token_url()))
                .spawn()
                .unwrap()
        })
        .collect();
    let outputs: Vec<Output> = tokio::task::spawn_blocking(move || {
        children
            .into_iter()
            .map(|c| c.wait_with_output().unwrap())
            .collect()
    })
    .await
    .unwrap();

    let mut fingerprints = Vec::new();
    for output in &outputs {
        assert!(
            output.status.success(),
            "a process failed: {}",
            String::from_utf8_lossy(&output.stdout)
        );
        fingerprints.extend(lines_starting(output, "FINGERPRINT "));
    }
    assert_eq!(fingerprints.len(), PROCESSES);
    let now_stored = load(&store, &key).await.unwrap().unwrap();
    assert!(server.is_access_token_active(now_stored.access_token()));
    assert!(
        fingerprints
            .iter()
            .all(|f| *f == fingerprint(now_stored.access_token())),
        "every process got the stored token"
    );
    let log = server.log();
    assert_eq!(
        log.count("refresh_token"),
        1,
        "one refresh for {PROCESSES} processes"
    );
    assert_eq!(log.count("password"), 1, "nobody had to sign in again");
    assert_eq!(log.refusals("invalid_grant"), 0);
    assert!(!log.any_refresh_token_sent_twice());
}

#[tokio::test]
async fn a_writer_killed_at_random_moments_never_leaves_a_torn_file() {
    let dir = tempfile::tempdir().unwrap();
    let store = FileStore::open(dir.path()).unwrap();
    let (mut old, mut new, mut none) = (0, 0, 0);
    const KILLS: u32 = 40;
    for round in 0..KILLS {
        let mut child = spawn_helper("writer", dir.path(), None).spawn().unwrap();
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .subsec_nanos();
        tokio::time::sleep(Duration::from_millis(u64::from(20 + nanos % 60))).await;
        child.kill().unwrap(); // SIGKILL on Unix
        child.wait().unwrap();
        match load(&store, &account()).await {
            Ok(Some(tokens)) => match tokens.access_token().expose_secret() {
                "at-A" => old += 1,
                "at-B" => new += 1,
                other => panic!("round {round}: an unexpected token {other:?}"),
            },
            Ok(None) => none += 1,
            Err(error) => panic!("round {round}: the file did not parse after a kill: {error}"),
        }
    }
    let corrupt = std::fs::read_dir(dir.path())
        .unwrap()
        .filter_map(Result::ok)
        .filter(|e| e.file_name().to_string_lossy().contains(".corrupt-"))
        .count();
    assert_eq!(corrupt, 0);
    assert!(
        old + new > KILLS / 2,
        "the writer rarely got to write: A {old}, B {new}, none {none}"
    );
    println!("{KILLS} kills: A {old}, B {new}, no file yet {none}");
}

#[cfg(unix)]
#[tokio::test]
async fn a_directory_that_cannot_be_written_gives_a_clear_error_and_loses_nothing() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    let store = FileStore::open(dir.path()).unwrap();
    let before = padded_set("A");
    save(&store, &account(), &before).await.unwrap();

    let root = running_as_root();
    let message = if root {
        // Root writes anywhere: try as an unprivileged user instead, from a
        // copy of this binary that user can reach wherever the checkout is.
        use std::os::unix::process::CommandExt;
        let bin_dir = tempfile::tempdir().unwrap();
        std::fs::set_permissions(bin_dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
        let exe = bin_dir.path().join("helper");
        std::fs::copy(std::env::current_exe().unwrap(), &exe).unwrap();
        std::fs::set_permissions(&exe, std::fs::Permissions::from_mode(0o755)).unwrap();
        let output = helper_from(&exe, "save-once", dir.path(), None)
            .uid(65534)
            .gid(65534)
            .output()
            .unwrap();
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stdout)
        );
        lines_starting(&output, "STORE-ERROR ").join("\n")
    } else {
        std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o555)).unwrap();
        let result = save(&store, &account(), &padded_set("C")).await;
        std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
        let error = result.unwrap_err();
        assert!(matches!(error, StoreError::Io { .. }), "{error:?}");
        error.to_string()
    };
    assert!(message.contains("ermission denied"), "{message}");
    assert!(
        message.contains(&dir.path().display().to_string()),
        "the error says where: {message}"
    );
    let after = load(&store, &account()).await.unwrap().unwrap();
    assert_eq!(
        after.access_token().expose_secret(),
        "at-A",
        "the old set is intact"
    );
}

/// Whether this process runs as root (`id -u` says 0).
fn running_as_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false)
}

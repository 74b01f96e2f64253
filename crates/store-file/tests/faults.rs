//! The disk failing under the file store, at the moment of a refresh: a full
//! file system (a real `ENOSPC`, on a tiny `tmpfs`), a file system turned
//! read-only (a real `EROFS`, on a read-only bind mount), the store's
//! directory removed while a manager holds it, and an `fsync` that fails
//! (`EIO`, injected: no file system here can be made to fail one). Each ends
//! in a classified error or a clean recovery; the stored set is never
//! overwritten by an older one; no refresh token is sent twice.
//!
//! The mounts need root. Without it the tests that need one say SKIPPED;
//! with `AUTHKIT_REQUIRE_REAL_FAULTS=1` (as in CI) they fail instead.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use authkit_core::grant::PasswordGrant;
use authkit_core::{
    ClientAuth, Error, GenericProvider, Password, StoreError, TokenEndpoint, TokenManager,
};
use authkit_store_file::{FileStore, WriteStep};
use authkit_testkit::support::{fill_to_the_last_byte, load};
use authkit_testkit::{MockAuthServer, MockClient, RefreshPolicy};
use time::Duration;

fn can_mount() -> bool {
    let root = Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0");
    if root {
        return true;
    }
    if std::env::var("AUTHKIT_REQUIRE_REAL_FAULTS").as_deref() == Ok("1") {
        panic!("mounting a tmpfs needs root, and AUTHKIT_REQUIRE_REAL_FAULTS=1");
    }
    eprintln!("SKIPPED: the real disk faults need root to mount a tmpfs or a bind mount");
    false
}

/// A mount made by a test; unmounted when dropped.
struct Mount(PathBuf);

impl Mount {
    fn run(args: &[&str]) {
        let status = Command::new("mount").args(args).status().expect("mount");
        assert!(status.success(), "mount {args:?} failed");
    }

    fn tmpfs(at: &Path, size: &str) -> Self {
        Self::run(&[
            "-t",
            "tmpfs",
            "-o",
            &format!("size={size}"),
            "tmpfs",
            &at.display().to_string(),
        ]);
        Mount(at.to_owned())
    }

    fn bind(from: &Path, at: &Path) -> Self {
        Self::run(&[
            "--bind",
            &from.display().to_string(),
            &at.display().to_string(),
        ]);
        Mount(at.to_owned())
    }

    fn read_only(&self, read_only: bool) {
        let mode = if read_only {
            "remount,ro,bind"
        } else {
            "remount,rw,bind"
        };
        Self::run(&["-o", mode, &self.0.display().to_string()]);
    }
}

impl Drop for Mount {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(&self.0).status();
    }
}

async fn auth_server() -> MockAuthServer {
    MockAuthServer::builder()
        .user("alice", "pw")
        .client(MockClient::public("api"))
        .refresh_policy(RefreshPolicy {
            rotate: true,
            reuse_detection: true,
        })
        .start()
        .await
}

fn manager(server: &MockAuthServer, store: &FileStore) -> TokenManager {
    let endpoint = TokenEndpoint::builder(server.token_url())
        .client_auth(ClientAuth::public("api"))
        .build()
        .unwrap();
    let provider = GenericProvider::new("demo:alice", endpoint)
        .with_grant(PasswordGrant::new("alice", Password::new("pw")));
    TokenManager::builder(provider, store.clone())
        .clock(server.shared_clock())
        .build()
}

fn temp_files(dir: &Path) -> usize {
    fs::read_dir(dir)
        .unwrap()
        .filter_map(Result::ok)
        .filter(|e| e.file_name().to_string_lossy().contains(".tmp-"))
        .count()
}

/// Two processes' managers on one account of a file store whose disk fills
/// up. The room for the next save was reserved when the account was last
/// saved, and each save frees the old file's blocks for the next
/// reservation, so refreshes go on on the full disk and both share them.
/// Where no room was reserved (a store an older authkit wrote), the refresh
/// is refused before its refresh token leaves the process. Without the
/// reservation the rotated set would live only in one manager's memory, and
/// the other would spend the old refresh token into the server's reuse
/// detection, revoking the session of both.
#[tokio::test]
async fn a_full_disk_never_lets_a_second_holder_spend_a_refresh_token_the_first_rotated() {
    if !can_mount() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let _mount = Mount::tmpfs(dir.path(), "256k");
    let store = FileStore::open(dir.path().join("tokens")).unwrap();
    let server = auth_server().await;
    let first_process = manager(&server, &store);
    let second_process = manager(&server, &store);
    let first = first_process.access_token().await.unwrap();
    assert!(
        second_process
            .access_token()
            .await
            .unwrap()
            .same_secret(&first)
    );

    let filler = fill_to_the_last_byte(dir.path());

    // Refreshes on the full disk use the reserved room: each is saved, and
    // the other holder serves it from the store.
    let mut rotated = first;
    for round in 0..3 {
        let (refresher, follower) = if round % 2 == 0 {
            (&first_process, &second_process)
        } else {
            (&second_process, &first_process)
        };
        server.clock().advance(Duration::hours(2));
        let fresh = refresher.access_token().await.unwrap();
        assert!(!fresh.same_secret(&rotated) && server.is_access_token_active(&fresh));
        let on_disk = load(&store, first_process.account_key())
            .await
            .unwrap()
            .unwrap();
        assert!(
            on_disk.access_token().same_secret(&fresh),
            "round {round}: saved"
        );
        assert!(follower.access_token().await.unwrap().same_secret(&fresh));
        rotated = fresh;
    }

    // A store with no room reserved, as an older authkit left it.
    let reserved = store
        .path_for(first_process.account_key())
        .with_extension("reserved");
    fs::remove_file(&reserved).unwrap();
    fill_to_the_last_byte(dir.path());

    // No room can be reserved on the full disk: the next refresh is refused
    // by the store, in either process, before anything is sent.
    server.clock().advance(Duration::hours(2));
    let refreshes = server.log().count("refresh_token");
    for manager in [&first_process, &second_process] {
        let error = manager.access_token().await.unwrap_err();
        let Error::Store(StoreError::Full {
            operation,
            location,
            ..
        }) = &error
        else {
            panic!("expected a full store, got {error:?}");
        };
        assert!(operation.contains("reserving room"), "{operation}");
        assert!(location.contains(&dir.path().display().to_string()));
        assert!(error.to_string().contains("full"), "{error}");
    }
    assert_eq!(
        server.log().count("refresh_token"),
        refreshes,
        "no refresh token was spent while its successor had no room"
    );
    assert_eq!(
        temp_files(&dir.path().join("tokens")),
        0,
        "no temporary file left behind"
    );
    let on_disk = load(&store, first_process.account_key())
        .await
        .unwrap()
        .unwrap();
    assert!(
        on_disk.access_token().same_secret(&rotated),
        "the stored set is intact"
    );

    // Room again: the next refresh spends the newest refresh token and saves.
    fs::remove_file(&filler).unwrap();
    server.clock().advance(Duration::seconds(5)); // past the failure cooldown
    let third = second_process.access_token().await.unwrap();
    assert!(
        first_process
            .access_token()
            .await
            .unwrap()
            .same_secret(&third)
    );
    let on_disk = load(&store, first_process.account_key())
        .await
        .unwrap()
        .unwrap();
    assert!(
        on_disk.access_token().same_secret(&third),
        "the newest set is saved"
    );
    let log = server.log();
    assert!(!log.any_refresh_token_sent_twice());
    assert_eq!(
        log.refusals("invalid_grant"),
        0,
        "the spent refresh token was never sent"
    );
}

#[tokio::test]
async fn a_read_only_file_system_refuses_before_any_refresh_token_is_spent() {
    if !can_mount() {
        return;
    }
    let source = tempfile::tempdir().unwrap();
    let at = tempfile::tempdir().unwrap();
    let mount = Mount::bind(source.path(), at.path());
    let store = FileStore::open(at.path().join("tokens")).unwrap();
    let server = auth_server().await;
    let manager = manager(&server, &store);
    let first = manager.access_token().await.unwrap();

    mount.read_only(true);
    server.clock().advance(Duration::hours(2));
    let error = manager.access_token().await.unwrap_err();
    let Error::Store(StoreError::Io {
        operation, source, ..
    }) = &error
    else {
        panic!("expected a store I/O error, got {error:?}");
    };
    assert!(operation.contains("lock"), "{operation}");
    assert!(source.to_string().contains("Read-only"), "{source}");
    assert_eq!(
        server.log().count("refresh_token"),
        0,
        "the hold could not be taken, so the refresh token was not spent"
    );

    mount.read_only(false);
    server.clock().advance(Duration::seconds(2)); // past the failure cooldown
    let second = manager.access_token().await.unwrap();
    assert!(!second.same_secret(&first));
    let on_disk = load(&store, manager.account_key()).await.unwrap().unwrap();
    assert!(on_disk.access_token().same_secret(&second));
    assert!(!server.log().any_refresh_token_sent_twice());
}

#[tokio::test]
async fn a_store_directory_removed_under_a_manager_is_made_again() {
    let dir = tempfile::tempdir().unwrap();
    let store = FileStore::open(dir.path().join("tokens")).unwrap();
    let server = auth_server().await;
    let manager = manager(&server, &store);
    manager.access_token().await.unwrap();

    fs::remove_dir_all(dir.path().join("tokens")).unwrap();
    server.clock().advance(Duration::hours(2));
    let second = manager.access_token().await.unwrap();
    let on_disk = load(&store, manager.account_key()).await.unwrap().unwrap();
    assert!(
        on_disk.access_token().same_secret(&second),
        "saved in the new directory"
    );
    assert!(!server.log().any_refresh_token_sent_twice());
}

#[tokio::test]
async fn every_failing_write_step_is_named_and_nothing_is_torn() {
    let dir = tempfile::tempdir().unwrap();
    let store = FileStore::open(dir.path()).unwrap();
    let server = auth_server().await;
    let manager = manager(&server, &store);
    let mut current = manager.access_token().await.unwrap();
    for (step, operation) in [
        (WriteStep::CreateTemp, "creating the temporary file"),
        (WriteStep::Write, "writing"),
        (WriteStep::Flush, "flushing"),
        (WriteStep::SyncFile, "syncing (fsync) the file"),
        (WriteStep::Rename, "renaming over"),
        (WriteStep::SyncDir, "syncing (fsync) the directory"),
    ] {
        let before = load(&store, manager.account_key()).await.unwrap().unwrap();
        store.inject_write_failure(step);
        server.clock().advance(Duration::hours(2));
        let error = manager.access_token().await.unwrap_err();
        let Error::UnsavedRotation {
            source: StoreError::Io {
                operation: said, ..
            },
            ..
        } = &error
        else {
            panic!("{step:?}: expected UnsavedRotation with an I/O error, got {error:?}");
        };
        assert_eq!(said, operation, "{step:?}");
        assert!(error.to_string().contains("could not be saved"), "{error}");
        if step != WriteStep::SyncDir {
            // Until the rename, the old file is untouched.
            let on_disk = load(&store, manager.account_key()).await.unwrap().unwrap();
            assert!(
                on_disk.access_token().same_secret(before.access_token()),
                "{step:?}: the old set is intact"
            );
        }
        assert_eq!(
            temp_files(dir.path()),
            0,
            "{step:?}: no temporary file left"
        );
        let served = manager.access_token().await.unwrap();
        assert!(
            !served.same_secret(&current),
            "{step:?}: the new set is served"
        );
        current = served;
    }
    // With the disk healthy again, the next refresh saves the newest set.
    server.clock().advance(Duration::hours(2));
    let last = manager.access_token().await.unwrap();
    let on_disk = load(&store, manager.account_key()).await.unwrap().unwrap();
    assert!(on_disk.access_token().same_secret(&last));
    let log = server.log();
    assert!(!log.any_refresh_token_sent_twice());
    assert_eq!(log.refusals("invalid_grant"), 0);
}

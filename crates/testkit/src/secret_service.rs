//! A real Secret Service for tests: GNOME Keyring in a D-Bus session of
//! its own, started per test and stopped when dropped.
//!
//! The `keyring` crate talks to whatever Secret Service the process's
//! session bus offers, and a test must neither touch the keyring of the
//! person running it nor depend on a desktop. So [`SecretService::start`]
//! starts a private `dbus-daemon` and, on it, `gnome-keyring-daemon` with a
//! login keyring created and unlocked in a temporary directory; the code
//! under test then runs in a child process whose environment points at that
//! bus ([`SecretService::run_test_inside`]), because a process's session
//! bus is fixed by its environment when it first connects.
//!
//! Without `dbus-daemon`, `dbus-send`, `gnome-keyring-daemon` or
//! `secret-tool` (Debian's `dbus-daemon`, `dbus-bin`, `gnome-keyring` and
//! `libsecret-tools` packages) [`SecretService::start`] returns `None`
//! after printing `SKIPPED`; with `AUTHKIT_REQUIRE_REAL_SERVERS=1` (as in
//! CI) it panics instead.

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

/// Set in the child process a test runs in, inside the session.
pub const INSIDE: &str = "AUTHKIT_SECRET_SERVICE_INSIDE";

/// The login keyring's password in these sessions.
pub const KEYRING_PASSWORD: &str = "authkit-test-keyring-password";

/// A private D-Bus session with GNOME Keyring's Secret Service on it.
#[derive(Debug)]
pub struct SecretService {
    bus: Child,
    address: String,
    dir: PathBuf,
}

impl Drop for SecretService {
    fn drop(&mut self) {
        // The keyring daemon leaves when its bus goes.
        let _ = self.bus.kill();
        let _ = self.bus.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn required() -> bool {
    std::env::var("AUTHKIT_REQUIRE_REAL_SERVERS").as_deref() == Ok("1")
}

/// Whether `program` is on the `PATH`.
fn installed(program: &str) -> bool {
    std::env::var_os("PATH")
        .is_some_and(|path| std::env::split_paths(&path).any(|dir| dir.join(program).is_file()))
}

impl SecretService {
    /// Whether this process is the child a test runs in, inside a session.
    pub fn inside() -> bool {
        std::env::var_os(INSIDE).is_some()
    }

    /// Starts a session with an unlocked login keyring.
    pub fn start() -> Option<Self> {
        let missing: Vec<&str> = [
            "dbus-daemon",
            "gnome-keyring-daemon",
            "dbus-send",
            "secret-tool",
        ]
        .into_iter()
        .filter(|p| !installed(p))
        .collect();
        if !missing.is_empty() {
            assert!(
                !required(),
                "{} not installed, and AUTHKIT_REQUIRE_REAL_SERVERS=1 (apt-get install dbus-daemon dbus-bin gnome-keyring libsecret-tools)",
                missing.join(", ")
            );
            eprintln!("SKIPPED: {} not installed", missing.join(", "));
            return None;
        }
        static NEXT: AtomicU32 = AtomicU32::new(0);
        let dir = std::env::temp_dir().join(format!(
            "authkit-secret-service-{}-{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        ));
        for sub in ["data", "run", "state"] {
            std::fs::create_dir_all(dir.join(sub)).expect("a session directory");
        }
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let _ =
                std::fs::set_permissions(dir.join("run"), std::fs::Permissions::from_mode(0o700));
        }
        let mut bus = Command::new("dbus-daemon")
            .args(["--session", "--nofork", "--print-address=1"])
            .arg(format!("--address=unix:path={}", dir.join("bus").display()))
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("dbus-daemon");
        let mut address = String::new();
        BufReader::new(bus.stdout.take().expect("piped"))
            .read_line(&mut address)
            .expect("the bus address");
        let session = Self {
            bus,
            address: address.trim().to_owned(),
            dir,
        };
        let mut keyring = session
            .command("gnome-keyring-daemon")
            .args(["--unlock", "--components=secrets"])
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("gnome-keyring-daemon");
        keyring
            .stdin
            .take()
            .expect("piped")
            .write_all(KEYRING_PASSWORD.as_bytes())
            .expect("the keyring password");
        keyring.wait().expect("gnome-keyring-daemon starts");
        session.wait_for_secret_service();
        Some(session)
    }

    /// A command with this session's environment: its bus, and a home,
    /// data, state and runtime directory of its own.
    pub fn command(&self, program: impl AsRef<std::ffi::OsStr>) -> Command {
        let mut command = Command::new(program);
        for (name, value) in self.env() {
            command.env(name, value);
        }
        command
    }

    /// The environment a process in this session needs.
    pub fn env(&self) -> Vec<(&'static str, String)> {
        let path = |sub: &str| self.dir.join(sub).display().to_string();
        vec![
            ("DBUS_SESSION_BUS_ADDRESS", self.address.clone()),
            ("HOME", self.dir.display().to_string()),
            ("XDG_DATA_HOME", path("data")),
            ("XDG_STATE_HOME", path("state")),
            ("XDG_RUNTIME_DIR", path("run")),
        ]
    }

    /// The session's own directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Locks the login keyring, as a screen lock or a timeout does: reads
    /// and writes then need an unlock prompt, which cannot be shown here.
    pub fn lock_keyring(&self) {
        let status = self
            .command("dbus-send")
            .args([
                "--session",
                "--dest=org.freedesktop.secrets",
                "--print-reply",
                "/org/freedesktop/secrets",
                "org.freedesktop.Secret.Service.Lock",
                "array:objpath:/org/freedesktop/secrets/collection/login",
            ])
            .stdout(Stdio::null())
            .status()
            .expect("dbus-send");
        assert!(status.success(), "the keyring did not lock");
    }

    /// Runs the test `name` of this test binary again in a child process
    /// inside this session (with [`INSIDE`] set), and fails when it fails.
    pub fn run_test_inside(&self, name: &str) {
        let output = self
            .command(std::env::current_exe().expect("the test binary"))
            .args([name, "--exact", "--nocapture", "--test-threads=1"])
            .env(INSIDE, "1")
            .output()
            .expect("the test binary runs");
        let printed = format!(
            "{}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
        assert!(
            output.status.success(),
            "{name} failed inside the Secret Service session:\n{printed}"
        );
        assert!(
            printed.contains("1 passed"),
            "{name} did not run inside the session:\n{printed}"
        );
    }

    fn wait_for_secret_service(&self) {
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            let output = self
                .command("dbus-send")
                .args([
                    "--session",
                    "--dest=org.freedesktop.DBus",
                    "--print-reply",
                    "/org/freedesktop/DBus",
                    "org.freedesktop.DBus.NameHasOwner",
                    "string:org.freedesktop.secrets",
                ])
                .output()
                .expect("dbus-send");
            if String::from_utf8_lossy(&output.stdout).contains("boolean true") {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "GNOME Keyring did not offer the Secret Service within 15 s"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

//! A real `redis-server` for the tests, on a Unix socket in a temporary
//! directory, started and stopped by the tests themselves.
#![allow(dead_code)]

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A running `redis-server`; stopped when dropped.
pub struct RedisServer {
    dir: tempfile::TempDir,
    child: Option<Child>,
    password: Option<String>,
    extra: Vec<String>,
}

impl RedisServer {
    /// Starts one, or returns `None` (loudly) when `redis-server` is not on
    /// PATH. With `AUTHKIT_REQUIRE_REDIS=1` a missing server fails the test.
    pub fn start() -> Option<Self> {
        Self::start_with_password(None)
    }

    /// Starts one that requires `password`.
    pub fn start_with_password(password: Option<&str>) -> Option<Self> {
        let found = Command::new("redis-server")
            .arg("--version")
            .stdout(Stdio::null())
            .status()
            .is_ok();
        if !found {
            if std::env::var("AUTHKIT_REQUIRE_REDIS").as_deref() == Ok("1") {
                panic!("redis-server is not on PATH and AUTHKIT_REQUIRE_REDIS=1");
            }
            eprintln!(
                "SKIPPED: redis-server is not on PATH; install it (Debian: redis-server) to run the Redis store's tests"
            );
            return None;
        }
        let mut server = Self {
            dir: tempfile::tempdir().expect("temporary directory"),
            child: None,
            password: password.map(str::to_owned),
            extra: Vec::new(),
        };
        server.launch();
        Some(server)
    }

    /// Starts one with more `redis-server` arguments (`--maxmemory 2mb`).
    pub fn start_with_args(args: &[&str]) -> Option<Self> {
        let mut server = Self::start()?;
        server.extra = args.iter().map(|a| (*a).to_owned()).collect();
        server.restart();
        Some(server)
    }

    fn socket(&self) -> PathBuf {
        self.dir.path().join("redis.sock")
    }

    fn launch(&mut self) {
        let _ = std::fs::remove_file(self.socket());
        let mut command = Command::new("redis-server");
        command
            .args([
                "--port",
                "0",
                "--save",
                "",
                "--appendonly",
                "no",
                "--unixsocketperm",
                "700",
            ])
            .arg("--unixsocket")
            .arg(self.socket())
            .arg("--dir")
            .arg(self.dir.path())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        if let Some(password) = &self.password {
            command.args(["--requirepass", password]);
        }
        command.args(&self.extra);
        self.child = Some(command.spawn().expect("start redis-server"));
        let started = Instant::now();
        while !self.socket().exists() {
            assert!(
                started.elapsed() < Duration::from_secs(10),
                "redis-server did not start"
            );
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// The URL to connect with (with the password, if any).
    pub fn url(&self) -> String {
        match &self.password {
            Some(password) => format!("redis+unix://{}?pass={password}", self.socket().display()),
            None => format!("redis+unix://{}", self.socket().display()),
        }
    }

    /// The URL with another password.
    pub fn url_with_password(&self, password: &str) -> String {
        format!("redis+unix://{}?pass={password}", self.socket().display())
    }

    /// Stops the server (its data is lost: no persistence).
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
        let _ = std::fs::remove_file(self.socket());
    }

    /// Starts it again on the same socket.
    pub fn restart(&mut self) {
        self.stop();
        self.launch();
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        self.stop();
    }
}

/// The testkit's server with one user and rotating, reuse-detecting refresh
/// tokens: what the Redis tests sign in against.
pub async fn auth_server() -> authkit_testkit::MockAuthServer {
    authkit_testkit::MockAuthServer::builder()
        .user("alice", "pw")
        .client(authkit_testkit::MockClient::public("api"))
        .refresh_policy(authkit_testkit::RefreshPolicy {
            rotate: true,
            reuse_detection: true,
        })
        .start()
        .await
}

/// The account `demo:alice` at `server`, with the password grant.
pub fn provider(server: &authkit_testkit::MockAuthServer) -> authkit_core::GenericProvider {
    use authkit_core::grant::PasswordGrant;
    use authkit_core::{ClientAuth, GenericProvider, Password, TokenEndpoint};
    let endpoint = TokenEndpoint::builder(server.token_url())
        .client_auth(ClientAuth::public("api"))
        .build()
        .unwrap();
    GenericProvider::new("demo:alice", endpoint)
        .with_grant(PasswordGrant::new("alice", Password::new("pw")))
}

/// Stalls `redis` for `seconds` (`DEBUG SLEEP`, which needs
/// `--enable-debug-command yes`) without waiting for its reply.
pub async fn stall(redis: &RedisServer, seconds: u32) {
    let client = redis::Client::open(redis.url()).unwrap();
    let mut raw = client.get_multiplexed_async_connection().await.unwrap();
    tokio::spawn(async move {
        // The reply comes after the stall; this client may time out first.
        let _: redis::RedisResult<()> = redis::cmd("DEBUG")
            .arg("SLEEP")
            .arg(seconds)
            .query_async(&mut raw)
            .await;
    });
    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
}
pub mod cluster;

/// Starts every one of `commands` (helper processes of a test), waits for
/// them all off the async runtime, and asserts each one succeeded; `context`
/// says which step failed.
pub async fn all_succeed(commands: Vec<Command>, context: &str) {
    let children: Vec<Child> = commands
        .into_iter()
        .map(|mut command| command.spawn().expect("a helper process starts"))
        .collect();
    let outputs = tokio::task::spawn_blocking(move || {
        children
            .into_iter()
            .map(|c| c.wait_with_output().expect("a helper process ends"))
            .collect::<Vec<_>>()
    })
    .await
    .expect("the waiting task ends");
    for output in outputs {
        assert!(
            output.status.success(),
            "{context}: {}",
            String::from_utf8_lossy(&output.stdout)
        );
    }
}

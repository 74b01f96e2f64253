//! The middleware against a real, widely used authorization server: Django
//! OAuth Toolkit (from PyPI), started here on 127.0.0.1 (see `tests/dot/`).
//! A token revoked at the server (RFC 7009) is replaced on the resource's
//! 401 and the call succeeds.
//!
//! Without Django OAuth Toolkit installed the test says SKIPPED; with
//! `AUTHKIT_REQUIRE_REAL_SERVERS=1` (as in CI) it fails instead.

use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use authkit_core::grant::PasswordGrant;
use authkit_core::{
    ClientAuth, ExposeSecret, GenericProvider, MemoryStore, Password, TokenEndpoint, TokenManager,
};
use authkit_http::AuthMiddleware;

const PASSWORD: &str = "correct horse battery staple";

/// A running Django OAuth Toolkit site; stopped when dropped.
struct DotServer {
    child: Child,
    port: u16,
    _db: tempfile::TempDir,
}

impl Drop for DotServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn site_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/dot")
}

fn dot_installed() -> bool {
    Command::new("python3")
        .args(["-c", "import django, oauth2_provider"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

impl DotServer {
    fn start() -> Option<Self> {
        if !dot_installed() {
            if std::env::var("AUTHKIT_REQUIRE_REAL_SERVERS").as_deref() == Ok("1") {
                panic!(
                    "Django OAuth Toolkit is not installed and AUTHKIT_REQUIRE_REAL_SERVERS=1 (pip install -r crates/http/tests/dot/requirements.txt)"
                );
            }
            eprintln!(
                "SKIPPED: Django OAuth Toolkit is not installed (pip install -r crates/http/tests/dot/requirements.txt)"
            );
            return None;
        }
        let db = tempfile::tempdir().expect("temporary directory");
        let db_path = db.path().join("db.sqlite3");
        let prepared = Command::new("python3")
            .arg("prepare.py")
            .arg(PASSWORD)
            .current_dir(site_dir())
            .env("AUTHKIT_DOT_DB", &db_path)
            .output()
            .expect("python3");
        assert!(
            prepared.status.success(),
            "prepare.py failed: {}",
            String::from_utf8_lossy(&prepared.stderr)
        );
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let child = Command::new("python3")
            .args([
                "manage.py",
                "runserver",
                &format!("127.0.0.1:{port}"),
                "--noreload",
            ])
            .current_dir(site_dir())
            .env("AUTHKIT_DOT_DB", &db_path)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("runserver");
        let server = Self {
            child,
            port,
            _db: db,
        };
        let deadline = Instant::now() + Duration::from_secs(60);
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "the Django site did not start");
            std::thread::sleep(Duration::from_millis(100));
        }
        Some(server)
    }

    fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_token_revoked_at_a_real_server_is_replaced_and_the_call_succeeds() {
    let Some(server) = DotServer::start() else {
        return;
    };
    let endpoint = TokenEndpoint::builder(server.url("/o/token/"))
        .client_auth(ClientAuth::public("authkit-test-client"))
        .build()
        .unwrap();
    let provider = GenericProvider::new("dot:alice", endpoint)
        .with_grant(PasswordGrant::new("alice", Password::new(PASSWORD)));
    let manager = TokenManager::new(provider, MemoryStore::new());
    let http = authkit_core::transport::http_client_builder()
        .unwrap()
        .build()
        .unwrap();
    let api = reqwest_middleware::ClientBuilder::new(http.clone())
        .with(AuthMiddleware::new(manager.clone()))
        .build();

    let response = api.get(server.url("/api/me")).send().await.unwrap();
    assert_eq!(response.status(), 200);
    let body: serde_json::Value = serde_json::from_slice(&response.bytes().await.unwrap()).unwrap();
    assert_eq!(body["user"], "alice");

    // Revoke the access token at the server (RFC 7009), as an administrator would.
    let first = manager.access_token().await.unwrap();
    let revoked = http
        .post(server.url("/o/revoke_token/"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!(
            "token={}&token_type_hint=access_token&client_id=authkit-test-client",
            first.expose_secret()
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(revoked.status(), 200, "the server revoked the token");
    let refused = http
        .get(server.url("/api/me"))
        .header(reqwest::header::AUTHORIZATION, first.bearer_header())
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 401, "the old token is refused now");

    let response = api.get(server.url("/api/me")).send().await.unwrap();
    assert_eq!(response.status(), 200, "replaced and replayed");
    let now = manager.access_token().await.unwrap();
    assert!(!now.same_secret(&first), "a new token is in use");
}

//! `authkit login` in a real browser: headless Chromium (Debian's, driven
//! through `chromedriver` by fantoccini) opens the URL the command prints,
//! signs in on the sign-in form of a real authorization server (panva's
//! oidc-provider, from the testkit), follows the redirect to the command's
//! loopback receiver, and the test reads the page the person sees. Then the
//! account serves tokens. The same for a declined sign-in and for a
//! response that does not answer the sign-in in progress. Screenshots of
//! every page go to `target/tmp/browser-screenshots/`.
//!
//! Without Chromium, chromedriver or the server the tests say SKIPPED; with
//! `AUTHKIT_REQUIRE_REAL_SERVERS=1` (as in CI) they fail instead.

mod support;

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use authkit_testkit::oidc_provider::OidcProvider;
use fantoccini::{Client, ClientBuilder, Locator};

const CLIENT: &str = "authkit-browser";

fn required() -> bool {
    std::env::var("AUTHKIT_REQUIRE_REAL_SERVERS").as_deref() == Ok("1")
}

/// A running chromedriver; stopped when dropped.
struct Driver {
    child: Child,
    port: u16,
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

impl Driver {
    fn start() -> Option<Self> {
        let installed = ["chromedriver", "chromium"].iter().all(|program| {
            Command::new(program)
                .arg("--version")
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status()
                .is_ok_and(|s| s.success())
        });
        if !installed {
            assert!(
                !required(),
                "chromium and chromedriver are not installed, and AUTHKIT_REQUIRE_REAL_SERVERS=1 (apt-get install chromium chromium-driver)"
            );
            eprintln!("SKIPPED: chromium and chromedriver are not installed");
            return None;
        }
        let port = free_port();
        let child = Command::new("chromedriver")
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver");
        let deadline = std::time::Instant::now() + Duration::from_secs(20);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                std::time::Instant::now() < deadline,
                "chromedriver did not start"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        Some(Self { child, port })
    }

    async fn browser(&self) -> Client {
        let mut capabilities = serde_json::Map::new();
        capabilities.insert(
            "goog:chromeOptions".into(),
            serde_json::json!({
                "binary": "/usr/bin/chromium",
                "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=900,700"]
            }),
        );
        ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
            .capabilities(capabilities)
            .connect(&format!("http://127.0.0.1:{}", self.port))
            .await
            .expect("a browser session")
    }
}

/// `authkit login vonage` against the server, started; returns the child
/// and the authorization URL it printed.
fn login(store: &Path, server: &OidcProvider) -> (Child, String) {
    login_with(
        store,
        &[
            "login",
            "vonage",
            "--client-id",
            CLIENT,
            "--redirect-uri",
            "http://127.0.0.1:0/callback",
            "--authorize-url",
            &server.url("/auth"),
            "--token-url",
            &server.url("/token"),
            "--no-browser",
            "--timeout",
            "60",
        ],
    )
}

/// `authkit` with the store, a profiles file beside it and the client
/// secret in the environment.
fn authkit(store: &Path) -> Command {
    let mut command = support::authkit(store);
    command.env("AUTHKIT_CLIENT_SECRET", OidcProvider::CLIENT_SECRET);
    command
}

/// `authkit <args>` (a sign-in), started; returns the child and the
/// authorization URL it printed.
fn login_with(store: &Path, args: &[&str]) -> (Child, String) {
    let mut child = authkit(store)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("authkit login");
    let stderr = child.stderr.take().unwrap();
    let mut lines = BufReader::new(stderr).lines();
    let url = loop {
        let line = lines
            .next()
            .expect("authkit login ended before printing a URL")
            .unwrap();
        if let Some(url) = line.trim().strip_prefix("http") {
            break format!("http{url}");
        }
    };
    // Keep draining stderr so the command never blocks on it.
    std::thread::spawn(move || for _ in lines {});
    (child, url)
}

async fn exit_code(mut child: Child) -> i32 {
    tokio::task::spawn_blocking(move || child.wait().unwrap().code().unwrap_or(-1))
        .await
        .unwrap()
}

fn screenshots() -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("browser-screenshots");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

async fn screenshot(browser: &Client, name: &str) {
    let png = browser.screenshot().await.expect("a screenshot");
    std::fs::write(screenshots().join(format!("{name}.png")), png).unwrap();
}

async fn page_text(browser: &Client) -> String {
    browser
        .find(Locator::Css("main"))
        .await
        .expect("the page's main landmark")
        .text()
        .await
        .unwrap()
}

/// Waits until the browser has followed the redirect to the receiver and
/// the receiver's page is there.
async fn at_receiver(browser: &Client) {
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    loop {
        let url = browser.current_url().await.unwrap();
        if url.host_str() == Some("127.0.0.1") && url.path() == "/callback" {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the browser never reached the receiver (at {url})"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    browser
        .wait()
        .for_element(Locator::Css("main"))
        .await
        .expect("the receiver's page");
}

async fn sign_in_form(browser: &Client, url: &str) {
    browser.goto(url).await.expect("the authorization URL");
    browser
        .wait()
        .for_element(Locator::Css("input[name=login]"))
        .await
        .expect("the sign-in form");
}

/// Signs in as `user` on the form at `url` (taking a screenshot of the form
/// named `form_shot`, if given), and waits for the receiver's page.
async fn sign_in_as(browser: &Client, url: &str, user: &str, form_shot: Option<&str>) {
    sign_in_form(browser, url).await;
    if let Some(name) = form_shot {
        screenshot(browser, name).await;
    }
    browser
        .find(Locator::Css("input[name=login]"))
        .await
        .unwrap()
        .send_keys(user)
        .await
        .unwrap();
    browser
        .find(Locator::Css("input[name=password]"))
        .await
        .unwrap()
        .send_keys(OidcProvider::PASSWORD)
        .await
        .unwrap();
    browser
        .find(Locator::Id("sign-in"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    at_receiver(browser).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_profile_signs_in_in_a_browser_at_a_server_it_discovered() {
    let (Some(driver), Some(server)) = (Driver::start(), OidcProvider::start()) else {
        return;
    };
    let store = tempfile::tempdir().unwrap();
    let added = authkit(store.path())
        .args(["profile", "add", "web", "--grant", "code"])
        .args(["--issuer", server.issuer()])
        .args(["--client-id", CLIENT, "--client-auth", "basic"])
        .args(["--scope", "openid offline_access"])
        .output()
        .unwrap();
    assert!(added.status.success());
    let (child, url) = login_with(
        store.path(),
        &[
            "login",
            "--profile",
            "web",
            "--no-browser",
            "--timeout",
            "60",
        ],
    );
    // The URL is the discovered authorization endpoint, with PKCE.
    let parsed = url::Url::parse(&url).unwrap();
    assert_eq!(
        format!("{}{}", parsed.origin().ascii_serialization(), parsed.path()),
        server.url("/auth")
    );
    let query: std::collections::HashMap<_, _> = parsed.query_pairs().into_owned().collect();
    assert_eq!(
        query.get("code_challenge_method").map(String::as_str),
        Some("S256")
    );
    assert_eq!(query.get("client_id").map(String::as_str), Some(CLIENT));
    let browser = driver.browser().await;
    sign_in_as(&browser, &url, "frank", None).await;
    let text = page_text(&browser).await;
    screenshot(&browser, "profile-signed-in").await;
    assert!(text.contains("Signed in"), "{text}");
    assert!(text.contains(&format!("web:{CLIENT}")), "{text}");
    browser.close().await.unwrap();
    assert_eq!(exit_code(child).await, 0, "authkit login failed");

    // The profile's account serves the tokens it signed in with.
    let output = authkit(store.path())
        .args(["token", "--profile", "web", "--json"])
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let json: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert!(
        json["account"]
            .as_str()
            .is_some_and(|a| a.starts_with(&format!("web:{CLIENT}#"))),
        "{json}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_that_must_push_signs_in_in_a_browser_with_a_pushed_request() {
    let (Some(driver), Some(server)) = (Driver::start(), OidcProvider::start()) else {
        return;
    };
    let store = tempfile::tempdir().unwrap();
    // authkit-par is registered to require pushed requests; the server's
    // metadata cannot say so for one client, so the profile asks.
    let added = authkit(store.path())
        .args(["profile", "add", "pushed", "--grant", "code", "--par"])
        .args(["--issuer", server.issuer()])
        .args(["--client-id", "authkit-par", "--client-auth", "basic"])
        .args(["--scope", "openid offline_access"])
        .output()
        .unwrap();
    assert!(
        added.status.success(),
        "{}",
        String::from_utf8_lossy(&added.stderr)
    );
    let (child, url) = login_with(
        store.path(),
        &[
            "login",
            "--profile",
            "pushed",
            "--no-browser",
            "--timeout",
            "60",
        ],
    );
    // The URL carries nothing but the client and the pushed request.
    let parsed = url::Url::parse(&url).unwrap();
    let names: Vec<String> = parsed.query_pairs().map(|(k, _)| k.into_owned()).collect();
    assert_eq!(names, ["client_id", "request_uri"], "{url}");
    let browser = driver.browser().await;
    sign_in_as(&browser, &url, "pat", None).await;
    let text = page_text(&browser).await;
    screenshot(&browser, "pushed-signed-in").await;
    assert!(text.contains("Signed in"), "{text}");
    browser.close().await.unwrap();
    assert_eq!(exit_code(child).await, 0, "authkit login failed");

    let output = authkit(store.path())
        .args(["token", "--profile", "pushed"])
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(!output.stdout.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_person_signs_in_in_a_browser_and_the_account_then_serves_tokens() {
    let (Some(driver), Some(server)) = (Driver::start(), OidcProvider::start()) else {
        return;
    };
    let store = tempfile::tempdir().unwrap();
    let (child, url) = login(store.path(), &server);
    let browser = driver.browser().await;
    sign_in_as(&browser, &url, "erin", Some("sign-in-form")).await;
    let text = page_text(&browser).await;
    screenshot(&browser, "signed-in").await;
    assert!(text.contains("Signed in"), "{text}");
    assert!(text.contains(&format!("vonage:{CLIENT}:default")), "{text}");
    assert_eq!(browser.title().await.unwrap(), "Signed in · authkit");
    // The page's URL held the code; the page itself holds none of it.
    let source = browser.source().await.unwrap();
    let current = browser.current_url().await.unwrap();
    let code = current
        .query_pairs()
        .find(|(k, _)| k == "code")
        .map(|(_, v)| v.into_owned())
        .expect("a code in the redirect");
    assert!(!source.contains(&code), "the code is on the page");
    // The page's Content-Security-Policy is in force: nothing may load.
    let violated = browser
        .execute(
            "return new Promise(resolve => {
                document.addEventListener('securitypolicyviolation', e => resolve(e.effectiveDirective));
                const probe = new Image();
                probe.src = 'http://127.0.0.1:9/probe.png';
                document.body.appendChild(probe);
                setTimeout(() => resolve('nothing blocked'), 3000);
            });",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(
        violated,
        serde_json::json!("img-src"),
        "the CSP did not block a load"
    );
    browser.close().await.unwrap();
    assert_eq!(exit_code(child).await, 0, "authkit login failed");

    // The account serves tokens, with nothing but the account's settings.
    let output = Command::new(env!("CARGO_BIN_EXE_authkit"))
        .env_remove("AUTHKIT_STORE")
        .env_remove("AUTHKIT_CLIENT_SECRET")
        .env("AUTHKIT_TOKEN_STORE", "file")
        .arg("--store")
        .arg(store.path())
        .args(["token", "vonage", "--client-id", CLIENT])
        .args(["--token-url", &server.url("/token")])
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let token = String::from_utf8(output.stdout).unwrap();
    assert!(token.trim().len() > 20, "{token}");

    // The account remembers the server it signed in to: without
    // --token-url it is the same account, not one at Vonage's own host.
    let remembered = authkit(store.path())
        .args(["token", "vonage", "--client-id", CLIENT])
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert!(
        remembered.status.success(),
        "{}",
        String::from_utf8_lossy(&remembered.stderr)
    );
    assert_eq!(String::from_utf8(remembered.stdout).unwrap(), token);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_declined_sign_in_shows_so_and_the_command_says_it_was_refused() {
    let (Some(driver), Some(server)) = (Driver::start(), OidcProvider::start()) else {
        return;
    };
    let store = tempfile::tempdir().unwrap();
    let (child, url) = login(store.path(), &server);
    let browser = driver.browser().await;
    sign_in_form(&browser, &url).await;
    browser
        .find(Locator::Id("deny"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    at_receiver(&browser).await;
    let text = page_text(&browser).await;
    screenshot(&browser, "declined").await;
    assert!(text.contains("Sign-in cancelled"), "{text}");
    assert!(text.contains("declined"), "{text}");
    browser.close().await.unwrap();
    assert_eq!(exit_code(child).await, 3, "a refusal is exit code 3");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_response_to_another_sign_in_is_refused_in_the_browser_too() {
    let (Some(driver), Some(server)) = (Driver::start(), OidcProvider::start()) else {
        return;
    };
    let store = tempfile::tempdir().unwrap();
    let (child, authorize) = login(store.path(), &server);
    let redirect = url::Url::parse(&authorize)
        .unwrap()
        .query_pairs()
        .find(|(k, _)| k == "redirect_uri")
        .map(|(_, v)| v.into_owned())
        .unwrap();
    let browser = driver.browser().await;
    browser
        .goto(&format!(
            "{redirect}?code=planted-code&state=not-this-sign-in"
        ))
        .await
        .unwrap();
    let text = page_text(&browser).await;
    screenshot(&browser, "not-this-sign-in").await;
    assert!(
        text.contains("does not belong to the sign-in in progress"),
        "{text}"
    );
    assert!(!browser.source().await.unwrap().contains("planted-code"));
    browser.close().await.unwrap();
    assert_ne!(exit_code(child).await, 0);
}

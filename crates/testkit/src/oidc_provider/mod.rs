//! A real, OpenID Certified authorization server for integration tests:
//! panva's `oidc-provider` (from npm), configured in `oidc-provider/` next to
//! this crate and started on 127.0.0.1 by [`OidcProvider::start`].
//!
//! It offers discovery, client credentials, the device flow, revocation,
//! introspection and resource indicators, and authenticates clients with
//! `client_secret_basic`, `client_secret_post`, `client_secret_jwt`,
//! `private_key_jwt` (RS256, ES256, EdDSA) and `none`. Its sign-in page is a
//! form (any user name, the password [`OidcProvider::PASSWORD`]); consent is
//! granted automatically. [`OidcProvider::approve_device`] plays the person
//! at the device verification page, without a browser.
//!
//! Without Node.js or the site's `node_modules` (`npm ci` in
//! `crates/testkit/oidc-provider`) [`OidcProvider::start`] returns `None`
//! after printing `SKIPPED`; with `AUTHKIT_REQUIRE_REAL_SERVERS=1` (as in CI)
//! it panics instead.

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

mod browser;

use browser::{Browser, Page, find_form, find_form_by_action, form_from, forms};

/// A running `oidc-provider`; stopped when dropped.
#[derive(Debug)]
pub struct OidcProvider {
    child: Child,
    issuer: String,
}

impl Drop for OidcProvider {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The site's directory: `server.mjs`, `package.json`, the test keys.
pub fn site_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("oidc-provider")
}

/// A test client key under `oidc-provider/keys/` (`es256.pem`,
/// `rs256.jwk.json` ...). Test-only keys, published with the repository.
pub fn test_key(name: &str) -> Vec<u8> {
    std::fs::read(site_dir().join("keys").join(name))
        .unwrap_or_else(|e| panic!("test key {name}: {e}"))
}

fn required() -> bool {
    std::env::var("AUTHKIT_REQUIRE_REAL_SERVERS").as_deref() == Ok("1")
}

impl OidcProvider {
    /// The password its sign-in form accepts.
    pub const PASSWORD: &'static str = "correct horse battery staple";
    /// The secret of the confidential clients `authkit-basic` and
    /// `authkit-post`.
    pub const CLIENT_SECRET: &'static str = "authkit-test-secret";
    /// The secret of `authkit-secret-jwt` (HS256 needs 32 bytes or more).
    pub const CLIENT_SECRET_JWT_SECRET: &'static str =
        "client-secret-jwt-secret-of-at-least-32-bytes!";
    /// The one-time code its sign-in form asks for when a sign-in asks for
    /// [`OidcProvider::LOA_SECOND_FACTOR`].
    pub const ONE_TIME_CODE: &'static str = "246810";
    /// The authentication class (`acr`) of a sign-in with a password.
    pub const LOA_PASSWORD: &'static str = "urn:authkit:loa:1";
    /// The class of a sign-in with a password and the one-time code.
    pub const LOA_SECOND_FACTOR: &'static str = "urn:authkit:loa:2";
    /// A resource server it knows (scopes `api:read api:write`).
    pub const API: &'static str = "https://api.example.test/";
    /// Another resource server it knows (scope `reports:read`).
    pub const REPORTS: &'static str = "https://reports.example.test/";

    /// Starts the server with access tokens valid for an hour.
    pub fn start() -> Option<Self> {
        Self::start_with_access_ttl(3600)
    }

    /// Starts the server with access tokens valid for `seconds`.
    pub fn start_with_access_ttl(seconds: u64) -> Option<Self> {
        let site = site_dir();
        let missing = if !site.join("node_modules/oidc-provider").is_dir() {
            Some("its node_modules are missing (npm ci in crates/testkit/oidc-provider)")
        } else if Command::new("node")
            .arg("--version")
            .stdout(Stdio::null())
            .status()
            .map(|s| !s.success())
            .unwrap_or(true)
        {
            Some("Node.js is not installed")
        } else {
            None
        };
        if let Some(why) = missing {
            assert!(
                !required(),
                "oidc-provider cannot start: {why}, and AUTHKIT_REQUIRE_REAL_SERVERS=1"
            );
            eprintln!("SKIPPED: oidc-provider cannot start: {why}");
            return None;
        }
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map(|a| a.port())
            .expect("a free port");
        let mut child = Command::new("node")
            .arg("server.mjs")
            .arg(port.to_string())
            .current_dir(&site)
            .env("AUTHKIT_OIDC_PASSWORD", Self::PASSWORD)
            .env("AUTHKIT_OIDC_ACCESS_TTL", seconds.to_string())
            .env("AUTHKIT_OIDC_OTP", Self::ONE_TIME_CODE)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("node server.mjs");
        let stdout = child.stdout.take().expect("piped stdout");
        let (ready_tx, ready_rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if let Some(issuer) = line.strip_prefix("ready ") {
                    let _ = ready_tx.send(issuer.to_owned());
                }
            }
        });
        let issuer = ready_rx
            .recv_timeout(Duration::from_secs(30))
            .expect("oidc-provider did not start within 30 s");
        Some(Self { child, issuer })
    }

    /// Its issuer identifier, `http://127.0.0.1:<port>`.
    pub fn issuer(&self) -> &str {
        &self.issuer
    }

    /// A URL on it.
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.issuer)
    }

    /// The server's metadata, discovered from its issuer.
    pub async fn metadata(&self) -> std::sync::Arc<authkit_core::discovery::ServerMetadata> {
        authkit_core::discovery::Discovery::new(authkit_core::endpoint::EndpointSettings::new())
            .metadata(self.issuer())
            .await
            .expect("oidc-provider's metadata")
    }

    /// Plays the person at the device verification page: opens
    /// `verification_uri_complete`, confirms the code, signs in as `user`
    /// (or denies when `approve` is false) and follows the redirects to the
    /// end. Returns the last page's text.
    pub async fn approve_device(
        &self,
        verification_uri_complete: &str,
        user: &str,
        approve: bool,
    ) -> String {
        let browser = Browser::new();
        let mut page = browser.get(verification_uri_complete).await;
        // The page with the code filled in submits itself (a script a
        // browser would run), then asks to confirm the code.
        if find_form(&page.body, "op.deviceConfirmForm").is_none() {
            let entry = forms(&page.body)
                .into_iter()
                .next()
                .map(|(tag, inner)| form_from(&tag, &inner))
                .unwrap_or_else(|| panic!("no form at {}: {}", page.url, page.body));
            page = browser.submit(&page.url, &entry, &[]).await;
        }
        let confirm = find_form(&page.body, "op.deviceConfirmForm")
            .unwrap_or_else(|| panic!("no confirmation form at {}: {}", page.url, page.body));
        let page = browser.submit(&page.url, &confirm, &[]).await;
        self.sign_in_on(&browser, page, user, approve).await
    }

    /// A whole device sign-in (RFC 8628) with `device` in `cx`: starts it,
    /// plays the person at the verification page (signing in as `user`, or
    /// denying when `approve` is false) while the client polls, and returns
    /// what the polling ended with.
    pub async fn device_sign_in(
        &self,
        device: &authkit_core::device::DeviceAuthorization,
        cx: &authkit_core::endpoint::RequestContext,
        user: &str,
        approve: bool,
    ) -> Result<authkit_core::TokenSet, authkit_core::Error> {
        let pending = device.start(cx).await?;
        let complete = pending
            .prompt()
            .verification_uri_complete()
            .expect("oidc-provider sends verification_uri_complete")
            .to_owned();
        let (tokens, _) = tokio::join!(
            pending.finish(cx),
            self.approve_device(&complete, user, approve)
        );
        tokens
    }

    /// Plays the person at a browser sign-in: opens `authorization_url`,
    /// signs in as `user` (with the one-time code too when the form asks
    /// for it; consent is granted by itself) and returns where
    /// the server then sends the browser: the client's redirect URI with
    /// `code`, `state` and `iss`, or with `error` when the server refused
    /// the request. The redirect is not followed, so nothing need listen
    /// there.
    pub async fn authorize(&self, authorization_url: &str, user: &str) -> url::Url {
        let browser = Browser::new();
        let page = browser.get(authorization_url).await;
        if let Some(back) = page.left_to {
            return back;
        }
        let form = find_form_by_action(&page.body, "login")
            .unwrap_or_else(|| panic!("no login form at {}: {}", page.url, page.body));
        let mut fields = vec![("login", user), ("password", Self::PASSWORD)];
        // The form asks for the second factor when the sign-in asked for
        // its class.
        if page.body.contains("name=\"otp\"") {
            fields.push(("otp", Self::ONE_TIME_CODE));
        }
        let page = browser.submit(&page.url, &form, &fields).await;
        page.left_to.unwrap_or_else(|| {
            panic!(
                "the sign-in did not return to the client (at {}): {}",
                page.url, page.body
            )
        })
    }

    /// Signs in on a page that holds the login form, or denies.
    async fn sign_in_on(&self, browser: &Browser, page: Page, user: &str, approve: bool) -> String {
        let (form_id, fields): (&str, Vec<(&str, &str)>) = if approve {
            ("login", vec![("login", user), ("password", Self::PASSWORD)])
        } else {
            ("abort", vec![])
        };
        let form = find_form_by_action(&page.body, form_id)
            .unwrap_or_else(|| panic!("no {form_id} form on {}: {}", page.url, page.body));
        let page = browser.submit(&page.url, &form, &fields).await;
        page.body
    }
}

/// Introspects `token` at the server `metadata` describes, as the Basic
/// client `authkit-basic` (a confidential client may introspect any token).
pub async fn introspect(
    metadata: &authkit_core::discovery::ServerMetadata,
    token: &str,
    hint: authkit_core::revocation::TokenTypeHint,
) -> authkit_core::introspection::Introspection {
    let endpoint = metadata
        .token_endpoint_builder(authkit_core::ClientAuth::basic(
            "authkit-basic",
            OidcProvider::CLIENT_SECRET,
        ))
        .expect("client_secret_basic is accepted")
        .build()
        .expect("the token endpoint");
    authkit_core::introspection::IntrospectionEndpoint::new(
        endpoint,
        metadata
            .introspection_endpoint()
            .expect("an introspection endpoint"),
    )
    .expect("the introspection endpoint")
    .introspect(
        token,
        Some(hint),
        &authkit_core::endpoint::RequestContext::default(),
    )
    .await
    .expect("introspection")
}

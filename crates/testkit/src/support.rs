//! Helpers every crate's tests share: a fast retry policy, endpoint settings
//! for a local server, bound token sets to seed stores with, loading and
//! saving through a store's hold, the assertions that no secret was shown,
//! and filling a (test's own, small) file system to the last byte.

use std::time::Duration;

use authkit_core::endpoint::{EndpointSettings, RetryPolicy};
use authkit_core::store::HeldAccount;
use authkit_core::{
    AccessToken, AccountKey, Error, RefreshToken, StoreError, TokenProvider, TokenSet, TokenStore,
};
use time::OffsetDateTime;

/// A retry policy fast enough for tests: `max_attempts` in all, a few
/// milliseconds apart.
pub fn quick_retries(max_attempts: u32) -> RetryPolicy {
    RetryPolicy {
        max_attempts,
        initial_backoff: Duration::from_millis(5),
        max_backoff: Duration::from_millis(20),
        max_elapsed: Duration::from_secs(5),
    }
}

/// Endpoint settings for a server at `base_url` (an adapter joins its paths
/// to it), with [`quick_retries`] and a 5 s timeout.
pub fn local_settings(base_url: impl Into<String>) -> EndpointSettings {
    EndpointSettings::new()
        .base_url(base_url)
        .retry_policy(quick_retries(3))
        .timeout(Duration::from_secs(5))
}

/// A token set as `provider`'s server would have issued it: bound to the
/// provider, issued at `issued_at`, living `lifetime`, with `refresh` as its
/// refresh token. For seeding stores.
pub fn issued_set(
    provider: &dyn TokenProvider,
    access: &str,
    refresh: Option<&str>,
    issued_at: OffsetDateTime,
    lifetime: Duration,
) -> TokenSet {
    TokenSet::expiring_in(AccessToken::new(access), issued_at, lifetime)
        .with_refresh_token(refresh.map(RefreshToken::new), None)
        .with_binding(provider.binding().clone())
}

/// Fails if any of `secrets` appears in `text`.
pub fn assert_no_secrets<S: AsRef<str>>(text: &str, secrets: &[S]) {
    for secret in secrets {
        let secret = secret.as_ref();
        assert!(
            !secret.is_empty() && !text.contains(secret),
            "secret {secret:?} leaked into: {text}"
        );
    }
}

/// Checks the `Debug` and `Display` of an error and of its whole `source()`
/// chain for `secrets`.
pub fn assert_error_has_no_secrets<S: AsRef<str>>(error: &Error, secrets: &[S]) {
    assert_no_secrets(&format!("{error:?}"), secrets);
    assert_no_secrets(&error.to_string(), secrets);
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        assert_no_secrets(&format!("{cause} {cause:?}"), secrets);
        source = cause.source();
    }
}

/// A wiremock server on 127.0.0.1 whose `POST /token` always answers with
/// `template`: for wire tests where one scripted answer is the point.
pub async fn token_endpoint_answering(
    template: wiremock::ResponseTemplate,
) -> wiremock::MockServer {
    let server = wiremock::MockServer::start().await;
    wiremock::Mock::given(wiremock::matchers::method("POST"))
        .and(wiremock::matchers::path("/token"))
        .respond_with(template)
        .mount(&server)
        .await;
    server
}

/// A JSON token response body.
pub fn token_json(
    access: &str,
    refresh: Option<&str>,
    expires_in: serde_json::Value,
) -> serde_json::Value {
    let mut body = serde_json::json!({
        "access_token": access,
        "token_type": "Bearer",
        "expires_in": expires_in,
    });
    if let Some(rt) = refresh {
        body["refresh_token"] = serde_json::json!(rt);
    }
    body
}

/// Loads `key` from `store` under its hold, as the manager does.
pub async fn load(
    store: &dyn TokenStore,
    key: &AccountKey,
) -> Result<Option<TokenSet>, StoreError> {
    HeldAccount::acquire(store, key).await?.load().await
}

/// Saves `tokens` for `key` in `store` under its hold.
pub async fn save(
    store: &dyn TokenStore,
    key: &AccountKey,
    tokens: &TokenSet,
) -> Result<(), StoreError> {
    HeldAccount::acquire(store, key)
        .await?
        .save(tokens, OffsetDateTime::now_utc())
        .await
}

/// Removes `key` from `store` under its hold.
pub async fn remove(store: &dyn TokenStore, key: &AccountKey) -> Result<(), StoreError> {
    HeldAccount::acquire(store, key).await?.remove().await
}

/// What the authorization endpoint's redirect carried: the code and the
/// `state`, as a loopback receiver would read them.
#[derive(Debug, Clone)]
pub struct AuthorizationRedirect {
    /// The authorization code.
    pub code: authkit_core::secret::AuthorizationCode,
    /// The `state` the redirect brought back, if any.
    pub state: Option<String>,
}

/// Plays the person at a [`crate::MockAuthServer`]'s authorization
/// endpoint: opens `authorization_url` (which signs in its first user and
/// approves at once) and reads the redirect's `code` and `state` without
/// following it. For the sign-in function of a browser provider's
/// conformance run.
pub async fn authorize(authorization_url: &str) -> Result<AuthorizationRedirect, String> {
    let browser = authkit_core::transport::http_client_builder()
        .map_err(|e| format!("no HTTP client: {e}"))?
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .map_err(|e| format!("no HTTP client: {e}"))?;
    let response = browser
        .get(authorization_url)
        .send()
        .await
        .map_err(|e| format!("the authorization endpoint failed: {e}"))?;
    let location = response
        .headers()
        .get("location")
        .and_then(|l| l.to_str().ok())
        .ok_or_else(|| {
            format!(
                "no redirect from the authorization endpoint ({})",
                response.status()
            )
        })?;
    let url =
        url::Url::parse(location).map_err(|e| format!("a redirect that is not a URL: {e}"))?;
    let param = |name: &str| {
        url.query_pairs()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.into_owned())
    };
    let code = param("code").ok_or_else(|| match param("error") {
        Some(error) => format!("the server refused the sign-in: {error}"),
        None => "a redirect without a code".to_owned(),
    })?;
    Ok(AuthorizationRedirect {
        code: authkit_core::secret::AuthorizationCode::new(code),
        state: param("state"),
    })
}

/// Holds a value whose `Drop` blocks on async work (a wiremock
/// `MockServer` verifies its expectations with `block_on` when dropped) and
/// drops it on a thread of its own.
///
/// Dropped inside a tokio task whose cooperative budget is spent (after
/// awaiting hundreds of finished join handles, say), such a `block_on`
/// polls a tokio lock that keeps answering "yield" and never gets the
/// budget back, so the test spins forever. Off the runtime there is no
/// budget, and the drop finishes. The value is reached through `Deref`.
#[derive(Debug)]
pub struct DropOffRuntime<T: Send + 'static>(Option<T>);

impl<T: Send + 'static> DropOffRuntime<T> {
    /// Wraps `value`.
    pub fn new(value: T) -> Self {
        Self(Some(value))
    }
}

impl<T: Send + 'static> std::ops::Deref for DropOffRuntime<T> {
    type Target = T;

    fn deref(&self) -> &T {
        self.0.as_ref().expect("present until dropped")
    }
}

impl<T: Send + 'static> Drop for DropOffRuntime<T> {
    fn drop(&mut self) {
        if let Some(value) = self.0.take() {
            // A panic in the value's drop is the test's failure, not ours.
            let _ = std::thread::spawn(move || drop(value)).join();
        }
    }
}

/// Fills the file system that holds `dir` to the last byte, growing the
/// file `filler` in `dir` (so a second call fills what was freed since);
/// returns that file, to be removed when the test makes room again. Meant
/// for a `tmpfs` a test mounted: on a real disk it writes until it is full.
pub fn fill_to_the_last_byte(dir: &std::path::Path) -> std::path::PathBuf {
    use std::io::Write;
    let filler = dir.join("filler");
    let Ok(mut file) = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&filler)
    else {
        // Not even the file could be made: the file system is full already.
        return filler;
    };
    let chunk = vec![0u8; 4096];
    while file.write_all(&chunk).is_ok() {}
    while file.write_all(&[0u8]).is_ok() {}
    filler
}

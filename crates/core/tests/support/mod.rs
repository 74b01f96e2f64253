//! Helpers shared by the core's integration tests.
#![allow(dead_code)]

use std::time::Duration;

use authkit_core::{ClientAuth, RetryPolicy, TokenEndpoint};
use wiremock::MockServer;

/// Fails if any of `secrets` appears in `text`.
pub fn assert_no_secrets(text: &str, secrets: &[&str]) {
    for secret in secrets {
        assert!(
            !text.contains(secret),
            "secret {secret:?} leaked into: {text}"
        );
    }
}

/// Checks the `Debug` and `Display` of an error and its whole source chain.
pub fn assert_error_has_no_secrets(error: &authkit_core::Error, secrets: &[&str]) {
    assert_no_secrets(&format!("{error:?}"), secrets);
    assert_no_secrets(&error.to_string(), secrets);
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        assert_no_secrets(&cause.to_string(), secrets);
        source = cause.source();
    }
}

/// A retry policy fast enough for tests.
pub fn quick_retries(max_attempts: u32) -> RetryPolicy {
    RetryPolicy {
        max_attempts,
        initial_backoff: Duration::from_millis(5),
        max_backoff: Duration::from_millis(20),
        max_elapsed: Duration::from_secs(5),
    }
}

/// An endpoint at `server`'s `/token` with the given client authentication.
pub fn endpoint(server: &MockServer, auth: ClientAuth) -> TokenEndpoint {
    TokenEndpoint::builder(format!("{}/token", server.uri()))
        .client_auth(auth)
        .retry_policy(quick_retries(3))
        .timeout(Duration::from_secs(5))
        .build()
        .expect("valid endpoint")
}

/// A JSON success body.
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

//! Any status and bytes as an error response: classified, never a panic.
#![no_main]

use authkit_core::endpoint::{ParseContext, ResponseParts, interpret};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if data.len() < 2 {
        return;
    }
    let status = 100 + u16::from_le_bytes([data[0], data[1]]) % 500;
    let body = &data[2..];
    let result = interpret(
        &ResponseParts {
            status,
            content_type: Some("application/json"),
            retry_after: None,
            body,
        },
        &ParseContext {
            grant_type: "password",
            sent_at: time::OffsetDateTime::UNIX_EPOCH,
            default_lifetime: time::Duration::minutes(5),
        },
    );
    if let Err(error) = result {
        let _ = (error.is_retryable(), error.oauth_error_code(), error.to_string());
    }
});

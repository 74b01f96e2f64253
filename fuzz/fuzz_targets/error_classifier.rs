//! Any status and bytes as an error response: classified, never a panic.
#![no_main]

use authkit_core::__private::{ParseContext, ResponseParts, interpret};
use authkit_core::ClientId;
use authkit_core::grant::GrantKind;
use authkit_core::token::Binding;
use libfuzzer_sys::fuzz_target;

fn binding() -> Binding {
    let url = url::Url::parse("https://auth.example.com/token").expect("url");
    Binding::new(&url, ClientId::new("api"))
}

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
            grant: GrantKind::Password,
            sent_at: time::OffsetDateTime::UNIX_EPOCH,
            default_lifetime: time::Duration::minutes(5),
            binding: binding(),
            requested_scopes: &[],
            accepted_token_types: &[],
            description_fields: &[],
        },
    );
    if let Err(error) = result {
        let _ = (
            error.is_retryable(),
            error.retry_after(),
            error.refusal().map(|r| (r.code().clone(), r.is_refresh_token_dead())),
            error.to_string(),
        );
    }
});

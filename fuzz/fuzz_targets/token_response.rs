//! Any bytes as a successful token response: a token set or a classified
//! error, never a panic, and never a secret-looking run of the body in an error.
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
    let (content_type, body) = match data.split_first() {
        Some((0, rest)) => (Some("application/json"), rest),
        Some((1, rest)) => (Some("application/x-www-form-urlencoded"), rest),
        Some((2, rest)) => (Some("text/html"), rest),
        Some((_, rest)) => (None, rest),
        None => (None, data),
    };
    let result = interpret(
        &ResponseParts { status: 200, content_type, retry_after: None, body },
        &ParseContext {
            grant: GrantKind::RefreshToken,
            sent_at: time::OffsetDateTime::UNIX_EPOCH + time::Duration::days(20_000),
            default_lifetime: time::Duration::minutes(5),
            binding: binding(),
            requested_scopes: &[],
            accepted_token_types: &[],
            description_fields: &[],
        },
    );
    match result {
        Ok(tokens) => {
            let _ = format!("{tokens:?}");
            assert!(tokens.expires_at() >= tokens.issued_at());
        }
        Err(error) => {
            let _ = format!("{error:?} {error}");
        }
    }
});

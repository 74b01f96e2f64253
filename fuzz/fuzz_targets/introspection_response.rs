//! Any bytes as a successful introspection response (RFC 7662 §2.2): an
//! answer every accessor reads without a panic (times out of range are
//! absent, never a wrapped date), or a classified error.
#![no_main]

use authkit_core::__private::read_introspection;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    match read_introspection(data) {
        Ok(answer) => {
            let _ = (
                answer.active(),
                answer.scopes(),
                answer.client_id(),
                answer.username(),
                answer.token_type(),
                answer.subject(),
                answer.audiences(),
                answer.issuer(),
                answer.field("ext"),
            );
            if let (Some(issued), Some(expires)) = (answer.issued_at(), answer.expires_at()) {
                let _ = expires - issued;
            }
        }
        Err(error) => {
            let _ = (error.to_string(), format!("{error:?}"));
        }
    }
});

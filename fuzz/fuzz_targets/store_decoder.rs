//! Any bytes as a stored token file: a token set or a format error, never a panic.
#![no_main]

use authkit_core::TokenSet;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    match TokenSet::from_store_bytes(data) {
        Ok(tokens) => {
            // What decodes re-encodes and decodes to the same set.
            use authkit_core::ExposeSecret;
            let bytes = tokens.to_store_bytes();
            let again = TokenSet::from_store_bytes(bytes.expose_secret()).expect("round trip");
            assert_eq!(again.binding(), tokens.binding());
            assert_eq!(again.expires_at(), tokens.expires_at());
        }
        Err(error) => {
            let _ = error.to_string();
        }
    }
});

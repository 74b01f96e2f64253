//! Any bytes as a successful pushed authorization response (RFC 9126
//! §2.2): a non-empty `request_uri` that expires after it was sent, or a
//! classified error; never a panic.
#![no_main]

use authkit_core::__private::read_pushed;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let sent_at = time::OffsetDateTime::UNIX_EPOCH + time::Duration::days(20_000);
    match read_pushed(data, sent_at) {
        Ok(pushed) => {
            assert!(!pushed.request_uri.trim().is_empty());
            assert!(pushed.expires_at > sent_at);
            let _ = format!("{pushed:?}");
        }
        Err(error) => {
            let _ = (error.to_string(), format!("{error:?}"));
        }
    }
});

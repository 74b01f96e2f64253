//! Any bytes as a successful device authorization response (RFC 8628
//! §3.2): a prompt whose code expires no earlier than it was sent and whose
//! polling interval is at least a second, or a classified error; never a
//! panic.
#![no_main]

use authkit_core::__private::read_authorization;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let sent_at = time::OffsetDateTime::UNIX_EPOCH + time::Duration::days(20_000);
    match read_authorization(data, sent_at) {
        Ok((_, prompt)) => {
            assert!(prompt.expires_at() >= sent_at);
            assert!(prompt.interval() >= std::time::Duration::from_secs(1));
            let _ = (prompt.user_code(), prompt.verification_uri(), format!("{prompt:?}"));
        }
        Err(error) => {
            let _ = (error.to_string(), format!("{error:?}"));
        }
    }
});

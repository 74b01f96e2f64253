//! Any bytes as `WWW-Authenticate` header values (RFC 6750 §3, RFC 9449
//! §7.1, several challenges per value): the Bearer challenge when there is
//! one, never a panic; its scopes are the words of its `scope` parameter.
#![no_main]

use authkit_http::BearerChallenge;
use libfuzzer_sys::fuzz_target;
use authkit_core::deps::reqwest::header::{HeaderMap, HeaderValue, WWW_AUTHENTICATE};

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    if let Some(challenge) = BearerChallenge::parse(&text) {
        let words: Vec<&str> = challenge
            .scope
            .as_deref()
            .map(|s| s.split_whitespace().collect())
            .unwrap_or_default();
        assert_eq!(challenge.scopes().collect::<Vec<_>>(), words);
        let _ = format!("{challenge:?}");
    }
    // The same bytes as header values, one per line, as a response has them.
    let mut headers = HeaderMap::new();
    for line in data.split(|b| *b == b'\n') {
        if let Ok(value) = HeaderValue::from_bytes(line) {
            headers.append(WWW_AUTHENTICATE, value);
        }
    }
    let _ = BearerChallenge::from_headers(&headers);
});

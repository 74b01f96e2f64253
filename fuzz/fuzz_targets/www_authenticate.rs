//! Any bytes as `WWW-Authenticate` header values (RFC 6750 §3, RFC 9449
//! §7.1, several challenges per value): the Bearer challenge when there is
//! one, never a panic; its scopes are the words of its `scope` parameter,
//! and a step-up it asks for holds only the challenge's own words.
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
        // A step-up (RFC 9470) carries the challenge's words, never more.
        if let Some(asked) = challenge.step_up() {
            let acr: Vec<&str> = challenge
                .acr_values
                .as_deref()
                .map(|s| s.split_whitespace().collect())
                .unwrap_or_default();
            assert!(asked.acr_values().iter().all(|a| acr.contains(&a.as_str())));
            assert!(asked.scopes().iter().all(|s| words.contains(&s.as_str())));
            if let Some(max_age) = asked.max_age() {
                assert_eq!(Some(max_age.as_secs()), challenge.max_age);
            }
        }
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

//! Properties of the parser, the classifier and the credential encoding,
//! checked on generated input (256 cases each, so the suite stays fast).

use authkit_core::__private::{ParseContext, ResponseParts, interpret};
use authkit_core::client_auth::{BasicEncoding, decode_basic, encode_basic};
use authkit_core::grant::GrantKind;
use authkit_core::token::{Binding, MAX_LIFETIME};
use authkit_core::{ClientId, Error, ExposeSecret, ProtocolError, TokenSet};
use proptest::prelude::*;
use time::OffsetDateTime;

fn context(sent_at: OffsetDateTime) -> ParseContext<'static> {
    let url = url::Url::parse("https://auth.example.com/token").unwrap();
    ParseContext {
        grant: GrantKind::RefreshToken,
        sent_at,
        default_lifetime: time::Duration::minutes(5),
        binding: Binding::new(&url, ClientId::new("api")),
        requested_scopes: &[],
        accepted_token_types: &[],
        description_fields: &[],
    }
}

fn parse(
    status: u16,
    content_type: Option<&str>,
    body: &[u8],
) -> Result<TokenSet, authkit_core::Error> {
    interpret(
        &ResponseParts {
            status,
            content_type,
            retry_after: None,
            body,
        },
        &context(OffsetDateTime::now_utc()),
    )
}

fn content_types() -> impl Strategy<Value = Option<&'static str>> {
    prop_oneof![
        Just(None),
        Just(Some("application/json")),
        Just(Some("application/json; charset=utf-8")),
        Just(Some("application/x-www-form-urlencoded")),
        Just(Some("text/html")),
        Just(Some("text/plain")),
    ]
}

/// JSON-shaped bodies: objects with token fields of every type.
fn json_bodies() -> impl Strategy<Value = Vec<u8>> {
    let value = prop_oneof![
        any::<i64>().prop_map(serde_json::Value::from),
        any::<u64>().prop_map(serde_json::Value::from),
        any::<f64>().prop_map(|f| serde_json::Number::from_f64(f)
            .map_or(serde_json::Value::Null, serde_json::Value::Number)),
        ".{0,40}".prop_map(serde_json::Value::from),
        Just(serde_json::Value::Null),
        Just(serde_json::json!([1, "two"])),
        Just(serde_json::json!({"nested": true})),
    ];
    let field = prop_oneof![
        Just("access_token"),
        Just("token_type"),
        Just("expires_in"),
        Just("refresh_token"),
        Just("refresh_expires_in"),
        Just("id_token"),
        Just("scope"),
        Just("error"),
        Just("error_description"),
        Just("session_state"),
    ];
    (
        proptest::collection::btree_map(field, value, 0..8),
        any::<bool>(),
        0usize..200,
    )
        .prop_map(|(map, truncate, cut)| {
            let mut bytes = serde_json::to_vec(&map).unwrap_or_default();
            if truncate {
                bytes.truncate(cut.min(bytes.len()));
            }
            bytes
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn any_bytes_as_a_token_response_never_panic(
        status in 100u16..600,
        content_type in content_types(),
        body in proptest::collection::vec(any::<u8>(), 0..512),
    ) {
        let _ = parse(status, content_type, &body);
    }

    #[test]
    fn any_json_shaped_response_never_panics(
        status in prop_oneof![Just(200u16), Just(400), Just(401), Just(429), Just(500), 100u16..600],
        content_type in content_types(),
        body in json_bodies(),
    ) {
        let _ = parse(status, content_type, &body);
    }

    #[test]
    fn any_integer_expires_in_gives_an_expiry_in_range_and_never_later_than_promised(seconds in any::<i64>()) {
        let sent_at = OffsetDateTime::now_utc();
        let body = serde_json::json!({"access_token": "a", "expires_in": seconds});
        let tokens = interpret(
            &ResponseParts { status: 200, content_type: Some("application/json"), retry_after: None, body: &serde_json::to_vec(&body).unwrap() },
            &context(sent_at),
        ).unwrap();
        let lifetime = tokens.expires_at() - sent_at;
        if seconds > 0 {
            prop_assert!(lifetime <= time::Duration::seconds(seconds), "later than promised");
            prop_assert_eq!(lifetime, time::Duration::seconds(seconds).min(MAX_LIFETIME));
            prop_assert!(!tokens.expiry_estimated());
        } else {
            prop_assert_eq!(lifetime, time::Duration::minutes(5), "unknown, never forever");
            prop_assert!(tokens.expiry_estimated());
        }
    }

    #[test]
    fn any_float_or_string_expires_in_stays_in_range(seconds in any::<f64>(), as_string in any::<bool>()) {
        // The one number that is not a number of seconds: a malformed success.
        prop_assume!(!(as_string && seconds.is_nan()));
        let sent_at = OffsetDateTime::now_utc();
        let value = if as_string {
            serde_json::Value::from(seconds.to_string())
        } else {
            serde_json::Number::from_f64(seconds).map_or(serde_json::Value::Null, serde_json::Value::Number)
        };
        let body = serde_json::json!({"access_token": "a", "expires_in": value});
        let tokens = interpret(
            &ResponseParts { status: 200, content_type: Some("application/json"), retry_after: None, body: &serde_json::to_vec(&body).unwrap() },
            &context(sent_at),
        ).unwrap();
        let lifetime = tokens.expires_at() - sent_at;
        prop_assert!(lifetime >= time::Duration::ZERO && lifetime <= MAX_LIFETIME);
        if seconds.is_finite() && seconds >= 1.0 {
            prop_assert!(lifetime.whole_seconds() as f64 <= seconds, "later than promised");
        }
    }

    #[test]
    fn a_secret_planted_anywhere_never_appears_in_debug_or_display(
        secret in "[A-Za-z]{6}[0-9][A-Za-z0-9]{13,30}",
        place in 0usize..8,
        status in prop_oneof![Just(200u16), Just(400), Just(401), Just(502)],
    ) {
        let body: Vec<u8> = match place {
            0 => serde_json::to_vec(&serde_json::json!({"access_token": secret, "expires_in": 60})).unwrap(),
            1 => serde_json::to_vec(&serde_json::json!({"access_token": "x", "refresh_token": secret})).unwrap(),
            2 => serde_json::to_vec(&serde_json::json!({"access_token": "x", "id_token": secret})).unwrap(),
            3 => serde_json::to_vec(&serde_json::json!({"access_token": "x", "custom": {"inner": secret}})).unwrap(),
            4 => serde_json::to_vec(&serde_json::json!({"error": "invalid_grant", "error_description": format!("token {secret} is dead")})).unwrap(),
            5 => format!("<html><body>session {secret}</body></html>").into_bytes(),
            6 => format!("{{\"access_token\": \"{secret}\", \"refresh_token\": 5").into_bytes(),
            _ => format!("access_token={secret}&token_type=bearer").into_bytes(),
        };
        let shown = match parse(status, Some(if place == 5 { "text/html" } else { "application/json" }), &body) {
            Ok(tokens) => format!("{tokens:?}"),
            Err(error) => format!("{error:?} {error}"),
        };
        prop_assert!(!shown.contains(&secret), "{} leaked in {}", secret, shown);
    }

    #[test]
    fn a_word_as_expires_in_is_malformed_never_a_guess(word in "[A-Za-z][A-Za-z ]{0,20}") {
        prop_assume!(word.trim().parse::<f64>().is_err());
        let body = serde_json::json!({"access_token": "a", "expires_in": word});
        let result = interpret(
            &ResponseParts { status: 200, content_type: Some("application/json"), retry_after: None, body: &serde_json::to_vec(&body).unwrap() },
            &context(OffsetDateTime::now_utc()),
        );
        let malformed = matches!(result, Err(Error::Protocol(ProtocolError::Malformed { .. })));
        prop_assert!(malformed);
    }

    #[test]
    fn basic_credentials_round_trip_for_any_id_and_secret(id in ".{0,40}", secret in ".{0,60}") {
        let encoded = encode_basic(&id, &secret, BasicEncoding::FormUrlEncoded);
        let (back_id, back_secret) = decode_basic(encoded.expose_secret(), BasicEncoding::FormUrlEncoded).expect("decodes");
        prop_assert_eq!(&back_id, &id);
        prop_assert_eq!(back_secret.expose_secret(), secret.as_str());
        if !id.contains(':') {
            let raw = encode_basic(&id, &secret, BasicEncoding::Raw);
            let (raw_id, raw_secret) = decode_basic(raw.expose_secret(), BasicEncoding::Raw).expect("decodes");
            prop_assert_eq!(raw_id, id);
            prop_assert_eq!(raw_secret.expose_secret(), secret.as_str());
        }
    }

    #[test]
    fn any_bytes_as_a_stored_file_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        if let Err(error) = TokenSet::from_store_bytes(&bytes) {
            let _ = error.to_string();
        }
    }
}

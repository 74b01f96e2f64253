//! After a step-up sign-in (RFC 9470 §4), the new tokens are checked
//! against what the resource asked for before they are used: the ID
//! token's `acr` is one of the classes asked for, its `auth_time` no older
//! than `max_age`, the granted scopes cover the scopes asked for. A server
//! may sign the person in another way than asked; its tokens would be
//! refused by the resource again.

use std::time::Duration;

use authkit_core::secret::IdToken;
use authkit_core::sign_in::{AUTH_TIME_LEEWAY, StepUp};
use authkit_core::{AccessToken, Error, TokenSet};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use time::OffsetDateTime;

const MFA: &str = "urn:example:loa:mfa";

fn now() -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp(1_800_000_000).unwrap()
}

/// A set whose ID token carries `claims` (unsigned: the check reads claims
/// of a token that came from the token endpoint over TLS).
fn tokens(claims: serde_json::Value, scopes: &[&str]) -> TokenSet {
    let part = |v: &serde_json::Value| URL_SAFE_NO_PAD.encode(v.to_string());
    let jwt = format!(
        "{}.{}.c2lnbmF0dXJl",
        part(&serde_json::json!({"alg": "RS256"})),
        part(&claims)
    );
    TokenSet::new(
        AccessToken::new("at"),
        now(),
        now() + time::Duration::hours(1),
    )
    .with_id_token(Some(IdToken::new(jwt)))
    .with_scopes(Some(scopes.iter().map(|s| s.to_string()).collect()))
}

fn reason(result: Result<(), Error>) -> String {
    match result {
        Err(Error::SignInRequired { reason }) => reason,
        other => panic!("expected SignInRequired, got {other:?}"),
    }
}

#[test]
fn a_sign_in_of_the_class_asked_for_and_recent_enough_meets_the_step_up() {
    let asked = StepUp::for_user_authentication(
        [MFA, "urn:example:loa:hw"],
        Some(Duration::from_secs(300)),
    );
    let fresh = tokens(
        serde_json::json!({"acr": MFA, "auth_time": now().unix_timestamp() - 120}),
        &["openid"],
    );
    assert!(asked.check(&fresh, now()).is_ok());
}

#[test]
fn another_class_or_none_falls_short_and_says_which() {
    let asked = StepUp::for_user_authentication([MFA], None);
    let weaker = tokens(
        serde_json::json!({"acr": "urn:example:loa:pwd"}),
        &["openid"],
    );
    let why = reason(asked.check(&weaker, now()));
    assert!(
        why.contains("urn:example:loa:pwd") && why.contains(MFA),
        "{why}"
    );
    let unstated = tokens(serde_json::json!({"sub": "alice"}), &["openid"]);
    assert!(reason(asked.check(&unstated, now())).contains("no acr"));
}

#[test]
fn an_older_sign_in_than_max_age_allows_falls_short() {
    let asked =
        StepUp::for_user_authentication(Vec::<String>::new(), Some(Duration::from_secs(300)));
    let limit = 300 + AUTH_TIME_LEEWAY.as_secs() as i64;
    let at_the_limit = tokens(
        serde_json::json!({"auth_time": now().unix_timestamp() - limit}),
        &[],
    );
    assert!(asked.check(&at_the_limit, now()).is_ok());
    let stale = tokens(
        serde_json::json!({"auth_time": now().unix_timestamp() - limit - 1}),
        &[],
    );
    assert!(reason(asked.check(&stale, now())).contains("longer than the 300 s"));
    let untold = tokens(serde_json::json!({"acr": MFA}), &[]);
    assert!(reason(asked.check(&untold, now())).contains("no auth_time"));
    // A float auth_time (some servers) is read, rounded down.
    let float = tokens(
        serde_json::json!({"auth_time": (now().unix_timestamp() - 10) as f64 + 0.5}),
        &[],
    );
    assert!(asked.check(&float, now()).is_ok());
}

#[test]
fn scopes_asked_for_must_be_granted() {
    let asked = StepUp::for_scopes(["reports:read", "reports:write"]);
    let all = tokens(
        serde_json::json!({}),
        &["reports:read", "reports:write", "openid"],
    );
    assert!(asked.check(&all, now()).is_ok());
    let some = tokens(serde_json::json!({}), &["reports:read"]);
    assert!(reason(asked.check(&some, now())).contains("reports:write"));
}

#[test]
fn no_id_token_or_one_that_cannot_be_read_is_a_clear_error() {
    let asked = StepUp::for_user_authentication([MFA], None);
    let none = TokenSet::new(
        AccessToken::new("at"),
        now(),
        now() + time::Duration::hours(1),
    );
    assert!(reason(asked.check(&none, now())).contains("no ID token"));
    for garbage in ["not-a-jwt", "a.!!!.c", "a.bm90IGpzb24.c"] {
        let broken = none.clone().with_id_token(Some(IdToken::new(garbage)));
        let error = asked.check(&broken, now()).unwrap_err();
        assert!(matches!(error, Error::Protocol(_)), "{garbage}: {error:?}");
        assert!(
            !error.to_string().contains(garbage),
            "the token is not quoted"
        );
    }
}

//! The device authorization grant (RFC 8628) as a specification: what the
//! client sends, how it paces its polls, and how each answer ends the
//! sign-in. The server is a scripted transport and time is tokio's paused
//! clock, so the waits the rules demand are measured exactly, not slept.

use std::sync::Arc;
use std::time::Duration;

use authkit_core::clock::ManualClock;
use authkit_core::device::DeviceAuthorization;
use authkit_core::endpoint::RequestContext;
use authkit_core::{ClientAuth, Error, ErrorCode, ExposeSecret, TokenEndpoint};
use authkit_testkit::support::{assert_no_secrets, quick_retries};
use authkit_testkit::{Scripted, ScriptedTransport};
use serde_json::json;
use tokio::time::Instant;

const DEVICE_CODE: &str = "device-code-0123456789-secret";

fn codes(interval: Option<u64>) -> Scripted {
    let mut body = json!({
        "device_code": DEVICE_CODE,
        "user_code": "WDJB-MJHT",
        "verification_uri": "https://login.example.com/device",
        "verification_uri_complete": "https://login.example.com/device?user_code=WDJB-MJHT",
        "expires_in": 1800,
    });
    if let Some(interval) = interval {
        body["interval"] = json!(interval);
    }
    Scripted::json(200, body)
}

fn refusal(code: &str) -> Scripted {
    Scripted::json(400, json!({ "error": code }))
}

fn tokens() -> Scripted {
    Scripted::json(
        200,
        json!({"access_token": "at-from-device", "token_type": "Bearer", "expires_in": 3600,
               "refresh_token": "rt-from-device"}),
    )
}

fn device(transport: &ScriptedTransport) -> DeviceAuthorization {
    let endpoint = TokenEndpoint::builder("https://login.example.com/token")
        .client_auth(ClientAuth::public("tv-app"))
        .transport(Arc::new(transport.clone()))
        .retry_policy(quick_retries(1))
        .build()
        .unwrap();
    DeviceAuthorization::new(endpoint, "https://login.example.com/device/code")
        .unwrap()
        .with_scopes(["openid", "offline_access"])
        .with_resource("https://api.example.com/")
}

#[tokio::test(start_paused = true)]
async fn the_prompt_carries_what_the_person_needs_and_the_request_what_the_server_needs() {
    let transport = ScriptedTransport::new([codes(Some(3))]);
    let pending = device(&transport)
        .start(&RequestContext::default())
        .await
        .unwrap();
    let prompt = pending.prompt();
    assert_eq!(prompt.user_code(), "WDJB-MJHT");
    assert_eq!(
        prompt.verification_uri(),
        "https://login.example.com/device"
    );
    assert_eq!(
        prompt.verification_uri_complete(),
        Some("https://login.example.com/device?user_code=WDJB-MJHT")
    );
    assert_eq!(prompt.interval(), Duration::from_secs(3));
    let left = prompt.expires_at() - time::OffsetDateTime::now_utc();
    assert!(left > time::Duration::minutes(29) && left <= time::Duration::minutes(30));

    let sent = &transport.sent()[0];
    assert_eq!(sent.url, "https://login.example.com/device/code");
    assert_eq!(sent.field("client_id"), Some("tv-app"));
    assert_eq!(sent.field("scope"), Some("openid offline_access"));
    assert_eq!(sent.field("resource"), Some("https://api.example.com/"));
    assert_eq!(sent.field("grant_type"), None);
    // The device code is the client's secret: never in Debug.
    assert_no_secrets(&format!("{pending:?}"), &[DEVICE_CODE]);
}

#[tokio::test(start_paused = true)]
async fn polling_waits_the_interval_keeps_on_pending_and_adds_five_seconds_on_slow_down() {
    let transport = ScriptedTransport::new([
        codes(Some(2)),
        refusal("authorization_pending"),
        refusal("slow_down"),
        refusal("authorization_pending"),
        tokens(),
    ]);
    let cx = RequestContext::default();
    let pending = device(&transport).start(&cx).await.unwrap();
    let started = Instant::now();
    let set = pending.finish(&cx).await.expect("tokens after approval");
    // 2 s, 2 s, then 7 s twice after the slow_down.
    assert_eq!(started.elapsed(), Duration::from_secs(2 + 2 + 7 + 7));
    assert_eq!(set.access_token().expose_secret(), "at-from-device");

    let polls = &transport.sent()[1..];
    assert_eq!(polls.len(), 4, "polled after success");
    for poll in polls {
        assert_eq!(poll.url, "https://login.example.com/token");
        assert_eq!(
            poll.field("grant_type"),
            Some("urn:ietf:params:oauth:grant-type:device_code")
        );
        assert_eq!(poll.field("device_code"), Some(DEVICE_CODE));
        assert_eq!(poll.field("client_id"), Some("tv-app"));
    }
    // The set is bound like any other: this endpoint, client and resource.
    let binding = set.binding().unwrap();
    assert_eq!(binding.token_endpoint(), "https://login.example.com/token");
    assert_eq!(
        binding.resources().collect::<Vec<_>>(),
        vec!["https://api.example.com/"]
    );
}

#[tokio::test(start_paused = true)]
async fn a_server_that_names_no_interval_is_polled_every_five_seconds() {
    let transport =
        ScriptedTransport::new([codes(None), refusal("authorization_pending"), tokens()]);
    let cx = RequestContext::default();
    let pending = device(&transport).start(&cx).await.unwrap();
    let started = Instant::now();
    pending.finish(&cx).await.unwrap();
    assert_eq!(started.elapsed(), Duration::from_secs(10));
}

#[tokio::test(start_paused = true)]
async fn denial_and_expiry_at_the_server_end_the_sign_in_with_its_refusal() {
    for (code, expected) in [
        ("access_denied", ErrorCode::AccessDenied),
        ("expired_token", ErrorCode::ExpiredToken),
    ] {
        let transport = ScriptedTransport::new([
            codes(Some(1)),
            refusal("authorization_pending"),
            refusal(code),
        ]);
        let cx = RequestContext::default();
        let err = device(&transport)
            .sign_in(|_| {}, &cx)
            .await
            .expect_err("a refusal");
        match &err {
            Error::Refused(refusal) => assert_eq!(refusal.code(), &expected),
            other => panic!("{code}: expected a refusal, got {other:?}"),
        }
        assert_eq!(transport.sent().len(), 3, "{code}: polled after the end");
        assert_no_secrets(&format!("{err:?} {err}"), &[DEVICE_CODE]);
    }
}

#[tokio::test(start_paused = true)]
async fn codes_that_expire_locally_stop_the_polling_without_a_request() {
    let transport = ScriptedTransport::new([codes(Some(5))]);
    let clock = Arc::new(ManualClock::new(time::OffsetDateTime::now_utc()));
    let cx = RequestContext::new(clock.clone());
    let pending = device(&transport).start(&cx).await.unwrap();
    clock.advance(time::Duration::seconds(1801));
    let err = pending.finish(&cx).await.unwrap_err();
    assert!(matches!(err, Error::SignInRequired { .. }), "{err:?}");
    assert_eq!(transport.sent().len(), 1, "polled with an expired code");
}

#[tokio::test(start_paused = true)]
async fn a_failing_server_is_polled_less_often_until_it_answers() {
    let transport = ScriptedTransport::new([
        codes(Some(1)),
        Scripted::json(503, json!({})),
        Scripted::json(503, json!({})),
        tokens(),
    ]);
    let cx = RequestContext::default();
    let pending = device(&transport).start(&cx).await.unwrap();
    let started = Instant::now();
    pending
        .finish(&cx)
        .await
        .expect("tokens once the server recovers");
    // 1 s, then doubled after each failure: 2 s, 4 s.
    assert_eq!(started.elapsed(), Duration::from_secs(1 + 2 + 4));
}

#[tokio::test(start_paused = true)]
async fn dropping_the_sign_in_cancels_it_and_nothing_more_is_polled() {
    let transport = ScriptedTransport::new([codes(Some(1))]);
    for _ in 0..10 {
        transport.push(refusal("authorization_pending"));
    }
    let cx = RequestContext::default();
    let pending = device(&transport).start(&cx).await.unwrap();
    let cancelled = tokio::time::timeout(Duration::from_millis(3500), pending.finish(&cx)).await;
    assert!(cancelled.is_err(), "the sign-in ended by itself");
    let polls = transport.sent().len() - 1;
    tokio::time::sleep(Duration::from_secs(30)).await;
    assert_eq!(
        transport.sent().len() - 1,
        polls,
        "polled after cancellation"
    );
    assert_eq!(polls, 3);
}

#[tokio::test(start_paused = true)]
async fn a_device_authorization_response_without_codes_is_a_protocol_error() {
    let transport = ScriptedTransport::new([Scripted::json(200, json!({"user_code": "X"}))]);
    let err = device(&transport)
        .start(&RequestContext::default())
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Protocol(_)), "{err:?}");
    let transport = ScriptedTransport::new([Scripted::body(
        404,
        "text/html",
        "<html><body>Not Found</body></html>",
    )]);
    let err = device(&transport)
        .start(&RequestContext::default())
        .await
        .unwrap_err();
    assert!(!matches!(err, Error::Refused(_)), "{err:?}");
}

#[tokio::test(start_paused = true)]
async fn lifetimes_and_intervals_sent_as_numeric_text_are_read() {
    // Azure AD's v1 endpoint sends `"expires_in": "900", "interval": "5"`,
    // as some servers do for `expires_in` in token responses.
    let transport = ScriptedTransport::new([Scripted::json(
        200,
        json!({
            "device_code": DEVICE_CODE,
            "user_code": "DQLPGRFZB",
            "verification_url": "https://microsoft.com/devicelogin",
            "expires_in": "900",
            "interval": "5",
            "message": "To sign in, use a web browser to open the page https://microsoft.com/devicelogin",
        }),
    )]);
    let pending = device(&transport)
        .start(&RequestContext::default())
        .await
        .unwrap();
    let prompt = pending.prompt();
    assert_eq!(prompt.interval(), Duration::from_secs(5));
    let left = prompt.expires_at() - time::OffsetDateTime::now_utc();
    assert!(left > time::Duration::minutes(14) && left <= time::Duration::minutes(15));
}

#[tokio::test(start_paused = true)]
async fn a_lifetime_that_is_not_a_number_is_a_malformed_response() {
    let transport = ScriptedTransport::new([Scripted::json(
        200,
        json!({
            "device_code": DEVICE_CODE,
            "user_code": "WDJB-MJHT",
            "verification_uri": "https://login.example.com/device",
            "expires_in": "soon",
        }),
    )]);
    let error = device(&transport)
        .start(&RequestContext::default())
        .await
        .unwrap_err();
    assert!(matches!(error, Error::Protocol(_)), "{error:?}");
    assert_no_secrets(&format!("{error} {error:?}"), &[DEVICE_CODE]);
}

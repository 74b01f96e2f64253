//! Authorization server issuer identification (RFC 9207): a sign-in's
//! response names the issuer that answered in `iss`, and a client that
//! knows which server it asked refuses a response from another before its
//! code goes anywhere (the mix-up attack of RFC 9700 §4.4). The redirect is
//! caught by the real loopback receiver, as `authkit login` catches it.

use std::time::Duration;

use authkit_core::discovery::ServerMetadata;
use authkit_core::endpoint::RequestContext;
use authkit_core::sign_in::{AuthorizationRequest, AuthorizationRequestBuilder, LoopbackReceiver};
use authkit_core::{Error, ExposeSecret};

const ISSUER: &str = "https://login.example.com";

fn builder(redirect_uri: &str) -> AuthorizationRequestBuilder {
    let authorize = url::Url::parse("https://login.example.com/authorize").unwrap();
    AuthorizationRequest::builder(&authorize, "cli", redirect_uri)
}

/// Sends the browser's redirect to a receiver and returns what the request
/// makes of it: the code exchange, or why there is none.
async fn answer(
    configure: impl FnOnce(AuthorizationRequestBuilder) -> AuthorizationRequestBuilder,
    iss: Option<&str>,
) -> Result<String, Error> {
    let receiver = LoopbackReceiver::bind("http://127.0.0.1:0/callback")
        .await
        .unwrap();
    let request = configure(builder(receiver.redirect_uri())).build(&RequestContext::default());
    let mut redirect = url::Url::parse(receiver.redirect_uri()).unwrap();
    redirect
        .query_pairs_mut()
        .append_pair("code", "the-code")
        .append_pair("state", request.state().as_str());
    if let Some(iss) = iss {
        redirect.query_pairs_mut().append_pair("iss", iss);
    }
    let client = authkit_core::transport::http_client_builder()
        .unwrap()
        .build()
        .unwrap();
    let browser = tokio::spawn(async move { client.get(redirect).send().await });
    let callback = receiver
        .wait_for(request.state(), "alice", Duration::from_secs(10))
        .await
        .unwrap();
    browser.await.unwrap().unwrap();
    assert_eq!(callback.iss.as_deref(), iss, "the receiver keeps iss");
    let grant = request.grant(&callback)?;
    assert!(
        !format!("{grant:?}").contains("the-code"),
        "the code never shows"
    );
    Ok(callback.code.expose_secret().to_owned())
}

#[tokio::test]
async fn a_response_from_the_expected_issuer_is_exchanged() {
    let code = answer(|b| b.issuer(ISSUER, true), Some(ISSUER)).await;
    assert_eq!(code.unwrap(), "the-code");
}

#[tokio::test]
async fn a_response_naming_another_issuer_is_refused_before_its_code_is_sent() {
    let error = answer(
        |b| b.issuer(ISSUER, false),
        Some("https://attacker.example"),
    )
    .await
    .unwrap_err();
    let Error::SignInRequired { reason } = &error else {
        panic!("expected SignInRequired, got {error:?}");
    };
    assert!(reason.contains("https://attacker.example"), "{reason}");
    assert!(reason.contains(ISSUER), "{reason}");
    assert!(reason.contains("RFC 9207"), "{reason}");
    assert!(!error.to_string().contains("the-code"), "{error}");
}

#[tokio::test]
async fn a_response_without_iss_is_refused_when_the_server_promised_it() {
    let error = answer(|b| b.issuer(ISSUER, true), None).await.unwrap_err();
    assert!(
        matches!(&error, Error::SignInRequired { reason } if reason.contains("does not name its issuer")),
        "{error:?}"
    );
}

#[tokio::test]
async fn a_response_without_iss_is_taken_from_a_server_that_never_sends_it() {
    let code = answer(|b| b.issuer(ISSUER, false), None).await;
    assert_eq!(code.unwrap(), "the-code");
}

#[tokio::test]
async fn without_a_known_issuer_iss_is_not_checked() {
    let code = answer(|b| b, Some("https://anyone.example")).await;
    assert_eq!(code.unwrap(), "the-code");
}

#[tokio::test]
async fn the_metadata_says_whether_iss_is_required() {
    let promising = ServerMetadata::from_json(
        format!(r#"{{"issuer":"{ISSUER}","authorization_response_iss_parameter_supported":true}}"#)
            .as_bytes(),
        ISSUER,
    )
    .unwrap();
    assert!(promising.authorization_response_iss_parameter_supported());
    let error = answer(|b| b.issuer_from(&promising), None)
        .await
        .unwrap_err();
    assert!(matches!(error, Error::SignInRequired { .. }), "{error:?}");
    let code = answer(|b| b.issuer_from(&promising), Some(ISSUER)).await;
    assert_eq!(code.unwrap(), "the-code");

    let silent =
        ServerMetadata::from_json(format!(r#"{{"issuer":"{ISSUER}"}}"#).as_bytes(), ISSUER)
            .unwrap();
    assert!(!silent.authorization_response_iss_parameter_supported());
    let code = answer(|b| b.issuer_from(&silent), None).await;
    assert_eq!(code.unwrap(), "the-code");
}

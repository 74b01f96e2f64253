//! Step-up (RFC 9470) at a real server: panva's `oidc-provider`, whose
//! sign-in is of the class `urn:authkit:loa:1` (a password) unless the
//! request asks for `urn:authkit:loa:2`, when its form also asks for a
//! one-time code. A sign-in that carries what a resource asked for
//! (`AuthorizationRequestBuilder::step_up`) gets an ID token of that class
//! and a fresh `auth_time`, and `StepUp::check` accepts it; a sign-in the
//! server cannot give in the class asked for is caught before its tokens
//! are used. The person is played over HTTP by the testkit.
//!
//! Without the server the tests say SKIPPED; with
//! `AUTHKIT_REQUIRE_REAL_SERVERS=1` (as in CI) they fail instead.

use std::collections::HashMap;
use std::time::Duration;

use authkit_core::discovery::ServerMetadata;
use authkit_core::endpoint::RequestContext;
use authkit_core::secret::AuthorizationCode;
use authkit_core::sign_in::{AuthorizationRequest, Callback, StepUp};
use authkit_core::{ClientAuth, Error, TokenSet};
use authkit_testkit::oidc_provider::OidcProvider;

const REDIRECT_URI: &str = "http://127.0.0.1/callback";

/// A browser sign-in as `authkit-browser` asking for `asked` (or nothing
/// more), played by a person; the tokens of the code exchange.
async fn sign_in(server: &OidcProvider, m: &ServerMetadata, asked: Option<&StepUp>) -> TokenSet {
    let endpoint = m
        .token_endpoint_builder(ClientAuth::basic(
            "authkit-browser",
            OidcProvider::CLIENT_SECRET,
        ))
        .unwrap()
        .build()
        .unwrap();
    let authorize = url::Url::parse(m.authorization_endpoint().unwrap()).unwrap();
    let mut builder = AuthorizationRequest::builder(&authorize, "authkit-browser", REDIRECT_URI)
        .scopes(["openid"])
        .issuer_from(m);
    if let Some(asked) = asked {
        builder = builder.step_up(asked);
    }
    let cx = RequestContext::default();
    let request = builder.build(&cx);
    let back = server.authorize(request.url().as_str(), "stella").await;
    let fields: HashMap<String, String> = back.query_pairs().into_owned().collect();
    assert!(!fields.contains_key("error"), "{back}");
    let callback = Callback {
        code: AuthorizationCode::new(fields["code"].clone()),
        state: fields.get("state").cloned(),
        iss: fields.get("iss").cloned(),
    };
    endpoint
        .request(&request.grant(&callback).unwrap(), &cx)
        .await
        .expect("the code exchange")
}

fn now() -> time::OffsetDateTime {
    time::OffsetDateTime::now_utc()
}

#[tokio::test]
async fn a_step_up_sign_in_gets_the_class_and_recency_the_resource_asked_for() {
    let Some(server) = OidcProvider::start() else {
        return;
    };
    let m = server.metadata().await;
    let acr_supported = m.field("acr_values_supported").cloned().unwrap_or_default();
    assert!(
        acr_supported
            .to_string()
            .contains(OidcProvider::LOA_SECOND_FACTOR),
        "{acr_supported}"
    );
    let asked = StepUp::for_user_authentication(
        [OidcProvider::LOA_SECOND_FACTOR],
        Some(Duration::from_secs(300)),
    );

    // The sign-in the person already had does not meet it (asked for no
    // class, the server states none) ...
    let before = sign_in(&server, &m, None).await;
    let error = asked.check(&before, now()).unwrap_err();
    assert!(
        matches!(&error, Error::SignInRequired { reason } if reason.contains("no acr")),
        "{error:?}"
    );

    // ... the stepped-up one does: the one-time code was asked for.
    let after = sign_in(&server, &m, Some(&asked)).await;
    asked
        .check(&after, now())
        .expect("the class and recency asked for");
}

#[tokio::test]
async fn a_class_the_server_cannot_give_is_caught_before_the_tokens_are_used() {
    let Some(server) = OidcProvider::start() else {
        return;
    };
    let m = server.metadata().await;
    let asked = StepUp::for_user_authentication(["urn:authkit:loa:3"], None);
    let tokens = sign_in(&server, &m, Some(&asked)).await;
    let error = asked.check(&tokens, now()).unwrap_err();
    match error {
        Error::SignInRequired { reason } => {
            // The server signed the person in with a password only.
            assert!(reason.contains(OidcProvider::LOA_PASSWORD), "{reason}");
            assert!(reason.contains("urn:authkit:loa:3"), "{reason}");
        }
        other => panic!("expected SignInRequired, got {other:?}"),
    }
}

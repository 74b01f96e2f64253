//! Acme conforms: the mock server poses as Acme's (its token path, its
//! grant, its error bodies), the suite finds the shape and runs every
//! behaviour that applies. Then the provider's one quirk, as a user relies
//! on it.

use std::sync::Arc;

use authkit_core::client_auth::BasicEncoding;
use authkit_core::endpoint::EndpointSettings;
use authkit_core::{AccountState, ClientSecret, Error, MemoryStore, Password, TokenManager};
use authkit_provider_template::{API_KEY_GRANT, Acme, TOKEN_PATH};
use authkit_testkit::conformance::{Conformance, Verdict, behaviour};
use authkit_testkit::{
    ErrorShape, GrantAnswer, GrantRequest, MockAuthServer, MockAuthServerBuilder, MockClient,
};

const KEY: &str = "acme-key-0001";
const REVOKED: &str = "acme-key-revoked";

/// Acme's server as its documentation describes it.
fn acme_server() -> MockAuthServerBuilder {
    MockAuthServer::builder()
        .token_path(TOKEN_PATH)
        .user("acme-user", KEY)
        .client(MockClient::basic(
            "app",
            "app-secret",
            BasicEncoding::FormUrlEncoded,
        ))
        .grant_handler(API_KEY_GRANT, |request: &GrantRequest<'_>| {
            let refuse = |description: &str| GrantAnswer::Refuse {
                status: 400,
                code: "invalid_grant".into(),
                description: description.into(),
            };
            match request.form.get("api_key").map(String::as_str) {
                Some(KEY) => GrantAnswer::Tokens {
                    user: Some("acme-user".into()),
                    scope: String::new(),
                    refresh: true,
                },
                Some(REVOKED) => refuse("Key revoked by an administrator"),
                _ => refuse("Unknown key"),
            }
        })
        .error_shape(ErrorShape {
            description_field: "message".into(),
            invalid_client_status: 400,
        })
}

fn acme_at(server: &MockAuthServer, secret: &str, key: &str) -> Result<Acme, Error> {
    Acme::new(
        "app",
        ClientSecret::new(secret),
        Password::new(key),
        EndpointSettings::new().base_url(server.base_url()),
    )
}

#[tokio::test]
async fn acme_conforms() {
    let report = Conformance::new("acme", acme_server, |ctx| {
        let acme = Acme::new(
            ctx.client_id(),
            ClientSecret::new(ctx.client_secret()),
            Password::new(ctx.password()),
            EndpointSettings::new().base_url(ctx.server.base_url()),
        )?;
        Ok(Arc::new(acme))
    })
    .run()
    .await;
    report.assert_passed();
    assert_eq!(
        report.verdict(behaviour::WRONG_CREDENTIAL),
        Some(&Verdict::Passed)
    );
}

#[tokio::test]
async fn a_revoked_key_is_terminal_and_not_sent_again() {
    let server = acme_server().start().await;
    let acme = acme_at(&server, "app-secret", REVOKED).expect("the provider");
    let manager = TokenManager::builder(acme, MemoryStore::new())
        .clock(server.shared_clock())
        .build();
    let error = manager.access_token().await.expect_err("refused");
    let refusal = error.refusal().expect("a refusal");
    assert_eq!(refusal.account_state(), Some(AccountState::Disabled));
    assert_eq!(
        refusal.description(),
        Some("Key revoked by an administrator")
    );
    assert!(manager.access_token().await.is_err());
    assert_eq!(server.log().len(), 1, "the revoked key was sent again");
}

#[tokio::test]
async fn a_wrong_client_secret_is_a_refusal_even_as_a_400() {
    let server = acme_server().start().await;
    let acme = acme_at(&server, "not-the-secret", KEY).expect("the provider");
    let error = authkit_core::TokenProvider::authenticate(&acme, &server.context())
        .await
        .expect_err("refused");
    assert_eq!(
        error.refusal().map(|r| r.code().clone()),
        Some(authkit_core::ErrorCode::InvalidClient)
    );
    assert!(!error.is_retryable());
}

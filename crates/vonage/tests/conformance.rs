//! The provider conformance suite for Vonage password accounts, with the mock
//! server posing as Vonage's API manager: API-manager responses, the secret
//! in the body, single-use refresh tokens with reuse detection.

use std::sync::Arc;

use authkit_core::{ClientSecret, Password};
use authkit_testkit::conformance::Conformance;
use authkit_testkit::{MockAuthServer, MockClient, RefreshPolicy, ResponseStyle};
use authkit_vonage::Vonage;

#[tokio::test]
async fn vonage_password_accounts_conform() {
    Conformance::new(
        "vonage (password)",
        || {
            MockAuthServer::builder()
                .style(ResponseStyle::ApiManager)
                .refresh_policy(RefreshPolicy {
                    rotate: true,
                    reuse_detection: true,
                })
                .access_ttl(std::time::Duration::from_secs(86400))
                .user("alice@vbc.prod", "p&ss+w=rd %ü")
                .client(MockClient::secret_in_body(
                    "consumer-key",
                    "consumer:secret%",
                ))
        },
        |ctx| {
            let vonage = vonage_at(&ctx.server.base_url(), ctx.client_id(), ctx.client_secret())?;
            Ok(Arc::new(vonage.password_account(
                ctx.username(),
                Password::new(ctx.password()),
            )))
        },
    )
    .run()
    .await
    .assert_passed();
}

const REDIRECT: &str = "http://127.0.0.1:8765/callback";

fn vonage_at(base_url: &str, key: &str, secret: &str) -> Result<Vonage, authkit_core::Error> {
    Vonage::builder(key, ClientSecret::new(secret))
        .endpoint(authkit_core::endpoint::EndpointSettings::new().base_url(base_url))
        .build()
}

/// Plays the person: opens the authorization URL, reads the redirect's code
/// and state without following it, and exchanges the code.
async fn sign_in(
    ctx: authkit_testkit::conformance::SignInContext,
) -> Result<authkit_core::TokenSet, authkit_core::Error> {
    let vonage = vonage_at(&ctx.base_url, &ctx.client_id, &ctx.client_secret)?;
    let account = vonage.code_account(REDIRECT, "default")?;
    let request = account.authorization_request();
    let redirect = authkit_testkit::support::authorize(request.url().as_str())
        .await
        .map_err(authkit_core::Error::config)?;
    let callback = authkit_vonage::Callback {
        code: redirect.code,
        state: redirect.state,
        iss: None,
    };
    let cx = authkit_core::endpoint::RequestContext::new(ctx.clock);
    account.exchange(request, &callback, &cx).await
}

#[tokio::test]
async fn vonage_code_accounts_conform() {
    use authkit_core::TokenProvider;
    use authkit_core::client_auth::BasicEncoding;
    use authkit_testkit::ClientKind;
    Conformance::new(
        "vonage (browser sign-in)",
        || {
            MockAuthServer::builder()
                .style(ResponseStyle::ApiManager)
                .refresh_policy(RefreshPolicy {
                    rotate: true,
                    reuse_detection: true,
                })
                .access_ttl(std::time::Duration::from_secs(86400))
                .user("alice@vbc.prod", "unused")
                .client(
                    MockClient::basic("consumer-key", "consumer:secret%", BasicEncoding::Raw)
                        .also_accepting(ClientKind::SecretInBody)
                        .redirect_uri(REDIRECT),
                )
        },
        |ctx| {
            let vonage = vonage_at(&ctx.server.base_url(), ctx.client_id(), ctx.client_secret())?;
            let account = vonage.code_account(REDIRECT, "default")?;
            Ok(Arc::new(account) as Arc<dyn TokenProvider>)
        },
    )
    .with_sign_in(|ctx| Box::pin(sign_in(ctx)))
    .run()
    .await
    .assert_passed();
}

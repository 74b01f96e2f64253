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
            let vonage = vonage_at(&ctx.server.base_url())?;
            Ok(Arc::new(vonage.password_account(
                ctx.username,
                Password::new(ctx.password),
            )))
        },
    )
    .run()
    .await
    .assert_passed();
}

const REDIRECT: &str = "http://127.0.0.1:8765/callback";

fn vonage_at(base_url: &str) -> Result<Vonage, authkit_core::Error> {
    Vonage::builder("consumer-key", ClientSecret::new("consumer:secret%"))
        .endpoint(authkit_core::EndpointSettings::new().base_url(base_url))
        .build()
}

/// Plays the person: opens the authorization URL, reads the redirect's code
/// and state without following it, and exchanges the code.
async fn sign_in(
    ctx: authkit_testkit::conformance::SignInContext,
) -> Result<authkit_core::TokenSet, authkit_core::Error> {
    let account = vonage_at(&ctx.base_url)?.code_account(REDIRECT, "default")?;
    let cx = authkit_core::RequestContext::new(ctx.clock);
    let request = account.authorization_request();
    let browser = authkit_core::http_client_builder()
        .unwrap()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client");
    let response = browser
        .get(request.url().as_str())
        .send()
        .await
        .expect("authorize");
    let location = response
        .headers()
        .get("location")
        .and_then(|l| l.to_str().ok())
        .expect("redirect");
    let params: std::collections::HashMap<String, String> = url::Url::parse(location)
        .expect("url")
        .query_pairs()
        .into_owned()
        .collect();
    let callback = authkit_vonage::Callback {
        code: authkit_core::AuthorizationCode::new(params["code"].clone()),
        state: params.get("state").cloned(),
    };
    account.exchange(request, &callback, &cx).await
}

#[tokio::test]
async fn vonage_code_accounts_conform() {
    use authkit_core::{BasicEncoding, TokenProvider};
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
            let account = vonage_at(&ctx.server.base_url())?.code_account(REDIRECT, "default")?;
            Ok(Arc::new(account) as Arc<dyn TokenProvider>)
        },
    )
    .with_sign_in(|ctx| Box::pin(sign_in(ctx)))
    .run()
    .await
    .assert_passed();
}

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
            let vonage = Vonage::builder("consumer-key", ClientSecret::new("consumer:secret%"))
                .base_url(ctx.server.base_url())
                .clock(ctx.clock())
                .build()?;
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

//! The provider conformance suite, with the mock server posing as Voipex's
//! Keycloak: the realm token path, Keycloak's response shape, `invalid_grant`
//! as 401 (older Keycloak), the public client `api`.

use std::sync::Arc;

use authkit_core::Password;
use authkit_core::endpoint::EndpointSettings;
use authkit_testkit::conformance::Conformance;
use authkit_testkit::{MockAuthServer, MockClient, ResponseStyle};
use authkit_voipex::Voipex;

#[tokio::test]
async fn voipex_conforms() {
    for status in [400, 401] {
        Conformance::new(
            format!("voipex (invalid_grant as {status})"),
            move || {
                MockAuthServer::builder()
                    .style(ResponseStyle::Keycloak)
                    .invalid_grant_status(status)
                    .user("alice@example.com", "correct horse battery staple")
                    .client(MockClient::public("api"))
            },
            |ctx| {
                let voipex = Voipex::builder(ctx.username(), Password::new(ctx.password()))
                    .endpoint(EndpointSettings::new().base_url(ctx.server.base_url()))
                    .build()?;
                Ok(Arc::new(voipex))
            },
        )
        .run()
        .await
        .assert_passed();
    }
}

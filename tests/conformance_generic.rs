//! The conformance suite, run against the core's generic provider in each
//! server shape it must handle: a Keycloak-like server with a public client
//! that answers `invalid_grant` with 401, an API manager with raw HTTP Basic,
//! and a server that wants the client secret in the body.

use std::sync::Arc;

use authkit::client_auth::BasicEncoding;
use authkit::grant::PasswordGrant;
use authkit::{ClientAuth, ClientSecret, GenericProvider, Password, TokenEndpoint, TokenProvider};
use authkit_testkit::conformance::{Conformance, ProviderContext, behaviour};
use authkit_testkit::{MockAuthServer, MockClient, ResponseStyle};

fn generic(
    ctx: &ProviderContext<'_>,
    auth: ClientAuth,
    scope: Option<&str>,
) -> Result<Arc<dyn TokenProvider>, authkit::Error> {
    let endpoint = TokenEndpoint::builder(ctx.server.token_url())
        .client_auth(auth)
        .build()?;
    let mut grant = PasswordGrant::new(ctx.username(), Password::new(ctx.password()));
    if let Some(scope) = scope {
        grant = grant.with_scopes([scope]);
    }
    Ok(Arc::new(
        GenericProvider::new(format!("generic:{}", ctx.username()), endpoint).with_grant(grant),
    ))
}

#[tokio::test]
async fn keycloak_style_public_client() {
    Conformance::new(
        "generic/keycloak",
        || {
            MockAuthServer::builder()
                .token_path("/realms/main/protocol/openid-connect/token")
                .style(ResponseStyle::Keycloak)
                .invalid_grant_status(401)
                .user("alice@example.com", "correct horse")
                .client(MockClient::public("api"))
        },
        |ctx| generic(ctx, ClientAuth::public("api"), None),
    )
    .run()
    .await
    .assert_passed();
}

#[tokio::test]
async fn api_manager_style_with_raw_basic_credentials() {
    Conformance::new(
        "generic/api-manager",
        || {
            MockAuthServer::builder()
                .token_path("/oauth2/token")
                .style(ResponseStyle::ApiManager)
                .user("bob@vbc.prod", "p@ss:word&more")
                .client(MockClient::basic(
                    "consumer-key",
                    "consumer:secret%",
                    BasicEncoding::Raw,
                ))
        },
        |ctx| {
            generic(
                ctx,
                ClientAuth::BasicRaw {
                    client_id: ctx.client_id().into(),
                    client_secret: ClientSecret::new(ctx.client_secret()),
                },
                Some("openid"),
            )
        },
    )
    .run()
    .await
    .assert_passed();
}

#[tokio::test]
async fn confidential_client_with_the_secret_in_the_body() {
    Conformance::new(
        "generic/secret-in-body",
        || {
            MockAuthServer::builder()
                .user("carol", "s3cret pass")
                .client(MockClient::secret_in_body("svc", "svc-secret"))
        },
        |ctx| {
            generic(
                ctx,
                ClientAuth::Body {
                    client_id: ctx.client_id().into(),
                    client_secret: ClientSecret::new(ctx.client_secret()),
                },
                None,
            )
        },
    )
    .run()
    .await
    .assert_passed();
}

#[tokio::test]
async fn the_suite_names_the_behaviour_that_broke() {
    // A provider whose refresh is broken: it authenticates again instead.
    #[derive(Debug)]
    struct NoRefresh(GenericProvider);
    #[async_trait::async_trait]
    impl TokenProvider for NoRefresh {
        fn account_key(&self) -> &authkit::AccountKey {
            self.0.account_key()
        }
        fn binding(&self) -> &authkit::token::Binding {
            self.0.binding()
        }
        async fn authenticate(
            &self,
            cx: &authkit::endpoint::RequestContext,
        ) -> Result<authkit::TokenSet, authkit::Error> {
            self.0.authenticate(cx).await
        }
        async fn refresh(
            &self,
            _: &authkit::RefreshToken,
            cx: &authkit::endpoint::RequestContext,
        ) -> Result<authkit::TokenSet, authkit::Error> {
            self.0.authenticate(cx).await
        }
    }
    let report = Conformance::new(
        "broken",
        || {
            MockAuthServer::builder()
                .user("dave", "pw")
                .client(MockClient::public("api"))
        },
        |ctx| {
            let endpoint = TokenEndpoint::builder(ctx.server.token_url())
                .client_auth(ClientAuth::public("api"))
                .build()?;
            let inner = GenericProvider::new("broken:dave", endpoint).with_grant(
                PasswordGrant::new(ctx.username(), Password::new(ctx.password())),
            );
            Ok(Arc::new(NoRefresh(inner)))
        },
    )
    .run()
    .await;
    let failed: Vec<&str> = report.failures().iter().map(|(name, _)| *name).collect();
    assert!(failed.contains(&behaviour::REFRESH), "{failed:?}");
    assert!(failed.contains(&behaviour::ROTATING), "{failed:?}");
    assert!(!failed.contains(&behaviour::FIRST_SIGN_IN), "{failed:?}");
}

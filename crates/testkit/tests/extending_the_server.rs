//! The mock server extended without editing it: a custom grant's handler,
//! extra success fields, and the shape of error bodies, seen through the
//! core's token endpoint as an adapter would see them.

use authkit_core::client_auth::BasicEncoding;
use authkit_core::grant::FormParam;
use authkit_core::{ClientAuth, Error, ErrorCode, GrantType, TokenEndpoint};
use authkit_testkit::{ErrorShape, GrantAnswer, GrantRequest, MockAuthServer, MockClient};
use serde_json::json;

/// A grant the core does not ship: trade an SSO ticket for tokens.
#[derive(Debug)]
struct SsoTicket(&'static str);

impl GrantType for SsoTicket {
    fn grant_type(&self) -> &str {
        "urn:example:sso-ticket"
    }
    fn parameters(&self) -> Vec<FormParam> {
        vec![FormParam::secret("ticket", self.0)]
    }
}

async fn server(shape: ErrorShape) -> MockAuthServer {
    MockAuthServer::builder()
        .client(
            MockClient::basic("svc", "s3cret", BasicEncoding::FormUrlEncoded)
                .allow_grants(["urn:example:sso-ticket"]),
        )
        .grant_handler(
            "urn:example:sso-ticket",
            |request: &GrantRequest<'_>| match request.form.get("ticket").map(String::as_str) {
                Some("good") if request.client_id == "svc" => GrantAnswer::Tokens {
                    user: Some("ann".into()),
                    scope: "api".into(),
                    refresh: true,
                },
                _ => GrantAnswer::Refuse {
                    status: 400,
                    code: "invalid_grant".into(),
                    description: "The ticket is not valid".into(),
                },
            },
        )
        .extra_response_field("instance_url", json!("https://eu1.example.com"))
        .error_shape(shape)
        .start()
        .await
}

fn endpoint(server: &MockAuthServer, secret: &str) -> TokenEndpoint {
    TokenEndpoint::builder(server.token_url())
        .client_auth(ClientAuth::basic("svc", secret))
        .build()
        .unwrap()
}

#[tokio::test]
async fn a_custom_grants_handler_issues_tokens_the_server_then_knows() {
    let server = server(ErrorShape::default()).await;
    let tokens = endpoint(&server, "s3cret")
        .request(&SsoTicket("good"), &server.context())
        .await
        .unwrap();
    assert!(server.is_access_token_active(tokens.access_token()));
    assert!(tokens.refresh_token().is_some());
    assert_eq!(tokens.scopes(), Some(&["api".to_owned()][..]));
    assert_eq!(
        tokens.extra().get("instance_url"),
        Some(&json!("https://eu1.example.com"))
    );
}

#[tokio::test]
async fn a_custom_grants_refusal_and_the_error_shape_reach_the_classifier() {
    let shape = ErrorShape {
        description_field: "error_message".into(),
        invalid_client_status: 400,
    };
    let server = server(shape).await;
    let err = endpoint(&server, "s3cret")
        .request(&SsoTicket("bad"), &server.context())
        .await
        .unwrap_err();
    let Error::Refused(refusal) = err else {
        panic!("{err:?}")
    };
    assert_eq!(refusal.code(), &ErrorCode::InvalidGrant);
    assert_eq!(refusal.description(), Some("The ticket is not valid"));
    assert!(refusal.fields().contains_key("error_message"));

    let err = endpoint(&server, "wrong")
        .request(&SsoTicket("good"), &server.context())
        .await
        .unwrap_err();
    let Error::Refused(refusal) = err else {
        panic!("{err:?}")
    };
    assert_eq!(refusal.code(), &ErrorCode::InvalidClient);
    assert_eq!(refusal.status(), 400);
}

#[tokio::test]
async fn a_client_not_allowed_the_custom_grant_is_refused_before_the_handler() {
    let server = MockAuthServer::builder()
        .client(
            MockClient::basic("svc", "s3cret", BasicEncoding::FormUrlEncoded)
                .allow_grants(["client_credentials"]),
        )
        .grant_handler("urn:example:sso-ticket", |_: &GrantRequest<'_>| {
            panic!("the handler ran for a client without the grant")
        })
        .start()
        .await;
    let err = endpoint(&server, "s3cret")
        .request(&SsoTicket("good"), &server.context())
        .await
        .unwrap_err();
    assert!(
        matches!(&err, Error::Refused(r) if r.code() == &ErrorCode::UnauthorizedClient),
        "{err:?}"
    );
}

mod assertions {
    use authkit_core::client_auth::{AssertionKey, ClientAssertion};
    use authkit_core::clock::Clock;
    use authkit_core::grant::ClientCredentialsGrant;
    use authkit_core::secret::SecretString;
    use authkit_core::{ClientAuth, ErrorCode, ExposeSecret, TokenEndpoint};
    use authkit_testkit::{ClientAuthUsed, MockAuthServer, MockClient};

    const SECRET: &str = "a-shared-secret-of-at-least-32-bytes!";

    async fn server() -> MockAuthServer {
        MockAuthServer::builder()
            .client(MockClient::secret_jwt("svc", SECRET))
            .start()
            .await
    }

    #[tokio::test]
    async fn a_client_secret_jwt_client_is_authenticated_by_its_assertion() {
        let server = server().await;
        let endpoint = TokenEndpoint::builder(server.token_url())
            .client_auth(ClientAuth::client_secret_jwt("svc", SECRET).unwrap())
            .build()
            .unwrap();
        let tokens = endpoint
            .request(&ClientCredentialsGrant::new(), &server.context())
            .await
            .unwrap();
        assert!(server.is_access_token_active(tokens.access_token()));
        assert_eq!(
            server.log().entries()[0].client_auth,
            ClientAuthUsed::Assertion
        );
    }

    #[tokio::test]
    async fn an_assertion_signed_with_another_secret_or_sent_twice_is_refused() {
        let server = server().await;
        let wrong = TokenEndpoint::builder(server.token_url())
            .client_auth(
                ClientAuth::client_secret_jwt("svc", "another-secret-of-at-least-32-bytes!!")
                    .unwrap(),
            )
            .build()
            .unwrap();
        let error = wrong
            .request(&ClientCredentialsGrant::new(), &server.context())
            .await
            .unwrap_err();
        assert_eq!(
            error.refusal().map(|r| r.code().clone()),
            Some(ErrorCode::InvalidClient)
        );

        // One assertion, presented twice by hand: the second is a replay.
        let key = AssertionKey::hs256(&SecretString::from(SECRET)).unwrap();
        let assertion = ClientAssertion::new("svc", key)
            .sign_for(
                &url::Url::parse(&server.token_url()).unwrap(),
                server.clock().now(),
            )
            .unwrap();
        let body = form_urlencoded::Serializer::new(String::new())
            .append_pair("grant_type", "client_credentials")
            .append_pair(
                "client_assertion_type",
                "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
            )
            .append_pair("client_assertion", assertion.expose_secret())
            .finish();
        let http = authkit_core::transport::http_client_builder()
            .unwrap()
            .build()
            .unwrap();
        let send = || {
            http.post(server.token_url())
                .header("content-type", "application/x-www-form-urlencoded")
                .body(body.clone())
                .send()
        };
        assert_eq!(send().await.unwrap().status(), 200);
        assert_eq!(send().await.unwrap().status(), 401, "a replayed assertion");
    }
}

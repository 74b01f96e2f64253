//! A contributor adds a grant the core does not ship (RFC 8693 token
//! exchange) from outside the crate, using only the public API.

use authkit_core::endpoint::RequestContext;
use authkit_core::grant::{FormParam, GrantKind};
use authkit_core::{AccessToken, ClientAuth, ExposeSecret, GrantType, TokenEndpoint};
use authkit_testkit::support::{assert_no_secrets, token_json};
use wiremock::matchers::{body_string_contains, method};
use wiremock::{Mock, MockServer, ResponseTemplate};

/// RFC 8693 token exchange: trade a subject token for one with another audience.
#[derive(Debug)]
struct TokenExchange {
    subject_token: AccessToken,
    audience: String,
}

impl GrantType for TokenExchange {
    fn grant_type(&self) -> &str {
        "urn:ietf:params:oauth:grant-type:token-exchange"
    }

    fn parameters(&self) -> Vec<FormParam> {
        vec![
            FormParam::secret("subject_token", self.subject_token.expose_secret()),
            FormParam::plain(
                "subject_token_type",
                "urn:ietf:params:oauth:token-type:access_token",
            ),
            FormParam::plain("audience", self.audience.clone()),
        ]
    }
}

#[tokio::test]
async fn a_grant_defined_outside_the_core_goes_through_the_endpoint() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(body_string_contains(
            "grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Atoken-exchange",
        ))
        .and(body_string_contains("subject_token=subject-secret-42"))
        .and(body_string_contains("audience=billing"))
        .respond_with(ResponseTemplate::new(200).set_body_json(token_json(
            "exchanged",
            None,
            600.into(),
        )))
        .expect(1)
        .mount(&server)
        .await;
    let endpoint = TokenEndpoint::builder(format!("{}/token", server.uri()))
        .client_auth(ClientAuth::basic("svc", "svc-secret"))
        .build()
        .unwrap();
    let grant = TokenExchange {
        subject_token: AccessToken::new("subject-secret-42"),
        audience: "billing".into(),
    };
    assert_eq!(
        grant.kind(),
        GrantKind::TokenExchange,
        "a typed kind, read once"
    );
    let tokens = endpoint
        .request(&grant, &RequestContext::default())
        .await
        .unwrap();
    assert_eq!(tokens.access_token().expose_secret(), "exchanged");
    assert_no_secrets(
        &format!("{grant:?} {:?} {endpoint:?}", grant.parameters()),
        &["subject-secret-42", "svc-secret"],
    );
}

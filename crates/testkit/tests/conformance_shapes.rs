//! The conformance suite against every provider shape, unchanged: with and
//! without refresh tokens, rotating and reused refresh tokens, public,
//! Basic (both encodings) and secret-in-body clients, and a grant the core
//! does not ship. Each run says which behaviours applied; the ones that did
//! not are skipped with a reason. And providers that are wrong in a way a
//! shape hides are caught, not passed by accident.

use std::sync::Arc;

use authkit_core::client_auth::BasicEncoding;
use authkit_core::endpoint::RequestContext;
use authkit_core::grant::{ClientCredentialsGrant, FormParam, PasswordGrant};
use authkit_core::token::Binding;
use authkit_core::{
    AccountKey, ClientAuth, Error, ExposeSecret, GenericProvider, GrantType, Password,
    RefreshToken, TokenEndpoint, TokenProvider, TokenSet,
};
use authkit_testkit::conformance::{
    Conformance, ConformanceReport, ProviderContext, RefreshTokens, Verdict, behaviour,
};
use authkit_testkit::{
    ErrorShape, GrantAnswer, GrantRequest, MockAuthServer, MockClient, RefreshPolicy,
};

const USER: &str = "alice";
const PASSWORD: &str = "p4ss w0rd";
const SECRET: &str = "client-s3cret";

fn passed(report: &ConformanceReport, name: &str) {
    assert_eq!(
        report.verdict(name),
        Some(&Verdict::Passed),
        "{name} should have run and passed:\n{report}"
    );
}

fn skipped(report: &ConformanceReport, name: &str) {
    assert!(
        matches!(report.verdict(name), Some(Verdict::Skipped(_))),
        "{name} should not apply:\n{report}"
    );
}

fn failed<'a>(report: &'a ConformanceReport, name: &str) -> &'a str {
    match report.verdict(name) {
        Some(Verdict::Failed(why)) => why,
        other => panic!("{name} should have failed, got {other:?}:\n{report}"),
    }
}

fn password_provider(
    ctx: &ProviderContext<'_>,
    auth: ClientAuth,
) -> Result<Arc<dyn TokenProvider>, Error> {
    let endpoint = TokenEndpoint::builder(ctx.server.token_url())
        .client_auth(auth)
        .build()?;
    Ok(Arc::new(
        GenericProvider::new(format!("shape:{}", ctx.username()), endpoint).with_grant(
            PasswordGrant::new(ctx.username(), Password::new(ctx.password())),
        ),
    ))
}

#[tokio::test]
async fn a_public_client_with_rotating_refresh_tokens() {
    let report = Conformance::new(
        "public, rotating",
        || {
            MockAuthServer::builder()
                .user(USER, PASSWORD)
                .client(MockClient::public("cli"))
        },
        |ctx| password_provider(ctx, ClientAuth::public(ctx.client_id())),
    )
    .run()
    .await;
    report.assert_passed();
    assert!(report.shape().starts_with("rotating refresh tokens"));
    passed(&report, behaviour::ROTATING);
    passed(&report, behaviour::WRONG_CREDENTIAL);
    skipped(&report, behaviour::REUSED);
    skipped(&report, behaviour::NO_REFRESH);
    skipped(&report, behaviour::PERSON_ONLY);
}

#[tokio::test]
async fn basic_clients_of_either_encoding_with_a_reused_refresh_token() {
    for encoding in [BasicEncoding::FormUrlEncoded, BasicEncoding::Raw] {
        let report = Conformance::new(
            format!("basic ({encoding:?}), reused"),
            move || {
                MockAuthServer::builder()
                    .user(USER, PASSWORD)
                    .client(MockClient::basic("svc", "s3cret:%&", encoding))
                    .refresh_policy(RefreshPolicy {
                        rotate: false,
                        reuse_detection: false,
                    })
            },
            move |ctx| {
                let auth = match encoding {
                    BasicEncoding::FormUrlEncoded => {
                        ClientAuth::basic(ctx.client_id(), ctx.client_secret())
                    }
                    _ => ClientAuth::basic_raw(ctx.client_id(), ctx.client_secret()),
                };
                password_provider(ctx, auth)
            },
        )
        .run()
        .await;
        report.assert_passed();
        assert!(
            report
                .shape()
                .contains("reads user name, password and client secret"),
            "{report}"
        );
        passed(&report, behaviour::REUSED);
        skipped(&report, behaviour::ROTATING);
    }
}

#[tokio::test]
async fn client_credentials_in_the_body_without_refresh_tokens() {
    let report = Conformance::new(
        "client credentials, secret in body",
        || {
            MockAuthServer::builder()
                .user(USER, PASSWORD)
                .client(MockClient::secret_in_body("svc", SECRET))
        },
        |ctx| {
            let endpoint = TokenEndpoint::builder(ctx.server.token_url())
                .client_auth(ClientAuth::secret_in_body(
                    ctx.client_id(),
                    ctx.client_secret(),
                ))
                .build()?;
            Ok(Arc::new(
                GenericProvider::new("shape:svc", endpoint)
                    .with_grant(ClientCredentialsGrant::new().with_scopes(["api"])),
            ))
        },
    )
    .run()
    .await;
    report.assert_passed();
    assert_eq!(
        report.shape(),
        "no refresh tokens, unattended sign-in, reads client secret"
    );
    passed(&report, behaviour::NO_REFRESH);
    passed(&report, behaviour::STAMPEDE);
    passed(&report, behaviour::WRONG_CREDENTIAL);
    skipped(&report, behaviour::REFRESH);
    skipped(&report, behaviour::DEAD_REFRESH);
    skipped(&report, behaviour::ROTATING);
}

#[tokio::test]
async fn a_password_client_that_may_not_refresh_renews_by_repeating_the_grant() {
    let report = Conformance::new(
        "password, no refresh",
        || {
            MockAuthServer::builder()
                .user(USER, PASSWORD)
                .client(MockClient::public("cli").allow_grants(["password"]))
        },
        |ctx| password_provider(ctx, ClientAuth::public(ctx.client_id())),
    )
    .run()
    .await;
    report.assert_passed();
    passed(&report, behaviour::NO_REFRESH);
    skipped(&report, behaviour::REFRESH);
}

/// A grant the core does not ship: trade an API key (a secret type, so its
/// `Debug` is redacted) for tokens.
#[derive(Debug)]
struct ApiKey(Password);

impl GrantType for ApiKey {
    fn grant_type(&self) -> &str {
        "urn:example:api-key"
    }
    fn parameters(&self) -> Vec<FormParam> {
        vec![FormParam::secret("api_key", self.0.expose_secret())]
    }
}

fn api_key_server(refusal_code: &'static str) -> authkit_testkit::MockAuthServerBuilder {
    MockAuthServer::builder()
        .user(USER, PASSWORD)
        .client(MockClient::basic(
            "svc",
            SECRET,
            BasicEncoding::FormUrlEncoded,
        ))
        .grant_handler(
            "urn:example:api-key",
            move |request: &GrantRequest<'_>| match request.form.get("api_key").map(String::as_str)
            {
                Some(PASSWORD) => GrantAnswer::Tokens {
                    user: Some(USER.into()),
                    scope: "api".into(),
                    refresh: true,
                },
                _ => GrantAnswer::Refuse {
                    status: 400,
                    code: refusal_code.into(),
                    description: "Unknown API key".into(),
                },
            },
        )
        .error_shape(ErrorShape {
            description_field: "message".into(),
            invalid_client_status: 400,
        })
}

fn api_key_provider(ctx: &ProviderContext<'_>) -> Result<Arc<dyn TokenProvider>, Error> {
    let endpoint = TokenEndpoint::builder(ctx.server.token_url())
        .client_auth(ClientAuth::basic(ctx.client_id(), ctx.client_secret()))
        .build()?;
    Ok(Arc::new(
        GenericProvider::new("shape:api-key", endpoint)
            .with_grant(ApiKey(Password::new(ctx.password()))),
    ))
}

#[tokio::test]
async fn a_grant_the_core_does_not_ship_with_errors_of_its_own_shape() {
    let report = Conformance::new(
        "custom grant",
        || api_key_server("invalid_grant"),
        api_key_provider,
    )
    .run()
    .await;
    report.assert_passed();
    passed(&report, behaviour::ROTATING);
    passed(&report, behaviour::WRONG_CREDENTIAL);
}

#[tokio::test]
async fn a_refusal_that_is_not_about_credentials_fails_the_wrong_credential_check() {
    // The server says `unsupported_grant_type` to a bad key: a provider
    // (or a server setup) like that must not pass as refusing credentials.
    let report = Conformance::new(
        "custom grant, wrong refusal",
        || api_key_server("unsupported_grant_type"),
        api_key_provider,
    )
    .run()
    .await;
    let why = failed(&report, behaviour::WRONG_CREDENTIAL);
    assert!(why.contains("unsupported_grant_type"), "{why}");
}

/// A provider that loses the refresh token the server sends.
#[derive(Debug)]
struct Forgetful(GenericProvider);

#[async_trait::async_trait]
impl TokenProvider for Forgetful {
    fn account_key(&self) -> &AccountKey {
        self.0.account_key()
    }
    fn binding(&self) -> &Binding {
        self.0.binding()
    }
    async fn authenticate(&self, cx: &RequestContext) -> Result<TokenSet, Error> {
        let tokens = self.0.authenticate(cx).await?;
        Ok(tokens.with_refresh_token(None, None))
    }
    async fn refresh(&self, rt: &RefreshToken, cx: &RequestContext) -> Result<TokenSet, Error> {
        self.0.refresh(rt, cx).await
    }
}

#[tokio::test]
async fn a_provider_that_drops_the_refresh_token_is_caught() {
    let report = Conformance::new(
        "forgetful",
        || {
            MockAuthServer::builder()
                .user(USER, PASSWORD)
                .client(MockClient::public("cli"))
        },
        |ctx| {
            let endpoint = TokenEndpoint::builder(ctx.server.token_url())
                .client_auth(ClientAuth::public(ctx.client_id()))
                .build()?;
            Ok(Arc::new(Forgetful(
                GenericProvider::new("shape:x", endpoint).with_grant(PasswordGrant::new(
                    ctx.username(),
                    Password::new(ctx.password()),
                )),
            )))
        },
    )
    .run()
    .await;
    // The server issued refresh tokens, so the shape says so whatever the
    // provider kept, and the renewal behaviour for that shape runs.
    assert!(
        report.shape().starts_with("rotating refresh tokens"),
        "{report}"
    );
    let why = failed(&report, behaviour::FIRST_SIGN_IN);
    assert!(
        why.contains("refresh token the server sent was not kept"),
        "{why}"
    );
    assert!(matches!(
        report.verdict(behaviour::ROTATING),
        Some(Verdict::Failed(_))
    ));
    let _ = RefreshTokens::Rotating;
}

/// The same grant holding its key as a plain `String`: its derived `Debug`
/// prints the key.
#[derive(Debug)]
struct LeakyApiKey(String);

impl GrantType for LeakyApiKey {
    fn grant_type(&self) -> &str {
        "urn:example:api-key"
    }
    fn parameters(&self) -> Vec<FormParam> {
        vec![FormParam::secret("api_key", &self.0)]
    }
}

#[tokio::test]
async fn a_grant_that_shows_its_key_in_debug_is_caught() {
    let report = Conformance::new(
        "leaky custom grant",
        || api_key_server("invalid_grant"),
        |ctx| {
            let endpoint = TokenEndpoint::builder(ctx.server.token_url())
                .client_auth(ClientAuth::basic(ctx.client_id(), ctx.client_secret()))
                .build()?;
            Ok(Arc::new(
                GenericProvider::new("shape:leaky", endpoint)
                    .with_grant(LeakyApiKey(ctx.password().to_owned())),
            ))
        },
    )
    .run()
    .await;
    let why = failed(&report, behaviour::SECRETS);
    assert!(why.contains("appeared in Debug"), "{why}");
    assert!(!why.contains(PASSWORD), "the report itself shows no secret");
}

#[tokio::test]
async fn an_assertion_client_signing_with_its_secret() {
    let report = Conformance::new(
        "client_secret_jwt, password",
        || {
            MockAuthServer::builder()
                .user(USER, PASSWORD)
                .client(MockClient::secret_jwt(
                    "svc",
                    "a-shared-secret-of-at-least-32-bytes!",
                ))
        },
        |ctx| {
            let auth = ClientAuth::client_secret_jwt(ctx.client_id(), ctx.client_secret())?;
            password_provider(ctx, auth)
        },
    )
    .run()
    .await;
    report.assert_passed();
    assert!(
        report
            .shape()
            .contains("reads user name, password and client secret"),
        "{report}"
    );
    passed(&report, behaviour::WRONG_CREDENTIAL);
    passed(&report, behaviour::ROTATING);
}

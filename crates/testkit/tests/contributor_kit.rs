//! The contributor kit, proven on a quirky provider written from the guide
//! alone (`quirky/globex.rs`): its reason in a field of its own, a wrong
//! account id answered with the wrong code, an identifier that is no
//! secret, HTTP Basic that must be form-encoded, an application an
//! administrator must enable. Each test says what the kit does for a
//! contributor who gets one of these wrong.

#[path = "quirky/globex.rs"]
mod globex;

use std::sync::Arc;

use authkit_core::client_auth::BasicEncoding;
use authkit_core::endpoint::EndpointSettings;
use authkit_core::grant::{ExtensionGrant, FormParam};
use authkit_core::{
    AccountState, ClientAuth, ClientSecret, Error, GenericProvider, MemoryStore, TokenEndpoint,
    TokenManager, TokenProvider,
};
use authkit_testkit::conformance::{
    Conformance, ConformanceReport, ProviderContext, SUITE_CLIENT_SECRET, Verdict, behaviour,
};
use authkit_testkit::{
    BasicFound, ErrorShape, GrantAnswer, GrantRequest, MockAuthServer, MockAuthServerBuilder,
    MockClient, WireCheck,
};
use globex::{ACCOUNT_GRANT, Globex, GlobexRefusal, TOKEN_PATH};

const ACCOUNT: &str = "acct-42";
const KEY: &str = "globex key: 7 words & more";
const NOT_ENABLED: &str = "acct-disabled-api";

/// The mock posing as Globex: its grant, its `reason` field, no refresh
/// tokens, and a wrong account id refused as `invalid_request`.
fn globex_server() -> MockAuthServerBuilder {
    MockAuthServer::builder()
        .token_path(TOKEN_PATH)
        .user(ACCOUNT, KEY)
        .client(MockClient::basic(
            "globex-app",
            "app-secret",
            BasicEncoding::FormUrlEncoded,
        ))
        .grant_handler(ACCOUNT_GRANT, |request: &GrantRequest<'_>| {
            let refuse = |code: &str, reason: &str| GrantAnswer::Refuse {
                status: 400,
                code: code.into(),
                description: reason.into(),
            };
            let field = |name: &str| request.form.get(name).map(String::as_str);
            match (field("account_id"), field("account_key")) {
                (Some(NOT_ENABLED), _) => refuse(
                    "access_denied",
                    "API access is not enabled for this account",
                ),
                (Some(ACCOUNT), Some(KEY)) => GrantAnswer::Tokens {
                    user: Some(ACCOUNT.into()),
                    scope: String::new(),
                    refresh: false,
                },
                (Some(ACCOUNT), _) => refuse("invalid_grant", "account key does not match"),
                _ => refuse("invalid_request", "unknown account id"),
            }
        })
        .error_shape(ErrorShape {
            description_field: "reason".into(),
            invalid_client_status: 401,
        })
}

fn globex_at(ctx: &ProviderContext<'_>) -> Result<Arc<dyn TokenProvider>, Error> {
    let globex = Globex::new(
        (ctx.client_id(), ClientSecret::new(ctx.client_secret())),
        ctx.identifier("account_id"),
        ctx.password(),
        EndpointSettings::new().base_url(ctx.server.base_url()),
    )?;
    Ok(Arc::new(globex))
}

/// Globex's account `account` with `key`, as the server's first client, at
/// `server`.
fn globex_on(server: &MockAuthServer, account: &str, key: &str) -> Globex {
    let (client, secret) = server.first_client().expect("a client");
    Globex::new(
        (&client, ClientSecret::new(secret.unwrap_or_default())),
        account,
        key,
        EndpointSettings::new().base_url(server.base_url()),
    )
    .expect("Globex at the mock server")
}

async fn run(
    provider: impl Fn(&ProviderContext<'_>) -> Result<Arc<dyn TokenProvider>, Error>
    + Send
    + Sync
    + 'static,
) -> ConformanceReport {
    Conformance::new("globex", globex_server, provider)
        .with_identifier("account_id", ACCOUNT)
        .run()
        .await
}

/// What a contributor would write who missed one of the guide's points:
/// Globex's grant with plain `GenericProvider` parts.
fn naive(
    ctx: &ProviderContext<'_>,
    auth: ClientAuth,
    name_reason: bool,
    recode: bool,
) -> Result<Arc<dyn TokenProvider>, Error> {
    let endpoint = TokenEndpoint::builder(ctx.server.token_url()).client_auth(auth);
    let endpoint = if name_reason {
        endpoint.description_field("reason")
    } else {
        endpoint
    };
    let grant = ExtensionGrant::new(ACCOUNT_GRANT)
        .with_param(FormParam::plain("account_id", ctx.identifier("account_id")))
        .with_param(FormParam::secret("account_key", ctx.password()));
    let provider = GenericProvider::new("globex:naive", endpoint.build()?).with_grant(grant);
    Ok(Arc::new(if recode {
        provider.with_refusals(|r| {
            r.with_code_when(
                &["unknown account id"],
                authkit_core::ErrorCode::InvalidGrant,
            )
        })
    } else {
        provider
    }))
}

fn basic(ctx: &ProviderContext<'_>) -> ClientAuth {
    ClientAuth::basic(ctx.client_id(), ClientSecret::new(ctx.client_secret()))
}

fn failure(report: &ConformanceReport, name: &str) -> String {
    match report.verdict(name) {
        Some(Verdict::Failed(why)) => why.clone(),
        other => panic!("expected `{name}` to fail, it was {other:?}\n{report}"),
    }
}

#[tokio::test]
async fn the_quirky_provider_from_the_guide_conforms() {
    let report = run(globex_at).await;
    report.assert_passed();
    assert_eq!(
        report.shape(),
        "no refresh tokens, unattended sign-in, reads password, client secret and identifier `account_id`"
    );
    for name in [
        behaviour::WRONG_CREDENTIAL,
        behaviour::DESCRIPTION,
        behaviour::SECRETS,
        behaviour::NO_REFRESH,
    ] {
        assert_eq!(report.verdict(name), Some(&Verdict::Passed), "{name}");
    }
}

#[test]
fn the_template_plus_the_quirky_providers_table_fits_in_sixty_lines_of_code() {
    let code = include_str!("quirky/globex.rs")
        .lines()
        .map(str::trim)
        .filter(|line| !line.is_empty() && !line.starts_with("//"))
        .count();
    assert!(code <= 60, "the quirky adapter takes {code} lines of code");
}

// 1. Description fields.

#[tokio::test]
async fn a_reason_in_a_field_nobody_reads_fails_the_description_behaviour() {
    let report = run(|ctx| naive(ctx, basic(ctx), false, true)).await;
    let why = failure(&report, behaviour::DESCRIPTION);
    assert!(why.contains("`reason`"), "{why}");
    assert!(why.contains("description_field(\"reason\")"), "{why}");

    let named = run(|ctx| naive(ctx, basic(ctx), true, true)).await;
    assert_eq!(
        named.verdict(behaviour::DESCRIPTION),
        Some(&Verdict::Passed),
        "{named}"
    );
}

#[tokio::test]
async fn a_named_description_field_reaches_the_error_message() {
    let server = globex_server().start().await;
    let globex = globex_on(&server, "acct-nobody", KEY);
    let error = globex.authenticate(&server.context()).await.unwrap_err();
    assert_eq!(
        error.refusal().and_then(|r| r.description()),
        Some("unknown account id")
    );
    assert!(error.to_string().contains("unknown account id"), "{error}");
}

// 2. Re-coding a refusal, and the refusal table.

#[tokio::test]
async fn a_wrong_account_id_answered_as_invalid_request_fails_until_re_coded() {
    let report = run(|ctx| naive(ctx, basic(ctx), true, false)).await;
    let why = failure(&report, behaviour::WRONG_CREDENTIAL);
    assert!(why.contains("identifier `account_id`"), "{why}");
    assert!(why.contains("invalid_request"), "{why}");
    assert!(
        why.contains("with_code"),
        "the failure names the fix: {why}"
    );
}

#[tokio::test]
async fn the_refusal_table_names_each_refusal_for_people() {
    let server = globex_server().start().await;
    let kind_for = |account: &'static str, key: &'static str| {
        let globex = globex_on(&server, account, key);
        let server = &server;
        async move {
            let error = globex.authenticate(&server.context()).await.unwrap_err();
            GlobexRefusal::of(&error)
        }
    };
    assert_eq!(
        kind_for("acct-nobody", KEY).await,
        Some(GlobexRefusal::UnknownAccount)
    );
    assert_eq!(
        kind_for(ACCOUNT, "wrong").await,
        Some(GlobexRefusal::WrongKey)
    );
    assert_eq!(
        kind_for(NOT_ENABLED, KEY).await,
        Some(GlobexRefusal::NotEnabled)
    );
}

// 3. Credentials that are not secrets.

#[tokio::test]
async fn an_identifier_may_show_where_a_secret_may_not() {
    let report = run(globex_at).await;
    assert_eq!(
        report.verdict(behaviour::SECRETS),
        Some(&Verdict::Passed),
        "{report}"
    );
    let server = globex_server().start().await;
    let globex = globex_on(&server, ACCOUNT, KEY);
    let shown = format!("{globex:?}");
    assert!(
        shown.contains(ACCOUNT),
        "the account id names the account: {shown}"
    );
    assert!(!shown.contains(KEY), "{shown}");
}

#[tokio::test]
async fn a_provider_that_reads_an_identifier_it_never_sends_is_caught() {
    let report = Conformance::new("globex, fixed account", globex_server, |ctx| {
        let _ignored = ctx.identifier("account_id");
        let endpoint = TokenEndpoint::builder(ctx.server.token_url())
            .client_auth(basic(ctx))
            .description_field("reason")
            .build()?;
        let grant = ExtensionGrant::new(ACCOUNT_GRANT)
            .with_param(FormParam::plain("account_id", ACCOUNT))
            .with_param(FormParam::secret("account_key", ctx.password()));
        Ok(Arc::new(
            GenericProvider::new("globex:fixed", endpoint).with_grant(grant),
        ))
    })
    .with_identifier("account_id", ACCOUNT)
    .run()
    .await;
    let why = failure(&report, behaviour::WRONG_CREDENTIAL);
    assert!(
        why.contains("a wrong identifier `account_id` was accepted"),
        "{why}"
    );
}

// 4. Wire checks.

#[tokio::test]
async fn the_wire_check_holds_the_exact_form_and_the_basic_encoding() {
    let secret = SUITE_CLIENT_SECRET;
    let server = MockAuthServer::builder()
        .token_path(TOKEN_PATH)
        .client(MockClient::basic(
            "globex-app",
            secret,
            BasicEncoding::FormUrlEncoded,
        ))
        .grant_handler(ACCOUNT_GRANT, |_: &GrantRequest<'_>| GrantAnswer::Tokens {
            user: None,
            scope: String::new(),
            refresh: false,
        })
        .start()
        .await;
    let globex = Globex::new(
        ("globex-app", ClientSecret::new(secret)),
        ACCOUNT,
        KEY,
        EndpointSettings::new().base_url(server.base_url()),
    )
    .unwrap();
    globex.authenticate(&server.context()).await.unwrap();
    let sent = &server.token_requests()[0];

    let expected = WireCheck::new()
        .form("grant_type", ACCOUNT_GRANT)
        .form("account_id", ACCOUNT)
        .secret_form("account_key", KEY)
        .header("content-type", "application/x-www-form-urlencoded")
        .header("accept", "application/json");
    expected
        .clone()
        .basic("globex-app", secret, BasicEncoding::FormUrlEncoded)
        .assert(sent);

    let raw = expected
        .clone()
        .basic("globex-app", secret, BasicEncoding::Raw)
        .check(sent);
    assert_eq!(
        raw,
        ["Basic credentials are form-encoded (RFC 6749 §2.3.1), expected raw"]
    );
    let wrong_key = WireCheck::new()
        .form("grant_type", ACCOUNT_GRANT)
        .form("account_id", ACCOUNT)
        .secret_form("account_key", "another key")
        .check(sent);
    assert_eq!(wrong_key, ["the form's `account_key` differs (a secret)"]);
    let missing = WireCheck::new()
        .form("grant_type", ACCOUNT_GRANT)
        .check(sent);
    assert_eq!(
        missing,
        [
            "the form has `account_id`, which was not expected",
            "the form has `account_key`, which was not expected"
        ]
    );
    assert!(!format!("{sent:?}").contains(KEY), "Debug shows names only");
}

#[tokio::test]
async fn credentials_that_read_the_same_in_both_encodings_prove_nothing() {
    let server = MockAuthServer::builder()
        .client(MockClient::basic(
            "app",
            "plain",
            BasicEncoding::FormUrlEncoded,
        ))
        .start()
        .await;
    let endpoint = TokenEndpoint::builder(server.token_url())
        .client_auth(ClientAuth::basic("app", ClientSecret::new("plain")))
        .build()
        .unwrap();
    endpoint
        .request(
            &authkit_core::grant::ClientCredentialsGrant::new(),
            &server.context(),
        )
        .await
        .unwrap();
    let sent = &server.token_requests()[0];
    assert_eq!(
        sent.basic_encoding("app", "plain"),
        BasicFound::Indistinguishable
    );
    let differences = WireCheck::new()
        .form("grant_type", "client_credentials")
        .basic("app", "plain", BasicEncoding::FormUrlEncoded)
        .check(sent);
    assert_eq!(differences.len(), 1);
    assert!(
        differences[0].contains("read the same raw and form-encoded"),
        "{differences:?}"
    );
}

#[tokio::test]
async fn raw_basic_to_a_server_that_wants_it_form_encoded_fails_conformance() {
    // The server's configuration has a plain secret, with which both
    // encodings would pass; the suite's own secret tells them apart.
    let report = run(|ctx| {
        let raw = ClientAuth::basic_raw(ctx.client_id(), ClientSecret::new(ctx.client_secret()));
        naive(ctx, raw, true, true)
    })
    .await;
    let why = failure(&report, behaviour::FIRST_SIGN_IN);
    assert!(why.contains("invalid_client"), "{why}");
}

// 6. App-level states.

#[tokio::test]
async fn an_application_an_administrator_must_enable_stops_the_manager() {
    let server = globex_server().start().await;
    let globex = globex_on(&server, NOT_ENABLED, KEY);
    let manager = TokenManager::builder(Arc::new(globex), MemoryStore::new())
        .clock(server.shared_clock())
        .build();
    let error = manager.access_token().await.unwrap_err();
    let refusal = error.refusal().expect("a refusal");
    assert_eq!(
        refusal.account_state(),
        Some(AccountState::ApplicationNotEnabled)
    );
    assert!(refusal.account_state().unwrap().needs_an_administrator());
    assert!(!error.is_retryable());
    assert!(error.to_string().contains("an administrator"), "{error}");
    assert_eq!(server.log().len(), 1, "the refusal was not retried");
}

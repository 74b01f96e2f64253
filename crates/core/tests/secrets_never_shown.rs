//! Every public type that holds a secret keeps it out of `Debug` and
//! `Display`; so does every error the crate can produce from hostile input.

use std::sync::Arc;

use authkit_core::__private::{ParseContext, ResponseParts, interpret};
use authkit_core::grant::{
    AuthorizationCodeGrant, ClientCredentialsGrant, GrantKind, PasswordGrant, PkceVerifier,
    RefreshTokenGrant, State,
};
use authkit_core::secret::{AuthorizationCode, IdToken};
use authkit_core::token::Binding;
use authkit_core::{
    AccessToken, ClientAuth, ClientId, ClientSecret, GenericProvider, MemoryStore, Password,
    RefreshToken, TokenEndpoint, TokenManager, TokenProvider, TokenSet,
};
use authkit_testkit::support::assert_no_secrets;
use time::OffsetDateTime;

const SECRETS: &[&str] = &[
    "access-SECRET-1",
    "refresh-SECRET-2",
    "id-SECRET-3",
    "password-SECRET-4",
    "client-SECRET-5",
    "code-SECRET-6",
    "verifier-SECRET-7-abcdefghijklmnopqrstuvwxyz0123",
];

fn token_set() -> TokenSet {
    let now = OffsetDateTime::now_utc();
    TokenSet::new(
        AccessToken::new(SECRETS[0]),
        now,
        now + time::Duration::hours(1),
    )
    .with_refresh_token(Some(RefreshToken::new(SECRETS[1])), None)
    .with_id_token(Some(IdToken::new(SECRETS[2])))
}

#[tokio::test]
async fn debug_of_every_public_type_is_redacted() {
    let endpoint = TokenEndpoint::builder("https://auth.example.com/token")
        .client_auth(ClientAuth::basic("app", ClientSecret::new(SECRETS[4])))
        .build()
        .unwrap();
    let password_grant = PasswordGrant::new("alice", Password::new(SECRETS[3]));
    let verifier = PkceVerifier::from_secret(SECRETS[6]);
    let code_grant =
        AuthorizationCodeGrant::new(AuthorizationCode::new(SECRETS[5]), "http://127.0.0.1/cb")
            .with_pkce_verifier(verifier.clone());
    let refresh_grant = RefreshTokenGrant::new(RefreshToken::new(SECRETS[1]));
    let provider =
        GenericProvider::new("example:alice", endpoint.clone()).with_grant(password_grant.clone());
    let store = MemoryStore::with_tokens(
        provider.account_key(),
        &token_set().with_binding(provider.binding().clone()),
    );
    let manager = TokenManager::new(provider.clone(), store.clone());
    let state = State::generate();

    use authkit_core::GrantType;
    let rendered = [
        format!("{:?}", token_set()),
        format!("{:?}", AccessToken::new(SECRETS[0])),
        format!("{:?}", RefreshToken::new(SECRETS[1])),
        format!("{:?}", IdToken::new(SECRETS[2])),
        format!("{:?}", Password::new(SECRETS[3])),
        format!("{:?}", ClientSecret::new(SECRETS[4])),
        format!("{:?}", AuthorizationCode::new(SECRETS[5])),
        format!("{verifier:?} {:?}", verifier.challenge()),
        format!("{password_grant:?} {:?}", password_grant.parameters()),
        format!("{code_grant:?} {:?}", code_grant.parameters()),
        format!("{refresh_grant:?} {:?}", refresh_grant.parameters()),
        format!("{:?}", ClientCredentialsGrant::new().with_scopes(["a"])),
        format!("{endpoint:?} {:?}", endpoint.client_auth()),
        format!("{provider:?}"),
        format!("{store:?}"),
        format!("{manager:?}"),
        format!("{state:?}"),
    ];
    for text in rendered {
        assert_no_secrets(&text, SECRETS);
    }
}

#[test]
fn errors_from_hostile_bodies_never_quote_them() {
    let bodies: &[(u16, &str, &str)] = &[
        (
            200,
            "application/json",
            r#"{"access_token": 7, "refresh_token": "refresh-SECRET-2"}"#,
        ),
        (
            200,
            "application/json",
            r#"{"access_token": "access-SECRET-1", "id_token": ["id-SECRET-3"]}"#,
        ),
        (
            200,
            "application/json",
            r#"{"access_token": "access-SECRET-1""#,
        ),
        (200, "text/html", "<p>password-SECRET-4 client-SECRET-5</p>"),
        (
            400,
            "application/json",
            r#"{"error": "invalid_grant", "error_description": "bad code code-SECRET-6-0123456789"}"#,
        ),
        (401, "text/plain", "refresh-SECRET-2-0123456789abcdef"),
        (
            500,
            "application/json",
            r#"{"error": {"access_token": "access-SECRET-1"}}"#,
        ),
        (302, "text/html", "moved: access-SECRET-1-0123456789"),
        (
            400,
            "application/json",
            r#"{"error": "invalid_request", "reason": "access-SECRET-1", "echo": {"password": "password-SECRET-4"}}"#,
        ),
    ];
    let url = url::Url::parse("https://auth.example.com/token").unwrap();
    for (status, content_type, body) in bodies {
        let error = interpret(
            &ResponseParts {
                status: *status,
                content_type: Some(content_type),
                retry_after: None,
                body: body.as_bytes(),
            },
            &ParseContext {
                grant: GrantKind::Password,
                sent_at: OffsetDateTime::now_utc(),
                default_lifetime: time::Duration::minutes(5),
                binding: Binding::new(&url, ClientId::new("app")),
                requested_scopes: &[],
                accepted_token_types: &[],
                description_fields: &[],
            },
        )
        .expect_err(body);
        let text = format!("{error:?} {error}");
        // Short secrets in foreign text cannot be told from words; the ones
        // with a digit run long enough to look like a token are scrubbed, and
        // success bodies are never quoted at all.
        if content_type.contains("json") {
            assert_no_secrets(&text, SECRETS);
        } else {
            assert!(!text.contains("0123456789"), "{text}");
        }
    }
}

#[test]
fn grants_are_objects_a_provider_can_share() {
    let grant: Arc<dyn authkit_core::GrantType> = Arc::new(ClientCredentialsGrant::new());
    assert_eq!(grant.grant_type(), "client_credentials");
}

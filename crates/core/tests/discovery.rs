//! Discovery (RFC 8414, OpenID Connect Discovery) against a loopback server:
//! where the document is looked for, that it must name the issuer asked
//! for, that it is fetched once, and how a server without one fails.

use std::time::Duration;

use authkit_core::discovery::Discovery;
use authkit_core::endpoint::EndpointSettings;
use authkit_core::grant::GrantKind;
use authkit_core::{ClientAuth, Error, GenericProvider};
use serde_json::json;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

fn document(issuer: &str) -> serde_json::Value {
    json!({
        "issuer": issuer,
        "token_endpoint": format!("{issuer}/oauth/token"),
        "revocation_endpoint": format!("{issuer}/oauth/revoke"),
        "device_authorization_endpoint": format!("{issuer}/oauth/device"),
        "grant_types_supported": ["client_credentials", "refresh_token"],
        "token_endpoint_auth_methods_supported": ["client_secret_post"],
        "custom_member": 7,
    })
}

fn discovery() -> Discovery {
    Discovery::new(EndpointSettings::new().timeout(Duration::from_secs(5)))
}

#[tokio::test]
async fn the_openid_location_is_read_and_the_document_is_fetched_once() {
    let server = MockServer::start().await;
    let issuer = format!("{}/tenant", server.uri());
    Mock::given(method("GET"))
        .and(path("/tenant/.well-known/openid-configuration"))
        .respond_with(ResponseTemplate::new(200).set_body_json(document(&issuer)))
        .expect(1)
        .mount(&server)
        .await;
    let discovery = discovery();
    let (a, b) = tokio::join!(discovery.metadata(&issuer), discovery.metadata(&issuer));
    let metadata = a.unwrap();
    assert_eq!(metadata.token_endpoint(), b.unwrap().token_endpoint());
    assert_eq!(metadata.issuer(), issuer);
    assert_eq!(metadata.field("custom_member"), Some(&json!(7)));
    assert!(metadata.supports_grant(&GrantKind::ClientCredentials));
    assert!(!metadata.supports_grant(&GrantKind::Password));
    // A clone shares the cache.
    discovery.clone().metadata(&issuer).await.unwrap();
}

#[tokio::test]
async fn the_oauth_location_is_tried_when_there_is_no_openid_document() {
    let server = MockServer::start().await;
    let issuer = format!("{}/tenant", server.uri());
    Mock::given(method("GET"))
        .and(path("/.well-known/oauth-authorization-server/tenant"))
        .respond_with(ResponseTemplate::new(200).set_body_json(document(&issuer)))
        .expect(1)
        .mount(&server)
        .await;
    let metadata = discovery().metadata(&issuer).await.unwrap();
    assert_eq!(
        metadata.token_endpoint(),
        Some(format!("{issuer}/oauth/token").as_str())
    );
}

/// RFC 8414 §5: for an issuer with a path, the inserted form is asked for
/// before the OpenID Connect form; a host serving several tenants may answer
/// the appended form with another document.
#[tokio::test]
async fn for_an_issuer_with_a_path_the_rfc_8414_location_comes_first() {
    let server = MockServer::start().await;
    let issuer = format!("{}/tenant", server.uri());
    let mut oauth = document(&issuer);
    oauth["token_endpoint"] = json!(format!("{issuer}/oauth2/token"));
    Mock::given(method("GET"))
        .and(path("/.well-known/oauth-authorization-server/tenant"))
        .respond_with(ResponseTemplate::new(200).set_body_json(oauth))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/tenant/.well-known/openid-configuration"))
        .respond_with(ResponseTemplate::new(200).set_body_json(document(&issuer)))
        .expect(0)
        .mount(&server)
        .await;
    let metadata = discovery().metadata(&issuer).await.unwrap();
    assert_eq!(
        metadata.token_endpoint(),
        Some(format!("{issuer}/oauth2/token").as_str())
    );
}

/// Without a path the OpenID Connect document is asked for first, and the
/// RFC 8414 one when it is missing.
#[tokio::test]
async fn for_an_issuer_without_a_path_the_openid_location_comes_first() {
    let server = MockServer::start().await;
    let issuer = server.uri();
    Mock::given(method("GET"))
        .and(path("/.well-known/openid-configuration"))
        .respond_with(ResponseTemplate::new(200).set_body_json(document(&issuer)))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/.well-known/oauth-authorization-server"))
        .respond_with(ResponseTemplate::new(500))
        .expect(0)
        .mount(&server)
        .await;
    discovery().metadata(&issuer).await.unwrap();
}

#[tokio::test]
async fn a_document_that_names_another_issuer_is_refused() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(document("https://impostor.example.com")),
        )
        .mount(&server)
        .await;
    let err = discovery().metadata(&server.uri()).await.unwrap_err();
    assert!(matches!(err, Error::Config(_)), "{err:?}");
    assert!(err.to_string().contains("impostor.example.com"), "{err}");
}

#[tokio::test]
async fn a_server_without_metadata_says_to_give_the_token_url() {
    let server = MockServer::start().await;
    let err = discovery().metadata(&server.uri()).await.unwrap_err();
    assert!(matches!(err, Error::Config(_)), "{err:?}");
    assert!(err.to_string().contains("token endpoint"), "{err}");
}

#[tokio::test]
async fn an_html_page_or_a_failing_server_is_classified() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(200).set_body_raw("<html>Sign in</html>", "text/html"))
        .mount(&server)
        .await;
    let err = discovery().metadata(&server.uri()).await.unwrap_err();
    assert!(matches!(err, Error::Protocol(_)), "{err:?}");

    let failing = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(503))
        .mount(&failing)
        .await;
    let err = discovery().metadata(&failing.uri()).await.unwrap_err();
    assert!(err.is_retryable(), "{err:?}");
}

#[tokio::test]
async fn a_provider_from_metadata_uses_its_endpoints_and_refuses_an_unlisted_method() {
    let server = MockServer::start().await;
    let issuer = server.uri();
    Mock::given(method("GET"))
        .and(path("/.well-known/openid-configuration"))
        .respond_with(ResponseTemplate::new(200).set_body_json(document(&issuer)))
        .mount(&server)
        .await;
    let metadata = discovery().metadata(&issuer).await.unwrap();
    let provider = GenericProvider::from_metadata(
        "svc",
        &metadata,
        ClientAuth::secret_in_body("svc", "s3cret"),
        EndpointSettings::new(),
    )
    .unwrap();
    assert_eq!(
        provider.endpoint().url().as_str(),
        format!("{issuer}/oauth/token")
    );
    let err = GenericProvider::from_metadata(
        "svc",
        &metadata,
        ClientAuth::basic("svc", "s3cret"),
        EndpointSettings::new(),
    )
    .unwrap_err();
    assert!(err.to_string().contains("client_secret_basic"), "{err}");
    assert!(!err.to_string().contains("s3cret"));
}

//! Mutual TLS (RFC 8705) as a specification: a client authenticates with
//! its certificate (`tls_client_auth`, `self_signed_tls_client_auth`), its
//! tokens are bound to that certificate and an API takes them only over a
//! connection with the same one, the server's `mtls_endpoint_aliases` are
//! used by clients that present a certificate, and every way the set-up can
//! be wrong is a clear error. The server is a real TLS server on 127.0.0.1
//! that requires a client certificate in the handshake, with certificates
//! generated for the run (the testkit's `mtls`).

use authkit_core::client_auth::MutualTlsMethod;
use authkit_core::discovery::ServerMetadata;
use authkit_core::endpoint::{EndpointSettings, RequestContext};
use authkit_core::error::ConfigErrorKind;
use authkit_core::grant::ClientCredentialsGrant;
use authkit_core::transport::{ClientIdentity, TlsSettings, http_client_builder_with};
use authkit_core::{
    ClientAuth, Error, ErrorCode, ExposeSecret, GenericProvider, MemoryStore, TokenEndpoint,
    TokenManager,
};
use authkit_testkit::mtls::{IssuedCertificate, MtlsServer, TestPki};
use authkit_testkit::support::{assert_no_secrets, quick_retries};

fn identity(certificate: &IssuedCertificate) -> ClientIdentity {
    ClientIdentity::from_pem(
        certificate.certificate_pem.as_bytes(),
        certificate.private_key_pem.as_bytes(),
    )
    .unwrap()
}

/// TLS that presents `certificate` and trusts the run's CA.
fn tls(pki: &TestPki, certificate: &IssuedCertificate) -> TlsSettings {
    TlsSettings::new()
        .client_identity(identity(certificate))
        .trust_root_pem(pki.ca_pem().as_bytes())
        .unwrap()
}

fn endpoint(server: &MtlsServer, auth: ClientAuth, tls: TlsSettings) -> TokenEndpoint {
    TokenEndpoint::builder(server.url("/token"))
        .client_auth(auth)
        .settings(
            EndpointSettings::new()
                .tls(tls)
                .retry_policy(quick_retries(2)),
        )
        .build()
        .unwrap()
}

async fn token(endpoint: &TokenEndpoint) -> Result<String, Error> {
    endpoint
        .request(&ClientCredentialsGrant::new(), &RequestContext::default())
        .await
        .map(|tokens| tokens.access_token().expose_secret().to_owned())
}

/// Calls the API with `token` over a client with `tls`; the status.
async fn call_api(server: &MtlsServer, tls: &TlsSettings, token: &str) -> u16 {
    http_client_builder_with(tls)
        .unwrap()
        .build()
        .unwrap()
        .get(server.url("/api"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

#[tokio::test]
async fn a_ca_issued_certificate_authenticates_its_client_and_binds_the_token_to_it() {
    let pki = TestPki::new();
    let server = MtlsServer::start(&pki).await;
    let certificate = pki.client("reports-app");
    server.register("reports-app", MutualTlsMethod::Pki, &certificate);
    let tls = tls(&pki, &certificate);
    let endpoint = endpoint(
        &server,
        ClientAuth::tls_client_auth("reports-app"),
        tls.clone(),
    );
    let token = token(&endpoint)
        .await
        .expect("authenticated by the certificate");

    // The request named the client and presented its certificate; no secret.
    let seen = server.requests();
    assert_eq!(seen[0].client_id.as_deref(), Some("reports-app"));
    assert_eq!(
        seen[0].client_certificate.as_deref(),
        Some(certificate.thumbprint.as_str())
    );
    assert_eq!(
        identity(&certificate).certificate_thumbprint(),
        certificate.thumbprint
    );

    // The token works over the same certificate, and only over it.
    assert_eq!(call_api(&server, &tls, &token).await, 200);
    let other = TestPki::self_signed_client("someone-else");
    let elsewhere = TlsSettings::new()
        .client_identity(identity(&other))
        .trust_root_pem(pki.ca_pem().as_bytes())
        .unwrap();
    assert_eq!(call_api(&server, &elsewhere, &token).await, 401);
}

#[tokio::test]
async fn a_self_signed_certificate_authenticates_the_client_it_is_registered_for_only() {
    let pki = TestPki::new();
    let server = MtlsServer::start(&pki).await;
    let mine = TestPki::self_signed_client("cli");
    let theirs = TestPki::self_signed_client("other");
    server.register("cli", MutualTlsMethod::SelfSigned, &mine);
    server.register("other", MutualTlsMethod::SelfSigned, &theirs);

    let auth = ClientAuth::self_signed_tls_client_auth("cli");
    assert_eq!(auth.method_name(), "self_signed_tls_client_auth");
    assert!(
        token(&endpoint(&server, auth.clone(), tls(&pki, &mine)))
            .await
            .is_ok()
    );

    // Another client's certificate does not authenticate this one.
    let error = token(&endpoint(&server, auth, tls(&pki, &theirs)))
        .await
        .unwrap_err();
    match &error {
        Error::Refused(refusal) => assert_eq!(*refusal.code(), ErrorCode::InvalidClient),
        other => panic!("expected invalid_client, got {other:?}"),
    }
}

#[tokio::test]
async fn a_self_signed_certificate_does_not_pass_for_one_a_trusted_ca_issued() {
    let pki = TestPki::new();
    let server = MtlsServer::start(&pki).await;
    let forged = TestPki::self_signed_client("reports-app");
    server.register("reports-app", MutualTlsMethod::Pki, &forged);
    let error = token(&endpoint(
        &server,
        ClientAuth::tls_client_auth("reports-app"),
        tls(&pki, &forged),
    ))
    .await
    .unwrap_err();
    assert!(
        matches!(&error, Error::Refused(r) if *r.code() == ErrorCode::InvalidClient),
        "{error:?}"
    );
}

#[tokio::test]
async fn certificate_authentication_without_a_certificate_is_refused_before_anything_is_sent() {
    let error = TokenEndpoint::builder("https://127.0.0.1:9/token")
        .client_auth(ClientAuth::tls_client_auth("reports-app"))
        .build()
        .unwrap_err();
    assert!(matches!(error, Error::Config(_)), "{error:?}");
    assert!(error.to_string().contains("client_identity"), "{error}");
}

#[tokio::test]
async fn a_certificate_either_side_refuses_is_a_tls_configuration_error_and_not_retried() {
    let pki = TestPki::new();
    let server = MtlsServer::start(&pki).await;
    let certificate = pki.client("app");
    server.register("app", MutualTlsMethod::Pki, &certificate);
    let tls_error = |error: &Error| match error {
        Error::Config(config) => config.kind() == ConfigErrorKind::Tls,
        _ => false,
    };

    // No certificate: the server ends the handshake. Once: no retry mends it.
    let public = endpoint(
        &server,
        ClientAuth::public("app"),
        TlsSettings::new()
            .trust_root_pem(pki.ca_pem().as_bytes())
            .unwrap(),
    );
    let error = token(&public).await.unwrap_err();
    assert!(tls_error(&error), "{error:?}");
    assert!(
        error.to_string().contains("requires a client certificate"),
        "{error}"
    );
    assert!(
        std::error::Error::source(&error).is_some(),
        "the cause is kept"
    );

    // A server whose certificate chains to no trusted root: the client
    // ends it, and never sends the request.
    let untrusting = endpoint(
        &server,
        ClientAuth::tls_client_auth("app"),
        TlsSettings::new().client_identity(identity(&certificate)),
    );
    let before = server.requests().len();
    let error = token(&untrusting).await.unwrap_err();
    assert!(tls_error(&error), "{error:?}");
    assert!(error.to_string().contains("not trusted"), "{error}");
    assert_eq!(server.requests().len(), before, "nothing was sent");
}

#[test]
fn a_certificate_or_key_that_cannot_be_used_is_a_clear_error_that_never_quotes_the_key() {
    let pki = TestPki::new();
    let one = pki.client("one");
    let two = pki.client("two");
    let key_body: String = one
        .private_key_pem
        .lines()
        .filter(|l| !l.starts_with("-----"))
        .collect();
    let cases = [
        (
            b"not a certificate".as_slice(),
            one.private_key_pem.as_bytes(),
            "no certificate",
        ),
        (
            one.certificate_pem.as_bytes(),
            b"not a key".as_slice(),
            "not a PEM private key",
        ),
        (
            one.certificate_pem.as_bytes(),
            two.private_key_pem.as_bytes(),
            "cannot be used together",
        ),
    ];
    for (certificate, key, said) in cases {
        let error = ClientIdentity::from_pem(certificate, key).unwrap_err();
        assert!(matches!(error, Error::Config(_)), "{error:?}");
        assert!(error.to_string().contains(said), "{error}");
        assert_no_secrets(&format!("{error} {error:?}"), &[&key_body[..40]]);
    }
    let shown = format!("{:?}", identity(&one));
    assert!(shown.contains(&one.thumbprint), "{shown}");
    assert_no_secrets(&shown, &[&key_body[..40]]);
    let error = TlsSettings::new().trust_root_pem(b"junk").unwrap_err();
    assert!(error.to_string().contains("no certificate"), "{error}");
}

/// Metadata with a plain token endpoint and an mTLS alias on `server`.
fn metadata_with_aliases(server: &MtlsServer) -> ServerMetadata {
    let issuer = "https://login.example.test";
    let document = serde_json::json!({
        "issuer": issuer,
        "token_endpoint": "https://login.example.test/token",
        "revocation_endpoint": "https://login.example.test/revoke",
        "token_endpoint_auth_methods_supported": ["client_secret_basic", "tls_client_auth", "self_signed_tls_client_auth", "none"],
        "tls_client_certificate_bound_access_tokens": true,
        "mtls_endpoint_aliases": {
            "token_endpoint": server.url("/token"),
            "revocation_endpoint": server.url("/revoke"),
        },
    });
    ServerMetadata::from_json(document.to_string().as_bytes(), issuer).unwrap()
}

#[tokio::test]
async fn a_client_that_presents_a_certificate_uses_the_servers_mtls_aliases() {
    let pki = TestPki::new();
    let server = MtlsServer::start(&pki).await;
    let certificate = pki.client("reports-app");
    server.register("reports-app", MutualTlsMethod::Pki, &certificate);
    let m = metadata_with_aliases(&server);
    assert!(m.tls_client_certificate_bound_access_tokens());

    // The certificate's client gets the alias; a Basic client the plain one.
    let mtls = m
        .token_endpoint_builder(ClientAuth::tls_client_auth("reports-app"))
        .unwrap()
        .settings(EndpointSettings::new().tls(tls(&pki, &certificate)))
        .build()
        .unwrap();
    assert_eq!(mtls.url().as_str(), server.url("/token"));
    let basic = m
        .token_endpoint_builder(ClientAuth::basic("web", "secret"))
        .unwrap()
        .build()
        .unwrap();
    assert_eq!(basic.url().as_str(), "https://login.example.test/token");
    let aliased = m.with_mtls_aliases();
    assert_eq!(
        aliased.revocation_endpoint(),
        Some(server.url("/revoke").as_str())
    );
    assert_eq!(
        m.revocation_endpoint(),
        Some("https://login.example.test/revoke")
    );

    // A provider from the metadata gets its tokens at the alias.
    let provider = GenericProvider::from_metadata(
        "reports",
        &m,
        ClientAuth::tls_client_auth("reports-app"),
        EndpointSettings::new().tls(tls(&pki, &certificate)),
    )
    .unwrap()
    .with_grant(ClientCredentialsGrant::new());
    let manager = TokenManager::new(provider, MemoryStore::new());
    let token = manager
        .access_token()
        .await
        .expect("a token from the alias");
    let tls = tls(&pki, &certificate);
    assert_eq!(call_api(&server, &tls, token.expose_secret()).await, 200);
}

#[test]
fn an_alias_that_is_not_an_acceptable_url_is_refused_with_the_metadata() {
    let issuer = "https://login.example.test";
    let document = serde_json::json!({
        "issuer": issuer,
        "token_endpoint": "https://login.example.test/token",
        "mtls_endpoint_aliases": { "token_endpoint": "http://mtls.example.test/token" },
    });
    let error = ServerMetadata::from_json(document.to_string().as_bytes(), issuer).unwrap_err();
    assert!(matches!(error, Error::Config(_)), "{error:?}");
}

//! `authkit` with mutual TLS (RFC 8705): a profile names the client
//! certificate, its key and the CA that issued the server's certificate;
//! the command authenticates with the certificate (`--client-auth tls`),
//! keeps only the files' paths, and says clearly what is wrong when a file
//! is missing. The server is the testkit's TLS server on 127.0.0.1, which
//! requires a client certificate in every handshake.

mod support;

use std::path::Path;

use authkit_core::client_auth::MutualTlsMethod;
use authkit_testkit::mtls::{IssuedCertificate, MtlsServer, TestPki};
use support::{authkit, config_path, run, stderr, stdout};

/// Writes the client's certificate, its key and the CA to `dir`.
fn write_files(dir: &Path, pki: &TestPki, client: &IssuedCertificate) -> [String; 3] {
    let path = |name: &str| dir.join(name).display().to_string();
    std::fs::write(path("client.crt"), &client.certificate_pem).unwrap();
    std::fs::write(path("client.key"), &client.private_key_pem).unwrap();
    std::fs::write(path("ca.crt"), pki.ca_pem()).unwrap();
    [path("client.crt"), path("client.key"), path("ca.crt")]
}

async fn add_profile(store: &Path, server: &MtlsServer, files: &[String; 3]) {
    let mut add = authkit(store);
    add.args(["profile", "add", "reports", "--grant", "client-credentials"])
        .args(["--token-url", &server.url("/token")])
        .args(["--client-id", "reports-app", "--client-auth", "tls"])
        .args(["--client-certificate", &files[0], "--client-key", &files[1]])
        .args(["--ca-certificate", &files[2]]);
    let output = run(add).await;
    assert!(output.status.success(), "{}", stderr(&output));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_profile_with_a_client_certificate_gets_tokens_by_mutual_tls() {
    let pki = TestPki::new();
    let server = MtlsServer::start(&pki).await;
    let client = pki.client("reports-app");
    server.register("reports-app", MutualTlsMethod::Pki, &client);
    let dir = tempfile::tempdir().unwrap();
    let files = write_files(dir.path(), &pki, &client);
    let store = dir.path().join("store");
    add_profile(&store, &server, &files).await;

    let mut token = authkit(&store);
    token.args(["token", "--profile", "reports"]);
    let output = run(token).await;
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(
        stdout(&output).starts_with("mtls-bound-"),
        "{}",
        stdout(&output)
    );
    let seen = server.requests();
    assert_eq!(seen.len(), 1);
    assert_eq!(
        seen[0].client_certificate.as_deref(),
        Some(client.thumbprint.as_str())
    );

    // The profile keeps the files' paths, never the key.
    let config = std::fs::read_to_string(config_path(&store)).unwrap();
    assert!(config.contains("client.key"), "{config}");
    let key_body: String = client
        .private_key_pem
        .lines()
        .filter(|l| !l.starts_with("-----"))
        .collect();
    assert!(!config.contains(&key_body[..32]));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_missing_key_file_or_no_certificate_is_a_clear_error() {
    let pki = TestPki::new();
    let server = MtlsServer::start(&pki).await;
    let client = pki.client("reports-app");
    server.register("reports-app", MutualTlsMethod::Pki, &client);
    let dir = tempfile::tempdir().unwrap();
    let files = write_files(dir.path(), &pki, &client);
    let store = dir.path().join("store");
    add_profile(&store, &server, &files).await;
    std::fs::remove_file(&files[1]).unwrap();
    let mut token = authkit(&store);
    token.args(["token", "--profile", "reports"]);
    let output = run(token).await;
    assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
    assert!(
        stderr(&output).contains("cannot read the client key"),
        "{}",
        stderr(&output)
    );
    assert!(server.requests().is_empty(), "nothing was sent");

    let mut bare = authkit(&dir.path().join("other"));
    bare.args(["profile", "add", "bare", "--grant", "client-credentials"])
        .args(["--token-url", &server.url("/token")])
        .args(["--client-id", "reports-app", "--client-auth", "tls"]);
    assert!(run(bare).await.status.success());
    let mut token = authkit(&dir.path().join("other"));
    token.args(["token", "--profile", "bare"]);
    let output = run(token).await;
    assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
    assert!(
        stderr(&output).contains("--client-certificate"),
        "{}",
        stderr(&output)
    );
}

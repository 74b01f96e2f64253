//! authkit's metrics as Prometheus text, while a manager signs in, refreshes
//! and meets a refusal. authkit records through the `metrics` facade; this
//! program installs a Prometheus recorder and prints what it would serve on
//! `/metrics`.
//!
//! `cargo run --example metrics_prometheus`

use std::time::Duration;

use authkit::grant::PasswordGrant;
use authkit::{ClientAuth, GenericProvider, MemoryStore, Password, TokenEndpoint, TokenManager};
use authkit_testkit::{Fault, MockAuthServer, MockClient};
use metrics_exporter_prometheus::PrometheusBuilder;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let prometheus = PrometheusBuilder::new().install_recorder()?;

    let server = MockAuthServer::builder()
        .user("alice", "correct horse")
        .client(MockClient::public("api"))
        .access_ttl(Duration::from_secs(3600))
        .start()
        .await;
    let endpoint = TokenEndpoint::builder(server.token_url())
        .client_auth(ClientAuth::public("api"))
        .build()?;
    let provider = GenericProvider::new("demo:alice", endpoint)
        .with_grant(PasswordGrant::new("alice", Password::new("correct horse")));
    let manager = TokenManager::builder(provider, MemoryStore::new())
        .clock(server.shared_clock())
        .build();

    manager.access_token().await?; // sign in
    server.clock().advance(time::Duration::minutes(61));
    server.inject(Fault::ServerError(503)); // one failure, retried
    manager.access_token().await?; // refresh
    for _ in 0..1000 {
        manager.access_token().await?; // served from memory: nothing recorded
    }

    let text = prometheus.render();
    let wanted = |l: &&str| l.starts_with("authkit_") && !l.contains("quantile=");
    for line in text.lines().filter(wanted) {
        println!("{line}");
    }
    Ok(())
}

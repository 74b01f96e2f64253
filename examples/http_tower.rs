//! A hyper client through `AuthLayer`: the same token handling for any tower
//! client (hyper, tonic, ...).
//!
//! `cargo run --example http_tower --features http`

use authkit::grant::PasswordGrant;
use authkit::http::AuthLayer;
use authkit::{ClientAuth, GenericProvider, MemoryStore, Password, TokenEndpoint, TokenManager};
use authkit_testkit::{MockAuthServer, MockClient};
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use tower::{Service, ServiceBuilder, ServiceExt};

#[tokio::main]
async fn main() -> Result<(), authkit::http::BoxError> {
    let server = MockAuthServer::builder()
        .user("alice", "correct horse")
        .client(MockClient::public("api"))
        .protected_resource("/api/orders")
        .start()
        .await;
    let endpoint = TokenEndpoint::builder(server.token_url())
        .client_auth(ClientAuth::public("api"))
        .build()?;
    let provider = GenericProvider::new("demo:alice", endpoint)
        .with_grant(PasswordGrant::new("alice", Password::new("correct horse")));
    let manager = TokenManager::new(provider, MemoryStore::new());

    let hyper = Client::builder(TokioExecutor::new()).build_http::<Full<Bytes>>();
    let mut api = ServiceBuilder::new()
        .layer(AuthLayer::new(manager.clone()))
        .service(hyper);

    let url = format!("{}/api/orders", server.base_url());
    for body in ["first order", "second order, after a revocation"] {
        let request = http::Request::post(&url).body(Full::new(Bytes::from(body)))?;
        let response = api.ready().await?.call(request).await?;
        let status = response.status();
        let answer = response.into_body().collect().await?.to_bytes();
        println!(
            "POST /api/orders -> {status}: {}",
            String::from_utf8_lossy(&answer)
        );
        server.revoke_access_token(&manager.access_token().await?);
    }
    println!(
        "requests to the API: {}, refreshes: {}",
        server.resource_requests(),
        server.log().count("refresh_token")
    );
    Ok(())
}

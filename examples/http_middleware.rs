//! API calls through `AuthMiddleware`: one line of set-up, and a token the
//! server revoked is replaced without the program noticing.
//!
//! Runs offline against the testkit's server and one of its protected
//! resources: `cargo run --example http_middleware --features http`.

use authkit::grant::PasswordGrant;
use authkit::http::{AuthMiddleware, BearerChallenge};
use authkit::{ClientAuth, GenericProvider, MemoryStore, Password, TokenEndpoint, TokenManager};
use authkit_testkit::{MockAuthServer, MockClient};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let server = MockAuthServer::builder()
        .user("alice", "correct horse")
        .client(MockClient::public("api"))
        .protected_resource("/api/me")
        .start()
        .await;
    let endpoint = TokenEndpoint::builder(server.token_url())
        .client_auth(ClientAuth::public("api"))
        .build()?;
    let provider = GenericProvider::new("demo:alice", endpoint)
        .with_grant(PasswordGrant::new("alice", Password::new("correct horse")));
    let manager = TokenManager::new(provider, MemoryStore::new());

    // The one line: every request through `api` carries a valid token.
    let api =
        reqwest_middleware::ClientBuilder::new(authkit::transport::http_client_builder()?.build()?)
            .with(AuthMiddleware::new(manager.clone()))
            .build();

    let url = format!("{}/api/me", server.base_url());
    let response = api.get(&url).send().await?;
    println!("GET /api/me -> {}", response.status());

    // An administrator revokes the token. The next call is refused with 401,
    // the middleware gets a fresh token and replays the call once.
    server.revoke_access_token(&manager.access_token().await?);
    let response = api.get(&url).send().await?;
    println!(
        "after a revocation: GET /api/me -> {} (requests to the API: {}, refreshes: {})",
        response.status(),
        server.resource_requests(),
        server.log().count("refresh_token")
    );

    // Without a token the API says why; the challenge is parsed for the caller.
    let bare = api
        .get(&url)
        .with_extension(authkit::http::WithoutToken)
        .send()
        .await?;
    if let Some(challenge) = bare.extensions().get::<BearerChallenge>() {
        println!("without a token: {} ({:?})", bare.status(), challenge);
    }
    Ok(())
}

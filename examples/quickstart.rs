//! The quickstart: the whole life of a token, offline.
//!
//! An authorization server runs inside this process (the testkit's
//! `MockAuthServer`, posing as a Keycloak realm with rotating, single-use
//! refresh tokens), and the program walks through what authkit does for an
//! API client: sign in with the password grant, save to a file store, serve from
//! memory, refresh with rotation, survive a refresh token that the server
//! refuses, and recover; then call an API through the HTTP layer, which
//! answers a revoked token's 401 with one refresh and one replay.
//!
//! Run it with `cargo run --example quickstart`.

use std::time::Duration;

use authkit::grant::PasswordGrant;
use authkit::store::HeldAccount;
use authkit::{ClientAuth, GenericProvider, Password, TokenEndpoint, TokenManager, TokenProvider};
use authkit_store_file::FileStore;
use authkit_testkit::{MockAuthServer, MockClient, ResponseStyle};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    // 1. An authorization server on 127.0.0.1, in this process.
    let server = MockAuthServer::builder()
        .token_path("/realms/demo/protocol/openid-connect/token")
        .style(ResponseStyle::Keycloak)
        .user("alice@example.com", "correct horse battery staple")
        .client(MockClient::public("api"))
        .access_ttl(Duration::from_secs(3600))
        .protected_resource("/api/me")
        .start()
        .await;
    println!(
        "1. A Keycloak-like server is listening at {}",
        server.token_url()
    );

    // 2. The parts: an endpoint, a provider for one account, a store, a
    //    manager (on the server's clock, so the example can skip an hour).
    let endpoint = TokenEndpoint::builder(server.token_url())
        .client_auth(ClientAuth::public("api"))
        .build()?;
    let provider =
        GenericProvider::new("demo:alice@example.com", endpoint).with_grant(PasswordGrant::new(
            "alice@example.com",
            Password::new("correct horse battery staple"),
        ));
    // A file store in a scratch directory (a real program would use FileStore::open_default()).
    let scratch = tempfile::tempdir()?;
    let store = FileStore::open(scratch.path().join("tokens"))?;
    let manager = TokenManager::builder(provider.clone(), store.clone())
        .clock(server.shared_clock())
        .build();
    println!(
        "2. A TokenManager for {} keeps its tokens in {}",
        manager.account_key(),
        store.path_for(manager.account_key()).display()
    );
    println!(
        "   They are bound to {}: no other server or client will ever see them",
        provider.binding()
    );

    // 3. The first call signs in with the password grant and saves the set.
    let first = manager.token_set().await?;
    let stored = HeldAccount::acquire(&store, manager.account_key())
        .await?
        .load()
        .await?
        .ok_or("nothing was stored")?;
    println!(
        "3. Signed in with the password grant: an access token valid for {} min, saved to the file (refresh token kept: {})",
        (first.expires_at() - first.issued_at()).whole_minutes(),
        stored.refresh_token().is_some()
    );
    println!("   Debug never shows a secret: {:?}", first.access_token());

    // 4. Every later call is served from memory.
    for _ in 0..1000 {
        manager.access_token().await?;
    }
    println!(
        "4. 1000 more calls served from memory; the server has seen {} request(s)",
        server.log().len()
    );

    // 5. An hour later the token is stale: one refresh, and the server rotates the refresh token.
    server.clock().advance(time::Duration::minutes(61));
    let refreshed = manager.token_set().await?;
    let stored = HeldAccount::acquire(&store, manager.account_key())
        .await?
        .load()
        .await?
        .ok_or("nothing was stored")?;
    let rotated = !stored
        .refresh_token()
        .zip(first.refresh_token())
        .is_some_and(|(a, b)| a.same_secret(b));
    println!(
        "5. After 61 minutes: refreshed (refresh requests: {}), new refresh token saved before use: {}",
        server.log().count("refresh_token"),
        rotated && stored.access_token().same_secret(refreshed.access_token())
    );

    // 6. Someone replays the spent refresh token: the server refuses it and,
    //    suspecting theft, revokes the whole family, our new token included.
    let spent = first.refresh_token().ok_or("no refresh token")?;
    match provider.refresh(spent, manager.context()).await {
        Ok(_) => println!("6. Unexpected: the server accepted a spent refresh token"),
        Err(error) => println!("6. Replaying the spent refresh token is refused: {error}"),
    }

    // 7. At the next expiry the manager's refresh is refused too; it drops the
    //    dead refresh token and signs in again with the password.
    server.clock().advance(time::Duration::minutes(61));
    let recovered = manager.access_token().await?;
    println!(
        "7. Recovered: the refresh was refused ({} refusal(s) in all), so the manager signed in again; the new token is live: {}",
        server.log().refusals("invalid_grant"),
        server.is_access_token_active(&recovered)
    );

    // 8. API calls through the HTTP layer: one line of set-up, and a token the
    //    server revoked is replaced on the first 401, the call replayed once.
    let api =
        reqwest_middleware::ClientBuilder::new(authkit::transport::http_client_builder()?.build()?)
            .with(authkit_http::AuthMiddleware::new(manager.clone()))
            .build();
    let me = format!("{}/api/me", server.base_url());
    let first_call = api.get(&me).send().await?.status();
    server.revoke_access_token(&manager.access_token().await?);
    let after_revocation = api.get(&me).send().await?.status();
    println!(
        "8. GET /api/me through the middleware: {first_call}; after the server revoked the token: {after_revocation} (the 401 was answered with one refresh and one replay)"
    );

    let log = server.log();
    println!(
        "Done. The server saw {} token requests: {} password, {} refresh (one of them the replay in step 6).",
        log.len(),
        log.count("password"),
        log.count("refresh_token"),
    );
    Ok(())
}

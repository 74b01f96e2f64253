//! Voipex: sign in with the password grant, keep the tokens valid, call an API.
//!
//! With `VOIPEX_USERNAME` and `VOIPEX_PASSWORD` set (and optionally
//! `VOIPEX_API_URL`, an API resource to call), it talks to the real
//! `https://auth.voipex.io`. Without them it starts a local stand-in: the
//! testkit's mock server posing as Voipex's Keycloak, with a protected API
//! resource, all on 127.0.0.1.
//!
//! `cargo run --example voipex --features voipex`

use std::time::Duration;

use authkit::endpoint::EndpointSettings;
use authkit::store_file::FileStore;
use authkit::voipex::Voipex;
use authkit::{AccessToken, Password, TokenManager};
use authkit_testkit::{MockAuthServer, MockClient, ResponseStyle};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let real = std::env::var("VOIPEX_USERNAME")
        .ok()
        .zip(std::env::var("VOIPEX_PASSWORD").ok());
    // The local stand-in and its scratch directory live as long as `main`.
    let mut local = None;
    let (voipex, api_url, store) = match real {
        Some((username, password)) => {
            let voipex = Voipex::builder(username, Password::new(password)).build()?;
            // Tokens persist across runs, so the password is sent only when needed.
            (
                voipex,
                std::env::var("VOIPEX_API_URL").ok(),
                FileStore::open_default()?,
            )
        }
        None => {
            let server = MockAuthServer::builder()
                .style(ResponseStyle::Keycloak)
                .user("demo@example.com", "demo password")
                .client(MockClient::public("api"))
                .protected_resource("/api/v1/account")
                .start()
                .await;
            println!(
                "No VOIPEX_USERNAME/VOIPEX_PASSWORD: using a local stand-in at {}",
                server.base_url()
            );
            let voipex = Voipex::builder("demo@example.com", Password::new("demo password"))
                .endpoint(EndpointSettings::new().base_url(server.base_url()))
                .build()?;
            let api = format!("{}/api/v1/account", server.base_url());
            let scratch = tempfile::tempdir()?;
            let store = FileStore::open(scratch.path())?;
            local = Some((server, scratch));
            (voipex, Some(api), store)
        }
    };

    println!("Tokens are kept in {}", store.dir().display());
    let manager = TokenManager::new(voipex, store);
    let tokens = manager.token_set().await?;
    println!(
        "Signed in as {}: access token valid for {} s, refresh token valid for {}",
        manager.account_key(),
        (tokens.expires_at() - tokens.issued_at()).whole_seconds(),
        tokens
            .refresh_expires_at()
            .map(|at| format!("{} s", (at - tokens.issued_at()).whole_seconds()))
            .unwrap_or_else(|| "an unknown time".into()),
    );

    let Some(api_url) = api_url else {
        println!("Set VOIPEX_API_URL to call an API resource with the token.");
        return Ok(());
    };
    let http = authkit::transport::http_client_builder()?
        .timeout(Duration::from_secs(30))
        .build()?;
    for attempt in 1..=2 {
        let token: AccessToken = manager.access_token().await?;
        let response = http
            .get(&api_url)
            .header(reqwest::header::AUTHORIZATION, token.bearer_header())
            .send()
            .await?;
        let status = response.status();
        println!("GET {api_url} with Authorization: Bearer … -> {status}");
        if status == reqwest::StatusCode::UNAUTHORIZED && attempt == 1 {
            // The API rejected the token (revoked, clock skew): get a new one once.
            manager.invalidate_token(&token);
            continue;
        }
        println!("{}", response.text().await?);
        break;
    }
    drop(local);
    Ok(())
}

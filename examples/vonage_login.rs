//! Vonage Business Communications with browser sign-in (authorization code
//! with PKCE), caught by a loopback receiver, then refreshed from the store.
//!
//! With `VONAGE_CLIENT_ID` and `VONAGE_CLIENT_SECRET` set it talks to
//! `https://api.vonage.com`: it prints the sign-in URL, and you open it in a
//! browser; the redirect URI (`VONAGE_REDIRECT_URI`, default
//! `http://127.0.0.1:8400/callback`) must be the application's callback URL.
//! Without them it starts a local stand-in and plays the browser itself.
//!
//! `cargo run --example vonage_login --features vonage,store-file`

use std::time::Duration;

use authkit::client_auth::BasicEncoding;
use authkit::endpoint::EndpointSettings;
use authkit::store_file::FileStore;
use authkit::vonage::{LoopbackReceiver, Vonage};
use authkit::{ClientSecret, TokenManager, TokenProvider};
use authkit_testkit::{ClientKind, MockAuthServer, MockClient, ResponseStyle};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let env = |name: &str| std::env::var(name).ok();
    let real = env("VONAGE_CLIENT_ID").zip(env("VONAGE_CLIENT_SECRET"));
    let redirect = env("VONAGE_REDIRECT_URI").unwrap_or_else(|| {
        if real.is_some() {
            "http://127.0.0.1:8400/callback".into()
        } else {
            "http://127.0.0.1:0/callback".into()
        }
    });
    let receiver = LoopbackReceiver::bind(&redirect).await?;

    let (vonage, server, store, _scratch) = match real {
        Some((id, secret)) => (
            Vonage::builder(id, ClientSecret::new(secret)).build()?,
            None,
            FileStore::open_default()?,
            None,
        ),
        None => {
            let server = MockAuthServer::builder()
                .style(ResponseStyle::ApiManager)
                .access_ttl(Duration::from_secs(86400))
                .user("demo@vbc.prod", "demo password")
                .client(
                    MockClient::basic(
                        "demo-consumer-key",
                        "demo-consumer-secret",
                        BasicEncoding::Raw,
                    )
                    .also_accepting(ClientKind::SecretInBody)
                    .redirect_uri(receiver.redirect_uri()),
                )
                .start()
                .await;
            println!(
                "No VONAGE_CLIENT_ID/VONAGE_CLIENT_SECRET: using a local stand-in at {}",
                server.base_url()
            );
            let vonage = Vonage::builder(
                "demo-consumer-key",
                ClientSecret::new("demo-consumer-secret"),
            )
            .endpoint(EndpointSettings::new().base_url(server.base_url()))
            .build()?;
            let scratch = tempfile::tempdir()?;
            let store = FileStore::open(scratch.path())?;
            (vonage, Some(server), store, Some(scratch))
        }
    };

    // The account's managers (the stand-in's clock is shared so that the
    // example can skip a day).
    let account = vonage.code_account(receiver.redirect_uri(), "default")?;
    let manager = || {
        let builder = TokenManager::builder(account.clone(), store.clone());
        match &server {
            Some(server) => builder.clock(server.shared_clock()).build(),
            None => builder.build(),
        }
    };

    // 1. Sign in through the browser.
    let request = account.authorization_request();
    eprintln!("Open this URL to sign in:\n  {}", request.url());
    let (state, name) = (request.state().clone(), account.account_key().to_string());
    let waiting = tokio::spawn(async move {
        // Refuses a redirect that does not answer this request; names the
        // account on the browser's page.
        receiver
            .wait_for(&state, &name, Duration::from_secs(300))
            .await
    });
    if server.is_some() {
        // The stand-in signs the demo user in at once; follow its redirect as a browser would.
        let browser = authkit::transport::http_client_builder()?
            .redirect(reqwest::redirect::Policy::limited(5))
            .build()?;
        let page = browser
            .get(request.url().as_str())
            .send()
            .await?
            .text()
            .await?;
        println!(
            "The browser shows: {}",
            page.split("<p>")
                .nth(1)
                .and_then(|p| p.split("</p>").next())
                .unwrap_or("")
        );
    }
    let callback = waiting.await??;
    let tokens = account
        .exchange(request, &callback, manager().context())
        .await?;

    // 2. Keep the tokens in the store; from now on the manager refreshes them.
    manager().sign_in_with(tokens).await?;
    println!(
        "Signed in as {}; tokens saved in {}",
        account.account_key(),
        store.path_for(account.account_key()).display()
    );

    // 3. A later run: a new manager finds the tokens in the store; after a day it refreshes them.
    let later = manager();
    later.access_token().await?;
    println!("A later run got its token from the store without signing in.");
    if let Some(server) = &server {
        server.clock().advance(time::Duration::hours(25));
        later.access_token().await?;
        println!(
            "A day later it refreshed (single-use refresh token rotated and saved): {} refresh request(s)",
            server.log().count("refresh_token")
        );
    }
    Ok(())
}

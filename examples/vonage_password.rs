//! Vonage Business Communications with the password grant: a server-to-server
//! program that keeps its tokens in a file and calls an API.
//!
//! With `VONAGE_CLIENT_ID`, `VONAGE_CLIENT_SECRET`, `VONAGE_USERNAME` and
//! `VONAGE_PASSWORD` set (and optionally `VONAGE_API_URL`, an API resource to
//! call) it talks to `https://api.vonage.com`. Without them it starts a local
//! stand-in: the testkit's mock server posing as Vonage's API manager.
//!
//! `cargo run --example vonage_password --features vonage,store-file`

use std::time::Duration;

use authkit::endpoint::EndpointSettings;
use authkit::store_file::FileStore;
use authkit::vonage::Vonage;
use authkit::{ClientSecret, Password, TokenManager};
use authkit_testkit::{MockAuthServer, MockClient, ResponseStyle};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let env = |name: &str| std::env::var(name).ok();
    let real = match (
        env("VONAGE_CLIENT_ID"),
        env("VONAGE_CLIENT_SECRET"),
        env("VONAGE_USERNAME"),
        env("VONAGE_PASSWORD"),
    ) {
        (Some(id), Some(secret), Some(user), Some(password)) => Some((id, secret, user, password)),
        _ => None,
    };
    let mut local = None;
    let (account, api_url, store) = match real {
        Some((id, secret, user, password)) => {
            let vonage = Vonage::builder(id, ClientSecret::new(secret)).build()?;
            let account = vonage.password_account(user, Password::new(password));
            (account, env("VONAGE_API_URL"), FileStore::open_default()?)
        }
        None => {
            let server = MockAuthServer::builder()
                .style(ResponseStyle::ApiManager)
                .access_ttl(Duration::from_secs(86400))
                .user("demo@vbc.prod", "demo password")
                .client(MockClient::secret_in_body(
                    "demo-consumer-key",
                    "demo-consumer-secret",
                ))
                .protected_resource("/provisioning/v1/accounts")
                .start()
                .await;
            println!(
                "No VONAGE_* credentials: using a local stand-in at {}",
                server.base_url()
            );
            let vonage = Vonage::builder(
                "demo-consumer-key",
                ClientSecret::new("demo-consumer-secret"),
            )
            .endpoint(EndpointSettings::new().base_url(server.base_url()))
            .build()?;
            let account = vonage.password_account("demo", Password::new("demo password"));
            let api = format!("{}/provisioning/v1/accounts", server.base_url());
            let scratch = tempfile::tempdir()?;
            let store = FileStore::open(scratch.path())?;
            local = Some((server, scratch));
            (account, Some(api), store)
        }
    };

    let sent_as = account.username().clone();
    let manager = TokenManager::new(account, store.clone());
    let tokens = manager.token_set().await?;
    println!(
        "Signed in as {} (sent as user name `{}`): access token valid for {} h, id token kept: {}",
        manager.account_key(),
        sent_as,
        (tokens.expires_at() - tokens.issued_at()).whole_hours(),
        tokens.id_token().is_some()
    );
    println!(
        "Tokens are saved in {}",
        store.path_for(manager.account_key()).display()
    );

    if let Some(api_url) = api_url {
        let token = manager.access_token().await?;
        let response = authkit::transport::http_client_builder()?
            .build()?
            .get(&api_url)
            .header(reqwest::header::AUTHORIZATION, token.bearer_header())
            .send()
            .await?;
        println!(
            "GET {api_url} with Authorization: Bearer … -> {}",
            response.status()
        );
    }
    drop(local);
    Ok(())
}

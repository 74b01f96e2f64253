//! `authkit login vonage`: browser sign-in through the loopback receiver.

use std::io::IsTerminal;
use std::time::Duration;

use super::Store;
use authkit_core::{EndpointSettings, TokenManager, TokenProvider};
use authkit_vonage::{LoopbackReceiver, Vonage};

use super::scopes;
use crate::cli::VonageLoginArgs;
use crate::exit::Failure;
use crate::secrets::client_secret;

/// The redirect URI of a code account used only to refresh: a refresh never sends it.
pub const UNUSED_REDIRECT: &str = "http://127.0.0.1/callback";

/// Signs in through the browser and stores the tokens.
pub async fn vonage(args: VonageLoginArgs, store: Store) -> Result<(), Failure> {
    let secret = client_secret()?;
    let mut settings = EndpointSettings::new();
    if let Some(base) = &args.base_url {
        settings = settings.base_url(base.clone());
    }
    let mut builder = Vonage::builder(args.client_id.clone(), secret);
    if let (Some(authorize), Some(token)) = (&args.authorize_url, &args.token_url) {
        settings = settings.token_url(token.clone());
        builder = builder.authorize_url(authorize.clone());
    }
    builder = builder.endpoint(settings);
    if let Some(scopes) = scopes(args.scope.as_deref()) {
        builder = builder.scopes(scopes);
    }
    let vonage = builder.build()?;
    let receiver = LoopbackReceiver::bind(&args.redirect_uri).await?;
    let account = vonage.code_account(receiver.redirect_uri(), args.label.clone())?;
    let request = account.authorization_request();

    eprintln!(
        "Open this URL in a browser to sign in:\n\n  {}\n",
        request.url()
    );
    if !args.no_browser && webbrowser::open(request.url().as_str()).is_err() {
        eprintln!("(No browser could be opened; open the URL yourself.)");
    }
    let waiting = receiver.wait_for(
        request.state(),
        account.account_key().as_str(),
        Duration::from_secs(args.timeout),
    );
    let callback = if std::io::stderr().is_terminal() {
        with_spinner(waiting).await?
    } else {
        waiting.await?
    };
    let manager = TokenManager::new(account.clone(), store);
    let tokens = account
        .exchange(request, &callback, manager.context())
        .await?;
    manager.sign_in_with(tokens).await?;
    eprintln!("Signed in: {}", account.account_key());
    Ok(())
}

async fn with_spinner<T>(work: impl std::future::Future<Output = T>) -> T {
    let frames = ['|', '/', '-', '\\'];
    let mut tick = tokio::time::interval(Duration::from_millis(120));
    tokio::pin!(work);
    let mut frame = 0;
    loop {
        tokio::select! {
            result = &mut work => {
                eprint!("\r                                  \r");
                return result;
            }
            _ = tick.tick() => {
                eprint!("\rWaiting for the browser {} ", frames[frame % frames.len()]);
                frame += 1;
            }
        }
    }
}

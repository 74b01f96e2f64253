//! `authkit login`: a person signs in, and the tokens are kept.
//!
//! Three ways, by what the account's server offers and where the person
//! is: the browser (authorization code with PKCE, the redirect caught on
//! 127.0.0.1, RFC 8252), another device (RFC 8628: a code to type at a URL,
//! for SSH sessions), or, for unattended grants (password, client
//! credentials), signing in at once. Every wait shows a spinner on a
//! terminal and ends on Ctrl-C.

use std::io::IsTerminal;
use std::time::Duration;

use super::Store;
use super::account::{self, Chosen};
use authkit_core::device::DeviceAuthorization;
use authkit_core::endpoint::EndpointSettings;
use authkit_core::sign_in::{AuthorizationRequest, LoopbackReceiver};
use authkit_core::{Error, TokenManager, TokenProvider};
use authkit_vonage::Vonage;

use super::{providers, scopes};
use crate::cli::{AccountChoice, LoginProvider, SignInArgs, VonageLoginArgs};
use crate::exit::Failure;
use crate::profiles::ProfileFile;
use crate::secrets::client_secret;
use crate::settings::{Grant, Kind, Settings};

/// The redirect URI of a code account used only to refresh: a refresh never sends it.
pub const UNUSED_REDIRECT: &str = "http://127.0.0.1/callback";

/// The redirect URI of a browser sign-in whose profile names none: a free
/// port on 127.0.0.1 (RFC 8252 §7.3 lets a native client use any port).
pub const DEFAULT_REDIRECT: &str = "http://127.0.0.1:0/callback";

/// `authkit login`: by a provider's flags (`login vonage …`), or by profile.
pub async fn run(
    store: Store,
    profiles: &ProfileFile,
    choice: AccountChoice,
    how: SignInArgs,
    provider: Option<LoginProvider>,
) -> Result<(), Failure> {
    if let Some(LoginProvider::Vonage(args)) = provider {
        if choice.account.is_some() || choice.overrides() != Settings::default() {
            return Err(Failure::Usage(
                "give either `login vonage` with its flags, or --profile / --account, not both"
                    .into(),
            ));
        }
        return vonage(args, store).await;
    }
    let target = account::target(profiles, &choice, None)?;
    let chosen = account::choose(&store, profiles, target, choice.password_stdin).await?;
    let grant = if how.device {
        Grant::Device
    } else {
        chosen.settings.grant.unwrap_or(match chosen.settings.kind {
            Kind::Vonage if chosen.settings.username.is_none() => Grant::Code,
            _ => Grant::Password,
        })
    };
    match (chosen.settings.kind, grant) {
        (Kind::Generic, Grant::Device) => device(&chosen, &store, &how).await?,
        (Kind::Generic, Grant::Code) => browser(&chosen, &store, &how).await?,
        (Kind::Vonage, Grant::Code) => {
            let settings = &chosen.settings;
            let args = VonageLoginArgs {
                client_id: settings.client_id.clone().unwrap_or_default(),
                redirect_uri: settings
                    .redirect_uri
                    .clone()
                    .unwrap_or_else(|| DEFAULT_REDIRECT.to_owned()),
                base_url: None,
                authorize_url: settings.authorize_url.clone(),
                token_url: settings.token_url.clone(),
                no_browser: how.no_browser,
                timeout: how.timeout,
                label: settings.label.clone().unwrap_or_else(|| "default".into()),
                scope: (!settings.scopes.is_empty()).then(|| settings.scopes.join(" ")),
            };
            if args.authorize_url.is_none() {
                return Err(Failure::Usage(
                    "a Vonage browser sign-in by profile needs the profile's authorize_url and token_url".into(),
                ));
            }
            return vonage(args, store).await;
        }
        (_, Grant::Device | Grant::Code) => {
            return Err(Failure::Usage(format!(
                "{} accounts cannot sign in with the {} grant",
                chosen.settings.kind.as_str(),
                grant.as_str()
            )));
        }
        (_, Grant::Password | Grant::ClientCredentials) => {
            // Unattended: sign in now, replacing whatever is stored.
            let manager = TokenManager::new(std::sync::Arc::clone(&chosen.provider), store.clone());
            let tokens = chosen
                .provider
                .authenticate(&manager.sign_in_context()?)
                .await?;
            manager.sign_in_with(tokens).await?;
        }
    }
    eprintln!("Signed in: {}", chosen.key());
    chosen.remember(&store)
}

/// Waits for `work`, with a spinner saying `what` on a terminal, until it
/// ends, `timeout` passes, or Ctrl-C.
async fn wait<T>(
    what: &str,
    timeout: Duration,
    work: impl std::future::Future<Output = Result<T, Error>>,
) -> Result<T, Failure> {
    let frames = ['|', '/', '-', '\\'];
    let spinning = std::io::stderr().is_terminal();
    let mut tick = tokio::time::interval(Duration::from_millis(120));
    let deadline = tokio::time::sleep(timeout);
    tokio::pin!(work, deadline);
    let mut frame = 0;
    let clear = || {
        if spinning {
            eprint!("\r{:width$}\r", "", width = what.len() + 3);
        }
    };
    loop {
        tokio::select! {
            result = &mut work => {
                clear();
                return result.map_err(Failure::from);
            }
            _ = &mut deadline => {
                clear();
                return Err(Error::SignInRequired {
                    reason: format!("no sign-in arrived within {} s", timeout.as_secs()),
                }
                .into());
            }
            _ = tokio::signal::ctrl_c() => {
                clear();
                return Err(Failure::Cancelled);
            }
            _ = tick.tick(), if spinning => {
                eprint!("\r{what} {} ", frames[frame % frames.len()]);
                frame += 1;
            }
        }
    }
}

/// Device sign-in (RFC 8628): print the code and the URL, poll until the
/// person has approved on another device.
async fn device(chosen: &Chosen, store: &Store, how: &SignInArgs) -> Result<(), Failure> {
    let settings = &chosen.settings;
    let url = settings.device_url.as_deref().ok_or_else(|| {
        Failure::Usage(format!(
            "{} names no device authorization endpoint: give the profile an issuer whose metadata has one, or a device_url",
            chosen.name
        ))
    })?;
    let mut device = DeviceAuthorization::new(providers::sign_in_endpoint(settings)?, url)?
        .with_scopes(settings.scopes.clone());
    if let Some(resource) = &settings.resource {
        device = device.with_resource(resource.clone());
    }
    let manager = TokenManager::new(std::sync::Arc::clone(&chosen.provider), store.clone());
    let cx = manager.sign_in_context()?;
    let pending = device.start(&cx).await?;
    let prompt = pending.prompt();
    eprintln!(
        "To sign in, open {}\nand enter the code: {}",
        prompt.verification_uri(),
        prompt.user_code()
    );
    if let Some(complete) = prompt.verification_uri_complete() {
        eprintln!("(or open {complete})");
    }
    let left = (prompt.expires_at() - time::OffsetDateTime::now_utc())
        .whole_seconds()
        .max(1);
    eprintln!("The code is valid for {} min.", (left + 59) / 60);
    let timeout = Duration::from_secs(how.timeout.min(left as u64));
    let tokens = wait("Waiting for the sign-in", timeout, pending.finish(&cx)).await?;
    manager.sign_in_with(tokens).await?;
    Ok(())
}

/// Browser sign-in at any standard server: authorization code with PKCE
/// and `state`, the redirect caught on 127.0.0.1.
async fn browser(chosen: &Chosen, store: &Store, how: &SignInArgs) -> Result<(), Failure> {
    let settings = &chosen.settings;
    let authorize = settings.authorize_url.as_deref().ok_or_else(|| {
        Failure::Usage(format!(
            "{} names no authorization endpoint: give the profile an issuer, or an authorize_url (or sign in with --device)",
            chosen.name
        ))
    })?;
    let url = url::Url::parse(authorize).map_err(|e| {
        Failure::Usage(format!(
            "the authorization endpoint {authorize} is not a URL: {e}"
        ))
    })?;
    let endpoint = providers::sign_in_endpoint(settings)?;
    let receiver =
        LoopbackReceiver::bind(settings.redirect_uri.as_deref().unwrap_or(DEFAULT_REDIRECT))
            .await?;
    let manager = TokenManager::new(std::sync::Arc::clone(&chosen.provider), store.clone());
    let cx = manager.sign_in_context()?;
    let mut request = AuthorizationRequest::builder(
        &url,
        endpoint.client_auth().client_id().as_str(),
        receiver.redirect_uri(),
    )
    .scopes(settings.scopes.iter().cloned());
    if let Some(resource) = &settings.resource {
        request = request.resource(resource.clone());
    }
    let request = request.build(&cx);
    let url = request.url();
    eprintln!("Open this URL in a browser to sign in:\n\n  {url}\n");
    if !how.no_browser && webbrowser::open(url.as_str()).is_err() {
        eprintln!("(No browser could be opened; open the URL yourself.)");
    }
    let readable = crate::records::readable(chosen.key().as_str()).to_owned();
    let timeout = Duration::from_secs(how.timeout);
    let callback = wait(
        "Waiting for the browser",
        timeout + Duration::from_secs(1),
        receiver.wait_for(request.state(), &readable, timeout),
    )
    .await?;
    let tokens = endpoint.request(&request.grant(&callback)?, &cx).await?;
    manager.sign_in_with(tokens).await?;
    Ok(())
}

/// `authkit login vonage`: signs in through the browser and stores the
/// tokens, and the account's record.
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
    let mut authorize_url = request.url().clone();
    authorize_url.set_query(None);
    let timeout = Duration::from_secs(args.timeout);
    let callback = wait(
        "Waiting for the browser",
        timeout + Duration::from_secs(1),
        receiver.wait_for(request.state(), account.account_key().as_str(), timeout),
    )
    .await?;
    let manager = TokenManager::new(account.clone(), store.clone());
    let tokens = account
        .exchange(request, &callback, manager.context())
        .await?;
    manager.sign_in_with(tokens).await?;
    eprintln!("Signed in: {}", account.account_key());
    let record = crate::records::AccountRecord::new(
        account.account_key(),
        None,
        Settings {
            kind: Kind::Vonage,
            grant: Some(Grant::Code),
            token_url: Some(account.binding().token_endpoint().to_owned()),
            authorize_url: Some(authorize_url.to_string()),
            client_id: Some(args.client_id.clone()),
            scopes: scopes(args.scope.as_deref()).unwrap_or_default(),
            redirect_uri: Some(args.redirect_uri.clone()),
            label: Some(args.label.clone()),
            ..Settings::default()
        },
    );
    crate::records::Records::of(&store).put(&record)
}

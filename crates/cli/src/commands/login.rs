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

use authkit_core::device::DeviceAuthorization;
use authkit_core::discovery::{Discovery, ServerMetadata};
use authkit_core::endpoint::EndpointSettings;
use authkit_core::sign_in::{AuthorizationRequest, LoopbackReceiver, PushedAuthorization};
use authkit_core::{Error, TokenEndpoint, TokenManager, TokenProvider};

use crate::account::{self, Chosen, generic, v1, vonage};
use crate::cli::{AccountChoice, LoginProvider, SignInArgs};
use crate::exit::Failure;
use crate::profiles::ProfileFile;
use crate::records::{AccountRecord, Records};
use crate::secrets::client_secret;
use crate::settings::{Grant, Kind, Settings};
use crate::store::{Place, Store};

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
        let (settings, how) = v1::vonage_login_form(&args);
        return vonage_browser(&settings, &how, store).await;
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
            if chosen.settings.authorize_url.is_none() {
                return Err(Failure::Usage(
                    "a Vonage browser sign-in by profile needs the profile's authorize_url and token_url".into(),
                ));
            }
            return vonage_browser(&chosen.settings, &how, store).await;
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
    say_where_tokens_are(&store, chosen.key());
    chosen.remember(&store)
}

/// One line on where the tokens went, when the credential store was the
/// default but could not be used: files, and why.
fn say_where_tokens_are(store: &Store, key: &authkit_core::AccountKey) {
    if let (Some(why), Place::File) = (store.fallback(), store.place_of(key)) {
        eprintln!(
            "Tokens are kept in a file ({}), not the OS credential store: {why}",
            store.location_of(key)
        );
    }
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
    let mut device = DeviceAuthorization::new(generic::sign_in_endpoint(settings)?, url)?
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
    let endpoint = generic::sign_in_endpoint(settings)?;
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
    // Known by its issuer: the response must come from it (RFC 9207).
    let metadata = match &settings.issuer {
        Some(issuer) => Some(
            Discovery::new(EndpointSettings::new())
                .metadata(issuer)
                .await?,
        ),
        None => None,
    };
    if let Some(metadata) = &metadata {
        request = request.issuer_from(metadata);
    }
    let request = match pushed_authorization(chosen, metadata.as_deref(), &endpoint)? {
        Some(par) => request.push(&par, &cx).await?,
        None => request.build(&cx),
    };
    let url = request.url();
    eprintln!("Open this URL in a browser to sign in:\n\n  {url}\n");
    if let Some(expires_at) = request.expires_at() {
        let left = (expires_at - time::OffsetDateTime::now_utc())
            .whole_seconds()
            .max(0);
        eprintln!("(The link was pushed to the server and works for {left} s.)");
    }
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

/// Where a browser sign-in is pushed first (RFC 9126): when the profile
/// asks for it (`par`, or a `par_url`), or the server's metadata requires
/// it for every client. `None` for a sign-in whose URL holds everything.
fn pushed_authorization(
    chosen: &Chosen,
    metadata: Option<&ServerMetadata>,
    endpoint: &TokenEndpoint,
) -> Result<Option<PushedAuthorization>, Failure> {
    let settings = &chosen.settings;
    let required = metadata.is_some_and(ServerMetadata::require_pushed_authorization_requests);
    if !(required || settings.par == Some(true) || settings.par_url.is_some()) {
        return Ok(None);
    }
    let url = settings
        .par_url
        .as_deref()
        .or_else(|| metadata.and_then(ServerMetadata::pushed_authorization_request_endpoint))
        .ok_or_else(|| {
            Failure::Usage(format!(
                "{} asks for pushed authorization requests (RFC 9126) but names no endpoint for them: give the profile a par_url, or an issuer whose metadata names one",
                chosen.name
            ))
        })?;
    Ok(Some(PushedAuthorization::new(endpoint.clone(), url)?))
}

/// A browser sign-in to the Vonage application `settings` name (`login
/// vonage …`, or a Vonage profile without a user): the tokens are stored,
/// and the account's record.
async fn vonage_browser(
    settings: &Settings,
    how: &SignInArgs,
    store: Store,
) -> Result<(), Failure> {
    let vonage = vonage::application(settings, client_secret()?)?;
    let redirect = settings
        .redirect_uri
        .clone()
        .unwrap_or_else(|| DEFAULT_REDIRECT.to_owned());
    let label = vonage::label(settings);
    let receiver = LoopbackReceiver::bind(&redirect).await?;
    let account = vonage.code_account(receiver.redirect_uri(), label.clone())?;
    let request = account.authorization_request();

    eprintln!(
        "Open this URL in a browser to sign in:\n\n  {}\n",
        request.url()
    );
    if !how.no_browser && webbrowser::open(request.url().as_str()).is_err() {
        eprintln!("(No browser could be opened; open the URL yourself.)");
    }
    let mut authorize_url = request.url().clone();
    authorize_url.set_query(None);
    let timeout = Duration::from_secs(how.timeout);
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
    say_where_tokens_are(&store, account.account_key());
    let record = AccountRecord::new(
        account.account_key(),
        None,
        Settings {
            kind: Kind::Vonage,
            grant: Some(Grant::Code),
            token_url: Some(account.binding().token_endpoint().to_owned()),
            authorize_url: Some(authorize_url.to_string()),
            client_id: settings.client_id.clone(),
            scopes: settings.scopes.clone(),
            redirect_uri: Some(redirect),
            label: Some(label),
            ..Settings::default()
        },
    );
    Records::of(&store).put(&record)
}

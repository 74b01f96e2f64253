//! A Vonage Business Communications account as a provider: a password
//! account when the settings name a user, else the browser sign-in of the
//! application that `label` names. The consumer secret is read only when a
//! request is needed; a browser account that has no tokens yet says how to
//! sign in instead of failing on a refresh.

use std::sync::Arc;

use authkit_core::{ClientSecret, Error, Password, TokenProvider};
use authkit_vonage::Vonage;

use crate::deferred::{Deferred, NeedsBrowser};
use crate::exit::Failure;
use crate::secrets::{PasswordSource, client_secret};
use crate::settings::Settings;

/// The redirect URI of a code account used only to refresh: a refresh
/// never sends it.
pub const UNUSED_REDIRECT: &str = "http://127.0.0.1/callback";

/// The browser sign-in a Vonage account without a label means.
pub const DEFAULT_LABEL: &str = "default";

/// The Vonage application `settings` name (consumer key, endpoints,
/// scopes), with its consumer secret.
pub fn application(settings: &Settings, secret: ClientSecret) -> Result<Vonage, Failure> {
    let client_id = settings.require(&settings.client_id, "a client id")?;
    Ok(application_with(settings, client_id, secret)?)
}

fn application_with(
    settings: &Settings,
    client_id: &str,
    secret: ClientSecret,
) -> Result<Vonage, Error> {
    let mut builder = Vonage::builder(client_id, secret).endpoint(settings.endpoint_settings());
    if let Some(authorize) = &settings.authorize_url {
        builder = builder.authorize_url(authorize.clone());
    }
    if !settings.scopes.is_empty() {
        builder = builder.scopes(settings.scopes.clone());
    }
    builder.build()
}

/// The label of the browser sign-in `settings` name.
pub fn label(settings: &Settings) -> String {
    settings
        .label
        .clone()
        .unwrap_or_else(|| DEFAULT_LABEL.to_owned())
}

/// The Vonage provider `settings` describe; the password of a password
/// account is read (from stdin with `password_stdin`) only when the manager
/// has to sign in.
pub fn provider(
    settings: &Settings,
    password_stdin: bool,
) -> Result<Arc<dyn TokenProvider>, Failure> {
    let client_id = settings
        .require(&settings.client_id, "a client id")?
        .to_owned();
    let placeholder = application_with(settings, &client_id, ClientSecret::new(""))?;
    let refreshing = {
        let settings = settings.clone();
        let client_id = client_id.clone();
        Arc::new(move || -> Result<Vonage, Error> {
            let secret = client_secret().map_err(Failure::into_error)?;
            application_with(&settings, &client_id, secret)
        })
    };
    match settings.username.clone() {
        Some(username) => {
            let placeholder = placeholder.password_account(username.clone(), Password::new(""));
            let for_refresh =
                {
                    let refreshing = Arc::clone(&refreshing);
                    let username = username.clone();
                    move || {
                        Ok(Arc::new(
                            refreshing()?.password_account(username.clone(), Password::new("")),
                        ) as Arc<dyn TokenProvider>)
                    }
                };
            let source = PasswordSource {
                from_stdin: password_stdin,
            };
            let prompt = format!("Password for {username}: ");
            Ok(Arc::new(Deferred::new(
                &placeholder,
                for_refresh,
                move || {
                    let vonage = refreshing()?;
                    let password = source.read(&prompt).map_err(Failure::into_error)?;
                    Ok(
                        Arc::new(vonage.password_account(username.clone(), password))
                            as Arc<dyn TokenProvider>,
                    )
                },
            )))
        }
        None => {
            let label = label(settings);
            let account = placeholder.code_account(UNUSED_REDIRECT, label.clone())?;
            let hint = format!(
                "authkit login vonage --client-id {client_id} --redirect-uri http://127.0.0.1:PORT/callback{}",
                settings.scope_flag()
            );
            let browser_key = account.account_key().clone();
            let browser_binding = account.binding().clone();
            Ok(Arc::new(Deferred::new(
                &account,
                move || {
                    Ok(
                        Arc::new(refreshing()?.code_account(UNUSED_REDIRECT, label.clone())?)
                            as Arc<dyn TokenProvider>,
                    )
                },
                move || {
                    Ok(Arc::new(NeedsBrowser {
                        key: browser_key.clone(),
                        binding: browser_binding.clone(),
                        hint: hint.clone(),
                    }) as Arc<dyn TokenProvider>)
                },
            )))
        }
    }
}

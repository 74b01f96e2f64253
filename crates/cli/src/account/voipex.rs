//! A Voipex account as a provider: its Keycloak's password grant with the
//! public client `api` (or the one named). Refreshing needs no password;
//! only a sign-in reads one.

use std::sync::Arc;

use authkit_core::{Error, Password, TokenProvider};
use authkit_voipex::Voipex;

use crate::deferred::Deferred;
use crate::exit::Failure;
use crate::secrets::PasswordSource;
use crate::settings::Settings;

/// The adapter for `username` with `password`, at the endpoint and with
/// the client and scopes `settings` name.
fn adapter(settings: &Settings, username: &str, password: Password) -> Result<Voipex, Error> {
    let mut builder =
        Voipex::builder(username.to_owned(), password).endpoint(settings.endpoint_settings());
    if let Some(id) = &settings.client_id {
        builder = builder.client_id(id.clone());
    }
    if !settings.scopes.is_empty() {
        builder = builder.scopes(settings.scopes.clone());
    }
    builder.build()
}

/// The Voipex provider `settings` describe; the password is read (from
/// stdin with `password_stdin`) only when the manager has to sign in.
pub fn provider(
    settings: &Settings,
    password_stdin: bool,
) -> Result<Arc<dyn TokenProvider>, Failure> {
    let username = settings
        .require(&settings.username, "a user name")?
        .to_owned();
    // A refresh never sends the password, so the refreshing provider has none.
    let refreshing = adapter(settings, &username, Password::new(""))?;
    let placeholder = refreshing.clone();
    let source = PasswordSource {
        from_stdin: password_stdin,
    };
    let prompt = format!("Password for {username}: ");
    let settings = settings.clone();
    Ok(Arc::new(Deferred::new(
        &placeholder,
        move || Ok(Arc::new(refreshing.clone()) as Arc<dyn TokenProvider>),
        move || {
            let password = source.read(&prompt).map_err(Failure::into_error)?;
            Ok(Arc::new(adapter(&settings, &username, password)?) as Arc<dyn TokenProvider>)
        },
    )))
}

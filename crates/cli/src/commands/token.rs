//! `authkit token`: print a valid access token.

use std::sync::Arc;

use super::{Store, account};
use crate::cli::AccountChoice;
use crate::profiles::ProfileFile;
use authkit_core::{ClientSecret, Error, ExposeSecret, Password, TokenManager, TokenProvider};
use authkit_voipex::Voipex;
use authkit_vonage::Vonage;

use super::{endpoint_settings, scopes, usage_to_config};
use crate::cli::{Endpoint, VoipexArgs, VonageTokenArgs};
use crate::deferred::{Deferred, NeedsBrowser};
use crate::exit::Failure;
use crate::secrets::{PasswordSource, client_secret};

/// `authkit token`: the account the flags name, its token printed, its
/// record kept.
pub async fn run(
    store: Store,
    profiles: &ProfileFile,
    choice: AccountChoice,
    provider: Option<crate::cli::TokenProvider>,
    output: Output,
) -> Result<(), Failure> {
    let (flags, password_stdin) = match &provider {
        Some(crate::cli::TokenProvider::Voipex(args)) => (
            Some(account::voipex_settings(args)),
            args.password.password_stdin,
        ),
        Some(crate::cli::TokenProvider::Vonage(args)) => (
            Some(account::vonage_settings(args)),
            args.password.password_stdin,
        ),
        None => (None, choice.password_stdin),
    };
    let target = account::target(profiles, &choice, flags)?;
    let chosen = account::choose(&store, profiles, target, password_stdin).await?;
    print_token(Arc::clone(&chosen.provider), store.clone(), output).await?;
    if let Err(failure) = chosen.remember(&store) {
        // The token is printed; a record that could not be kept only
        // means the next call needs the flags again.
        eprintln!("authkit: warning: {failure}");
    }
    Ok(())
}

/// How `token` prints.
#[derive(Debug, Clone, Copy)]
pub struct Output {
    /// JSON instead of the bare token.
    pub json: bool,
    /// A new token even if the stored one is fresh.
    pub force_refresh: bool,
}

/// Prints the access token and a newline on stdout, nothing else (or, with
/// `--json`, one JSON object).
pub async fn print_token(
    provider: Arc<dyn TokenProvider>,
    store: Store,
    output: Output,
) -> Result<(), Failure> {
    let manager = TokenManager::new(provider, store);
    let mut token = manager.access_token().await?;
    if output.force_refresh {
        // Reported as refused: the next call gets a new one from the server.
        manager.invalidate_token(&token);
        token = manager.access_token().await?;
    }
    if !output.json {
        println!("{}", token.expose_secret());
        return Ok(());
    }
    let set = manager.token_set().await?;
    let now = time::OffsetDateTime::now_utc();
    let expires_at = set
        .expires_at()
        .format(&time::format_description::well_known::Rfc3339)
        .map_err(|e| Error::Internal(format!("cannot format the expiry: {e}")))?;
    let json = serde_json::json!({
        "access_token": token.expose_secret(),
        "token_type": set.token_type().as_str(),
        "expires_at": expires_at,
        "expires_in": (set.expires_at() - now).whole_seconds().max(0),
        "expiry_estimated": set.expiry_estimated(),
        "scopes": set.granted_scopes().iter().collect::<Vec<_>>(),
        "account": manager.account_key().as_str(),
    });
    println!("{json}");
    Ok(())
}

fn voipex_with(args: &VoipexArgs, password: Password) -> Result<Voipex, Error> {
    let mut builder = Voipex::builder(args.username.clone(), password)
        .endpoint(endpoint_settings(&args.endpoint));
    if let Some(id) = &args.client_id {
        builder = builder.client_id(id.clone());
    }
    if let Some(scopes) = scopes(args.scope.as_deref()) {
        builder = builder.scopes(scopes);
    }
    builder.build()
}

/// The Voipex provider: refreshing needs no password, signing in does.
pub fn voipex(args: VoipexArgs) -> Result<Arc<dyn TokenProvider>, Failure> {
    // A refresh never sends the password, so the refreshing provider has none.
    let refreshing = voipex_with(&args, Password::new(""))?;
    let placeholder = refreshing.clone();
    let source = PasswordSource {
        from_stdin: args.password.password_stdin,
    };
    let args = Arc::new(args);
    let prompt = format!("Password for {}: ", args.username);
    Ok(Arc::new(Deferred::new(
        &placeholder,
        move || Ok(Arc::new(refreshing.clone()) as Arc<dyn TokenProvider>),
        move || {
            let password = source.read(&prompt).map_err(usage_to_config)?;
            Ok(Arc::new(voipex_with(&args, password)?) as Arc<dyn TokenProvider>)
        },
    )))
}

fn vonage_with(
    endpoint: &Endpoint,
    client_id: &str,
    scope: Option<&str>,
    secret: ClientSecret,
) -> Result<Vonage, Error> {
    let mut builder = Vonage::builder(client_id, secret).endpoint(endpoint_settings(endpoint));
    if let Some(scopes) = scopes(scope) {
        builder = builder.scopes(scopes);
    }
    builder.build()
}

/// The Vonage provider: a password account with `--username`, else the
/// account a browser sign-in stored. The consumer secret is read only when a
/// request is needed.
pub fn vonage(args: VonageTokenArgs) -> Result<Arc<dyn TokenProvider>, Failure> {
    let placeholder = vonage_with(
        &args.endpoint,
        &args.client_id,
        args.scope.as_deref(),
        ClientSecret::new(""),
    )?;
    let source = PasswordSource {
        from_stdin: args.password.password_stdin,
    };
    let args = Arc::new(args);
    let refreshing = {
        let args = Arc::clone(&args);
        move || -> Result<Vonage, Error> {
            let secret = client_secret().map_err(usage_to_config)?;
            vonage_with(
                &args.endpoint,
                &args.client_id,
                args.scope.as_deref(),
                secret,
            )
        }
    };
    match args.username.clone() {
        Some(username) => {
            let placeholder = placeholder.password_account(username.clone(), Password::new(""));
            let refreshing = Arc::new(refreshing);
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
            let prompt = format!("Password for {username}: ");
            Ok(Arc::new(Deferred::new(
                &placeholder,
                for_refresh,
                move || {
                    let vonage = refreshing()?;
                    let password = source.read(&prompt).map_err(usage_to_config)?;
                    Ok(
                        Arc::new(vonage.password_account(username.clone(), password))
                            as Arc<dyn TokenProvider>,
                    )
                },
            )))
        }
        None => {
            let account =
                placeholder.code_account(super::login::UNUSED_REDIRECT, args.label.clone())?;
            let hint = format!(
                "authkit login vonage --client-id {} --redirect-uri http://127.0.0.1:PORT/callback",
                args.client_id
            );
            let label = args.label.clone();
            let browser_key = account.account_key().clone();
            let browser_binding = account.binding().clone();
            Ok(Arc::new(Deferred::new(
                &account,
                move || {
                    Ok(Arc::new(
                        refreshing()?.code_account(super::login::UNUSED_REDIRECT, label.clone())?,
                    ) as Arc<dyn TokenProvider>)
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

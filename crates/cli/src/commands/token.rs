//! `authkit token`: print a valid access token.

use std::sync::Arc;

use authkit_core::{Error, ExposeSecret, TokenManager, TokenProvider};

use crate::account::{self, v1};
use crate::cli::AccountChoice;
use crate::exit::Failure;
use crate::profiles::ProfileFile;
use crate::store::Store;

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
        Some(form) => {
            let (settings, password_stdin) = v1::token_form(form);
            (Some(settings), password_stdin)
        }
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

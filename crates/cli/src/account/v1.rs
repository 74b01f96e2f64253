//! The v1 forms of the command, where a provider's flags name the account
//! (`token voipex --username …`, `token vonage …`, `login vonage …`),
//! resolved here, in one place, into the [`Settings`] that profiles and
//! account records use. From then on a v1 call is chosen, built and
//! remembered exactly like any other.

use crate::cli::{SignInArgs, TokenProvider, VoipexArgs, VonageLoginArgs, VonageTokenArgs};
use crate::settings::{Grant, Kind, Settings, split_scopes};

/// The settings `token voipex …` or `token vonage …` name, and whether the
/// password is read from stdin.
pub fn token_form(provider: &TokenProvider) -> (Settings, bool) {
    match provider {
        TokenProvider::Voipex(args) => (voipex(args), args.password.password_stdin),
        TokenProvider::Vonage(args) => (vonage(args), args.password.password_stdin),
    }
}

/// The settings `login vonage …` names, and how it signs in.
pub fn vonage_login_form(args: &VonageLoginArgs) -> (Settings, SignInArgs) {
    let settings = Settings {
        kind: Kind::Vonage,
        grant: Some(Grant::Code),
        base_url: args.base_url.clone(),
        token_url: args.token_url.clone(),
        authorize_url: args.authorize_url.clone(),
        client_id: Some(args.client_id.clone()),
        scopes: split_scopes(args.scope.as_deref()),
        redirect_uri: Some(args.redirect_uri.clone()),
        label: Some(args.label.clone()),
        ..Settings::default()
    };
    let how = SignInArgs {
        device: false,
        no_browser: args.no_browser,
        timeout: args.timeout,
    };
    (settings, how)
}

fn voipex(args: &VoipexArgs) -> Settings {
    Settings {
        kind: Kind::Voipex,
        username: Some(args.username.clone()),
        base_url: args.endpoint.base_url.clone(),
        token_url: args.endpoint.token_url.clone(),
        client_id: args.client_id.clone(),
        scopes: split_scopes(args.scope.as_deref()),
        ..Settings::default()
    }
}

fn vonage(args: &VonageTokenArgs) -> Settings {
    Settings {
        kind: Kind::Vonage,
        username: args.username.clone(),
        base_url: args.endpoint.base_url.clone(),
        token_url: args.endpoint.token_url.clone(),
        client_id: Some(args.client_id.clone()),
        label: args.username.is_none().then(|| args.label.clone()),
        scopes: split_scopes(args.scope.as_deref()),
        ..Settings::default()
    }
}

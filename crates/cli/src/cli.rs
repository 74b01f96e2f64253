//! The command line: every name here is an interface scripts depend on.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

use crate::settings::{ClientAuthMethod, Grant, Kind, Settings};
use crate::store::TokenStoreChoice;

/// OAuth 2 access tokens for shell users: sign in once, then get a valid
/// token whenever you need one.
///
///   authkit profile add work --issuer https://login.example.com --grant device --client-id cli
///   authkit login --profile work --device
///   curl -H "Authorization: Bearer $(authkit token --profile work)" https://...
///   curl -H "Authorization: Bearer $(authkit token voipex --username me@example.com)" https://...
///
/// Exit codes: 0 ok, 2 usage or configuration, 3 the server refused (sign in
/// again or fix the credentials), 4 server or network failure (worth
/// retrying), 5 store failure, 130 cancelled with Ctrl-C.
#[derive(Debug, Parser)]
#[command(name = "authkit", version, about, long_about, verbatim_doc_comment)]
pub struct Cli {
    /// The store directory (token files, account records, locks); default: the platform's per-user data directory.
    #[arg(long, global = true, env = "AUTHKIT_STORE", value_name = "PATH")]
    pub store: Option<PathBuf>,

    /// Where new tokens go: the OS credential store when it takes a write (auto), always it (keyring), or files in the store directory (file).
    #[arg(long = "token-store", global = true, env = "AUTHKIT_TOKEN_STORE", value_enum, default_value_t = TokenStoreChoice::Auto)]
    pub token_store: TokenStoreChoice,

    /// The profiles file (TOML); default: `authkit/config.toml` in the platform's config directory.
    #[arg(long, global = true, env = "AUTHKIT_CONFIG", value_name = "PATH")]
    pub config: Option<PathBuf>,

    /// Log what happens to stderr (secrets are never logged).
    #[arg(long, short, global = true)]
    pub verbose: bool,

    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Print a valid access token (and only it) on stdout, signing in or refreshing as needed.
    ///
    /// Name the account by a profile (`--profile`, or the default profile),
    /// by its key (`--account`, as `authkit status` lists it), or by its
    /// provider's flags. A stored account refreshes against the server it
    /// was signed in to; flags that say otherwise are refused.
    ///
    ///   authkit token --profile work
    ///   authkit token --account voipex:me@example.com --json | jq -r .expires_at
    ///   authkit token voipex --username me@example.com
    ///   authkit token vonage --client-id KEY --force-refresh
    #[command(verbatim_doc_comment)]
    Token {
        /// Print JSON instead: the token, its type, its expiry (RFC 3339 and
        /// seconds left, and whether the server stated it), its scopes and
        /// the account.
        #[arg(long, global = true)]
        json: bool,
        /// Get a new token from the server even if the stored one is fresh.
        #[arg(long, global = true)]
        force_refresh: bool,
        #[command(flatten)]
        account: AccountChoice,
        /// A provider, named by its flags (instead of a profile or an account).
        #[command(subcommand)]
        provider: Option<TokenProvider>,
    },
    /// Sign in (browser, or `--device` for SSH sessions) and keep the tokens.
    ///
    ///   authkit login --profile work              # the browser, code with PKCE
    ///   authkit login --profile work --device     # a code to enter on another device
    ///   authkit login vonage --client-id KEY --redirect-uri http://127.0.0.1:8400/callback
    #[command(verbatim_doc_comment)]
    Login {
        #[command(flatten)]
        account: AccountChoice,
        #[command(flatten)]
        how: SignInArgs,
        /// A provider, named by its flags (instead of a profile).
        #[command(subcommand)]
        provider: Option<LoginProvider>,
    },
    /// Add, list, show or remove profiles (named settings; never secrets).
    ///
    ///   authkit profile add work --issuer https://login.example.com --grant device --client-id cli --default
    ///   authkit profile list
    #[command(verbatim_doc_comment)]
    Profile {
        /// What to do with profiles.
        #[command(subcommand)]
        command: ProfileCommand,
    },
    /// List every stored account and how long its tokens last. Never prints a secret.
    Status {
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Print a shell completion script (bash, zsh, fish, elvish, powershell).
    ///
    ///   authkit completions bash > ~/.local/share/bash-completion/completions/authkit
    #[command(verbatim_doc_comment)]
    Completions {
        /// The shell.
        shell: clap_complete::Shell,
    },
    /// Sign out: revoke the tokens at the server when it offers revocation
    /// (RFC 7009), then forget them.
    ///
    ///   authkit logout voipex:me@example.com
    ///   authkit logout --profile work
    #[command(verbatim_doc_comment)]
    Logout {
        /// The account key, as `authkit status` shows it (e.g. `voipex:me@example.com`).
        #[arg(required_unless_present = "profile", conflicts_with = "profile")]
        key: Option<String>,
        /// The profile whose account to sign out.
        #[arg(long)]
        profile: Option<String>,
    },
}

/// Which stored account or profile a command means.
#[derive(Debug, Args)]
pub struct AccountChoice {
    /// The profile to use (default: the config file's `default`).
    #[arg(long, env = "AUTHKIT_PROFILE")]
    pub profile: Option<String>,
    /// A stored account, by its key or its readable part (see `authkit status`).
    #[arg(long, value_name = "KEY")]
    pub account: Option<String>,
    /// With --profile or --account: the issuer, which must agree with the account's.
    #[arg(long, value_name = "URL")]
    pub issuer: Option<String>,
    /// With --profile or --account: the token endpoint, which must agree with the account's.
    #[arg(long = "token-url", value_name = "URL")]
    pub token_url: Option<String>,
    /// With --profile or --account: the client id, which must agree with the account's.
    #[arg(long = "client-id", value_name = "ID")]
    pub client_id: Option<String>,
    /// With --profile or --account: the scopes (space-separated), which must agree.
    #[arg(long)]
    pub scope: Option<String>,
    /// With --profile or --account: the user name, which must agree.
    #[arg(long)]
    pub username: Option<String>,
    /// Read the password from the first line of stdin (password accounts).
    #[arg(long = "password-stdin")]
    pub password_stdin: bool,
}

impl AccountChoice {
    /// The settings these flags name (they narrow a profile, or must agree
    /// with a stored account).
    pub fn overrides(&self) -> Settings {
        Settings {
            issuer: self.issuer.clone(),
            token_url: self.token_url.clone(),
            client_id: self.client_id.clone(),
            scopes: crate::settings::split_scopes(self.scope.as_deref()),
            username: self.username.clone(),
            ..Settings::default()
        }
    }
}

/// How `login` signs in.
#[derive(Debug, Args)]
pub struct SignInArgs {
    /// Sign in on another device (RFC 8628): prints a code and a URL, and
    /// waits (Ctrl-C cancels). For SSH sessions and machines without a browser.
    #[arg(long)]
    pub device: bool,
    /// Do not open a browser; only print the URL.
    #[arg(long = "no-browser")]
    pub no_browser: bool,
    /// Give up after this many seconds.
    #[arg(long = "timeout", value_name = "SECS", default_value_t = 300)]
    pub timeout: u64,
}

/// `authkit profile ...`.
#[derive(Debug, Subcommand)]
pub enum ProfileCommand {
    /// Add a profile, or replace the one with that name.
    ///
    ///   authkit profile add work --issuer https://login.example.com --grant device --client-id cli
    ///   authkit profile add ci --token-url https://auth.example.com/token --grant client-credentials \
    ///       --client-id ci-bot --client-auth basic       # secret: AUTHKIT_CLIENT_SECRET
    ///   authkit profile add me --kind voipex --username me@example.com --default
    #[command(verbatim_doc_comment)]
    Add(Box<ProfileAddArgs>),
    /// List the profiles (the default one is marked `*`).
    List,
    /// Print one profile as it is in the file.
    Show {
        /// The profile.
        name: String,
    },
    /// Remove a profile (its signed-in account stays until `authkit logout`).
    Remove {
        /// The profile.
        name: String,
    },
    /// Make a profile the default one.
    Default {
        /// The profile.
        name: String,
    },
}

/// `authkit profile add`.
#[derive(Debug, Args)]
pub struct ProfileAddArgs {
    /// The profile's name.
    pub name: String,
    /// The provider kind.
    #[arg(long, value_enum, default_value_t = Kind::Generic)]
    pub kind: Kind,
    /// How the first tokens are had (generic: required).
    #[arg(long, value_enum)]
    pub grant: Option<Grant>,
    /// The issuer, whose endpoints are discovered (generic).
    #[arg(long, value_name = "URL")]
    pub issuer: Option<String>,
    /// The server's base URL (voipex, vonage).
    #[arg(long = "base-url", value_name = "URL")]
    pub base_url: Option<String>,
    /// The token endpoint.
    #[arg(long = "token-url", value_name = "URL")]
    pub token_url: Option<String>,
    /// The authorization endpoint (browser sign-in).
    #[arg(long = "authorize-url", value_name = "URL")]
    pub authorize_url: Option<String>,
    /// The device authorization endpoint (device sign-in).
    #[arg(long = "device-url", value_name = "URL")]
    pub device_url: Option<String>,
    /// The revocation endpoint (`logout`).
    #[arg(long = "revocation-url", value_name = "URL")]
    pub revocation_url: Option<String>,
    /// Push browser sign-ins to the server first (RFC 9126); used anyway when the server's metadata requires it.
    #[arg(long)]
    pub par: bool,
    /// The pushed authorization request endpoint, where the issuer's metadata does not name it (implies --par).
    #[arg(long = "par-url", value_name = "URL")]
    pub par_url: Option<String>,
    /// The client id.
    #[arg(long = "client-id", value_name = "ID")]
    pub client_id: Option<String>,
    /// How the client authenticates; the secret comes from AUTHKIT_CLIENT_SECRET or a prompt.
    #[arg(long = "client-auth", value_enum)]
    pub client_auth: Option<ClientAuthMethod>,
    /// The client certificate (PEM) for mutual TLS (RFC 8705; with --client-auth tls or self-signed-tls).
    #[arg(
        long = "client-certificate",
        value_name = "PEM",
        requires = "client_key"
    )]
    pub client_certificate: Option<String>,
    /// The client certificate's private key (PEM; only its path is kept).
    #[arg(
        long = "client-key",
        value_name = "PEM",
        requires = "client_certificate"
    )]
    pub client_key: Option<String>,
    /// A CA certificate (PEM) to trust besides the platform's roots.
    #[arg(long = "ca-certificate", value_name = "PEM")]
    pub ca_certificate: Option<String>,
    /// Scopes to ask for, space-separated.
    #[arg(long)]
    pub scope: Option<String>,
    /// The resource (RFC 8707) the tokens are for.
    #[arg(long, value_name = "URI")]
    pub resource: Option<String>,
    /// The loopback redirect URI for browser sign-in (default: a free port on 127.0.0.1).
    #[arg(long = "redirect-uri", value_name = "URI")]
    pub redirect_uri: Option<String>,
    /// The user name (password grant; voipex, vonage password accounts).
    #[arg(long)]
    pub username: Option<String>,
    /// Which browser sign-in of a Vonage application.
    #[arg(long)]
    pub label: Option<String>,
    /// Make it the default profile.
    #[arg(long)]
    pub default: bool,
}

impl ProfileAddArgs {
    /// The settings the flags name.
    pub fn settings(&self) -> Settings {
        Settings {
            kind: self.kind,
            grant: self.grant,
            issuer: self.issuer.clone(),
            base_url: self.base_url.clone(),
            token_url: self.token_url.clone(),
            authorize_url: self.authorize_url.clone(),
            device_url: self.device_url.clone(),
            revocation_url: self.revocation_url.clone(),
            par: self.par.then_some(true),
            par_url: self.par_url.clone(),
            client_id: self.client_id.clone(),
            client_auth: self.client_auth,
            client_certificate: self.client_certificate.clone(),
            client_key: self.client_key.clone(),
            ca_certificate: self.ca_certificate.clone(),
            scopes: crate::settings::split_scopes(self.scope.as_deref()),
            resource: self.resource.clone(),
            redirect_uri: self.redirect_uri.clone(),
            username: self.username.clone(),
            label: self.label.clone(),
        }
    }
}

/// Providers that `token` serves.
#[derive(Debug, Subcommand)]
pub enum TokenProvider {
    /// Voipex (password grant against its Keycloak).
    Voipex(VoipexArgs),
    /// Vonage Business Communications: a password account with --username, or
    /// the account signed in with `authkit login vonage` without it.
    Vonage(VonageTokenArgs),
}

/// Providers that `login` serves.
#[derive(Debug, Subcommand)]
pub enum LoginProvider {
    /// Vonage Business Communications (authorization code with PKCE).
    Vonage(VonageLoginArgs),
}

/// Where a provider's endpoints are.
#[derive(Debug, Args)]
pub struct Endpoint {
    /// The server's base URL (the token endpoint is `{base}/token`).
    #[arg(long, value_name = "URL", conflicts_with = "token_url")]
    pub base_url: Option<String>,
    /// The token endpoint's full URL.
    #[arg(long, value_name = "URL")]
    pub token_url: Option<String>,
}

/// How a password is read, when one is needed.
#[derive(Debug, Args)]
pub struct PasswordInput {
    /// Read the password from the first line of stdin (otherwise
    /// `AUTHKIT_PASSWORD`, or a prompt when stdin is a terminal).
    #[arg(long)]
    pub password_stdin: bool,
}

/// `authkit token voipex`.
#[derive(Debug, Args)]
pub struct VoipexArgs {
    /// The Voipex user name (an e-mail address).
    #[arg(long)]
    pub username: String,
    #[command(flatten)]
    pub endpoint: Endpoint,
    /// The client id (default `api`).
    #[arg(long, value_name = "ID")]
    pub client_id: Option<String>,
    /// Scopes to ask for, space-separated.
    #[arg(long)]
    pub scope: Option<String>,
    #[command(flatten)]
    pub password: PasswordInput,
}

/// `authkit token vonage`.
#[derive(Debug, Args)]
pub struct VonageTokenArgs {
    /// The VBC user name, for a password account (`@vbc.prod` is added).
    #[arg(long)]
    pub username: Option<String>,
    /// The application's consumer key. The secret comes from
    /// `AUTHKIT_CLIENT_SECRET` or a prompt.
    #[arg(long, value_name = "KEY")]
    pub client_id: String,
    /// Which browser sign-in of this application to use (see `login vonage --label`).
    #[arg(long, default_value = "default", conflicts_with = "username")]
    pub label: String,
    #[command(flatten)]
    pub endpoint: Endpoint,
    /// Scopes to ask for, space-separated (default `openid`).
    #[arg(long)]
    pub scope: Option<String>,
    #[command(flatten)]
    pub password: PasswordInput,
}

/// `authkit login vonage`.
#[derive(Debug, Args)]
pub struct VonageLoginArgs {
    /// The application's consumer key. The secret comes from
    /// `AUTHKIT_CLIENT_SECRET` or a prompt.
    #[arg(long, value_name = "KEY")]
    pub client_id: String,
    /// The application's callback URL: `http://127.0.0.1:PORT/PATH`.
    #[arg(long, value_name = "URI")]
    pub redirect_uri: String,
    /// The server's base URL (`{base}/authorize` and `{base}/token`).
    #[arg(long, value_name = "URL", conflicts_with_all = ["authorize_url", "token_url"])]
    pub base_url: Option<String>,
    /// The authorization endpoint's full URL.
    #[arg(long, value_name = "URL", requires = "token_url")]
    pub authorize_url: Option<String>,
    /// The token endpoint's full URL.
    #[arg(long, value_name = "URL", requires = "authorize_url")]
    pub token_url: Option<String>,
    /// Do not open a browser; only print the URL.
    #[arg(long)]
    pub no_browser: bool,
    /// Give up after this many seconds.
    #[arg(long, value_name = "SECS", default_value_t = 300)]
    pub timeout: u64,
    /// A name for this sign-in, to keep several per application.
    #[arg(long, default_value = "default")]
    pub label: String,
    /// Scopes to ask for, space-separated (default `openid`).
    #[arg(long)]
    pub scope: Option<String>,
}

//! The command line: every name here is an interface scripts depend on.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

/// OAuth 2 access tokens for shell users: sign in once, then get a valid
/// token whenever you need one.
///
///   curl -H "Authorization: Bearer $(authkit token voipex --username me@example.com)" https://...
///
/// Exit codes: 0 ok, 2 usage or configuration, 3 the server refused (sign in
/// again or fix the credentials), 4 server or network failure (worth
/// retrying), 5 store failure.
#[derive(Debug, Parser)]
#[command(name = "authkit", version, about, long_about)]
pub struct Cli {
    /// Where tokens are kept (a directory); default: the platform's per-user data directory.
    #[arg(long, global = true, env = "AUTHKIT_STORE", value_name = "PATH")]
    pub store: Option<PathBuf>,

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
    ///   authkit token voipex --username me@example.com
    ///   authkit token vonage --client-id KEY --json | jq -r .expires_at
    ///   authkit token vonage --client-id KEY --force-refresh
    Token {
        /// Print JSON instead: the token, its type, its expiry (RFC 3339 and
        /// seconds left, and whether the server stated it), its scopes and
        /// the account.
        #[arg(long, global = true)]
        json: bool,
        /// Get a new token from the server even if the stored one is fresh.
        #[arg(long, global = true)]
        force_refresh: bool,
        /// The provider.
        #[command(subcommand)]
        provider: TokenProvider,
    },
    /// Sign in through the browser and keep the tokens.
    Login {
        /// The provider.
        #[command(subcommand)]
        provider: LoginProvider,
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
    Completions {
        /// The shell.
        shell: clap_complete::Shell,
    },
    /// Forget an account's tokens.
    Logout {
        /// The account key, as `authkit status` shows it (e.g. `voipex:me@example.com`).
        key: String,
    },
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

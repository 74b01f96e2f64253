//! `authkit`: OAuth 2 access tokens for shell users.
//!
//! ```text
//! curl -H "Authorization: Bearer $(authkit token voipex --username me@example.com)" https://...
//! ```
//!
//! Signs in once, keeps the tokens in the file store, and refreshes them for
//! every later call, the way `gcloud auth print-access-token` works.

#![forbid(unsafe_code)]

mod account;
mod cli;
mod commands;
mod deferred;
mod exit;
mod profiles;
mod records;
mod secrets;
mod settings;
mod store;
mod whole_file;

use std::process::ExitCode;

use clap::Parser;

use cli::{Cli, Command};
use exit::Failure;
use profiles::ProfileFile;

fn main() -> ExitCode {
    let cli = Cli::parse();
    if cli.verbose {
        // Only authkit's own crates: they never log a secret.
        let filter = tracing_subscriber::EnvFilter::new(
            "authkit_core=debug,authkit_voipex=debug,authkit_vonage=debug,authkit_store_file=debug,authkit=debug",
        );
        tracing_subscriber::fmt()
            .with_env_filter(filter)
            .with_writer(std::io::stderr)
            .with_ansi(false)
            .init();
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("authkit: cannot start: {error}");
            return ExitCode::from(4);
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => {
            eprintln!("{failure}");
            failure.exit_code()
        }
    }
}

async fn run(cli: Cli) -> Result<(), Failure> {
    let config = profiles::config_path(cli.config)?;
    match cli.command {
        Command::Completions { shell } => {
            let mut command = <Cli as clap::CommandFactory>::command();
            clap_complete::generate(shell, &mut command, "authkit", &mut std::io::stdout());
            Ok(())
        }
        // Profiles live in the config file; no store is opened.
        Command::Profile { command } => commands::profile::run(&config, command),
        Command::Token {
            json,
            force_refresh,
            account,
            provider,
        } => {
            let store = store::open_store(cli.store, cli.token_store).await?;
            let profiles = ProfileFile::load(&config)?;
            let output = commands::token::Output {
                json,
                force_refresh,
            };
            commands::token::run(store, &profiles, account, provider, output).await
        }
        Command::Login {
            account,
            how,
            provider,
        } => {
            let store = store::open_store(cli.store, cli.token_store).await?;
            let profiles = ProfileFile::load(&config)?;
            commands::login::run(store, &profiles, account, how, provider).await
        }
        Command::Status { json } => {
            commands::status::run(store::open_store(cli.store, cli.token_store).await?, json).await
        }
        Command::Logout { key, profile } => {
            let store = store::open_store(cli.store, cli.token_store).await?;
            let profiles = ProfileFile::load(&config)?;
            commands::logout::run(store, &profiles, key, profile).await
        }
    }
}

//! `authkit`: OAuth 2 access tokens for shell users.
//!
//! ```text
//! curl -H "Authorization: Bearer $(authkit token voipex --username me@example.com)" https://...
//! ```
//!
//! Signs in once, keeps the tokens in the file store, and refreshes them for
//! every later call, the way `gcloud auth print-access-token` works.

#![forbid(unsafe_code)]

mod cli;
mod commands;
mod deferred;
mod exit;
mod secrets;

use std::process::ExitCode;

use authkit_core::HeldAccount;
use clap::Parser;

use cli::{Cli, Command, LoginProvider, TokenProvider};
use exit::Failure;

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
    if let Command::Completions { shell } = cli.command {
        let mut command = <Cli as clap::CommandFactory>::command();
        clap_complete::generate(shell, &mut command, "authkit", &mut std::io::stdout());
        return Ok(());
    }
    let store = commands::open_store(cli.store)?;
    match cli.command {
        Command::Token {
            provider,
            json,
            force_refresh,
        } => {
            let provider = match provider {
                TokenProvider::Voipex(args) => commands::token::voipex(args)?,
                TokenProvider::Vonage(args) => commands::token::vonage(args)?,
            };
            let output = commands::token::Output {
                json,
                force_refresh,
            };
            commands::token::print_token(provider, store, output).await
        }
        // Answered above, without opening the store.
        Command::Completions { .. } => Ok(()),
        Command::Login {
            provider: LoginProvider::Vonage(args),
        } => commands::login::vonage(args, store).await,
        Command::Status { json } => commands::status::run(store, json).await,
        Command::Logout { key } => {
            let key = commands::resolve_account(&store, &key).await?;
            let mut held = HeldAccount::acquire(&store, &key).await?;
            let existed = held.load().await.ok().flatten().is_some();
            held.remove().await?;
            drop(held);
            if existed {
                eprintln!("Signed out: {key}");
            } else {
                eprintln!(
                    "No stored tokens for {key} (`authkit status` lists the stored accounts)"
                );
            }
            Ok(())
        }
    }
}

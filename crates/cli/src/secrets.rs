//! Where secrets come from. Never the command line, where other users can
//! read them in the process list and shells keep them in history.

use std::io::{BufRead, IsTerminal};

use authkit_core::{ClientSecret, Password};

use crate::exit::Failure;

/// The environment variable a password is read from.
pub const PASSWORD_ENV: &str = "AUTHKIT_PASSWORD";
/// The environment variable a client secret (Vonage's consumer secret
/// included) is read from.
pub const CLIENT_SECRET_ENV: &str = "AUTHKIT_CLIENT_SECRET";

/// How the password is supplied.
#[derive(Debug, Clone, Copy)]
pub struct PasswordSource {
    /// `--password-stdin` was given.
    pub from_stdin: bool,
}

impl PasswordSource {
    /// The password: the first line of stdin with `--password-stdin`, else
    /// `AUTHKIT_PASSWORD`, else a no-echo prompt when stdin is a terminal.
    pub fn read(&self, prompt: &str) -> Result<Password, Failure> {
        if self.from_stdin {
            let mut line = String::new();
            std::io::stdin()
                .lock()
                .read_line(&mut line)
                .map_err(|e| Failure::Usage(format!("cannot read the password from stdin: {e}")))?;
            let password = line.trim_end_matches(['\r', '\n']).to_owned();
            if password.is_empty() {
                return Err(Failure::Usage("--password-stdin read an empty line".into()));
            }
            return Ok(Password::new(password));
        }
        secret_from(PASSWORD_ENV, prompt).map(Password::new)
    }
}

/// The Vonage consumer secret: `AUTHKIT_CLIENT_SECRET`, else a prompt.
pub fn client_secret() -> Result<ClientSecret, Failure> {
    client_secret_for(CLIENT_SECRET_ENV, "Consumer secret: ")
}

/// A client secret from `variable`, else a no-echo prompt saying `prompt`.
pub fn client_secret_for(variable: &str, prompt: &str) -> Result<ClientSecret, Failure> {
    secret_from(variable, prompt).map(ClientSecret::new)
}

fn secret_from(variable: &str, prompt: &str) -> Result<String, Failure> {
    if let Ok(value) = std::env::var(variable)
        && !value.is_empty()
    {
        return Ok(value);
    }
    if std::io::stdin().is_terminal() {
        return rpassword::prompt_password(prompt)
            .map_err(|e| Failure::Usage(format!("cannot read from the terminal: {e}")));
    }
    Err(Failure::Usage(format!(
        "a secret is needed: set {variable}{}",
        if variable == PASSWORD_ENV {
            " or use --password-stdin"
        } else {
            ""
        }
    )))
}

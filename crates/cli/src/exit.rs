//! Failures as one line on stderr and an exit code a script can branch on.

use std::fmt;
use std::process::ExitCode;

use authkit_core::error::ConfigErrorKind;
use authkit_core::grant::GrantKind;
use authkit_core::{Error, ErrorCode, StoreError};

/// What went wrong, classified for the exit code.
#[derive(Debug)]
pub enum Failure {
    /// A usage or configuration problem (exit 2).
    Usage(String),
    /// An error from the library.
    Auth(Error),
    /// The person pressed Ctrl-C while authkit waited for them (exit 130,
    /// as a shell reports an interrupted command).
    Cancelled,
}

impl Failure {
    /// The exit code: 2 usage or configuration (a URL that is not a token
    /// endpoint included), 3 refused, 4 server, network or protocol, 5 store.
    /// One `match` over the error's kinds.
    pub fn exit_code(&self) -> ExitCode {
        ExitCode::from(match self {
            Failure::Usage(_) => 2,
            Failure::Cancelled => 130,
            Failure::Auth(error) => match error {
                Error::Config(_) => 2,
                Error::Refused(_) | Error::SignInRequired { .. } => 3,
                Error::Transient(_) | Error::Protocol(_) | Error::Internal(_) => 4,
                Error::Store(_) | Error::UnsavedRotation { .. } => 5,
                _ => 4,
            },
        })
    }
}

impl Failure {
    /// The failure as the library error a provider returns: a provider that
    /// reads a secret only when a request is needed reports a secret it
    /// could not read as a configuration error.
    pub fn into_error(self) -> Error {
        match self {
            Failure::Usage(message) => Error::config(message),
            Failure::Auth(error) => error,
            Failure::Cancelled => Error::config("cancelled"),
        }
    }

    /// The next step for the person reading the line, by kind of failure.
    fn next_step(&self) -> Option<&'static str> {
        let Failure::Auth(error) = self else {
            return None;
        };
        Some(match error {
            Error::Refused(refusal) => match refusal.code() {
                ErrorCode::InvalidClient | ErrorCode::UnauthorizedClient => {
                    "check --client-id, and for a confidential client the secret in AUTHKIT_CLIENT_SECRET"
                }
                ErrorCode::InvalidGrant if refusal.grant() == &GrantKind::Password => {
                    "check --username and the password (AUTHKIT_PASSWORD, --password-stdin or the prompt)"
                }
                ErrorCode::InvalidScope => "check --scope",
                _ => return None,
            },
            Error::Config(config) if config.kind() == ConfigErrorKind::NotATokenEndpoint => {
                "check --base-url or --token-url, or the profile's issuer or token_url (`authkit profile show NAME`)"
            }
            Error::Transient(_) => "the server or the network failed; trying again later may work",
            Error::Protocol(_) => {
                "the server did not answer as an OAuth server; check --base-url or --token-url, or the profile's issuer or token_url"
            }
            // The credential store's own errors name their fix.
            Error::Store(StoreError::Unavailable { .. }) => return None,
            Error::Store(_) | Error::UnsavedRotation { .. } => {
                "check the store's directory (--store or AUTHKIT_STORE)"
            }
            _ => return None,
        })
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Failure::Usage(message) => write!(f, "authkit: {message}")?,
            Failure::Cancelled => write!(f, "authkit: cancelled; nothing was stored")?,
            Failure::Auth(Error::SignInRequired { reason }) => {
                write!(f, "authkit: sign in again: {reason}")?
            }
            Failure::Auth(error) => write!(f, "authkit: {error}")?,
        }
        match self.next_step() {
            Some(step) => write!(f, " ({step})"),
            None => Ok(()),
        }
    }
}

impl From<Error> for Failure {
    fn from(error: Error) -> Self {
        Failure::Auth(error)
    }
}

impl From<StoreError> for Failure {
    fn from(error: StoreError) -> Self {
        Failure::Auth(Error::Store(error))
    }
}

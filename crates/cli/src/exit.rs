//! Failures as one line on stderr and an exit code a script can branch on.

use std::fmt;
use std::process::ExitCode;

use authkit_core::{Error, StoreError};

/// What went wrong, classified for the exit code.
#[derive(Debug)]
pub enum Failure {
    /// A usage or configuration problem (exit 2).
    Usage(String),
    /// An error from the library.
    Auth(Error),
}

impl Failure {
    /// The exit code: 2 usage or configuration (a URL that is not a token
    /// endpoint included), 3 refused, 4 server, network or protocol, 5 store.
    /// One `match` over the error's kinds.
    pub fn exit_code(&self) -> ExitCode {
        ExitCode::from(match self {
            Failure::Usage(_) => 2,
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

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Failure::Usage(message) => write!(f, "authkit: {message}"),
            Failure::Auth(Error::SignInRequired { reason }) => {
                write!(f, "authkit: sign in again: {reason}")
            }
            Failure::Auth(error) => write!(f, "authkit: {error}"),
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

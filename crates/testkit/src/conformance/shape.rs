//! A provider's shape, found from what happens rather than declared: a
//! declaration could be wrong, and then the behaviours chosen by it would
//! pass by accident.

use std::fmt;

use super::suite::Conformance;

/// What a refresh does, as the server behaves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RefreshTokens {
    /// The server issues none: renewal repeats the grant.
    None,
    /// Each refresh returns a new refresh token and spends the old one.
    Rotating,
    /// The same refresh token serves every refresh.
    Reused,
}

impl fmt::Display for RefreshTokens {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            RefreshTokens::None => "no refresh tokens",
            RefreshTokens::Rotating => "rotating refresh tokens",
            RefreshTokens::Reused => "reused refresh tokens",
        })
    }
}

/// The provider's shape, as the first sign-in showed it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shape {
    /// What refreshing looks like.
    pub refresh_tokens: RefreshTokens,
    /// A person signs in (a sign-in function was given).
    pub person: bool,
    /// The provider read the password from its context.
    pub reads_password: bool,
    /// The provider read the client secret from its context.
    pub reads_client_secret: bool,
}

impl fmt::Display for Shape {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let refresh = self.refresh_tokens;
        let who = if self.person {
            "a person signs in"
        } else {
            "unattended sign-in"
        };
        let mut credentials = Vec::new();
        if self.reads_password {
            credentials.push("password");
        }
        if self.reads_client_secret {
            credentials.push("client secret");
        }
        let credentials = if credentials.is_empty() {
            "no credential".to_owned()
        } else {
            credentials.join(" and ")
        };
        write!(f, "{refresh}, {who}, reads {credentials}")
    }
}

impl Conformance {
    /// Signs in once against a fresh server and reads the shape off it.
    pub(super) async fn shape(&self) -> Shape {
        let (server, credentials) = self.start().await;
        let mut shape = Shape {
            refresh_tokens: RefreshTokens::None,
            person: self.person_signs_in(),
            reads_password: false,
            reads_client_secret: false,
        };
        let Ok((provider, reads)) = self.provider(&server, &credentials) else {
            return shape;
        };
        shape.reads_password = reads.password.get();
        shape.reads_client_secret = reads.client_secret.get();
        if self
            .first_tokens(&server, &credentials, &provider)
            .await
            .is_ok()
        {
            let issued = server
                .log()
                .entries()
                .iter()
                .any(|entry| entry.issued_refresh_token);
            shape.refresh_tokens = match (issued, server.rotates_refresh_tokens()) {
                (false, _) => RefreshTokens::None,
                (true, true) => RefreshTokens::Rotating,
                (true, false) => RefreshTokens::Reused,
            };
        }
        shape
    }
}

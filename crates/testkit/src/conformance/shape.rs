//! A provider's shape, found from what happens rather than declared: a
//! declaration could be wrong, and then the behaviours chosen by it would
//! pass by accident.

use std::fmt;

use super::context::Credential;
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
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Shape {
    /// What refreshing looks like.
    pub refresh_tokens: RefreshTokens,
    /// A person signs in (a sign-in function was given).
    pub person: bool,
    /// The credentials the provider read from its context, user name
    /// first, identifiers last.
    pub reads: Vec<Credential>,
}

impl Shape {
    /// Whether the provider read `credential` from its context.
    pub fn reads(&self, credential: &Credential) -> bool {
        self.reads.contains(credential)
    }
}

impl fmt::Display for Shape {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let refresh = self.refresh_tokens;
        let who = if self.person {
            "a person signs in"
        } else {
            "unattended sign-in"
        };
        let names: Vec<String> = self.reads.iter().map(ToString::to_string).collect();
        let credentials = match names.split_last() {
            None => "no credential".to_owned(),
            Some((last, [])) => last.clone(),
            Some((last, rest)) => format!("{} and {last}", rest.join(", ")),
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
            reads: Vec::new(),
        };
        let Ok((provider, reads)) = self.provider(&server, &credentials) else {
            return shape;
        };
        shape.reads = reads.read();
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

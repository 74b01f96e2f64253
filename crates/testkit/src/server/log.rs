//! What the mock server saw: one entry per token request, for assertions.
//!
//! Entries keep the refresh token presented (tests assert that none is sent
//! twice) inside [`authkit_core::RefreshToken`], whose `Debug` is redacted, so
//! printing the log never prints a secret.

use authkit_core::{ExposeSecret, RefreshToken};

/// How the client authenticated on one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClientAuthUsed {
    /// `client_id` in the body, no secret.
    PublicId,
    /// An `Authorization: Basic` header.
    Basic,
    /// `client_id` and `client_secret` in the body.
    SecretInBody,
    /// A signed client assertion (`client_assertion`).
    Assertion,
    /// Nothing that identifies a client.
    Missing,
}

/// How the server answered one request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Tokens were issued.
    Issued,
    /// An OAuth error with this code.
    Refused(String),
    /// An injected fault.
    Fault,
}

/// One token request as the server saw it.
#[derive(Debug, Clone)]
pub struct LoggedRequest {
    /// The `grant_type` sent (empty when none was).
    pub grant_type: String,
    /// The client it claimed to be.
    pub client_id: Option<String>,
    /// How it authenticated.
    pub client_auth: ClientAuthUsed,
    /// The refresh token presented, on a refresh.
    pub refresh_token: Option<RefreshToken>,
    /// The `scope` asked for.
    pub scope: Option<String>,
    /// What the server answered.
    pub outcome: Outcome,
    /// Whether the answer carried a refresh token.
    pub issued_refresh_token: bool,
    /// The names of the form's fields (never their values), sorted.
    pub fields: Vec<String>,
}

impl LoggedRequest {
    /// The sorted names of a form's fields, without their values.
    pub(crate) fn field_names(form: &std::collections::HashMap<String, String>) -> Vec<String> {
        let mut names: Vec<String> = form.keys().cloned().collect();
        names.sort();
        names
    }
}

/// The server's request log.
#[derive(Debug, Clone, Default)]
pub struct RequestLog {
    entries: Vec<LoggedRequest>,
}

impl RequestLog {
    pub(crate) fn push(&mut self, entry: LoggedRequest) {
        self.entries.push(entry);
    }

    /// Every request, oldest first.
    pub fn entries(&self) -> &[LoggedRequest] {
        &self.entries
    }

    /// How many token requests arrived, of any kind.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether no token request arrived.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// How many requests used this grant type.
    pub fn count(&self, grant_type: &str) -> usize {
        self.entries
            .iter()
            .filter(|e| e.grant_type == grant_type)
            .count()
    }

    /// The refresh tokens presented, in order.
    pub fn refresh_tokens_presented(&self) -> Vec<RefreshToken> {
        self.entries
            .iter()
            .filter_map(|e| e.refresh_token.clone())
            .collect()
    }

    /// Whether any refresh token was presented more than once.
    pub fn any_refresh_token_sent_twice(&self) -> bool {
        let presented = self.refresh_tokens_presented();
        let mut seen = std::collections::HashSet::new();
        presented
            .iter()
            .any(|t| !seen.insert(t.expose_secret().to_owned()))
    }

    /// How many requests were answered with this OAuth error code.
    pub fn refusals(&self, code: &str) -> usize {
        self.entries
            .iter()
            .filter(|e| matches!(&e.outcome, Outcome::Refused(c) if c == code))
            .count()
    }
}

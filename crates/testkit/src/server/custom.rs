//! Extending the mock server without editing it: a handler for a grant the
//! server does not know, extra fields on every success response, and the
//! shape of error bodies (which field holds the description, which status
//! `invalid_client` gets). A contributor whose provider has one custom grant
//! and one quirk in its errors configures the server; nothing here changes.

use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;

/// What a custom grant handler sees: the form (secrets included, as sent)
/// and the client the server authenticated.
#[derive(Debug)]
pub struct GrantRequest<'a> {
    /// The form's fields.
    pub form: &'a HashMap<String, String>,
    /// The authenticated client's id.
    pub client_id: &'a str,
}

/// A custom grant handler's answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GrantAnswer {
    /// Issue tokens the server then knows (they pass
    /// `MockAuthServer::is_access_token_active`), for `user` if any, with
    /// `scope`, and a refresh token when `refresh` is true.
    Tokens {
        /// The resource owner, if the grant has one.
        user: Option<String>,
        /// The granted scope (space-separated; empty for none).
        scope: String,
        /// Whether a refresh token comes with them.
        refresh: bool,
    },
    /// Refuse with this status, `error` code and description.
    Refuse {
        /// The HTTP status.
        status: u16,
        /// The `error` code.
        code: String,
        /// The description.
        description: String,
    },
}

/// Decides a custom grant. Any `Fn(&GrantRequest) -> GrantAnswer` is one.
pub trait GrantHandler: Send + Sync {
    /// Answers one request of the grant.
    fn handle(&self, request: &GrantRequest<'_>) -> GrantAnswer;
}

impl<F> GrantHandler for F
where
    F: Fn(&GrantRequest<'_>) -> GrantAnswer + Send + Sync,
{
    fn handle(&self, request: &GrantRequest<'_>) -> GrantAnswer {
        self(request)
    }
}

/// The custom grants of a server, by `grant_type`.
#[derive(Clone, Default)]
pub(crate) struct CustomGrants(pub(crate) Vec<(String, Arc<dyn GrantHandler>)>);

impl fmt::Debug for CustomGrants {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list()
            .entries(self.0.iter().map(|(name, _)| name))
            .finish()
    }
}

impl CustomGrants {
    pub(crate) fn get(&self, grant_type: &str) -> Option<&Arc<dyn GrantHandler>> {
        self.0
            .iter()
            .find(|(name, _)| name == grant_type)
            .map(|(_, handler)| handler)
    }
}

/// How error bodies look.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ErrorShape {
    /// The field that holds the description (`error_description` by the
    /// RFC; Vonage's API manager uses `error_message`, some servers
    /// `message`).
    pub description_field: String,
    /// The status of an `invalid_client` refusal: 401 by RFC 6749 §5.2 for
    /// HTTP Basic, 400 on many servers.
    pub invalid_client_status: u16,
}

impl Default for ErrorShape {
    fn default() -> Self {
        Self {
            description_field: "error_description".into(),
            invalid_client_status: 401,
        }
    }
}

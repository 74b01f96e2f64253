//! Protocol errors: the server answered, but not as a token endpoint should.

/// A response that is not a usable OAuth 2 token response.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ProtocolError {
    /// The response is not an OAuth 2 response at all: an HTML error or login
    /// page, a redirect.
    #[error(
        "the response is not an OAuth 2 token response (status {status}, content type {content_type}): {excerpt}"
    )]
    NotOAuth {
        /// The HTTP status.
        status: u16,
        /// The `Content-Type` header, or `none`.
        content_type: String,
        /// A short, scrubbed excerpt of the body.
        excerpt: String,
    },

    /// A success response that could not be read as a token response: a
    /// missing access token, a field of the wrong kind. The body is not
    /// included, because it may hold live tokens.
    #[error("the authorization server sent a malformed token response (status {status}): {reason}")]
    Malformed {
        /// The HTTP status.
        status: u16,
        /// What was wrong, without any value from the body.
        reason: String,
    },

    /// The response body was larger than the configured limit.
    #[error("the token response exceeded the {limit}-byte limit (status {status})")]
    TooLarge {
        /// The HTTP status.
        status: u16,
        /// The limit in bytes.
        limit: usize,
    },

    /// The server issued a token of a type this client cannot present
    /// (anything but Bearer, unless the endpoint accepts the scheme). The
    /// token was neither handed out nor stored.
    #[error("the authorization server issued a {token_type:?} token, which this client cannot use")]
    UnusableTokenType {
        /// The `token_type` as the server sent it (cut short).
        token_type: String,
    },

    /// The response came from another origin than the token endpoint's (a
    /// supplied HTTP client followed a redirect).
    #[error("the token response came from another origin ({origin}) than the token endpoint's")]
    ForeignOrigin {
        /// The origin that answered.
        origin: String,
    },
}

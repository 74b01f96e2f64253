//! The `WWW-Authenticate` challenge of a protected resource (RFC 6750 §3).
//!
//! A resource server that refuses a Bearer token says why in a challenge:
//! `Bearer realm="api", error="invalid_token", error_description="expired"`.
//! The layer decides on the parsed `error` (replay after `invalid_token`,
//! never after `insufficient_scope`), and hands the whole challenge to the
//! caller in the response's extensions. The parser takes any header value,
//! including several challenges in one (`Basic realm="x", Bearer ...`) and
//! the quoted-string escapes of RFC 9110 §5.6.4, and never panics.

use std::fmt;

use http::HeaderMap;
use http::header::WWW_AUTHENTICATE;

/// The `error` of a Bearer challenge (RFC 6750 §3.1).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum BearerError {
    /// `invalid_request`: the request is malformed.
    InvalidRequest,
    /// `invalid_token`: expired, revoked or otherwise not accepted; a new
    /// token may succeed.
    InvalidToken,
    /// `insufficient_scope`: the token is valid but lacks a scope; a new
    /// token of the same grant will not help.
    InsufficientScope,
    /// Any other value, as the server spelt it.
    Other(String),
}

impl BearerError {
    fn parse(value: &str) -> Self {
        match value {
            "invalid_request" => BearerError::InvalidRequest,
            "invalid_token" => BearerError::InvalidToken,
            "insufficient_scope" => BearerError::InsufficientScope,
            other => BearerError::Other(other.chars().take(64).collect()),
        }
    }
}

impl fmt::Display for BearerError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            BearerError::InvalidRequest => "invalid_request",
            BearerError::InvalidToken => "invalid_token",
            BearerError::InsufficientScope => "insufficient_scope",
            BearerError::Other(other) => other,
        })
    }
}

/// A parsed Bearer challenge: what the resource server said about the token.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BearerChallenge {
    /// The `realm`, when given.
    pub realm: Option<String>,
    /// The `error`, when given.
    pub error: Option<BearerError>,
    /// The `error_description`, when given.
    pub error_description: Option<String>,
    /// The `scope` the resource needs, space-separated, when given.
    pub scope: Option<String>,
}

impl BearerChallenge {
    /// The Bearer challenge among the `WWW-Authenticate` headers, if any.
    pub fn from_headers(headers: &HeaderMap) -> Option<Self> {
        headers
            .get_all(WWW_AUTHENTICATE)
            .iter()
            .filter_map(|value| value.to_str().ok())
            .find_map(Self::parse)
    }

    /// The Bearer challenge in one `WWW-Authenticate` value, if it has one.
    pub fn parse(value: &str) -> Option<Self> {
        let mut challenge = None::<BearerChallenge>;
        for (scheme, params) in challenges(value) {
            if !scheme.eq_ignore_ascii_case("bearer") || challenge.is_some() {
                continue;
            }
            let mut found = BearerChallenge::default();
            for (name, value) in params {
                match name.to_ascii_lowercase().as_str() {
                    "realm" => found.realm = Some(value),
                    "error" => found.error = Some(BearerError::parse(&value)),
                    "error_description" => found.error_description = Some(value),
                    "scope" => found.scope = Some(value),
                    _ => {}
                }
            }
            challenge = Some(found);
        }
        challenge
    }

    /// The scopes the resource needs, when the challenge names them.
    pub fn scopes(&self) -> impl Iterator<Item = &str> {
        self.scope.iter().flat_map(|s| s.split_whitespace())
    }
}

/// Splits a header value into challenges: a scheme and its parameters.
fn challenges(value: &str) -> Vec<(String, Vec<(String, String)>)> {
    let mut out: Vec<(String, Vec<(String, String)>)> = Vec::new();
    let mut rest = value;
    loop {
        rest = rest.trim_start_matches([' ', '\t', ',']);
        if rest.is_empty() {
            break;
        }
        let (token, after) = take_token(rest);
        if token.is_empty() {
            // Not a token: skip one character and go on.
            let mut chars = rest.chars();
            chars.next();
            rest = chars.as_str();
            continue;
        }
        let after_spaces = after.trim_start_matches([' ', '\t']);
        if let Some(value_part) = after_spaces.strip_prefix('=')
            && let Some((_, params)) = out.last_mut()
        {
            // A parameter of the current challenge.
            let (value, remaining) = take_value(value_part.trim_start_matches([' ', '\t']));
            params.push((token.to_owned(), value));
            rest = remaining;
        } else {
            // A new challenge's scheme (a token68 after it is ignored).
            out.push((token.to_owned(), Vec::new()));
            rest = after;
        }
    }
    out
}

fn is_tchar(c: char) -> bool {
    c.is_ascii_alphanumeric() || "!#$%&'*+-.^_`|~".contains(c)
}

fn take_token(s: &str) -> (&str, &str) {
    let end = s.find(|c: char| !is_tchar(c)).unwrap_or(s.len());
    s.split_at(end)
}

/// A token or a quoted string (with `\` escapes), and what follows it.
fn take_value(s: &str) -> (String, &str) {
    let Some(quoted) = s.strip_prefix('"') else {
        let (token, rest) = take_token(s);
        return (token.to_owned(), rest);
    };
    let mut value = String::new();
    let mut chars = quoted.char_indices();
    while let Some((i, c)) = chars.next() {
        match c {
            '\\' => {
                if let Some((_, escaped)) = chars.next() {
                    value.push(escaped);
                }
            }
            '"' => return (value, &quoted[i + 1..]),
            c => value.push(c),
        }
    }
    // An unterminated quoted string: take what there is.
    (value, "")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_rfc_examples_parse() {
        let c = BearerChallenge::parse(r#"Bearer realm="example""#).unwrap();
        assert_eq!(c.realm.as_deref(), Some("example"));
        assert_eq!(c.error, None);

        let c = BearerChallenge::parse(
            r#"Bearer realm="example", error="invalid_token", error_description="The access token expired""#,
        )
        .unwrap();
        assert_eq!(c.error, Some(BearerError::InvalidToken));
        assert_eq!(
            c.error_description.as_deref(),
            Some("The access token expired")
        );
    }

    #[test]
    fn the_bearer_challenge_is_found_among_others() {
        let c = BearerChallenge::parse(
            r#"Basic realm="legacy", Bearer error="insufficient_scope", scope="read write""#,
        )
        .unwrap();
        assert_eq!(c.error, Some(BearerError::InsufficientScope));
        assert_eq!(c.scopes().collect::<Vec<_>>(), ["read", "write"]);
        assert!(BearerChallenge::parse(r#"Basic realm="only basic""#).is_none());
        assert!(BearerChallenge::parse("Negotiate abc123==").is_none());
    }

    #[test]
    fn quoted_strings_unescape_and_tokens_need_no_quotes() {
        let c =
            BearerChallenge::parse(r#"bearer error=invalid_token, error_description="say \"hi\"""#)
                .unwrap();
        assert_eq!(c.error, Some(BearerError::InvalidToken));
        assert_eq!(c.error_description.as_deref(), Some(r#"say "hi""#));
    }

    #[test]
    fn hostile_values_never_panic() {
        for value in [
            "",
            ",,,",
            "Bearer",
            "Bearer error=",
            r#"Bearer error=""#,
            r#"Bearer error="\"#,
            "= = =",
            "Bearer é=ü, error=\"x\"",
            "\u{0}\u{7f} Bearer",
        ] {
            let _ = BearerChallenge::parse(value);
        }
    }
}

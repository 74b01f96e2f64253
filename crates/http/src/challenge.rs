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
use std::time::Duration;

use authkit_core::sign_in::StepUp;

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
    /// `insufficient_user_authentication` (RFC 9470 §3): the person must
    /// sign in more strongly or more recently (`acr_values`, `max_age`); a
    /// new token of the same sign-in will not help.
    InsufficientUserAuthentication,
    /// Any other value, as the server spelt it.
    Other(String),
}

impl BearerError {
    fn parse(value: &str) -> Self {
        match value {
            "invalid_request" => BearerError::InvalidRequest,
            "invalid_token" => BearerError::InvalidToken,
            "insufficient_scope" => BearerError::InsufficientScope,
            "insufficient_user_authentication" => BearerError::InsufficientUserAuthentication,
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
            BearerError::InsufficientUserAuthentication => "insufficient_user_authentication",
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
    /// The `acr_values` the resource accepts (RFC 9470 §3), space-separated,
    /// when given.
    pub acr_values: Option<String>,
    /// The `max_age` the resource allows since the person last
    /// authenticated, in seconds (RFC 9470 §3), when given as a number.
    pub max_age: Option<u64>,
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
                    "acr_values" => found.acr_values = Some(value),
                    "max_age" => found.max_age = value.trim().parse().ok(),
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

    /// Puts this challenge in a response's `extensions` for the caller, and
    /// with it the [`StepUp`] it asks for, if any: what a refusal that goes
    /// back carries, the same from the middleware and the tower layer.
    pub(crate) fn attach_to(self, extensions: &mut http::Extensions) {
        if let Some(step_up) = self.step_up() {
            extensions.insert(step_up);
        }
        extensions.insert(self);
    }

    /// What the resource asks of the next sign-in, when a new token of the
    /// same grant cannot serve it: a stronger or more recent sign-in
    /// (`insufficient_user_authentication`, with its `acr_values` and
    /// `max_age`), or more scopes (`insufficient_scope`, with its `scope`).
    pub fn step_up(&self) -> Option<StepUp> {
        match self.error.as_ref()? {
            BearerError::InsufficientUserAuthentication => Some(StepUp::for_user_authentication(
                self.acr_values
                    .iter()
                    .flat_map(|a| a.split_whitespace())
                    .map(str::to_owned),
                self.max_age.map(Duration::from_secs),
            )),
            BearerError::InsufficientScope => {
                Some(StepUp::for_scopes(self.scopes().map(str::to_owned)))
            }
            _ => None,
        }
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
    fn a_step_up_challenge_names_what_the_next_sign_in_needs() {
        let c = BearerChallenge::parse(
            r#"Bearer error="insufficient_user_authentication", acr_values="myACR", max_age=5"#,
        )
        .unwrap();
        assert_eq!(c.error, Some(BearerError::InsufficientUserAuthentication));
        let asked = c.step_up().unwrap();
        assert_eq!(asked.acr_values(), ["myACR"]);
        assert_eq!(asked.max_age(), Some(Duration::from_secs(5)));
        // A max_age that is not a number is not guessed at.
        let c = BearerChallenge::parse(
            r#"Bearer error="insufficient_user_authentication", max_age="soon""#,
        )
        .unwrap();
        assert_eq!(c.max_age, None);
        assert!(c.step_up().unwrap().acr_values().is_empty());
        // Only the two step-up errors ask for one.
        let c = BearerChallenge::parse(r#"Bearer error="invalid_token""#).unwrap();
        assert!(c.step_up().is_none());
        assert!(
            BearerChallenge::parse("Bearer")
                .unwrap()
                .step_up()
                .is_none()
        );
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

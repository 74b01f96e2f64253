//! Reading a token endpoint's answer: a token set, or a classified error.
//!
//! Servers differ in small ways that must not break a client: `expires_in` as
//! a number, a numeric string or a float; `token_type` in any case; JSON or
//! form-encoded bodies; `invalid_grant` with status 400 or 401. The parser is
//! tolerant of all of them and strict about what matters: a body with an
//! `error` field is an error whatever its status, a missing or zero
//! `expires_in` means "unknown" (a default lifetime is assumed, never
//! "forever"), and absurd lifetimes are clamped with checked arithmetic.
//!
//! Classification follows the `error` code and the grant in progress, never
//! the HTTP status alone.

use std::collections::BTreeMap;
use std::time::Duration as StdDuration;

use serde_json::{Map, Value};
use time::{Duration, OffsetDateTime};

use crate::error::{Error, OAuthRefusal};
use crate::excerpt::scrub;
use crate::secret::{AccessToken, IdToken, RefreshToken};
use crate::token::{TokenSet, TokenType};

/// No lifetime longer than this (ten years) is believed; larger values are clamped.
pub const MAX_LIFETIME: Duration = Duration::seconds(10 * 365 * 24 * 3600);

/// Length of excerpts of foreign bodies in errors.
const EXCERPT_CHARS: usize = 200;

const KNOWN_FIELDS: &[&str] = &[
    "access_token",
    "token_type",
    "expires_in",
    "refresh_token",
    "refresh_expires_in",
    "refresh_token_expires_in",
    "id_token",
    "scope",
];

/// An HTTP response from a token endpoint, as the parser needs it.
#[derive(Debug, Clone, Copy)]
pub struct ResponseParts<'a> {
    /// The HTTP status.
    pub status: u16,
    /// The `Content-Type` header.
    pub content_type: Option<&'a str>,
    /// The `Retry-After` header, already parsed.
    pub retry_after: Option<StdDuration>,
    /// The body.
    pub body: &'a [u8],
}

/// What the parser needs to know besides the response.
#[derive(Debug, Clone, Copy)]
pub struct ParseContext<'a> {
    /// The `grant_type` of the request, for classifying refusals.
    pub grant_type: &'a str,
    /// When the request was sent: lifetimes count from here.
    pub sent_at: OffsetDateTime,
    /// The lifetime assumed when the server gives none.
    pub default_lifetime: Duration,
}

/// Interprets a token endpoint response: a [`TokenSet`] on success, a
/// classified [`Error`] otherwise. Never panics, whatever the bytes.
pub fn interpret(response: &ResponseParts<'_>, ctx: &ParseContext<'_>) -> Result<TokenSet, Error> {
    let status = response.status;
    if status == 429 {
        return Err(Error::RateLimited {
            retry_after: response.retry_after,
        });
    }
    let fields = match decode_body(response) {
        Body::Fields(fields) => fields,
        Body::BrokenJson(reason) => return Err(broken_body(response, reason)),
        Body::Foreign => return Err(foreign(response)),
    };
    if let Some(error) = fields.get("error") {
        return Err(refusal(response, ctx, error, &fields));
    }
    if !(200..300).contains(&status) {
        return Err(fields_without_error(response, &fields));
    }
    parse_success(status, &fields, ctx)
}

enum Body {
    Fields(Map<String, Value>),
    BrokenJson(&'static str),
    Foreign,
}

fn decode_body(response: &ResponseParts<'_>) -> Body {
    let content_type = response.content_type.unwrap_or("").to_ascii_lowercase();
    let trimmed = trim_ascii(response.body);
    let looks_json = trimmed.first() == Some(&b'{');
    if content_type.contains("json") || looks_json {
        return match serde_json::from_slice::<Value>(trimmed) {
            Ok(Value::Object(map)) => Body::Fields(map),
            Ok(_) => Body::BrokenJson("the JSON body is not an object"),
            Err(e) if e.is_eof() => Body::BrokenJson("the JSON body is truncated"),
            Err(_) if looks_json => Body::BrokenJson("the body is not valid JSON"),
            Err(_) => Body::Foreign,
        };
    }
    if content_type.contains("x-www-form-urlencoded") || looks_form(trimmed) {
        let map: Map<String, Value> = form_urlencoded::parse(trimmed)
            .map(|(k, v)| (k.into_owned(), Value::String(v.into_owned())))
            .collect();
        if map.contains_key("access_token") || map.contains_key("error") {
            return Body::Fields(map);
        }
    }
    Body::Foreign
}

fn looks_form(body: &[u8]) -> bool {
    (body.starts_with(b"access_token=") || body.starts_with(b"error="))
        && !body.iter().any(|b| b.is_ascii_whitespace() || *b == b'<')
}

fn trim_ascii(bytes: &[u8]) -> &[u8] {
    let start = bytes
        .iter()
        .position(|b| !b.is_ascii_whitespace())
        .unwrap_or(bytes.len());
    let end = bytes
        .iter()
        .rposition(|b| !b.is_ascii_whitespace())
        .map_or(start, |i| i + 1);
    &bytes[start..end]
}

fn excerpt(response: &ResponseParts<'_>) -> String {
    scrub(&String::from_utf8_lossy(response.body), EXCERPT_CHARS)
}

fn content_type_text(response: &ResponseParts<'_>) -> String {
    response
        .content_type
        .map(|c| scrub(c, 80))
        .unwrap_or_else(|| "none".to_owned())
}

/// A body that is not OAuth at all: a server failure when the status says
/// so, otherwise a foreign response.
fn foreign(response: &ResponseParts<'_>) -> Error {
    if response.status >= 500 {
        Error::ServerFailure {
            status: response.status,
            excerpt: excerpt(response),
            retry_after: response.retry_after,
        }
    } else {
        Error::NotOAuth {
            status: response.status,
            content_type: content_type_text(response),
            excerpt: excerpt(response),
        }
    }
}

/// A JSON (or form) body on an error status without an OAuth `error`: its
/// values may echo what was sent, so only its field names are reported.
fn fields_without_error(response: &ResponseParts<'_>, fields: &Map<String, Value>) -> Error {
    let names: Vec<&str> = fields.keys().map(String::as_str).take(12).collect();
    let excerpt = scrub(
        &format!(
            "a body without an OAuth error; its fields: {}",
            names.join(", ")
        ),
        EXCERPT_CHARS,
    );
    if response.status >= 500 {
        Error::ServerFailure {
            status: response.status,
            excerpt,
            retry_after: response.retry_after,
        }
    } else {
        Error::NotOAuth {
            status: response.status,
            content_type: content_type_text(response),
            excerpt,
        }
    }
}

/// A body that claimed to be JSON and was not. On success statuses it may
/// hold tokens, so no excerpt is given.
fn broken_body(response: &ResponseParts<'_>, reason: &str) -> Error {
    if (200..300).contains(&response.status) {
        Error::MalformedResponse {
            status: response.status,
            reason: reason.to_owned(),
        }
    } else if response.status >= 500 {
        Error::ServerFailure {
            status: response.status,
            excerpt: reason.to_owned(),
            retry_after: response.retry_after,
        }
    } else {
        Error::NotOAuth {
            status: response.status,
            content_type: content_type_text(response),
            excerpt: reason.to_owned(),
        }
    }
}

fn refusal(
    response: &ResponseParts<'_>,
    ctx: &ParseContext<'_>,
    error: &Value,
    fields: &Map<String, Value>,
) -> Error {
    let Some(code) = error.as_str() else {
        return if (200..300).contains(&response.status) {
            Error::MalformedResponse {
                status: response.status,
                reason: "the `error` field is not a string".to_owned(),
            }
        } else {
            foreign(response)
        };
    };
    let text = |name: &str| fields.get(name).and_then(Value::as_str).map(str::to_owned);
    let refusal = OAuthRefusal::new(
        code,
        text("error_description"),
        text("error_uri"),
        response.status,
    );
    match refusal.code() {
        "server_error" | "temporarily_unavailable" => Error::ServerFailure {
            status: response.status,
            excerpt: refusal.to_string(),
            retry_after: response.retry_after,
        },
        "slow_down" => Error::RateLimited {
            retry_after: response.retry_after,
        },
        _ => Error::Refused {
            grant: ctx.grant_type.to_owned(),
            refusal,
        },
    }
}

fn parse_success(
    status: u16,
    fields: &Map<String, Value>,
    ctx: &ParseContext<'_>,
) -> Result<TokenSet, Error> {
    let malformed = |reason: &str| Error::MalformedResponse {
        status,
        reason: reason.to_owned(),
    };
    let access_token = match fields.get("access_token") {
        Some(Value::String(s)) if !s.is_empty() => AccessToken::new(s.clone()),
        Some(Value::String(_)) => return Err(malformed("`access_token` is empty")),
        Some(_) => return Err(malformed("`access_token` is not a string")),
        None => return Err(malformed("no `access_token` in the response")),
    };
    let token_type = match fields.get("token_type") {
        Some(Value::String(s)) if !s.trim().is_empty() => TokenType::parse(s),
        _ => TokenType::Bearer,
    };
    let optional_secret = |name: &str| -> Result<Option<String>, Error> {
        match fields.get(name) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) if s.is_empty() => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(_) => Err(malformed(&format!("`{name}` is not a string"))),
        }
    };
    let refresh_token = optional_secret("refresh_token")?.map(RefreshToken::new);
    let id_token = optional_secret("id_token")?.map(IdToken::new);

    let (expires_at, estimated) = match fields.get("expires_in").and_then(lifetime_seconds) {
        Some(seconds) => (expiry_after(ctx.sent_at, seconds), false),
        None => (
            expiry_after(ctx.sent_at, ctx.default_lifetime.whole_seconds()),
            true,
        ),
    };
    let refresh_expires_at = fields
        .get("refresh_expires_in")
        .or_else(|| fields.get("refresh_token_expires_in"))
        .and_then(lifetime_seconds)
        .filter(|_| refresh_token.is_some())
        .map(|seconds| expiry_after(ctx.sent_at, seconds));

    let scopes = match fields.get("scope") {
        Some(Value::String(s)) => Some(s.split_whitespace().map(str::to_owned).collect()),
        Some(Value::Array(items)) => Some(
            items
                .iter()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect(),
        ),
        _ => None,
    };
    let extra: BTreeMap<String, Value> = fields
        .iter()
        .filter(|(k, _)| !KNOWN_FIELDS.contains(&k.as_str()))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();

    Ok(TokenSet::new(access_token, ctx.sent_at, expires_at)
        .with_token_type(token_type)
        .with_expiry_estimated(estimated)
        .with_refresh_token(refresh_token, refresh_expires_at)
        .with_id_token(id_token)
        .with_scopes(scopes)
        .with_extra(extra))
}

/// A positive lifetime in whole seconds from a number, a numeric string or a
/// float; `None` for anything else, zero or negative ("unknown").
pub fn lifetime_seconds(value: &Value) -> Option<i64> {
    let seconds = match value {
        Value::Number(n) => match (n.as_i64(), n.as_u64()) {
            (Some(i), _) => i,
            (None, Some(_)) => i64::MAX,
            (None, None) => float_seconds(n.as_f64()?)?,
        },
        Value::String(s) => {
            let s = s.trim();
            match s.parse::<i64>() {
                Ok(i) => i,
                Err(_) => match s.parse::<u64>() {
                    Ok(_) => i64::MAX,
                    Err(_) => float_seconds(s.parse::<f64>().ok()?)?,
                },
            }
        }
        _ => return None,
    };
    (seconds > 0).then_some(seconds)
}

fn float_seconds(f: f64) -> Option<i64> {
    if !f.is_finite() || f < 1.0 {
        return None;
    }
    // `as` saturates at i64::MAX for huge values.
    Some(f.floor() as i64)
}

/// `from + seconds`, with the lifetime clamped to [`MAX_LIFETIME`] and the
/// sum checked, so no value can overflow or land after what the server said.
pub fn expiry_after(from: OffsetDateTime, seconds: i64) -> OffsetDateTime {
    let lifetime = Duration::seconds(seconds.max(0)).min(MAX_LIFETIME);
    from.checked_add(lifetime).unwrap_or(from)
}

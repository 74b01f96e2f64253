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
//! the HTTP status alone, with one exception learnt from real servers: an
//! OAuth error body with a 5xx status is a server failure (retryable), not a
//! refusal. A field that is present but of the wrong kind (`expires_in` as a
//! word, `token_type` as a number) makes the success malformed; a token of a
//! type this client cannot present is refused, never handed out as Bearer.

use std::collections::BTreeMap;
use std::time::Duration as StdDuration;

use serde_json::{Map, Value};
use time::{Duration, OffsetDateTime};

use crate::error::Error;
use crate::error::config::{ConfigError, ConfigErrorKind};
use crate::error::excerpt::scrub;
use crate::error::protocol::ProtocolError;
use crate::error::refusal::{ErrorCode, Refusal};
use crate::error::transient::{TransientError, TransientKind};
use crate::grant::kind::GrantKind;
use crate::secret::{AccessToken, IdToken, RefreshToken};
use crate::token::binding::{Binding, Scopes};
use crate::token::token_set::MAX_LIFETIME;
use crate::token::token_set::{TokenSet, TokenType};

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
#[derive(Debug, Clone)]
pub struct ParseContext<'a> {
    /// The kind of grant requested, for classifying refusals.
    pub grant: GrantKind,
    /// When the request was sent: lifetimes count from here.
    pub sent_at: OffsetDateTime,
    /// The lifetime assumed when the server gives none.
    pub default_lifetime: Duration,
    /// The endpoint, client and resources the set will be bound to.
    pub binding: Binding,
    /// The scopes requested: the binding's when the response names none.
    pub requested_scopes: &'a [String],
    /// Token types accepted besides Bearer.
    pub accepted_token_types: &'a [TokenType],
    /// The provider's own fields for a refusal's description, read before
    /// [`DESCRIPTION_FIELDS`](crate::error::DESCRIPTION_FIELDS), first one
    /// first.
    pub description_fields: &'a [String],
}

/// Interprets a token endpoint response: a bound [`TokenSet`] on success, a
/// classified [`Error`] otherwise. Never panics, whatever the bytes.
/// A URL that is not a token endpoint is named in the error, so the person
/// reading it knows which setting to fix.
pub fn interpret(response: &ResponseParts<'_>, ctx: &ParseContext<'_>) -> Result<TokenSet, Error> {
    interpret_unnamed(response, ctx).map_err(|error| match error {
        Error::Config(config) if config.kind() == ConfigErrorKind::NotATokenEndpoint => {
            Error::Config(ConfigError::new(
                ConfigErrorKind::NotATokenEndpoint,
                format!(
                    "{} is not a token endpoint: {}",
                    ctx.binding.token_endpoint(),
                    config.message()
                ),
            ))
        }
        other => other,
    })
}

fn interpret_unnamed(
    response: &ResponseParts<'_>,
    ctx: &ParseContext<'_>,
) -> Result<TokenSet, Error> {
    let status = response.status;
    if status == 429 {
        return Err(transient(
            TransientKind::RateLimited { status },
            "the server asked to slow down",
            response,
        ));
    }
    let fields = match decode_body(response) {
        Body::Fields(fields) => fields,
        Body::BrokenJson(reason) => return Err(broken_body(response, reason)),
        Body::Foreign => return Err(foreign(response, excerpt(response))),
    };
    if let Some(error) = fields.get("error").cloned() {
        return Err(refusal(response, ctx, &error, fields));
    }
    if !(200..300).contains(&status) {
        return Err(fields_without_error(response, &fields));
    }
    parse_success(status, fields, ctx)
}

enum Body {
    Fields(Map<String, Value>),
    BrokenJson(&'static str),
    Foreign,
}

fn decode_body(response: &ResponseParts<'_>) -> Body {
    let content_type = response.content_type.unwrap_or("").to_ascii_lowercase();
    let trimmed = response.body.trim_ascii();
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

fn excerpt(response: &ResponseParts<'_>) -> String {
    scrub(&String::from_utf8_lossy(response.body), EXCERPT_CHARS)
}

fn content_type_text(response: &ResponseParts<'_>) -> String {
    response
        .content_type
        .map(|c| scrub(c, 80))
        .unwrap_or_else(|| "none".to_owned())
}

fn transient(
    kind: TransientKind,
    detail: impl Into<String>,
    response: &ResponseParts<'_>,
) -> Error {
    TransientError::new(kind, detail)
        .with_retry_after(response.retry_after)
        .into()
}

/// A body that is not OAuth at all: a server failure when the status says
/// so; a wrong URL when the status says there is no such resource; otherwise
/// a foreign response.
fn foreign(response: &ResponseParts<'_>, excerpt: String) -> Error {
    match response.status {
        status @ 500.. => transient(TransientKind::ServerFailure { status }, excerpt, response),
        status @ (404 | 405 | 410) => Error::Config(ConfigError::new(
            ConfigErrorKind::NotATokenEndpoint,
            format!(
                "it answered {status} with a {} page ({excerpt})",
                content_type_text(response)
            ),
        )),
        status => ProtocolError::NotOAuth {
            status,
            content_type: content_type_text(response),
            excerpt,
        }
        .into(),
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
    foreign(response, excerpt)
}

/// A body that claimed to be JSON and was not. On success statuses it may
/// hold tokens, so no excerpt is given.
fn broken_body(response: &ResponseParts<'_>, reason: &str) -> Error {
    if (200..300).contains(&response.status) {
        ProtocolError::Malformed {
            status: response.status,
            reason: reason.to_owned(),
        }
        .into()
    } else {
        foreign(response, reason.to_owned())
    }
}

fn refusal(
    response: &ResponseParts<'_>,
    ctx: &ParseContext<'_>,
    error: &Value,
    fields: Map<String, Value>,
) -> Error {
    let status = response.status;
    let Some(code) = error.as_str() else {
        return if (200..300).contains(&status) {
            ProtocolError::Malformed {
                status,
                reason: "the `error` field is not a string".to_owned(),
            }
            .into()
        } else {
            foreign(response, "an `error` field that is not a string".to_owned())
        };
    };
    let fields: BTreeMap<String, Value> = fields.into_iter().collect();
    let refusal = Refusal::from_fields(ctx.grant.clone(), code, status, fields);
    // The provider's own fields win over the common names: the last one
    // applied is the first named.
    let refusal = ctx
        .description_fields
        .iter()
        .rev()
        .fold(refusal, |refusal, field| {
            refusal.with_description_from(field)
        });
    let said = || {
        let mut text = format!("OAuth error {}", refusal.code());
        if let Some(d) = refusal.description() {
            text.push_str(&format!(" ({d})"));
        }
        text
    };
    match refusal.code() {
        // The server failed, whatever it calls it: a 5xx is never a refusal.
        _ if status >= 500 => transient(TransientKind::ServerFailure { status }, said(), response),
        ErrorCode::Other(c) if c == "server_error" || c == "temporarily_unavailable" => {
            transient(TransientKind::ServerFailure { status }, said(), response)
        }
        ErrorCode::Other(c) if c == "slow_down" => {
            transient(TransientKind::RateLimited { status }, said(), response)
        }
        _ => Error::Refused(refusal),
    }
}

fn parse_success(
    status: u16,
    mut fields: Map<String, Value>,
    ctx: &ParseContext<'_>,
) -> Result<TokenSet, Error> {
    let malformed =
        |reason: String| -> Error { ProtocolError::Malformed { status, reason }.into() };
    let access_token = match fields.remove("access_token") {
        Some(Value::String(s)) if !s.is_empty() => AccessToken::new(s),
        Some(Value::String(_)) => return Err(malformed("`access_token` is empty".into())),
        Some(_) => return Err(malformed("`access_token` is not a string".into())),
        None => return Err(malformed("no `access_token` in the response".into())),
    };
    let token_type = match fields.get("token_type") {
        None | Some(Value::Null) => TokenType::Bearer,
        Some(Value::String(s)) if s.trim().is_empty() => TokenType::Bearer,
        Some(Value::String(s)) => TokenType::parse(s),
        Some(_) => return Err(malformed("`token_type` is not a string".into())),
    };
    if token_type != TokenType::Bearer && !ctx.accepted_token_types.contains(&token_type) {
        return Err(ProtocolError::UnusableTokenType {
            token_type: scrub(token_type.as_str(), 40),
        }
        .into());
    }
    let mut optional_secret = |name: &str| -> Result<Option<String>, Error> {
        match fields.remove(name) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) if s.is_empty() => Ok(None),
            Some(Value::String(s)) => Ok(Some(s)),
            Some(_) => Err(malformed(format!("`{name}` is not a string"))),
        }
    };
    let refresh_token = optional_secret("refresh_token")?.map(RefreshToken::new);
    let id_token = optional_secret("id_token")?.map(IdToken::new);

    let lifetime = |name: &str| -> Result<Option<i64>, Error> {
        match fields.get(name) {
            None | Some(Value::Null) => Ok(None),
            Some(value) => lifetime_seconds(value)
                .map_err(|()| malformed(format!("`{name}` is not a number of seconds"))),
        }
    };
    let (expires_at, estimated) = match lifetime("expires_in")? {
        Some(seconds) => (expiry_after(ctx.sent_at, seconds), false),
        None => (
            expiry_after(ctx.sent_at, ctx.default_lifetime.whole_seconds()),
            true,
        ),
    };
    let refresh_lifetime = match lifetime("refresh_expires_in")? {
        Some(seconds) => Some(seconds),
        None => lifetime("refresh_token_expires_in")?,
    };
    let refresh_expires_at = refresh_lifetime
        .filter(|_| refresh_token.is_some())
        .map(|seconds| expiry_after(ctx.sent_at, seconds));

    let scopes: Option<Vec<String>> = match fields.get("scope") {
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
    // The set answers the request that was made: the scopes asked for and
    // the scopes granted. A server may grant fewer than asked (RFC 6749
    // §3.3); asking it the same way again gets the same answer, so the set
    // serves that request instead of a new grant on every call. Without
    // `scope` the grant is as requested (§5.1).
    let requested = Scopes::new(ctx.requested_scopes.iter().cloned());
    let answered = match &scopes {
        Some(granted) => Scopes::new(granted.iter().cloned()).union(&requested),
        None => requested,
    };
    let extra: BTreeMap<String, Value> = fields
        .into_iter()
        .filter(|(k, _)| !KNOWN_FIELDS.contains(&k.as_str()))
        .collect();

    Ok(TokenSet::new(access_token, ctx.sent_at, expires_at)
        .with_token_type(token_type)
        .with_expiry_estimated(estimated)
        .with_refresh_token(refresh_token, refresh_expires_at)
        .with_id_token(id_token)
        .with_scopes(scopes)
        .with_binding(ctx.binding.clone().with_scopes(answered))
        .with_extra(extra))
}

/// A lifetime in whole seconds from a number, a numeric string or a float:
/// `Ok(None)` for zero or negative ("unknown"), `Err` for anything that is
/// not a number (a word, a boolean, an object, an array).
pub(crate) fn lifetime_seconds(value: &Value) -> Result<Option<i64>, ()> {
    let seconds = match value {
        Value::Number(n) => match (n.as_i64(), n.as_u64()) {
            (Some(i), _) => i,
            (None, Some(_)) => i64::MAX,
            (None, None) => float_seconds(n.as_f64().ok_or(())?),
        },
        Value::String(s) => {
            let s = s.trim();
            match s.parse::<i64>() {
                Ok(i) => i,
                Err(_) => match s.parse::<u64>() {
                    Ok(_) => i64::MAX,
                    Err(_) => {
                        let f = s.parse::<f64>().map_err(|_| ())?;
                        if f.is_nan() {
                            return Err(());
                        }
                        float_seconds(f)
                    }
                },
            }
        }
        _ => return Err(()),
    };
    Ok((seconds > 0).then_some(seconds))
}

fn float_seconds(f: f64) -> i64 {
    if !f.is_finite() {
        return if f > 0.0 { i64::MAX } else { 0 };
    }
    // `as` saturates at i64::MAX for huge values.
    f.floor() as i64
}

/// `from + seconds`, with the lifetime clamped to [`MAX_LIFETIME`] and the
/// sum checked, so no value can overflow or land after what the server said.
pub(crate) fn expiry_after(from: OffsetDateTime, seconds: i64) -> OffsetDateTime {
    let lifetime = Duration::seconds(seconds.max(0)).min(MAX_LIFETIME);
    from.checked_add(lifetime).unwrap_or(from)
}

//! The server's refusal: an OAuth 2 error response (RFC 6749 §5.2).
//!
//! A refusal keeps everything the server said: the typed [`ErrorCode`], the
//! description (from `error_description` or one of the other fields servers
//! use for it), the URI, the HTTP status and every other field of the body,
//! so an adapter can read a provider's quirks (a `reason` field, a numeric
//! code inside the description) without the core knowing them. Two facts the
//! manager acts on are typed flags, set by the core's defaults and refined by
//! adapters: [`Refusal::is_refresh_token_dead`] and [`Refusal::account_state`].

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;

use serde_json::Value;

use crate::error::account_state::AccountState;
use crate::error::excerpt::scrub;
use crate::grant::kind::GrantKind;

/// An OAuth 2 `error` code (RFC 6749 §5.2, RFC 8628 §3.5, RFC 8707 §2).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorCode {
    /// `invalid_request`
    InvalidRequest,
    /// `invalid_client`
    InvalidClient,
    /// `invalid_grant`
    InvalidGrant,
    /// `unauthorized_client`
    UnauthorizedClient,
    /// `unsupported_grant_type`
    UnsupportedGrantType,
    /// `invalid_scope`
    InvalidScope,
    /// `access_denied`
    AccessDenied,
    /// `invalid_target` (RFC 8707)
    InvalidTarget,
    /// `authorization_pending` (RFC 8628)
    AuthorizationPending,
    /// `expired_token` (RFC 8628)
    ExpiredToken,
    /// `slow_down` (RFC 8628)
    SlowDown,
    /// `unsupported_token_type` (RFC 7009)
    UnsupportedTokenType,
    /// `use_dpop_nonce` (RFC 9449 §8)
    UseDpopNonce,
    /// `invalid_dpop_proof` (RFC 9449 §5)
    InvalidDpopProof,
    /// Any other code, as the server spelt it (scrubbed and cut short).
    Other(String),
}

impl ErrorCode {
    /// Reads an `error` value.
    pub fn parse(code: &str) -> Self {
        match code.trim() {
            "invalid_request" => ErrorCode::InvalidRequest,
            "invalid_client" => ErrorCode::InvalidClient,
            "invalid_grant" => ErrorCode::InvalidGrant,
            "unauthorized_client" => ErrorCode::UnauthorizedClient,
            "unsupported_grant_type" => ErrorCode::UnsupportedGrantType,
            "invalid_scope" => ErrorCode::InvalidScope,
            "access_denied" => ErrorCode::AccessDenied,
            "invalid_target" => ErrorCode::InvalidTarget,
            "authorization_pending" => ErrorCode::AuthorizationPending,
            "expired_token" => ErrorCode::ExpiredToken,
            "slow_down" => ErrorCode::SlowDown,
            "unsupported_token_type" => ErrorCode::UnsupportedTokenType,
            "use_dpop_nonce" => ErrorCode::UseDpopNonce,
            "invalid_dpop_proof" => ErrorCode::InvalidDpopProof,
            other => ErrorCode::Other(scrub(other, 64)),
        }
    }

    /// The code as it goes on the wire.
    pub fn as_str(&self) -> &str {
        match self {
            ErrorCode::Other(code) => code,
            standard => standard.standard().unwrap_or_default(),
        }
    }

    /// The code when it is one of the standard ones, as a `'static` string
    /// (for metric labels, which must come from a fixed set).
    pub fn standard(&self) -> Option<&'static str> {
        Some(match self {
            ErrorCode::InvalidRequest => "invalid_request",
            ErrorCode::InvalidClient => "invalid_client",
            ErrorCode::InvalidGrant => "invalid_grant",
            ErrorCode::UnauthorizedClient => "unauthorized_client",
            ErrorCode::UnsupportedGrantType => "unsupported_grant_type",
            ErrorCode::InvalidScope => "invalid_scope",
            ErrorCode::AccessDenied => "access_denied",
            ErrorCode::InvalidTarget => "invalid_target",
            ErrorCode::AuthorizationPending => "authorization_pending",
            ErrorCode::ExpiredToken => "expired_token",
            ErrorCode::SlowDown => "slow_down",
            ErrorCode::UnsupportedTokenType => "unsupported_token_type",
            ErrorCode::UseDpopNonce => "use_dpop_nonce",
            ErrorCode::InvalidDpopProof => "invalid_dpop_proof",
            ErrorCode::Other(_) => return None,
        })
    }
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The body fields a refusal's description is read from, in the order they
/// are believed: the standard `error_description` first, then the names
/// other servers use. A provider that puts its reason somewhere else names
/// that field with
/// [`TokenEndpointBuilder::description_field`](crate::endpoint::TokenEndpointBuilder::description_field),
/// which is read before these.
pub const DESCRIPTION_FIELDS: &[&str] = &[
    "error_description",
    "error_message",
    "errorMessage",
    "message",
    "detail",
    "error_details",
];

/// What the server said when it refused a token request.
#[derive(Clone, PartialEq)]
pub struct Refusal {
    grant: GrantKind,
    code: ErrorCode,
    description: Option<String>,
    uri: Option<String>,
    status: u16,
    fields: Arc<BTreeMap<String, Value>>,
    refresh_token_dead: bool,
    account_state: Option<AccountState>,
}

impl Refusal {
    /// A refusal of a `grant` request with `code` and HTTP `status`. A
    /// refresh refused with `invalid_grant` counts as a dead refresh token.
    pub fn new(grant: GrantKind, code: ErrorCode, status: u16) -> Self {
        let refresh_token_dead =
            grant == GrantKind::RefreshToken && code == ErrorCode::InvalidGrant;
        Self {
            grant,
            code,
            description: None,
            uri: None,
            status,
            fields: Arc::new(BTreeMap::new()),
            refresh_token_dead,
            account_state: None,
        }
    }

    /// Reads a refusal from the fields of an error body: `error`,
    /// `error_description` (or a common alternative), `error_uri`, and every
    /// other field kept as sent. Text is scrubbed of anything that looks
    /// like a token.
    ///
    /// An `invalid_grant` whose words say the account is locked, disabled
    /// or not fully set up, or an `invalid_grant`, `invalid_client`,
    /// `unauthorized_client` or `access_denied` whose words say the
    /// application is not enabled, is marked with that [`AccountState`],
    /// whichever server sent it, so the manager stops instead of answering a refused
    /// refresh with the stored password (another attempt at a locked
    /// account only extends the lockout). Adapters refine the mark for
    /// their server's own words.
    ///
    /// ```
    /// # use std::collections::BTreeMap;
    /// # use authkit_core::{AccountState, Refusal};
    /// # use authkit_core::grant::GrantKind;
    /// let fields = BTreeMap::from([(
    ///     "error_description".to_string(),
    ///     serde_json::json!("User temporarily disabled"),
    /// )]);
    /// let refusal = Refusal::from_fields(GrantKind::RefreshToken, "invalid_grant", 400, fields);
    /// assert_eq!(refusal.account_state(), Some(AccountState::Locked));
    /// ```
    pub fn from_fields(
        grant: GrantKind,
        code: &str,
        status: u16,
        fields: BTreeMap<String, Value>,
    ) -> Self {
        let text = |name: &str| fields.get(name).and_then(Value::as_str).map(str::to_owned);
        let description = DESCRIPTION_FIELDS.iter().find_map(|name| text(name));
        let mut refusal = Self::new(grant, ErrorCode::parse(code), status);
        refusal.description = description.map(|d| scrub(&d, 300));
        refusal.uri = text("error_uri").map(|u| scrub(&u, 300));
        refusal.fields = Arc::new(fields);
        let stated = AccountState::stated(|phrases| refusal.mentions(phrases));
        refusal.account_state = match refusal.code {
            ErrorCode::InvalidGrant => stated,
            // A disabled or unsubscribed application is refused as the
            // client it is, or as access denied.
            ErrorCode::InvalidClient | ErrorCode::UnauthorizedClient | ErrorCode::AccessDenied => {
                stated.filter(|state| *state == AccountState::ApplicationNotEnabled)
            }
            _ => None,
        };
        refusal
    }

    /// The same refusal under another code: for a classifier whose server
    /// answers with the wrong one (a wrong credential as `invalid_request`,
    /// say), so that everything that decides on the code (retries, the
    /// dead-refresh-token rule, the command's exit status) sees the right
    /// one. Marks made before are kept; a refresh re-coded as
    /// `invalid_grant` counts as a dead refresh token, as [`Refusal::new`]
    /// says, and its words are read for the account's state.
    ///
    /// ```
    /// # use authkit_core::{ErrorCode, Refusal};
    /// # use authkit_core::grant::GrantKind;
    /// let refusal = Refusal::new(GrantKind::Password, ErrorCode::InvalidRequest, 400)
    ///     .with_description("bad account id or key");
    /// let refusal = if refusal.mentions(&["bad account id"]) {
    ///     refusal.with_code(ErrorCode::InvalidGrant)
    /// } else {
    ///     refusal
    /// };
    /// assert_eq!(*refusal.code(), ErrorCode::InvalidGrant);
    /// ```
    pub fn with_code(mut self, code: ErrorCode) -> Self {
        if code == ErrorCode::InvalidGrant {
            if self.grant == GrantKind::RefreshToken {
                self.refresh_token_dead = true;
            }
            if self.account_state.is_none() {
                self.account_state = AccountState::stated(|phrases| self.mentions(phrases));
            }
        }
        self.code = code;
        self
    }

    /// The same refusal under `code` when its words mention any of
    /// `phrases` (as [`Refusal::mentions`] reads them), unchanged
    /// otherwise: a classifier's one line for a server that words a
    /// refusal right and codes it wrong.
    ///
    /// ```
    /// # use authkit_core::{ErrorCode, Refusal};
    /// # use authkit_core::grant::GrantKind;
    /// let classify = |refusal: Refusal| {
    ///     refusal.with_code_when(&["unknown account id"], ErrorCode::InvalidGrant)
    /// };
    /// let wrong_id = Refusal::new(GrantKind::Password, ErrorCode::InvalidRequest, 400)
    ///     .with_description("Unknown account ID");
    /// assert_eq!(*classify(wrong_id).code(), ErrorCode::InvalidGrant);
    /// let malformed = Refusal::new(GrantKind::Password, ErrorCode::InvalidRequest, 400)
    ///     .with_description("missing grant_type");
    /// assert_eq!(*classify(malformed).code(), ErrorCode::InvalidRequest);
    /// ```
    pub fn with_code_when(self, phrases: &[&str], code: ErrorCode) -> Self {
        if self.mentions(phrases) {
            self.with_code(code)
        } else {
            self
        }
    }

    /// The same refusal with its description read from the body's field
    /// `field`, when that field holds text (scrubbed); otherwise unchanged.
    /// The endpoint does this for every field its provider names with
    /// [`TokenEndpointBuilder::description_field`](crate::endpoint::TokenEndpointBuilder::description_field).
    ///
    /// ```
    /// # use std::collections::BTreeMap;
    /// # use authkit_core::Refusal;
    /// # use authkit_core::grant::GrantKind;
    /// let fields = BTreeMap::from([("reason".to_string(), serde_json::json!("unknown account id"))]);
    /// let refusal = Refusal::from_fields(GrantKind::Password, "invalid_request", 400, fields);
    /// assert_eq!(refusal.description(), None, "`reason` is no common name");
    /// let refusal = refusal.with_description_from("reason");
    /// assert_eq!(refusal.description(), Some("unknown account id"));
    /// ```
    pub fn with_description_from(self, field: &str) -> Self {
        match self.field_text(field).map(str::to_owned) {
            Some(text) => self.with_description(text),
            None => self,
        }
    }

    /// The same refusal with a description (scrubbed).
    pub fn with_description(mut self, description: impl AsRef<str>) -> Self {
        self.description = Some(scrub(description.as_ref(), 300));
        self
    }

    /// The same refusal, marked as saying that the refresh token is dead (or
    /// not): for adapters whose server says so in its own words.
    pub fn with_refresh_token_dead(mut self, dead: bool) -> Self {
        self.refresh_token_dead = dead;
        self
    }

    /// The same refusal, marked as a terminal state of the account: the
    /// manager then stops instead of trying another grant.
    pub fn with_account_state(mut self, state: AccountState) -> Self {
        self.account_state = Some(state);
        self
    }

    /// The kind of grant that was refused.
    pub fn grant(&self) -> &GrantKind {
        &self.grant
    }

    /// The `error` code.
    pub fn code(&self) -> &ErrorCode {
        &self.code
    }

    /// The reason in words, from `error_description` or the field the
    /// server used instead, when it sent one.
    pub fn description(&self) -> Option<&str> {
        self.description.as_deref()
    }

    /// The `error_uri`, when the server sent one.
    pub fn uri(&self) -> Option<&str> {
        self.uri.as_deref()
    }

    /// The HTTP status it came with (Keycloak sends `invalid_grant` as 400 or
    /// 401 depending on its release, so do not branch on it).
    pub fn status(&self) -> u16 {
        self.status
    }

    /// Every field of the error body, as sent: for adapters that read a
    /// provider's own fields.
    pub fn fields(&self) -> &BTreeMap<String, Value> {
        &self.fields
    }

    /// One field of the error body as text, when it is a string.
    pub fn field_text(&self, name: &str) -> Option<&str> {
        self.fields.get(name).and_then(Value::as_str)
    }

    /// Whether the server's words mention any of `phrases`, ignoring case:
    /// the description, or any other text field of the body (servers that
    /// put their reason in a field of their own are read the same way).
    /// The opening of most refusal classifiers:
    ///
    /// ```
    /// # use authkit_core::*;
    /// # use authkit_core::grant::GrantKind;
    /// let refusal = Refusal::new(GrantKind::RefreshToken, ErrorCode::InvalidGrant, 400)
    ///     .with_description("Session not active");
    /// assert!(refusal.mentions(&["token is not active", "session not active"]));
    /// assert!(!refusal.mentions(&["account disabled"]));
    /// ```
    pub fn mentions(&self, phrases: &[&str]) -> bool {
        let texts = self
            .description
            .iter()
            .map(String::as_str)
            .chain(self.fields.values().filter_map(Value::as_str));
        let lowered: Vec<String> = texts.map(str::to_ascii_lowercase).collect();
        phrases.iter().any(|phrase| {
            let phrase = phrase.to_ascii_lowercase();
            lowered.iter().any(|text| text.contains(&phrase))
        })
    }

    /// Whether the refusal says the refresh token is dead (expired, spent,
    /// revoked): it must not be sent again.
    pub fn is_refresh_token_dead(&self) -> bool {
        self.refresh_token_dead
    }

    /// The terminal state of the account the refusal reports, if any.
    pub fn account_state(&self) -> Option<AccountState> {
        self.account_state
    }
}

impl fmt::Debug for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Field values may echo what was sent: only their names are shown.
        f.debug_struct("Refusal")
            .field("grant", &self.grant)
            .field("code", &self.code)
            .field("description", &self.description)
            .field("uri", &self.uri)
            .field("status", &self.status)
            .field("fields", &self.fields.keys().collect::<Vec<_>>())
            .field("refresh_token_dead", &self.refresh_token_dead)
            .field("account_state", &self.account_state)
            .finish()
    }
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "the authorization server refused the {} request: {}",
            self.grant, self.code
        )?;
        if let Some(d) = &self.description {
            write!(f, " ({d})")?;
        }
        write!(f, " [HTTP {}]", self.status)?;
        if let Some(state) = self.account_state {
            write!(f, "; {state}")?;
        }
        Ok(())
    }
}

impl std::error::Error for Refusal {}

//! The token set: the tokens one response granted, with their lifetimes.

use std::collections::BTreeMap;
use std::fmt;

use time::{Duration, OffsetDateTime};

use crate::dpop::DpopKey;
use crate::secret::{AccessToken, IdToken, RefreshToken};
use crate::token::binding::{Binding, Scopes};

/// The `token_type` of a token response, compared case-insensitively
/// (RFC 6749 §5.1).
#[derive(Debug, Clone, Eq)]
#[non_exhaustive]
pub enum TokenType {
    /// RFC 6750 bearer tokens, the default when a server omits the field.
    Bearer,
    /// RFC 9449 DPoP-bound tokens.
    DPoP,
    /// Any other type (`mac`, `N_A`), kept as the server spelt it.
    Other(String),
}

impl TokenType {
    /// Parses a `token_type` value; `bearer` and `dpop` in any case are
    /// [`TokenType::Bearer`] and [`TokenType::DPoP`].
    pub fn parse(value: &str) -> Self {
        let value = value.trim();
        if value.eq_ignore_ascii_case("bearer") {
            TokenType::Bearer
        } else if value.eq_ignore_ascii_case("dpop") {
            TokenType::DPoP
        } else {
            TokenType::Other(value.to_owned())
        }
    }

    /// The scheme to use in an `Authorization` header.
    pub fn as_str(&self) -> &str {
        match self {
            TokenType::Bearer => "Bearer",
            TokenType::DPoP => "DPoP",
            TokenType::Other(s) => s,
        }
    }
}

impl PartialEq for TokenType {
    fn eq(&self, other: &Self) -> bool {
        match (self, other) {
            (TokenType::Bearer, TokenType::Bearer) | (TokenType::DPoP, TokenType::DPoP) => true,
            (TokenType::Other(a), TokenType::Other(b)) => a.eq_ignore_ascii_case(b),
            _ => false,
        }
    }
}

impl std::hash::Hash for TokenType {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.as_str().to_ascii_lowercase().hash(state);
    }
}

impl fmt::Display for TokenType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// No lifetime longer than this (ten years) is believed; larger values are clamped.
pub const MAX_LIFETIME: Duration = Duration::seconds(10 * 365 * 24 * 3600);

/// The tokens one token response granted, with their lifetimes.
#[derive(Clone)]
pub struct TokenSet {
    pub(super) access_token: AccessToken,
    pub(super) token_type: TokenType,
    pub(super) issued_at: OffsetDateTime,
    pub(super) expires_at: OffsetDateTime,
    pub(super) expiry_estimated: bool,
    pub(super) refresh_token: Option<RefreshToken>,
    pub(super) refresh_expires_at: Option<OffsetDateTime>,
    pub(super) id_token: Option<IdToken>,
    pub(super) scopes: Option<Vec<String>>,
    pub(super) binding: Option<Binding>,
    pub(super) dpop_key: Option<DpopKey>,
    pub(super) extra: BTreeMap<String, serde_json::Value>,
}

impl TokenSet {
    /// A bearer token set issued at `issued_at` that expires at `expires_at`.
    pub fn new(
        access_token: AccessToken,
        issued_at: OffsetDateTime,
        expires_at: OffsetDateTime,
    ) -> Self {
        Self {
            access_token,
            token_type: TokenType::Bearer,
            issued_at,
            expires_at,
            expiry_estimated: false,
            refresh_token: None,
            refresh_expires_at: None,
            id_token: None,
            scopes: None,
            binding: None,
            dpop_key: None,
            extra: BTreeMap::new(),
        }
    }

    /// A bearer token set issued at `issued_at` that lives for `lifetime`
    /// (clamped to ten years).
    pub fn expiring_in(
        access_token: AccessToken,
        issued_at: OffsetDateTime,
        lifetime: std::time::Duration,
    ) -> Self {
        let lifetime = time::Duration::try_from(lifetime)
            .unwrap_or(MAX_LIFETIME)
            .min(MAX_LIFETIME);
        let expires_at = issued_at.checked_add(lifetime).unwrap_or(issued_at);
        Self::new(access_token, issued_at, expires_at)
    }

    /// Records where the set came from (see [`Binding`]).
    pub fn with_binding(mut self, binding: Binding) -> Self {
        self.binding = Some(binding);
        self
    }

    /// Sets the token type.
    pub fn with_token_type(mut self, token_type: TokenType) -> Self {
        self.token_type = token_type;
        self
    }

    /// Marks the expiry as estimated: the server did not say, and a default
    /// lifetime was assumed.
    pub fn with_expiry_estimated(mut self, estimated: bool) -> Self {
        self.expiry_estimated = estimated;
        self
    }

    /// Sets the refresh token and its expiry (`None`: not known).
    pub fn with_refresh_token(
        mut self,
        refresh_token: Option<RefreshToken>,
        expires_at: Option<OffsetDateTime>,
    ) -> Self {
        self.refresh_token = refresh_token;
        self.refresh_expires_at = expires_at;
        self
    }

    /// Sets the id token.
    pub fn with_id_token(mut self, id_token: Option<IdToken>) -> Self {
        self.id_token = id_token;
        self
    }

    /// Sets the granted scopes (`None`: the server did not say).
    pub fn with_scopes(mut self, scopes: Option<Vec<String>>) -> Self {
        self.scopes = scopes;
        self
    }

    /// Sets the response fields this model has no place for.
    pub fn with_extra(mut self, extra: BTreeMap<String, serde_json::Value>) -> Self {
        self.extra = extra;
        self
    }

    /// The access token.
    pub fn access_token(&self) -> &AccessToken {
        &self.access_token
    }

    /// The token type (`Bearer` unless the server said otherwise).
    pub fn token_type(&self) -> &TokenType {
        &self.token_type
    }

    /// When the request that obtained this set was sent.
    pub fn issued_at(&self) -> OffsetDateTime {
        self.issued_at
    }

    /// When the access token expires.
    pub fn expires_at(&self) -> OffsetDateTime {
        self.expires_at
    }

    /// Whether [`TokenSet::expires_at`] is an estimate (the server sent no
    /// usable `expires_in`).
    pub fn expiry_estimated(&self) -> bool {
        self.expiry_estimated
    }

    /// The refresh token, when there is one.
    pub fn refresh_token(&self) -> Option<&RefreshToken> {
        self.refresh_token.as_ref()
    }

    /// When the refresh token expires, when known.
    pub fn refresh_expires_at(&self) -> Option<OffsetDateTime> {
        self.refresh_expires_at
    }

    /// Whether there is a refresh token that is not known to have expired at `now`.
    pub fn has_usable_refresh_token(&self, now: OffsetDateTime) -> bool {
        self.refresh_token.is_some() && self.refresh_expires_at.is_none_or(|at| now < at)
    }

    /// The OpenID Connect id token, when there is one.
    pub fn id_token(&self) -> Option<&IdToken> {
        self.id_token.as_ref()
    }

    /// The granted scopes, when the server said.
    pub fn scopes(&self) -> Option<&[String]> {
        self.scopes.as_deref()
    }

    /// The server, client, resources and scopes the set belongs to; `None`
    /// for a set built by hand or written by authkit 0.1.
    pub fn binding(&self) -> Option<&Binding> {
        self.binding.as_ref()
    }

    /// The DPoP key the tokens are bound to (RFC 9449), if they are.
    pub fn dpop_key(&self) -> Option<&DpopKey> {
        self.dpop_key.as_ref()
    }

    /// The same set bound to `key`: its refreshes and API calls carry proofs
    /// signed with it.
    pub fn with_dpop_key(mut self, key: Option<DpopKey>) -> Self {
        self.dpop_key = key;
        self
    }

    /// Every response field this model has no place for, as sent: a
    /// provider's own fields (Keycloak's `session_state`, an API manager's
    /// account id). A program reads them through the manager with
    /// [`crate::TokenManager::token_set`], which returns the current valid
    /// set:
    ///
    /// ```no_run
    /// # async fn run(manager: authkit_core::TokenManager) -> Result<(), authkit_core::Error> {
    /// let set = manager.token_set().await?;
    /// let session = set.extra().get("session_state").and_then(|v| v.as_str());
    /// # let _ = session;
    /// # Ok(())
    /// # }
    /// ```
    pub fn extra(&self) -> &BTreeMap<String, serde_json::Value> {
        &self.extra
    }

    /// Drops the refresh token (after the server refused it).
    pub fn without_refresh_token(mut self) -> Self {
        self.refresh_token = None;
        self.refresh_expires_at = None;
        self
    }

    /// Applies RFC 6749 §6: a refresh response without a `refresh_token` keeps
    /// the previous one (with its expiry). Returns the merged set.
    pub fn inherit_refresh_token(mut self, previous: &TokenSet) -> Self {
        if self.refresh_token.is_none() {
            self.refresh_token = previous.refresh_token.clone();
            self.refresh_expires_at = previous.refresh_expires_at;
        }
        if self.id_token.is_none() {
            self.id_token = previous.id_token.clone();
        }
        if self.dpop_key.is_none() {
            self.dpop_key = previous.dpop_key.clone();
        }
        // A refresh response without `scope` was granted the same scopes
        // as before (RFC 6749 §5.1).
        if self.scopes.is_none()
            && let (Some(binding), Some(before)) = (self.binding.take(), previous.binding())
        {
            self.binding = Some(binding.with_scopes(before.scopes().clone()));
        }
        self
    }

    /// The scopes the set was granted, as a set: the response's `scope`
    /// when the server sent one, otherwise the binding's (a grant as
    /// requested, RFC 6749 §5.1). The binding can name more: it names the
    /// request the set answers, and a server may grant less than asked.
    pub fn granted_scopes(&self) -> Scopes {
        match (&self.scopes, &self.binding) {
            (Some(scopes), _) => Scopes::new(scopes.iter().cloned()),
            (None, Some(binding)) => binding.scopes().clone(),
            (None, None) => Scopes::default(),
        }
    }
}

impl fmt::Debug for TokenSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenSet")
            .field("access_token", &self.access_token)
            .field("token_type", &self.token_type)
            .field("issued_at", &self.issued_at)
            .field("expires_at", &self.expires_at)
            .field("expiry_estimated", &self.expiry_estimated)
            .field("refresh_token", &self.refresh_token)
            .field("refresh_expires_at", &self.refresh_expires_at)
            .field("id_token", &self.id_token)
            .field("scopes", &self.scopes)
            .field("binding", &self.binding)
            .field("dpop_key", &self.dpop_key)
            .field("extra_fields", &self.extra.keys().collect::<Vec<_>>())
            .finish()
    }
}

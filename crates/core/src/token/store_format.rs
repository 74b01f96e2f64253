//! The versioned format in which stores write token sets.
//!
//! Stores outlive the program that wrote them, so the format carries an
//! explicit version: a build reads the versions it knows and refuses the
//! others with [`StoreFormatError::UnsupportedVersion`], instead of guessing.
//! Instants are RFC 3339 strings so that a person reading the file can tell
//! what it says. This is the only place where secrets are turned into plain
//! strings for writing, and the only place they are read back.

use std::collections::BTreeMap;

use secrecy::ExposeSecret;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::error::store_format::StoreFormatError;
use crate::secret::{AccessToken, ClientId, IdToken, RefreshToken};
use crate::token::binding::{Binding, Scopes};
use crate::token::token_set::{TokenSet, TokenType};

/// The store format version this build writes, and the newest it reads.
pub const STORE_FORMAT_VERSION: u32 = 2;

#[derive(Deserialize)]
struct VersionProbe {
    version: Option<u64>,
}

/// Version 1 is version 2 without `binding`; one struct reads both.
#[derive(Serialize, Deserialize)]
struct StoredTokenSet {
    version: u32,
    access_token: String,
    token_type: String,
    #[serde(with = "time::serde::rfc3339")]
    issued_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    expires_at: OffsetDateTime,
    #[serde(default)]
    expiry_estimated: bool,
    #[serde(default)]
    refresh_token: Option<String>,
    #[serde(default, with = "time::serde::rfc3339::option")]
    refresh_expires_at: Option<OffsetDateTime>,
    #[serde(default)]
    id_token: Option<String>,
    #[serde(default)]
    scopes: Option<Vec<String>>,
    #[serde(default)]
    binding: Option<StoredBinding>,
    /// The DPoP key the tokens are bound to (RFC 9449), its private scalar
    /// in base64url: stored with them so they are kept and lost together.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    dpop_key: Option<String>,
    #[serde(default)]
    extra: BTreeMap<String, serde_json::Value>,
}

#[derive(Serialize, Deserialize)]
struct StoredBinding {
    token_endpoint: String,
    client_id: String,
    #[serde(default)]
    resources: Vec<String>,
    #[serde(default)]
    scopes: Vec<String>,
}

impl StoredBinding {
    fn of(binding: &Binding) -> Self {
        Self {
            token_endpoint: binding.token_endpoint().to_owned(),
            client_id: binding.client_id().as_str().to_owned(),
            resources: binding.resources().map(str::to_owned).collect(),
            scopes: binding.scopes().iter().map(str::to_owned).collect(),
        }
    }

    fn into_binding(self) -> Result<Binding, StoreFormatError> {
        let url = url::Url::parse(&self.token_endpoint).map_err(|_| {
            StoreFormatError::Malformed("the binding's endpoint is not a URL".into())
        })?;
        Ok(Binding::new(&url, ClientId::new(self.client_id))
            .with_resources(self.resources)
            .with_scopes(Scopes::new(self.scopes)))
    }
}

impl TokenSet {
    /// Encodes the set, secrets included, in the current store format. For
    /// stores only: the bytes hold live credentials.
    pub fn to_store_bytes(&self) -> secrecy::SecretSlice<u8> {
        let stored = StoredTokenSet {
            version: STORE_FORMAT_VERSION,
            access_token: self.access_token.expose_secret().to_owned(),
            token_type: self.token_type.as_str().to_owned(),
            issued_at: self.issued_at,
            expires_at: self.expires_at,
            expiry_estimated: self.expiry_estimated,
            refresh_token: self
                .refresh_token
                .as_ref()
                .map(|t| t.expose_secret().to_owned()),
            refresh_expires_at: self.refresh_expires_at,
            id_token: self.id_token.as_ref().map(|t| t.expose_secret().to_owned()),
            scopes: self.scopes.clone(),
            binding: self.binding.as_ref().map(StoredBinding::of),
            dpop_key: self
                .dpop_key
                .as_ref()
                .map(|k| k.secret_bytes().expose_secret().to_owned()),
            extra: self.extra.clone(),
        };
        // Serializing plain strings, numbers and JSON values into memory cannot fail.
        serde_json::to_vec_pretty(&stored)
            .unwrap_or_default()
            .into()
    }

    /// Decodes bytes written by [`TokenSet::to_store_bytes`] in any version
    /// this build knows.
    pub fn from_store_bytes(bytes: &[u8]) -> Result<TokenSet, StoreFormatError> {
        let probe: VersionProbe = serde_json::from_slice(bytes).map_err(describe)?;
        match probe.version {
            Some(1 | 2) => {}
            Some(found) => {
                return Err(StoreFormatError::UnsupportedVersion {
                    found,
                    supported: STORE_FORMAT_VERSION,
                });
            }
            None => return Err(StoreFormatError::Malformed("no format version".into())),
        }
        let stored: StoredTokenSet = serde_json::from_slice(bytes).map_err(describe)?;
        if stored.access_token.is_empty() {
            return Err(StoreFormatError::Malformed("empty access token".into()));
        }
        Ok(TokenSet {
            access_token: AccessToken::new(stored.access_token),
            token_type: TokenType::parse(&stored.token_type),
            issued_at: stored.issued_at,
            expires_at: stored.expires_at,
            expiry_estimated: stored.expiry_estimated,
            refresh_token: stored.refresh_token.map(RefreshToken::new),
            refresh_expires_at: stored.refresh_expires_at,
            id_token: stored.id_token.map(IdToken::new),
            scopes: stored.scopes,
            binding: stored
                .binding
                .map(StoredBinding::into_binding)
                .transpose()?,
            dpop_key: stored
                .dpop_key
                .map(|k| {
                    crate::dpop::DpopKey::from_stored(&k).map_err(|_| {
                        StoreFormatError::Malformed("the DPoP key is not a key".into())
                    })
                })
                .transpose()?,
            extra: stored.extra,
        })
    }
}

/// Describes a JSON error by its category and position only: serde's own
/// message can quote the offending value, which may be a token.
fn describe(err: serde_json::Error) -> StoreFormatError {
    let category = match err.classify() {
        serde_json::error::Category::Io => "I/O error",
        serde_json::error::Category::Syntax => "invalid JSON",
        serde_json::error::Category::Data => "unexpected field type or missing field",
        serde_json::error::Category::Eof => "truncated JSON",
    };
    StoreFormatError::Malformed(format!(
        "{category} at line {} column {}",
        err.line(),
        err.column()
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    fn sample() -> TokenSet {
        let mut extra = BTreeMap::new();
        extra.insert("session_state".to_owned(), serde_json::json!("fbf59841"));
        TokenSet::new(
            AccessToken::new("at-1"),
            datetime!(2026-01-01 00:00 UTC),
            datetime!(2026-01-01 01:00 UTC),
        )
        .with_refresh_token(
            Some(RefreshToken::new("rt-1")),
            Some(datetime!(2026-01-02 00:00 UTC)),
        )
        .with_id_token(Some(IdToken::new("id-1")))
        .with_scopes(Some(vec!["openid".into()]))
        .with_binding(
            Binding::new(
                &url::Url::parse("https://auth.example.com/token").unwrap(),
                ClientId::new("api"),
            )
            .with_scopes(Scopes::parse("openid")),
        )
        .with_extra(extra)
    }

    #[test]
    fn round_trips_every_field() {
        let bytes = sample().to_store_bytes();
        let back = TokenSet::from_store_bytes(bytes.expose_secret()).expect("decodes");
        assert_eq!(back.access_token().expose_secret(), "at-1");
        assert_eq!(
            back.refresh_token().map(|t| t.expose_secret()),
            Some("rt-1")
        );
        assert_eq!(back.id_token().map(|t| t.expose_secret()), Some("id-1"));
        assert_eq!(back.expires_at(), datetime!(2026-01-01 01:00 UTC));
        assert_eq!(
            back.refresh_expires_at(),
            Some(datetime!(2026-01-02 00:00 UTC))
        );
        assert_eq!(back.scopes(), Some(&["openid".to_owned()][..]));
        assert_eq!(back.extra()["session_state"], "fbf59841");
        assert_eq!(back.binding(), sample().binding());
    }

    #[test]
    fn version_1_sets_are_read_without_a_binding() {
        let v1 = br#"{"version": 1, "access_token": "at", "token_type": "Bearer",
            "issued_at": "2026-01-01T00:00:00Z", "expires_at": "2026-01-01T01:00:00Z",
            "refresh_token": "rt"}"#;
        let set = TokenSet::from_store_bytes(v1).expect("v1 still reads");
        assert!(set.binding().is_none());
        assert_eq!(set.refresh_token().map(|t| t.expose_secret()), Some("rt"));
    }

    #[test]
    fn unknown_version_is_refused() {
        let err =
            TokenSet::from_store_bytes(br#"{"version": 99, "access_token": "x"}"#).unwrap_err();
        assert_eq!(
            err,
            StoreFormatError::UnsupportedVersion {
                found: 99,
                supported: 2
            }
        );
    }

    #[test]
    fn decode_errors_never_quote_the_data() {
        let bytes = br#"{"version": 1, "access_token": "secret-at-123", "token_type": 5}"#;
        let err = TokenSet::from_store_bytes(bytes).unwrap_err();
        assert!(!err.to_string().contains("secret-at-123"), "{err}");
        let garbage = TokenSet::from_store_bytes(b"\"secret-at-123").unwrap_err();
        assert!(!garbage.to_string().contains("secret-at-123"));
    }
}

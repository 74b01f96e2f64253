//! Grants: the ways of asking a token endpoint for tokens (RFC 6749 §4, §6).
//!
//! A grant knows two things: its `grant_type` value and the form parameters it
//! adds to the request. Everything else (client authentication, encoding,
//! retries, parsing) belongs to the [`crate::TokenEndpoint`], so a contributor
//! adds a new grant (token exchange, device code) by implementing
//! [`GrantType`] in their own crate, without touching this one.
//!
//! Parameter values that are secrets travel as [`FormValue::Secret`], so a
//! grant can be logged or debugged without leaking what it carries.

pub(crate) mod authorization_code;
pub(crate) mod client_credentials;
pub(crate) mod device_code;
pub(crate) mod extension;
pub(crate) mod grant_type;
pub(crate) mod jwt_bearer;
pub(crate) mod kind;
pub(crate) mod password;
pub(crate) mod pkce;
pub(crate) mod refresh;
pub(crate) mod token_exchange;
pub use authorization_code::AuthorizationCodeGrant;
pub use client_credentials::ClientCredentialsGrant;
pub use device_code::DeviceCodeGrant;
pub use extension::ExtensionGrant;
pub use jwt_bearer::JwtBearerGrant;
pub use kind::GrantKind;
pub use password::PasswordGrant;
pub use pkce::{PkceChallenge, PkceVerifier, State};
pub use refresh::RefreshTokenGrant;
pub use token_exchange::{TokenExchangeGrant, token_types};

pub use grant_type::{FormParam, FormValue, GrantType, resource_params, scope_param};

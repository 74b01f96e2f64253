//! The kinds of grant, as types.

use std::fmt;

/// Which grant a request used: what the manager and adapters decide on,
/// instead of comparing `grant_type` strings.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum GrantKind {
    /// `password` (RFC 6749 §4.3).
    Password,
    /// `authorization_code` (RFC 6749 §4.1).
    AuthorizationCode,
    /// `refresh_token` (RFC 6749 §6).
    RefreshToken,
    /// `client_credentials` (RFC 6749 §4.4).
    ClientCredentials,
    /// `urn:ietf:params:oauth:grant-type:device_code` (RFC 8628).
    DeviceCode,
    /// `urn:ietf:params:oauth:grant-type:token-exchange` (RFC 8693).
    TokenExchange,
    /// `urn:ietf:params:oauth:grant-type:jwt-bearer` (RFC 7523).
    JwtBearer,
    /// Any other `grant_type`, as spelt.
    Other(String),
}

impl GrantKind {
    /// The kind of a `grant_type` value.
    pub fn from_grant_type(grant_type: &str) -> Self {
        match grant_type {
            "password" => GrantKind::Password,
            "authorization_code" => GrantKind::AuthorizationCode,
            "refresh_token" => GrantKind::RefreshToken,
            "client_credentials" => GrantKind::ClientCredentials,
            "urn:ietf:params:oauth:grant-type:device_code" => GrantKind::DeviceCode,
            "urn:ietf:params:oauth:grant-type:token-exchange" => GrantKind::TokenExchange,
            "urn:ietf:params:oauth:grant-type:jwt-bearer" => GrantKind::JwtBearer,
            other => GrantKind::Other(other.to_owned()),
        }
    }

    /// The `grant_type` value.
    pub fn as_str(&self) -> &str {
        match self {
            GrantKind::Password => "password",
            GrantKind::AuthorizationCode => "authorization_code",
            GrantKind::RefreshToken => "refresh_token",
            GrantKind::ClientCredentials => "client_credentials",
            GrantKind::DeviceCode => "urn:ietf:params:oauth:grant-type:device_code",
            GrantKind::TokenExchange => "urn:ietf:params:oauth:grant-type:token-exchange",
            GrantKind::JwtBearer => "urn:ietf:params:oauth:grant-type:jwt-bearer",
            GrantKind::Other(s) => s,
        }
    }
}

impl fmt::Display for GrantKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

//! Newtypes for every secret and every identifier that crosses the crate.
//!
//! A password, a client secret, an access, refresh or id token, an
//! authorization code and a PKCE verifier each get their own type, so that a
//! function signature says which one it wants and a refresh token cannot be
//! passed where an access token was meant. Secrets live in
//! [`secrecy::SecretString`], which zeroizes its memory on drop and prints
//! `[REDACTED]` in `Debug`; the value is reached only through
//! [`ExposeSecret`], which makes every place that reads it easy to find.
//!
//! Secrets are reference counted, so handing a token to many callers costs an
//! atomic increment instead of an allocation and a copy.
//!
//! Identifiers ([`ClientId`], [`Username`], [`AccountKey`]) are not secret and
//! print as they are.

use std::fmt;
use std::sync::Arc;

pub use secrecy::ExposeSecret;
pub use secrecy::SecretString;

macro_rules! secret_newtype {
    ($(#[$meta:meta])* $name:ident) => {
        $(#[$meta])*
        #[derive(Clone)]
        pub struct $name(Arc<SecretString>);

        impl $name {
            /// Wraps a secret value. The string is moved, not copied.
            pub fn new(value: impl Into<String>) -> Self {
                Self(Arc::new(SecretString::from(value.into())))
            }

            /// A copy that shares nothing with this one (no reference count),
            /// so threads holding copies never touch the same cache line.
            pub fn deep_copy(&self) -> Self {
                Self::new(self.0.expose_secret())
            }

            /// Whether two secrets hold the same value, without exposing either.
            pub fn same_secret(&self, other: &Self) -> bool {
                Arc::ptr_eq(&self.0, &other.0)
                    || self.0.expose_secret() == other.0.expose_secret()
            }
        }

        impl ExposeSecret<str> for $name {
            fn expose_secret(&self) -> &str {
                self.0.expose_secret()
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, concat!(stringify!($name), "([REDACTED])"))
            }
        }

        impl From<String> for $name {
            fn from(value: String) -> Self {
                Self::new(value)
            }
        }

        impl From<&str> for $name {
            fn from(value: &str) -> Self {
                Self::new(value)
            }
        }
    };
}

secret_newtype!(
    /// The bearer credential an API accepts: what `TokenManager::access_token` hands out.
    AccessToken
);
secret_newtype!(
    /// A long-lived credential that buys new access tokens; some servers spend it on use.
    RefreshToken
);
secret_newtype!(
    /// An OpenID Connect id token, kept as the server sent it.
    IdToken
);
secret_newtype!(
    /// A resource owner's password, for the password grant.
    Password
);
secret_newtype!(
    /// A confidential client's secret.
    ClientSecret
);
secret_newtype!(
    /// A single-use authorization code from the authorization endpoint's redirect.
    AuthorizationCode
);
secret_newtype!(
    /// The device code of a device authorization (RFC 8628 §3.2): it stays
    /// with the client, which polls with it.
    DeviceCode
);
secret_newtype!(
    /// A security token presented to the token endpoint (RFC 8693 §1): the
    /// subject or actor token of a token exchange, or the signed JWT of a
    /// JWT bearer grant.
    SecurityToken
);

impl AccessToken {
    /// The `Authorization: Bearer <token>` header value, marked sensitive so
    /// that HTTP clients and their logs treat it as a secret.
    ///
    /// ```
    /// # let token = authkit_core::AccessToken::new("abc");
    /// use reqwest::header::{AUTHORIZATION, HeaderMap};
    ///
    /// let mut headers = HeaderMap::new();
    /// headers.insert(AUTHORIZATION, token.bearer_header());
    /// assert!(headers[AUTHORIZATION].is_sensitive());
    /// ```
    pub fn bearer_header(&self) -> reqwest::header::HeaderValue {
        self.header_with_scheme("Bearer")
    }

    /// The `Authorization` header value `<scheme> <token>`, marked sensitive.
    /// A token that cannot be a header value (a control character) gives an
    /// empty value, which servers refuse as a missing credential.
    pub fn header_with_scheme(&self, scheme: &str) -> reqwest::header::HeaderValue {
        let mut value =
            reqwest::header::HeaderValue::from_str(&format!("{scheme} {}", self.expose_secret()))
                .unwrap_or_else(|_| reqwest::header::HeaderValue::from_static(""));
        value.set_sensitive(true);
        value
    }
}

macro_rules! identifier_newtype {
    ($(#[$meta:meta])* $name:ident) => {
        $(#[$meta])*
        #[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name(String);

        impl $name {
            /// Wraps an identifier.
            pub fn new(value: impl Into<String>) -> Self {
                Self(value.into())
            }

            /// The identifier as a string.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, concat!(stringify!($name), "({:?})"), self.0)
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl From<String> for $name {
            fn from(value: String) -> Self {
                Self(value)
            }
        }

        impl From<&str> for $name {
            fn from(value: &str) -> Self {
                Self(value.to_owned())
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }
    };
}

identifier_newtype!(
    /// The OAuth client's identifier (`client_id`), public by definition.
    ClientId
);
identifier_newtype!(
    /// A resource owner's user name, for the password grant.
    Username
);
identifier_newtype!(
    /// The stable name of one account at one provider, such as
    /// `voipex:alice@example.com`: the key under which stores keep its tokens.
    AccountKey
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_never_shows_the_secret() {
        let token = RefreshToken::new("rt-very-secret");
        assert_eq!(format!("{token:?}"), "RefreshToken([REDACTED])");
        assert_eq!(token.expose_secret(), "rt-very-secret");
    }

    #[test]
    fn same_secret_compares_values() {
        let a = AccessToken::new("x");
        assert!(a.same_secret(&a.clone()));
        assert!(a.same_secret(&AccessToken::new("x")));
        assert!(!a.same_secret(&AccessToken::new("y")));
    }
}

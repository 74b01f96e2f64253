//! The core of authkit: OAuth 2 access tokens for API clients, kept valid.
//!
//! This crate defines what every provider, grant and store must do, and the
//! machinery they share:
//!
//! - [`GrantType`]: one way of asking a token endpoint for tokens; the core
//!   ships [`PasswordGrant`], [`AuthorizationCodeGrant`] (with PKCE),
//!   [`RefreshTokenGrant`] and [`ClientCredentialsGrant`].
//! - [`TokenProvider`]: one account at one provider, which can authenticate
//!   and refresh; [`GenericProvider`] serves any standard OAuth 2 server.
//! - [`TokenStore`]: where token sets live between calls and processes, with
//!   an exclusive [`StoreLock`] per account; [`MemoryStore`] lives in memory.
//! - [`TokenEndpoint`]: the one place token requests are made, with the wire
//!   rules (TLS, redirects, limits, retries, tolerant parsing) written once.
//! - [`TokenManager`]: hands out access tokens, refreshing once for any
//!   number of callers and never losing a rotated refresh token.
//!
//! Secrets ([`AccessToken`], [`RefreshToken`], [`Password`], ...) are
//! `secrecy` types: their `Debug` is redacted, and no error or log line
//! contains them.
//!
//! ```no_run
//! use authkit_core::{
//!     ClientAuth, GenericProvider, MemoryStore, Password, PasswordGrant, TokenEndpoint,
//!     TokenManager,
//! };
//!
//! # async fn run() -> Result<(), authkit_core::Error> {
//! let endpoint = TokenEndpoint::builder("https://auth.example.com/token")
//!     .client_auth(ClientAuth::public("api"))
//!     .build()?;
//! let provider = GenericProvider::new("example:alice", endpoint)
//!     .with_grant(PasswordGrant::new("alice", Password::new("correct horse")));
//! let manager = TokenManager::new(provider, MemoryStore::new());
//! let token = manager.access_token().await?;
//! # let _ = token;
//! # Ok(())
//! # }
//! ```

#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod authorization;
mod binding;
mod client_auth;
mod clock;
mod device;
mod discovery;
mod dpop;
mod endpoint;
mod error;
mod excerpt;
mod grant;
mod introspection;
mod loopback;
mod manager;
mod provider;
mod revocation;
mod secret;
mod store;
pub mod telemetry;
mod token;

// For users: a manager over a provider and a store, and what it hands back.
pub use authorization::{AuthorizationRequest, AuthorizationRequestBuilder};
pub use binding::{Binding, Scopes};
pub use client_auth::{
    AssertionAudience, AssertionKey, BasicEncoding, ClientAssertion, ClientAuth,
    DEFAULT_ASSERTION_LIFETIME, JWT_BEARER_ASSERTION_TYPE,
};
pub use clock::{Clock, ManualClock, SystemClock};
pub use device::{
    DEFAULT_POLL_INTERVAL, DeviceAuthorization, DevicePrompt, MAX_POLL_INTERVAL,
    PendingDeviceSignIn, SLOW_DOWN_STEP,
};
pub use discovery::{DEFAULT_METADATA_LIFETIME, Discovery, ServerMetadata};
pub use dpop::{DPOP_PROOF_TYPE, DpopContext, DpopKey, DpopNonces};
pub use endpoint::{
    DEFAULT_CONNECT_TIMEOUT, DEFAULT_MAX_RESPONSE_BYTES, DEFAULT_TIMEOUT, DEFAULT_TOKEN_LIFETIME,
    EndpointSettings, MAX_LIFETIME, RequestContext, RetryPolicy, TokenEndpoint,
    TokenEndpointBuilder, http_client_builder, same_origin_redirects,
};
pub use error::{
    AccountState, ConfigError, ConfigErrorKind, Error, ErrorCode, ProtocolError, Refusal,
    SharedCause, StoreError, TransientError, TransientKind,
};
pub use grant::{
    AuthorizationCodeGrant, ClientCredentialsGrant, DeviceCodeGrant, ExtensionGrant,
    JwtBearerGrant, PasswordGrant, PkceChallenge, PkceVerifier, RefreshTokenGrant, State,
    TokenExchangeGrant, token_types,
};
pub use introspection::{Introspection, IntrospectionEndpoint};
pub use loopback::{Callback, LoopbackReceiver};
pub use manager::{
    AccessTokenFuture, Authorization, RefreshPolicy, TokenManager, TokenManagerBuilder,
};
pub use provider::{Adapter, GenericProvider};
pub use revocation::{Revocation, RevocationEndpoint, SignOut, TokenTypeHint};
pub use secrecy::SecretString;
pub use secret::{
    AccessToken, AccountKey, AuthorizationCode, ClientId, ClientSecret, DeviceCode, ExposeSecret,
    IdToken, Password, RefreshToken, SecurityToken, Username,
};
pub use store::{MemoryStore, SealedStore, SealingKey};
pub use token::{STORE_FORMAT_VERSION, StoreFormatError, TokenSet, TokenType};

// For implementers of providers, grants, stores and transports.
pub use client_auth::{decode_basic, encode_basic};
pub use endpoint::{
    FormRequest, GetRequest, RawResponse, ReqwestTransport, Transport, is_loopback, validate_url,
};
pub use excerpt::scrub;
pub use grant::{FormParam, FormValue, GrantKind, GrantType, resource_params, scope_param};
pub use provider::TokenProvider;
pub use store::{HeldAccount, KEEP_MARGIN, StoreLock, StoreRecord, TokenStore};

/// The crates this one builds on, re-exported so adapters and stores use the
/// same versions.
pub mod deps {
    pub use async_trait::async_trait;
    pub use reqwest;
    pub use secrecy;
    pub use serde_json;
    pub use time;
}

/// Hooks for fuzzing and property tests: the response parser on its own.
/// Not part of the stable interface.
#[doc(hidden)]
pub mod __private {
    pub use crate::endpoint::{ParseContext, ResponseParts, interpret};
}

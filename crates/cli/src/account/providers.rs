//! From [`Settings`] to a provider: the one place that knows which adapter
//! serves which kind. Each kind builds its provider in its own file
//! ([`super::voipex`], [`super::vonage`], [`super::generic`]).
//!
//! Every provider built here is [`crate::deferred::Deferred`]: it names its
//! account and binding without a secret, and reads the client secret or the
//! password only when the manager decides that a request is needed.

use std::sync::Arc;

use authkit_core::TokenProvider;
use authkit_core::discovery::Discovery;
use authkit_core::endpoint::EndpointSettings;

use super::{generic, voipex, vonage};
use crate::exit::Failure;
use crate::settings::{Kind, Settings};

/// Fills in what `settings` leaves to the server or the adapter: the
/// endpoints discovered from an issuer (one request), and for every kind
/// the token endpoint the provider would use. The result names its token
/// endpoint, and is what an account record keeps.
pub async fn resolve(settings: &Settings, name: &str) -> Result<Settings, Failure> {
    let mut resolved = settings.clone();
    if settings.kind == Kind::Generic
        && let Some(issuer) = &settings.issuer
    {
        let metadata = Discovery::new(EndpointSettings::new())
            .metadata(issuer)
            .await?;
        // A client that presents a certificate uses the server's mTLS
        // endpoints (RFC 8705 §5).
        let metadata = if settings.client_certificate.is_some() {
            std::sync::Arc::new(metadata.with_mtls_aliases())
        } else {
            metadata
        };
        let fill = |slot: &mut Option<String>, found: Option<&str>| {
            if slot.is_none() {
                *slot = found.map(str::to_owned);
            }
        };
        fill(&mut resolved.token_url, metadata.token_endpoint());
        fill(
            &mut resolved.authorize_url,
            metadata.authorization_endpoint(),
        );
        fill(
            &mut resolved.device_url,
            metadata.device_authorization_endpoint(),
        );
        fill(&mut resolved.revocation_url, metadata.revocation_endpoint());
    }
    resolved.token_url = Some(
        build(&resolved, name, false)?
            .binding()
            .token_endpoint()
            .to_owned(),
    );
    Ok(resolved)
}

/// The token endpoint `settings` lead to without asking any server: the
/// adapter's default, the base URL's, or the one named. `None` for a
/// generic account known only by its issuer.
pub fn local_token_url(settings: &Settings, name: &str) -> Result<Option<String>, Failure> {
    if settings.kind == Kind::Generic {
        // A generic account names its token endpoint or has none yet.
        return Ok(settings.token_url.clone());
    }
    Ok(Some(
        build(settings, name, false)?
            .binding()
            .token_endpoint()
            .to_owned(),
    ))
}

/// The provider for the account `settings` describe (`name` is a generic
/// account's readable name). `password_stdin` says where a password comes
/// from when one is needed.
pub fn build(
    settings: &Settings,
    name: &str,
    password_stdin: bool,
) -> Result<Arc<dyn TokenProvider>, Failure> {
    match settings.kind {
        Kind::Voipex => voipex::provider(settings, password_stdin),
        Kind::Vonage => vonage::provider(settings, password_stdin),
        Kind::Generic => generic::provider(settings, name, password_stdin),
    }
}

/// The readable name of a generic account signed in through `profile`.
pub fn generic_name(profile: &str, settings: &Settings) -> String {
    let who = settings
        .username
        .as_deref()
        .or(settings.client_id.as_deref())
        .unwrap_or("account");
    format!("{profile}:{who}")
}

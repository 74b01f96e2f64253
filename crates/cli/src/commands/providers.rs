//! From [`Settings`] to a provider: the one place that knows which adapter
//! serves which kind, what each kind needs, and where its secrets come from.
//!
//! Every provider built here is [`Deferred`]: it names its account and
//! binding without a secret, and reads the client secret or the password only
//! when the manager decides that a request is needed.

use std::sync::Arc;

use authkit_core::discovery::Discovery;
use authkit_core::endpoint::EndpointSettings;
use authkit_core::grant::{ClientCredentialsGrant, PasswordGrant};
use authkit_core::{
    ClientAuth, ClientSecret, Error, GenericProvider, Password, TokenEndpoint, TokenProvider,
};

use crate::cli::{Endpoint, PasswordInput, VoipexArgs, VonageTokenArgs};
use crate::deferred::{Deferred, NeedsBrowser};
use crate::exit::Failure;
use crate::secrets::{CLIENT_SECRET_ENV, PasswordSource, client_secret_for};
use crate::settings::{ClientAuthMethod, Grant, Kind, Settings};

fn usage(message: impl Into<String>) -> Failure {
    Failure::Usage(message.into())
}

fn required<'a>(value: &'a Option<String>, what: &str, kind: Kind) -> Result<&'a str, Failure> {
    value
        .as_deref()
        .ok_or_else(|| usage(format!("a {} account needs {what}", kind.as_str())))
}

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
    let endpoint = Endpoint {
        base_url: if settings.token_url.is_some() {
            None
        } else {
            settings.base_url.clone()
        },
        token_url: settings.token_url.clone(),
    };
    let scope = (!settings.scopes.is_empty()).then(|| settings.scopes.join(" "));
    let password = PasswordInput { password_stdin };
    match settings.kind {
        Kind::Voipex => super::token::voipex(VoipexArgs {
            username: required(&settings.username, "a user name", settings.kind)?.to_owned(),
            endpoint,
            client_id: settings.client_id.clone(),
            scope,
            password,
        }),
        Kind::Vonage => super::token::vonage(VonageTokenArgs {
            username: settings.username.clone(),
            client_id: required(&settings.client_id, "a client id", settings.kind)?.to_owned(),
            label: settings.label.clone().unwrap_or_else(|| "default".into()),
            endpoint,
            scope,
            password,
        }),
        Kind::Generic => generic(settings, name, password_stdin),
    }
}

/// What a generic provider is built from, secrets aside.
#[derive(Clone)]
struct GenericParts {
    name: String,
    token_url: String,
    client_id: String,
    method: ClientAuthMethod,
    grant: Grant,
    scopes: Vec<String>,
    resource: Option<String>,
    revocation_url: Option<String>,
    username: Option<String>,
}

impl GenericParts {
    fn provider(
        &self,
        secret: Option<ClientSecret>,
        password: Option<Password>,
    ) -> Result<GenericProvider, Error> {
        let secret = || secret.clone().unwrap_or_else(|| ClientSecret::new(""));
        let auth = match self.method {
            ClientAuthMethod::None => ClientAuth::public(self.client_id.clone()),
            ClientAuthMethod::Basic => ClientAuth::basic(self.client_id.clone(), secret()),
            ClientAuthMethod::Post => ClientAuth::secret_in_body(self.client_id.clone(), secret()),
        };
        let endpoint = TokenEndpoint::builder(self.token_url.clone())
            .client_auth(auth)
            .build()?;
        let mut provider = GenericProvider::new(self.name.clone(), endpoint);
        provider = match self.grant {
            Grant::Password => {
                let mut grant = PasswordGrant::new(
                    self.username.clone().unwrap_or_default(),
                    password.unwrap_or_else(|| Password::new("")),
                )
                .with_scopes(self.scopes.clone());
                if let Some(resource) = &self.resource {
                    grant = grant.with_resource(resource.clone());
                }
                provider.with_grant(grant)
            }
            Grant::ClientCredentials => {
                let mut grant = ClientCredentialsGrant::new().with_scopes(self.scopes.clone());
                if let Some(resource) = &self.resource {
                    grant = grant.with_resource(resource.clone());
                }
                provider.with_grant(grant)
            }
            Grant::Code | Grant::Device => match &self.resource {
                Some(resource) => provider.with_resources([resource.clone()]),
                None => provider,
            },
        };
        if let Some(url) = &self.revocation_url {
            provider = provider.with_revocation(url)?;
        }
        Ok(provider)
    }

    fn secret(&self) -> Result<Option<ClientSecret>, Error> {
        match self.method {
            ClientAuthMethod::None => Ok(None),
            ClientAuthMethod::Basic | ClientAuthMethod::Post => client_secret_for(
                CLIENT_SECRET_ENV,
                &format!("Client secret for {}: ", self.client_id),
            )
            .map(Some)
            .map_err(super::usage_to_config),
        }
    }
}

/// What a generic provider is built from, checked.
fn parts(settings: &Settings, name: &str) -> Result<GenericParts, Failure> {
    let kind = settings.kind;
    let token_url = settings
        .token_url
        .clone()
        .ok_or_else(|| usage("a generic account needs an issuer (for discovery) or a token URL"))?;
    let grant = settings.grant.ok_or_else(|| {
        usage("a generic account needs a grant: password, client-credentials, code or device")
    })?;
    if grant == Grant::Password {
        required(
            &settings.username,
            "a user name for the password grant",
            kind,
        )?;
    }
    Ok(GenericParts {
        name: name.to_owned(),
        token_url,
        client_id: required(&settings.client_id, "a client id", kind)?.to_owned(),
        method: settings.client_auth.unwrap_or(ClientAuthMethod::None),
        grant,
        scopes: settings.scopes.clone(),
        resource: settings.resource.clone(),
        revocation_url: settings.revocation_url.clone(),
        username: settings.username.clone(),
    })
}

/// A generic account's token endpoint with its client secret, read now:
/// for a sign-in, which always needs it.
pub fn sign_in_endpoint(settings: &Settings) -> Result<TokenEndpoint, Failure> {
    let parts = parts(settings, "sign-in")?;
    let secret = parts.secret()?;
    Ok(parts.provider(secret, None)?.endpoint().clone())
}

/// A provider for any standard server.
fn generic(
    settings: &Settings,
    name: &str,
    password_stdin: bool,
) -> Result<Arc<dyn TokenProvider>, Failure> {
    let parts = parts(settings, name)?;
    let placeholder = parts.provider(None, None)?;
    let refreshing = {
        let parts = parts.clone();
        move || Ok(Arc::new(parts.provider(parts.secret()?, None)?) as Arc<dyn TokenProvider>)
    };
    let key = placeholder.account_key().clone();
    let binding = placeholder.binding().clone();
    let profile = readable_profile(name).to_owned();
    let authenticating = move || -> Result<Arc<dyn TokenProvider>, Error> {
        match parts.grant {
            Grant::Password => {
                let username = parts.username.clone().unwrap_or_default();
                let password = PasswordSource {
                    from_stdin: password_stdin,
                }
                .read(&format!("Password for {username}: "))
                .map_err(super::usage_to_config)?;
                Ok(Arc::new(parts.provider(parts.secret()?, Some(password))?))
            }
            Grant::ClientCredentials => Ok(Arc::new(parts.provider(parts.secret()?, None)?)),
            Grant::Code | Grant::Device => Ok(Arc::new(NeedsBrowser {
                key: key.clone(),
                binding: binding.clone(),
                hint: format!(
                    "authkit login --profile {profile}{}",
                    if parts.grant == Grant::Device {
                        " --device"
                    } else {
                        ""
                    }
                ),
            })),
        }
    };
    Ok(Arc::new(Deferred::new(
        &placeholder,
        refreshing,
        authenticating,
    )))
}

/// A generic account's name is `<profile>:<user or client>`; the profile part.
fn readable_profile(name: &str) -> &str {
    name.split_once(':').map_or(name, |(profile, _)| profile)
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

//! An account at any standard OAuth 2 server as a provider: the client
//! authentication, grant, scopes and resource its settings name. Secrets
//! (the client secret, a password) are read only when a request needs them;
//! a browser or device account that has no tokens yet says how to sign in.

use std::sync::Arc;

use authkit_core::endpoint::EndpointSettings;
use authkit_core::grant::{ClientCredentialsGrant, PasswordGrant};
use authkit_core::transport::{ClientIdentity, TlsSettings};
use authkit_core::{
    ClientAuth, ClientSecret, Error, GenericProvider, Password, TokenEndpoint, TokenProvider,
};

use crate::deferred::{Deferred, NeedsBrowser};
use crate::exit::Failure;
use crate::secrets::{CLIENT_SECRET_ENV, PasswordSource, client_secret_for};
use crate::settings::{ClientAuthMethod, Grant, Settings};

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
    client_certificate: Option<String>,
    client_key: Option<String>,
    ca_certificate: Option<String>,
}

impl GenericParts {
    /// The TLS the endpoint's client adds: the client certificate (mutual
    /// TLS, RFC 8705) and a private CA, read from their files.
    fn tls(&self) -> Result<TlsSettings, Error> {
        let read = |what: &str, path: &str| {
            std::fs::read(path)
                .map_err(|e| Error::config(format!("cannot read the {what} {path}: {e}")))
        };
        let mut tls = TlsSettings::new();
        if let (Some(certificate), Some(key)) = (&self.client_certificate, &self.client_key) {
            tls = tls.client_identity(ClientIdentity::from_pem(
                &read("client certificate", certificate)?,
                &read("client key", key)?,
            )?);
        }
        if let Some(ca) = &self.ca_certificate {
            tls = tls.trust_root_pem(&read("CA certificate", ca)?)?;
        }
        Ok(tls)
    }

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
            ClientAuthMethod::Tls => ClientAuth::tls_client_auth(self.client_id.clone()),
            ClientAuthMethod::SelfSignedTls => {
                ClientAuth::self_signed_tls_client_auth(self.client_id.clone())
            }
        };
        let endpoint = TokenEndpoint::builder(self.token_url.clone())
            .client_auth(auth)
            .settings(EndpointSettings::new().tls(self.tls()?))
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
            ClientAuthMethod::None | ClientAuthMethod::Tls | ClientAuthMethod::SelfSignedTls => {
                Ok(None)
            }
            ClientAuthMethod::Basic | ClientAuthMethod::Post => client_secret_for(
                CLIENT_SECRET_ENV,
                &format!("Client secret for {}: ", self.client_id),
            )
            .map(Some)
            .map_err(Failure::into_error),
        }
    }
}

/// What a generic provider is built from, checked.
fn parts(settings: &Settings, name: &str) -> Result<GenericParts, Failure> {
    let token_url = settings.token_url.clone().ok_or_else(|| {
        Failure::Usage("a generic account needs an issuer (for discovery) or a token URL".into())
    })?;
    let grant = settings.grant.ok_or_else(|| {
        Failure::Usage(
            "a generic account needs a grant: password, client-credentials, code or device".into(),
        )
    })?;
    if grant == Grant::Password {
        settings.require(&settings.username, "a user name for the password grant")?;
    }
    let method = settings.client_auth.unwrap_or(ClientAuthMethod::None);
    if matches!(
        method,
        ClientAuthMethod::Tls | ClientAuthMethod::SelfSignedTls
    ) && (settings.client_certificate.is_none() || settings.client_key.is_none())
    {
        return Err(Failure::Usage(format!(
            "--client-auth {} authenticates with a client certificate: give the profile --client-certificate and --client-key (PEM files)",
            method.as_str()
        )));
    }
    Ok(GenericParts {
        name: name.to_owned(),
        token_url,
        client_id: settings
            .require(&settings.client_id, "a client id")?
            .to_owned(),
        method,
        grant,
        scopes: settings.scopes.clone(),
        resource: settings.resource.clone(),
        revocation_url: settings.revocation_url.clone(),
        username: settings.username.clone(),
        client_certificate: settings.client_certificate.clone(),
        client_key: settings.client_key.clone(),
        ca_certificate: settings.ca_certificate.clone(),
    })
}

/// A generic account's token endpoint with its client secret, read now:
/// for a sign-in, which always needs it.
pub fn sign_in_endpoint(settings: &Settings) -> Result<TokenEndpoint, Failure> {
    let parts = parts(settings, "sign-in")?;
    let secret = parts.secret()?;
    Ok(parts.provider(secret, None)?.endpoint().clone())
}

/// A provider for any standard server, as `settings` describe it (`name`
/// is the account's readable name).
pub fn provider(
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
    let scope_flag = settings.scope_flag();
    let authenticating = move || -> Result<Arc<dyn TokenProvider>, Error> {
        match parts.grant {
            Grant::Password => {
                let username = parts.username.clone().unwrap_or_default();
                let password = PasswordSource {
                    from_stdin: password_stdin,
                }
                .read(&format!("Password for {username}: "))
                .map_err(Failure::into_error)?;
                Ok(Arc::new(parts.provider(parts.secret()?, Some(password))?))
            }
            Grant::ClientCredentials => Ok(Arc::new(parts.provider(parts.secret()?, None)?)),
            Grant::Code | Grant::Device => Ok(Arc::new(NeedsBrowser {
                key: key.clone(),
                binding: binding.clone(),
                hint: format!(
                    "authkit login --profile {profile}{}{scope_flag}",
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

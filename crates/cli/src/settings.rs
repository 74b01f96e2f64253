//! What an account is signed in with: the provider, its endpoints, the
//! client, the grant, scopes, resource, redirect URI and user name. Never a
//! secret.
//!
//! One type serves three places, so that they cannot drift apart: a
//! profile in the config file (the settings a person chose), the flags of a
//! command (the settings a call asks for), and the account record kept
//! beside the tokens (the settings the tokens were issued under, resolved:
//! the token endpoint always named). [`Settings::conflicts_with`] compares
//! what a call asks for with what an account was signed in with, so a flag
//! can never send a refresh token to another server.

use std::fmt;

use authkit_core::endpoint::EndpointSettings;
use serde::{Deserialize, Serialize};

use crate::exit::Failure;

/// Splits a `--scope` value (space-separated, as RFC 6749 writes scopes)
/// into scopes.
pub fn split_scopes(scope: Option<&str>) -> Vec<String> {
    scope
        .map(|s| s.split_whitespace().map(str::to_owned).collect())
        .unwrap_or_default()
}

/// Which adapter serves the account.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "kebab-case")]
pub enum Kind {
    /// Voipex (its Keycloak, password grant, public client `api`).
    Voipex,
    /// Vonage Business Communications (password or browser sign-in).
    Vonage,
    /// Any standard OAuth 2 server: discovery from an issuer, or explicit URLs.
    #[default]
    Generic,
}

impl Kind {
    /// The name used in files and messages.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Voipex => "voipex",
            Kind::Vonage => "vonage",
            Kind::Generic => "generic",
        }
    }
}

/// How the account gets its first tokens.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "kebab-case")]
pub enum Grant {
    /// The resource owner's password (unattended: signs in on first `token`).
    Password,
    /// The client's own credentials (unattended: signs in on first `token`).
    ClientCredentials,
    /// A person signs in with the browser (`authkit login`): code with PKCE.
    Code,
    /// A person signs in on another device (`authkit login --device`, RFC 8628).
    Device,
}

impl Grant {
    /// The name used in files and messages.
    pub fn as_str(self) -> &'static str {
        match self {
            Grant::Password => "password",
            Grant::ClientCredentials => "client-credentials",
            Grant::Code => "code",
            Grant::Device => "device",
        }
    }
}

/// How the client proves itself at the token endpoint. The secret, when
/// there is one, comes from `AUTHKIT_CLIENT_SECRET` or a prompt.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "kebab-case")]
pub enum ClientAuthMethod {
    /// A public client: the client id only.
    None,
    /// HTTP Basic with the client secret (`client_secret_basic`).
    Basic,
    /// The client secret in the form body (`client_secret_post`).
    Post,
    /// A client certificate from a CA the server trusts
    /// (`tls_client_auth`, RFC 8705): `client_certificate` and `client_key`.
    Tls,
    /// A self-signed client certificate registered with the server
    /// (`self_signed_tls_client_auth`, RFC 8705).
    SelfSignedTls,
}

impl ClientAuthMethod {
    /// The name used in files and messages.
    pub fn as_str(self) -> &'static str {
        match self {
            ClientAuthMethod::None => "none",
            ClientAuthMethod::Basic => "basic",
            ClientAuthMethod::Post => "post",
            ClientAuthMethod::Tls => "tls",
            ClientAuthMethod::SelfSignedTls => "self-signed-tls",
        }
    }
}

/// The settings of one account or profile. Every field is optional: a
/// profile names what it needs, a provider kind supplies its defaults.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    /// The adapter.
    #[serde(default)]
    pub kind: Kind,
    /// How the first tokens are had.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub grant: Option<Grant>,
    /// The issuer, for discovery (`generic`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub issuer: Option<String>,
    /// The server's base URL (`voipex`, `vonage`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub base_url: Option<String>,
    /// The token endpoint.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token_url: Option<String>,
    /// The authorization endpoint (browser sign-in).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub authorize_url: Option<String>,
    /// The device authorization endpoint (RFC 8628).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub device_url: Option<String>,
    /// The revocation endpoint (RFC 7009), used by `logout`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revocation_url: Option<String>,
    /// Push browser sign-ins to the server first (RFC 9126), even where
    /// its metadata does not require it (a client registered to require it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub par: Option<bool>,
    /// The pushed authorization request endpoint, where no issuer's
    /// metadata names it; naming it asks for pushed sign-ins.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub par_url: Option<String>,
    /// The client id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_id: Option<String>,
    /// How the client authenticates.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_auth: Option<ClientAuthMethod>,
    /// The client certificate (a PEM file, the client's own first) for
    /// mutual TLS (RFC 8705); presented with any client authentication.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_certificate: Option<String>,
    /// The client certificate's private key (a PEM file; its path only is
    /// kept, never the key).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_key: Option<String>,
    /// A CA certificate (a PEM file) trusted besides the platform's roots,
    /// for a server whose certificate a private CA issued.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ca_certificate: Option<String>,
    /// The scopes to ask for.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub scopes: Vec<String>,
    /// The resource (RFC 8707) the tokens are for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource: Option<String>,
    /// The loopback redirect URI of a browser sign-in.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub redirect_uri: Option<String>,
    /// The user name (password grant).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
    /// Which browser sign-in of a Vonage application.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
}

/// A setting a call asks for that differs from the account's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Conflict {
    /// The setting (as its flag is spelled).
    pub setting: &'static str,
    /// What the call asks for.
    pub asked: String,
    /// What the account was signed in with.
    pub stored: String,
}

impl fmt::Display for Conflict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "--{} {} contradicts the account, which was signed in with {}",
            self.setting, self.asked, self.stored
        )
    }
}

/// Compares URLs as the token endpoint does: parsed and serialised, so
/// `http://h/x` and `HTTP://h/x` agree; a trailing `/` does not matter.
fn same_url(a: &str, b: &str) -> bool {
    let norm = |s: &str| {
        url::Url::parse(s)
            .map(|u| u.as_str().trim_end_matches('/').to_owned())
            .unwrap_or_else(|_| s.trim_end_matches('/').to_owned())
    };
    norm(a) == norm(b)
}

impl Settings {
    /// `value`, which an account of this kind cannot do without: a usage
    /// error saying `what` is missing otherwise.
    pub fn require<'a>(&self, value: &'a Option<String>, what: &str) -> Result<&'a str, Failure> {
        value
            .as_deref()
            .ok_or_else(|| Failure::Usage(format!("a {} account needs {what}", self.kind.as_str())))
    }

    /// These settings asking also for `asked` (the scopes a call names):
    /// the same settings when they already ask for every one of them.
    pub fn with_scopes_added(&self, asked: &[String]) -> Settings {
        let mut settings = self.clone();
        for scope in asked {
            if !settings.scopes.contains(scope) {
                settings.scopes.push(scope.clone());
            }
        }
        settings
    }

    /// The `--scope` flag that asks for these settings' scopes, with a
    /// space before it, quoted for a shell; empty when they name none. For
    /// the sign-in a message tells a person to run.
    pub fn scope_flag(&self) -> String {
        if self.scopes.is_empty() {
            String::new()
        } else {
            format!(" --scope '{}'", self.scopes.join(" "))
        }
    }

    /// Where an adapter's token endpoint is: the token URL when one is
    /// named, else the base URL, else the adapter's default.
    pub fn endpoint_settings(&self) -> EndpointSettings {
        let settings = EndpointSettings::new();
        match (&self.token_url, &self.base_url) {
            (Some(url), _) => settings.token_url(url.clone()),
            (None, Some(url)) => settings.base_url(url.clone()),
            (None, None) => settings,
        }
    }

    /// The first setting that this call asks for and `stored` (an account's
    /// resolved settings) contradicts. Settings this call leaves unset
    /// agree with anything; `base_url` is compared by the token endpoint it
    /// leads to, which the caller resolves into `token_url` first. Scopes
    /// never contradict: they are not part of which account it is, and a
    /// call that asks for more gets a new grant ([`Settings::with_scopes_added`]).
    pub fn conflicts_with(&self, stored: &Settings) -> Option<Conflict> {
        fn text(
            setting: &'static str,
            asked: &Option<String>,
            stored: &Option<String>,
            url: bool,
        ) -> Option<Conflict> {
            let asked = asked.as_ref()?;
            let stored_text = stored.as_deref().unwrap_or("(none)");
            let same = match stored {
                Some(stored) if url => same_url(asked, stored),
                Some(stored) => asked == stored,
                None => false,
            };
            (!same).then(|| Conflict {
                setting,
                asked: asked.clone(),
                stored: stored_text.to_owned(),
            })
        }
        if self.kind != stored.kind {
            return Some(Conflict {
                setting: "kind",
                asked: self.kind.as_str().to_owned(),
                stored: stored.kind.as_str().to_owned(),
            });
        }
        if let (Some(asked), Some(kept)) = (self.grant, stored.grant)
            && asked != kept
        {
            return Some(Conflict {
                setting: "grant",
                asked: asked.as_str().to_owned(),
                stored: kept.as_str().to_owned(),
            });
        }
        if let Some(asked) = self.client_auth
            && Some(asked) != stored.client_auth
        {
            return Some(Conflict {
                setting: "client-auth",
                asked: asked.as_str().to_owned(),
                stored: stored
                    .client_auth
                    .map_or("(default)", |m| m.as_str())
                    .to_owned(),
            });
        }
        text("issuer", &self.issuer, &stored.issuer, true)
            .or_else(|| text("token-url", &self.token_url, &stored.token_url, true))
            .or_else(|| {
                text(
                    "authorize-url",
                    &self.authorize_url,
                    &stored.authorize_url,
                    true,
                )
            })
            .or_else(|| text("device-url", &self.device_url, &stored.device_url, true))
            .or_else(|| {
                text(
                    "revocation-url",
                    &self.revocation_url,
                    &stored.revocation_url,
                    true,
                )
            })
            .or_else(|| text("client-id", &self.client_id, &stored.client_id, false))
            .or_else(|| text("resource", &self.resource, &stored.resource, false))
            .or_else(|| text("username", &self.username, &stored.username, false))
            .or_else(|| text("label", &self.label, &stored.label, false))
    }

    /// The settings of `overlay` where it has them, else these.
    pub fn overlaid_with(&self, overlay: &Settings) -> Settings {
        fn pick<T: Clone>(over: &Option<T>, base: &Option<T>) -> Option<T> {
            over.clone().or_else(|| base.clone())
        }
        Settings {
            kind: self.kind,
            grant: overlay.grant.or(self.grant),
            issuer: pick(&overlay.issuer, &self.issuer),
            base_url: pick(&overlay.base_url, &self.base_url),
            token_url: pick(&overlay.token_url, &self.token_url),
            authorize_url: pick(&overlay.authorize_url, &self.authorize_url),
            device_url: pick(&overlay.device_url, &self.device_url),
            revocation_url: pick(&overlay.revocation_url, &self.revocation_url),
            par: overlay.par.or(self.par),
            par_url: pick(&overlay.par_url, &self.par_url),
            client_id: pick(&overlay.client_id, &self.client_id),
            client_auth: overlay.client_auth.or(self.client_auth),
            client_certificate: pick(&overlay.client_certificate, &self.client_certificate),
            client_key: pick(&overlay.client_key, &self.client_key),
            ca_certificate: pick(&overlay.ca_certificate, &self.ca_certificate),
            scopes: if overlay.scopes.is_empty() {
                self.scopes.clone()
            } else {
                overlay.scopes.clone()
            },
            resource: pick(&overlay.resource, &self.resource),
            redirect_uri: pick(&overlay.redirect_uri, &self.redirect_uri),
            username: pick(&overlay.username, &self.username),
            label: pick(&overlay.label, &self.label),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stored() -> Settings {
        Settings {
            kind: Kind::Generic,
            grant: Some(Grant::Password),
            token_url: Some("http://127.0.0.1:8080/token".into()),
            client_id: Some("cli".into()),
            scopes: vec!["openid".into(), "email".into()],
            ..Settings::default()
        }
    }

    #[test]
    fn unset_settings_agree_with_anything() {
        let asked = Settings {
            kind: Kind::Generic,
            ..Settings::default()
        };
        assert_eq!(asked.conflicts_with(&stored()), None);
    }

    #[test]
    fn the_same_url_spelled_differently_agrees() {
        let asked = Settings {
            token_url: Some("HTTP://127.0.0.1:8080/token/".into()),
            scopes: vec!["email".into(), "openid".into()],
            ..Settings::default()
        };
        assert_eq!(asked.conflicts_with(&stored()), None);
    }

    #[test]
    fn another_token_endpoint_is_named_with_both_values() {
        let asked = Settings {
            token_url: Some("http://127.0.0.1:9999/token".into()),
            ..Settings::default()
        };
        let conflict = asked.conflicts_with(&stored()).expect("a conflict");
        assert_eq!(conflict.setting, "token-url");
        let message = conflict.to_string();
        assert!(message.contains("http://127.0.0.1:9999/token"), "{message}");
        assert!(message.contains("http://127.0.0.1:8080/token"), "{message}");
    }

    #[test]
    fn another_client_or_grant_conflicts() {
        for (asked, setting) in [
            (
                Settings {
                    client_id: Some("other".into()),
                    ..Settings::default()
                },
                "client-id",
            ),
            (
                Settings {
                    grant: Some(Grant::Device),
                    ..Settings::default()
                },
                "grant",
            ),
            (
                Settings {
                    kind: Kind::Voipex,
                    ..Settings::default()
                },
                "kind",
            ),
        ] {
            assert_eq!(
                asked.conflicts_with(&stored()).map(|c| c.setting),
                Some(setting)
            );
        }
    }

    #[test]
    fn scopes_never_conflict_they_widen() {
        let asked = Settings {
            scopes: vec!["admin".into(), "openid".into()],
            ..Settings::default()
        };
        assert_eq!(asked.conflicts_with(&stored()), None);
        let widened = stored().with_scopes_added(&asked.scopes);
        assert_eq!(widened.scopes, ["openid", "email", "admin"]);
        assert_eq!(stored().with_scopes_added(&["email".into()]), stored());
        assert_eq!(widened.scope_flag(), " --scope 'openid email admin'");
        assert_eq!(Settings::default().scope_flag(), "");
    }

    #[test]
    fn the_file_format_reads_back() {
        let text = toml::to_string(&stored()).expect("serialises");
        assert!(text.contains("kind = \"generic\""), "{text}");
        assert!(text.contains("grant = \"password\""), "{text}");
        let back: Settings = toml::from_str(&text).expect("parses");
        assert_eq!(back, stored());
    }

    #[test]
    fn an_unknown_setting_is_refused_not_ignored() {
        let error = toml::from_str::<Settings>("kind = \"generic\"\nclient_secret = \"x\"\n")
            .expect_err("refused");
        assert!(error.to_string().contains("client_secret"), "{error}");
    }
}

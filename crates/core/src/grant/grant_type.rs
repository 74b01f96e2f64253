//! The grant contract: a grant's `grant_type` value and the form parameters it adds.

use std::borrow::Cow;
use std::fmt;

use crate::grant::kind::GrantKind;
use secrecy::{ExposeSecret, SecretString};

/// One way of asking a token endpoint for tokens.
pub trait GrantType: Send + Sync + fmt::Debug {
    /// The `grant_type` value, such as `password` or
    /// `urn:ietf:params:oauth:grant-type:token-exchange`.
    fn grant_type(&self) -> &str;

    /// The form parameters this grant adds, other than `grant_type` and the
    /// client authentication.
    fn parameters(&self) -> Vec<FormParam>;

    /// The kind of grant, for classifying refusals.
    fn kind(&self) -> GrantKind {
        GrantKind::from_grant_type(self.grant_type())
    }

    /// The scopes this request asks for (empty: the server's default, or for
    /// a refresh the originally granted ones). A token set whose response
    /// names no `scope` is bound to these.
    fn requested_scopes(&self) -> &[String] {
        &[]
    }

    /// The resources (RFC 8707 `resource`) this request asks for.
    fn resources(&self) -> &[String] {
        &[]
    }

    /// Whether the server spends what this grant presents (a refresh token
    /// that rotates, an authorization code). The endpoint then re-sends it only
    /// when the request certainly never reached the server.
    fn is_single_use(&self) -> bool {
        false
    }
}

/// One form parameter of a token request.
#[derive(Clone, Debug)]
pub struct FormParam {
    name: Cow<'static, str>,
    value: FormValue,
}

impl FormParam {
    /// A parameter whose value may be logged.
    pub fn plain(name: impl Into<Cow<'static, str>>, value: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            value: FormValue::Plain(value.into()),
        }
    }

    /// A parameter whose value is a secret.
    pub fn secret(name: impl Into<Cow<'static, str>>, value: &str) -> Self {
        Self {
            name: name.into(),
            value: FormValue::Secret(SecretString::from(value)),
        }
    }

    /// The parameter's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The parameter's value.
    pub fn value(&self) -> &FormValue {
        &self.value
    }
}

/// The value of a [`FormParam`]; `Debug` redacts secrets.
#[derive(Clone)]
pub enum FormValue {
    /// A value that may be logged.
    Plain(String),
    /// A secret, exposed only to encode the request.
    Secret(SecretString),
}

impl FormValue {
    /// The value, for encoding the request.
    pub fn expose(&self) -> &str {
        match self {
            FormValue::Plain(v) => v,
            FormValue::Secret(v) => v.expose_secret(),
        }
    }
}

impl fmt::Debug for FormValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FormValue::Plain(v) => write!(f, "{v:?}"),
            FormValue::Secret(_) => f.write_str("[REDACTED]"),
        }
    }
}

/// The `scope` parameter for a list of scopes, or nothing when it is empty.
pub fn scope_param(scopes: &[String]) -> Option<FormParam> {
    if scopes.is_empty() {
        None
    } else {
        Some(FormParam::plain("scope", scopes.join(" ")))
    }
}

/// One `resource` parameter per resource (RFC 8707 §2).
pub fn resource_params(resources: &[String]) -> impl Iterator<Item = FormParam> + '_ {
    resources
        .iter()
        .map(|r| FormParam::plain("resource", r.clone()))
}

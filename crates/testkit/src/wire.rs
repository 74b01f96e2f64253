//! Wire checks: what exactly a provider sent, asserted field by field.
//!
//! The conformance suite checks behaviour; a provider's own tests check its
//! wire format, where a mistake is invisible until a real server refuses
//! it: an extra field, a missing one, a header, and above all which Basic
//! encoding the client credentials went in. RFC 6749 §2.3.1 says the id and
//! secret are form-encoded before Basic; some servers (WSO2 API managers)
//! want them raw. The two read the same for plain letters, so a check with
//! such credentials proves nothing: [`WireCheck::basic`] refuses to pass on
//! credentials that do not tell the encodings apart.
//!
//! ```
//! # async fn run() {
//! use authkit_core::client_auth::BasicEncoding;
//! use authkit_core::{ClientAuth, ClientSecret, TokenEndpoint};
//! use authkit_core::grant::ClientCredentialsGrant;
//! use authkit_testkit::{MockAuthServer, MockClient, WireCheck};
//!
//! let secret = "s3cret +/:%";
//! let server = MockAuthServer::builder()
//!     .client(MockClient::basic("app", secret, BasicEncoding::FormUrlEncoded))
//!     .start()
//!     .await;
//! let endpoint = TokenEndpoint::builder(server.token_url())
//!     .client_auth(ClientAuth::basic("app", ClientSecret::new(secret)))
//!     .build()
//!     .unwrap();
//! endpoint.request(&ClientCredentialsGrant::new(), &server.context()).await.unwrap();
//!
//! WireCheck::new()
//!     .form("grant_type", "client_credentials")
//!     .basic("app", secret, BasicEncoding::FormUrlEncoded)
//!     .header("content-type", "application/x-www-form-urlencoded")
//!     .assert(&server.token_requests()[0]);
//! # }
//! ```

use std::collections::BTreeMap;
use std::fmt;

use authkit_core::ExposeSecret;
use authkit_core::client_auth::{BasicEncoding, decode_basic};

/// One token request as the mock server received it: every form field
/// with its value, in order, and every header. It holds secrets, for
/// assertions; its `Debug` shows field and header names only.
#[derive(Clone, PartialEq, Eq)]
pub struct WireRequest {
    pub(crate) form: Vec<(String, String)>,
    pub(crate) headers: BTreeMap<String, String>,
}

impl fmt::Debug for WireRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WireRequest")
            .field(
                "form",
                &self.form.iter().map(|(name, _)| name).collect::<Vec<_>>(),
            )
            .field("headers", &self.headers.keys().collect::<Vec<_>>())
            .finish()
    }
}

impl WireRequest {
    /// The form's fields and values, decoded, in the order sent.
    pub fn form(&self) -> &[(String, String)] {
        &self.form
    }

    /// One form field's value.
    pub fn form_value(&self, name: &str) -> Option<&str> {
        self.form
            .iter()
            .find(|(field, _)| field == name)
            .map(|(_, value)| value.as_str())
    }

    /// One header's value; `name` in any case.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .get(&name.to_ascii_lowercase())
            .map(String::as_str)
    }

    /// Which encoding the `Authorization: Basic` header used for `id` and
    /// `secret`, or why it cannot be told: see [`BasicFound`].
    pub fn basic_encoding(&self, id: &str, secret: &str) -> BasicFound {
        let Some(header) = self.header("authorization") else {
            return BasicFound::Absent;
        };
        let matches = |encoding| {
            decode_basic(header, encoding)
                .is_some_and(|(sent_id, sent)| sent_id == id && sent.expose_secret() == secret)
        };
        match (
            matches(BasicEncoding::Raw),
            matches(BasicEncoding::FormUrlEncoded),
        ) {
            (true, true) => BasicFound::Indistinguishable,
            (true, false) => BasicFound::Encoded(BasicEncoding::Raw),
            (false, true) => BasicFound::Encoded(BasicEncoding::FormUrlEncoded),
            (false, false) => BasicFound::Other,
        }
    }
}

/// What [`WireRequest::basic_encoding`] found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BasicFound {
    /// No `Authorization` header was sent.
    Absent,
    /// The header holds the credentials in this encoding.
    Encoded(BasicEncoding),
    /// The credentials read the same in both encodings (plain letters and
    /// digits): nothing tells which one the client uses.
    Indistinguishable,
    /// The header holds other credentials, or is no Basic header.
    Other,
}

/// Characters that RFC 6749's form-encoding changes and raw Basic keeps:
/// credentials with one of them tell the two encodings apart.
pub const TELLING_CHARACTERS: &[char] = &[' ', '+', '%', '&', '=', '/', ':', '~', '@'];

/// An expectation of one request: the exact form, the client's Basic
/// credentials and encoding, and headers. [`WireCheck::check`] lists every
/// difference; [`WireCheck::assert`] panics with them. Values of fields
/// added with [`WireCheck::secret_form`] and Basic secrets never appear in
/// what it says.
#[derive(Debug, Default, Clone)]
#[must_use = "a WireCheck does nothing until checked or asserted"]
pub struct WireCheck {
    form: Vec<(String, String, bool)>,
    basic: Option<(String, String, BasicEncoding)>,
    headers: Vec<(String, Option<String>)>,
}

impl WireCheck {
    /// An expectation of nothing yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// The form has `name` with exactly `value`. Every form field the
    /// request has must be named by `form` or `secret_form`: the form is
    /// checked exactly, so a stray field is a difference too.
    pub fn form(mut self, name: &str, value: &str) -> Self {
        self.form.push((name.to_owned(), value.to_owned(), false));
        self
    }

    /// As [`WireCheck::form`], for a secret: a difference names the field,
    /// never the value.
    pub fn secret_form(mut self, name: &str, value: &str) -> Self {
        self.form.push((name.to_owned(), value.to_owned(), true));
        self
    }

    /// The request authenticated with HTTP Basic as `id` and `secret` in
    /// `encoding`. Credentials that read the same in both encodings fail
    /// the check: they cannot show which one was used (give one of
    /// [`TELLING_CHARACTERS`] to the secret).
    pub fn basic(mut self, id: &str, secret: &str, encoding: BasicEncoding) -> Self {
        self.basic = Some((id.to_owned(), secret.to_owned(), encoding));
        self
    }

    /// The request has the header `name` (any case) with exactly `value`.
    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.headers
            .push((name.to_ascii_lowercase(), Some(value.to_owned())));
        self
    }

    /// The request has no header `name`.
    pub fn no_header(mut self, name: &str) -> Self {
        self.headers.push((name.to_ascii_lowercase(), None));
        self
    }

    /// Every difference between `request` and this expectation, each in a
    /// sentence; empty when it matches.
    pub fn check(&self, request: &WireRequest) -> Vec<String> {
        let mut differences = Vec::new();
        for (name, value, secret) in &self.form {
            match request.form_value(name) {
                None => differences.push(format!("the form has no `{name}`")),
                Some(sent) if sent != value && *secret => {
                    differences.push(format!("the form's `{name}` differs (a secret)"))
                }
                Some(sent) if sent != value => differences.push(format!(
                    "the form's `{name}` is {sent:?}, expected {value:?}"
                )),
                Some(_) => {}
            }
        }
        for (name, _) in request.form() {
            if !self.form.iter().any(|(expected, _, _)| expected == name) {
                differences.push(format!("the form has `{name}`, which was not expected"));
            }
        }
        if let Some((id, secret, encoding)) = &self.basic {
            match request.basic_encoding(id, secret) {
                BasicFound::Encoded(found) if found == *encoding => {}
                BasicFound::Encoded(found) => differences.push(format!(
                    "Basic credentials are {}, expected {}",
                    name_of(found),
                    name_of(*encoding)
                )),
                BasicFound::Indistinguishable => differences.push(format!(
                    "the credentials read the same raw and form-encoded, so nothing shows the encoding: give the secret one of {TELLING_CHARACTERS:?}"
                )),
                BasicFound::Absent => differences.push("no Authorization header".to_owned()),
                BasicFound::Other => differences.push(format!(
                    "the Authorization header is not Basic for `{id}` with the expected secret"
                )),
            }
        }
        for (name, value) in &self.headers {
            match (request.header(name), value) {
                (None, Some(value)) => {
                    differences.push(format!("no `{name}` header, expected {value:?}"))
                }
                (Some(sent), Some(value)) if sent != value => differences.push(format!(
                    "the `{name}` header is {sent:?}, expected {value:?}"
                )),
                (Some(_), None) => differences.push(format!("a `{name}` header was sent")),
                _ => {}
            }
        }
        differences
    }

    /// Panics, listing every difference, unless `request` matches.
    #[track_caller]
    pub fn assert(&self, request: &WireRequest) {
        let differences = self.check(request);
        assert!(
            differences.is_empty(),
            "the request differs from what was expected:\n- {}",
            differences.join("\n- ")
        );
    }
}

fn name_of(encoding: BasicEncoding) -> &'static str {
    match encoding {
        BasicEncoding::Raw => "raw",
        BasicEncoding::FormUrlEncoded => "form-encoded (RFC 6749 §2.3.1)",
    }
}

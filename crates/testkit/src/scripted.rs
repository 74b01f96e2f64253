//! A transport that answers from a script, for tests where the network is
//! not the point: parsing, classification, retries, the manager's choices.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex, PoisonError};

use async_trait::async_trait;
use authkit_core::Error;
use authkit_core::transport::{FormRequest, RawResponse, Transport};

/// One scripted answer: a response, or an error below HTTP.
#[derive(Debug, Clone)]
pub enum Scripted {
    /// Answer with this status, content type and body.
    Respond(RawResponse),
    /// Fail as the transport would (connection refused, reset ...).
    Fail(Error),
}

impl Scripted {
    /// A JSON answer.
    pub fn json(status: u16, body: serde_json::Value) -> Self {
        Self::body(status, "application/json", body.to_string())
    }

    /// An answer with any content type and body.
    pub fn body(status: u16, content_type: &str, body: impl Into<Vec<u8>>) -> Self {
        Scripted::Respond(RawResponse {
            status,
            content_type: Some(content_type.to_owned()),
            body: body.into(),
            ..RawResponse::default()
        })
    }

    /// The same answer with a `Retry-After` header.
    pub fn with_retry_after(self, value: &str) -> Self {
        match self {
            Scripted::Respond(mut response) => {
                response.retry_after = Some(value.to_owned());
                Scripted::Respond(response)
            }
            other => other,
        }
    }
}

/// What the transport was asked to send (the form, decoded).
#[derive(Debug, Clone)]
pub struct SentForm {
    /// Where it was sent.
    pub url: String,
    /// The form's fields, in order; secrets included, for assertions.
    pub fields: Vec<(String, String)>,
    /// Whether an `Authorization` header was sent.
    pub authorization: bool,
    /// The `DPoP` header (a proof), if one was sent.
    pub dpop: Option<String>,
}

impl SentForm {
    /// The first value of `name`.
    pub fn field(&self, name: &str) -> Option<&str> {
        self.fields
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

/// A [`Transport`] that plays [`Scripted`] answers in order and records the
/// requests; when the script runs out it fails as a refused connection.
/// Clones share the script and the record.
#[derive(Debug, Clone, Default)]
pub struct ScriptedTransport {
    script: Arc<Mutex<VecDeque<Scripted>>>,
    sent: Arc<Mutex<Vec<SentForm>>>,
}

impl ScriptedTransport {
    /// A transport that will answer with `answers`, in order.
    pub fn new(answers: impl IntoIterator<Item = Scripted>) -> Self {
        Self {
            script: Arc::new(Mutex::new(answers.into_iter().collect())),
            sent: Arc::default(),
        }
    }

    /// Adds answers at the end of the script.
    pub fn push(&self, answer: Scripted) {
        self.script
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push_back(answer);
    }

    /// Every request sent so far.
    pub fn sent(&self) -> Vec<SentForm> {
        self.sent
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }
}

#[async_trait]
impl Transport for ScriptedTransport {
    async fn post_form(&self, request: FormRequest<'_>) -> Result<RawResponse, Error> {
        self.sent
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(SentForm {
                url: request.url.to_string(),
                fields: form_urlencoded::parse(request.body)
                    .map(|(k, v)| (k.into_owned(), v.into_owned()))
                    .collect(),
                authorization: request.authorization.is_some(),
                dpop: request
                    .dpop
                    .and_then(|v| v.to_str().ok())
                    .map(str::to_owned),
            });
        let next = self
            .script
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .pop_front();
        match next {
            Some(Scripted::Respond(response)) => Ok(response),
            Some(Scripted::Fail(error)) => Err(error),
            None => Err(authkit_core::TransientError::new(
                authkit_core::error::TransientKind::Connect,
                "the script has no more answers",
            )
            .into()),
        }
    }
}

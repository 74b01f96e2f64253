//! The HTTP face of the mock server: wiremock responders that read requests,
//! apply injected faults, and render the state machine's replies.

use std::sync::{Arc, Mutex, PoisonError};

use serde_json::json;
use wiremock::{Request, Respond, ResponseTemplate};

use super::authorize::AuthorizeReply;
use super::faults::Fault;
use super::grants::{Reply, TokenRequest};
use super::log::{ClientAuthUsed, LoggedRequest, Outcome};
use super::state::State;

pub(crate) struct TokenResponder(pub(crate) Arc<Mutex<State>>);
pub(crate) struct AuthorizeResponder(pub(crate) Arc<Mutex<State>>);
pub(crate) struct ResourceResponder(pub(crate) Arc<Mutex<State>>);

impl Respond for TokenResponder {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let mut state = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        // The wire record keeps the fields in the order sent (and any sent
        // twice); the grant logic reads them by name.
        let sent_form: Vec<(String, String)> =
            form_urlencoded::parse(&request.body).into_owned().collect();
        let token_request = TokenRequest {
            form: sent_form.iter().cloned().collect(),
            authorization: request
                .headers
                .get("authorization")
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned),
        };
        state.wire.push(crate::wire::WireRequest {
            form: sent_form,
            headers: request
                .headers
                .iter()
                .map(|(name, value)| {
                    (
                        name.as_str().to_ascii_lowercase(),
                        String::from_utf8_lossy(value.as_bytes()).into_owned(),
                    )
                })
                .collect(),
        });
        let mut delay = None;
        if let Some(fault) = state.faults.pop_front() {
            match fault {
                Fault::Delay(d) => delay = Some(d),
                other => {
                    state.log.push(LoggedRequest {
                        grant_type: token_request
                            .form
                            .get("grant_type")
                            .cloned()
                            .unwrap_or_default(),
                        client_id: token_request.form.get("client_id").cloned(),
                        client_auth: ClientAuthUsed::Missing,
                        refresh_token: token_request
                            .form
                            .get("refresh_token")
                            .map(|t| authkit_core::RefreshToken::new(t.as_str())),
                        scope: None,
                        outcome: Outcome::Fault,
                        issued_refresh_token: false,
                        fields: LoggedRequest::field_names(&token_request.form),
                    });
                    return fault_response(&other, &state.config.error_shape);
                }
            }
        }
        let response = match state.token(&token_request) {
            Reply::Tokens(mut body) => {
                if let Some(fields) = body.as_object_mut() {
                    for (name, value) in &state.config.extra_fields {
                        fields.insert(name.clone(), value.clone());
                    }
                }
                ResponseTemplate::new(200)
                    .insert_header("Cache-Control", "no-store")
                    .set_body_json(body)
            }
            Reply::Error {
                status,
                code,
                description,
            } => error_response(status, &code, &description, &state.config.error_shape),
        };
        match delay {
            Some(d) => response.set_delay(d),
            None => response,
        }
    }
}

fn fault_response(fault: &Fault, shape: &super::custom::ErrorShape) -> ResponseTemplate {
    match fault {
        Fault::Refusal {
            status,
            code,
            description,
        } => error_response(*status, code, description, shape),
        Fault::ServerError(status) => {
            ResponseTemplate::new(*status).set_body_raw(Fault::html_page(*status), "text/html")
        }
        Fault::RateLimited { retry_after_secs } => ResponseTemplate::new(429)
            .insert_header("Retry-After", retry_after_secs.to_string().as_str())
            .set_body_raw("Too Many Requests", "text/plain"),
        Fault::TruncatedJson => ResponseTemplate::new(200)
            .set_body_raw(r#"{"access_token":"mock-at-truncated-0123456789","token_ty"#, "application/json"),
        Fault::HtmlLoginPage => ResponseTemplate::new(200).set_body_raw(
            "<!DOCTYPE html><html><head><title>Sign in</title></head><body><form method=post>Sign in to your account</form></body></html>",
            "text/html; charset=utf-8",
        ),
        Fault::ErrorIn200 { code } => ResponseTemplate::new(200)
            .set_body_json(json!({"error": code, "error_description": "injected"})),
        Fault::HugeBody => ResponseTemplate::new(200)
            .set_body_raw(format!(r#"{{"access_token":"{}"}}"#, "x".repeat(2 * 1024 * 1024)), "application/json"),
        Fault::Delay(_) => ResponseTemplate::new(500),
    }
}

/// An OAuth error body in the server's error shape: the description in the
/// field the shape names.
fn error_response(
    status: u16,
    code: &str,
    description: &str,
    shape: &super::custom::ErrorShape,
) -> ResponseTemplate {
    let mut body = serde_json::Map::new();
    body.insert("error".into(), json!(code));
    body.insert(shape.description_field.clone(), json!(description));
    ResponseTemplate::new(status).set_body_json(serde_json::Value::Object(body))
}

impl Respond for AuthorizeResponder {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let query = request.url.query_pairs().into_owned().collect();
        let mut state = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        match state.authorize(&query) {
            AuthorizeReply::Redirect(location) => {
                ResponseTemplate::new(302).insert_header("Location", location.as_str())
            }
            AuthorizeReply::Page(status, text) => ResponseTemplate::new(status).set_body_raw(
                format!("<html><body><h1>{text}</h1></body></html>"),
                "text/html",
            ),
        }
    }
}

impl Respond for ResourceResponder {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let mut state = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        state.resource_requests += 1;
        let bearer = request
            .headers
            .get("authorization")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split_once(' '))
            .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
            .map(|(_, token)| token.trim().to_owned());
        match bearer {
            Some(token) if state.access_token_active(&token) => {
                ResponseTemplate::new(200).set_body_json(json!({
                    "resource": request.url.path(),
                    "authorized": true,
                    "method": request.method.as_str(),
                    "body": String::from_utf8_lossy(&request.body),
                }))
            }
            Some(_) => ResponseTemplate::new(401).insert_header(
                "WWW-Authenticate",
                r#"Bearer error="invalid_token", error_description="The access token expired or was revoked""#,
            ),
            None => ResponseTemplate::new(401).insert_header("WWW-Authenticate", "Bearer"),
        }
    }
}

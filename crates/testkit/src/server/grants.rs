//! The token endpoint's logic: client authentication, then one handler per grant.

use std::collections::HashMap;

use authkit_core::client_auth::BasicEncoding;
use authkit_core::client_auth::decode_basic;
use authkit_core::{ExposeSecret, RefreshToken};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::Value;
use sha2::{Digest, Sha256};

use super::config::{ClientKind, MockClient};
use super::log::{ClientAuthUsed, LoggedRequest, Outcome};
use super::state::State;

/// A token request as the server reads it.
pub(crate) struct TokenRequest {
    pub(crate) form: HashMap<String, String>,
    pub(crate) authorization: Option<String>,
}

/// The server's answer before it is rendered as HTTP.
pub(crate) enum Reply {
    Tokens(Value),
    Error {
        status: u16,
        code: String,
        description: String,
    },
}

impl Reply {
    fn error(status: u16, code: &str, description: impl Into<String>) -> Self {
        Reply::Error {
            status,
            code: code.to_owned(),
            description: description.into(),
        }
    }
}

impl State {
    /// Handles one token request and logs it.
    pub(crate) fn token(&mut self, request: &TokenRequest) -> Reply {
        let grant = request.form.get("grant_type").cloned().unwrap_or_default();
        let (reply, client_id, auth_used) = match self.authenticate_client(request) {
            Ok((client, used)) => {
                let reply = if !client.allows(&grant) {
                    Reply::error(
                        400,
                        "unauthorized_client",
                        "Client not allowed for this grant",
                    )
                } else {
                    self.grant(&grant, &client, request)
                };
                (reply, Some(client.id), used)
            }
            Err((reply, used)) => (reply, request.form.get("client_id").cloned(), used),
        };
        self.log.push(LoggedRequest {
            grant_type: grant,
            client_id,
            client_auth: auth_used,
            refresh_token: request
                .form
                .get("refresh_token")
                .map(|t| RefreshToken::new(t.as_str())),
            scope: request.form.get("scope").cloned(),
            issued_refresh_token: matches!(&reply, Reply::Tokens(body) if body.get("refresh_token").is_some()),
            fields: LoggedRequest::field_names(&request.form),
            outcome: match &reply {
                Reply::Tokens(_) => Outcome::Issued,
                Reply::Error { code, .. } => Outcome::Refused(code.clone()),
            },
        });
        reply
    }

    fn grant(&mut self, grant: &str, client: &MockClient, request: &TokenRequest) -> Reply {
        let scope = request.form.get("scope").cloned().unwrap_or_default();
        match grant {
            "password" => self.password(client, request, &scope),
            "refresh_token" => self.refresh(client, request),
            "authorization_code" => self.code_exchange(client, request),
            "client_credentials" if !client.accepts(&ClientKind::Public) => {
                Reply::Tokens(self.issue(None, &client.id.clone(), &scope, None))
            }
            "client_credentials" => Reply::error(
                400,
                "unauthorized_client",
                "Public clients cannot use client credentials",
            ),
            "" => Reply::error(400, "invalid_request", "Missing grant_type"),
            other => match self.config.custom_grants.get(other).cloned() {
                Some(handler) => self.custom(handler.as_ref(), client, request),
                None => Reply::error(400, "unsupported_grant_type", "Unsupported grant_type"),
            },
        }
    }

    fn custom(
        &mut self,
        handler: &dyn super::custom::GrantHandler,
        client: &MockClient,
        request: &TokenRequest,
    ) -> Reply {
        let answer = handler.handle(&super::custom::GrantRequest {
            form: &request.form,
            client_id: &client.id,
        });
        match answer {
            super::custom::GrantAnswer::Tokens {
                user,
                scope,
                refresh,
            } => {
                let family = refresh.then(|| self.new_family());
                Reply::Tokens(self.issue(user.as_deref(), &client.id, &scope, family))
            }
            super::custom::GrantAnswer::Refuse {
                status,
                code,
                description,
            } => Reply::Error {
                status,
                code,
                description,
            },
        }
    }

    fn invalid_grant(&self, description: &str) -> Reply {
        Reply::error(
            self.config.invalid_grant_status,
            "invalid_grant",
            description,
        )
    }

    fn password(&mut self, client: &MockClient, request: &TokenRequest, scope: &str) -> Reply {
        let username = request
            .form
            .get("username")
            .map(String::as_str)
            .unwrap_or("");
        let password = request
            .form
            .get("password")
            .map(String::as_str)
            .unwrap_or("");
        let known = self
            .config
            .users
            .iter()
            .any(|(u, p)| u == username && p == password);
        if !known {
            return self.invalid_grant("Invalid user credentials");
        }
        // A client that may not refresh gets no refresh token: its renewal
        // repeats the grant.
        let family = client.allows("refresh_token").then(|| self.new_family());
        Reply::Tokens(self.issue(Some(username), &client.id, scope, family))
    }

    fn refresh(&mut self, client: &MockClient, request: &TokenRequest) -> Reply {
        let presented = request
            .form
            .get("refresh_token")
            .cloned()
            .unwrap_or_default();
        let Some(record) = self.refresh_tokens.get(&presented).cloned() else {
            return self.invalid_grant("Invalid refresh token");
        };
        if record.client != client.id {
            return self.invalid_grant("Token client and authorized client don't match");
        }
        if self.revoked_families.contains(&record.family) {
            return self.invalid_grant("Token is not active");
        }
        if record.spent {
            if self.config.refresh.reuse_detection {
                self.revoke_family(record.family);
            }
            return self.invalid_grant("Maximum allowed refresh token reuse exceeded");
        }
        if record.expires_at.is_some_and(|at| self.now() >= at) {
            return self.invalid_grant("Token is not active");
        }
        let scope = request
            .form
            .get("scope")
            .cloned()
            .unwrap_or(record.scope.clone());
        if self.config.refresh.rotate {
            if let Some(r) = self.refresh_tokens.get_mut(&presented) {
                r.spent = true;
            }
            Reply::Tokens(self.issue(
                record.user.as_deref(),
                &client.id,
                &scope,
                Some(record.family),
            ))
        } else {
            Reply::Tokens(self.issue(record.user.as_deref(), &client.id, &scope, None))
        }
    }

    fn code_exchange(&mut self, client: &MockClient, request: &TokenRequest) -> Reply {
        let code = request.form.get("code").cloned().unwrap_or_default();
        let Some(record) = self.codes.get(&code).cloned() else {
            return self.invalid_grant("Code not valid");
        };
        if record.used {
            // RFC 6749 §4.1.2: a replayed code revokes what it issued.
            if let Some(family) = record.family {
                self.revoke_family(family);
            }
            return self.invalid_grant("Code already used");
        }
        if self.now() >= record.expires_at {
            return self.invalid_grant("Code expired");
        }
        if record.client != client.id {
            return self.invalid_grant("Code was issued to another client");
        }
        if request.form.get("redirect_uri") != Some(&record.redirect_uri) {
            return self.invalid_grant("Incorrect redirect_uri");
        }
        if let Some(challenge) = &record.challenge {
            let verifier = request
                .form
                .get("code_verifier")
                .map(String::as_str)
                .unwrap_or("");
            let computed = URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()));
            if verifier.is_empty() || &computed != challenge {
                return self.invalid_grant("PKCE verification failed");
            }
        }
        let family = self.new_family();
        if let Some(r) = self.codes.get_mut(&code) {
            r.used = true;
            r.family = Some(family);
        }
        Reply::Tokens(self.issue(Some(&record.user), &client.id, &record.scope, Some(family)))
    }

    /// Works out which client is calling and whether it proved it.
    fn authenticate_client(
        &mut self,
        request: &TokenRequest,
    ) -> Result<(MockClient, ClientAuthUsed), (Reply, ClientAuthUsed)> {
        let invalid_status = self.config.error_shape.invalid_client_status;
        let invalid = |used| {
            (
                Reply::error(
                    invalid_status,
                    "invalid_client",
                    "Invalid client credentials",
                ),
                used,
            )
        };
        if let Some(header) = &request.authorization {
            for encoding in [BasicEncoding::Raw, BasicEncoding::FormUrlEncoded] {
                let Some((id, secret)) = decode_basic(header, encoding) else {
                    continue;
                };
                let found = self.config.clients.iter().find(|c| {
                    c.id == id
                        && c.accepts(&ClientKind::Basic(encoding))
                        && c.secret.as_deref() == Some(secret.expose_secret())
                });
                if let Some(client) = found {
                    return Ok((client.clone(), ClientAuthUsed::Basic));
                }
            }
            return Err(invalid(ClientAuthUsed::Basic));
        }
        if request.form.contains_key("client_assertion") {
            return self
                .assertion_client(&request.form)
                .map(|client| (client, ClientAuthUsed::Assertion))
                .ok_or_else(|| invalid(ClientAuthUsed::Assertion));
        }
        let id = request.form.get("client_id");
        if let Some(secret) = request.form.get("client_secret") {
            let found = self.config.clients.iter().find(|c| {
                Some(&c.id) == id
                    && c.accepts(&ClientKind::SecretInBody)
                    && c.secret.as_ref() == Some(secret)
            });
            return found
                .map(|c| (c.clone(), ClientAuthUsed::SecretInBody))
                .ok_or_else(|| invalid(ClientAuthUsed::SecretInBody));
        }
        match id.and_then(|id| self.config.clients.iter().find(|c| &c.id == id)) {
            Some(client) if client.accepts(&ClientKind::Public) => {
                Ok((client.clone(), ClientAuthUsed::PublicId))
            }
            Some(_) => Err(invalid(ClientAuthUsed::PublicId)),
            None if id.is_some() => Err(invalid(ClientAuthUsed::PublicId)),
            None => Err(invalid(ClientAuthUsed::Missing)),
        }
    }
}

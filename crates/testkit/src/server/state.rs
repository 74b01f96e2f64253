//! The mock server's memory: live tokens and codes, their families, and the
//! issuing of new ones in the configured response style.

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;

use authkit_core::clock::Clock;
use serde_json::{Value, json};
use time::OffsetDateTime;

use super::config::{ResponseStyle, ServerConfig};
use super::faults::Fault;
use super::log::RequestLog;

/// A refresh token the server issued.
#[derive(Debug, Clone)]
pub(crate) struct RefreshRecord {
    pub(crate) family: u64,
    pub(crate) user: Option<String>,
    pub(crate) client: String,
    pub(crate) scope: String,
    pub(crate) expires_at: Option<OffsetDateTime>,
    pub(crate) spent: bool,
}

/// An access token the server issued.
#[derive(Debug, Clone)]
pub(crate) struct AccessRecord {
    pub(crate) family: Option<u64>,
    pub(crate) expires_at: OffsetDateTime,
}

/// An authorization code the server issued.
#[derive(Debug, Clone)]
pub(crate) struct CodeRecord {
    pub(crate) client: String,
    pub(crate) redirect_uri: String,
    pub(crate) user: String,
    pub(crate) scope: String,
    pub(crate) challenge: Option<String>,
    pub(crate) expires_at: OffsetDateTime,
    pub(crate) used: bool,
    /// The token family issued from this code, revoked if the code is replayed.
    pub(crate) family: Option<u64>,
}

/// Everything the server remembers.
pub(crate) struct State {
    pub(crate) config: ServerConfig,
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) counter: u64,
    pub(crate) refresh_tokens: HashMap<String, RefreshRecord>,
    pub(crate) access_tokens: HashMap<String, AccessRecord>,
    /// Requests to the protected resources, answered or refused.
    pub(crate) resource_requests: usize,
    pub(crate) codes: HashMap<String, CodeRecord>,
    pub(crate) revoked_families: std::collections::HashSet<u64>,
    pub(crate) faults: VecDeque<Fault>,
    pub(crate) log: RequestLog,
    /// Every token request as received, values included, for wire checks.
    pub(crate) wire: Vec<crate::wire::WireRequest>,
    pub(crate) issued_secrets: Vec<String>,
    pub(crate) deny_next_authorization: bool,
    /// The `jti` of every client assertion accepted: a replay is refused.
    pub(crate) seen_assertions: std::collections::HashSet<String>,
}

impl State {
    pub(crate) fn new(config: ServerConfig, clock: Arc<dyn Clock>) -> Self {
        Self {
            config,
            clock,
            counter: 0,
            refresh_tokens: HashMap::new(),
            access_tokens: HashMap::new(),
            resource_requests: 0,
            codes: HashMap::new(),
            revoked_families: Default::default(),
            faults: VecDeque::new(),
            log: RequestLog::default(),
            wire: Vec::new(),
            issued_secrets: Vec::new(),
            deny_next_authorization: false,
            seen_assertions: Default::default(),
        }
    }

    pub(crate) fn now(&self) -> OffsetDateTime {
        self.clock.now()
    }

    /// A new secret value: recognisable prefix, counter, random tail.
    pub(crate) fn mint(&mut self, kind: &str) -> String {
        self.counter += 1;
        let mut tail = [0u8; 8];
        // The tail only makes values unguessable across runs; zeros would do.
        let _ = getrandom::fill(&mut tail);
        let hex: String = tail.iter().map(|b| format!("{b:02x}")).collect();
        let value = format!("mock-{kind}-{}-{hex}", self.counter);
        self.issued_secrets.push(value.clone());
        value
    }

    pub(crate) fn new_family(&mut self) -> u64 {
        self.counter += 1;
        self.counter
    }

    pub(crate) fn revoke_family(&mut self, family: u64) {
        self.revoked_families.insert(family);
    }

    /// Issues an access token, and a refresh token when `refresh_family` is
    /// given, rendered in the configured style.
    pub(crate) fn issue(
        &mut self,
        user: Option<&str>,
        client: &str,
        scope: &str,
        refresh_family: Option<u64>,
    ) -> Value {
        let now = self.now();
        let access_ttl = self.config.access_ttl.as_secs();
        let access = self.mint("at");
        self.access_tokens.insert(
            access.clone(),
            AccessRecord {
                family: refresh_family,
                expires_at: now + self.config.access_ttl,
            },
        );
        let refresh = refresh_family.map(|family| {
            let token = self.mint("rt");
            self.refresh_tokens.insert(
                token.clone(),
                RefreshRecord {
                    family,
                    user: user.map(str::to_owned),
                    client: client.to_owned(),
                    scope: scope.to_owned(),
                    expires_at: self.config.refresh_ttl.map(|ttl| now + ttl),
                    spent: false,
                },
            );
            token
        });
        let mut body = json!({
            "access_token": access,
            "token_type": "Bearer",
            "expires_in": access_ttl,
        });
        if let Some(rt) = &refresh {
            body["refresh_token"] = json!(rt);
        }
        match self.config.style {
            ResponseStyle::Keycloak => {
                let refresh_ttl = match (&refresh, self.config.refresh_ttl) {
                    (Some(_), Some(ttl)) => ttl.as_secs(),
                    _ => 0,
                };
                body["refresh_expires_in"] = json!(refresh_ttl);
                body["not-before-policy"] = json!(0);
                let session = self.mint("session");
                body["session_state"] = json!(session);
                body["scope"] = json!(if scope.is_empty() {
                    "profile email"
                } else {
                    scope
                });
            }
            ResponseStyle::ApiManager => {
                let openid = scope.split_whitespace().any(|s| s == "openid");
                body["scope"] = json!(if openid { "openid" } else { "default" });
                if openid {
                    let id_token = self.mint("idt");
                    body["id_token"] = json!(format!("eyJ{id_token}"));
                }
            }
            ResponseStyle::Plain => {
                if !scope.is_empty() {
                    body["scope"] = json!(scope);
                }
            }
        }
        body
    }

    /// Whether an access token is one this server issued, unexpired and not revoked.
    pub(crate) fn access_token_active(&self, token: &str) -> bool {
        self.access_tokens.get(token).is_some_and(|r| {
            self.now() < r.expires_at
                && r.family.is_none_or(|f| !self.revoked_families.contains(&f))
        })
    }
}

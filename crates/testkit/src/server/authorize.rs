//! The authorization endpoint: a person who is always signed in and always
//! approves (unless told to deny), so code flows run without a browser.

use std::collections::HashMap;

use url::Url;

use super::state::{CodeRecord, State};

/// What `GET /authorize` answers.
pub(crate) enum AuthorizeReply {
    /// 302 to this URL (the client's redirect URI with `code` or `error`).
    Redirect(String),
    /// An error page: the request was too broken to redirect back.
    Page(u16, String),
}

impl State {
    pub(crate) fn authorize(&mut self, query: &HashMap<String, String>) -> AuthorizeReply {
        let get = |name: &str| query.get(name).map(String::as_str);
        let Some(client) = get("client_id")
            .and_then(|id| self.config.clients.iter().find(|c| c.id == id))
            .cloned()
        else {
            return AuthorizeReply::Page(400, "Unknown client".into());
        };
        let Some(redirect_uri) =
            get("redirect_uri").filter(|uri| client.redirect_uris.iter().any(|r| r == uri))
        else {
            return AuthorizeReply::Page(400, "Invalid redirect_uri".into());
        };
        let redirect_uri = redirect_uri.to_owned();
        let state = get("state").map(str::to_owned);
        let back = |params: &[(&str, &str)]| {
            let mut url = match Url::parse(&redirect_uri) {
                Ok(url) => url,
                Err(_) => return AuthorizeReply::Page(400, "Invalid redirect_uri".into()),
            };
            {
                let mut pairs = url.query_pairs_mut();
                for (k, v) in params {
                    pairs.append_pair(k, v);
                }
                if let Some(s) = &state {
                    pairs.append_pair("state", s);
                }
            }
            AuthorizeReply::Redirect(url.into())
        };
        if get("response_type") != Some("code") {
            return back(&[("error", "unsupported_response_type")]);
        }
        if std::mem::take(&mut self.deny_next_authorization) {
            return back(&[
                ("error", "access_denied"),
                ("error_description", "The user denied access"),
            ]);
        }
        let challenge = match (get("code_challenge"), get("code_challenge_method")) {
            (None, _) => None,
            (Some(c), Some("S256")) => Some(c.to_owned()),
            (Some(_), _) => {
                return back(&[
                    ("error", "invalid_request"),
                    ("error_description", "Only S256 is supported"),
                ]);
            }
        };
        let Some((user, _)) = self.config.users.first().cloned() else {
            return AuthorizeReply::Page(500, "No user is configured to sign in".into());
        };
        let code = self.create_code(
            &client.id,
            &redirect_uri,
            &user,
            get("scope").unwrap_or(""),
            challenge,
        );
        back(&[("code", &code)])
    }

    pub(crate) fn create_code(
        &mut self,
        client: &str,
        redirect_uri: &str,
        user: &str,
        scope: &str,
        challenge: Option<String>,
    ) -> String {
        let code = self.mint("code");
        let expires_at = self.now() + self.config.code_ttl;
        self.codes.insert(
            code.clone(),
            CodeRecord {
                client: client.to_owned(),
                redirect_uri: redirect_uri.to_owned(),
                user: user.to_owned(),
                scope: scope.to_owned(),
                challenge,
                expires_at,
                used: false,
                family: None,
            },
        );
        code
    }
}

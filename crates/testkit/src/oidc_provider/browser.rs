//! A person's browser, played over plain HTTP for the tests that need a
//! sign-in at oidc-provider but not a real browser: a cookie-keeping
//! client that follows the server's redirects and stops where the server
//! sends the browser back to the client (a loopback redirect URI that need
//! not be listening), and a reader of the forms on the server's pages.

/// A cookie-keeping HTTP client that follows redirects, as a browser would.
pub(super) struct Browser {
    client: reqwest::Client,
}

pub(super) struct Page {
    pub(super) url: String,
    pub(super) body: String,
    /// Where the server sent the browser outside its own origin (the
    /// client's redirect URI), not followed.
    pub(super) left_to: Option<url::Url>,
}

/// A form on a page: where it posts and its hidden fields.
pub(super) struct Form {
    action: String,
    hidden: Vec<(String, String)>,
}

impl Browser {
    pub(super) fn new() -> Self {
        let client = authkit_core::transport::http_client_builder()
            .expect("TLS setup")
            .cookie_store(true)
            .redirect(reqwest::redirect::Policy::custom(|attempt| {
                let leaves = attempt
                    .previous()
                    .first()
                    .is_some_and(|first| first.origin() != attempt.url().origin());
                if leaves {
                    attempt.stop()
                } else if attempt.previous().len() > 20 {
                    attempt.error("too many redirects")
                } else {
                    attempt.follow()
                }
            }))
            .build()
            .expect("an HTTP client");
        Self { client }
    }

    pub(super) async fn get(&self, url: &str) -> Page {
        let response = self.client.get(url).send().await.expect("GET");
        Page::read(response).await
    }

    pub(super) async fn submit(
        &self,
        page_url: &str,
        form: &Form,
        fields: &[(&str, &str)],
    ) -> Page {
        let action = url::Url::parse(page_url)
            .and_then(|base| base.join(&form.action))
            .expect("form action");
        let mut body: Vec<(String, String)> = form.hidden.clone();
        body.extend(fields.iter().map(|(k, v)| (k.to_string(), v.to_string())));
        let encoded = form_urlencoded::Serializer::new(String::new())
            .extend_pairs(body)
            .finish();
        let response = self
            .client
            .post(action)
            .header("content-type", "application/x-www-form-urlencoded")
            .body(encoded)
            .send()
            .await
            .expect("POST");
        Page::read(response).await
    }
}

impl Page {
    async fn read(response: reqwest::Response) -> Page {
        let url = response.url().to_string();
        let left_to = response
            .status()
            .is_redirection()
            .then(|| response.headers().get("location"))
            .flatten()
            .and_then(|location| location.to_str().ok())
            .and_then(|location| response.url().join(location).ok());
        Page {
            url,
            left_to,
            body: response.text().await.expect("page body"),
        }
    }
}

/// The value of `name="…"` in a tag.
fn attribute(tag: &str, name: &str) -> Option<String> {
    let needle = format!("{name}=\"");
    let start = tag.find(&needle)? + needle.len();
    let end = tag[start..].find('"')? + start;
    Some(tag[start..end].replace("&amp;", "&"))
}

pub(super) fn forms(page: &str) -> Vec<(String, String)> {
    // (opening tag, inner html) of every form.
    let mut out = Vec::new();
    let mut rest = page;
    while let Some(start) = rest.find("<form") {
        let after = &rest[start..];
        let Some(tag_end) = after.find('>') else {
            break;
        };
        let Some(close) = after.find("</form>") else {
            break;
        };
        out.push((
            after[..tag_end].to_owned(),
            after[tag_end..close].to_owned(),
        ));
        rest = &after[close..];
    }
    out
}

pub(super) fn form_from(tag: &str, inner: &str) -> Form {
    let hidden = inner
        .split("<input")
        .skip(1)
        .filter(|input| input.contains("type=\"hidden\""))
        .filter_map(|input| Some((attribute(input, "name")?, attribute(input, "value")?)))
        .collect();
    Form {
        action: attribute(tag, "action").unwrap_or_default(),
        hidden,
    }
}

pub(super) fn find_form(page: &str, id: &str) -> Option<Form> {
    forms(page)
        .into_iter()
        .find(|(tag, _)| attribute(tag, "id").as_deref() == Some(id))
        .map(|(tag, inner)| form_from(&tag, &inner))
}

pub(super) fn find_form_by_action(page: &str, last_segment: &str) -> Option<Form> {
    forms(page)
        .into_iter()
        .find(|(tag, _)| {
            attribute(tag, "action").is_some_and(|a| a.ends_with(&format!("/{last_segment}")))
        })
        .map(|(tag, inner)| form_from(&tag, &inner))
}

//! The pages the loopback receiver shows the browser: the whole user
//! experience of the end of a browser sign-in.
//!
//! One page per outcome (signed in, denied, an error from the provider, a
//! response that does not answer this sign-in, the wrong path, a request
//! that was not a redirect, a browser too slow to send one), each small,
//! accessible (a language, a title, one heading, the message in a `main`
//! landmark, failures announced with `role="alert"`) and inert: no script,
//! no style sheet, no image, nothing loaded from anywhere. The headers say
//! so to the browser: a Content-Security-Policy of `default-src 'none'`
//! (the only style is one inline block allowed by its hash), no caching
//! (the URL held a code), no referrer (the URL must not leak to another
//! site), no framing, no content sniffing. A value that came from the
//! provider (`error_description`) is escaped; no page ever holds a code,
//! a `state` or a token.

use std::fmt::Write;

/// The one style block of every page, allowed by its hash in the policy.
const STYLE: &str = "body{font-family:system-ui,sans-serif;max-width:36rem;margin:4rem auto;padding:0 1rem;line-height:1.5}";

/// One outcome of the redirect, as the browser sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Page {
    /// The code arrived: naming the account when the caller said which.
    SignedIn { account: Option<String> },
    /// The person declined (`access_denied`).
    Denied,
    /// The provider sent another error; its description, escaped.
    ProviderError { description: String },
    /// The `state` does not answer this sign-in.
    StateMismatch,
    /// Another path (a browser asking for `/favicon.ico`).
    WrongPath,
    /// The redirect has neither a code nor an error.
    NoCode,
    /// Not an HTTP GET at all.
    NotARedirect,
    /// The browser did not send its request in time.
    TooSlow,
}

impl Page {
    fn parts(&self) -> (&'static str, &'static str, String, bool) {
        match self {
            Page::SignedIn { account } => (
                "200 OK",
                "Signed in",
                match account {
                    Some(account) => format!(
                        "You are signed in as <strong>{}</strong>. You can close this tab and return to the terminal.",
                        escape(account)
                    ),
                    None => "You are signed in. You can close this tab and return to the terminal.".into(),
                },
                false,
            ),
            Page::Denied => (
                "200 OK",
                "Sign-in cancelled",
                "The sign-in was declined, so nothing was signed in. You can close this tab; run the command again to retry.".into(),
                true,
            ),
            Page::ProviderError { description } => (
                "200 OK",
                "Sign-in failed",
                format!(
                    "The sign-in service answered: <q>{}</q>. Nothing was signed in. You can close this tab; the terminal says what to do next.",
                    escape(description)
                ),
                true,
            ),
            Page::StateMismatch => (
                "400 Bad Request",
                "Not this sign-in",
                "This response does not belong to the sign-in in progress, so it was refused: it may be left over from an earlier attempt, or forged. Nothing was signed in. Start the sign-in again from the terminal.".into(),
                true,
            ),
            Page::WrongPath => (
                "404 Not Found",
                "Not found",
                "This is authkit's sign-in receiver; there is nothing at this address.".into(),
                true,
            ),
            Page::NoCode => (
                "400 Bad Request",
                "Incomplete response",
                "The sign-in response carried no code. Nothing was signed in; the receiver is still waiting for the sign-in to finish.".into(),
                true,
            ),
            Page::NotARedirect => (
                "400 Bad Request",
                "Not a sign-in response",
                "This is authkit's sign-in receiver; it only answers the browser's return from the sign-in page.".into(),
                true,
            ),
            Page::TooSlow => (
                "408 Request Timeout",
                "Request timed out",
                "The browser took too long to send its request. The receiver is still waiting; reload the page or sign in again.".into(),
                true,
            ),
        }
    }

    /// The page as a complete HTTP/1.1 response.
    pub(crate) fn to_http(&self) -> String {
        let (status, title, message, failure) = self.parts();
        let role = if failure { " role=\"alert\"" } else { "" };
        let body = format!(
            "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><meta name=\"referrer\" content=\"no-referrer\"><title>{title} · authkit</title><style>{STYLE}</style></head>\n<body><main><h1>{title}</h1><p{role}>{message}</p></main></body></html>\n"
        );
        let mut response = String::with_capacity(body.len() + 512);
        let _ = write!(
            response,
            "HTTP/1.1 {status}\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: {}\r\nCache-Control: no-store\r\nPragma: no-cache\r\nContent-Security-Policy: {}\r\nReferrer-Policy: no-referrer\r\nX-Content-Type-Options: nosniff\r\nX-Frame-Options: DENY\r\nConnection: close\r\n\r\n{body}",
            body.len(),
            content_security_policy()
        );
        response
    }
}

/// Nothing may load; the one inline style is allowed by its SHA-256.
pub(crate) fn content_security_policy() -> String {
    format!(
        "default-src 'none'; style-src 'sha256-{}'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
        style_hash()
    )
}

fn style_hash() -> String {
    use base64::Engine;
    use sha2::Digest;
    base64::engine::general_purpose::STANDARD.encode(sha2::Sha256::digest(STYLE.as_bytes()))
}

/// HTML-escapes text from outside.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for ch in text.chars() {
        match ch {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c if c.is_control() => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_providers_description_is_escaped() {
        let page = Page::ProviderError {
            description: "<script>alert(1)</script> & \"more\"".into(),
        }
        .to_http();
        assert!(!page.contains("<script>"));
        assert!(page.contains("&lt;script&gt;alert(1)&lt;/script&gt; &amp; &quot;more&quot;"));
    }

    #[test]
    fn every_page_is_inert_uncached_and_refers_nowhere() {
        for page in [
            Page::SignedIn {
                account: Some("vonage:key:desk".into()),
            },
            Page::Denied,
            Page::StateMismatch,
            Page::WrongPath,
            Page::NoCode,
            Page::NotARedirect,
            Page::TooSlow,
        ] {
            let http = page.to_http();
            assert!(http.contains("Cache-Control: no-store"));
            assert!(http.contains("Referrer-Policy: no-referrer"));
            assert!(http.contains("Content-Security-Policy: default-src 'none'"));
            assert!(http.contains("<html lang=\"en\">") && http.contains("<main><h1>"));
            assert!(!http.contains("<script"));
            let (head, body) = http.split_once("\r\n\r\n").unwrap();
            let length: usize = head
                .lines()
                .find_map(|l| l.strip_prefix("Content-Length: "))
                .unwrap()
                .parse()
                .unwrap();
            assert_eq!(length, body.len());
        }
    }
}

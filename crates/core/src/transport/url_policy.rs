//! Which URLs a token request may go to, and which redirects it may follow.
//!
//! A token request's body holds credentials, so it goes over TLS, except to
//! loopback where there is no network to protect; and a redirect to another
//! origin is never followed (a 307 would re-send the body to whoever the
//! first server points at).

use url::Url;

use crate::error::Error;

/// Accepts `https://` URLs, and `http://` only for loopback hosts; refuses
/// credentials and fragments in the URL.
pub fn validate_url(text: &str) -> Result<Url, Error> {
    let url = Url::parse(text.trim())
        .map_err(|e| Error::config(format!("invalid URL {:?}: {e}", text.trim())))?;
    if !url.username().is_empty() || url.password().is_some() {
        return Err(Error::config("a URL must not contain credentials"));
    }
    if url.fragment().is_some() {
        return Err(Error::config("an endpoint URL must not have a fragment"));
    }
    match url.scheme() {
        "https" => Ok(url),
        "http" if is_loopback(&url) => Ok(url),
        "http" => Err(Error::config(format!(
            "plain http is allowed only for loopback hosts, not {}",
            url.host_str().unwrap_or("")
        ))),
        other => Err(Error::config(format!("unsupported URL scheme {other}"))),
    }
}

/// Whether the URL's host is this machine (`localhost`, 127.0.0.0/8, `::1`).
pub fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    }
}

/// The redirect rule authkit's own HTTP client follows: at most three
/// redirects, all within `url`'s origin. Build a supplied client with it (or
/// with `Policy::none()`) to keep the rule; see
/// [`crate::endpoint::TokenEndpointBuilder::http_client`].
pub fn same_origin_redirects(url: &Url) -> reqwest::redirect::Policy {
    let origin = url.origin();
    reqwest::redirect::Policy::custom(move |attempt| {
        if attempt.previous().len() >= 3 || attempt.url().origin() != origin {
            attempt.stop()
        } else {
            attempt.follow()
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_loopback_may_use_plain_http() {
        assert!(validate_url("https://auth.voipex.io/token").is_ok());
        assert!(validate_url("http://127.0.0.1:8080/token").is_ok());
        assert!(validate_url("http://localhost/token").is_ok());
        assert!(validate_url("http://[::1]:9/token").is_ok());
        assert!(matches!(
            validate_url("http://auth.voipex.io/token"),
            Err(Error::Config(_))
        ));
        assert!(matches!(
            validate_url("https://u:p@host/token"),
            Err(Error::Config(_))
        ));
        assert!(matches!(
            validate_url("ftp://host/token"),
            Err(Error::Config(_))
        ));
    }
}

//! The loopback receiver: a one-shot HTTP listener on 127.0.0.1 that catches
//! the browser's redirect after sign-in (RFC 8252 §7.3).
//!
//! It listens only on the loopback interface, answers only its redirect
//! path, hands back the `code` (or the `error` the server sent, such as
//! `access_denied`), tells the browser it may close the tab, and gives up
//! after a timeout. Requests to other paths (a browser asking for
//! `/favicon.ico`) get a 404 and the receiver keeps waiting. What the
//! browser shows for each outcome is in the `pages` module.

use std::net::SocketAddr;
use std::time::Duration;

use std::collections::BTreeMap;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use url::Url;

use crate::error::Error;

use crate::error::refusal::Refusal;
use crate::grant::kind::GrantKind;
use crate::grant::pkce::State;
use crate::secret::AuthorizationCode;

mod pages;

use pages::Page;

/// What the browser's redirect brought back.
#[derive(Debug, Clone)]
pub struct Callback {
    /// The authorization code.
    pub code: AuthorizationCode,
    /// The `state` parameter, if the redirect had one.
    pub state: Option<String>,
    /// The `iss` parameter (RFC 9207): the issuer that answered, if the
    /// server names itself.
    pub iss: Option<String>,
}

/// The largest request head the receiver reads.
const MAX_REQUEST: usize = 16 * 1024;
/// How long one browser connection may take to send its request.
const READ_TIMEOUT: Duration = Duration::from_secs(10);

/// Listens for the sign-in redirect on a loopback address.
#[derive(Debug)]
pub struct LoopbackReceiver {
    listener: TcpListener,
    path: String,
    redirect_uri: String,
}

impl LoopbackReceiver {
    /// Listens on the host and port of `redirect_uri`, which must be
    /// `http://127.0.0.1:<port>/<path>` (or `localhost`, or `[::1]`). Port 0
    /// picks a free port; [`LoopbackReceiver::redirect_uri`] then says which.
    pub async fn bind(redirect_uri: &str) -> Result<Self, Error> {
        let mut url = Url::parse(redirect_uri)
            .map_err(|e| Error::config(format!("invalid redirect URI: {e}")))?;
        let ip = match url.host() {
            Some(url::Host::Ipv4(ip)) if ip.is_loopback() => std::net::IpAddr::V4(ip),
            Some(url::Host::Ipv6(ip)) if ip.is_loopback() => std::net::IpAddr::V6(ip),
            Some(url::Host::Domain(d)) if d.eq_ignore_ascii_case("localhost") => {
                std::net::IpAddr::V4(std::net::Ipv4Addr::LOCALHOST)
            }
            _ => {
                return Err(Error::config(
                    "the loopback receiver needs an http://127.0.0.1:PORT/... redirect URI",
                ));
            }
        };
        if url.scheme() != "http" {
            return Err(Error::config("a loopback redirect URI uses plain http"));
        }
        let port = url.port().unwrap_or(80);
        let listener = TcpListener::bind(SocketAddr::new(ip, port))
            .await
            .map_err(|e| {
                Error::config(format!(
                    "cannot listen on {ip}:{port} for the sign-in redirect: {e}"
                ))
            })?;
        let actual = listener
            .local_addr()
            .map_err(|e| Error::config(format!("cannot read the receiver's address: {e}")))?
            .port();
        // The redirect URI is sent byte for byte as given, unless the port
        // was left to the system.
        let redirect_uri = if port == 0 {
            let _ = url.set_port(Some(actual));
            url.to_string()
        } else {
            redirect_uri.to_owned()
        };
        Ok(Self {
            listener,
            path: url.path().to_owned(),
            redirect_uri,
        })
    }

    /// The redirect URI to register and send, with the actual port.
    pub fn redirect_uri(&self) -> &str {
        &self.redirect_uri
    }

    /// Waits for the redirect. Returns the code and state, the server's
    /// refusal (`access_denied`, ...) as [`Error::Refused`], or
    /// [`Error::SignInRequired`] when nobody signed in within `timeout`.
    /// The browser's page says "signed in" without naming an account and
    /// the `state` is left to the caller (see [`LoopbackReceiver::wait_for`]).
    pub async fn wait(self, timeout: Duration) -> Result<Callback, Error> {
        self.wait_inner(None, None, timeout).await
    }

    /// Waits for the redirect that answers the sign-in whose `state` is
    /// `expected`, for the account named `account` (its readable key; never a
    /// secret). A redirect with another or no `state` ends the sign-in with
    /// [`Error::SignInRequired`] and a page that says so: it does not answer
    /// this sign-in, and may be a forged one. The success page names the
    /// account.
    pub async fn wait_for(
        self,
        expected: &State,
        account: &str,
        timeout: Duration,
    ) -> Result<Callback, Error> {
        self.wait_inner(Some(expected), Some(account), timeout)
            .await
    }

    async fn wait_inner(
        self,
        expected: Option<&State>,
        account: Option<&str>,
        timeout: Duration,
    ) -> Result<Callback, Error> {
        match tokio::time::timeout(timeout, self.serve(expected, account)).await {
            Ok(result) => result,
            Err(_) => Err(Error::SignInRequired {
                reason: format!("no sign-in arrived within {} s", timeout.as_secs()),
            }),
        }
    }

    async fn serve(
        &self,
        expected: Option<&State>,
        account: Option<&str>,
    ) -> Result<Callback, Error> {
        loop {
            let Ok((stream, _)) = self.listener.accept().await else {
                continue;
            };
            if let Some(outcome) = self.handle(stream, expected, account).await {
                return outcome;
            }
        }
    }

    /// Answers one connection; `Some` when it was the redirect.
    async fn handle(
        &self,
        mut stream: TcpStream,
        expected: Option<&State>,
        account: Option<&str>,
    ) -> Option<Result<Callback, Error>> {
        let target = match tokio::time::timeout(READ_TIMEOUT, read_target(&mut stream)).await {
            Ok(Some(target)) => target,
            Ok(None) => {
                respond(&mut stream, &Page::NotARedirect).await;
                return None;
            }
            Err(_) => {
                respond(&mut stream, &Page::TooSlow).await;
                return None;
            }
        };
        let Ok(url) = Url::parse(&format!("http://127.0.0.1{target}")) else {
            respond(&mut stream, &Page::NotARedirect).await;
            return None;
        };
        if url.path() != self.path {
            respond(&mut stream, &Page::WrongPath).await;
            return None;
        }
        let param = |name: &str| {
            url.query_pairs()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.into_owned())
        };
        let state = param("state");
        if let Some(expected) = expected
            && !state.as_deref().is_some_and(|s| expected.matches(s))
        {
            respond(&mut stream, &Page::StateMismatch).await;
            return Some(Err(Error::SignInRequired {
                reason: "the sign-in response does not answer this sign-in (its state differs); start again".into(),
            }));
        }
        if let Some(error) = param("error") {
            let page = if error == "access_denied" {
                Page::Denied
            } else {
                Page::ProviderError {
                    description: param("error_description").unwrap_or_else(|| error.clone()),
                }
            };
            respond(&mut stream, &page).await;
            let fields: BTreeMap<String, serde_json::Value> = url
                .query_pairs()
                .filter(|(k, _)| k != "code" && k != "state")
                .map(|(k, v)| (k.into_owned(), serde_json::Value::String(v.into_owned())))
                .collect();
            return Some(Err(Error::Refused(Refusal::from_fields(
                GrantKind::AuthorizationCode,
                &error,
                302,
                fields,
            ))));
        }
        let Some(code) = param("code") else {
            respond(&mut stream, &Page::NoCode).await;
            return None;
        };
        respond(
            &mut stream,
            &Page::SignedIn {
                account: account.map(str::to_owned),
            },
        )
        .await;
        Some(Ok(Callback {
            code: AuthorizationCode::new(code),
            state,
            iss: param("iss"),
        }))
    }
}

/// Reads the request head and returns the request target of a GET.
async fn read_target(stream: &mut TcpStream) -> Option<String> {
    let mut head = Vec::with_capacity(1024);
    let mut buf = [0u8; 1024];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") {
        let n = stream.read(&mut buf).await.ok()?;
        if n == 0 || head.len() + n > MAX_REQUEST {
            return None;
        }
        head.extend_from_slice(&buf[..n]);
    }
    let line = head.split(|b| *b == b'\n').next()?;
    let line = std::str::from_utf8(line).ok()?.trim_end();
    let mut parts = line.split(' ');
    let (method, target) = (parts.next()?, parts.next()?);
    (method == "GET" && target.starts_with('/')).then(|| target.to_owned())
}

async fn respond(stream: &mut TcpStream, page: &Page) {
    let response = page.to_http();
    let _ = stream.write_all(response.as_bytes()).await;
    let _ = stream.shutdown().await;
}

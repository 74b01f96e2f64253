//! Failures the mock server can be told to produce for its next requests.

use std::time::Duration;

/// One injected failure. A faulted request changes no server state, except
/// [`Fault::Delay`], which answers normally after the delay.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fault {
    /// A 5xx status with an nginx-style HTML page.
    ServerError(u16),
    /// 429 with a `Retry-After` in seconds.
    RateLimited {
        /// The `Retry-After` value in seconds.
        retry_after_secs: u64,
    },
    /// The normal answer, after this delay.
    Delay(Duration),
    /// A 200 whose JSON body is cut off in the middle of the access token.
    TruncatedJson,
    /// A 200 with an HTML sign-in page instead of JSON.
    HtmlLoginPage,
    /// A 200 whose JSON body is an OAuth error.
    ErrorIn200 {
        /// The `error` code.
        code: String,
    },
    /// A 200 with a body larger than any client should accept (2 MiB).
    HugeBody,
    /// A refusal with this status, code and description, in the server's
    /// [`ErrorShape`](crate::ErrorShape): the description goes in the field
    /// the shape names, as the server's own refusals do.
    Refusal {
        /// The HTTP status.
        status: u16,
        /// The `error` code.
        code: String,
        /// The reason in words.
        description: String,
    },
}

impl Fault {
    /// An nginx-style page for a 5xx status.
    pub(crate) fn html_page(status: u16) -> String {
        let reason = match status {
            500 => "Internal Server Error",
            502 => "Bad Gateway",
            503 => "Service Temporarily Unavailable",
            504 => "Gateway Time-out",
            _ => "Error",
        };
        format!(
            "<html>\r\n<head><title>{status} {reason}</title></head>\r\n<body>\r\n<center><h1>{status} {reason}</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n"
        )
    }
}

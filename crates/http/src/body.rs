//! Which request bodies can be sent twice.
//!
//! A request refused with 401 is replayed once with a fresh token, which
//! needs its body a second time. A body in memory can be cloned; a stream
//! cannot be rewound, so a request with a streaming body is sent once and
//! its 401 comes back to the caller as it is (with the challenge in the
//! response's extensions): replaying half a stream, or buffering an unbounded
//! one just in case, would be worse than letting the caller decide.

use bytes::Bytes;
use http_body_util::{Empty, Full};

/// A request body that may be able to produce an identical copy of itself.
pub trait ReplayBody: Sized {
    /// A copy to send again, or `None` when the body cannot be replayed.
    fn try_clone_body(&self) -> Option<Self>;
}

impl ReplayBody for Full<Bytes> {
    fn try_clone_body(&self) -> Option<Self> {
        Some(self.clone())
    }
}

impl ReplayBody for Empty<Bytes> {
    fn try_clone_body(&self) -> Option<Self> {
        Some(Empty::new())
    }
}

impl ReplayBody for String {
    fn try_clone_body(&self) -> Option<Self> {
        Some(self.clone())
    }
}

impl ReplayBody for Vec<u8> {
    fn try_clone_body(&self) -> Option<Self> {
        Some(self.clone())
    }
}

impl ReplayBody for Bytes {
    fn try_clone_body(&self) -> Option<Self> {
        Some(self.clone())
    }
}

impl ReplayBody for () {
    fn try_clone_body(&self) -> Option<Self> {
        Some(())
    }
}

impl<D, E> ReplayBody for http_body_util::combinators::BoxBody<D, E> {
    /// A boxed body is a stream as far as the layer can tell: not replayed.
    fn try_clone_body(&self) -> Option<Self> {
        None
    }
}

impl<D, E> ReplayBody for http_body_util::combinators::UnsyncBoxBody<D, E> {
    /// A boxed body is a stream as far as the layer can tell: not replayed.
    fn try_clone_body(&self) -> Option<Self> {
        None
    }
}

/// A copy of `request` to send again, when its body can be copied.
pub(crate) fn try_clone_request<B: ReplayBody>(
    request: &http::Request<B>,
) -> Option<http::Request<B>> {
    let body = request.body().try_clone_body()?;
    let mut copy = http::Request::new(body);
    *copy.method_mut() = request.method().clone();
    *copy.uri_mut() = request.uri().clone();
    *copy.version_mut() = request.version();
    *copy.headers_mut() = request.headers().clone();
    *copy.extensions_mut() = request.extensions().clone();
    Some(copy)
}

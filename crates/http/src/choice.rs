//! Per-request choices, carried in the request's extensions.
//!
//! One client usually talks to one API as one account. When a request needs
//! another account or resource, it names that account's manager; when it
//! must go out without a token (a public endpoint, a token URL itself), it
//! opts out. Both travel as request extensions, so they work the same through
//! reqwest-middleware's `with_extension` and an `http::Request`'s
//! `extensions_mut`.

use authkit_core::TokenManager;

/// Use this manager's token for this request instead of the layer's own.
#[derive(Clone, Debug)]
pub struct UseManager(pub TokenManager);

/// Send this request without a token.
#[derive(Clone, Copy, Debug, Default)]
pub struct WithoutToken;

/// The manager a request asks for: its own choice, or `default`; `None` when
/// it opts out.
pub(crate) fn manager_for<'a>(
    extensions: &'a http::Extensions,
    default: &'a TokenManager,
) -> Option<&'a TokenManager> {
    if extensions.get::<WithoutToken>().is_some() {
        return None;
    }
    Some(
        extensions
            .get::<UseManager>()
            .map_or(default, |chosen| &chosen.0),
    )
}

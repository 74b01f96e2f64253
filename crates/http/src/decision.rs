//! What to do with a response: hand it back, or replay the request once with
//! a fresh token. Shared by the middleware and the tower layer.

use http::{HeaderMap, StatusCode};

use crate::challenge::{BearerChallenge, BearerError};

/// The gRPC status `UNAUTHENTICATED`, which a gRPC server sends (with HTTP
/// 200) where a REST API sends 401.
const GRPC_UNAUTHENTICATED: &str = "16";

/// What the response says about the token that was sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Verdict {
    /// Nothing wrong with the token (or nothing a new one would fix).
    Accepted,
    /// The token was refused (401, `invalid_token`, gRPC `UNAUTHENTICATED`):
    /// a fresh one may succeed.
    Refused,
}

/// Reads the status, the `WWW-Authenticate` challenge and a gRPC status.
pub(crate) fn verdict(status: StatusCode, headers: &HeaderMap) -> Verdict {
    let challenge = BearerChallenge::from_headers(headers);
    let error = challenge.as_ref().and_then(|c| c.error.as_ref());
    if matches!(
        error,
        Some(BearerError::InsufficientScope | BearerError::InsufficientUserAuthentication)
    ) {
        // The token is fine; its grant lacks a scope, or its sign-in is not
        // strong or recent enough (RFC 9470). A new token of the same grant
        // would be refused the same way.
        return Verdict::Accepted;
    }
    if status == StatusCode::UNAUTHORIZED || error == Some(&BearerError::InvalidToken) {
        return Verdict::Refused;
    }
    let grpc_unauthenticated = headers
        .get("grpc-status")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.trim() == GRPC_UNAUTHENTICATED);
    if grpc_unauthenticated {
        return Verdict::Refused;
    }
    Verdict::Accepted
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::HeaderValue;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (k, v) in pairs {
            map.append(*k, HeaderValue::from_static(v));
        }
        map
    }

    #[test]
    fn a_401_or_an_invalid_token_challenge_is_a_refusal() {
        assert_eq!(
            verdict(StatusCode::UNAUTHORIZED, &HeaderMap::new()),
            Verdict::Refused
        );
        assert_eq!(
            verdict(
                StatusCode::BAD_REQUEST,
                &headers(&[("www-authenticate", r#"Bearer error="invalid_token""#)])
            ),
            Verdict::Refused
        );
        assert_eq!(
            verdict(StatusCode::OK, &headers(&[("grpc-status", "16")])),
            Verdict::Refused
        );
    }

    #[test]
    fn insufficient_scope_and_other_statuses_are_not() {
        assert_eq!(
            verdict(
                StatusCode::FORBIDDEN,
                &headers(&[("www-authenticate", r#"Bearer error="insufficient_scope""#)])
            ),
            Verdict::Accepted
        );
        assert_eq!(
            verdict(StatusCode::FORBIDDEN, &HeaderMap::new()),
            Verdict::Accepted
        );
        assert_eq!(
            verdict(StatusCode::INTERNAL_SERVER_ERROR, &HeaderMap::new()),
            Verdict::Accepted
        );
        assert_eq!(
            verdict(StatusCode::OK, &headers(&[("grpc-status", "0")])),
            Verdict::Accepted
        );
    }
}

//! The HTTP client's TLS: rustls with the ring provider and the platform's
//! certificate verifier, configured per client rather than process-wide.

use std::sync::Arc;

/// A `reqwest::ClientBuilder` with authkit's TLS: rustls with the ring
/// crypto provider and the platform's certificate verifier. authkit builds
/// reqwest without a crypto provider of its own (so the workspace links one,
/// ring, which the Redis client uses too) and configures it here rather than
/// through a process-wide default that the program may own; a program that
/// makes its API calls with reqwest starts its client from this builder (or
/// enables reqwest's `rustls` feature).
///
/// ```
/// let api = authkit_core::transport::http_client_builder()?
///     .timeout(std::time::Duration::from_secs(30))
///     .build()?;
/// # let _ = api;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn http_client_builder() -> Result<reqwest::ClientBuilder, rustls::Error> {
    Ok(reqwest::Client::builder().tls_backend_preconfigured(tls_config()?))
}

fn tls_config() -> Result<rustls::ClientConfig, rustls::Error> {
    use rustls_platform_verifier::BuilderVerifierExt;
    let mut config = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()?
    .with_platform_verifier()?
    .with_no_client_auth();
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(config)
}

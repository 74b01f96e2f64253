//! Any bytes as an authorization server's metadata document (RFC 8414,
//! OpenID Connect Discovery): metadata for the issuer that was asked for,
//! or a classified error; never a panic, never metadata of another issuer.
#![no_main]

use authkit_core::ClientAuth;
use authkit_core::discovery::ServerMetadata;
use authkit_core::grant::GrantKind;
use libfuzzer_sys::fuzz_target;

const ISSUER: &str = "https://login.example.com/realms/acme";

fuzz_target!(|data: &[u8]| {
    match ServerMetadata::from_json(data, ISSUER) {
        Ok(metadata) => {
            // RFC 8414 §3.3: the document names the issuer that was asked for.
            assert_eq!(metadata.issuer().trim_end_matches('/'), ISSUER);
            let _ = (
                metadata.token_endpoint(),
                metadata.authorization_endpoint(),
                metadata.device_authorization_endpoint(),
                metadata.revocation_endpoint(),
                metadata.introspection_endpoint(),
                metadata.jwks_uri(),
                metadata.scopes_supported(),
                metadata.dpop_signing_alg_values_supported(),
                metadata.supports_grant(&GrantKind::Password),
                metadata.supports_grant(&GrantKind::RefreshToken),
                metadata.supports_client_auth(&ClientAuth::public("api")),
                metadata.supports_pkce_s256(),
            );
            let _ = metadata.token_endpoint_builder(ClientAuth::public("api"));
        }
        Err(error) => {
            let _ = (error.to_string(), format!("{error:?}"));
        }
    }
});

//! authkit adapter for **Acme** (the template's example provider): Acme's
//! server trades an API key for tokens with a grant of its own, and words
//! its refusals in a `message` field, where a revoked key says "key revoked".
#![forbid(unsafe_code)]
#![warn(missing_docs)]

use authkit_core::endpoint::EndpointSettings;
use authkit_core::grant::{ExtensionGrant, FormParam};
use authkit_core::provider::Adapter;
use authkit_core::{
    AccountState, ClientAuth, ClientSecret, Error, ExposeSecret, GenericProvider, Password, Refusal,
};

/// Acme's authorization server.
pub const DEFAULT_BASE_URL: &str = "https://auth.acme.example";
/// The token endpoint's path under the base URL.
pub const TOKEN_PATH: &str = "/oauth/token";
/// Acme's own grant: an API key for tokens.
pub const API_KEY_GRANT: &str = "urn:acme:params:oauth:grant-type:api-key";

/// One Acme client's API key, as an account.
#[derive(Debug, Clone)]
pub struct Acme(GenericProvider);

impl Adapter for Acme {
    fn generic(&self) -> &GenericProvider {
        &self.0
    }
}

impl Acme {
    /// The account of `api_key` for the client `client_id`, at `settings`
    /// (its base URL defaults to Acme's server).
    pub fn new(
        client_id: &str,
        client_secret: ClientSecret,
        api_key: Password,
        settings: EndpointSettings,
    ) -> Result<Self, Error> {
        let endpoint = settings
            .token_endpoint(DEFAULT_BASE_URL, TOKEN_PATH)
            .client_auth(ClientAuth::basic(client_id, client_secret))
            .build()?;
        let grant = ExtensionGrant::new(API_KEY_GRANT)
            .with_param(FormParam::secret("api_key", api_key.expose_secret()));
        let provider = GenericProvider::new(format!("acme:{client_id}"), endpoint)
            .with_grant(grant)
            .with_refusals(classify);
        Ok(Acme(provider))
    }
}

/// A revoked key is terminal: the manager stops instead of sending it again.
fn classify(refusal: Refusal) -> Refusal {
    if refusal.mentions(&["key revoked"]) {
        refusal.with_account_state(AccountState::Disabled)
    } else {
        refusal
    }
}

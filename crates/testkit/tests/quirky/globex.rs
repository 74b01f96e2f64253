//! A quirky provider written from the guide alone: Globex trades an account
//! id and key for tokens with a grant of its own, with HTTP Basic, and
//! issues no refresh tokens. Its refusals put their reason in `reason`, and
//! it answers a wrong account id with `invalid_request`.

use authkit_core::endpoint::EndpointSettings;
use authkit_core::error::{RefusalRule, classify_refusal};
use authkit_core::grant::{ExtensionGrant, FormParam};
use authkit_core::provider::Adapter;
use authkit_core::{AccountState, ClientAuth, ClientSecret, Error, ErrorCode, GenericProvider};

/// Globex's authorization server.
pub const DEFAULT_BASE_URL: &str = "https://login.globex.example";
/// The token endpoint's path under the base URL.
pub const TOKEN_PATH: &str = "/v2/token";
/// Globex's own grant: an account id and key for tokens.
pub const ACCOUNT_GRANT: &str = "urn:globex:params:oauth:grant-type:account-credentials";

/// One Globex account.
#[derive(Debug, Clone)]
pub struct Globex(GenericProvider);

impl Adapter for Globex {
    fn generic(&self) -> &GenericProvider {
        &self.0
    }
}

impl Globex {
    /// The account `account_id` with its key, for the client `(id, secret)`.
    pub fn new(
        client: (&str, ClientSecret),
        account_id: &str,
        account_key: &str,
        settings: EndpointSettings,
    ) -> Result<Self, Error> {
        let endpoint = settings
            .token_endpoint(DEFAULT_BASE_URL, TOKEN_PATH)
            .client_auth(ClientAuth::basic(client.0, client.1))
            .description_field("reason")
            .build()?;
        let grant = ExtensionGrant::new(ACCOUNT_GRANT)
            .with_param(FormParam::plain("account_id", account_id))
            .with_param(FormParam::secret("account_key", account_key));
        // A wrong account id comes as `invalid_request`: a wrong credential.
        let provider = GenericProvider::new(format!("globex:{account_id}"), endpoint)
            .with_grant(grant)
            .with_refusals(|r| r.with_code_when(&["unknown account id"], ErrorCode::InvalidGrant));
        Ok(Globex(provider))
    }
}

/// Globex's refusals, for people.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GlobexRefusal {
    /// An administrator must enable API access for the account.
    NotEnabled,
    /// The account id is not Globex's.
    UnknownAccount,
    /// The key does not match the account.
    WrongKey,
    /// Anything else.
    Other,
}

const RULES: &[RefusalRule<GlobexRefusal>] = &[
    RefusalRule::state(
        AccountState::ApplicationNotEnabled,
        GlobexRefusal::NotEnabled,
    ),
    RefusalRule::words(None, &["unknown account id"], GlobexRefusal::UnknownAccount),
    RefusalRule::code(ErrorCode::InvalidGrant, GlobexRefusal::WrongKey),
];

impl GlobexRefusal {
    /// The kind of `error`'s refusal, if it is one.
    pub fn of(error: &Error) -> Option<Self> {
        let refusal = error.refusal()?;
        Some(classify_refusal(refusal, RULES, GlobexRefusal::Other))
    }
}

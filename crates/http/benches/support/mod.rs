//! What the HTTP layer's benches share: a provider stub whose tokens live a
//! day (DPoP-bound to the context's key when there is one), and a local API
//! that answers every GET.

use std::time::Duration;

use async_trait::async_trait;
use authkit_core::endpoint::RequestContext;
use authkit_core::token::{Binding, TokenType};
use authkit_core::{
    AccessToken, AccountKey, ClientId, Error, RefreshToken, TokenProvider, TokenSet,
};
use wiremock::matchers::method;
use wiremock::{Mock, MockServer, ResponseTemplate};

/// Issues a long-lived token, so the benches measure the layer, not refreshes.
#[derive(Debug)]
pub struct StubProvider(AccountKey, Binding);

impl StubProvider {
    /// The stub for the account named `name`.
    pub fn new(name: &str) -> Self {
        let binding = Binding::new(
            &url::Url::parse("https://auth.example.com/token").expect("url"),
            ClientId::new("bench"),
        );
        Self(binding.account_key(name), binding)
    }
}

#[async_trait]
impl TokenProvider for StubProvider {
    fn account_key(&self) -> &AccountKey {
        &self.0
    }
    fn binding(&self) -> &Binding {
        &self.1
    }
    async fn authenticate(&self, cx: &RequestContext) -> Result<TokenSet, Error> {
        let now = time::OffsetDateTime::now_utc();
        let set = TokenSet::expiring_in(
            AccessToken::new("bench-token-0123456789"),
            now,
            Duration::from_secs(86400),
        )
        .with_binding(self.1.clone());
        Ok(match cx.dpop() {
            Some(dpop) => set
                .with_token_type(TokenType::DPoP)
                .with_dpop_key(Some(dpop.key().clone())),
            None => set,
        })
    }
    async fn refresh(&self, _: &RefreshToken, cx: &RequestContext) -> Result<TokenSet, Error> {
        self.authenticate(cx).await
    }
}

/// A local API answering every GET with a small JSON body, recording nothing.
pub async fn api() -> MockServer {
    let server = MockServer::builder()
        .disable_request_recording()
        .start()
        .await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(200).set_body_string("{\"ok\":true}"))
        .mount(&server)
        .await;
    server
}

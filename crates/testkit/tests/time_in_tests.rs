//! One duration type in a test: the mock server's lifetimes and the manual
//! clock both take `std::time::Duration`, so a test that sets a token's
//! lifetime moves time past it with the same value.

use std::time::Duration;

use authkit_core::grant::PasswordGrant;
use authkit_core::{
    ClientAuth, ExposeSecret, GenericProvider, MemoryStore, Password, TokenEndpoint, TokenManager,
};
use authkit_testkit::{MockAuthServer, MockClient};

#[tokio::test]
async fn a_lifetime_and_a_clock_step_are_the_same_duration() {
    let lifetime = Duration::from_secs(600);
    let server = MockAuthServer::builder()
        .user("alice", "pw")
        .client(MockClient::public("api"))
        .access_ttl(lifetime)
        .start()
        .await;
    let endpoint = TokenEndpoint::builder(server.token_url())
        .client_auth(ClientAuth::public("api"))
        .build()
        .unwrap();
    let provider = GenericProvider::new("test:alice", endpoint)
        .with_grant(PasswordGrant::new("alice", Password::new("pw")));
    let manager = TokenManager::builder(provider, MemoryStore::new())
        .clock(server.shared_clock())
        .build();

    let first = manager.token_set().await.unwrap();
    assert_eq!(
        first.expires_at() - first.issued_at(),
        time::Duration::try_from(lifetime).unwrap()
    );
    // The same std duration moves the clock past the lifetime.
    server.clock().advance(lifetime);
    let second = manager.token_set().await.unwrap();
    assert_ne!(
        first.access_token().expose_secret(),
        second.access_token().expose_secret(),
        "a new token"
    );
    assert!(second.expires_at() > first.expires_at());
}

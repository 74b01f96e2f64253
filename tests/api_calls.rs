//! What a program does around an API call: send the token, and on a 401
//! invalidate it and try once more with a new one.

use authkit::grant::PasswordGrant;
use authkit::{
    ClientAuth, ExposeSecret, GenericProvider, MemoryStore, Password, TokenEndpoint, TokenManager,
};
use authkit_testkit::{MockAuthServer, MockClient};

#[tokio::test]
async fn a_401_from_the_api_gets_a_new_token_on_the_next_call() {
    let server = MockAuthServer::builder()
        .user("alice", "pw")
        .client(MockClient::public("api"))
        .protected_resource("/api/me")
        .start()
        .await;
    let endpoint = TokenEndpoint::builder(server.token_url())
        .client_auth(ClientAuth::public("api"))
        .build()
        .unwrap();
    let provider = GenericProvider::new("demo:alice", endpoint)
        .with_grant(PasswordGrant::new("alice", Password::new("pw")));
    let manager = TokenManager::builder(provider, MemoryStore::new())
        .clock(server.shared_clock())
        .build();
    let http = authkit::transport::http_client_builder()
        .unwrap()
        .build()
        .unwrap();
    let url = format!("{}/api/me", server.base_url());
    let call = |token: authkit::AccessToken| {
        let request = http.get(&url).bearer_auth(token.expose_secret());
        async move { request.send().await.unwrap().status().as_u16() }
    };

    let first = manager.access_token().await.unwrap();
    assert_eq!(call(first.clone()).await, 200);

    // An administrator ends every session: the token still looks fresh to us.
    server.revoke_all_refresh_tokens();
    assert_eq!(call(manager.access_token().await.unwrap()).await, 401);
    manager.invalidate_token(&first);
    let second = manager.access_token().await.unwrap();
    assert!(!second.same_secret(&first));
    assert_eq!(call(second).await, 200);
    let log = server.log();
    assert_eq!(
        (log.count("refresh_token"), log.count("password")),
        (1, 2),
        "refresh refused, then a new sign-in"
    );
}

//! Clocks that lie: a server whose `Date` is hours off, and a local wall
//! clock that jumps. Neither may make a token look fresh when it is not.

use std::sync::Arc;

use authkit::clock::ManualClock;
use authkit::grant::PasswordGrant;
use authkit::{
    ClientAuth, ExposeSecret, GenericProvider, MemoryStore, Password, TokenEndpoint, TokenManager,
};
use authkit_testkit::{MockAuthServer, MockClient};
use time::{Duration, OffsetDateTime};

fn manager(server: &MockAuthServer, clock: &ManualClock) -> TokenManager {
    let endpoint = TokenEndpoint::builder(server.token_url())
        .client_auth(ClientAuth::public("api"))
        .build()
        .unwrap();
    let provider = GenericProvider::new("demo:alice", endpoint)
        .with_grant(PasswordGrant::new("alice", Password::new("pw")));
    TokenManager::builder(provider, MemoryStore::new())
        .clock(Arc::new(clock.clone()))
        .build()
}

async fn server(clock: &ManualClock) -> MockAuthServer {
    MockAuthServer::builder()
        .user("alice", "pw")
        .client(MockClient::public("api"))
        .clock(clock.clone())
        .start()
        .await
}

#[tokio::test]
async fn a_server_date_hours_off_does_not_change_the_expiry() {
    // The server's `Date` header is never read: lifetimes count from our send time.
    let wiremock = wiremock::MockServer::start().await;
    let off = httpdate_hours_from_now(-5);
    wiremock::Mock::given(wiremock::matchers::method("POST"))
        .respond_with(
            wiremock::ResponseTemplate::new(200)
                .insert_header("Date", off.as_str())
                .set_body_json(serde_json::json!({"access_token": "a", "expires_in": 600})),
        )
        .mount(&wiremock)
        .await;
    let endpoint = TokenEndpoint::builder(format!("{}/token", wiremock.uri()))
        .client_auth(ClientAuth::public("api"))
        .build()
        .unwrap();
    let before = OffsetDateTime::now_utc();
    let tokens = endpoint
        .request(
            &PasswordGrant::new("alice", Password::new("pw")),
            &authkit::endpoint::RequestContext::default(),
        )
        .await
        .unwrap();
    assert!(tokens.expires_at() >= before + Duration::seconds(600));
    assert!(tokens.expires_at() <= OffsetDateTime::now_utc() + Duration::seconds(600));
}

fn httpdate_hours_from_now(hours: i64) -> String {
    let at = OffsetDateTime::now_utc() + Duration::hours(hours);
    at.format(&time::format_description::well_known::Rfc2822)
        .unwrap()
}

#[tokio::test]
async fn a_wall_clock_set_back_does_not_keep_an_old_token_fresh() {
    let clock = ManualClock::starting_now();
    let server = server(&clock).await;
    let manager = manager(&server, &clock);
    let first = manager.access_token().await.unwrap();

    // Someone sets the wall clock back two hours, then 61 minutes really pass.
    let wall = authkit::clock::Clock::now(&clock);
    clock.set_wall(wall - Duration::hours(2));
    clock.advance(Duration::minutes(61));

    let second = manager.access_token().await.unwrap();
    assert!(
        !second.same_secret(&first),
        "an hour-old token was not served as fresh"
    );
    assert!(server.is_access_token_active(&second));
}

#[tokio::test]
async fn a_wall_clock_jumping_forward_makes_the_token_stale() {
    let clock = ManualClock::starting_now();
    let server = server(&clock).await;
    let manager = manager(&server, &clock);
    let first = manager.access_token().await.unwrap();
    let wall = authkit::clock::Clock::now(&clock);
    clock.set_wall(wall + Duration::hours(3));
    let second = manager.access_token().await.unwrap();
    assert_ne!(first.expose_secret(), second.expose_secret());
}

//! Browser sign-in end to end: the test plays the browser, following the
//! authorization endpoint's redirect to the loopback receiver, against the
//! testkit's mock server posing as Vonage's API manager.

use std::time::Duration;

use authkit_core::client_auth::BasicEncoding;
use authkit_core::store::HeldAccount;
use authkit_core::{ClientSecret, Error, MemoryStore, TokenManager, TokenProvider};
use authkit_testkit::{ClientKind, MockAuthServer, MockClient, ResponseStyle};
use authkit_vonage::{LoopbackReceiver, Vonage};

const SECRET: &str = "consumer:secret%";

async fn server_for(redirect_uri: &str) -> MockAuthServer {
    MockAuthServer::builder()
        .style(ResponseStyle::ApiManager)
        .user("alice@vbc.prod", "pw")
        .client(
            MockClient::basic("consumer-key", SECRET, BasicEncoding::Raw)
                .also_accepting(ClientKind::SecretInBody)
                .redirect_uri(redirect_uri),
        )
        .start()
        .await
}

fn vonage(server: &MockAuthServer) -> Vonage {
    Vonage::builder("consumer-key", ClientSecret::new(SECRET))
        .endpoint(authkit_core::endpoint::EndpointSettings::new().base_url(server.base_url()))
        .build()
        .unwrap()
}

/// Opens `url` as a browser would, following redirects; returns the last status and body.
async fn browse(url: &str) -> (u16, String) {
    let browser = authkit_core::transport::http_client_builder()
        .unwrap()
        .redirect(reqwest::redirect::Policy::limited(5))
        .build()
        .unwrap();
    let response = browser.get(url).send().await.unwrap();
    (response.status().as_u16(), response.text().await.unwrap())
}

#[tokio::test]
async fn a_person_signs_in_once_and_the_manager_refreshes_from_then_on() {
    let receiver = LoopbackReceiver::bind("http://127.0.0.1:0/callback")
        .await
        .unwrap();
    let server = server_for(receiver.redirect_uri()).await;
    let account = vonage(&server)
        .code_account(receiver.redirect_uri(), "desk")
        .unwrap();
    let request = account.authorization_request();

    let (state, name) = (request.state().clone(), account.account_key().to_string());
    let waiting = tokio::spawn(async move {
        receiver
            .wait_for(&state, &name, Duration::from_secs(10))
            .await
    });
    let (status, page) = browse(request.url().as_str()).await;
    assert_eq!(status, 200);
    assert!(page.contains("You are signed in as"), "{page}");
    assert!(page.contains(account.account_key().as_str()), "{page}");
    let callback = waiting.await.unwrap().unwrap();
    let store = MemoryStore::new();
    let manager = TokenManager::builder(account.clone(), store.clone())
        .clock(server.shared_clock())
        .build();
    let tokens = account
        .exchange(request, &callback, manager.context())
        .await
        .unwrap();
    assert!(server.is_access_token_active(tokens.access_token()));
    assert!(
        tokens.id_token().is_some(),
        "scope=openid brings an id token"
    );

    manager.sign_in_with(tokens).await.unwrap();
    assert!(
        HeldAccount::acquire(&store, manager.account_key())
            .await
            .unwrap()
            .load()
            .await
            .unwrap()
            .is_some()
    );
    let first = manager.access_token().await.unwrap();
    assert_eq!(server.log().len(), 1, "served from the sign-in, no request");

    server.clock().advance(time::Duration::hours(25));
    let second = manager.access_token().await.unwrap();
    assert!(!second.same_secret(&first));
    assert!(server.is_access_token_active(&second));
    assert_eq!(server.log().count("refresh_token"), 1);

    // The refresh token dies (seven days unused, or an administrator): a person must sign in again.
    server.revoke_all_refresh_tokens();
    server.clock().advance(time::Duration::hours(25));
    let error = manager.access_token().await.unwrap_err();
    assert!(matches!(error, Error::SignInRequired { .. }), "{error:?}");
}

#[tokio::test]
async fn a_denied_sign_in_comes_back_as_the_servers_refusal() {
    let receiver = LoopbackReceiver::bind("http://127.0.0.1:0/callback")
        .await
        .unwrap();
    let server = server_for(receiver.redirect_uri()).await;
    let account = vonage(&server)
        .code_account(receiver.redirect_uri(), "desk")
        .unwrap();
    let request = account.authorization_request();
    server.deny_next_authorization();
    let waiting = tokio::spawn(receiver.wait(Duration::from_secs(10)));
    let (status, page) = browse(request.url().as_str()).await;
    assert_eq!(status, 200);
    assert!(page.contains("declined"), "{page}");
    let error = waiting.await.unwrap().unwrap_err();
    assert_eq!(
        error.refusal().map(|r| r.code()),
        Some(&authkit_core::ErrorCode::AccessDenied),
        "{error:?}"
    );
}

#[tokio::test]
async fn the_receiver_ignores_other_paths_and_gives_up_after_its_timeout() {
    let receiver = LoopbackReceiver::bind("http://127.0.0.1:0/callback")
        .await
        .unwrap();
    let base = receiver
        .redirect_uri()
        .trim_end_matches("/callback")
        .to_owned();
    let waiting = tokio::spawn(receiver.wait(Duration::from_millis(500)));
    let (status, _) = browse(&format!("{base}/favicon.ico")).await;
    assert_eq!(status, 404);
    let error = waiting.await.unwrap().unwrap_err();
    assert!(matches!(error, Error::SignInRequired { .. }), "{error:?}");
}

#[tokio::test]
async fn the_receiver_listens_only_on_loopback() {
    for uri in [
        "http://0.0.0.0:0/callback",
        "http://example.com/callback",
        "https://127.0.0.1:0/callback",
    ] {
        assert!(
            matches!(LoopbackReceiver::bind(uri).await, Err(Error::Config(_))),
            "{uri}"
        );
    }
}

#[test]
fn a_dpop_sign_in_names_its_keys_thumbprint_in_the_authorization_request() {
    let vonage = Vonage::builder("consumer-key", ClientSecret::new(SECRET))
        .build()
        .unwrap();
    let account = vonage
        .code_account("http://127.0.0.1:8400/callback", "desk")
        .unwrap();
    let key = authkit_core::dpop::DpopKey::generate().unwrap();
    let cx = authkit_core::endpoint::RequestContext::default().with_dpop(
        authkit_core::dpop::DpopContext::new(key.clone(), authkit_core::dpop::DpopNonces::new()),
    );
    let bound = account.authorization_request_in(&cx);
    let jkt: Vec<_> = bound
        .url()
        .query_pairs()
        .filter(|(k, _)| k == "dpop_jkt")
        .map(|(_, v)| v.into_owned())
        .collect();
    assert_eq!(jkt, vec![key.thumbprint().to_owned()]);
    let plain = account.authorization_request();
    assert!(!plain.url().query_pairs().any(|(k, _)| k == "dpop_jkt"));
}

/// GETs `url` and returns the status, the headers and the body.
async fn fetch(url: &str) -> (u16, reqwest::header::HeaderMap, String) {
    let client = authkit_core::transport::http_client_builder()
        .unwrap()
        .build()
        .unwrap();
    let response = client.get(url).send().await.unwrap();
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    (status, headers, response.text().await.unwrap())
}

fn assert_inert(headers: &reqwest::header::HeaderMap) {
    assert_eq!(headers["cache-control"], "no-store");
    assert_eq!(headers["referrer-policy"], "no-referrer");
    let csp = headers["content-security-policy"].to_str().unwrap();
    assert!(csp.starts_with("default-src 'none'"), "{csp}");
    assert!(csp.contains("frame-ancestors 'none'"), "{csp}");
}

#[tokio::test]
async fn a_response_to_another_sign_in_is_refused_with_a_page_that_says_so() {
    let receiver = LoopbackReceiver::bind("http://127.0.0.1:0/callback")
        .await
        .unwrap();
    let base = receiver.redirect_uri().to_owned();
    let state = authkit_core::grant::State::generate();
    let waiting = tokio::spawn(async move {
        receiver
            .wait_for(&state, "vonage:key:desk", Duration::from_secs(10))
            .await
    });
    // A stray request first: 404, and the receiver keeps waiting.
    let (status, headers, _) = fetch(&base.replace("/callback", "/favicon.ico")).await;
    assert_eq!(status, 404);
    assert_inert(&headers);
    let (status, headers, page) =
        fetch(&format!("{base}?code=stolen-code&state=forged-state-9f2c")).await;
    assert_eq!(status, 400);
    assert_inert(&headers);
    assert!(
        page.contains("does not belong to the sign-in in progress"),
        "{page}"
    );
    assert!(
        !page.contains("stolen-code") && !page.contains("forged-state-9f2c"),
        "{page}"
    );
    let err = waiting.await.unwrap().unwrap_err();
    assert!(matches!(err, Error::SignInRequired { .. }), "{err:?}");
}

#[tokio::test]
async fn a_providers_error_is_shown_escaped_and_returned_as_its_refusal() {
    let receiver = LoopbackReceiver::bind("http://127.0.0.1:0/callback")
        .await
        .unwrap();
    let base = receiver.redirect_uri().to_owned();
    let state = authkit_core::grant::State::generate();
    let sent_state = state.as_str().to_owned();
    let waiting = tokio::spawn(async move {
        receiver
            .wait_for(&state, "vonage:key:desk", Duration::from_secs(10))
            .await
    });
    let url = format!(
        "{base}?error=server_error&error_description=%3Cscript%3Ealert(1)%3C%2Fscript%3E+maintenance&state={sent_state}"
    );
    let (status, headers, page) = fetch(&url).await;
    assert_eq!(status, 200);
    assert_inert(&headers);
    assert!(
        page.contains("&lt;script&gt;alert(1)&lt;/script&gt; maintenance"),
        "{page}"
    );
    assert!(!page.contains("<script>"), "{page}");
    assert!(!page.contains(&sent_state), "the state is on the page");
    let err = waiting.await.unwrap().unwrap_err();
    assert_eq!(
        err.refusal().map(|r| r.code().as_str().to_owned()),
        Some("server_error".to_owned())
    );
}

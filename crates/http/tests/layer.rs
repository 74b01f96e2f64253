//! `AuthLayer` over a hyper client (and over a scripted tower service where
//! the network is not the point): the same rules as the middleware.

use std::convert::Infallible;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use authkit_core::grant::PasswordGrant;
use authkit_core::{
    ClientAuth, GenericProvider, MemoryStore, Password, TokenEndpoint, TokenManager,
};
use authkit_http::{AuthLayer, BearerChallenge, WithoutToken};
use authkit_testkit::{MockAuthServer, MockClient};
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use tower::{Service, ServiceBuilder, ServiceExt};

async fn server() -> MockAuthServer {
    MockAuthServer::builder()
        .user("alice", "pw")
        .client(MockClient::public("api"))
        .protected_resource("/api/me")
        .start()
        .await
}

fn manager(server: &MockAuthServer) -> TokenManager {
    let endpoint = TokenEndpoint::builder(server.token_url())
        .client_auth(ClientAuth::public("api"))
        .build()
        .unwrap();
    let provider = GenericProvider::new("demo:alice", endpoint)
        .with_grant(PasswordGrant::new("alice", Password::new("pw")));
    TokenManager::builder(provider, MemoryStore::new())
        .clock(server.shared_clock())
        .build()
}

fn post(url: &str, body: &'static str) -> http::Request<Full<Bytes>> {
    http::Request::post(url)
        .body(Full::new(Bytes::from_static(body.as_bytes())))
        .unwrap()
}

#[tokio::test]
async fn a_hyper_client_gets_the_token_and_one_replay_after_a_revocation() {
    let server = server().await;
    let manager = manager(&server);
    let hyper = Client::builder(TokioExecutor::new()).build_http::<Full<Bytes>>();
    let mut api = ServiceBuilder::new()
        .layer(AuthLayer::new(manager.clone()))
        .service(hyper);
    let url = format!("{}/api/me", server.base_url());

    let response = api
        .ready()
        .await
        .unwrap()
        .call(post(&url, "first"))
        .await
        .unwrap();
    assert_eq!(response.status(), 200);

    let first = manager.access_token().await.unwrap();
    server.revoke_access_token(&first);
    let response = api
        .ready()
        .await
        .unwrap()
        .call(post(&url, "replayed body"))
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let body = response.into_body().collect().await.unwrap().to_bytes();
    let answer: serde_json::Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(answer["body"], "replayed body");
    assert_eq!(
        server.resource_requests(),
        3,
        "one, then a refusal and a replay"
    );
    assert_eq!(server.log().count("refresh_token"), 1);

    let mut bare = post(&url, "no token");
    bare.extensions_mut().insert(WithoutToken);
    let response = api.ready().await.unwrap().call(bare).await.unwrap();
    assert_eq!(response.status(), 401);
    assert!(response.extensions().get::<BearerChallenge>().is_some());
}

/// A scripted tower service: answers each call with the next status (and
/// gRPC status), counting calls.
#[derive(Clone)]
struct Scripted {
    answers: Arc<Vec<(u16, Option<&'static str>)>>,
    calls: Arc<AtomicUsize>,
}

impl<B: Send + 'static> Service<http::Request<B>> for Scripted {
    type Response = http::Response<()>;
    type Error = Infallible;
    type Future = std::future::Ready<Result<Self::Response, Infallible>>;

    fn poll_ready(
        &mut self,
        _: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Result<(), Infallible>> {
        std::task::Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: http::Request<B>) -> Self::Future {
        assert!(
            request.headers().contains_key("authorization"),
            "every call carries a token"
        );
        let n = self.calls.fetch_add(1, Ordering::SeqCst);
        let (status, grpc) = self.answers[n.min(self.answers.len() - 1)];
        let mut response = http::Response::builder().status(status);
        if let Some(grpc) = grpc {
            response = response.header("grpc-status", grpc);
        }
        std::future::ready(Ok(response.body(()).unwrap()))
    }
}

fn scripted(answers: Vec<(u16, Option<&'static str>)>) -> (Scripted, Arc<AtomicUsize>) {
    let calls = Arc::new(AtomicUsize::new(0));
    (
        Scripted {
            answers: Arc::new(answers),
            calls: Arc::clone(&calls),
        },
        calls,
    )
}

#[tokio::test]
async fn grpc_unauthenticated_is_a_refusal_and_a_second_one_goes_back() {
    let server = server().await;
    let manager = manager(&server);
    let (inner, calls) = scripted(vec![(200, Some("16")), (200, Some("16"))]);
    let mut api = AuthLayer::new(manager).layer_service(inner);
    let response = ServiceExt::<http::Request<()>>::ready(&mut api)
        .await
        .unwrap()
        .call(http::Request::new(()))
        .await
        .unwrap();
    assert_eq!(response.headers()["grpc-status"], "16");
    assert_eq!(
        calls.load(Ordering::SeqCst),
        2,
        "replayed once, never looped"
    );
}

#[tokio::test]
async fn a_boxed_body_is_not_replayed() {
    let server = server().await;
    let manager = manager(&server);
    let (inner, calls) = scripted(vec![(401, None), (200, None)]);
    let mut api = AuthLayer::new(manager).layer_service(inner);
    let body: http_body_util::combinators::BoxBody<Bytes, Infallible> =
        Full::new(Bytes::from_static(b"stream")).boxed();
    let response = ServiceExt::<
        http::Request<http_body_util::combinators::BoxBody<Bytes, Infallible>>,
    >::ready(&mut api)
    .await
    .unwrap()
    .call(http::Request::new(body))
    .await
    .unwrap();
    assert_eq!(response.status(), 401, "returned as it is");
    assert_eq!(calls.load(Ordering::SeqCst), 1);
}

/// `Layer::layer`, named for readability in the tests above.
trait LayerService<S> {
    fn layer_service(&self, inner: S) -> authkit_http::AuthService<S>;
}

impl<S> LayerService<S> for AuthLayer {
    fn layer_service(&self, inner: S) -> authkit_http::AuthService<S> {
        tower::Layer::layer(self, inner)
    }
}

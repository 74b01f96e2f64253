//! A mock server dropped by a task whose cooperative budget is spent still
//! stops: its drop runs off the runtime (see `support::DropOffRuntime`).

use std::time::Duration;

use authkit_testkit::{MockAuthServer, MockClient};

/// Spends the task's cooperative budget to the last unit without yielding.
async fn spend_budget() {
    let permits = tokio::sync::Semaphore::new(1);
    while tokio::task::coop::has_budget_remaining() {
        drop(permits.acquire().await.expect("open"));
    }
}

#[tokio::test]
async fn a_server_dropped_with_the_budget_spent_stops() {
    let (done, finished) = std::sync::mpsc::channel::<()>();
    std::thread::spawn(move || {
        if finished.recv_timeout(Duration::from_secs(30)).is_err() {
            eprintln!("dropping the mock server hung with the task's budget spent");
            std::process::exit(101);
        }
    });
    let server = MockAuthServer::builder()
        .client(MockClient::public("cli"))
        .start()
        .await;
    spend_budget().await;
    assert!(!tokio::task::coop::has_budget_remaining());
    drop(server);
    done.send(()).expect("the watchdog listens");
}

//! The leak audit: a whole lifecycle (sign in, refresh, rotation, failures,
//! store writes) with `tracing` captured at TRACE from every crate. Not one
//! secret appears in the captured output, in any error's chain, in any
//! `Debug`, or in a panic message.

use std::sync::{Arc, Mutex};

use authkit::endpoint::EndpointSettings;
use authkit::store::HeldAccount;
use authkit::store_file::FileStore;
use authkit::voipex::Voipex;
use authkit::{Error, ExposeSecret, Password, TokenManager, TokenProvider};
use authkit_testkit::capture::capture_logs;
use authkit_testkit::{Fault, MockAuthServer, MockClient, ResponseStyle};
use time::Duration;

fn chain(error: &Error) -> String {
    let mut text = format!("{error:?}\n{error}\n");
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        text.push_str(&format!("{cause}\n{cause:?}\n"));
        source = cause.source();
    }
    text
}

/// Runs `f`, which panics, and returns the panic message.
/// (Errors share their causes behind `Arc<dyn Error>`, which is not
/// `UnwindSafe`; nothing is observed after the panic but its message.)
fn panic_message(f: impl FnOnce()) -> String {
    let captured = Arc::new(Mutex::new(String::new()));
    let sink = Arc::clone(&captured);
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        *sink.lock().unwrap() = info.to_string();
    }));
    let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(f));
    std::panic::set_hook(previous);
    captured.lock().unwrap().clone()
}

#[tokio::test(flavor = "current_thread")]
async fn a_whole_lifecycle_leaks_nothing() {
    let server = MockAuthServer::builder()
        .style(ResponseStyle::Keycloak)
        .user("alice@example.com", "correct horse battery staple 42")
        .client(MockClient::public("api"))
        .start()
        .await;
    let dir = tempfile::tempdir().unwrap();
    let store = FileStore::open(dir.path()).unwrap();
    let voipex = |password: &str| {
        Voipex::builder("alice@example.com", Password::new(password))
            .endpoint(EndpointSettings::new().base_url(server.base_url()))
            .build()
            .unwrap()
    };
    let (logs, guard) = capture_logs();
    let mut seen = Vec::new();

    let manager = TokenManager::builder(voipex("correct horse battery staple 42"), store.clone())
        .clock(server.shared_clock())
        .build();
    let first = manager.token_set().await.unwrap();
    seen.push(format!("{first:?} {manager:?} {store:?}"));

    // Rotation, then failures during refresh.
    for fault in [
        None,
        Some(Fault::TruncatedJson),
        Some(Fault::ServerError(502)),
        Some(Fault::HtmlLoginPage),
    ] {
        server.clock().advance(Duration::hours(2));
        if let Some(fault) = fault {
            server.inject(fault);
        }
        match manager.token_set().await {
            Ok(tokens) => seen.push(format!("{tokens:?}")),
            Err(error) => seen.push(chain(&error)),
        }
    }
    // A wrong password, and a replayed refresh token.
    let wrong = voipex("wrong password 123456");
    let cx = manager.context();
    seen.push(chain(&wrong.authenticate(cx).await.unwrap_err()));
    if let Some(rt) = first.refresh_token() {
        seen.push(chain(&wrong.refresh(rt, cx).await.unwrap_err()));
    }
    let stored = HeldAccount::acquire(&store, manager.account_key())
        .await
        .unwrap()
        .load()
        .await
        .unwrap()
        .unwrap();
    seen.push(format!("{stored:?}"));
    drop(guard);
    seen.push(logs.text());

    // Panic messages of the usual mistakes.
    let tokens = stored.clone();
    seen.push(panic_message(move || {
        let result: Result<authkit::TokenSet, Error> = std::hint::black_box(Ok(tokens));
        let _ = result.unwrap_err();
    }));
    let error = wrong.authenticate(manager.context()).await.unwrap_err();
    seen.push(panic_message(move || {
        let result: Result<(), Error> = std::hint::black_box(Err(error));
        result.unwrap();
    }));

    let text = seen.join("\n");
    assert!(
        text.contains("authkit.flight{"),
        "the flights' span fields are part of the audit"
    );
    assert!(
        text.contains("refresh"),
        "the capture saw the lifecycle: {}",
        &text[..text.len().min(400)]
    );
    let mut secrets = server.all_secrets();
    secrets.push("wrong password 123456".into());
    secrets.push(stored.access_token().expose_secret().to_owned());
    for secret in secrets {
        assert!(
            !text.contains(&secret),
            "a secret of {} chars leaked",
            secret.len()
        );
    }
}

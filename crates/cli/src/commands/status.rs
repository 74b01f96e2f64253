//! `authkit status`: every stored account and how long its tokens last.

use authkit_core::store::HeldAccount;
use authkit_core::{AccountKey, StoreError};
use serde_json::json;
use time::OffsetDateTime;

use crate::exit::Failure;
use crate::store::{Place, Store};

/// One stored account, as `status` reports it. Never holds a secret.
struct Row {
    key: AccountKey,
    provider: String,
    access_expires_in: Option<i64>,
    /// The server did not say how long the access token lives.
    access_estimated: bool,
    refresh_expires_in: Option<i64>,
    has_refresh_token: bool,
    /// The token endpoint that issued the set.
    server: Option<String>,
    /// The profile the account was signed in through.
    profile: Option<String>,
    /// Where its tokens are.
    place: Place,
    location: String,
    problem: Option<String>,
}

/// Prints every stored account, as a table or as JSON.
pub async fn run(store: Store, as_json: bool) -> Result<(), Failure> {
    let now = OffsetDateTime::now_utc();
    let records = crate::records::Records::of(&store)
        .all()
        .unwrap_or_default();
    let profile_of = |key: &AccountKey| {
        records
            .iter()
            .find(|r| r.account == key.as_str())
            .and_then(|r| r.profile.clone())
    };
    let mut rows = Vec::new();
    for key in crate::records::stored_keys(&store).await? {
        let provider = key.as_str().split(':').next().unwrap_or("").to_owned();
        let profile = profile_of(&key);
        let (place, location) = (store.place_of(&key), store.location_of(&key));
        let loaded = async {
            let mut held = HeldAccount::acquire(&store, &key).await?;
            held.load().await
        };
        let row = match loaded.await {
            Ok(Some(tokens)) => Row {
                access_expires_in: Some((tokens.expires_at() - now).whole_seconds()),
                access_estimated: tokens.expiry_estimated(),
                refresh_expires_in: tokens
                    .refresh_expires_at()
                    .map(|at| (at - now).whole_seconds()),
                has_refresh_token: tokens.refresh_token().is_some(),
                server: tokens.binding().map(|b| b.token_endpoint().to_owned()),
                profile,
                place,
                location,
                key,
                provider,
                problem: None,
            },
            Ok(None) => continue,
            Err(error @ StoreError::Corrupt { .. }) => Row {
                key,
                provider,
                access_expires_in: None,
                access_estimated: false,
                refresh_expires_in: None,
                has_refresh_token: false,
                server: None,
                profile,
                place,
                location,
                problem: Some(error.to_string()),
            },
            Err(error) => return Err(error.into()),
        };
        rows.push(row);
    }
    if as_json {
        let accounts: Vec<_> = rows
            .iter()
            .map(|r| {
                json!({
                    "key": r.key.as_str(),
                    "provider": r.provider,
                    "access_token_expires_in": r.access_expires_in,
                    "access_token_expiry_estimated": r.access_estimated,
                    "refresh_token": r.has_refresh_token,
                    "refresh_token_expires_in": r.refresh_expires_in,
                    "token_endpoint": r.server,
                    "profile": r.profile,
                    "tokens": r.location,
                    "problem": r.problem,
                })
            })
            .collect();
        println!(
            "{}",
            serde_json::to_string_pretty(&json!({
                "store": store.files().dir(),
                "new_tokens_go_to": new_tokens_go_to(&store),
                "accounts": accounts
            }))
            .unwrap_or_default()
        );
        return Ok(());
    }
    if rows.is_empty() {
        println!("No stored accounts in {}", store.files().dir().display());
        println!("New tokens go to {}", new_tokens_go_to(&store));
        return Ok(());
    }
    let width = rows
        .iter()
        .map(|r| r.key.as_str().chars().count())
        .max()
        .unwrap_or(0)
        .max("ACCOUNT".len());
    let provider_width = rows
        .iter()
        .map(|r| r.provider.chars().count())
        .max()
        .unwrap_or(0)
        .max("PROVIDER".len());
    println!(
        "{:<width$}  {:<provider_width$}  {:<16} {:<16} {:<8} SERVER",
        "ACCOUNT", "PROVIDER", "ACCESS TOKEN", "REFRESH TOKEN", "STORED"
    );
    let mut any_estimate = false;
    for r in rows {
        let access = match (&r.problem, r.access_expires_in) {
            (Some(_), _) => "unreadable".to_owned(),
            (None, Some(s)) if r.access_estimated && s > 0 => {
                any_estimate = true;
                format!("~{}", describe(s))
            }
            (None, Some(s)) => describe(s),
            (None, None) => "-".to_owned(),
        };
        let refresh = match (r.has_refresh_token, r.refresh_expires_in) {
            (false, _) => "none".to_owned(),
            (true, Some(s)) => describe(s),
            (true, None) => "no expiry known".to_owned(),
        };
        let server = r
            .server
            .as_deref()
            .and_then(|url| url::Url::parse(url).ok())
            .and_then(|url| url.host_str().map(str::to_owned))
            .unwrap_or_else(|| "-".to_owned());
        let stored = match r.place {
            Place::Keyring => "keyring",
            Place::File => "file",
        };
        println!(
            "{:<width$}  {:<provider_width$}  {:<16} {:<16} {stored:<8} {server}",
            r.key.as_str(),
            r.provider,
            access,
            refresh
        );
    }
    if any_estimate {
        println!("~ the server did not say how long the token lives; this is authkit's estimate");
    }
    println!("New tokens go to {}", new_tokens_go_to(&store));
    Ok(())
}

/// Where the next sign-in's tokens go, for people.
fn new_tokens_go_to(store: &Store) -> String {
    match (store.keyring(), store.fallback()) {
        (Some(keyring), _) => format!("the OS credential store (service {:?})", keyring.service()),
        (None, Some(why)) => format!("files in {} ({why})", store.files().dir().display()),
        (None, None) => format!("files in {}", store.files().dir().display()),
    }
}

fn describe(seconds: i64) -> String {
    if seconds <= 0 {
        return "expired".to_owned();
    }
    match seconds {
        s if s < 120 => format!("{s} s"),
        s if s < 2 * 3600 => format!("{} min", s / 60),
        s if s < 2 * 86400 => format!("{} h", s / 3600),
        s => format!("{} days", s / 86400),
    }
}

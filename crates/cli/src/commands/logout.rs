//! `authkit logout`: revoke at the server when it can, then forget.
//!
//! An account with a record is signed out through its provider, under the
//! store's hold: the server is asked to revoke the refresh token (RFC 7009)
//! when the account names a revocation endpoint, and the tokens and the
//! record are removed whatever it answers. The command says which happened,
//! because a token the server did not revoke stays usable there until it
//! expires. An account without a record (stored by an earlier authkit) is
//! only forgotten, and the command says so.

use authkit_core::TokenManager;
use authkit_core::revocation::Revocation;
use authkit_core::store::HeldAccount;

use crate::account::{self, Target};
use crate::exit::Failure;
use crate::profiles::ProfileFile;
use crate::records::Records;
use crate::settings::Settings;
use crate::store::Store;

/// Signs out the account `key` names, or the account of `profile`.
pub async fn run(
    store: Store,
    profiles: &ProfileFile,
    key: Option<String>,
    profile: Option<String>,
) -> Result<(), Failure> {
    let records = Records::of(&store);
    let target = match (key, profile) {
        (Some(name), _) => {
            let key = account::resolve_account(&store, &name).await?;
            if records.get(&key)?.is_none() {
                return forget(&store, &key).await;
            }
            Target::Account {
                name: key.as_str().to_owned(),
                overrides: Settings::default(),
            }
        }
        (None, Some(name)) => Target::Profile {
            name,
            overrides: Settings::default(),
        },
        (None, None) => {
            return Err(Failure::Usage(
                "name the account (`authkit status` lists them) or --profile".into(),
            ));
        }
    };
    let chosen = account::choose(&store, profiles, target, false).await?;
    let key = chosen.key().clone();
    let server = chosen.settings.revocation_url.clone();
    let manager = TokenManager::new(chosen.provider, store.clone());
    let signed_out = manager.sign_out().await?;
    records.remove(&key)?;
    match signed_out.revocation() {
        Revocation::Revoked => eprintln!(
            "Signed out: {key} (the server revoked its tokens at {})",
            server.as_deref().unwrap_or("its revocation endpoint")
        ),
        Revocation::NotOffered => eprintln!(
            "Signed out: {key} (forgotten here; the account names no revocation endpoint, so its tokens stay valid at the server until they expire)"
        ),
        Revocation::NothingStored => eprintln!(
            "No stored tokens for {key}; its record is removed (`authkit status` lists the stored accounts)"
        ),
        Revocation::Failed(error) => eprintln!(
            "Signed out: {key} (forgotten here, but the server did not revoke its tokens: {error}; they stay valid there until they expire)"
        ),
        _ => eprintln!("Signed out: {key}"),
    }
    Ok(())
}

/// Forgets an account that has no record: nothing says where to revoke.
async fn forget(store: &Store, key: &authkit_core::AccountKey) -> Result<(), Failure> {
    let mut held = HeldAccount::acquire(store, key).await?;
    let existed = held.load().await.ok().flatten().is_some();
    held.remove().await?;
    drop(held);
    if existed {
        eprintln!(
            "Signed out: {key} (forgotten here; no record says which server issued it, so it was not revoked)"
        );
    } else {
        eprintln!("No stored tokens for {key} (`authkit status` lists the stored accounts)");
    }
    Ok(())
}

//! The credential store's failures, as store errors that name the fix.
//!
//! Three failures are the person's to mend, and each message says how: no
//! credential store at all (a headless SSH session or a container has no
//! D-Bus session, so no Secret Service), a locked store whose unlock prompt
//! cannot be shown or was dismissed, and a store that refuses access. They
//! are [`StoreError::Unavailable`]: the manager keeps serving a token it
//! holds, and tries the store again later. Nothing from a stored secret
//! ever reaches a message: the platform's errors that carry the secret's
//! bytes are reported without them.

use std::sync::Arc;

use authkit_core::StoreError;

/// What to do when the credential store cannot be used at all.
pub(crate) const NO_STORE_FIX: &str = "on Linux a Secret Service (GNOME Keyring, KWallet) must run in a D-Bus session, which headless SSH sessions and containers lack: start one, or keep tokens in files (authkit --token-store file)";

/// What to do when the store is locked or refused access.
pub(crate) const LOCKED_FIX: &str = "unlock it (log in to the desktop session, or `gnome-keyring-daemon --unlock` in this session) and try again, or keep tokens in files (authkit --token-store file)";

/// The store cannot be used on this machine now.
pub(crate) fn store_unavailable(error: &keyring::Error) -> StoreError {
    StoreError::Unavailable {
        message: format!(
            "there is no usable credential store ({}): {NO_STORE_FIX}",
            summary(error)
        ),
        source: None,
    }
}

/// `error` from `operation` on `location`, classified.
pub(crate) fn from_keyring(error: keyring::Error, operation: &str, location: &str) -> StoreError {
    match error {
        keyring::Error::NoStorageAccess(cause) => StoreError::Unavailable {
            message: format!(
                "the credential store refused {operation} {location}: it is locked and could not be unlocked (no prompt could be shown, or it was dismissed): {LOCKED_FIX}"
            ),
            source: Some(Arc::new(Cause(cause.to_string()))),
        },
        keyring::Error::NoDefaultStore => StoreError::Unavailable {
            message: format!("there is no usable credential store: {NO_STORE_FIX}"),
            source: None,
        },
        keyring::Error::PlatformFailure(cause) if mentions_bus(&cause.to_string()) => {
            StoreError::Unavailable {
                message: format!(
                    "the Secret Service could not be reached while {operation} {location}: {NO_STORE_FIX}"
                ),
                source: Some(Arc::new(Cause(cause.to_string()))),
            }
        }
        // `summary` keeps the stored bytes of a data-format error out.
        other => StoreError::io(operation, location, Cause(summary(&other))),
    }
}

/// A platform error's message, or the kind of error when its message could
/// carry stored bytes.
fn summary(error: &keyring::Error) -> String {
    match error {
        keyring::Error::BadDataFormat(_, _) | keyring::Error::BadEncoding(_) => {
            "the stored data is not in the expected format".into()
        }
        other => other.to_string(),
    }
}

fn mentions_bus(message: &str) -> bool {
    let message = message.to_ascii_lowercase();
    ["d-bus", "dbus", "org.freedesktop", "session bus", "address"]
        .iter()
        .any(|word| message.contains(word))
}

/// A cause kept as its message (the platform's error types are not all
/// `Clone`, and a store error is).
#[derive(Debug)]
struct Cause(String);

impl std::fmt::Display for Cause {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Cause {}

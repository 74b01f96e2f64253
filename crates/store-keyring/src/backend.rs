//! The credential store itself, one named secret at a time: the platform's
//! (through the `keyring` crate) or, for tests of the layout, a map.
//!
//! Every call blocks (a D-Bus round trip on Linux, a Keychain or Credential
//! Manager call elsewhere), so the store makes them on Tokio's blocking
//! pool.

#[cfg(test)]
use std::collections::HashMap;
#[cfg(test)]
use std::sync::{Arc, Mutex, PoisonError};

use authkit_core::StoreError;

use crate::errors::{from_keyring, store_unavailable};

/// One credential store: secrets by name, under the store's service.
pub(crate) trait Backend: Send + Sync + std::fmt::Debug {
    /// The secret named `name`, if there is one.
    fn get(&self, name: &str) -> Result<Option<Vec<u8>>, StoreError>;
    /// Sets the secret named `name`.
    fn set(&self, name: &str, secret: &[u8]) -> Result<(), StoreError>;
    /// Deletes the secret named `name`; one that is not there is not an error.
    fn delete(&self, name: &str) -> Result<(), StoreError>;
    /// Where a name lives, for people.
    fn describe(&self, name: &str) -> String;
}

/// The platform's credential store (Secret Service on Linux and the BSDs,
/// Keychain on macOS, Credential Manager on Windows).
#[derive(Debug)]
pub(crate) struct SystemKeyring {
    service: String,
}

impl SystemKeyring {
    /// The platform's store, with the secrets of `service`; fails when the
    /// platform has no usable store (no D-Bus session, say).
    pub(crate) fn open(service: &str) -> Result<Self, StoreError> {
        if let Err(error) = keyring::Entry::store_status() {
            return Err(store_unavailable(error));
        }
        Ok(Self {
            service: service.to_owned(),
        })
    }

    fn entry(&self, name: &str) -> Result<keyring::Entry, StoreError> {
        keyring::Entry::new(&self.service, name).map_err(|e| from_keyring(e, "opening", name))
    }
}

impl Backend for SystemKeyring {
    fn get(&self, name: &str) -> Result<Option<Vec<u8>>, StoreError> {
        match self.entry(name)?.get_secret() {
            Ok(secret) => Ok(Some(secret)),
            Err(keyring::Error::NoEntry) => Ok(None),
            Err(error) => Err(from_keyring(error, "reading", &self.describe(name))),
        }
    }

    fn set(&self, name: &str, secret: &[u8]) -> Result<(), StoreError> {
        self.entry(name)?
            .set_secret(secret)
            .map_err(|e| from_keyring(e, "writing", &self.describe(name)))
    }

    fn delete(&self, name: &str) -> Result<(), StoreError> {
        match self.entry(name)?.delete_credential() {
            Ok(()) | Err(keyring::Error::NoEntry) => Ok(()),
            Err(error) => Err(from_keyring(error, "deleting", &self.describe(name))),
        }
    }

    fn describe(&self, name: &str) -> String {
        format!(
            "{:?} in the credential store's service {:?}",
            name, self.service
        )
    }
}

/// Secrets in a map shared by clones, for tests of the layout.
#[cfg(test)]
#[derive(Debug, Default, Clone)]
pub(crate) struct MemoryBackend {
    secrets: Arc<Mutex<HashMap<String, Vec<u8>>>>,
}

#[cfg(test)]
impl MemoryBackend {
    /// The names held, sorted.
    pub(crate) fn names(&self) -> Vec<String> {
        let mut names: Vec<String> = self.lock().keys().cloned().collect();
        names.sort();
        names
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Vec<u8>>> {
        self.secrets.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

#[cfg(test)]
impl Backend for MemoryBackend {
    fn get(&self, name: &str) -> Result<Option<Vec<u8>>, StoreError> {
        Ok(self.lock().get(name).cloned())
    }

    fn set(&self, name: &str, secret: &[u8]) -> Result<(), StoreError> {
        self.lock().insert(name.to_owned(), secret.to_vec());
        Ok(())
    }

    fn delete(&self, name: &str) -> Result<(), StoreError> {
        self.lock().remove(name);
        Ok(())
    }

    fn describe(&self, name: &str) -> String {
        format!("{name:?} in memory")
    }
}

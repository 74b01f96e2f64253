//! Encryption at rest for any store: token sets sealed with an AEAD.
//!
//! A file store's directory and a Redis both hold live refresh tokens; anyone
//! who can read them can act as the account. [`SealedStore`] wraps any
//! [`TokenStore`] and seals every value with XChaCha20-Poly1305 before it
//! reaches the backend, so what the disk or Redis holds is useless without
//! the key. The account key is bound in as associated data: a sealed value
//! copied to another account does not open there. Each value names the key
//! that sealed it, so keys rotate: values are read with any configured key
//! and always written with the current one, so every account is re-sealed
//! with the new key on its next save.
//!
//! A value sealed with a key this store does not have is
//! [`StoreError::UnknownSealingKey`], and the value stays where it is (it is
//! not corrupt: configure the key). A value that fails authentication
//! (tampered, truncated, moved from another account, or never sealed) is set
//! aside like any unreadable data, and reported as [`StoreError::Corrupt`].
//!
//! Envelope: `AKSEAL1\n`, the key id, `\n`, a random 24-byte nonce, the
//! ciphertext and its tag.

use std::fmt;
use std::sync::Arc;

use async_trait::async_trait;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{Key, XChaCha20Poly1305, XNonce};
use secrecy::{ExposeSecret, SecretBox, SecretSlice, SecretString};

use crate::error::Error;
use crate::error::store::StoreError;
use crate::secret::AccountKey;
use crate::store::token_store::{StoreLock, StoreRecord, TokenStore};

const MAGIC: &[u8] = b"AKSEAL1\n";
const NONCE_BYTES: usize = 24;

/// A 256-bit key for [`SealedStore`], with the id that names it in sealed
/// values. `Debug` shows the id only.
#[derive(Clone)]
pub struct SealingKey {
    id: String,
    key: Arc<SecretBox<[u8; 32]>>,
}

impl fmt::Debug for SealingKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SealingKey")
            .field("id", &self.id)
            .finish_non_exhaustive()
    }
}

impl SealingKey {
    /// A key from its 32 bytes. The id (1 to 64 of `A-Z a-z 0-9 . _ -`) is
    /// written in every value it seals.
    pub fn new(id: impl Into<String>, bytes: [u8; 32]) -> Result<Self, Error> {
        let id = id.into();
        let valid = !id.is_empty()
            && id.len() <= 64
            && id
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b));
        if !valid {
            return Err(Error::config(
                "a sealing key id is 1 to 64 of A-Z a-z 0-9 . _ -",
            ));
        }
        Ok(Self {
            id,
            key: Arc::new(SecretBox::new(Box::new(bytes))),
        })
    }

    /// A key from its base64 encoding (standard alphabet, 32 bytes decoded),
    /// as a key file or an environment variable holds it.
    pub fn from_base64(id: impl Into<String>, encoded: &SecretString) -> Result<Self, Error> {
        let decoded = STANDARD
            .decode(encoded.expose_secret().trim())
            .map_err(|_| Error::config("the sealing key is not valid base64"))?;
        let bytes: [u8; 32] = decoded
            .try_into()
            .map_err(|_| Error::config("a sealing key is 32 bytes"))?;
        Self::new(id, bytes)
    }

    /// A key from the environment variable `var` (base64).
    pub fn from_env(id: impl Into<String>, var: &str) -> Result<Self, Error> {
        let value = std::env::var(var)
            .map_err(|_| Error::config(format!("the environment variable {var} is not set")))?;
        Self::from_base64(id, &SecretString::from(value))
    }

    /// A key from a file holding its base64 encoding.
    pub fn from_file(id: impl Into<String>, path: &std::path::Path) -> Result<Self, Error> {
        let text = std::fs::read_to_string(path).map_err(|e| {
            Error::config(format!(
                "cannot read the sealing key {}: {e}",
                path.display()
            ))
        })?;
        Self::from_base64(id, &SecretString::from(text))
    }

    /// A fresh random key (to write to a key file, say).
    pub fn generate(id: impl Into<String>) -> Result<Self, Error> {
        let mut bytes = [0u8; 32];
        getrandom::fill(&mut bytes)
            .map_err(|e| Error::config(format!("no randomness for a key: {e}")))?;
        Self::new(id, bytes)
    }

    /// The key's id.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// The key in base64, for writing a key file. Handle it as the secret it is.
    pub fn to_base64(&self) -> SecretString {
        SecretString::from(STANDARD.encode(self.key.expose_secret()))
    }

    fn cipher(&self) -> XChaCha20Poly1305 {
        XChaCha20Poly1305::new(Key::from_slice(self.key.expose_secret()))
    }
}

/// The id of the key that sealed `bytes`, when they are a sealed value: so
/// that a store without keys reports a sealed value instead of setting it
/// aside as unreadable.
pub(crate) fn sealing_key_id(bytes: &[u8]) -> Option<String> {
    let rest = bytes.strip_prefix(MAGIC)?;
    let end = rest.iter().position(|b| *b == b'\n')?;
    Some(
        String::from_utf8_lossy(&rest[..end])
            .chars()
            .take(64)
            .collect(),
    )
}

/// The associated data of a sealed value: the account it belongs to and the
/// key that sealed it.
fn associated_data(account: &AccountKey, key_id: &str) -> Vec<u8> {
    let mut aad = b"authkit-sealed-v1\0".to_vec();
    aad.extend_from_slice(account.as_str().as_bytes());
    aad.push(0);
    aad.extend_from_slice(key_id.as_bytes());
    aad
}

/// The keys of a [`SealedStore`]: the current one and those it still reads.
#[derive(Debug, Clone)]
struct Keys {
    current: SealingKey,
    previous: Vec<SealingKey>,
}

impl Keys {
    fn find(&self, id: &str) -> Option<&SealingKey> {
        std::iter::once(&self.current)
            .chain(&self.previous)
            .find(|k| k.id == id)
    }
}

/// A [`TokenStore`] whose values are sealed with an AEAD before they reach
/// `S` (see the module docs). Cheap to clone when `S` is.
///
/// ```
/// use authkit_core::MemoryStore;
/// use authkit_core::store::{SealedStore, SealingKey};
///
/// let current = SealingKey::generate("2026-12")?;
/// let store = SealedStore::new(MemoryStore::new(), current)
///     .with_previous_key(SealingKey::generate("2026-06")?);
/// # let _ = store;
/// # Ok::<(), authkit_core::Error>(())
/// ```
#[derive(Clone)]
pub struct SealedStore<S> {
    inner: S,
    keys: Arc<Keys>,
}

impl<S: fmt::Debug> fmt::Debug for SealedStore<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SealedStore")
            .field("inner", &self.inner)
            .field("current_key", &self.keys.current.id)
            .finish_non_exhaustive()
    }
}

impl<S> SealedStore<S> {
    /// `inner`, with every value sealed with `current`.
    pub fn new(inner: S, current: SealingKey) -> Self {
        Self {
            inner,
            keys: Arc::new(Keys {
                current,
                previous: Vec::new(),
            }),
        }
    }

    /// Also opens values sealed with `key` (a key being rotated out). They
    /// are re-sealed with the current key on their next save.
    pub fn with_previous_key(mut self, key: SealingKey) -> Self {
        if let Some(keys) = Arc::get_mut(&mut self.keys) {
            keys.previous.push(key);
        } else {
            let keys = Keys {
                current: self.keys.current.clone(),
                previous: self.keys.previous.iter().cloned().chain([key]).collect(),
            };
            self.keys = Arc::new(keys);
        }
        self
    }

    /// The store underneath.
    pub fn inner(&self) -> &S {
        &self.inner
    }
}

#[async_trait]
impl<S: TokenStore> TokenStore for SealedStore<S> {
    async fn lock(&self, key: &AccountKey) -> Result<Box<dyn StoreLock>, StoreError> {
        Ok(Box::new(SealedLock {
            inner: self.inner.lock(key).await?,
            keys: Arc::clone(&self.keys),
        }))
    }
}

struct SealedLock {
    inner: Box<dyn StoreLock>,
    keys: Arc<Keys>,
}

impl fmt::Debug for SealedLock {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SealedLock")
            .field("inner", &self.inner)
            .finish_non_exhaustive()
    }
}

/// Why a value did not open.
enum Unsealed {
    Open(Vec<u8>),
    UnknownKey(String),
    Unreadable(&'static str),
}

impl Keys {
    /// Opens the value `sealed` stored for `account`.
    fn open(&self, account: &AccountKey, sealed: &[u8]) -> Unsealed {
        let Some(rest) = sealed.strip_prefix(MAGIC) else {
            return Unsealed::Unreadable("the value is not sealed");
        };
        let Some(newline) = rest.iter().position(|b| *b == b'\n') else {
            return Unsealed::Unreadable("the sealed value has no key id");
        };
        let (id, rest) = (&rest[..newline], &rest[newline + 1..]);
        let Ok(id) = std::str::from_utf8(id) else {
            return Unsealed::Unreadable("the sealed value's key id is not text");
        };
        let Some(key) = self.find(id) else {
            return Unsealed::UnknownKey(id.chars().take(64).collect());
        };
        if rest.len() < NONCE_BYTES {
            return Unsealed::Unreadable("the sealed value is truncated");
        }
        let (nonce, ciphertext) = rest.split_at(NONCE_BYTES);
        match key.cipher().decrypt(
            XNonce::from_slice(nonce),
            Payload {
                msg: ciphertext,
                aad: &associated_data(account, id),
            },
        ) {
            Ok(plain) => Unsealed::Open(plain),
            Err(_) => Unsealed::Unreadable(
                "the sealed value failed authentication (tampered, truncated, or sealed for another account)",
            ),
        }
    }
}

/// Opens `sealed` as a [`SealedStore`] holding only `key` would for
/// `account`: the plaintext, or why it does not open. For the fuzz targets,
/// which feed it any bytes.
pub fn open_sealed(
    key: &SealingKey,
    account: &AccountKey,
    sealed: &[u8],
) -> Result<Vec<u8>, String> {
    let keys = Keys {
        current: key.clone(),
        previous: Vec::new(),
    };
    match keys.open(account, sealed) {
        Unsealed::Open(plain) => Ok(plain),
        Unsealed::UnknownKey(id) => Err(format!("sealed with the unknown key {id}")),
        Unsealed::Unreadable(reason) => Err(reason.to_owned()),
    }
}

#[async_trait]
impl StoreLock for SealedLock {
    fn key(&self) -> &AccountKey {
        self.inner.key()
    }

    async fn load(&mut self) -> Result<Option<SecretSlice<u8>>, StoreError> {
        let Some(sealed) = self.inner.load().await? else {
            return Ok(None);
        };
        match self.keys.open(self.inner.key(), sealed.expose_secret()) {
            Unsealed::Open(plain) => Ok(Some(SecretSlice::from(plain))),
            Unsealed::UnknownKey(key_id) => Err(StoreError::UnknownSealingKey {
                key: self.key().clone(),
                key_id,
            }),
            Unsealed::Unreadable(reason) => {
                let moved_to = self.inner.set_aside().await?;
                tracing::warn!(account = %self.key(), moved_to = %moved_to, reason, "a sealed value did not open and was set aside");
                Err(StoreError::Corrupt {
                    key: self.key().clone(),
                    moved_to,
                    reason: reason.to_owned(),
                })
            }
        }
    }

    async fn save(&mut self, record: StoreRecord<'_>) -> Result<(), StoreError> {
        let current = &self.keys.current;
        let mut nonce = [0u8; NONCE_BYTES];
        getrandom::fill(&mut nonce)
            .map_err(|e| StoreError::unavailable(format!("no randomness for a nonce: {e}")))?;
        let ciphertext = current
            .cipher()
            .encrypt(
                XNonce::from_slice(&nonce),
                Payload {
                    msg: record.bytes,
                    aad: &associated_data(self.inner.key(), &current.id),
                },
            )
            .map_err(|_| StoreError::unavailable("sealing the token set failed"))?;
        let mut sealed =
            Vec::with_capacity(MAGIC.len() + current.id.len() + 1 + NONCE_BYTES + ciphertext.len());
        sealed.extend_from_slice(MAGIC);
        sealed.extend_from_slice(current.id.as_bytes());
        sealed.push(b'\n');
        sealed.extend_from_slice(&nonce);
        sealed.extend_from_slice(&ciphertext);
        self.inner
            .save(StoreRecord {
                bytes: &sealed,
                keep_for: record.keep_for,
            })
            .await
    }

    async fn prepare_save(&mut self) -> Result<(), StoreError> {
        // Sealing adds a fixed header and tag; the inner store's reserve
        // covers it.
        self.inner.prepare_save().await
    }

    async fn remove(&mut self) -> Result<(), StoreError> {
        self.inner.remove().await
    }

    async fn set_aside(&mut self) -> Result<String, StoreError> {
        self.inner.set_aside().await
    }

    async fn release(self: Box<Self>) -> Result<(), StoreError> {
        self.inner.release().await
    }
}

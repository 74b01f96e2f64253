//! A held account: typed access to one key of a store, under its hold.

use std::time::Duration;

use secrecy::ExposeSecret;
use time::OffsetDateTime;

use crate::error::store::StoreError;
use crate::secret::AccountKey;
use crate::store::token_store::{StoreLock, StoreRecord, TokenStore};
use crate::token::token_set::TokenSet;

/// Token sets are kept this much longer than their refresh token lives, so
/// that a set is never dropped while its refresh token could still be used.
pub const KEEP_MARGIN: Duration = Duration::from_secs(3600);

/// One account of a store, held: load, save and remove token sets while no
/// one else can. Encoding and format versions live here, once for every
/// store; unreadable data is set aside, never overwritten or deleted.
#[derive(Debug)]
pub struct HeldAccount {
    lock: Box<dyn StoreLock>,
}

impl HeldAccount {
    /// Waits for the hold on `key` in `store`.
    pub async fn acquire(store: &dyn TokenStore, key: &AccountKey) -> Result<Self, StoreError> {
        Ok(Self {
            lock: store.lock(key).await?,
        })
    }

    /// The account held.
    pub fn key(&self) -> &AccountKey {
        self.lock.key()
    }

    /// The stored token set, if any. Bytes that are not a token set in a
    /// known format are moved aside and reported as [`StoreError::Corrupt`].
    pub async fn load(&mut self) -> Result<Option<TokenSet>, StoreError> {
        let Some(bytes) = self.lock.load().await? else {
            return Ok(None);
        };
        if let Some(key_id) = super::sealed::sealing_key_id(bytes.expose_secret()) {
            // Sealed, and this store has no key: not corrupt, left as it is.
            return Err(StoreError::UnknownSealingKey {
                key: self.key().clone(),
                key_id,
            });
        }
        match TokenSet::from_store_bytes(bytes.expose_secret()) {
            Ok(tokens) => Ok(Some(tokens)),
            Err(format) => {
                let moved_to = self.lock.set_aside().await?;
                tracing::warn!(
                    account = %self.key(),
                    moved_to = %moved_to,
                    reason = %format,
                    "unreadable stored tokens were set aside"
                );
                Err(StoreError::Corrupt {
                    key: self.key().clone(),
                    moved_to,
                    reason: format.to_string(),
                })
            }
        }
    }

    /// Stores `tokens`, asking the store to keep them at least as long as
    /// the refresh token lives (counted from `now`).
    pub async fn save(&mut self, tokens: &TokenSet, now: OffsetDateTime) -> Result<(), StoreError> {
        let bytes = tokens.to_store_bytes();
        self.lock
            .save(StoreRecord {
                bytes: bytes.expose_secret(),
                keep_for: keep_for(tokens, now),
            })
            .await
    }

    /// Asks the store to make sure the next save can succeed (see
    /// [`StoreLock::prepare_save`]); called before a refresh token is spent.
    pub async fn prepare_save(&mut self) -> Result<(), StoreError> {
        self.lock.prepare_save().await
    }

    /// Forgets the account.
    pub async fn remove(&mut self) -> Result<(), StoreError> {
        self.lock.remove().await
    }

    /// Releases the hold now, reporting failure.
    pub async fn release(self) -> Result<(), StoreError> {
        self.lock.release().await
    }
}

/// How long a set must be kept: its refresh token's remaining life (or the
/// access token's when there is none) plus [`KEEP_MARGIN`]; `None` when the
/// refresh token's expiry is unknown.
fn keep_for(tokens: &TokenSet, now: OffsetDateTime) -> Option<Duration> {
    let until = match (tokens.refresh_token(), tokens.refresh_expires_at()) {
        (Some(_), None) => return None,
        (Some(_), Some(at)) => at,
        (None, _) => tokens.expires_at(),
    };
    let remaining = Duration::try_from(until - now).unwrap_or_default();
    Some(remaining + KEEP_MARGIN)
}

//! Account records: what each stored account was signed in with, kept
//! beside its tokens, so that `authkit token --account KEY` needs nothing
//! else and a refresh goes back to the server that issued the tokens.
//!
//! A record is the account's resolved [`Settings`] (the token endpoint
//! always named, endpoints found by discovery written out) plus the profile
//! it came from, as JSON in `<store>/accounts/`, one file per account, named
//! like the account's token file. It never holds a secret. It is written
//! after each sign-in and whenever an account is used through flags that
//! name it, whole ([`crate::whole_file`]), so a reader never sees
//! half of one. Accounts stored before records existed (v1 of the command)
//! have none: they keep working through their provider's flags, and get a
//! record the first time they are used that way.

use std::path::{Path, PathBuf};

use authkit_core::AccountKey;
use serde::{Deserialize, Serialize};

use crate::exit::Failure;
use crate::settings::Settings;
use crate::store::Store;

/// The record format this build writes.
pub const RECORD_VERSION: u32 = 1;

/// One account's record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccountRecord {
    /// The record format.
    pub version: u32,
    /// The account key its tokens are stored under.
    pub account: String,
    /// The profile it was signed in through, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub profile: Option<String>,
    /// What it was signed in with, resolved.
    pub settings: Settings,
}

impl AccountRecord {
    /// The record of `account`, signed in with `settings` (through `profile`).
    pub fn new(account: &AccountKey, profile: Option<&str>, settings: Settings) -> Self {
        Self {
            version: RECORD_VERSION,
            account: account.as_str().to_owned(),
            profile: profile.map(str::to_owned),
            settings,
        }
    }

    /// The account key.
    pub fn key(&self) -> AccountKey {
        AccountKey::new(self.account.clone())
    }

    /// The account's readable name: its key before `#` and the server's
    /// fingerprint.
    pub fn readable(&self) -> &str {
        readable(&self.account)
    }
}

/// The readable part of an account key (before `#`).
pub fn readable(key: &str) -> &str {
    key.split_once('#').map_or(key, |(readable, _)| readable)
}

/// Every account with stored tokens in `store`, in files or in the OS
/// credential store (those are known by their records: a credential store
/// cannot be listed).
pub async fn stored_keys(store: &Store) -> Result<Vec<AccountKey>, Failure> {
    let recorded: Vec<AccountKey> = Records::of(store)
        .all()
        .unwrap_or_default()
        .iter()
        .map(AccountRecord::key)
        .collect();
    Ok(store.keys(&recorded).await?)
}

/// The records of one store.
#[derive(Debug, Clone)]
pub struct Records {
    dir: PathBuf,
    store: Store,
}

impl Records {
    /// The records beside `store`'s token files.
    pub fn of(store: &Store) -> Self {
        Self {
            dir: store.files().dir().join("accounts"),
            store: store.clone(),
        }
    }

    fn path_for(&self, key: &AccountKey) -> PathBuf {
        let token_file = self.store.files().path_for(key);
        let name = token_file
            .file_name()
            .map(|n| n.to_os_string())
            .unwrap_or_default();
        self.dir.join(name)
    }

    /// The record of `key`, if it has one.
    pub fn get(&self, key: &AccountKey) -> Result<Option<AccountRecord>, Failure> {
        read(&self.path_for(key))
    }

    /// Every record, in key order. Unreadable files are skipped with a
    /// warning: a broken record must not hide the others.
    pub fn all(&self) -> Result<Vec<AccountRecord>, Failure> {
        let entries = match std::fs::read_dir(&self.dir) {
            Ok(entries) => entries,
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(error) => {
                return Err(Failure::Usage(format!(
                    "cannot list the account records in {}: {error}",
                    self.dir.display()
                )));
            }
        };
        let mut records = Vec::new();
        for entry in entries.filter_map(Result::ok) {
            let path = entry.path();
            if path.extension().is_none_or(|e| e != "json") {
                continue;
            }
            match read(&path) {
                Ok(Some(record)) => records.push(record),
                Ok(None) => {}
                Err(error) => {
                    tracing::warn!(path = %path.display(), error = %error, "skipping an unreadable account record")
                }
            }
        }
        records.sort_by(|a, b| a.account.cmp(&b.account));
        Ok(records)
    }

    /// Writes `record`, replacing the account's previous one.
    pub fn put(&self, record: &AccountRecord) -> Result<(), Failure> {
        let path = self.path_for(&record.key());
        let text = serde_json::to_vec_pretty(record).map_err(|e| {
            Failure::Usage(format!(
                "cannot write the account record {}: {e}",
                path.display()
            ))
        })?;
        crate::whole_file::write(&path, &text, "the account record")
    }

    /// Removes the record of `key`, if any.
    pub fn remove(&self, key: &AccountKey) -> Result<(), Failure> {
        let path = self.path_for(key);
        match std::fs::remove_file(&path) {
            Ok(()) => Ok(()),
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(error) => Err(Failure::Usage(format!(
                "cannot remove the account record {}: {error}",
                path.display()
            ))),
        }
    }
}

fn read(path: &Path) -> Result<Option<AccountRecord>, Failure> {
    let bytes = match std::fs::read(path) {
        Ok(bytes) => bytes,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(error) => {
            return Err(Failure::Usage(format!(
                "cannot read the account record {}: {error}",
                path.display()
            )));
        }
    };
    let record: AccountRecord = serde_json::from_slice(&bytes).map_err(|error| {
        Failure::Usage(format!(
            "the account record {} is not valid (line {}, column {}); remove it and sign in again",
            path.display(),
            error.line(),
            error.column()
        ))
    })?;
    if record.version > RECORD_VERSION {
        return Err(Failure::Usage(format!(
            "the account record {} has format {}, newer than this authkit reads ({RECORD_VERSION})",
            path.display(),
            record.version
        )));
    }
    Ok(Some(record))
}

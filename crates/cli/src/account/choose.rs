//! Which account a command names, and what it was signed in with.
//!
//! A command names an account in one of three ways: a profile
//! (`--profile work`, or the default profile), a stored account
//! (`--account KEY`), or a provider's flags (`token voipex --username …`,
//! the v1 form). Each way ends in a [`Chosen`] account: its resolved
//! settings, its provider, and whether its record is already kept. When the
//! account already has a record, the record wins: tokens go back to the
//! server that issued them, and a flag that says otherwise is a usage error
//! that names both values, before anything is sent.

use std::sync::Arc;

use authkit_core::{AccountKey, TokenProvider};

use super::providers::{self, generic_name, local_token_url};
use crate::cli::AccountChoice;
use crate::exit::Failure;
use crate::profiles::ProfileFile;
use crate::records::{AccountRecord, Records, readable};
use crate::settings::Settings;
use crate::store::Store;

/// What a command names.
#[derive(Debug, Clone)]
pub enum Target {
    /// A profile, with flags that narrow it.
    Profile {
        /// The profile's name.
        name: String,
        /// Flags given with it.
        overrides: Settings,
    },
    /// A stored account, with flags that must agree with it.
    Account {
        /// The key or its readable part.
        name: String,
        /// Flags given with it.
        overrides: Settings,
    },
    /// A provider's flags (`token voipex …`): the account they lead to.
    Flags(Settings),
}

/// The account a command acts on.
pub struct Chosen {
    /// Its provider.
    pub provider: Arc<dyn TokenProvider>,
    /// What it is signed in with, resolved.
    pub settings: Settings,
    /// The profile it belongs to.
    pub profile: Option<String>,
    /// Its readable name (a generic account's provider name).
    pub name: String,
    /// Its record, as stored, if it has one.
    pub record: Option<AccountRecord>,
}

impl Chosen {
    /// The account key.
    pub fn key(&self) -> &AccountKey {
        self.provider.account_key()
    }

    /// Keeps the account's record, when it has none or it changed.
    pub fn remember(&self, store: &Store) -> Result<(), Failure> {
        let record = AccountRecord::new(self.key(), self.profile.as_deref(), self.settings.clone());
        if self.record.as_ref() != Some(&record) {
            Records::of(store).put(&record)?;
        }
        Ok(())
    }
}

/// Settings as a call asks for them, with `base_url` turned into the token
/// endpoint it leads to, so they compare with a record's.
fn comparable(asked: &Settings, name: &str) -> Result<Settings, Failure> {
    let mut asked = asked.clone();
    if asked.base_url.is_some() || asked.token_url.is_some() {
        asked.token_url = local_token_url(&asked, name)?;
        asked.base_url = None;
    }
    Ok(asked)
}

fn refuse_conflict(asked: &Settings, record: &AccountRecord) -> Result<(), Failure> {
    match asked.conflicts_with(&record.settings) {
        Some(conflict) => Err(Failure::Usage(format!(
            "{conflict} (account {}); sign in again under another profile, or drop the flag",
            record.account
        ))),
        None => Ok(()),
    }
}

/// The account a record describes, asking also for the scopes the call
/// names: a scope the record's tokens were not granted makes the manager
/// get a new grant (unattended for a password or client-credentials
/// account; a browser or device account says which sign-in to run), and
/// the record then keeps the wider scopes.
fn from_record(
    record: AccountRecord,
    asked_scopes: &[String],
    password_stdin: bool,
) -> Result<Chosen, Failure> {
    let name = readable(&record.account).to_owned();
    let settings = record.settings.with_scopes_added(asked_scopes);
    let provider = providers::build(&settings, &name, password_stdin)?;
    if provider.account_key().as_str() != record.account {
        return Err(Failure::Usage(format!(
            "the account record of {} no longer leads to that account (it leads to {}); remove it with `authkit logout {}` and sign in again",
            record.account,
            provider.account_key(),
            record.account
        )));
    }
    Ok(Chosen {
        provider,
        settings,
        profile: record.profile.clone(),
        name,
        record: Some(record),
    })
}

/// The account `target` names, with its provider.
pub async fn choose(
    store: &Store,
    profiles: &ProfileFile,
    target: Target,
    password_stdin: bool,
) -> Result<Chosen, Failure> {
    let records = Records::of(store);
    match target {
        Target::Account { name, overrides } => {
            let key = resolve_account(store, &name).await?;
            let Some(record) = records.get(&key)? else {
                let stored = crate::records::stored_keys(store).await?.contains(&key);
                return Err(Failure::Usage(if stored {
                    format!(
                        "{key} has no record of the server it was signed in to (an earlier authkit stored it); use it once through its provider's flags (`authkit token voipex --username …`) and it is remembered"
                    )
                } else {
                    format!("no stored account {name} (`authkit status` lists the stored accounts)")
                }));
            };
            let overrides = Settings {
                kind: record.settings.kind,
                ..overrides
            };
            refuse_conflict(&comparable(&overrides, record.readable())?, &record)?;
            from_record(record, &overrides.scopes, password_stdin)
        }
        Target::Profile { name, overrides } => {
            let profile = profiles.get(&name)?;
            let overrides = Settings {
                kind: profile.kind,
                ..overrides
            };
            let account_name = generic_name(&name, &profile.overlaid_with(&overrides));
            let kept = records
                .all()?
                .into_iter()
                .filter(|r| r.profile.as_deref() == Some(name.as_str()))
                .collect::<Vec<_>>();
            // The profile's own settings pick its account; a flag that
            // contradicts that account is refused.
            let comparable_profile = comparable(profile, &account_name)?;
            if let Some(record) = kept
                .into_iter()
                .find(|r| comparable_profile.conflicts_with(&r.settings).is_none())
            {
                refuse_conflict(&comparable(&overrides, record.readable())?, &record)?;
                return from_record(record, &overrides.scopes, password_stdin);
            }
            let asked = profile.overlaid_with(&overrides);
            let settings = providers::resolve(&asked, &account_name).await?;
            let provider = providers::build(&settings, &account_name, password_stdin)?;
            let record = records.get(provider.account_key())?;
            Ok(Chosen {
                provider,
                settings,
                profile: Some(name),
                name: account_name,
                record,
            })
        }
        Target::Flags(asked) => {
            // The provider the flags lead to already names its token
            // endpoint: the settings resolve without building it again.
            let placeholder = providers::build(&asked, "", password_stdin)?;
            let readable_name = readable(placeholder.account_key().as_str()).to_owned();
            let named_endpoint = asked.base_url.is_some() || asked.token_url.is_some();
            let resolved = Settings {
                token_url: Some(placeholder.binding().token_endpoint().to_owned()),
                ..asked.clone()
            };
            let asked_cmp = if named_endpoint {
                Settings {
                    base_url: None,
                    ..resolved.clone()
                }
            } else {
                asked.clone()
            };
            let same_name: Vec<AccountRecord> = records
                .all()?
                .into_iter()
                .filter(|r| r.readable() == readable_name && r.settings.kind == asked.kind)
                .collect();
            let matching: Vec<AccountRecord> = if named_endpoint {
                same_name
                    .into_iter()
                    .filter(|r| {
                        r.settings.token_url.is_some()
                            && r.settings.token_url == asked_cmp.token_url
                    })
                    .collect()
            } else {
                same_name
            };
            match matching.len() {
                0 => Ok(Chosen {
                    record: records.get(placeholder.account_key())?,
                    provider: placeholder,
                    settings: resolved,
                    profile: None,
                    name: readable_name,
                }),
                1 => {
                    let record = matching.into_iter().next().expect("one record");
                    refuse_conflict(&asked_cmp, &record)?;
                    from_record(record, &asked.scopes, password_stdin)
                }
                _ => Err(Failure::Usage(format!(
                    "{readable_name} is signed in at {} servers: {}; give --token-url or the whole key with --account",
                    matching.len(),
                    matching
                        .iter()
                        .map(|r| format!(
                            "{} ({})",
                            r.account,
                            r.settings.token_url.as_deref().unwrap_or("?")
                        ))
                        .collect::<Vec<_>>()
                        .join(", ")
                ))),
            }
        }
    }
}

/// The target a command's flags name: a provider's flags, else `--account`,
/// else `--profile` (or `AUTHKIT_PROFILE`), else the default profile.
pub fn target(
    profiles: &ProfileFile,
    choice: &AccountChoice,
    flags: Option<Settings>,
) -> Result<Target, Failure> {
    let overrides = choice.overrides();
    if let Some(flags) = flags {
        if choice.account.is_some() || overrides != Settings::default() {
            return Err(Failure::Usage(
                "give either a provider with its flags, or --profile / --account with theirs, not both".into(),
            ));
        }
        return Ok(Target::Flags(flags));
    }
    if let Some(name) = &choice.account {
        return Ok(Target::Account {
            name: name.clone(),
            overrides,
        });
    }
    match choice.profile.clone().or_else(|| profiles.default.clone()) {
        Some(name) => Ok(Target::Profile { name, overrides }),
        None => Err(Failure::Usage(
            "name an account: --profile NAME, --account KEY (`authkit status` lists them), or a provider (`authkit token voipex --username …`); or set a default profile (`authkit profile default NAME`)".into(),
        )),
    }
}

/// The stored account `name` means: the key itself, or the one stored
/// account whose readable part (before `#` and the server's fingerprint) is
/// `name`. Several such accounts are a usage error that lists them.
pub async fn resolve_account(store: &Store, name: &str) -> Result<AccountKey, Failure> {
    let keys = crate::records::stored_keys(store).await?;
    if keys.iter().any(|k| k.as_str() == name) || name.contains('#') {
        return Ok(AccountKey::new(name));
    }
    let matching: Vec<&AccountKey> = keys
        .iter()
        .filter(|k| k.as_str().contains('#') && readable(k.as_str()) == name)
        .collect();
    match matching.as_slice() {
        [] => Ok(AccountKey::new(name)),
        [one] => Ok((*one).clone()),
        several => Err(Failure::Usage(format!(
            "{name} names {} stored accounts (at different servers or clients): {}; give the whole key",
            several.len(),
            several
                .iter()
                .map(|k| k.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        ))),
    }
}

//! Which account a command means, and the provider that serves it: the one
//! module every command imports, and the only one that knows the adapters.
//!
//! A command names an account by a profile, a stored account, or (the v1
//! form) a provider's flags. [`v1`] turns the v1 flags into [`Settings`];
//! [`choose`](mod@choose) finds the account those settings or names lead to, preferring
//! the account's record so that tokens go back to the server that issued
//! them; [`providers`] builds the provider for a kind of account, each kind
//! in its own file ([`voipex`], [`vonage`], [`generic`]).
//!
//! [`Settings`]: crate::settings::Settings

pub mod choose;
pub mod generic;
pub mod providers;
pub mod v1;
pub mod voipex;
pub mod vonage;

pub use choose::{Chosen, Target, choose, resolve_account, target};

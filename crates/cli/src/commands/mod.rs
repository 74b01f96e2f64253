//! One module per command. A command decides what to do and prints the
//! outcome; which account it means, and the provider that serves it, come
//! from [`crate::account`], so commands never import each other.

pub mod login;
pub mod logout;
pub mod profile;
pub mod status;
pub mod token;

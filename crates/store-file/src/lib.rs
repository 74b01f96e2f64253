//! authkit's file store: token sets on disk, durable, private, and safe when
//! many processes share them.
//!
//! Vonage's refresh tokens are single-use, and its server hands the same
//! token set to every process that signs in as one user: two processes that
//! each refresh on their own lock each other out. [`FileStore`] lets them
//! share one set instead. Its [`TokenStore::lock`] is an operating-system
//! lock, so the `TokenManager` of each process takes it, reloads the file
//! (another process may have refreshed), and only then refreshes; the new set
//! is on disk before the lock is released.
//!
//! - **Atomic and durable.** A save writes a temporary file in the same
//!   directory, fsyncs it, renames it over the old file and fsyncs the
//!   directory: a crash at any instant leaves the old set or the new.
//! - **Private.** Files are created `0600` and directories `0700` on Unix; a
//!   token file that others can read is tightened, with a warning.
//! - **Independent keys.** One file and one lock per account.
//! - **Nothing lost.** A file that cannot be read, or has a format version
//!   this build does not know, is moved aside to
//!   `<name>.corrupt-<timestamp>-<random>`, never overwritten or deleted; the
//!   error says where it went, and the manager goes on as if nothing were stored.
//!
//! ```no_run
//! use authkit_store_file::FileStore;
//! # fn run() -> Result<(), authkit_core::StoreError> {
//! let store = FileStore::open_default()?; // ~/.local/share/authkit/tokens on Linux
//! # let _ = store; Ok(()) }
//! ```

#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod files;
mod lock;
mod naming;
mod store;

pub use files::WriteStep;
pub use lock::FileLock;
pub use store::FileStore;

#[doc(no_inline)]
pub use authkit_core::TokenStore;

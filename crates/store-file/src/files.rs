//! The file operations the store is made of: private directories and files,
//! atomic durable replacement, and setting unreadable data aside.
//!
//! An atomic replacement writes a temporary file in the same directory,
//! fsyncs it, renames it over the old file and fsyncs the directory, so a
//! crash at any instant leaves the old content or the new, never a mix, and a
//! completed save survives a power cut.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use authkit_core::StoreError;

/// Turns an I/O error into a store error that says what and where.
pub(crate) fn io_error(operation: &str, path: &Path, err: io::Error) -> StoreError {
    StoreError::io(operation, path.display().to_string(), err)
}

/// Options that create a file readable by its owner only.
pub(crate) fn private_options() -> OpenOptions {
    let mut options = OpenOptions::new();
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    options
}

/// Creates `dir` (and missing parents) readable by its owner only.
pub(crate) fn create_private_dir(dir: &Path) -> io::Result<()> {
    let mut builder = fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        builder.mode(0o700);
    }
    builder.create(dir)
}

/// Makes an existing file private if others can read or write it.
pub(crate) fn tighten(path: &Path) {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        if let Ok(meta) = fs::metadata(path) {
            let mode = meta.permissions().mode();
            if mode & 0o077 != 0 {
                let result = fs::set_permissions(path, fs::Permissions::from_mode(0o600));
                tracing::warn!(
                    path = %path.display(),
                    mode = format!("{:o}", mode & 0o777),
                    tightened = result.is_ok(),
                    "a token file was readable by other users; it is now 0600"
                );
            }
        }
    }
    #[cfg(not(unix))]
    let _ = path;
}

/// Replaces `target` with `bytes` atomically and durably.
pub(crate) fn replace_atomically(target: &Path, bytes: &[u8]) -> Result<(), StoreError> {
    let dir = target.parent().unwrap_or(Path::new("."));
    let temp = temp_path(target);
    let written = (|| -> Result<(), StoreError> {
        let mut file = private_options()
            .write(true)
            .create_new(true)
            .open(&temp)
            .map_err(|e| io_error("creating", &temp, e))?;
        file.write_all(bytes)
            .map_err(|e| io_error("writing", &temp, e))?;
        file.sync_all().map_err(|e| io_error("syncing", &temp, e))?;
        drop(file);
        fs::rename(&temp, target).map_err(|e| io_error("replacing", target, e))?;
        sync_dir(dir).map_err(|e| io_error("syncing", dir, e))
    })();
    if written.is_err() {
        let _ = fs::remove_file(&temp);
    }
    written
}

/// Moves `path` aside to `<name>.corrupt-<timestamp>-<random>` and returns
/// the new path. The data is never deleted.
pub(crate) fn set_aside(path: &Path) -> Result<PathBuf, StoreError> {
    let stamp = time::OffsetDateTime::now_utc()
        .format(time::macros::format_description!(
            "[year][month][day]T[hour][minute][second]Z"
        ))
        .unwrap_or_else(|_| "unknown-time".to_owned());
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let aside = path.with_file_name(format!("{name}.corrupt-{stamp}-{}", random_hex(2)));
    fs::rename(path, &aside).map_err(|e| io_error("setting aside", path, e))?;
    let _ = sync_dir(path.parent().unwrap_or(Path::new(".")));
    Ok(aside)
}

/// Whether a file name is one of this store's temporary files.
pub(crate) fn is_temp_name(name: &str) -> bool {
    name.contains(".json.tmp-")
}

fn temp_path(target: &Path) -> PathBuf {
    let name = target
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    target.with_file_name(format!("{name}.tmp-{}", random_hex(8)))
}

fn random_hex(bytes: usize) -> String {
    let mut buf = vec![0u8; bytes];
    // Uniqueness comes from create_new; randomness only avoids collisions.
    let _ = getrandom::fill(&mut buf);
    buf.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(unix)]
fn sync_dir(dir: &Path) -> io::Result<()> {
    File::open(dir)?.sync_all()
}

#[cfg(not(unix))]
fn sync_dir(_dir: &Path) -> io::Result<()> {
    Ok(())
}

//! The file operations the store is made of: private directories and files,
//! atomic durable replacement, and setting unreadable data aside.
//!
//! An atomic replacement writes a temporary file in the same directory,
//! fsyncs it, renames it over the old file and fsyncs the directory, so a
//! crash at any instant leaves the old content or the new, never a mix, and a
//! completed save survives a power cut.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use authkit_core::StoreError;

/// Turns an I/O error into a store error that says what and where.
/// A full disk or quota is [`StoreError::Full`]; every other failure
/// [`StoreError::Io`].
pub(crate) fn io_error(operation: &str, path: &Path, err: io::Error) -> StoreError {
    let location = path.display().to_string();
    match err.kind() {
        io::ErrorKind::StorageFull | io::ErrorKind::QuotaExceeded => {
            StoreError::full(operation, location, err)
        }
        _ => StoreError::io(operation, location, err),
    }
}

/// The steps of an atomic, durable replacement, each reported by name when
/// it fails.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum WriteStep {
    /// Creating the temporary file beside the target.
    CreateTemp,
    /// Writing the bytes into it.
    Write,
    /// Flushing what was written.
    Flush,
    /// `fsync` of the temporary file.
    SyncFile,
    /// Renaming it over the target.
    Rename,
    /// `fsync` of the directory, so the rename survives a power cut.
    SyncDir,
}

impl WriteStep {
    /// What the step does, as the error says it.
    pub fn operation(self) -> &'static str {
        match self {
            WriteStep::CreateTemp => "creating the temporary file",
            WriteStep::Write => "writing",
            WriteStep::Flush => "flushing",
            WriteStep::SyncFile => "syncing (fsync) the file",
            WriteStep::Rename => "renaming over",
            WriteStep::SyncDir => "syncing (fsync) the directory",
        }
    }
}

/// Failures to inject at given steps of the next writes: the seam for the
/// faults a test cannot make for real (`fsync` returning `EIO`).
#[derive(Debug, Clone, Default)]
pub(crate) struct InjectedFaults(std::sync::Arc<std::sync::Mutex<Vec<WriteStep>>>);

impl InjectedFaults {
    pub(crate) fn push(&self, step: WriteStep) {
        self.0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .push(step);
    }

    /// An `EIO` if a failure was injected at `step` (taking it).
    fn at(&self, step: WriteStep) -> io::Result<()> {
        let mut faults = self
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        match faults.iter().position(|s| *s == step) {
            Some(i) => {
                faults.remove(i);
                Err(io::Error::from_raw_os_error(5))
            }
            None => Ok(()),
        }
    }
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

/// The least room reserved for a key's next save; a set takes a few
/// hundred bytes to a few kilobytes, and one file-system block holds most.
pub(crate) const MIN_RESERVED_BYTES: u64 = 4096;

/// How much room to reserve for the next save of a set now `current` bytes
/// long: twice that (a rotated set may grow), in whole 4 KiB blocks, and at
/// least [`MIN_RESERVED_BYTES`].
pub(crate) fn room_for(current: u64) -> u64 {
    current
        .saturating_mul(2)
        .max(MIN_RESERVED_BYTES)
        .next_multiple_of(MIN_RESERVED_BYTES)
}

/// Makes `reserve` at least `size` bytes long, in bytes really written: a
/// sparse file (`set_len`) would reserve nothing. What is already there is
/// kept, so a reservation made while there was room still counts once the
/// disk is full.
pub(crate) fn reserve_room(reserve: &Path, size: u64) -> io::Result<()> {
    let mut file = private_options()
        .write(true)
        .create(true)
        .truncate(false)
        .open(reserve)?;
    let len = file.metadata()?.len();
    if len >= size {
        return Ok(());
    }
    file.seek(SeekFrom::Start(len))?;
    let zeros = [0u8; 4096];
    let mut missing = size - len;
    while missing > 0 {
        let n = usize::try_from(missing.min(zeros.len() as u64)).unwrap_or(zeros.len());
        file.write_all(&zeros[..n])?;
        missing -= n as u64;
    }
    file.flush()
}

/// Replaces `target` with `bytes` atomically and durably, checking every
/// step. The bytes are written into the key's reserved file when there is
/// one (its blocks are already allocated, so a full disk cannot refuse
/// them), otherwise into a new temporary file. A failure anywhere leaves the
/// target as it was and removes a temporary file (a reservation stays, as
/// room); a failed `fsync` is reported, never retried as if the data were
/// safe (the page cache may have dropped it): the next save writes the whole
/// file again.
pub(crate) fn replace_atomically(
    target: &Path,
    reserve: &Path,
    bytes: &[u8],
    faults: &InjectedFaults,
) -> Result<(), StoreError> {
    let dir = target.parent().unwrap_or(Path::new("."));
    let reserved = reserve.is_file();
    let temp = if reserved {
        reserve.to_owned()
    } else {
        temp_path(target)
    };
    // Each step runs only when no failure was injected for it.
    let step = |step: WriteStep, path: &Path, run: &mut dyn FnMut() -> io::Result<()>| {
        faults
            .at(step)
            .and_then(|()| run())
            .map_err(|e| io_error(step.operation(), path, e))
    };
    let written = (|| -> Result<(), StoreError> {
        let opened = faults.at(WriteStep::CreateTemp).and_then(|()| {
            let mut options = private_options();
            if reserved {
                // Overwritten in place from the start, then cut to length.
                options.write(true).truncate(false);
            } else {
                options.write(true).create_new(true);
            }
            options.open(&temp)
        });
        let mut file = match opened {
            Ok(file) => file,
            Err(e) => return Err(io_error(WriteStep::CreateTemp.operation(), &temp, e)),
        };
        step(WriteStep::Write, &temp, &mut || {
            file.write_all(bytes)?;
            file.set_len(bytes.len() as u64)
        })?;
        step(WriteStep::Flush, &temp, &mut || file.flush())?;
        step(WriteStep::SyncFile, &temp, &mut || file.sync_all())?;
        drop(file);
        step(WriteStep::Rename, target, &mut || fs::rename(&temp, target))?;
        step(WriteStep::SyncDir, dir, &mut || sync_dir(dir))
    })();
    if written.is_err() && !reserved {
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

/// Runs file I/O on Tokio's blocking pool, so no runtime thread waits on a disk.
pub(crate) async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> Result<T, StoreError> + Send + 'static,
) -> Result<T, StoreError> {
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|e| StoreError::unavailable(format!("the file task failed: {e}")))?
}

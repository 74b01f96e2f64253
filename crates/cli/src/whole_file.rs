//! Writing a small file whole: to a temporary file in the same directory,
//! synced, then renamed into place, so a reader (another `authkit` at the
//! same moment) sees the old file or the new one, never half of either.

use std::io::Write;
use std::path::Path;

use crate::exit::Failure;

/// Writes `bytes` to `path`, creating its directory; `what` names the file
/// in the error ("the config file").
pub fn write(path: &Path, bytes: &[u8], what: &str) -> Result<(), Failure> {
    let failed = |step: &str, error: &dyn std::fmt::Display| {
        Failure::Usage(format!(
            "cannot write {what} {} ({step}): {error}",
            path.display()
        ))
    };
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir).map_err(|e| failed("creating its directory", &e))?;
    let mut file = tempfile::NamedTempFile::new_in(dir).map_err(|e| failed("creating", &e))?;
    file.write_all(bytes)
        .and_then(|()| file.as_file().sync_all())
        .map_err(|e| failed("writing", &e))?;
    file.persist(path)
        .map_err(|e| failed("renaming", &e.error))?;
    Ok(())
}

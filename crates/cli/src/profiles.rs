//! Profiles: named [`Settings`] in a TOML file, so a shell user types
//! `authkit token --profile work` instead of every URL and id each time.
//!
//! The file lives in the platform's config directory
//! (`~/.config/authkit/config.toml` on Linux), or where `--config` or
//! `AUTHKIT_CONFIG` says. It never holds a secret: an unknown key (such as
//! `client_secret`) is refused, not ignored, and an error about the file
//! never quotes its text. It is written whole ([`crate::whole_file`]), so
//! a reader never sees half of it.
//!
//! ```toml
//! default = "work"
//!
//! [profiles.work]
//! kind = "generic"
//! issuer = "https://login.example.com"
//! grant = "device"
//! client_id = "cli"
//! scopes = ["openid", "offline_access"]
//! ```

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::exit::Failure;
use crate::settings::Settings;

/// The environment variable naming the config file.
pub const CONFIG_ENV: &str = "AUTHKIT_CONFIG";

/// The config file: the default profile and every profile by name.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProfileFile {
    /// The profile used when a command names none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default: Option<String>,
    /// The profiles.
    #[serde(default)]
    pub profiles: BTreeMap<String, Settings>,
}

/// Where the config file is: `path` (from `--config` or `AUTHKIT_CONFIG`),
/// else the platform's config directory.
pub fn config_path(path: Option<PathBuf>) -> Result<PathBuf, Failure> {
    match path {
        Some(path) => Ok(path),
        None => dirs::config_dir()
            .map(|dir| dir.join("authkit").join("config.toml"))
            .ok_or_else(|| {
                Failure::Usage(format!(
                    "no per-user config directory is known here; give --config or {CONFIG_ENV}"
                ))
            }),
    }
}

impl ProfileFile {
    /// Reads the file at `path`; a missing file is an empty one.
    pub fn load(path: &Path) -> Result<Self, Failure> {
        let text = match std::fs::read_to_string(path) {
            Ok(text) => text,
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
                return Ok(Self::default());
            }
            Err(error) => {
                return Err(Failure::Usage(format!(
                    "cannot read the config file {}: {error}",
                    path.display()
                )));
            }
        };
        toml::from_str(&text).map_err(|error| {
            // The message and the line, never the text: a secret someone
            // pasted into the file must not reach the terminal or a log.
            let line = error.span().map(|span| {
                text.as_bytes()[..span.start.min(text.len())]
                    .iter()
                    .filter(|&&b| b == b'\n')
                    .count()
                    + 1
            });
            Failure::Usage(format!(
                "the config file {}{} is not valid: {}",
                path.display(),
                line.map(|l| format!(", line {l},")).unwrap_or_default(),
                error.message()
            ))
        })
    }

    /// Writes the file at `path`, creating its directory.
    pub fn save(&self, path: &Path) -> Result<(), Failure> {
        let text = toml::to_string_pretty(self).map_err(|e| {
            Failure::Usage(format!(
                "cannot write the config file {}: {e}",
                path.display()
            ))
        })?;
        crate::whole_file::write(path, text.as_bytes(), "the config file")
    }

    /// The profile `name`, or a usage error listing the known ones.
    pub fn get(&self, name: &str) -> Result<&Settings, Failure> {
        self.profiles.get(name).ok_or_else(|| {
            Failure::Usage(if self.profiles.is_empty() {
                format!("no profile {name}: there are none yet (`authkit profile add {name} ...`)")
            } else {
                format!(
                    "no profile {name} (known: {}; `authkit profile list`)",
                    self.profiles.keys().cloned().collect::<Vec<_>>().join(", ")
                )
            })
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::settings::{Grant, Kind};

    #[test]
    fn a_missing_file_is_an_empty_one_and_a_saved_file_reads_back() {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let path = dir.path().join("nested").join("config.toml");
        assert_eq!(
            ProfileFile::load(&path).expect("loads"),
            ProfileFile::default()
        );
        let mut file = ProfileFile {
            default: Some("work".into()),
            ..ProfileFile::default()
        };
        file.profiles.insert(
            "work".into(),
            Settings {
                kind: Kind::Generic,
                grant: Some(Grant::Device),
                issuer: Some("https://login.example.com".into()),
                client_id: Some("cli".into()),
                ..Settings::default()
            },
        );
        file.save(&path).expect("saves");
        assert_eq!(ProfileFile::load(&path).expect("loads"), file);
    }

    #[test]
    fn a_broken_file_is_named_with_its_line_and_never_quoted() {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let path = dir.path().join("config.toml");
        std::fs::write(
            &path,
            "[profiles.work]\nkind = \"generic\"\nclient_secret = \"hunter2-very-secret\"\n",
        )
        .expect("written");
        let Err(Failure::Usage(message)) = ProfileFile::load(&path) else {
            panic!("a usage error");
        };
        assert!(message.contains("line 3"), "{message}");
        assert!(message.contains("client_secret"), "{message}");
        assert!(!message.contains("hunter2"), "{message}");
    }
}

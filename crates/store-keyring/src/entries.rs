//! How one account's bytes are laid out in the credential store.
//!
//! An account's token set is one secret named by its account key, as it
//! is. A store that caps a secret's size (Windows' Credential Manager takes
//! 2,560 bytes, and a set with an ID token is often larger) gets the set in
//! parts: `<key> [part <i> of <generation>]`, written first, then the
//! account's own secret, replaced by a manifest that names the generation,
//! the number of parts and their SHA-256. A reader under the hold follows
//! the manifest, and a crash between the steps leaves the old manifest
//! (and its complete old parts) or the new one: never half of a set. The
//! parts of the generation replaced are deleted last.
//!
//! A manifest is ASCII starting with [`MANIFEST_MAGIC`]; the core's
//! encoded sets (JSON, or a sealed envelope) never start so.

use authkit_core::StoreError;
use sha2::{Digest, Sha256};

use crate::backend::Backend;

/// How a manifest begins.
pub(crate) const MANIFEST_MAGIC: &str = "authkit-keyring-parts/1 ";

/// The most parts one set may take: a set larger than this many entries'
/// worth is refused rather than spread over the store.
pub(crate) const MAX_PARTS: usize = 64;

/// Reads the bytes stored for `key`.
pub(crate) fn read(backend: &dyn Backend, key: &str) -> Result<Option<Vec<u8>>, StoreError> {
    let Some(head) = backend.get(key)? else {
        return Ok(None);
    };
    let Some(manifest) = Manifest::parse(&head) else {
        return Ok(Some(head));
    };
    let mut bytes = Vec::new();
    for index in 0..manifest.parts {
        let name = part_name(key, &manifest.generation, index);
        let Some(part) = backend.get(&name)? else {
            // A missing part: hand back the manifest itself, which the core
            // cannot read as a set and so sets aside (with the parts there are).
            return Ok(Some(head));
        };
        bytes.extend_from_slice(&part);
    }
    if hex(&Sha256::digest(&bytes)) != manifest.digest {
        return Ok(Some(head));
    }
    Ok(Some(bytes))
}

/// Replaces what is stored for `key` with `bytes`, in parts of at most
/// `limit` bytes when the store caps a secret's size.
pub(crate) fn write(
    backend: &dyn Backend,
    key: &str,
    bytes: &[u8],
    limit: Option<usize>,
) -> Result<(), StoreError> {
    let previous = backend.get(key)?.and_then(|head| Manifest::parse(&head));
    match limit {
        Some(limit) if bytes.len() > limit => {
            let parts: Vec<&[u8]> = bytes.chunks(limit.max(1)).collect();
            if parts.len() > MAX_PARTS {
                return Err(StoreError::io(
                    "writing",
                    backend.describe(key),
                    TooLarge {
                        bytes: bytes.len(),
                        limit,
                    },
                ));
            }
            let generation = new_generation();
            for (index, part) in parts.iter().enumerate() {
                backend.set(&part_name(key, &generation, index), part)?;
            }
            let manifest = Manifest {
                generation,
                parts: parts.len(),
                digest: hex(&Sha256::digest(bytes)),
            };
            backend.set(key, manifest.render().as_bytes())?;
        }
        _ => backend.set(key, bytes)?,
    }
    if let Some(old) = previous {
        delete_parts(backend, key, &old);
    }
    Ok(())
}

/// Deletes what is stored for `key`, its parts included.
pub(crate) fn delete(backend: &dyn Backend, key: &str) -> Result<(), StoreError> {
    let previous = backend.get(key)?.and_then(|head| Manifest::parse(&head));
    backend.delete(key)?;
    if let Some(old) = previous {
        delete_parts(backend, key, &old);
    }
    Ok(())
}

/// Best effort: a part left behind holds a set already replaced, and is
/// overwritten by nothing (each generation has new names).
fn delete_parts(backend: &dyn Backend, key: &str, manifest: &Manifest) {
    for index in 0..manifest.parts {
        let name = part_name(key, &manifest.generation, index);
        if let Err(error) = backend.delete(&name) {
            tracing::warn!(entry = %name, error = %error, "could not delete an old part of a token set");
        }
    }
}

/// The name of part `index` of `generation` of `key`'s set.
pub(crate) fn part_name(key: &str, generation: &str, index: usize) -> String {
    format!("{key} [part {index} of {generation}]")
}

fn new_generation() -> String {
    let nanos = time::OffsetDateTime::now_utc().unix_timestamp_nanos();
    format!("{nanos:x}-{:x}", std::process::id())
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

struct Manifest {
    generation: String,
    parts: usize,
    digest: String,
}

impl Manifest {
    fn parse(head: &[u8]) -> Option<Self> {
        let text = std::str::from_utf8(head).ok()?;
        let mut fields = text.strip_prefix(MANIFEST_MAGIC)?.split(' ');
        let generation = fields.next()?.to_owned();
        let parts = fields.next()?.parse().ok()?;
        let digest = fields.next()?.to_owned();
        (fields.next().is_none() && parts <= MAX_PARTS && !generation.is_empty()).then_some(Self {
            generation,
            parts,
            digest,
        })
    }

    fn render(&self) -> String {
        format!(
            "{MANIFEST_MAGIC}{} {} {}",
            self.generation, self.parts, self.digest
        )
    }
}

/// A set larger than the store takes in [`MAX_PARTS`] entries.
#[derive(Debug)]
struct TooLarge {
    bytes: usize,
    limit: usize,
}

impl std::fmt::Display for TooLarge {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "the token set is {} bytes, more than {MAX_PARTS} entries of the credential store's limit of {} bytes each",
            self.bytes, self.limit
        )
    }
}

impl std::error::Error for TooLarge {}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::backend::MemoryBackend;

    #[test]
    fn a_set_that_fits_is_one_entry_as_it_is() {
        let backend = MemoryBackend::default();
        write(&backend, "acct", b"{\"small\":1}", Some(2560)).unwrap();
        assert_eq!(backend.names(), ["acct"]);
        assert_eq!(read(&backend, "acct").unwrap().unwrap(), b"{\"small\":1}");
    }

    #[test]
    fn a_set_over_the_limit_is_kept_in_parts_and_read_whole() {
        let backend = MemoryBackend::default();
        let big: Vec<u8> = (0..10_000u32).map(|i| (i % 251) as u8).collect();
        write(&backend, "acct", &big, Some(2560)).unwrap();
        assert_eq!(backend.names().len(), 1 + 4, "{:?}", backend.names());
        assert_eq!(read(&backend, "acct").unwrap().unwrap(), big);

        // Replacing it leaves only the new set's entries.
        write(&backend, "acct", b"{\"small\":2}", Some(2560)).unwrap();
        assert_eq!(backend.names(), ["acct"]);
        assert_eq!(read(&backend, "acct").unwrap().unwrap(), b"{\"small\":2}");
    }

    #[test]
    fn a_missing_or_altered_part_hands_back_the_manifest_for_setting_aside() {
        let backend = MemoryBackend::default();
        let big = vec![7u8; 6000];
        write(&backend, "acct", &big, Some(2560)).unwrap();
        let part = backend
            .names()
            .into_iter()
            .find(|n| n.contains("[part 1 of"))
            .unwrap();
        backend.set(&part, b"tampered").unwrap();
        let read_back = read(&backend, "acct").unwrap().unwrap();
        assert!(read_back.starts_with(MANIFEST_MAGIC.as_bytes()));
        backend.delete(&part).unwrap();
        let read_back = read(&backend, "acct").unwrap().unwrap();
        assert!(read_back.starts_with(MANIFEST_MAGIC.as_bytes()));
    }

    #[test]
    fn a_set_too_large_for_the_store_is_refused_and_the_old_one_kept() {
        let backend = MemoryBackend::default();
        write(&backend, "acct", b"{\"kept\":1}", Some(16)).unwrap();
        let error = write(&backend, "acct", &vec![1u8; 16 * MAX_PARTS + 1], Some(16)).unwrap_err();
        assert!(
            error.to_string().contains("more than 64 entries"),
            "{error}"
        );
        assert_eq!(read(&backend, "acct").unwrap().unwrap(), b"{\"kept\":1}");
    }

    #[test]
    fn deleting_removes_the_parts_too() {
        let backend = MemoryBackend::default();
        write(&backend, "acct", &[3u8; 5000], Some(1000)).unwrap();
        delete(&backend, "acct").unwrap();
        assert!(backend.names().is_empty());
        assert!(read(&backend, "acct").unwrap().is_none());
    }
}

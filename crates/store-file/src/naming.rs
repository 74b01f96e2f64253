//! Account keys as file names, and back.
//!
//! A key like `voipex:alice@example.com` holds characters that some file
//! systems refuse (`:` on Windows, `/` everywhere). Every byte outside
//! `[A-Za-z0-9._@+-]` is percent-encoded, a leading `.` too (no hidden files,
//! no `..`), and Windows' reserved device names get their first letter
//! encoded. Keys whose encoding would be too long for a file name are cut
//! and suffixed with a hash of the whole key; those cannot be decoded back,
//! and [`crate::FileStore::keys`] skips them.

use std::fmt::Write;

use authkit_core::AccountKey;
use sha2::{Digest, Sha256};

/// Longest encoded stem kept whole; longer ones are cut and hashed.
const MAX_STEM: usize = 180;

const RESERVED: &[&str] = &[
    "con", "prn", "aux", "nul", "com1", "com2", "com3", "com4", "com5", "com6", "com7", "com8",
    "com9", "lpt1", "lpt2", "lpt3", "lpt4", "lpt5", "lpt6", "lpt7", "lpt8", "lpt9",
];

/// The file name stem for `key`.
pub(crate) fn stem(key: &AccountKey) -> String {
    let mut out = String::with_capacity(key.as_str().len());
    for (i, byte) in key.as_str().bytes().enumerate() {
        let plain = byte.is_ascii_alphanumeric() || b"-_.@+".contains(&byte);
        if plain && !(i == 0 && byte == b'.') {
            out.push(char::from(byte));
        } else {
            let _ = write!(out, "%{byte:02X}");
        }
    }
    let base = out.split('.').next().unwrap_or("").to_ascii_lowercase();
    if RESERVED.contains(&base.as_str()) {
        let first = out.remove(0);
        out.insert_str(0, &format!("%{:02X}", u32::from(first)));
    }
    if out.is_empty() {
        out.push_str("%00empty");
    }
    if out.len() > MAX_STEM {
        let digest = Sha256::digest(key.as_str().as_bytes());
        let hex: String = digest.iter().take(16).map(|b| format!("{b:02x}")).collect();
        out.truncate(120);
        // Do not leave a cut escape sequence behind.
        while let Some(pos) = out.rfind('%') {
            if out.len() - pos >= 3 {
                break;
            }
            out.truncate(pos);
        }
        out.push('~');
        out.push_str(&hex);
    }
    out
}

/// The key a stem was made from, unless it was hashed.
pub(crate) fn key_of(stem: &str) -> Option<AccountKey> {
    if stem.contains('~') || stem == "%00empty" {
        return None;
    }
    let bytes = stem.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = stem.get(i + 1..i + 3)?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok().map(AccountKey::new)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_become_safe_names_and_come_back() {
        for (key, expected) in [
            ("voipex:alice@example.com", "voipex%3Aalice@example.com"),
            ("a/b\\c", "a%2Fb%5Cc"),
            ("..", "%2E."),
            ("con", "%63on"),
            ("ключ", "%D0%BA%D0%BB%D1%8E%D1%87"),
        ] {
            let key = AccountKey::new(key);
            assert_eq!(stem(&key), expected);
            assert_eq!(key_of(&stem(&key)), Some(key));
        }
    }

    #[test]
    fn long_keys_are_hashed_and_stay_distinct() {
        let a = AccountKey::new(format!("vonage:{}", "x".repeat(400)));
        let b = AccountKey::new(format!("vonage:{}y", "x".repeat(399)));
        assert!(stem(&a).len() <= MAX_STEM);
        assert_ne!(stem(&a), stem(&b));
        assert_eq!(key_of(&stem(&a)), None);
        let escaped = AccountKey::new("é".repeat(100));
        assert!(stem(&escaped).len() <= MAX_STEM);
    }
}

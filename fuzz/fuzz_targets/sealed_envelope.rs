//! Any bytes as a value read from a sealed store: the plaintext only when
//! it authenticates under the key for this account, otherwise a reason;
//! never a panic.
#![no_main]

use std::sync::OnceLock;

use authkit_core::AccountKey;
use authkit_core::__private::open_sealed;
use authkit_core::store::SealingKey;
use libfuzzer_sys::fuzz_target;

fn key() -> &'static SealingKey {
    static KEY: OnceLock<SealingKey> = OnceLock::new();
    KEY.get_or_init(|| SealingKey::new("2026-12", [7u8; 32]).expect("a key"))
}

fuzz_target!(|data: &[u8]| {
    let account = AccountKey::new("voipex:alice@example.com#1a2b3c4d");
    match open_sealed(key(), &account, data) {
        // Forging an authentic value without the key is the AEAD's to
        // prevent; reaching here means the input was sealed with it.
        Ok(plain) => {
            let _ = plain.len();
        }
        Err(reason) => {
            assert!(!reason.is_empty());
        }
    }
});

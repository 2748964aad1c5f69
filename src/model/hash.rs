//! Keyed hashing of page values (cookie values, storage values, TC strings): values are
//! matched across observations without being stored.

use sha2::{Digest, Sha256};

/// (`Store::hash_key`), installed once per process by the pipeline before any browser
/// starts. Equal values still compare equal within one database's history, but a
/// guessable value (`consent=false`, a user id) cannot be confirmed offline from a copy
/// of the hashes without the key.
static HASH_KEY: std::sync::OnceLock<Vec<u8>> = std::sync::OnceLock::new();

/// Install the per-database hashing key. The first key wins (one database per process);
/// returns false when a different key was already installed.
pub fn set_hash_key(key: &[u8]) -> bool {
    HASH_KEY.get_or_init(|| key.to_vec()) == key
}

/// Keyed SHA-256 of a value (HMAC-SHA-256 with the database's key; plain SHA-256 when no
/// key is installed, as in unit tests), first 16 hex digits: lets values be matched
/// without storing them.
pub fn hash_value(value: &str) -> String {
    let digest = match HASH_KEY.get() {
        Some(key) => hmac_sha256(key, value.as_bytes()),
        None => Sha256::digest(value.as_bytes()).into(),
    };
    digest.iter().take(8).map(|b| format!("{b:02x}")).collect()
}

/// HMAC-SHA-256 (RFC 2104) over `sha2`, so no further crate is needed.
fn hmac_sha256(key: &[u8], msg: &[u8]) -> [u8; 32] {
    const BLOCK: usize = 64;
    let mut k = [0u8; BLOCK];
    if key.len() > BLOCK {
        k[..32].copy_from_slice(&Sha256::digest(key));
    } else {
        k[..key.len()].copy_from_slice(key);
    }
    let mut inner = Sha256::new();
    inner.update(k.map(|b| b ^ 0x36));
    inner.update(msg);
    let mut outer = Sha256::new();
    outer.update(k.map(|b| b ^ 0x5c));
    outer.update(inner.finalize());
    outer.finalize().into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hmac_matches_rfc_4231_case_2() {
        let mac = hmac_sha256(b"Jefe", b"what do ya want for nothing?");
        let hex: String = mac.iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(
            hex,
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }

    #[test]
    fn hash_is_stable_and_hides_value() {
        let h = hash_value("secret-session-id");
        assert_eq!(h.len(), 16);
        assert_eq!(h, hash_value("secret-session-id"));
        assert!(!h.contains("secret"));
    }
}

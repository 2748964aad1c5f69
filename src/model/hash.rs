//! Keyed hashing of page values (cookie values, storage values, TC strings): values are
//! matched across observations without being stored.

use sha2::{Digest, Sha256};
use std::sync::Arc;

/// Hashes page values with one database's key ([`crate::store::Store::hasher`]): equal
/// values hash equal within that database's history, but a guessable value
/// (`consent=false`, a user id) cannot be confirmed offline from a copy of the hashes
/// without the key. Cheap to clone; two databases, two hashers, in one process.
///
/// There is no process-wide hasher: the pipeline takes the database's from the store and
/// passes it, as a value, to the engine (each capture hashes cookie and storage values
/// with it) and to the decoders of TC strings (`signals::tcf`), so whatever hashes a value
/// was handed the key of the database the value is written to.
#[derive(Clone, PartialEq, Eq)]
pub struct ValueHasher {
    /// `None`: plain SHA-256 (unit tests, tools without a database).
    key: Option<Arc<[u8]>>,
}

impl std::fmt::Debug for ValueHasher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never the key itself.
        f.debug_struct("ValueHasher")
            .field("keyed", &self.key.is_some())
            .finish()
    }
}

impl ValueHasher {
    /// HMAC-SHA-256 with `key`.
    pub fn keyed(key: &[u8]) -> ValueHasher {
        ValueHasher {
            key: Some(Arc::from(key)),
        }
    }

    /// Plain SHA-256, for tests and tools that write no database.
    pub fn unkeyed() -> ValueHasher {
        ValueHasher { key: None }
    }

    /// Keyed SHA-256 of a value (HMAC-SHA-256 with the database's key; plain SHA-256
    /// when unkeyed), first 16 hex digits: lets values be matched without storing them.
    pub fn hash(&self, value: &str) -> String {
        let digest = match &self.key {
            Some(key) => hmac_sha256(key, value.as_bytes()),
            None => Sha256::digest(value.as_bytes()).into(),
        };
        digest.iter().take(8).map(|b| format!("{b:02x}")).collect()
    }
}

/// HMAC-SHA-256 (RFC 2104) from the `hmac` crate.
fn hmac_sha256(key: &[u8], msg: &[u8]) -> [u8; 32] {
    use hmac::{Hmac, Mac};
    // HMAC takes a key of any length: `new_from_slice` cannot fail for it.
    match <Hmac<Sha256> as Mac>::new_from_slice(key) {
        Ok(mut mac) => {
            mac.update(msg);
            mac.finalize().into_bytes().into()
        }
        Err(_) => Sha256::digest(msg).into(),
    }
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
        // The value hash is the first 16 hex digits of the same MAC.
        let h = ValueHasher::keyed(b"Jefe").hash("what do ya want for nothing?");
        assert_eq!(h, hex[..16]);
    }

    #[test]
    fn hmac_matches_rfc_4231_case_6_a_key_longer_than_a_block() {
        let mac = hmac_sha256(
            &[0xaa; 131],
            b"Test Using Larger Than Block-Size Key - Hash Key First",
        );
        let hex: String = mac.iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(
            hex,
            "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"
        );
    }

    #[test]
    fn hash_is_stable_and_hides_value() {
        let hasher = ValueHasher::keyed(b"k");
        let h = hasher.hash("secret-session-id");
        assert_eq!(h.len(), 16);
        assert_eq!(h, hasher.hash("secret-session-id"));
        assert!(!h.contains("secret"));
    }

    #[test]
    fn keys_give_different_hashes() {
        let (a, b) = (ValueHasher::keyed(b"a"), ValueHasher::keyed(b"b"));
        assert_ne!(a.hash("v"), b.hash("v"));
        assert_eq!(a.hash("v"), ValueHasher::keyed(b"a").hash("v"));
        assert_ne!(a.hash("v"), ValueHasher::unkeyed().hash("v"));
        assert_eq!(format!("{a:?}"), "ValueHasher { keyed: true }");
    }
}

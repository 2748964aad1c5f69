//! ed25519 keys for signing and checking bundles, in the forms people have them:
//! a private key as PKCS#8 (PEM `-----BEGIN PRIVATE KEY-----`, as `openssl genpkey
//! -algorithm ed25519` writes it, or its DER), a public key as SubjectPublicKeyInfo (PEM
//! `-----BEGIN PUBLIC KEY-----`, `openssl pkey -pubout`) or as the 32 raw bytes in base64
//! (what `manifest.sig` and `consentry evidence` print).

use anyhow::{anyhow, bail, Result};
use base64::Engine as _;
use ring::signature::KeyPair as _;

/// A private ed25519 key.
pub struct SigningKey(ring::signature::Ed25519KeyPair);

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never the key itself.
        write!(f, "SigningKey({})", self.public_key_base64())
    }
}

impl SigningKey {
    pub fn public_key(&self) -> &[u8] {
        self.0.public_key().as_ref()
    }

    pub fn public_key_base64(&self) -> String {
        base64::engine::general_purpose::STANDARD.encode(self.public_key())
    }

    pub fn sign(&self, msg: &[u8]) -> Vec<u8> {
        self.0.sign(msg).as_ref().to_vec()
    }

    /// A new random key, as PKCS#8 DER (for tests and `--keygen`-like uses).
    pub fn generate_pkcs8() -> Result<Vec<u8>> {
        let rng = ring::rand::SystemRandom::new();
        ring::signature::Ed25519KeyPair::generate_pkcs8(&rng)
            .map(|d| d.as_ref().to_vec())
            .map_err(|_| anyhow!("cannot generate a key"))
    }
}

/// The bytes between PEM armour lines with `label`, or `None` when `text` is not PEM.
fn pem(text: &[u8], label: &str) -> Option<Result<Vec<u8>>> {
    let text = std::str::from_utf8(text).ok()?;
    let begin = format!("-----BEGIN {label}-----");
    let end = format!("-----END {label}-----");
    let start = text.find(&begin)? + begin.len();
    let stop = text[start..].find(&end)? + start;
    let body: String = text[start..stop]
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect();
    Some(
        base64::engine::general_purpose::STANDARD
            .decode(body)
            .map_err(|e| anyhow!("the PEM {label} is not base64: {e}")),
    )
}

/// A private key from a key file's bytes (PKCS#8 PEM or DER). The error never quotes the key.
pub fn parse_signing_key(bytes: &[u8]) -> Result<SigningKey> {
    let der = match pem(bytes, "PRIVATE KEY") {
        Some(der) => der?,
        None if bytes.first() == Some(&0x30) => bytes.to_vec(),
        None => bail!(
            "not an ed25519 private key: expected PKCS#8, PEM (-----BEGIN PRIVATE KEY-----, as `openssl genpkey -algorithm ed25519` writes it) or DER"
        ),
    };
    ring::signature::Ed25519KeyPair::from_pkcs8_maybe_unchecked(&der)
        .map(SigningKey)
        .map_err(|e| anyhow!("not an ed25519 private key ({e})"))
}

/// The DER prefix of an ed25519 SubjectPublicKeyInfo (RFC 8410), before its 32 key bytes.
pub(super) const SPKI_PREFIX: [u8; 12] = [
    0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00,
];

/// A public key (32 bytes) from a key file's bytes or a base64 text.
pub fn parse_public_key(bytes: &[u8]) -> Result<Vec<u8>> {
    let der = match pem(bytes, "PUBLIC KEY") {
        Some(der) => der?,
        None => {
            let text = std::str::from_utf8(bytes)
                .map_err(|_| anyhow!("not an ed25519 public key (neither PEM nor base64)"))?;
            base64::engine::general_purpose::STANDARD
                .decode(text.trim())
                .map_err(|_| anyhow!("not an ed25519 public key (neither PEM nor base64)"))?
        }
    };
    match der.len() {
        32 => Ok(der),
        44 if der.starts_with(&SPKI_PREFIX) => Ok(der[12..].to_vec()),
        n => bail!(
            "not an ed25519 public key ({n} bytes; expected 32, or a 44-byte SubjectPublicKeyInfo)"
        ),
    }
}

//! The evidence bundle (docs/evidence.md): one archive holding a run's reports, its
//! screenshots and the files it audited, with a manifest of the SHA-256 digest of every
//! file, optionally signed with an ed25519 key, and the check that tells whether a bundle
//! is still what was written (`consentry evidence --verify`).
//!
//! The archive is a gzipped tar. Every file sits under one directory named after the run
//! (`consentry-evidence-<site>-run-<id>/`); `manifest.json` lists the others with their
//! digests and sizes, and `manifest.sig` (when signed) holds the ed25519 signature over
//! the exact bytes of `manifest.json` with the public key. Pure apart from the archive's
//! bytes: the caller gathers the files and writes the result.

mod key;

pub use key::{parse_public_key, parse_signing_key, SigningKey};

use anyhow::{anyhow, bail, Context, Result};
use base64::Engine as _;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::io::Read;

/// The manifest's `format`; a bundle of another format is refused, not misread.
pub const FORMAT: &str = "consentry-evidence/1";
/// The manifest's and the signature's file names inside the bundle's directory.
pub const MANIFEST: &str = "manifest.json";
pub const SIGNATURE: &str = "manifest.sig";
/// Bounds when reading a bundle back: a file, and all files together.
const MAX_FILE: u64 = 512 << 20;
const MAX_TOTAL: u64 = 2 << 30;

/// One file of the bundle, as the manifest lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileEntry {
    /// Path inside the bundle's directory (`report.html`, `screenshots/…`, `inputs/…`).
    pub path: String,
    /// SHA-256 of the file, lower-case hex.
    pub sha256: String,
    pub bytes: u64,
    /// What the file is (`the run report, HTML`).
    pub what: String,
}

/// What the bundle says about itself (`manifest.json`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Manifest {
    pub format: String,
    pub created_at: String,
    pub consentry: String,
    /// The run: id, site, status, when, the scenario and policy digests it stored.
    pub run: BTreeMap<String, String>,
    pub files: Vec<FileEntry>,
    /// What the bundle could not hold as audited (a file changed since the run, a
    /// screenshot gone), in words.
    #[serde(default)]
    pub notes: Vec<String>,
}

/// `manifest.sig`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Signature {
    pub algorithm: String,
    /// The signer's public key, base64 (32 bytes).
    pub public_key: String,
    /// The signature over `manifest.json`'s bytes, base64 (64 bytes).
    pub signature: String,
}

/// A file to put in the bundle.
pub struct BundleFile {
    pub path: String,
    pub what: String,
    pub bytes: Vec<u8>,
}

/// SHA-256, lower-case hex.
pub fn sha256_hex(bytes: &[u8]) -> String {
    let hash = Sha256::digest(bytes);
    crate::text::hex_prefix(&hash, hash.len())
}

/// The directory every file of a run's bundle sits under.
pub fn root_dir(site_slug: &str, run: i64) -> String {
    format!("consentry-evidence-{site_slug}-run-{run}")
}

/// The bundle's bytes (a gzipped tar) and its manifest.
pub fn write_bundle(
    root: &str,
    run: BTreeMap<String, String>,
    files: Vec<BundleFile>,
    notes: Vec<String>,
    created_at: chrono::DateTime<chrono::Utc>,
    key: Option<&SigningKey>,
) -> Result<(Vec<u8>, Manifest)> {
    let mut seen = std::collections::BTreeSet::new();
    for f in &files {
        if !safe_path(&f.path) || f.path == MANIFEST || f.path == SIGNATURE {
            bail!("{}: not a path a bundle file may have", f.path);
        }
        if !seen.insert(f.path.as_str()) {
            bail!("{}: two files of the bundle have this path", f.path);
        }
    }
    let manifest = Manifest {
        format: FORMAT.to_string(),
        created_at: created_at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        consentry: env!("CARGO_PKG_VERSION").to_string(),
        run,
        files: files
            .iter()
            .map(|f| FileEntry {
                path: f.path.clone(),
                sha256: sha256_hex(&f.bytes),
                bytes: f.bytes.len() as u64,
                what: f.what.clone(),
            })
            .collect(),
        notes,
    };
    let mut manifest_bytes = serde_json::to_vec_pretty(&manifest)?;
    manifest_bytes.push(b'\n');
    let signature = key.map(|k| {
        let sig = Signature {
            algorithm: "ed25519".to_string(),
            public_key: base64::engine::general_purpose::STANDARD.encode(k.public_key()),
            signature: base64::engine::general_purpose::STANDARD.encode(k.sign(&manifest_bytes)),
        };
        let mut bytes = serde_json::to_vec_pretty(&sig).unwrap_or_default();
        bytes.push(b'\n');
        bytes
    });

    let gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    let mut tar = tar::Builder::new(gz);
    let mtime = u64::try_from(created_at.timestamp()).unwrap_or(0);
    let mut add = |path: &str, bytes: &[u8]| -> Result<()> {
        let mut header = tar::Header::new_gnu();
        header.set_size(bytes.len() as u64);
        header.set_mode(0o644);
        header.set_mtime(mtime);
        header.set_entry_type(tar::EntryType::Regular);
        tar.append_data(&mut header, format!("{root}/{path}"), bytes)
            .with_context(|| format!("cannot add {path} to the bundle"))
    };
    add(MANIFEST, &manifest_bytes)?;
    if let Some(sig) = &signature {
        add(SIGNATURE, sig)?;
    }
    for f in &files {
        add(&f.path, &f.bytes)?;
    }
    let gz = tar.into_inner().context("cannot finish the bundle")?;
    let bytes = gz.finish().context("cannot compress the bundle")?;
    Ok((bytes, manifest))
}

/// A relative path of plain components (no `..`, no absolute path, no empty part).
fn safe_path(path: &str) -> bool {
    !path.is_empty()
        && path
            .split('/')
            .all(|c| !c.is_empty() && c != "." && c != ".." && !c.contains('\\'))
}

/// What checking a bundle found.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Verification {
    pub manifest: Option<Manifest>,
    /// Files whose digest or size differs from the manifest's.
    pub changed: Vec<String>,
    /// Files the manifest lists that the archive lacks.
    pub missing: Vec<String>,
    /// Files in the archive the manifest does not list.
    pub extra: Vec<String>,
    /// Files that match.
    pub intact: usize,
    pub signature: SignatureCheck,
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum SignatureCheck {
    /// No `manifest.sig`.
    #[default]
    Unsigned,
    /// Valid, by this key (base64); `trusted`: it is the key the verifier was given.
    Valid { public_key: String, trusted: bool },
    /// Present but not a valid signature of this manifest by its key.
    Invalid(String),
    /// Valid, but by another key than the one the verifier was given.
    OtherKey { public_key: String },
}

impl Verification {
    /// Every file as listed and, when signed, the signature good (and by the trusted key
    /// when one was given; a trusted key also requires a signature).
    pub fn ok(&self, trusted_key_given: bool) -> bool {
        let files = self.changed.is_empty() && self.missing.is_empty() && self.extra.is_empty();
        let sig = match &self.signature {
            SignatureCheck::Unsigned => !trusted_key_given,
            SignatureCheck::Valid { .. } => true,
            SignatureCheck::Invalid(_) | SignatureCheck::OtherKey { .. } => false,
        };
        files && sig
    }
}

/// Checks a bundle's bytes: every file against the manifest, and the signature (against
/// `trusted`, a 32-byte public key, when given). An archive that is not a bundle (no
/// manifest, another format, a file too large) is an error, not a verification.
pub fn verify(bundle: &[u8], trusted: Option<&[u8]>) -> Result<Verification> {
    let gz = flate2::read::GzDecoder::new(bundle);
    let mut archive = tar::Archive::new(gz);
    let mut contents: BTreeMap<String, Vec<u8>> = BTreeMap::new();
    let mut root: Option<String> = None;
    let mut total = 0u64;
    for entry in archive.entries().context("not a gzipped tar archive")? {
        let mut entry = entry.context("the archive is damaged")?;
        if !entry.header().entry_type().is_file() {
            continue;
        }
        let path = entry
            .path()
            .context("an archive entry has no readable path")?
            .to_string_lossy()
            .into_owned();
        let Some((top, rest)) = path.split_once('/') else {
            bail!("{path}: outside the bundle's directory");
        };
        match &root {
            None => root = Some(top.to_string()),
            Some(r) if r != top => bail!("{path}: outside the bundle's directory {r}/"),
            Some(_) => {}
        }
        let size = entry.header().size().unwrap_or(u64::MAX);
        total = total.saturating_add(size);
        if size > MAX_FILE || total > MAX_TOTAL {
            bail!("{path}: larger than a bundle file may be");
        }
        let mut bytes = Vec::with_capacity(usize::try_from(size).unwrap_or(0));
        entry
            .by_ref()
            .take(MAX_FILE + 1)
            .read_to_end(&mut bytes)
            .with_context(|| format!("{path}: cannot be read"))?;
        if contents.insert(rest.to_string(), bytes).is_some() {
            bail!("{path}: twice in the archive");
        }
    }
    let manifest_bytes = contents
        .remove(MANIFEST)
        .ok_or_else(|| anyhow!("no {MANIFEST}: not a consentry evidence bundle"))?;
    let manifest: Manifest = serde_json::from_slice(&manifest_bytes)
        .with_context(|| format!("{MANIFEST} is not valid"))?;
    if manifest.format != FORMAT {
        bail!(
            "{MANIFEST}: format {:?}, expected {FORMAT:?}",
            manifest.format
        );
    }
    let signature = match contents.remove(SIGNATURE) {
        None => SignatureCheck::Unsigned,
        Some(bytes) => check_signature(&bytes, &manifest_bytes, trusted),
    };
    let mut v = Verification {
        signature,
        ..Verification::default()
    };
    for f in &manifest.files {
        match contents.remove(&f.path) {
            None => v.missing.push(f.path.clone()),
            Some(bytes) => {
                if bytes.len() as u64 == f.bytes && sha256_hex(&bytes) == f.sha256 {
                    v.intact += 1;
                } else {
                    v.changed.push(f.path.clone());
                }
            }
        }
    }
    v.extra = contents.into_keys().collect();
    v.manifest = Some(manifest);
    Ok(v)
}

fn check_signature(sig: &[u8], manifest: &[u8], trusted: Option<&[u8]>) -> SignatureCheck {
    let sig: Signature = match serde_json::from_slice(sig) {
        Ok(s) => s,
        Err(e) => return SignatureCheck::Invalid(format!("{SIGNATURE} is not valid: {e}")),
    };
    if sig.algorithm != "ed25519" {
        return SignatureCheck::Invalid(format!("unknown algorithm {:?}", sig.algorithm));
    }
    let b64 = base64::engine::general_purpose::STANDARD;
    let (Ok(key), Ok(signature)) = (b64.decode(&sig.public_key), b64.decode(&sig.signature)) else {
        return SignatureCheck::Invalid("the key or signature is not base64".into());
    };
    let check = ring::signature::UnparsedPublicKey::new(&ring::signature::ED25519, &key);
    if check.verify(manifest, &signature).is_err() {
        return SignatureCheck::Invalid(
            "the signature does not match the manifest (the manifest changed, or it was signed with another key than the one it names)".into(),
        );
    }
    match trusted {
        Some(t) if t != key.as_slice() => SignatureCheck::OtherKey {
            public_key: sig.public_key,
        },
        Some(_) => SignatureCheck::Valid {
            public_key: sig.public_key,
            trusted: true,
        },
        None => SignatureCheck::Valid {
            public_key: sig.public_key,
            trusted: false,
        },
    }
}

#[cfg(test)]
mod tests;

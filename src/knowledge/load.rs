//! Finding and reading the knowledge sets (docs/knowledge.md).
//!
//! The bundled sets are optional: a set missing or unreadable is one notice, and findings
//! then lack the "known" fields. The user's `--vendor-db` is input the user named: a file
//! that cannot be read is an error naming it.

use super::{
    CookieEntry, CookieSet, Entity, KnowledgeBase, VendorSet, COOKIES_FILE, DATA_SUBDIR,
    DEFAULT_DIR, VENDORS_FILE,
};
use serde::Deserialize;
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};

/// A bundled file: its source, version and rows.
#[derive(Deserialize)]
struct Bundled<T> {
    source: String,
    version: String,
    /// The package the data was taken from, when not its own (`@slashgear/...`).
    #[serde(default)]
    via: Option<String>,
    #[serde(alias = "entities", alias = "cookies")]
    rows: Vec<T>,
}

impl<T> Bundled<T> {
    fn label(&self) -> String {
        match &self.via {
            Some(via) => {
                let short = via.rsplit('/').next().unwrap_or(via);
                format!("{} ({short} {})", self.source, self.version)
            }
            None => format!("{} {}", self.source, self.version),
        }
    }
}

/// The user's vendor set: third-party-web's entity array, or an object holding it as
/// `entities` (the bundled compact form).
#[derive(Deserialize)]
#[serde(untagged)]
enum UserVendors {
    List(Vec<Entity>),
    Wrapped { entities: Vec<Entity> },
}

/// What loading gave: the sets, and the notices to print once (a set missing).
#[derive(Debug, Default)]
pub struct Loaded {
    pub base: KnowledgeBase,
    pub notices: Vec<String>,
}

/// Where the bundled sets are looked for, in order: `knowledge/` of the data directory,
/// then a checkout's `fixtures/build/knowledge` beside `scenario_file` or in a parent
/// directory, then in the current directory (as autoconsent is found).
pub fn candidates(data_dir: Option<&Path>, scenario_file: &Path) -> Vec<PathBuf> {
    crate::lookup::data_candidates(data_dir, DATA_SUBDIR, DEFAULT_DIR, scenario_file)
}

/// Find and load the bundled sets (the first of `candidates` holding one), and the
/// user's `vendor_db`. `Err` only for the user's file.
pub fn locate(
    data_dir: Option<&Path>,
    scenario_file: &Path,
    vendor_db: Option<&Path>,
) -> Result<Loaded, String> {
    let dirs = candidates(data_dir, scenario_file);
    let found = dirs.iter().find(|d| super::is_knowledge_dir(d));
    let mut loaded = match found {
        Some(dir) => load_dir(dir),
        None => Loaded {
            base: KnowledgeBase::empty(),
            notices: vec![format!(
                "note: the vendor and cookie knowledge bases were not found (looked in {}); \
                 undeclared hosts and cookies are reported without a known company and \
                 category. Install consentry's data (`make install`, the release tarball; \
                 in a checkout `make fixtures`) or pass --data-dir DIR (docs/knowledge.md)",
                dirs.first()
                    .map(|d| d.display().to_string())
                    .unwrap_or_default()
                    + if dirs.len() > 1 {
                        " and the checkout's fixtures/build/knowledge"
                    } else {
                        ""
                    }
            )],
        },
    };
    if let Some(path) = vendor_db {
        loaded.base.user_vendors = Some(load_user_vendors(path)?);
    }
    Ok(loaded)
}

/// Read the bundled sets of one directory; a missing or unreadable file is a notice.
pub fn load_dir(dir: &Path) -> Loaded {
    let mut notices = Vec::new();
    let mut base = KnowledgeBase {
        dir: Some(dir.to_path_buf()),
        ..KnowledgeBase::default()
    };
    match read_bundled::<Entity>(&dir.join(VENDORS_FILE)) {
        Ok(b) => base.vendors = Some(VendorSet::new(b.label(), b.rows)),
        Err(e) => notices.push(format!(
            "note: {e}; undeclared hosts are reported without a known company and category"
        )),
    }
    match read_bundled::<CookieEntry>(&dir.join(COOKIES_FILE)) {
        Ok(b) => base.cookies = Some(CookieSet::new(b.label(), b.rows)),
        Err(e) => notices.push(format!(
            "note: {e}; undeclared cookies are reported without a known platform and category"
        )),
    }
    Loaded { base, notices }
}

fn read_bundled<T: for<'de> Deserialize<'de>>(path: &Path) -> Result<Bundled<T>, String> {
    let text = std::fs::read_to_string(path).map_err(|e| {
        format!(
            "the knowledge file {} could not be read: {e}",
            path.display()
        )
    })?;
    serde_json::from_str(&text).map_err(|e| {
        format!(
            "the knowledge file {} does not read (line {}, column {}): {e}",
            path.display(),
            e.line(),
            e.column()
        )
    })
}

/// The user's vendor set; its source names the file and a digest of its bytes, so each
/// run records which data it used.
pub fn load_user_vendors(path: &Path) -> Result<VendorSet, String> {
    let bytes = std::fs::read(path)
        .map_err(|e| format!("--vendor-db {}: cannot be read: {e}", path.display()))?;
    let parsed: UserVendors = serde_json::from_slice(&bytes).map_err(|e| {
        format!(
            "--vendor-db {}:{}:{}: not a list of entities (third-party-web's shape: \
             [{{\"name\", \"company\", \"category\", \"domains\": [\"host\", \"*.domain\"]}}]): {e}",
            path.display(),
            e.line(),
            e.column()
        )
    })?;
    let entities = match parsed {
        UserVendors::List(l) | UserVendors::Wrapped { entities: l } => l,
    };
    let digest = crate::text::hex_prefix(&Sha256::digest(&bytes), 6);
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| path.display().to_string());
    // The stored data_versions text separates sets with `;`, `=` and ` | `.
    let name: String = name
        .chars()
        .map(|c| if matches!(c, ';' | '=' | '|') { '_' } else { c })
        .collect();
    Ok(VendorSet::new(
        format!("vendor-db {name} sha256:{digest}"),
        entities,
    ))
}

//! Vendor and cookie knowledge (docs/knowledge.md): who a third-party host or a cookie
//! is *known* to belong to, from public data sets, beside (never instead of) what the
//! declared map says.
//!
//! Two bundled sets, installed from npm at pinned versions and turned into compact files
//! by `make fixtures` (`fixtures/gen/knowledge.mjs`), found at run time in `knowledge/`
//! of the data directory (or a checkout's `fixtures/build/knowledge`):
//!
//! - `third-party-web.json`: entities (name, company, category) and their domains,
//!   `host` (that host exactly) or `*.domain` (the domain and every subdomain);
//! - `open-cookie-database.json`: cookie names, or name prefixes (`wildcard`), with the
//!   platform, category, typical retention and data controller.
//!
//! And one the user supplies (`--vendor-db PATH`, the shape of third-party-web's
//! entities), consulted first: the place for non-commercial data, never bundled.
//!
//! Pure lookups on indexes built once at load ([`KnowledgeBase`]); the attribution stage
//! asks once per record and every reader uses its answer ([`Known`]).

use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::path::{Path, PathBuf};

pub mod load;
pub use load::{candidates, locate, Loaded};

/// The subdirectory of the data directory holding the compact files.
pub const DATA_SUBDIR: &str = "knowledge";
/// In a development checkout (`make fixtures`).
pub const DEFAULT_DIR: &str = "fixtures/build/knowledge";
/// The bundled vendor set's file in [`DATA_SUBDIR`].
pub const VENDORS_FILE: &str = "third-party-web.json";
/// The bundled cookie set's file in [`DATA_SUBDIR`].
pub const COOKIES_FILE: &str = "open-cookie-database.json";

/// How a record matched a knowledge entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum MatchKind {
    /// The host is listed exactly.
    Host,
    /// A parent of the host is listed exactly (`adservice.google.com` for
    /// `x.adservice.google.com`).
    Subdomain,
    /// A `*.domain` pattern covers the host (the domain itself or a subdomain).
    Pattern,
    /// The cookie's name is listed exactly.
    CookieName,
    /// A listed name prefix (a wildcard row) starts the cookie's name.
    CookiePrefix,
}

/// What the knowledge bases say about one host or cookie: never the declared map's say.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Known {
    /// The entity (third-party-web) or platform (Open Cookie Database): `Bing Ads`,
    /// `Google Analytics`.
    pub name: String,
    /// The company behind it (third-party-web's `company`, the cookie's data controller;
    /// else the name).
    pub company: String,
    /// The source's category, as the source spells it (`ad`, `analytics`, `Marketing`).
    pub category: String,
    pub kind: MatchKind,
    /// The entry that matched: `bat.bing.com`, `*.bing.com`, `_ga`, `_ga_*`.
    pub pattern: String,
    /// The set and its version: `third-party-web 0.30.0`.
    pub source: String,
    /// Cookies: the typical retention the source gives (`2 years`, `session`).
    pub retention: Option<String>,
}

impl Known {
    /// The matched rule in words: `host bat.bing.com`, `pattern *.bing.com`,
    /// `subdomain of adservice.google.com`, `cookie _ga`, `cookie prefix _ga_*`.
    pub fn rule(&self) -> String {
        let what = match self.kind {
            MatchKind::Host => "host",
            MatchKind::Subdomain => "subdomain of",
            MatchKind::Pattern => "pattern",
            MatchKind::CookieName => "cookie",
            MatchKind::CookiePrefix => "cookie prefix",
        };
        format!("{what} {}", self.pattern)
    }

    /// One line for evidence, inventory and reports:
    /// `known: TikTok (ByteDance Ltd), category social, by pattern *.tiktok.com in third-party-web 0.30.0`.
    pub fn describe(&self) -> String {
        let who = if self.company == self.name || self.company.is_empty() {
            self.name.clone()
        } else {
            format!("{} ({})", self.name, self.company)
        };
        let retention = self
            .retention
            .as_deref()
            .map(|r| format!(", typical retention {r}"))
            .unwrap_or_default();
        format!(
            "known: {who}, category {}{retention}, by {} in {}",
            self.category,
            self.rule(),
            self.source
        )
    }
}

/// One entity of a vendor set (third-party-web's shape; `company` defaults to `name`).
#[derive(Debug, Clone, Deserialize)]
pub struct Entity {
    pub name: String,
    #[serde(default)]
    pub company: Option<String>,
    #[serde(default)]
    pub category: Option<String>,
    #[serde(default)]
    pub domains: Vec<String>,
}

/// One cookie row of a cookie set.
#[derive(Debug, Clone, Deserialize)]
pub struct CookieEntry {
    pub name: String,
    pub platform: String,
    #[serde(default)]
    pub category: Option<String>,
    #[serde(default)]
    pub retention: Option<String>,
    #[serde(default)]
    pub controller: Option<String>,
    #[serde(default)]
    pub wildcard: bool,
}

/// A vendor set, indexed: exact hosts and `*.domain` patterns, each to an entity.
#[derive(Debug, Default)]
pub struct VendorSet {
    /// `third-party-web 0.30.0`, `vendor-db my.json`.
    pub source: String,
    entities: Vec<Entity>,
    exact: HashMap<String, u32>,
    wildcard: HashMap<String, u32>,
}

impl VendorSet {
    /// Index `entities`; the first entity listing a domain keeps it.
    pub fn new(source: String, entities: Vec<Entity>) -> VendorSet {
        let mut exact = HashMap::new();
        let mut wildcard = HashMap::new();
        for (i, e) in entities.iter().enumerate() {
            let Ok(i) = u32::try_from(i) else { break };
            for d in &e.domains {
                let d = crate::net::normalise_host(d.trim());
                match d.strip_prefix("*.") {
                    Some(base) if !base.is_empty() => {
                        wildcard.entry(base.to_owned()).or_insert(i);
                    }
                    Some(_) => {}
                    None if !d.is_empty() => {
                        exact.entry(d).or_insert(i);
                    }
                    None => {}
                }
            }
        }
        VendorSet {
            source,
            entities,
            exact,
            wildcard,
        }
    }

    pub fn entities(&self) -> usize {
        self.entities.len()
    }

    /// The most specific entry covering `host` (lower-case): walking from the host to its
    /// registrable domain, the first suffix listed exactly (the host itself: `Host`; a
    /// parent: `Subdomain`) or as `*.suffix` (`Pattern`). Never above the registrable
    /// domain (a public suffix names no vendor).
    pub fn lookup(&self, host: &str) -> Option<Known> {
        let floor = crate::net::registrable_domain(host).unwrap_or_else(|| host.to_owned());
        let mut suffix = host;
        loop {
            let hit = if suffix == host {
                self.exact.get(suffix).map(|i| (*i, MatchKind::Host))
            } else {
                None
            }
            .or_else(|| self.wildcard.get(suffix).map(|i| (*i, MatchKind::Pattern)))
            .or_else(|| {
                (suffix != host)
                    .then(|| self.exact.get(suffix).map(|i| (*i, MatchKind::Subdomain)))
                    .flatten()
            });
            if let Some((i, kind)) = hit {
                let e = self.entities.get(usize::try_from(i).ok()?)?;
                let pattern = match kind {
                    MatchKind::Pattern => format!("*.{suffix}"),
                    _ => suffix.to_owned(),
                };
                return Some(Known {
                    name: e.name.clone(),
                    company: e.company.clone().unwrap_or_else(|| e.name.clone()),
                    category: e.category.clone().unwrap_or_else(|| "unknown".into()),
                    kind,
                    pattern,
                    source: self.source.clone(),
                    retention: None,
                });
            }
            if suffix.len() <= floor.len() {
                return None;
            }
            suffix = suffix.split_once('.').map(|(_, rest)| rest)?;
        }
    }
}

/// A cookie set, indexed: exact names, and name prefixes longest first.
#[derive(Debug, Default)]
pub struct CookieSet {
    /// `open-cookie-database 3.8.2`.
    pub source: String,
    rows: Vec<CookieEntry>,
    exact: HashMap<String, u32>,
    /// (prefix, row), longest prefix first.
    prefixes: Vec<(String, u32)>,
}

impl CookieSet {
    /// Index `rows`; the first row of a name keeps it.
    pub fn new(source: String, rows: Vec<CookieEntry>) -> CookieSet {
        let mut exact = HashMap::new();
        let mut prefixes: Vec<(String, u32)> = Vec::new();
        for (i, r) in rows.iter().enumerate() {
            let Ok(i) = u32::try_from(i) else { break };
            if r.name.is_empty() {
                continue;
            }
            if r.wildcard {
                if !prefixes.iter().any(|(p, _)| *p == r.name) {
                    prefixes.push((r.name.clone(), i));
                }
            } else {
                exact.entry(r.name.clone()).or_insert(i);
            }
        }
        // Longest first; equal lengths keep the source's order (stable sort).
        prefixes.sort_by_key(|(p, _)| std::cmp::Reverse(p.len()));
        CookieSet {
            source,
            rows,
            exact,
            prefixes,
        }
    }

    pub fn rows(&self) -> usize {
        self.rows.len()
    }

    /// The row for cookie `name`: its exact name, else the longest prefix starting it.
    pub fn lookup(&self, name: &str) -> Option<Known> {
        let (i, kind, pattern) = match self.exact.get(name) {
            Some(i) => (*i, MatchKind::CookieName, name.to_owned()),
            None => {
                let (p, i) = self.prefixes.iter().find(|(p, _)| name.starts_with(p))?;
                (*i, MatchKind::CookiePrefix, format!("{p}*"))
            }
        };
        let r = self.rows.get(usize::try_from(i).ok()?)?;
        Some(Known {
            name: r.platform.clone(),
            company: r
                .controller
                .clone()
                .filter(|c| !c.is_empty())
                .unwrap_or_else(|| r.platform.clone()),
            category: r.category.clone().unwrap_or_else(|| "unknown".into()),
            kind,
            pattern,
            source: self.source.clone(),
            retention: r.retention.clone().filter(|r| !r.is_empty()),
        })
    }
}

/// Every knowledge set a run uses; any may be missing (then findings lack "known").
#[derive(Debug, Default)]
pub struct KnowledgeBase {
    /// The user's `--vendor-db`, consulted before the bundled set.
    pub user_vendors: Option<VendorSet>,
    pub vendors: Option<VendorSet>,
    pub cookies: Option<CookieSet>,
    /// Where the bundled sets were read from.
    pub dir: Option<PathBuf>,
}

impl KnowledgeBase {
    /// No knowledge at all.
    pub fn empty() -> KnowledgeBase {
        KnowledgeBase::default()
    }

    /// Who `host` (lower-case) is known to be: the user's set first, then the bundled one.
    pub fn host(&self, host: &str) -> Option<Known> {
        self.user_vendors
            .as_ref()
            .and_then(|s| s.lookup(host))
            .or_else(|| self.vendors.as_ref().and_then(|s| s.lookup(host)))
    }

    /// Who cookie `name` is known to belong to.
    pub fn cookie(&self, name: &str) -> Option<Known> {
        self.cookies.as_ref().and_then(|s| s.lookup(name))
    }

    /// What the run records in its `data_versions` (`knowledge=...`): each set's source
    /// and version, joined by ` + `; `None` when no set is loaded.
    pub fn versions(&self) -> Option<String> {
        let parts: Vec<&str> = [
            self.vendors.as_ref().map(|s| s.source.as_str()),
            self.cookies.as_ref().map(|s| s.source.as_str()),
            self.user_vendors.as_ref().map(|s| s.source.as_str()),
        ]
        .into_iter()
        .flatten()
        .collect();
        (!parts.is_empty()).then(|| parts.join(" + "))
    }
}

/// A knowledge directory's bundled files exist.
pub fn is_knowledge_dir(dir: &Path) -> bool {
    dir.join(VENDORS_FILE).is_file() || dir.join(COOKIES_FILE).is_file()
}

#[cfg(test)]
mod tests;

/// A typical retention as the Open Cookie Database writes it (`2 years`, `90 Days`,
/// `session`, `End of session (browser)`), in seconds; `None` for session cookies and for
/// what does not read as a duration (`Unknown`, `forever`, `persistent`).
pub fn typical_retention_secs(text: &str) -> Option<i64> {
    let t = text.trim().to_ascii_lowercase();
    if t.contains("session") {
        return None;
    }
    crate::toml_check::parse_duration_secs(&t)
}

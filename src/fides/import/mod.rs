//! A fideslang document as a declared map: systems become vendors, their privacy
//! declarations purposes, their cookies cookie rules. A document written by
//! [`super::export`] carries `meta.consentry` and comes back whole; one a team wrote
//! in Fides is mapped by docs/fideslang.md's rules, and what fideslang does not say (a
//! vendor's domains, a basis or a retention it leaves out) is never made up: the entry
//! is a draft, with a note saying what a person must complete.
//!
//! Every problem of the file is reported at once, with `file:line:col`.

use super::taxonomy::{self, LEGAL_BASES, UNMAPPED_BASES};
use super::yaml::{self, Node, Pos};
use crate::diag::{Diagnostic, Diagnostics, Level};
use crate::policy::write::Notes;
use crate::policy::{
    default_gpc_opt_out, CookieRule, DomainPattern, LegalBasis, Policy, Purpose, Retention,
    TcfDeclaration, Vendor, DEFAULT_RETENTION_TOLERANCE_SECS,
};
use std::path::{Path, PathBuf};

mod meta;
mod read;

/// An entry of the map a note or the draft mark belongs to.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Entry {
    Purpose(String),
    Vendor(String),
    /// Cookie name pattern and owning vendor id.
    Cookie(String, String),
}

/// The imported map, and what a person should read before trusting it. Entries a person
/// must complete or confirm (something fideslang does not say was assumed, a basis or a
/// retention, or is missing, a vendor's domains) are `draft` in the policy.
#[derive(Debug, Clone, PartialEq)]
pub struct Imported {
    pub policy: Policy,
    /// Lines to write above each entry (where it came from, what was assumed).
    pub notes: Vec<(Entry, String)>,
    /// What a person must complete or confirm, per draft entry this import made.
    pub todo: Vec<(Entry, String)>,
}

impl Imported {
    pub fn is_draft(&self, e: &Entry) -> bool {
        let p = &self.policy;
        match e {
            Entry::Purpose(id) => p.purposes.iter().any(|x| x.draft && x.id == *id),
            Entry::Vendor(id) => p.vendors.iter().any(|x| x.draft && x.id == *id),
            Entry::Cookie(n, v) => p
                .cookies
                .iter()
                .any(|x| x.draft && x.name == *n && x.vendor == *v),
        }
    }

    /// How many entries are drafts.
    pub fn drafts(&self) -> usize {
        let p = &self.policy;
        p.purposes.iter().filter(|x| x.draft).count()
            + p.vendors.iter().filter(|x| x.draft).count()
            + p.cookies.iter().filter(|x| x.draft).count()
    }
}

/// Read and map a fideslang file: `Ok` with the warnings when there is no error.
pub fn import_file(path: &Path) -> Result<(Imported, Diagnostics), Diagnostics> {
    let src = crate::toml_check::read_source(path).map_err(|d| Diagnostics(vec![d]))?;
    match import_str(path, &src) {
        (Some(i), d) => Ok((i, d)),
        (None, d) => Err(d),
    }
}

/// Map the text of a fideslang document; `Some` only when there is no error.
pub fn import_str(path: &Path, src: &str) -> (Option<Imported>, Diagnostics) {
    let mut im = Importer::new(path);
    match yaml::parse(src) {
        Err(e) => im.error(
            e.pos,
            format!("invalid YAML: {}", e.message),
            "fix the YAML syntax (a fideslang file is YAML with a top-level `system:` list)",
        ),
        Ok(docs) => im.documents(&docs),
    }
    let diags = Diagnostics(std::mem::take(&mut im.diags));
    let imported = (!diags.has_errors()).then(|| im.finish());
    (imported, diags)
}

const TOP_KEYS: &[&str] = &["system"];
/// Top-level fideslang resources that are not part of the declared map.
const OTHER_RESOURCES: &[&str] = &[
    "dataset",
    "data_category",
    "data_subject",
    "data_use",
    "organization",
    "policy",
    "evaluation",
    "registry",
];

struct Importer {
    file: PathBuf,
    diags: Vec<Diagnostic>,
    /// Purposes with their order in the meta block and where they were declared.
    purposes: Vec<(Purpose, Option<i64>, Pos)>,
    vendors: Vec<(Vendor, Pos)>,
    cookies: Vec<(CookieRule, Option<i64>, Pos)>,
    notes: Vec<(Entry, String)>,
    todo: Vec<(Entry, String)>,
    tolerance: Option<(i64, Pos)>,
}

impl Importer {
    fn new(path: &Path) -> Self {
        Importer {
            file: path.to_path_buf(),
            diags: Vec::new(),
            purposes: Vec::new(),
            vendors: Vec::new(),
            cookies: Vec::new(),
            notes: Vec::new(),
            todo: Vec::new(),
            tolerance: None,
        }
    }

    fn errors(&self) -> usize {
        self.diags
            .iter()
            .filter(|d| d.level == Level::Error)
            .count()
    }

    fn note(&mut self, e: &Entry, text: impl Into<String>) {
        self.notes.push((e.clone(), text.into()));
    }

    /// Marks an entry a draft, with what a person must do (also its note).
    fn draft(&mut self, e: &Entry, todo: impl Into<String>) {
        let todo = todo.into();
        self.note(e, todo.clone());
        self.todo.push((e.clone(), todo));
    }

    fn line(&self, at: Pos) -> String {
        format!("line {}", at.line)
    }

    // ---- typed accessors that report what is wrong ----

    // ---- the document ----

    fn documents(&mut self, docs: &[Node]) {
        let mut systems = 0;
        for doc in docs {
            if doc.is_null() {
                continue;
            }
            let Some(doc) = self.mapping(doc, "a fideslang document") else {
                continue;
            };
            for (k, _) in doc.as_map().unwrap_or_default() {
                let key = k.as_str().unwrap_or_default();
                if TOP_KEYS.contains(&key) {
                    continue;
                }
                if OTHER_RESOURCES.contains(&key) {
                    self.warning(
                        k.pos,
                        format!("`{key}` is not part of the declared map: ignored"),
                        "consentry imports fideslang systems (`system:`)",
                    );
                } else {
                    self.error(
                        k.pos,
                        format!("unknown fideslang resource `{key}`"),
                        "a fideslang document has top-level lists such as `system:`; consentry imports `system:`",
                    );
                }
            }
            let items = self.list(doc, "system", "the document");
            for s in items {
                systems += 1;
                self.system(s);
            }
        }
        if systems == 0 && self.errors() == 0 {
            self.error(
                Pos { line: 1, col: 1 },
                "the file declares no fideslang system",
                "a fideslang document lists its systems under a top-level `system:` key",
            );
        }
    }

    fn system(&mut self, s: &Node) {
        let Some(s) = self.mapping(s, "a system") else {
            return;
        };
        let Some(key) = self.req_string(s, "fides_key", "a system") else {
            return;
        };
        let what = format!("system `{key}`");
        let errors_before = self.errors();
        self.typos(s, taxonomy::SYSTEM_KEYS, &what);
        let id = sanitize(&key);
        if let Some((_, at)) = self.vendors.iter().find(|(v, _)| v.id == id) {
            let line = self.line(*at);
            let at = s.get("fides_key").map_or(s.pos, |n| n.pos);
            self.error(
                at,
                format!("{what} is declared twice (the first at {line})"),
                "each system is one vendor: merge the two",
            );
            return;
        }
        let vendor_entry = Entry::Vendor(id.clone());
        if id != key {
            self.note(&vendor_entry, format!("fides_key `{key}`"));
        }
        let name = self
            .opt_string(s, "name", &what)
            .unwrap_or_else(|| key.clone());
        let meta = match s.get("meta").and_then(|m| m.get("consentry")) {
            Some(m) if !m.is_null() => self.mapping(m, &format!("`meta.consentry` of {what}")),
            _ => None,
        };
        if let Some(m) = meta {
            match m.get("version").and_then(Node::as_int) {
                Some(1) => {}
                _ => self.error(
                    m.get("version").map_or(m.pos, |v| v.pos),
                    format!("`meta.consentry` of {what} is not version 1"),
                    "this consentry reads the meta block it writes (version: 1)",
                ),
            }
        }

        let max_age = self.opt_int(s, "cookie_max_age_seconds", &what);
        if let (Some(n), Some(node)) = (max_age, s.get("cookie_max_age_seconds")) {
            if n < 0 {
                self.error(
                    node.pos,
                    format!("`cookie_max_age_seconds` of {what} is negative"),
                    "",
                );
            }
        }
        let uses_cookies = self.opt_bool(s, "uses_cookies", &what);
        let gvl = self.opt_string(s, "vendor_id", &what);

        // Declarations -> purposes.
        let declarations = self.list(s, "privacy_declarations", &what);
        if s.get("privacy_declarations").is_none() {
            self.error(
                s.pos,
                format!("{what} has no `privacy_declarations`"),
                "fideslang requires `privacy_declarations` on a system (a list, one per data use)",
            );
        }
        let meta_purposes = meta
            .map(|m| self.list(m, "purposes", "`meta.consentry`"))
            .unwrap_or_default();
        let mut used_meta = vec![false; meta_purposes.len()];
        let mut purposes: Vec<String> = Vec::new();
        let mut retention_periods: Vec<(String, Pos)> = Vec::new();
        let mut cookie_nodes: Vec<&Node> = self.list(s, "cookies", &what).iter().collect();
        for d in declarations {
            let Some(d) = self.mapping(d, &format!("a privacy declaration of {what}")) else {
                continue;
            };
            let dwhat = format!("a privacy declaration of {what}");
            self.typos(d, taxonomy::DECLARATION_KEYS, &dwhat);
            let data_use = self.req_string(d, "data_use", &dwhat);
            let dname = self.opt_string(d, "name", &dwhat);
            let basis = self.basis(d, &dwhat);
            if let Some(r) = self.opt_string(d, "retention_period", &dwhat) {
                retention_periods.push((r, d.get("retention_period").map_or(d.pos, |n| n.pos)));
            }
            cookie_nodes.extend(self.list(d, "cookies", &dwhat).iter());
            let Some(data_use) = data_use else { continue };
            let Ok(basis) = basis else { continue };
            // From the meta block, when it names this declaration.
            let from_meta = meta_purposes.iter().enumerate().find(|(_, p)| {
                dname.is_some() && p.get("declaration").and_then(Node::as_str) == dname.as_deref()
            });
            let pid = match from_meta {
                Some((i, p)) => {
                    used_meta[i] = true;
                    self.meta_purpose(p, basis, d.pos)
                }
                None => Some(self.fides_purpose(&data_use, dname.as_deref(), basis, d.pos)),
            };
            if let Some(pid) = pid {
                if !purposes.contains(&pid) {
                    purposes.push(pid);
                }
            }
        }
        for (p, used) in meta_purposes.iter().zip(&used_meta) {
            if !used {
                let id = p.get("id").and_then(Node::as_str).unwrap_or("?");
                self.warning(
                    p.pos,
                    format!("purpose `{id}` of {what} has no privacy declaration any more: not imported for this vendor"),
                    "it was removed in fideslang after the export; declare it again there if the vendor still serves it",
                );
            }
        }
        if purposes.is_empty() {
            if self.errors() == errors_before {
                self.warning(
                    s.pos,
                    format!("{what} declares no data use: not imported"),
                    "consentry's vendors serve at least one purpose; add a privacy declaration in fideslang",
                );
            }
            return;
        }

        let mut vendor = Vendor {
            id: id.clone(),
            name,
            purposes,
            pages: vec!["*".into()],
            ..Vendor::default()
        };
        match meta {
            Some(m) => self.meta_vendor(m, &mut vendor, &what),
            None => {
                self.draft(
                    &vendor_entry,
                    "fideslang does not say which domains or hosts this vendor serves from: add `domains` or `hosts`",
                );
            }
        }
        if let Some(v) = gvl {
            match v.strip_prefix("gvl.").and_then(|n| n.parse::<u32>().ok()) {
                Some(n) if vendor.tcf.is_none() => {
                    vendor.tcf = Some(TcfDeclaration {
                        vendor_id: Some(n),
                        ..TcfDeclaration::default()
                    });
                }
                Some(_) => {}
                None => self.note(
                    &vendor_entry,
                    format!("fideslang vendor_id `{v}` is not a Global Vendor List id (gvl.N): not imported"),
                ),
            }
        }

        // Cookies: the meta block's, then those fideslang names that it does not.
        let mut meta_cookie_names = Vec::new();
        if let Some(m) = meta {
            for c in self.list(m, "cookies", "`meta.consentry`") {
                if let Some(rule) = self.meta_cookie(c, &id) {
                    meta_cookie_names.push((rule.name.clone(), rule.domain.clone()));
                    let order = c.get("order").and_then(Node::as_int);
                    self.add_cookie(rule, order, c.pos);
                }
            }
        }
        let retention = self.fides_retention(max_age, &retention_periods);
        self.fides_cookies(&id, &cookie_nodes, retention, &meta_cookie_names, &what);
        if uses_cookies == Some(true) && !self.cookies.iter().any(|(c, _, _)| c.vendor == id) {
            self.note(
                &vendor_entry,
                "fideslang says this system uses cookies but names none: declare them as [[cookie]]",
            );
        }
        self.vendors.push((vendor, s.pos));
    }

    /// The cookies fideslang names for a system (on it or its declarations) that the meta
    /// block does not (`skip`), with the system's retention or, lacking one, as drafts.
    fn fides_cookies(
        &mut self,
        id: &str,
        cookie_nodes: &[&Node],
        retention: Option<(Retention, &'static str)>,
        skip: &[(String, Option<DomainPattern>)],
        what: &str,
    ) {
        for c in cookie_nodes.iter().copied() {
            let Some(c) = self.mapping(c, &format!("a cookie of {what}")) else {
                continue;
            };
            let Some(cname) = self.req_string(c, "name", &format!("a cookie of {what}")) else {
                continue;
            };
            let domain = self.opt_string(c, "domain", "a cookie").and_then(|d| {
                let at = c.get("domain").map_or(c.pos, |n| n.pos);
                self.domain(d.trim().trim_start_matches('.'), at, "cookie domain")
            });
            if skip.iter().any(|(n, d)| *n == cname && *d == domain)
                || self
                    .cookies
                    .iter()
                    .any(|(r, _, _)| r.vendor == id && r.name == cname && r.domain == domain)
            {
                continue;
            }
            let entry = Entry::Cookie(cname.clone(), id.to_string());
            let max_retention = match retention {
                Some((r, from)) => {
                    self.note(&entry, format!("retention from fideslang's {from}"));
                    r
                }
                None => {
                    self.draft(
                        &entry,
                        "fideslang gives no retention for this system's cookies: `session` (the strictest) until a person says",
                    );
                    Retention::Session
                }
            };
            let rule = CookieRule {
                name: cname,
                vendor: id.to_string(),
                max_retention,
                domain,
                ..CookieRule::default()
            };
            self.add_cookie(rule, None, c.pos);
        }
    }

    /// `legal_basis_for_processing`: `Ok(None)` when absent.
    fn basis(&mut self, d: &Node, what: &str) -> Result<Option<LegalBasis>, ()> {
        let Some(n) = d.get("legal_basis_for_processing").filter(|n| !n.is_null()) else {
            return Ok(None);
        };
        let Some(s) = self.string(n, &format!("`legal_basis_for_processing` of {what}")) else {
            return Err(());
        };
        if let Some(b) = taxonomy::basis_of(&s) {
            return Ok(Some(b));
        }
        let names: Vec<&str> = LEGAL_BASES.iter().map(|(n, _)| *n).collect();
        if UNMAPPED_BASES.contains(&s.as_str()) {
            self.error(
                n.pos,
                format!("legal basis `{s}` has no counterpart in consentry"),
                &format!(
                    "consentry judges consent, contract, legal obligation and legitimate interest; use one of: {}",
                    names.join(", ")
                ),
            );
        } else {
            let close = LEGAL_BASES
                .iter()
                .find(|(n, _)| {
                    n.eq_ignore_ascii_case(s.trim())
                        || n.trim_end_matches('s').eq_ignore_ascii_case(s.trim())
                })
                .map(|(n, _)| format!("did you mean `{n}`? "))
                .unwrap_or_default();
            self.error(
                n.pos,
                format!("unknown legal basis `{s}`"),
                &format!(
                    "{close}fideslang's legal bases are: {}, {}",
                    names.join(", "),
                    UNMAPPED_BASES.join(", ")
                ),
            );
        }
        Err(())
    }

    /// A purpose for a data use of a fideslang file without consentry's meta block: its id
    /// is the data use (with the basis when another system gives the same use another).
    fn fides_purpose(
        &mut self,
        data_use: &str,
        name: Option<&str>,
        basis: Option<LegalBasis>,
        at: Pos,
    ) -> String {
        let essential = taxonomy::is_essential(data_use);
        let (basis, assumed) = match basis {
            Some(b) => (b, false),
            None if essential => (LegalBasis::LegitimateInterest, true),
            None => (LegalBasis::Consent, true),
        };
        let strictly_necessary = essential && basis != LegalBasis::Consent;
        let tcf_purpose = taxonomy::tcf_purpose_of(data_use);
        let base = sanitize(data_use);
        let same = |p: &Purpose| p.basis == basis && p.strictly_necessary == strictly_necessary;
        let id = match self.purposes.iter().find(|(p, ..)| p.id == base) {
            Some((p, ..)) if !same(p) => format!("{base}.{}", basis.as_str()),
            _ => base,
        };
        if let Some((p, ..)) = self.purposes.iter().find(|(p, ..)| p.id == id) {
            return p.id.clone();
        }
        let entry = Entry::Purpose(id.clone());
        self.note(&entry, format!("fideslang data use `{data_use}`"));
        if assumed {
            self.draft(
                &entry,
                format!(
                    "fideslang gives no legal basis: `{}` assumed until a person says",
                    basis.as_str()
                ),
            );
        }
        if strictly_necessary {
            self.note(&entry, "strictly necessary: an `essential` data use");
        }
        let purpose = Purpose {
            id: id.clone(),
            name: name
                .map(str::to_string)
                .unwrap_or_else(|| data_use.to_string()),
            basis,
            strictly_necessary,
            tcf_purpose,
            gpc_opt_out: default_gpc_opt_out(tcf_purpose, strictly_necessary),
            draft: false,
        };
        self.add_purpose(purpose, None, at);
        id
    }

    /// Adds a purpose, or checks it against the one of the same id.
    fn add_purpose(&mut self, p: Purpose, order: Option<i64>, at: Pos) -> Option<String> {
        if let Some((q, _, first)) = self.purposes.iter().find(|(q, ..)| q.id == p.id) {
            if *q != p {
                let line = self.line(*first);
                let id = p.id.clone();
                self.error(
                    at,
                    format!("purpose `{id}` is declared differently here and at {line}"),
                    "a purpose has one name, basis and TCF purpose in consentry: make the two declarations agree",
                );
                return None;
            }
            return Some(p.id);
        }
        let id = p.id.clone();
        self.purposes.push((p, order, at));
        Some(id)
    }

    fn add_cookie(&mut self, rule: CookieRule, order: Option<i64>, at: Pos) {
        if let Some((other, _, first)) = self
            .cookies
            .iter()
            .find(|(c, _, _)| c.name == rule.name && c.domain == rule.domain)
        {
            let line = self.line(*first);
            let (name, owner) = (rule.name.clone(), other.vendor.clone());
            self.error(
                at,
                format!("cookie `{name}` is already declared for vendor `{owner}` ({line})"),
                "a cookie (name and domain) belongs to one vendor",
            );
            return;
        }
        self.cookies.push((rule, order, at));
    }

    /// The retention of a system's cookies from what fideslang says: its
    /// `cookie_max_age_seconds`, else the first `retention_period` that reads as a duration.
    fn fides_retention(
        &mut self,
        max_age: Option<i64>,
        periods: &[(String, Pos)],
    ) -> Option<(Retention, &'static str)> {
        if let Some(n) = max_age.filter(|n| *n >= 0) {
            let r = if n == 0 {
                Retention::Session
            } else {
                Retention::MaxSeconds(n)
            };
            return Some((r, "cookie_max_age_seconds"));
        }
        periods
            .iter()
            .find_map(|(p, _)| Retention::parse(&p.replace(" and ", " ")))
            .map(|r| (r, "retention_period"))
    }

    fn finish(self) -> Imported {
        let mut purposes: Vec<_> = self.purposes.into_iter().enumerate().collect();
        purposes.sort_by_key(|(i, (_, order, ..))| (order.unwrap_or(i64::MAX), *i));
        let mut cookies: Vec<_> = self.cookies.into_iter().enumerate().collect();
        cookies.sort_by_key(|(i, (_, order, _))| (order.unwrap_or(i64::MAX), *i));
        let todo = &self.todo;
        let draft = |e: Entry| todo.iter().any(|(t, _)| *t == e);
        let policy = Policy {
            purposes: purposes
                .into_iter()
                .map(|(_, (p, ..))| Purpose {
                    draft: p.draft || draft(Entry::Purpose(p.id.clone())),
                    ..p
                })
                .collect(),
            vendors: self
                .vendors
                .into_iter()
                .map(|(v, _)| Vendor {
                    draft: v.draft || draft(Entry::Vendor(v.id.clone())),
                    ..v
                })
                .collect(),
            cookies: cookies
                .into_iter()
                .map(|(_, (c, ..))| CookieRule {
                    draft: c.draft || draft(Entry::Cookie(c.name.clone(), c.vendor.clone())),
                    ..c
                })
                .collect(),
            retention_tolerance_secs: self
                .tolerance
                .map_or(DEFAULT_RETENTION_TOLERANCE_SECS, |(s, _)| s),
            ..Policy::default()
        };
        Imported {
            policy,
            notes: self.notes,
            todo: self.todo,
        }
    }
}

/// A fides key as a consentry id: letters, digits, `_`, `-` and `.`; anything else `_`.
pub fn sanitize(key: &str) -> String {
    let s: String = key
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.') {
                c
            } else {
                '_'
            }
        })
        .collect();
    if s.is_empty() {
        "_".into()
    } else {
        s
    }
}

/// The imported map as a policy file ([`crate::policy::write`]), each entry under its
/// notes.
pub fn to_toml(im: &Imported, from: &Path) -> String {
    let mut notes = Notes {
        header: vec![
            format!(
                "Declared map imported from {} by `consentry map import` (docs/fideslang.md).",
                from.display()
            ),
            "Format: docs/scenarios.md#the-policy. `draft = true`: fideslang did not say all"
                .into(),
            "consentry needs; complete the entry as its comment says, then remove the line.".into(),
        ],
        ..Notes::default()
    };
    for (e, text) in &im.notes {
        let list = match e {
            Entry::Purpose(id) => notes.purposes.entry(id.clone()).or_default(),
            Entry::Vendor(id) => notes.vendors.entry(id.clone()).or_default(),
            Entry::Cookie(n, v) => notes.cookies.entry((n.clone(), v.clone())).or_default(),
        };
        list.push(text.clone());
    }
    crate::policy::write::render(&im.policy, &notes)
}

//! Loading and validating the declared map.
//!
//! Files are parsed into toml's spanned document tree ([`DeTable`]) and checked by
//! hand, so one wrong value never hides the others: every problem becomes a
//! [`Diagnostic`] with file:line:col and a hint. The [`Checker`] defined here (typed
//! reads, unknown keys, duplicate ids, "did you mean") is shared with the scenario
//! loader.

use crate::diag::{file_error, line_col, Diagnostic, Diagnostics, Level};
use crate::policy::{CookieRule, DomainPattern, LegalBasis, Policy, Purpose, Retention, Vendor};
use std::collections::HashMap;
use std::ops::Range;
use std::path::Path;
use toml::de::{DeTable, DeValue};
use toml::Spanned;

/// Read and validate a declared map. `Ok` only when there is no error (warnings are
/// dropped; [`parse_policy`] returns them).
pub fn load_policy(path: &Path) -> Result<Policy, Diagnostics> {
    let src = read_source(path).map_err(|d| Diagnostics(vec![d]))?;
    match parse_policy(path, &src) {
        (Some(policy), _) => Ok(policy),
        (None, diags) => Err(diags),
    }
}

/// Validate the text of a declared map. The policy is `Some` only when there is no
/// error; warnings may accompany it.
pub fn parse_policy(path: &Path, src: &str) -> (Option<Policy>, Diagnostics) {
    let mut ck = Checker::new(path, src, None);
    let policy = ck.parse().map(|doc| check_policy(&mut ck, path, &doc));
    let policy = policy.filter(|_| !ck.has_errors());
    (policy, ck.into_diagnostics())
}

const TOP_KEYS: &[&str] = &["purpose", "vendor", "cookie"];
const PURPOSE_KEYS: &[&str] = &["id", "name", "basis", "strictly_necessary", "tcf_purpose"];
const VENDOR_KEYS: &[&str] = &["id", "name", "domains", "purposes"];
const COOKIE_KEYS: &[&str] = &["name", "vendor", "max_retention"];

/// TCF 2.2 forbids legitimate interest for these purposes (3-6: profiles and
/// personalised ads/content).
const TCF_CONSENT_ONLY: [i64; 4] = [3, 4, 5, 6];

fn check_policy(ck: &mut Checker<'_>, path: &Path, doc: &Spanned<DeTable<'_>>) -> Policy {
    let root = ck.root(doc, TOP_KEYS);

    let mut purpose_ids = Ids::new("purpose id");
    let purposes: Vec<(Purpose, Span)> = ck
        .tables_at(&root, "purpose", PURPOSE_KEYS)
        .iter()
        .filter_map(|t| check_purpose(ck, t, &mut purpose_ids))
        .collect();

    let mut vendor_ids = Ids::new("vendor id");
    let mut domain_owners: HashMap<String, (String, Span)> = HashMap::new();
    let mut used_purposes: Vec<String> = Vec::new();
    let vendors: Vec<(Vendor, Span)> = ck
        .tables_at(&root, "vendor", VENDOR_KEYS)
        .iter()
        .filter_map(|t| {
            let v = check_vendor(ck, t, &mut vendor_ids, &purpose_ids, &mut domain_owners);
            if let Some((vendor, _)) = &v {
                used_purposes.extend(vendor.purposes.iter().cloned());
            }
            v
        })
        .collect();

    let mut cookie_names = Ids::new("cookie name");
    let cookies: Vec<CookieRule> = ck
        .tables_at(&root, "cookie", COOKIE_KEYS)
        .iter()
        .filter_map(|t| check_cookie(ck, t, &mut cookie_names, &vendor_ids))
        .collect();

    for (p, span) in &purposes {
        if !used_purposes.contains(&p.id) {
            ck.warning(
                span,
                format!("purpose `{}` is not used by any vendor", p.id),
                "list it in a vendor's `purposes`, or remove it",
            );
        }
    }
    for (v, span) in &vendors {
        if v.domains.is_empty() && !cookies.iter().any(|c| c.vendor == v.id) {
            ck.warning(
                span,
                format!("vendor `{}` has no domains and no cookies", v.id),
                "nothing observed can be attributed to it; add `domains` or a [[cookie]] it owns",
            );
        }
    }

    Policy {
        path: path.to_path_buf(),
        purposes: purposes.into_iter().map(|(p, _)| p).collect(),
        vendors: vendors.into_iter().map(|(v, _)| v).collect(),
        cookies,
    }
}

/// A purpose and the span of its id.
fn check_purpose(
    ck: &mut Checker<'_>,
    t: &Table<'_, '_>,
    ids: &mut Ids,
) -> Option<(Purpose, Span)> {
    let id = ck.req_id(t, "id", "analytics");
    let name = ck.opt_string(t, "name");
    let basis = ck.req_string(t, "basis", "\"consent\"");
    let basis = basis.as_ref().and_then(|b| {
        ck.one_of(b, "legal basis", &LegalBasis::ALL)
            .and_then(LegalBasis::parse)
    });
    let strictly_necessary = ck.opt_bool(t, "strictly_necessary").unwrap_or(false);
    let tcf = ck.opt_int(t, "tcf_purpose");
    if let Some(n) = &tcf {
        if !(1..=11).contains(n.get_ref()) {
            ck.error(
                &n.span(),
                format!("tcf_purpose {} does not exist", n.get_ref()),
                "IAB TCF 2.2 purposes are numbered 1 to 11",
            );
        }
    }
    if let (Some(LegalBasis::LegitimateInterest), Some(n)) = (basis, &tcf) {
        if TCF_CONSENT_ONLY.contains(n.get_ref()) {
            let at = t
                .get("basis")
                .map(|v| v.span())
                .unwrap_or_else(|| t.span.clone());
            ck.error(
                &at,
                format!(
                    "legitimate interest is not allowed for TCF purpose {} (line {})",
                    n.get_ref(),
                    ck.line(&n.span())
                ),
                "TCF 2.2 requires consent for purposes 3, 4, 5 and 6: use basis = \"consent\"",
            );
        }
    }
    if strictly_necessary && basis == Some(LegalBasis::Consent) {
        let at = t
            .key_span("strictly_necessary")
            .unwrap_or_else(|| t.span.clone());
        ck.warning(
            &at,
            "a strictly necessary purpose does not rely on consent: basis is ignored",
            "strictly necessary purposes may run in every scenario; give the basis they really rely on",
        );
    }
    let id = id?;
    ids.insert(ck, &id);
    let tcf_purpose = tcf.and_then(|n| u8::try_from(*n.get_ref()).ok());
    let span = id.span();
    let id = id.into_inner();
    Some((
        Purpose {
            name: name.map(Spanned::into_inner).unwrap_or_else(|| id.clone()),
            id,
            basis: basis?,
            strictly_necessary,
            tcf_purpose,
        },
        span,
    ))
}

/// A vendor and the span of its id.
fn check_vendor(
    ck: &mut Checker<'_>,
    t: &Table<'_, '_>,
    ids: &mut Ids,
    purpose_ids: &Ids,
    domain_owners: &mut HashMap<String, (String, Span)>,
) -> Option<(Vendor, Span)> {
    let id = ck.req_id(t, "id", "google-analytics");
    if let Some(id) = &id {
        ids.insert(ck, id);
    }
    let name = ck.opt_string(t, "name");
    let owner = id.as_ref().map(|i| i.get_ref().clone()).unwrap_or_default();

    let mut domains = Vec::new();
    for d in ck.opt_strings(t, "domains").unwrap_or_default() {
        let Some(pattern) = DomainPattern::parse(d.get_ref()) else {
            ck.error(
                &d.span(),
                format!("invalid domain pattern `{}`", d.get_ref()),
                "write a host name such as example.com (it and its subdomains) or *.example.com (subdomains only), without scheme, port or path",
            );
            continue;
        };
        let key = pattern.to_string();
        if let Some((other, first)) = domain_owners.get(&key) {
            let line = ck.line(first);
            ck.error(
                &d.span(),
                format!("domain `{key}` is already claimed by vendor `{other}` (line {line})"),
                "a host must belong to one vendor; remove one of the two",
            );
        } else {
            domain_owners.insert(key, (owner.clone(), d.span()));
        }
        domains.push(pattern);
    }

    let purposes = match t.get("purposes") {
        None => {
            ck.missing(t, "purposes", "[\"analytics\"]");
            Vec::new()
        }
        Some(v) => {
            let list = ck
                .strings(v, "`purposes` in [[vendor]]")
                .unwrap_or_default();
            if v.get_ref().as_array().is_some_and(|a| a.is_empty()) {
                ck.error(
                    &v.span(),
                    "a vendor must serve at least one purpose",
                    "list the ids of the [[purpose]] entries this vendor serves",
                );
            }
            for p in &list {
                purpose_ids.check_ref(ck, p);
            }
            list.into_iter().map(Spanned::into_inner).collect()
        }
    };

    let id = id?;
    let span = id.span();
    let id = id.into_inner();
    Some((
        Vendor {
            name: name.map(Spanned::into_inner).unwrap_or_else(|| id.clone()),
            id,
            domains,
            purposes,
        },
        span,
    ))
}

fn check_cookie(
    ck: &mut Checker<'_>,
    t: &Table<'_, '_>,
    names: &mut Ids,
    vendor_ids: &Ids,
) -> Option<CookieRule> {
    let name = ck.req_string(t, "name", "\"_ga\"");
    if let Some(n) = &name {
        let bad = n.get_ref().is_empty()
            || n.get_ref()
                .chars()
                .any(|c| c.is_whitespace() || c.is_control() || matches!(c, ';' | '=' | ','));
        if bad {
            ck.error(
                &n.span(),
                format!("invalid cookie name pattern {:?}", n.get_ref()),
                "a cookie name has no spaces, `;`, `,` or `=`; use `*` for any run of characters, as in \"_ga_*\"",
            );
        } else {
            names.insert(ck, n);
        }
    }
    let vendor = ck.req_string(t, "vendor", "\"google-analytics\"");
    if let Some(v) = &vendor {
        vendor_ids.check_ref(ck, v);
    }
    let retention = ck.req_string(t, "max_retention", "\"390d\"");
    let retention = retention.and_then(|r| {
        let parsed = Retention::parse(r.get_ref());
        if parsed.is_none() {
            ck.error(
                &r.span(),
                format!("invalid retention {:?}", r.get_ref()),
                "write \"session\" or a whole number with a unit: s, m (minutes), h or d, as in \"390d\"",
            );
        }
        parsed
    });
    Some(CookieRule {
        name: name?.into_inner(),
        vendor: vendor?.into_inner(),
        max_retention: retention?,
    })
}

// ---------------------------------------------------------------------------
// The checker, shared with the scenario loader.
// ---------------------------------------------------------------------------

pub(crate) type Span = Range<usize>;
pub(crate) type Val<'i> = Spanned<DeValue<'i>>;
/// Looks up an environment variable (for `${VAR}` interpolation).
pub(crate) type Env<'a> = &'a dyn Fn(&str) -> Option<String>;

/// Read a file, or a diagnostic naming it.
pub(crate) fn read_source(path: &Path) -> Result<String, Diagnostic> {
    std::fs::read_to_string(path).map_err(|e| {
        file_error(
            path,
            format!("cannot read {}: {e}", path.display()),
            Some("check the path and its permissions".to_string()),
        )
    })
}

/// Collects diagnostics for one file while its spanned tree is read.
pub(crate) struct Checker<'a> {
    file: &'a Path,
    src: &'a str,
    /// When set, every string read is `${VAR}`-interpolated.
    env: Option<Env<'a>>,
    diags: Vec<Diagnostic>,
}

/// A table being read, with a name for messages (`[site]`, `[[vendor]]`, `step`).
pub(crate) struct Table<'t, 'i> {
    pub(crate) span: Span,
    pub(crate) name: String,
    /// How many unknown keys were reported for it.
    pub(crate) unknown_keys: usize,
    map: &'t DeTable<'i>,
}

impl<'t, 'i> Table<'t, 'i> {
    pub(crate) fn get(&self, key: &str) -> Option<&'t Val<'i>> {
        self.map.get(key)
    }
    pub(crate) fn key_span(&self, key: &str) -> Option<Span> {
        self.map.get_key_value(key).map(|(k, _)| k.span())
    }
    /// Entries in source order.
    pub(crate) fn entries(&self) -> Vec<(&'t str, Span, &'t Val<'i>)> {
        let mut out: Vec<_> = self
            .map
            .iter()
            .map(|(k, v)| (k.get_ref().as_ref(), k.span(), v))
            .collect();
        out.sort_by_key(|(_, span, _)| span.start);
        out
    }
}

impl<'a> Checker<'a> {
    pub(crate) fn new(file: &'a Path, src: &'a str, env: Option<Env<'a>>) -> Self {
        Checker {
            file,
            src,
            env,
            diags: Vec::new(),
        }
    }

    fn push(&mut self, level: Level, span: &Span, message: String, hint: String) {
        let (line, col) = line_col(self.src, span.start);
        self.diags.push(Diagnostic {
            level,
            file: self.file.to_path_buf(),
            line,
            col,
            message,
            hint: Some(hint),
        });
    }

    pub(crate) fn error(
        &mut self,
        span: &Span,
        message: impl Into<String>,
        hint: impl Into<String>,
    ) {
        self.push(Level::Error, span, message.into(), hint.into());
    }

    pub(crate) fn warning(
        &mut self,
        span: &Span,
        message: impl Into<String>,
        hint: impl Into<String>,
    ) {
        self.push(Level::Warning, span, message.into(), hint.into());
    }

    pub(crate) fn line_col(&self, span: &Span) -> (usize, usize) {
        line_col(self.src, span.start)
    }

    pub(crate) fn line(&self, span: &Span) -> usize {
        line_col(self.src, span.start).0
    }

    /// `file:line:col` of a span.
    pub(crate) fn location(&self, span: &Span) -> String {
        let (line, col) = line_col(self.src, span.start);
        format!("{}:{line}:{col}", self.file.display())
    }

    pub(crate) fn has_errors(&self) -> bool {
        self.diags.iter().any(|d| d.level == Level::Error)
    }

    /// The diagnostics, in file order.
    pub(crate) fn into_diagnostics(mut self) -> Diagnostics {
        self.diags.sort_by_key(|d| (d.line, d.col));
        Diagnostics(self.diags)
    }

    /// Parse the document. Syntax errors are all reported, and stop the check: the
    /// recovered tree is partial and would produce misleading diagnostics.
    pub(crate) fn parse(&mut self) -> Option<Spanned<DeTable<'a>>> {
        let (doc, errors) = DeTable::parse_recoverable(self.src);
        for e in &errors {
            let hint = if e.message().contains("duplicate key") {
                "a key may appear only once in a table (use [[name]] for a list of tables)"
            } else {
                "check the TOML syntax near here: strings in double quotes, arrays in [ ], inline tables in { }"
            };
            self.error(
                &e.span().unwrap_or(0..0),
                format!("TOML syntax error: {}", e.message()),
                hint,
            );
        }
        errors.is_empty().then_some(doc)
    }

    /// The document's top-level table.
    pub(crate) fn root<'t, 'i>(
        &mut self,
        doc: &'t Spanned<DeTable<'i>>,
        known: &[&str],
    ) -> Table<'t, 'i> {
        let unknown_keys = self.check_keys(doc.get_ref(), "the file", known);
        Table {
            span: doc.span(),
            name: "the file".to_string(),
            unknown_keys,
            map: doc.get_ref(),
        }
    }

    fn check_keys(&mut self, map: &DeTable<'_>, name: &str, known: &[&str]) -> usize {
        let mut unknown = 0;
        for (k, _) in map.iter() {
            let key: &str = k.get_ref();
            if known.contains(&key) {
                continue;
            }
            unknown += 1;
            let hint = match did_you_mean(key, known.iter().copied()) {
                Some(s) => format!("did you mean `{s}`?"),
                None => format!("valid keys in {name}: {}", known.join(", ")),
            };
            self.error(&k.span(), format!("unknown key `{key}` in {name}"), hint);
        }
        unknown
    }

    /// `v` as a table named `name`; its unknown keys are reported.
    pub(crate) fn table<'t, 'i>(
        &mut self,
        v: &'t Val<'i>,
        name: &str,
        known: &[&str],
    ) -> Option<Table<'t, 'i>> {
        let Some(map) = v.get_ref().as_table() else {
            self.type_error(
                v,
                name,
                "a table",
                &format!("keys of {name}: {}", known.join(", ")),
            );
            return None;
        };
        let unknown_keys = self.check_keys(map, name, known);
        Some(Table {
            span: v.span(),
            name: name.to_string(),
            unknown_keys,
            map,
        })
    }

    /// The optional table at `parent.key`, written `[key]`.
    pub(crate) fn table_at<'t, 'i>(
        &mut self,
        parent: &Table<'t, 'i>,
        key: &str,
        known: &[&str],
    ) -> Option<Table<'t, 'i>> {
        let v = parent.get(key)?;
        self.table(v, &format!("[{key}]"), known)
    }

    /// The array of tables at `parent.key`, written `[[key]]` (absent: empty).
    pub(crate) fn tables_at<'t, 'i>(
        &mut self,
        parent: &Table<'t, 'i>,
        key: &str,
        known: &[&str],
    ) -> Vec<Table<'t, 'i>> {
        let name = format!("[[{key}]]");
        let Some(v) = parent.get(key) else {
            return Vec::new();
        };
        let Some(items) = v.get_ref().as_array() else {
            self.type_error(
                v,
                &name,
                "an array of tables",
                &format!("write each entry under its own {name} header"),
            );
            return Vec::new();
        };
        items
            .iter()
            .filter_map(|item| self.table(item, &name, known))
            .collect()
    }

    /// An array (of anything).
    pub(crate) fn array<'t, 'i>(&mut self, v: &'t Val<'i>, what: &str) -> Option<&'t [Val<'i>]> {
        let items = v.get_ref().as_array();
        if items.is_none() {
            self.type_error(v, what, "an array", "write it as [ ... ]");
        }
        items.map(|a| &a[..])
    }

    fn type_error(&mut self, v: &Val<'_>, what: &str, expected: &str, hint: &str) {
        self.error(
            &v.span(),
            format!(
                "{what} must be {expected}, found {}",
                v.get_ref().type_str()
            ),
            hint,
        );
    }

    /// Report a missing required key of `t`, at the table.
    pub(crate) fn missing(&mut self, t: &Table<'_, '_>, key: &str, example: &str) {
        self.error(
            &t.span,
            format!("missing required key `{key}` in {}", t.name),
            format!("add `{key} = {example}`"),
        );
    }

    /// A string (interpolated when the checker has an environment).
    pub(crate) fn string(&mut self, v: &Val<'_>, what: &str) -> Option<Spanned<String>> {
        let Some(s) = v.get_ref().as_str() else {
            self.type_error(v, what, "a string", "write it in double quotes");
            return None;
        };
        let Some(env) = self.env else {
            return Some(Spanned::new(v.span(), s.to_string()));
        };
        match interpolate(s, env) {
            Ok(s) => Some(Spanned::new(v.span(), s)),
            Err((message, hint)) => {
                self.error(&v.span(), message, hint);
                None
            }
        }
    }

    /// An array of strings; bad elements are reported and left out.
    pub(crate) fn strings(&mut self, v: &Val<'_>, what: &str) -> Option<Vec<Spanned<String>>> {
        let Some(items) = v.get_ref().as_array() else {
            self.type_error(
                v,
                what,
                "an array of strings",
                "write it as [\"...\", \"...\"]",
            );
            return None;
        };
        let elem = format!("each element of {what}");
        Some(items.iter().filter_map(|i| self.string(i, &elem)).collect())
    }

    pub(crate) fn boolean(&mut self, v: &Val<'_>, what: &str) -> Option<bool> {
        let b = v.get_ref().as_bool();
        if b.is_none() {
            self.type_error(v, what, "a boolean", "write true or false (without quotes)");
        }
        b
    }

    pub(crate) fn integer(&mut self, v: &Val<'_>, what: &str) -> Option<Spanned<i64>> {
        let Some(i) = v.get_ref().as_integer() else {
            self.type_error(v, what, "an integer", "write a whole number without quotes");
            return None;
        };
        match i64::from_str_radix(i.as_str(), i.radix()) {
            Ok(n) => Some(Spanned::new(v.span(), n)),
            Err(_) => {
                self.error(
                    &v.span(),
                    format!("{what} is out of range"),
                    "use a smaller number",
                );
                None
            }
        }
    }

    fn what(t: &Table<'_, '_>, key: &str) -> String {
        format!("`{key}` in {}", t.name)
    }

    pub(crate) fn opt_string(&mut self, t: &Table<'_, '_>, key: &str) -> Option<Spanned<String>> {
        self.string(t.get(key)?, &Self::what(t, key))
    }

    pub(crate) fn opt_strings(
        &mut self,
        t: &Table<'_, '_>,
        key: &str,
    ) -> Option<Vec<Spanned<String>>> {
        self.strings(t.get(key)?, &Self::what(t, key))
    }

    pub(crate) fn opt_bool(&mut self, t: &Table<'_, '_>, key: &str) -> Option<bool> {
        self.boolean(t.get(key)?, &Self::what(t, key))
    }

    pub(crate) fn opt_int(&mut self, t: &Table<'_, '_>, key: &str) -> Option<Spanned<i64>> {
        self.integer(t.get(key)?, &Self::what(t, key))
    }

    /// A required string; `example` is a TOML value shown in the hint when it is missing.
    pub(crate) fn req_string(
        &mut self,
        t: &Table<'_, '_>,
        key: &str,
        example: &str,
    ) -> Option<Spanned<String>> {
        if t.get(key).is_none() {
            self.missing(t, key, example);
            return None;
        }
        self.opt_string(t, key)
    }

    /// A required identifier: letters, digits, `_`, `-` and `.`.
    pub(crate) fn req_id(
        &mut self,
        t: &Table<'_, '_>,
        key: &str,
        example: &str,
    ) -> Option<Spanned<String>> {
        let id = self.req_string(t, key, &format!("\"{example}\""))?;
        let valid = !id.get_ref().is_empty()
            && id
                .get_ref()
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'));
        if !valid {
            self.error(
                &id.span(),
                format!("invalid id {:?}", id.get_ref()),
                format!("ids use letters, digits, `_`, `-` and `.`, as in \"{example}\""),
            );
            return None;
        }
        Some(id)
    }

    /// `s` must be one of `valid` (hint: did you mean / the valid values).
    pub(crate) fn one_of<'s>(
        &mut self,
        s: &'s Spanned<String>,
        kind: &str,
        valid: &[&str],
    ) -> Option<&'s str> {
        let value = s.get_ref().as_str();
        if valid.contains(&value) {
            return Some(value);
        }
        self.error(
            &s.span(),
            format!("unknown {kind} `{value}`"),
            suggest(value, valid.iter().copied(), "valid values"),
        );
        None
    }
}

/// "did you mean `x`?" when a candidate is close, else the list of candidates.
pub(crate) fn suggest<'c>(
    word: &str,
    candidates: impl Iterator<Item = &'c str> + Clone,
    what: &str,
) -> String {
    match did_you_mean(word, candidates.clone()) {
        Some(s) => format!("did you mean `{s}`?"),
        None => {
            let all: Vec<&str> = candidates.collect();
            if all.is_empty() {
                format!("there are no {what}")
            } else {
                format!("{what}: {}", all.join(", "))
            }
        }
    }
}

/// The closest candidate within a small edit distance (case-insensitive).
pub(crate) fn did_you_mean<'c>(
    word: &str,
    candidates: impl Iterator<Item = &'c str>,
) -> Option<&'c str> {
    let word = word.to_lowercase();
    candidates
        .map(|c| (edit_distance(&word, &c.to_lowercase()), c))
        .filter(|(d, c)| *d <= (c.chars().count() / 3).max(1))
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

/// Levenshtein distance, in characters.
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            let cost = usize::from(ca != *cb);
            cur[j + 1] = (prev[j] + cost).min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        prev = cur;
    }
    prev[b.len()]
}

/// Substitute `${VAR}` and `${VAR:-default}` (the default is used when VAR is unset
/// or empty). A `$` not followed by `{` is literal, and `$${` is a literal `${`.
/// Errors are (message, hint).
pub(crate) fn interpolate(s: &str, env: Env<'_>) -> Result<String, (String, String)> {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(start) = rest.find("${") {
        if let Some(before) = rest[..start].strip_suffix('$') {
            // `$${` is a literal `${` (for JavaScript template literals).
            out.push_str(before);
            out.push_str("${");
            rest = &rest[start + 2..];
            continue;
        }
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let Some(end) = after.find('}') else {
            return Err((
                "unterminated `${` in string".to_string(),
                "write ${VAR} or ${VAR:-default}".to_string(),
            ));
        };
        let inner = &after[..end];
        let (name, default) = match inner.split_once(":-") {
            Some((n, d)) => (n, Some(d)),
            None => (inner, None),
        };
        let valid_name = name
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
            && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
        if !valid_name {
            return Err((
                format!("invalid environment variable name `{name}` in `${{{inner}}}`"),
                "names use letters, digits and `_`, not starting with a digit: ${VAR} or ${VAR:-default}".to_string(),
            ));
        }
        match (
            env(name).filter(|v| !v.is_empty() || default.is_none()),
            default,
        ) {
            (Some(value), _) => out.push_str(&value),
            (None, Some(d)) => out.push_str(d),
            (None, None) => {
                return Err((
                    format!("environment variable `{name}` is not set"),
                    format!("set {name}, give a default as in ${{{name}:-value}}, or write $${{ for a literal ${{"),
                ))
            }
        }
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    Ok(out)
}

/// Ids seen so far of one kind; duplicates and dangling references are errors.
pub(crate) struct Ids {
    kind: &'static str,
    /// How the first occurrence came to be: "defined", "listed".
    verb: &'static str,
    first: Vec<(String, Span)>,
}

impl Ids {
    /// Ids that are defined (a duplicate is a second definition).
    pub(crate) fn new(kind: &'static str) -> Self {
        Ids {
            kind,
            verb: "defined",
            first: Vec::new(),
        }
    }

    /// Ids that are listed (a duplicate is listed twice).
    pub(crate) fn listed(kind: &'static str) -> Self {
        Ids {
            verb: "listed",
            ..Ids::new(kind)
        }
    }

    pub(crate) fn get(&self, id: &str) -> Option<&Span> {
        self.first.iter().find(|(i, _)| i == id).map(|(_, s)| s)
    }

    pub(crate) fn iter(&self) -> impl Iterator<Item = &str> + Clone {
        self.first.iter().map(|(i, _)| i.as_str())
    }

    /// Record `id`; a duplicate is an error at the second, naming the first's line.
    /// Returns whether it was new.
    pub(crate) fn insert(&mut self, ck: &mut Checker<'_>, id: &Spanned<String>) -> bool {
        if let Some(first) = self.get(id.get_ref()) {
            let line = ck.line(first);
            ck.error(
                &id.span(),
                format!(
                    "duplicate {} `{}` (first {} at line {line})",
                    self.kind,
                    id.get_ref(),
                    self.verb
                ),
                format!(
                    "each {} must be unique; rename or remove one of them",
                    self.kind
                ),
            );
            return false;
        }
        self.first.push((id.get_ref().clone(), id.span()));
        true
    }

    /// A reference to an id of this kind must exist.
    pub(crate) fn check_ref(&self, ck: &mut Checker<'_>, r: &Spanned<String>) -> bool {
        if self.get(r.get_ref()).is_some() {
            return true;
        }
        let plural = format!("defined {}s", self.kind);
        ck.error(
            &r.span(),
            format!("unknown {} `{}`", self.kind, r.get_ref()),
            suggest(r.get_ref(), self.iter(), &plural),
        );
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    fn parse(src: &str) -> (Option<Policy>, Diagnostics) {
        parse_policy(Path::new("p.toml"), src)
    }

    /// `line:col message` of every diagnostic.
    fn positions(d: &Diagnostics) -> Vec<String> {
        d.0.iter()
            .map(|d| format!("{}:{} {}", d.line, d.col, d.message))
            .collect()
    }

    #[test]
    fn demo_policy_loads() {
        let path =
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("scenarios/demo-shop.policy.toml");
        let p = load_policy(&path).unwrap();
        assert_eq!(p.purposes.len(), 7);
        assert_eq!(p.vendors.len(), 9);
        assert_eq!(p.cookies.len(), 6);
        let security = p.purpose("security").unwrap();
        assert_eq!(security.basis, LegalBasis::LegitimateInterest);
        assert!(security.strictly_necessary);
        assert_eq!(p.purpose("advertising").unwrap().tcf_purpose, Some(4));
        assert_eq!(p.vendor("recaptcha").unwrap().domains.len(), 2);
        assert_eq!(
            p.cookie_rule("sid").unwrap().max_retention,
            Retention::Session
        );
    }

    #[test]
    fn defaults_and_warnings() {
        let (p, d) = parse(
            "[[purpose]]\nid = \"a\"\nbasis = \"consent\"\n\
             [[purpose]]\nid = \"unused\"\nbasis = \"contract\"\n\
             [[vendor]]\nid = \"v\"\npurposes = [\"a\"]\n",
        );
        let p = p.unwrap();
        assert_eq!(p.purposes[0].name, "a");
        assert!(!p.purposes[0].strictly_necessary);
        assert_eq!(p.vendors[0].name, "v");
        assert_eq!(
            positions(&d),
            [
                "5:6 purpose `unused` is not used by any vendor",
                "8:6 vendor `v` has no domains and no cookies"
            ]
        );
        assert!(!d.has_errors());
    }

    #[test]
    fn type_errors_do_not_hide_others() {
        let (p, d) = parse(
            "[[purpose]]\nid = 3\nbasis = \"consent\"\nstrictly_necessary = \"yes\"\ntcf_purpose = 12\n",
        );
        assert!(p.is_none());
        assert_eq!(
            positions(&d),
            [
                "2:6 `id` in [[purpose]] must be a string, found integer",
                "4:22 `strictly_necessary` in [[purpose]] must be a boolean, found string",
                "5:15 tcf_purpose 12 does not exist",
            ]
        );
    }

    #[test]
    fn missing_keys_point_at_the_table() {
        let (_, d) = parse("[[cookie]]\nname = \"x\"\n");
        assert_eq!(
            positions(&d),
            [
                "1:1 missing required key `vendor` in [[cookie]]",
                "1:1 missing required key `max_retention` in [[cookie]]"
            ]
        );
        assert_eq!(
            d.0[0].hint.as_deref(),
            Some("add `vendor = \"google-analytics\"`")
        );
    }

    #[test]
    fn duplicate_domains_across_vendors() {
        let (_, d) = parse(
            "[[purpose]]\nid = \"a\"\nbasis = \"consent\"\n\
             [[vendor]]\nid = \"v\"\ndomains = [\"x.com\"]\npurposes = [\"a\"]\n\
             [[vendor]]\nid = \"w\"\ndomains = [\"X.com\"]\npurposes = [\"a\"]\n",
        );
        assert_eq!(
            positions(&d),
            ["10:12 domain `x.com` is already claimed by vendor `v` (line 6)"]
        );
    }

    #[test]
    fn suggestions() {
        assert_eq!(
            did_you_mean("bse_url", ["name", "base_url"].into_iter()),
            Some("base_url")
        );
        assert_eq!(
            did_you_mean("wait-for", ["click", "wait_for"].into_iter()),
            Some("wait_for")
        );
        assert_eq!(did_you_mean("zzz", ["id", "name"].into_iter()), None);
        assert_eq!(edit_distance("kitten", "sitting"), 3);
    }

    #[test]
    fn interpolation() {
        let env = |k: &str| match k {
            "PORT" => Some("9000".to_string()),
            "EMPTY" => Some(String::new()),
            _ => None,
        };
        assert_eq!(interpolate("a${PORT}b", &env).unwrap(), "a9000b");
        assert_eq!(interpolate("${NOPE:-8443}", &env).unwrap(), "8443");
        assert_eq!(interpolate("${EMPTY:-x}|${EMPTY}", &env).unwrap(), "x|");
        assert_eq!(interpolate("$5 and $HOME", &env).unwrap(), "$5 and $HOME");
        assert_eq!(interpolate("`$${x}` ${PORT}", &env).unwrap(), "`${x}` 9000");
        assert!(interpolate("${NOPE}", &env)
            .unwrap_err()
            .0
            .contains("`NOPE` is not set"));
        assert!(interpolate("${PORT", &env).is_err());
        assert!(interpolate("${1X}", &env).is_err());
        assert!(interpolate("${}", &env).is_err());
    }
}

//! The generic checker for TOML input files, shared by the scenario and policy
//! loaders.
//!
//! Files are parsed into toml's spanned document tree ([`DeTable`]) and checked by
//! hand, so one wrong value never hides the others: every problem becomes a
//! [`Diagnostic`] with file:line:col and a hint. The [`Checker`] reads typed values,
//! reports unknown keys ("did you mean"), missing keys and wrong types; [`Ids`] finds
//! duplicate and dangling ids; [`source`] reads files within limits; [`duration`]
//! is the one duration grammar of both file kinds.

pub mod duration;
mod ids;
pub mod shape;
pub mod source;
mod text;

pub use duration::{parse_duration, parse_duration_secs, DURATION_HINT};
pub use ids::Ids;
pub use source::{digest, read_source, SourceError, MAX_FILE_BYTES};
pub use text::{did_you_mean, interpolate, is_var_name, suggest, toml_string};

use crate::diag::{Diagnostic, Diagnostics, Level, LineIndex};
use std::ops::Range;
use std::path::Path;
use toml::de::{DeTable, DeValue};
use toml::Spanned;

pub type Span = Range<usize>;
pub type Val<'i> = Spanned<DeValue<'i>>;
/// Looks up an environment variable (for `${VAR}` interpolation).
pub type Env<'a> = &'a dyn Fn(&str) -> Option<String>;

/// Collects diagnostics for one file while its spanned tree is read.
pub struct Checker<'a> {
    file: &'a Path,
    src: &'a str,
    /// When set, every string read is `${VAR}`-interpolated.
    env: Option<Env<'a>>,
    lines: LineIndex,
    diags: Vec<Diagnostic>,
    /// Other files whose trees were grafted into this one's ([`Checker::mount`]): a span
    /// at or past a mount's base belongs to that file.
    mounts: Vec<Mount>,
}

/// A file mounted into a checker's span space, from `base` on.
struct Mount {
    base: usize,
    file: std::path::PathBuf,
    src: String,
    lines: LineIndex,
}

/// A table being read, with a name for messages (`[site]`, `[[vendor]]`, `step`).
pub struct Table<'t, 'i> {
    pub span: Span,
    pub name: String,
    /// How many unknown keys were reported for it.
    pub unknown_keys: usize,
    map: &'t DeTable<'i>,
}

impl<'t, 'i> Table<'t, 'i> {
    pub fn get(&self, key: &str) -> Option<&'t Val<'i>> {
        self.map.get(key)
    }
    pub fn key_span(&self, key: &str) -> Option<Span> {
        self.map.get_key_value(key).map(|(k, _)| k.span())
    }
    /// Entries in source order.
    pub fn entries(&self) -> Vec<(&'t str, Span, &'t Val<'i>)> {
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
    pub fn new(file: &'a Path, src: &'a str, env: Option<Env<'a>>) -> Self {
        Checker {
            file,
            src,
            env,
            lines: LineIndex::new(src),
            diags: Vec::new(),
            mounts: Vec::new(),
        }
    }

    /// Make room for values read from another file (a fleet file's defaults): returns
    /// the offset to add to that file's spans ([`shifted`]), so every diagnostic and
    /// location about a grafted value names the file and line it was written at.
    pub fn mount(&mut self, file: &Path, src: &str) -> usize {
        let end = self
            .mounts
            .last()
            .map(|m| m.base + m.src.len())
            .unwrap_or(self.src.len());
        let base = end + 1;
        self.mounts.push(Mount {
            base,
            file: file.to_path_buf(),
            src: src.to_string(),
            lines: LineIndex::new(src),
        });
        base
    }

    /// The file, line and column of a byte offset in this checker's span space.
    fn place(&self, offset: usize) -> (&Path, usize, usize) {
        match self.mounts.iter().rev().find(|m| offset >= m.base) {
            Some(m) => {
                let (line, col) = m.lines.line_col(&m.src, offset - m.base);
                (&m.file, line, col)
            }
            None => {
                let (line, col) = self.lines.line_col(self.src, offset);
                (self.file, line, col)
            }
        }
    }

    fn push(&mut self, level: Level, span: &Span, message: String, hint: String) {
        let (file, line, col) = self.place(span.start);
        let file = file.to_path_buf();
        self.diags.push(Diagnostic {
            level,
            file,
            line,
            col,
            message,
            hint: Some(hint),
        });
    }

    pub fn error(&mut self, span: &Span, message: impl Into<String>, hint: impl Into<String>) {
        self.push(Level::Error, span, message.into(), hint.into());
    }

    pub fn warning(&mut self, span: &Span, message: impl Into<String>, hint: impl Into<String>) {
        self.push(Level::Warning, span, message.into(), hint.into());
    }

    /// The environment `${VAR}` is looked up in, when this file interpolates.
    pub fn env(&self) -> Option<Env<'a>> {
        self.env
    }

    pub fn line_col(&self, span: &Span) -> (usize, usize) {
        let (_, line, col) = self.place(span.start);
        (line, col)
    }

    pub fn line(&self, span: &Span) -> usize {
        self.place(span.start).1
    }

    /// The file, 1-based line and column of a span (for a diagnostic given later).
    pub fn place_of(&self, span: &Span) -> (std::path::PathBuf, usize, usize) {
        let (file, line, col) = self.place(span.start);
        (file.to_path_buf(), line, col)
    }

    /// `file:line:col` of a span.
    pub fn location(&self, span: &Span) -> String {
        let (file, line, col) = self.place(span.start);
        format!("{}:{line}:{col}", file.display())
    }

    /// Diagnostics of another file read on this one's behalf (a CMP profile).
    pub fn extend(&mut self, diags: Vec<Diagnostic>) {
        self.diags.extend(diags);
    }

    pub fn has_errors(&self) -> bool {
        self.diags.iter().any(|d| d.level == Level::Error)
    }

    /// The diagnostics, in file order (this file's first, then each mounted file's).
    pub fn into_diagnostics(mut self) -> Diagnostics {
        let files: Vec<std::path::PathBuf> = std::iter::once(self.file.to_path_buf())
            .chain(self.mounts.iter().map(|m| m.file.clone()))
            .collect();
        let rank = |d: &Diagnostic| files.iter().position(|f| *f == d.file).unwrap_or(0);
        self.diags.sort_by_key(|d| (rank(d), d.line, d.col));
        Diagnostics(self.diags)
    }

    /// Parse the document. Syntax errors are all reported, and stop the check: the
    /// recovered tree is partial and would produce misleading diagnostics.
    pub fn parse(&mut self) -> Option<Spanned<DeTable<'a>>> {
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
    pub fn root<'t, 'i>(&mut self, doc: &'t Spanned<DeTable<'i>>, known: &[&str]) -> Table<'t, 'i> {
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
    pub fn table<'t, 'i>(
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
    pub fn table_at<'t, 'i>(
        &mut self,
        parent: &Table<'t, 'i>,
        key: &str,
        known: &[&str],
    ) -> Option<Table<'t, 'i>> {
        let v = parent.get(key)?;
        self.table(v, &format!("[{key}]"), known)
    }

    /// The array of tables at `parent.key`, written `[[key]]` (absent: empty).
    pub fn tables_at<'t, 'i>(
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
    pub fn array<'t, 'i>(&mut self, v: &'t Val<'i>, what: &str) -> Option<&'t [Val<'i>]> {
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
    pub fn missing(&mut self, t: &Table<'_, '_>, key: &str, example: &str) {
        self.error(
            &t.span,
            format!("missing required key `{key}` in {}", t.name),
            format!("add `{key} = {example}`"),
        );
    }

    /// A string (interpolated when the checker has an environment).
    pub fn string(&mut self, v: &Val<'_>, what: &str) -> Option<Spanned<String>> {
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
    pub fn strings(&mut self, v: &Val<'_>, what: &str) -> Option<Vec<Spanned<String>>> {
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

    pub fn boolean(&mut self, v: &Val<'_>, what: &str) -> Option<bool> {
        let b = v.get_ref().as_bool();
        if b.is_none() {
            self.type_error(v, what, "a boolean", "write true or false (without quotes)");
        }
        b
    }

    pub fn integer(&mut self, v: &Val<'_>, what: &str) -> Option<Spanned<i64>> {
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

    pub fn opt_string(&mut self, t: &Table<'_, '_>, key: &str) -> Option<Spanned<String>> {
        self.string(t.get(key)?, &Self::what(t, key))
    }

    pub fn opt_strings(&mut self, t: &Table<'_, '_>, key: &str) -> Option<Vec<Spanned<String>>> {
        self.strings(t.get(key)?, &Self::what(t, key))
    }

    pub fn opt_bool(&mut self, t: &Table<'_, '_>, key: &str) -> Option<bool> {
        self.boolean(t.get(key)?, &Self::what(t, key))
    }

    pub fn opt_int(&mut self, t: &Table<'_, '_>, key: &str) -> Option<Spanned<i64>> {
        self.integer(t.get(key)?, &Self::what(t, key))
    }

    /// A required string; `example` is a TOML value shown in the hint when it is missing.
    pub fn req_string(
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
    pub fn req_id(
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
    pub fn one_of<'s>(
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

impl Checker<'_> {
    /// An array of integers, each within `range`; bad elements are reported and left
    /// out. `what` names the key (`tcf_li_purposes in [[vendor]]`).
    pub fn ints_in(
        &mut self,
        v: &Val<'_>,
        what: &str,
        range: std::ops::RangeInclusive<i64>,
        hint: &str,
    ) -> Option<Vec<Spanned<i64>>> {
        let items = self.array(v, what)?;
        let elem = format!("each element of {what}");
        let mut out = Vec::new();
        for item in items {
            let Some(n) = self.integer(item, &elem) else {
                continue;
            };
            if range.contains(n.get_ref()) {
                out.push(n);
            } else {
                self.error(
                    &n.span(),
                    format!(
                        "{} is out of range in {what} ({} to {})",
                        n.get_ref(),
                        range.start(),
                        range.end()
                    ),
                    hint,
                );
            }
        }
        Some(out)
    }

    /// The optional duration at `t.key` (see [`duration`]); it must be longer than
    /// zero and at most `max`.
    pub fn opt_duration(
        &mut self,
        t: &Table<'_, '_>,
        key: &str,
        max: std::time::Duration,
    ) -> Option<std::time::Duration> {
        let s = self.opt_string(t, key)?;
        match parse_duration(s.get_ref()) {
            Some(d) if d.is_zero() => {
                self.error(
                    &s.span(),
                    format!("`{key}` must be longer than zero"),
                    "give a positive duration, as in \"5s\"",
                );
                None
            }
            Some(d) if d > max => {
                self.error(
                    &s.span(),
                    format!(
                        "`{key}` = {:?} is longer than the limit of {}",
                        s.get_ref(),
                        humantime::format_duration(max)
                    ),
                    format!("give at most {}", humantime::format_duration(max)),
                );
                None
            }
            Some(d) => Some(d),
            None => {
                self.error(
                    &s.span(),
                    format!("invalid duration {:?} for `{key}`", s.get_ref()),
                    DURATION_HINT,
                );
                None
            }
        }
    }

    /// The text being checked.
    pub fn src(&self) -> &str {
        self.src
    }

    /// The file being checked.
    pub fn file(&self) -> &Path {
        self.file
    }
}

/// A copy of `v` whose spans (its own and every nested value's and key's) are moved by
/// `by` bytes: a value of a mounted file, grafted into a tree of the mounting checker.
pub fn shifted<'i>(v: &Val<'i>, by: usize) -> Val<'i> {
    let span = v.span();
    let at = span.start + by..span.end + by;
    let value = match v.get_ref() {
        DeValue::Array(items) => {
            DeValue::Array(items.iter().map(|item| shifted(item, by)).collect())
        }
        DeValue::Table(t) => DeValue::Table(shifted_table(t, by)),
        other => other.clone(),
    };
    Spanned::new(at, value)
}

/// [`shifted`] for a table's entries.
pub fn shifted_table<'i>(t: &DeTable<'i>, by: usize) -> DeTable<'i> {
    let mut out = DeTable::new();
    for (k, v) in t.iter() {
        let ks = k.span();
        out.insert(
            Spanned::new(ks.start + by..ks.end + by, k.get_ref().clone()),
            shifted(v, by),
        );
    }
    out
}

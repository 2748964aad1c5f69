//! Loading and validating an acknowledgements file, with the generic
//! [`Checker`](crate::toml_check::Checker): every problem at once, with file:line:col
//! and a hint. The format is in docs/drift.md ("Acknowledgements").

use super::{Ack, Acks, DEFAULT_FILE};
use crate::analysis::Code;
use crate::diag::{file_error, Diagnostics};
use crate::toml_check::{read_source, suggest, Checker, Table, Val};
use chrono::{DateTime, NaiveDate, NaiveTime, Utc};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use toml::de::DeTable;
use toml::Spanned;

pub(crate) const TOP_KEYS: &[&str] = &["ack"];
/// The keys of an `[[ack]]` entry.
pub const ACK_KEYS: &[&str] = &[
    "fingerprint",
    "site",
    "code",
    "subject",
    "reason",
    "owner",
    "acknowledged",
    "expires",
];

const DATE_HINT: &str =
    "write a date with a four-digit year, as in \"2027-03-31\" (the end of that day, UTC, for `expires`; its start for `acknowledged`), or an RFC 3339 time, as in \"2027-03-31T17:00:00Z\"";

/// `acks.toml` in the directory of `scenario_file`.
pub fn default_path(scenario_file: &Path) -> PathBuf {
    match scenario_file.parent() {
        Some(dir) => dir.join(DEFAULT_FILE),
        None => PathBuf::from(DEFAULT_FILE),
    }
}

/// The acknowledgements an audit of `scenario_file` uses: `explicit` (which must exist),
/// else [`default_path`] when that file exists, else none.
pub fn load_for(scenario_file: &Path, explicit: Option<&Path>) -> Result<Acks, Diagnostics> {
    match explicit {
        Some(path) => load_acks(path),
        None => {
            let path = default_path(scenario_file);
            // A missing default file means no acknowledgements; anything else that is
            // there (a directory, a dangling symlink) is reported by the loader.
            if std::fs::symlink_metadata(&path).is_err() {
                return Ok(Acks::default());
            }
            load_acks(&path)
        }
    }
}

/// Read and validate an acknowledgements file. `Ok` only when there is no error.
pub fn load_acks(path: &Path) -> Result<Acks, Diagnostics> {
    if std::fs::symlink_metadata(path).is_err() {
        return Err(Diagnostics(vec![file_error(
            path,
            format!(
                "cannot read the acknowledgements file {}: it does not exist",
                path.display()
            ),
            Some("check the path given with --acks (without it, acks.toml beside the scenario file is used when it exists)".into()),
        )]));
    }
    let src = read_source(path).map_err(|d| Diagnostics(vec![d]))?;
    match parse_acks(path, &src) {
        (Some(acks), _) => Ok(acks),
        (None, diags) => Err(diags),
    }
}

/// Validate the text of an acknowledgements file. `Some` only when there is no error.
pub fn parse_acks(path: &Path, src: &str) -> (Option<Acks>, Diagnostics) {
    let mut ck = Checker::new(path, src, None);
    let acks = ck.parse().map(|doc| check_file(&mut ck, path, &doc));
    let acks = acks.filter(|_| !ck.has_errors());
    (acks, ck.into_diagnostics())
}

fn check_file(ck: &mut Checker<'_>, path: &Path, doc: &Spanned<DeTable<'_>>) -> Acks {
    let root = ck.root(doc, TOP_KEYS);
    let tables = ck.tables_at(&root, "ack", ACK_KEYS);
    // (fingerprint, site) -> line of the first entry.
    let mut seen: HashMap<(String, Option<String>), usize> = HashMap::new();
    let mut entries = Vec::new();
    for t in &tables {
        if let Some(ack) = check_ack(ck, path, t, &mut seen) {
            entries.push(ack);
        }
    }
    Acks {
        path: Some(path.to_path_buf()),
        entries,
    }
}

fn check_ack(
    ck: &mut Checker<'_>,
    path: &Path,
    t: &Table<'_, '_>,
    seen: &mut HashMap<(String, Option<String>), usize>,
) -> Option<Ack> {
    let fingerprint = ck.req_string(t, "fingerprint", "\"v1-0123456789abcdef\"");
    let fingerprint = fingerprint.filter(|f| {
        let ok = is_fingerprint(f.get_ref());
        if !ok {
            ck.error(
                &f.span(),
                format!("invalid fingerprint {:?}", f.get_ref()),
                "a fingerprint is `v1-` and 16 lowercase hex digits, as in \"v1-0123456789abcdef\" (the `fingerprint` of a finding in the JSON report, or `consentry report RUN --format markdown`)",
            );
        }
        ok
    });
    let site = ck.opt_string(t, "site").filter(|s| {
        let ok = !s.get_ref().trim().is_empty();
        if !ok {
            ck.error(
                &s.span(),
                "`site` in [[ack]] is empty",
                "give the site's name (as in its scenario file's [site] name), or leave `site` out to match any site",
            );
        }
        ok
    });
    let reason = non_empty(ck, t, "reason", "\"accepted in the 2026 Q3 LIA review\"");
    let owner = non_empty(ck, t, "owner", "\"dpo@example.com\"");
    let code = ck.opt_string(t, "code").and_then(|c| {
        let code = Code::parse(c.get_ref());
        if code.is_none() {
            let codes: Vec<&str> = Code::all().map(Code::as_str).collect();
            ck.error(
                &c.span(),
                format!("unknown finding code `{}`", c.get_ref()),
                suggest(c.get_ref(), codes.iter().copied(), "finding codes"),
            );
        }
        code
    });
    let subject = ck.opt_string(t, "subject").map(Spanned::into_inner);
    let acknowledged = match t.get("acknowledged") {
        Some(v) => time(ck, v, "acknowledged", DayEdge::Start).map(|(t, span)| (Some(t), span)),
        None => Some((None, t.span.clone())),
    };
    let expires = match t.get("expires") {
        Some(v) => time(ck, v, "expires", DayEdge::End),
        None => {
            ck.missing(t, "expires", "\"2027-03-31\"");
            None
        }
    };
    if let (Some((Some(from), from_span)), Some((until, until_span))) = (&acknowledged, &expires) {
        if until < from {
            let line = ck.line(from_span);
            ck.error(
                until_span,
                format!(
                    "`expires` ({}) is before `acknowledged` ({}, line {line})",
                    super::show_time(*until),
                    super::show_time(*from)
                ),
                "an acknowledgement must end after it starts: fix one of the two dates",
            );
        }
    }
    if let Some(fp) = &fingerprint {
        let key = (
            fp.get_ref().clone(),
            site.as_ref().map(|s| s.get_ref().clone()),
        );
        let line = ck.line(&fp.span());
        match seen.get(&key) {
            Some(first) => {
                let for_site = match &key.1 {
                    Some(s) => format!(" for site {s:?}"),
                    None => String::new(),
                };
                ck.error(
                    &fp.span(),
                    format!(
                        "duplicate acknowledgement of `{}`{for_site} (first at line {first})",
                        key.0
                    ),
                    "one entry per finding and site: to renew an acknowledgement, edit its `expires` (and `reason`) instead of adding another",
                );
            }
            None => {
                seen.insert(key, line);
            }
        }
    }
    let header_line = ck.line(&t.span);
    Some(Ack {
        fingerprint: fingerprint?.into_inner(),
        site: site.map(Spanned::into_inner),
        reason: reason?,
        owner: owner?,
        expires: expires?.0,
        acknowledged: acknowledged?.0,
        code,
        subject,
        location: format!("{}:{header_line}", path.display()),
    })
}

/// `v1-` and 16 lowercase hex digits.
pub fn is_fingerprint(s: &str) -> bool {
    s.strip_prefix("v1-").is_some_and(|hex| {
        hex.len() == 16 && hex.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
    })
}

/// A required string that is not blank.
fn non_empty(ck: &mut Checker<'_>, t: &Table<'_, '_>, key: &str, example: &str) -> Option<String> {
    let s = ck.req_string(t, key, example)?;
    if s.get_ref().trim().is_empty() {
        ck.error(
            &s.span(),
            format!("`{key}` in [[ack]] is empty"),
            format!("an acknowledgement needs its {key}, as in `{key} = {example}`"),
        );
        return None;
    }
    Some(s.into_inner())
}

/// Which instant of a day a date alone means.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DayEdge {
    Start,
    End,
}

/// A date (`2027-03-31`, quoted or a TOML date) or an RFC 3339 time with an offset.
fn time(
    ck: &mut Checker<'_>,
    v: &Val<'_>,
    key: &str,
    edge: DayEdge,
) -> Option<(DateTime<Utc>, crate::toml_check::Span)> {
    let text = match v.get_ref() {
        toml::de::DeValue::String(s) => s.to_string(),
        toml::de::DeValue::Datetime(d) => d.to_string(),
        other => {
            ck.error(
                &v.span(),
                format!(
                    "`{key}` in [[ack]] must be a date or a time, found {}",
                    other.type_str()
                ),
                DATE_HINT,
            );
            return None;
        }
    };
    match parse_time(&text, edge) {
        Some(t) => Some((t, v.span())),
        None => {
            ck.error(
                &v.span(),
                format!("invalid date {text:?} for `{key}`"),
                DATE_HINT,
            );
            None
        }
    }
}

/// A date (its first or last instant in UTC) or an RFC 3339 time with an offset.
/// The year is four unsigned digits ([`crate::text::starts_with_iso_date`]).
pub fn parse_time(s: &str, edge: DayEdge) -> Option<DateTime<Utc>> {
    let s = s.trim();
    if !crate::text::starts_with_iso_date(s) {
        return None;
    }
    if let Ok(d) = NaiveDate::parse_from_str(s, "%Y-%m-%d") {
        let time = match edge {
            DayEdge::Start => NaiveTime::MIN,
            DayEdge::End => NaiveTime::from_hms_nano_opt(23, 59, 59, 999_999_999)?,
        };
        return Some(d.and_time(time).and_utc());
    }
    DateTime::parse_from_rfc3339(s)
        .ok()
        .map(|t| t.with_timezone(&Utc))
}

//! One section per vendor (legitimate-interest vendors first): its heading and facts in
//! words, the runs it fired unauthorized records in, the objection per run, its
//! retention issues and mismatches.

use super::{counts_line, date};
use crate::drift::{Mismatch, MismatchEvent, Objection, VendorRun, VendorSection};

/// The terminal and Markdown columns of a vendor's retention issues.
pub const RETENTION_COLUMNS: [&str; 8] = [
    "cookie",
    "declared",
    "observed",
    "over by",
    "runs over",
    "first",
    "last",
    "now",
];

/// The review page's columns of a vendor's retention issues.
pub const RETENTION_PAGE_COLUMNS: [&str; 7] = [
    "Cookie",
    "Declared",
    "Observed",
    "Over by",
    "Runs over / seen",
    "First / last over",
    "Now",
];

/// The terminal and Markdown columns of a vendor's mismatches.
pub const MISMATCH_COLUMNS: [&str; 8] = [
    "date", "run", "event", "severity", "code", "scenario", "evidence", "rule",
];

/// The review page's columns of a vendor's mismatches.
pub const MISMATCH_PAGE_COLUMNS: [&str; 5] = [
    "Event",
    "Run",
    "Finding",
    "Message and declared rule",
    "Evidence",
];

/// The review page's columns of a vendor's declared purposes.
pub const PURPOSE_PAGE_COLUMNS: [&str; 4] =
    ["Purpose", "Basis", "Strictly necessary", "TCF purpose"];

/// The review page's columns of a legitimate-interest vendor's runs.
pub const VENDOR_RUN_PAGE_COLUMNS: [&str; 7] = [
    "Run",
    "Requests",
    "Cookie writes",
    "Storage writes",
    "Unauthorized",
    "After objection",
    "Objection honoured",
];

/// The order the review page lists the objection's outcomes in (the failures first).
pub const OBJECTION_ORDER: [Objection; 5] = [
    Objection::NotHonoured,
    Objection::Unverified,
    Objection::Honoured,
    Objection::NotChecked,
    Objection::Absent,
];

/// One vendor's section.
pub struct VendorView<'a> {
    pub section: &'a VendorSection,
    /// `Vendor acme (Acme Ads), legitimate interest: ads (legitimate_interest)`.
    pub heading: String,
    /// The vendor's facts in lines of prose (terminal, Markdown).
    pub lines: Vec<String>,
    /// The runs in which the vendor fired records its declared basis did not allow.
    pub fired: Vec<&'a VendorRun>,
    /// Consecutive fired runs with the same count, together: `(run ids, count)`.
    pub fired_groups: Vec<(Vec<i64>, u32)>,
    /// The runs per outcome of the objection, in [`OBJECTION_ORDER`], outcomes with no
    /// run left out.
    pub objection_runs: Vec<(Objection, Vec<i64>)>,
    /// Cookies still over their declared retention in the latest run that set them.
    pub retention_still_over: usize,
    pub mismatches: Vec<MismatchRow<'a>>,
}

/// One mismatch event of a vendor.
pub struct MismatchRow<'a> {
    pub mismatch: &'a Mismatch,
    /// Resolved in a run whose policy changed (may be the declaration's doing).
    pub resolved_with_policy: bool,
    /// What the evidence points at: the request URL, else the cookie.
    pub target: Option<&'a str>,
    /// The evidence's detail and what is known of its host or cookie
    /// ([`crate::report::view::findings::detail_text`]).
    pub detail: Option<String>,
}

impl<'a> VendorView<'a> {
    pub(super) fn of(v: &'a VendorSection) -> VendorView<'a> {
        let fired: Vec<&VendorRun> = v.runs.iter().filter(|r| r.unauthorized > 0).collect();
        VendorView {
            section: v,
            heading: heading(v),
            lines: lines(v, &fired),
            fired_groups: fired_groups(&fired),
            fired,
            objection_runs: OBJECTION_ORDER
                .into_iter()
                .map(|o| {
                    let ids: Vec<i64> = v
                        .runs
                        .iter()
                        .filter(|x| x.objection == Some(o))
                        .map(|x| x.run_id)
                        .collect();
                    (o, ids)
                })
                .filter(|(_, ids)| !ids.is_empty())
                .collect(),
            retention_still_over: v.retention.iter().filter(|x| x.still_over).count(),
            mismatches: v
                .mismatches
                .iter()
                .map(|m| MismatchRow {
                    mismatch: m,
                    resolved_with_policy: m.map_changed && m.event == MismatchEvent::Resolved,
                    target: m
                        .evidence
                        .as_ref()
                        .and_then(|e| e.request_url.as_deref().or(e.cookie.as_deref())),
                    detail: m
                        .evidence
                        .as_ref()
                        .and_then(crate::report::view::findings::detail_text),
                })
                .collect(),
        }
    }
}

fn heading(v: &VendorSection) -> String {
    let name = v.name.as_deref().unwrap_or("not in the latest declaration");
    let purposes: Vec<String> = v
        .purposes
        .iter()
        .map(|p| format!("{} ({})", p.purpose, p.basis))
        .collect();
    format!(
        "Vendor {} ({name}){}: {}",
        v.vendor,
        if v.legitimate_interest {
            ", legitimate interest"
        } else {
            ""
        },
        if purposes.is_empty() {
            "no declared purposes".to_string()
        } else {
            purposes.join(", ")
        }
    )
}

/// The objection per run as one character: `+` honoured, `X` not, `?` unverified,
/// `.` absent, a space where not checked.
fn strip_char(o: Option<Objection>) -> char {
    match o {
        Some(Objection::Honoured) => '+',
        Some(Objection::NotHonoured) => 'X',
        Some(Objection::Unverified) => '?',
        Some(Objection::Absent) => '.',
        _ => ' ',
    }
}

fn lines(v: &VendorSection, fired: &[&VendorRun]) -> Vec<String> {
    let mut out = Vec::new();
    if let Some(rate) = &v.suppression {
        let strip: String = v.runs.iter().map(|r| strip_char(r.objection)).collect();
        out.push(format!(
            "Objection honoured (suppression compliance): {}; per run, oldest first: [{strip}] (+ yes, X NO, ? unverified, . absent)",
            rate.describe()
        ));
        let not: Vec<String> = v
            .runs
            .iter()
            .filter(|r| r.objection == Some(Objection::NotHonoured))
            .map(|r| {
                format!(
                    "#{} {} ({} after the objection)",
                    r.run_id,
                    date(&r.started_at),
                    r.objected
                )
            })
            .collect();
        if !not.is_empty() {
            out.push(format!(
                "Kept firing after the objection in: {}",
                not.join(", ")
            ));
        }
    }
    let fired_text: Vec<String> = fired
        .iter()
        .map(|r| format!("#{} {}", r.run_id, r.unauthorized))
        .collect();
    out.push(format!(
        "Unauthorized fires: {} in {} of {} run(s){}",
        v.unauthorized_fires,
        fired.len(),
        v.runs.len(),
        if fired_text.is_empty() || fired_text.len() > 12 {
            String::new()
        } else {
            format!(" ({})", fired_text.join(", "))
        }
    ));
    out.push(format!("Findings now: {}", counts_line(&v.findings)));
    for d in &v.declaration_history {
        out.push(format!(
            "Declaration changed in run #{} ({}): {}",
            d.run_id,
            date(&d.at),
            d.change
        ));
    }
    out
}

fn fired_groups(fired: &[&VendorRun]) -> Vec<(Vec<i64>, u32)> {
    let mut groups: Vec<(Vec<i64>, u32)> = Vec::new();
    for x in fired {
        match groups.last_mut() {
            Some((ids, n))
                if *n == x.unauthorized && ids.last().is_some_and(|l| l + 1 == x.run_id) =>
            {
                ids.push(x.run_id)
            }
            _ => groups.push((vec![x.run_id], x.unauthorized)),
        }
    }
    groups
}

//! The findings' lifecycles: one row per finding seen in the window, with its notes in
//! words.

use crate::drift::{DriftReport, Lifecycle, Status};

/// The terminal and Markdown columns of the findings table.
pub const LIFECYCLE_COLUMNS: [&str; 9] = [
    "status",
    "severity",
    "code",
    "scenario",
    "subject",
    "first seen",
    "last seen",
    "seen/checked",
    "note",
];

/// The review page's columns of the findings table.
pub const LIFECYCLE_PAGE_COLUMNS: [&str; 7] = [
    "#",
    "Now",
    "Finding",
    "Vendor",
    "First / last seen",
    "Seen / checked",
    "Note",
];

/// Said of a finding last resolved in a run whose policy changed.
pub const RESOLVED_WITH_POLICY: &str = "resolved in a run whose policy changed";

/// One finding over the window.
pub struct LifecycleRow<'a> {
    pub lifecycle: &'a Lifecycle,
    /// [`RESOLVED_WITH_POLICY`] when the finding was last resolved in a run whose
    /// policy changed (the resolution may be the declaration's doing).
    pub policy_note: Option<&'static str>,
    /// `ack active by dpo@shop.example until 2026-12-31`.
    pub ack_note: Option<String>,
    /// `found by the crawl on a new template /p/{slug}` when it last appeared (new or
    /// regressed) on a template the previous crawl plan did not hold.
    pub crawl_note: Option<String>,
    /// What the knowledge bases say of the finding's host or cookie, from the evidence of
    /// its latest occurrence ([`crate::knowledge::Known::describe`]: `known: Bing Ads,
    /// category ad, by pattern *.bing.com in third-party-web 0.30.0`). Apart from the
    /// declared vendor.
    pub known_note: Option<String>,
}

impl LifecycleRow<'_> {
    /// The notes, `; `-separated (empty when there is none).
    pub fn notes(&self) -> String {
        let notes: Vec<&str> = self
            .policy_note
            .into_iter()
            .chain(self.crawl_note.as_deref())
            .chain(self.ack_note.as_deref())
            .chain(self.known_note.as_deref())
            .collect();
        notes.join("; ")
    }
}

pub(super) fn lifecycles(r: &DriftReport) -> Vec<LifecycleRow<'_>> {
    r.lifecycles
        .iter()
        .map(|l| LifecycleRow {
            lifecycle: l,
            policy_note: l
                .timeline
                .last()
                .filter(|s| s.status == Status::Resolved && s.map_changed)
                .map(|_| RESOLVED_WITH_POLICY),
            crawl_note: l
                .timeline
                .iter()
                .rev()
                .find(|s| matches!(s.status, Status::New | Status::Regressed))
                .and_then(|s| s.new_template.as_deref())
                .map(|t| format!("found by the crawl on a new template {t}")),
            known_note: l
                .evidence
                .as_ref()
                .and_then(|e| e.known.as_ref())
                .map(crate::knowledge::Known::describe),
            ack_note: l.acknowledgement.as_ref().map(|a| {
                format!(
                    "ack {} by {} until {}",
                    a.status.as_str(),
                    a.owner,
                    super::date(&a.expires)
                )
            }),
        })
        .collect()
}

/// The terminal and Markdown columns of the grouped findings table.
pub const PROBLEM_COLUMNS: [&str; 9] = [
    "now",
    "severity",
    "code",
    "subject",
    "scenarios",
    "first seen",
    "last seen",
    "seen/checked",
    "note",
];

/// The review page's columns of the grouped findings table.
pub const PROBLEM_PAGE_COLUMNS: [&str; 7] = [
    "#",
    "Now",
    "Problem",
    "Vendor",
    "First / last seen",
    "Scenarios",
    "Note",
];

/// The findings of the window that share a code and a subject, as one problem: the
/// undeclared cookie seen in six scenarios is one row, not six.
pub struct DriftProblem<'a> {
    pub code: &'a str,
    pub subject: &'a str,
    /// The highest severity of its findings (as the pack words it).
    pub severity: &'a str,
    pub vendor: Option<&'a str>,
    /// Scenarios it was seen in, in the pack's order (empty: site-level).
    pub scenarios: Vec<&'a str>,
    /// `4 persisting, 2 resolved` (statuses in the latest run, most urgent first).
    pub now: String,
    /// The same as counts: `(status, how many of its findings)`, most urgent first.
    pub now_counts: Vec<(Status, usize)>,
    pub first_seen: chrono::DateTime<chrono::Utc>,
    pub last_seen: chrono::DateTime<chrono::Utc>,
    /// `runs seen/runs checked`, summed over its findings (`12/12`).
    pub seen_checked: String,
    /// The notes of its findings, distinct, `; `-separated.
    pub notes: String,
    /// Positions of its findings in [`super::DriftView::lifecycles`].
    pub rows: Vec<usize>,
}

impl DriftProblem<'_> {
    /// `6 scenarios` / `1 scenario` / `site-level`.
    pub fn scenarios_text(&self) -> String {
        match self.scenarios.len() {
            0 => crate::outcome::SITE_LEVEL.to_string(),
            1 => format!("1 scenario ({})", self.scenarios[0]),
            n => format!("{n} scenarios"),
        }
    }
}

fn severity_rank(s: &str) -> Option<crate::analysis::Severity> {
    crate::analysis::Severity::parse(s)
}

/// The lifecycles grouped by code and subject, in the order of their first lifecycle
/// (the pack's order: most urgent first).
pub(super) fn problems<'a>(rows: &[LifecycleRow<'a>]) -> Vec<DriftProblem<'a>> {
    let mut out: Vec<DriftProblem<'a>> = Vec::new();
    for (i, row) in rows.iter().enumerate() {
        let l: &'a Lifecycle = row.lifecycle;
        let at = match out
            .iter()
            .position(|p| p.code == l.code && p.subject == l.subject)
        {
            Some(at) => at,
            None => {
                out.push(DriftProblem {
                    code: &l.code,
                    subject: &l.subject,
                    severity: &l.severity,
                    vendor: None,
                    scenarios: Vec::new(),
                    now: String::new(),
                    now_counts: Vec::new(),
                    first_seen: l.first_seen,
                    last_seen: l.last_seen,
                    seen_checked: String::new(),
                    notes: String::new(),
                    rows: Vec::new(),
                });
                out.len() - 1
            }
        };
        let p = &mut out[at];
        if severity_rank(&l.severity) > severity_rank(p.severity) {
            p.severity = &l.severity;
        }
        if p.vendor.is_none() {
            p.vendor = l.vendor.as_deref();
        }
        match l.scenario.as_deref() {
            Some(s) if !p.scenarios.contains(&s) => p.scenarios.push(s),
            _ => {}
        }
        p.first_seen = p.first_seen.min(l.first_seen);
        p.last_seen = p.last_seen.max(l.last_seen);
        p.rows.push(i);
    }
    for p in &mut out {
        let group: Vec<&LifecycleRow> = p.rows.iter().filter_map(|&i| rows.get(i)).collect();
        let mut statuses: Vec<Status> = group.iter().map(|r| r.lifecycle.current).collect();
        statuses.sort();
        statuses.dedup_by_key(|s| *s);
        p.now_counts = statuses
            .iter()
            .map(|s| {
                (
                    *s,
                    group.iter().filter(|r| r.lifecycle.current == *s).count(),
                )
            })
            .collect();
        let now: Vec<String> = p
            .now_counts
            .iter()
            .map(|(s, n)| {
                if group.len() == 1 {
                    s.as_str().to_string()
                } else {
                    format!("{n} {}", s.as_str())
                }
            })
            .collect();
        p.now = now.join(", ");
        let seen: usize = group.iter().map(|r| r.lifecycle.runs_seen).sum();
        let checked: usize = group.iter().map(|r| r.lifecycle.runs_checked).sum();
        p.seen_checked = format!("{seen}/{checked}");
        let mut notes: Vec<String> = Vec::new();
        for r in &group {
            let n = r.notes();
            if !n.is_empty() && !notes.contains(&n) {
                notes.push(n);
            }
        }
        p.notes = notes.join("; ");
    }
    out
}

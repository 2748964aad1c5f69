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
}

impl LifecycleRow<'_> {
    /// The notes, `; `-separated (empty when there is none).
    pub fn notes(&self) -> String {
        let notes: Vec<&str> = self
            .policy_note
            .into_iter()
            .chain(self.crawl_note.as_deref())
            .chain(self.ack_note.as_deref())
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

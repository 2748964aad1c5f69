//! The declaration changes: the runs whose scenario file or policy changed, and what
//! changed.

use crate::drift::{DeclarationChange, DriftReport};

/// The terminal and Markdown columns of the declaration changes.
pub const DECLARATION_COLUMNS: [&str; 5] =
    ["date", "run", "changed", "what", "resolved in that run"];

/// The review page's columns of the declaration changes.
pub const DECLARATION_PAGE_COLUMNS: [&str; 4] =
    ["Run", "What changed", "Changes", "Resolved in that run"];

/// One run whose declaration changed.
pub struct DeclarationRow<'a> {
    pub change: &'a DeclarationChange,
    /// Which files changed: `scenario file`, `policy`, in that order.
    pub files: Vec<&'static str>,
}

impl DeclarationRow<'_> {
    /// The files that changed joined by `sep` (`-` when none did).
    pub fn files_text(&self, sep: &str) -> String {
        if self.files.is_empty() {
            "-".to_string()
        } else {
            self.files.join(sep)
        }
    }
}

pub(super) fn declarations(r: &DriftReport) -> Vec<DeclarationRow<'_>> {
    r.declaration_changes
        .iter()
        .map(|d| DeclarationRow {
            change: d,
            files: [
                d.scenario_changed.then_some("scenario file"),
                d.policy_changed.then_some("policy"),
            ]
            .into_iter()
            .flatten()
            .collect(),
        })
        .collect()
}

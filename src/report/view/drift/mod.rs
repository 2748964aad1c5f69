//! The drift pack's view model: the pack's sections built once, as typed data, from a
//! [`DriftReport`] (built by [`crate::drift::pack`]). The terminal table, Markdown and
//! the HTML review pack ([`crate::report::Layout::drift`]) only escape and arrange it.
//!
//! What the view computes (dates in words, counts lines, run references such as
//! `#3 (vs #2)`, what a declaration change touched, status notes) is computed here
//! once; the texts are *not* escaped. Where the two kinds of output word a section
//! differently (the terminal's short lower-case columns, the review page's fuller ones),
//! both column lists are data here, side by side.

mod acks;
mod declarations;
mod findings;
mod inventory;
mod summary;
mod vendors;

#[cfg(test)]
mod tests;

pub use acks::{AckRow, ACK_COLUMNS, ACK_PAGE_COLUMNS};
pub use declarations::{DeclarationRow, DECLARATION_COLUMNS, DECLARATION_PAGE_COLUMNS};
pub use findings::{
    DriftProblem, LifecycleRow, LIFECYCLE_COLUMNS, LIFECYCLE_PAGE_COLUMNS, PROBLEM_COLUMNS,
    PROBLEM_PAGE_COLUMNS, RESOLVED_WITH_POLICY,
};
pub use inventory::{
    inventory_page_columns, known_text, RunRow, INVENTORY_COLUMNS, RUN_PAGE_COLUMNS,
};
pub use summary::{Card, DriftSummary};
pub use vendors::{
    MismatchRow, VendorView, MISMATCH_COLUMNS, MISMATCH_PAGE_COLUMNS, OBJECTION_ORDER,
    PURPOSE_PAGE_COLUMNS, RETENTION_COLUMNS, RETENTION_PAGE_COLUMNS, VENDOR_RUN_PAGE_COLUMNS,
};

use crate::drift::DriftReport;

/// A whole drift pack, section by section.
pub struct DriftView<'a> {
    /// The pack itself, for what a layout reads as it is (the HTML timeline, the
    /// inventory changes).
    pub report: &'a DriftReport,
    pub summary: DriftSummary<'a>,
    /// One row per finding seen in the window, in the pack's order.
    pub lifecycles: Vec<LifecycleRow<'a>>,
    /// The lifecycles grouped by code and subject.
    pub problems: Vec<DriftProblem<'a>>,
    /// Lay out the problems (the default), else one row per finding (`--ungrouped`).
    pub grouped: bool,
    pub declarations: Vec<DeclarationRow<'a>>,
    /// One section per vendor, legitimate-interest vendors first.
    pub vendors: Vec<VendorView<'a>>,
    pub acks: Vec<AckRow<'a>>,
    /// One row per run of the window, oldest first.
    pub runs: Vec<RunRow<'a>>,
    /// The vendor × scenario matrix of the window's first and last run, side by side
    /// (one when the window holds one run; none without runs).
    pub matrices: Vec<RunMatrix>,
    /// Every undeclared host, cookie or finding subject of the pack that the knowledge
    /// bases know, once, in the pack's order (the inventory first, then the findings):
    /// `(item, what is known of it)`, the latter in [`crate::knowledge::Known::summary`]'s
    /// wording. For the terminal, whose table cells are too narrow for the whole line.
    pub known: Vec<(&'a str, String)>,
}

/// The matrix of one run of the pack, with the heading that says which.
pub struct RunMatrix {
    /// `first run: #12, 2026-09-02` / `last run: #101, 2026-11-30` / `the run: #1, …`.
    pub title: String,
    pub matrix: crate::report::view::Matrix,
}

impl RunMatrix {
    /// The marks any of `ms` shows, in the legend's order; empty when no matrix has a
    /// vendor (the section is then left out).
    pub fn legend(ms: &[RunMatrix]) -> Vec<crate::report::view::Mark> {
        crate::report::view::Mark::ALL
            .into_iter()
            .filter(|k| ms.iter().any(|m| m.matrix.used_marks().contains(k)))
            .collect()
    }

    /// The first and last run's matrices with the same rows in the same order: the
    /// first run's order (worst first), then the vendors only the last run has.
    fn of(r: &DriftReport) -> Vec<RunMatrix> {
        if !r.versus.is_empty() {
            return RunMatrix::of_vantages(r);
        }
        use crate::report::view::Matrix;
        let n = r.activity.len();
        let mut order: Vec<String> = Vec::new();
        for a in &r.activity {
            for row in Matrix::of_activity(a, &[]).rows {
                if !order.contains(&row.vendor) {
                    order.push(row.vendor);
                }
            }
        }
        r.activity
            .iter()
            .enumerate()
            .map(|(i, a)| RunMatrix {
                title: format!(
                    "{}: #{}, {}",
                    match (n, i) {
                        (1, _) => "the window's run",
                        (_, 0) => "first run",
                        _ => "last run",
                    },
                    a.run_id,
                    date(&a.started_at)
                ),
                matrix: {
                    let mut m = Matrix::of_activity(a, &order);
                    m.reorder(&order);
                    m
                },
            })
            .collect()
    }
}

impl<'a> DriftView<'a> {
    /// The view with the findings grouped into problems.
    pub fn of(r: &'a DriftReport) -> DriftView<'a> {
        DriftView::with(r, crate::report::Grouping::Problems)
    }

    pub fn with(r: &'a DriftReport, grouping: crate::report::Grouping) -> DriftView<'a> {
        let lifecycles = findings::lifecycles(r);
        DriftView {
            report: r,
            summary: DriftSummary::of(r),
            problems: findings::problems(&lifecycles),
            grouped: grouping == crate::report::Grouping::Problems,
            lifecycles,
            declarations: declarations::declarations(r),
            vendors: r.vendors.iter().map(VendorView::of).collect(),
            acks: acks::acks(r),
            runs: inventory::runs(r),
            matrices: RunMatrix::of(r),
            known: known_items(r),
        }
    }
}

/// [`DriftView::known`].
fn known_items(r: &DriftReport) -> Vec<(&str, String)> {
    let inventory = r
        .inventory
        .iter()
        .filter_map(|c| Some((c.item.as_str(), inventory::known_text(c)?.to_string())));
    let findings = r.lifecycles.iter().filter_map(|l| {
        let k = l.evidence.as_ref()?.known.as_ref()?;
        Some((l.subject.as_str(), k.summary()))
    });
    let mut out: Vec<(&str, String)> = Vec::new();
    for x in inventory.chain(findings) {
        if !out.contains(&x) {
            out.push(x);
        }
    }
    out
}

impl RunMatrix {
    /// `drift --vs-vantage`: each vantage's latest run of the window, side by side with
    /// the same rows (a vantage without a run there has no matrix).
    fn of_vantages(r: &DriftReport) -> Vec<RunMatrix> {
        use crate::report::view::Matrix;
        let sides: Vec<_> = r
            .versus
            .iter()
            .filter_map(|s| Some((s, s.activity.as_ref()?)))
            .collect();
        let mut order: Vec<String> = Vec::new();
        for (_, a) in &sides {
            for row in Matrix::of_activity(a, &[]).rows {
                if !order.contains(&row.vendor) {
                    order.push(row.vendor);
                }
            }
        }
        sides
            .into_iter()
            .map(|(s, a)| RunMatrix {
                title: format!(
                    "vantage {}, latest run: #{}, {}",
                    s.vantage,
                    a.run_id,
                    date(&a.started_at)
                ),
                matrix: {
                    let mut m = Matrix::of_activity(a, &order);
                    m.reorder(&order);
                    m
                },
            })
            .collect()
    }
}

/// `2026-10-01`.
pub fn date(t: &chrono::DateTime<chrono::Utc>) -> String {
    t.format("%Y-%m-%d").to_string()
}

/// `new, regressed, persisting, unverified, resolved` counts in words, with the
/// acknowledged ones when there are any.
pub fn counts_line(c: &crate::drift::StatusCounts) -> String {
    let mut s = format!(
        "{} new, {} regressed, {} persisting, {} unverified, {} resolved",
        c.new, c.regressed, c.persisting, c.unverified, c.resolved
    );
    if c.acknowledged > 0 {
        s.push_str(&format!(" ({} acknowledged)", c.acknowledged));
    }
    s
}

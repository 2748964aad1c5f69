//! The inventory drift (site-wide and per vendor) and the runs of the window: column
//! lists, and each run's observed scenarios and changes in words.

use crate::drift::{Coverage, DriftReport, RunRef};

/// The terminal and Markdown columns of an inventory table: `vendor` is the declared
/// map's, `known` the knowledge bases' say of an undeclared host or cookie
/// ([`known_text`]), never merged.
pub const INVENTORY_COLUMNS: [&str; 10] = [
    "date", "run", "scenario", "change", "kind", "item", "vendor", "before", "after", "known",
];

/// The review page's columns of an inventory table: `Vendor` and `Known` only where the
/// table is not already one vendor's (a declared vendor's items are known as its own).
pub fn inventory_page_columns(with_vendor: bool) -> Vec<&'static str> {
    let mut header = vec!["Run", "Scenario", "Kind", "Change", "Item"];
    if with_vendor {
        header.push("Vendor");
    }
    header.push("Before → after");
    if with_vendor {
        header.push("Known");
    }
    header
}

/// What is known of an inventory change's undeclared host or cookie, after a "known"
/// header ([`crate::knowledge::Known::summary`]'s wording: `Bing Ads, category ad, by
/// pattern *.bing.com in third-party-web 0.30.0`).
pub fn known_text(c: &crate::drift::InventoryChange) -> Option<&str> {
    c.known
        .as_deref()
        .map(|k| k.strip_prefix(crate::knowledge::LABEL).unwrap_or(k))
}

/// The review page's columns of the runs table.
pub const RUN_PAGE_COLUMNS: [&str; 7] = [
    "Run",
    "Started",
    "Status",
    "Scenarios observed",
    "Pages",
    "Findings (new / regressed / persisting / unverified / resolved)",
    "Changed",
];

/// One run of the window.
pub struct RunRow<'a> {
    pub run: &'a RunRef,
    pub complete: bool,
    /// How many of its scenarios were observed.
    pub observed: usize,
    /// The scenarios it did not observe.
    pub missing: Vec<&'a str>,
    /// `1 / 0 / 3 / 0 / 2`: new, regressed, persisting, unverified, resolved.
    pub counts: String,
    /// What changed in the run: `declaration`, `crawl`, `behaviour`, `,`-separated.
    pub changed: String,
    /// The page coverage in words (`12 pages, 5 templates (of 230 pages, 9 templates
    /// found); new: /p/{slug}`), empty without a crawl plan.
    pub pages: String,
}

pub(super) fn runs(r: &DriftReport) -> Vec<RunRow<'_>> {
    r.runs
        .iter()
        .map(|x| RunRow {
            run: x,
            complete: x.status == "complete",
            observed: x.scenarios.iter().filter(|s| s.observed).count(),
            missing: x
                .scenarios
                .iter()
                .filter(|s| !s.observed)
                .map(|s| s.id.as_str())
                .collect(),
            counts: format!(
                "{} / {} / {} / {} / {}",
                x.counts.new,
                x.counts.regressed,
                x.counts.persisting,
                x.counts.unverified,
                x.counts.resolved
            ),
            changed: [
                x.declaration_changed.then_some("declaration"),
                x.crawl_changed.then_some("crawl"),
                x.behaviour_changed.then_some("behaviour"),
            ]
            .into_iter()
            .flatten()
            .collect::<Vec<_>>()
            .join(", "),
            pages: x.coverage.as_ref().map(coverage_text).unwrap_or_default(),
        })
        .collect()
}

/// A run's page coverage in words.
pub fn coverage_text(c: &Coverage) -> String {
    let mut out = format!(
        "{} pages, {} templates (of {} pages, {} templates found)",
        c.pages, c.templates, c.candidates, c.templates_found
    );
    if !c.new_templates.is_empty() {
        out.push_str(&format!("; new: {}", c.new_templates.join(", ")));
    }
    if !c.gone_templates.is_empty() {
        out.push_str(&format!("; gone: {}", c.gone_templates.join(", ")));
    }
    if let Some(why) = &c.stopped {
        out.push_str(&format!("; discovery stopped early: {why}"));
    }
    out
}

//! The drift pack: a site's history (and its acknowledgements) in, a [`DriftReport`]
//! out. Pure and deterministic; docs/drift.md describes each rule.
//!
//! The history may start with *context* runs before the window (the store hands the
//! last complete run before `since`): they set the baseline, so a finding that was
//! already there is `persisting`, not `new`, and an inventory is compared against the
//! night before the window. Context runs are never counted or listed.
//!
//! [`build`] only orders the section builders, each in its own file: the findings'
//! lifecycles ([`findings`]), the runs with their declaration changes ([`runs`], the
//! map's diff in [`declarations`]), one section per vendor ([`vendors`], with its
//! [`retention`] and [`mismatches`]), the acknowledgements ([`acks`]), the first
//! screen ([`summary`]) and the first and last run's activity for the matrix
//! ([`activity`]).

mod acks;
mod activity;
mod declarations;
mod findings;
mod mismatches;
mod retention;
mod runs;
mod summary;
mod vendors;

use super::coverage::Coverages;
use super::inventory::changes;
use super::model::{DriftReport, InventoryChange, DRIFT_SCHEMA_VERSION};
use crate::store::RunHistory;
use chrono::{DateTime, Utc};
use std::collections::BTreeSet;

/// An acknowledgement, as the pack needs it (see `crate::ack` for the file).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AckInput {
    pub fingerprint: String,
    /// `None`: every site.
    pub site: Option<String>,
    pub owner: String,
    pub reason: String,
    /// From when it applies (`None`: always).
    pub acknowledged: Option<DateTime<Utc>>,
    /// It applies up to and including this instant (a date in the file is the end of
    /// that day, UTC).
    pub expires: DateTime<Utc>,
    pub location: Option<String>,
}

impl AckInput {
    fn applies_at(&self, t: DateTime<Utc>) -> bool {
        self.acknowledged.is_none_or(|a| a <= t) && t <= self.expires
    }
}

/// What the pack is built from.
pub struct PackInput<'a> {
    pub site: &'a str,
    pub since: DateTime<Utc>,
    pub until: DateTime<Utc>,
    /// Oldest first; runs before `since` are context only.
    pub history: &'a [RunHistory],
    pub acks: &'a [AckInput],
    /// Consecutive absences before an intermittent finding is resolved
    /// ([`crate::drift::lifecycle::DEFAULT_RESOLVE_AFTER`], `drift --resolve-after`).
    pub resolve_after: u32,
    /// The vantage `history` is of (the store reads one vantage's runs).
    pub vantage: &'a str,
    /// `drift --vs-vantage`: the other vantage, and its history in the window (its
    /// latest run is set beside this vantage's).
    pub versus: Option<(&'a str, &'a [RunHistory])>,
}

/// What every section builder reads: the input, the runs of the window and the
/// acknowledgements that concern the site.
struct Window<'a> {
    input: &'a PackInput<'a>,
    /// The history's runs that started in the window, oldest first.
    runs: Vec<&'a RunHistory>,
    ids: BTreeSet<i64>,
    acks: Vec<&'a AckInput>,
    /// Page coverage of each run with a crawl plan, context runs included.
    coverages: Coverages,
}

impl<'a> Window<'a> {
    fn new(input: &'a PackInput<'a>) -> Window<'a> {
        let runs: Vec<&RunHistory> = input
            .history
            .iter()
            .filter(|h| h.run.started_at >= input.since && h.run.started_at < input.until)
            .collect();
        let ids = runs.iter().map(|h| h.run.id).collect();
        let acks = input
            .acks
            .iter()
            .filter(|a| a.site.as_deref().is_none_or(|s| s == input.site))
            .collect();
        Window {
            input,
            runs,
            ids,
            acks,
            coverages: Coverages::of(input.history),
        }
    }

    /// The whole history, context runs included.
    fn history(&self) -> &'a [RunHistory] {
        self.input.history
    }
}

/// Builds the pack.
pub fn build(input: &PackInput) -> DriftReport {
    let w = Window::new(input);
    let lifecycles = findings::lifecycles(&w);
    let inventory: Vec<InventoryChange> = changes(w.history())
        .into_iter()
        .filter(|c| w.ids.contains(&c.run_id))
        .collect();
    let mut runs = runs::runs(&w, &lifecycles, &inventory);
    let vendors = vendors::vendors(&w, &lifecycles, &inventory, &mut runs.vendor_declarations);
    let acknowledgements = acks::acknowledgements(&w, &lifecycles);
    let summary = summary::summary(summary::Parts {
        window: &w,
        lifecycles: &lifecycles,
        vendors: &vendors,
        inventory: &inventory,
        declaration_changes: &runs.declaration_changes,
        acknowledgements: &acknowledgements,
    });
    DriftReport {
        schema_version: DRIFT_SCHEMA_VERSION,
        site: input.site.to_string(),
        since: input.since,
        until: input.until,
        summary,
        runs: runs.runs,
        declaration_changes: runs.declaration_changes,
        lifecycles,
        inventory,
        vendors,
        acknowledgements,
        activity: activity::activity(&w),
        vantage: input.vantage.to_string(),
        versus: activity::versus(&w),
    }
}

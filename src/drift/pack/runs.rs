//! The runs of the window, each with its counts and whether the declaration or the
//! site's behaviour changed in it, and the declaration changes between runs.

use super::declarations::declaration_diff;
use super::Window;
use crate::drift::lifecycle::{Lifecycle, Status};
use crate::drift::model::{
    DeclarationChange, DeclarationEvent, InventoryChange, RunRef, ScenarioRef, StatusCounts,
};
use crate::store::RunHistory;
use std::collections::BTreeMap;

/// What [`runs`] builds.
pub(super) struct Runs {
    pub runs: Vec<RunRef>,
    pub declaration_changes: Vec<DeclarationChange>,
    /// Per vendor, the changes of its declaration in the window.
    pub vendor_declarations: BTreeMap<String, Vec<DeclarationEvent>>,
}

/// Each run of the window against the run before it (a context run for the first).
pub(super) fn runs(w: &Window, lcs: &[Lifecycle], inventory: &[InventoryChange]) -> Runs {
    let mut out = Runs {
        runs: Vec::new(),
        declaration_changes: Vec::new(),
        vendor_declarations: BTreeMap::new(),
    };
    let mut prev: Option<&RunHistory> = None;
    for h in w.history() {
        if w.ids.contains(&h.run.id) {
            let (counts, transitions, resolved_in_run) = run_counts(h, lcs);
            let behaviour = transitions || inventory.iter().any(|c| c.run_id == h.run.id);
            let coverage = w.coverages.get(h.run.id).cloned();
            let (scenario_changed, policy_changed) = match prev {
                Some(p) => (
                    p.run.scenario_digest != h.run.scenario_digest,
                    p.run.policy_digest != h.run.policy_digest,
                ),
                None => (false, false),
            };
            if let Some(p) = prev.filter(|_| scenario_changed || policy_changed) {
                let changes = declaration_lines(p, h, &mut out.vendor_declarations);
                out.declaration_changes.push(DeclarationChange {
                    run_id: h.run.id,
                    at: h.run.started_at,
                    previous_run: p.run.id,
                    scenario_changed,
                    policy_changed,
                    changes,
                    resolved_in_run,
                });
            }
            // The first run of the history is the baseline: nothing to change from.
            let behaviour = behaviour && prev.is_some();
            let mut r = run_ref(h, counts, scenario_changed || policy_changed, behaviour);
            r.crawl_changed = coverage
                .as_ref()
                .is_some_and(|c| !c.new_templates.is_empty() || !c.gone_templates.is_empty());
            r.coverage = coverage;
            out.runs.push(r);
        }
        prev = Some(h);
    }
    out
}

/// The run's findings by their status in it; whether one of them was new, regressed
/// or resolved in it (a finding new on a template the crawl had not planned before is
/// the crawl's finding, not a change of behaviour: docs/drift.md#page-coverage); and
/// how many were resolved in it. A first in-window resolution
/// is kept only when the finding was open just before the window.
fn run_counts(h: &RunHistory, lcs: &[Lifecycle]) -> (StatusCounts, bool, u32) {
    let mut counts = StatusCounts::default();
    let mut transitions = false;
    let mut resolved_in_run = 0;
    for l in lcs {
        if let Some(i) = l.timeline.iter().position(|s| s.run_id == h.run.id) {
            let s = &l.timeline[i];
            counts.add(s.status, s.acknowledged);
            transitions |= match s.status {
                Status::New | Status::Regressed => s.new_template.is_none(),
                Status::Resolved => {
                    let was = i == 0 || l.timeline[i - 1].status != Status::Resolved;
                    if was {
                        resolved_in_run += 1;
                    }
                    was
                }
                _ => false,
            };
        }
    }
    (counts, transitions, resolved_in_run)
}

/// The lines of the declared map's change from `p` to `h` (`vendor hotjar: analytics:
/// legitimate_interest -> consent`), each also recorded as an event of its vendor.
/// None when either run predates the declarations snapshot.
fn declaration_lines(
    p: &RunHistory,
    h: &RunHistory,
    events: &mut BTreeMap<String, Vec<DeclarationEvent>>,
) -> Vec<String> {
    let mut lines = Vec::new();
    if p.declarations.is_empty() || h.declarations.is_empty() {
        return lines;
    }
    for (vendor, ls) in declaration_diff(&p.declarations, &h.declarations) {
        for line in ls {
            lines.push(format!("vendor {vendor}: {line}"));
            events
                .entry(vendor.clone())
                .or_default()
                .push(DeclarationEvent {
                    run_id: h.run.id,
                    at: h.run.started_at,
                    change: line,
                });
        }
    }
    lines
}

fn run_ref(
    h: &RunHistory,
    counts: StatusCounts,
    declaration_changed: bool,
    behaviour_changed: bool,
) -> RunRef {
    let (status, reason) = match &h.run.status {
        crate::model::RunStatus::Complete => ("complete", None),
        crate::model::RunStatus::Running => ("running", None),
        crate::model::RunStatus::Incomplete(r) => ("incomplete", Some(r.clone())),
        crate::model::RunStatus::Interrupted(r) => ("interrupted", Some(r.clone())),
    };
    RunRef {
        id: h.run.id,
        started_at: h.run.started_at,
        status: status.to_string(),
        status_reason: reason,
        scenarios: h
            .visits
            .iter()
            .map(|v| ScenarioRef {
                id: v.scenario.clone(),
                observed: v.observed,
                li_objected: v.li_objected,
            })
            .collect(),
        scenario_digest: h.run.scenario_digest.clone(),
        policy_digest: h.run.policy_digest.clone(),
        declaration_changed,
        behaviour_changed,
        counts,
        coverage: None,
        crawl_changed: false,
    }
}

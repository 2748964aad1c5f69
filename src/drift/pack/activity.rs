//! The window's first and last run as the vendor × scenario matrix reads them: each
//! scenario observed or not with its active declared vendors, and the findings that name
//! a vendor. The report's view turns them into the same matrix as a run report's.

use super::Window;
use crate::drift::model::{RunActivity, ScenarioActivity};
use crate::store::RunHistory;

/// The first and the last run of the window (one when the window holds one run).
pub(super) fn activity(w: &Window) -> Vec<RunActivity> {
    let (Some(first), Some(last)) = (w.runs.first(), w.runs.last()) else {
        return Vec::new();
    };
    if first.run.id == last.run.id {
        vec![of_run(first)]
    } else {
        vec![of_run(first), of_run(last)]
    }
}

/// `drift --vs-vantage`: the latest run of the window of this vantage and of the other
/// one, side by side (empty without `--vs-vantage`).
pub(super) fn versus(w: &Window) -> Vec<crate::drift::model::VantageSide> {
    use crate::drift::model::VantageSide;
    let Some((other, history)) = w.input.versus else {
        return Vec::new();
    };
    let in_window =
        |h: &&RunHistory| h.run.started_at >= w.input.since && h.run.started_at < w.input.until;
    let side = |vantage: &str, last: Option<&RunHistory>| VantageSide {
        vantage: vantage.to_string(),
        run_id: last.map(|h| h.run.id),
        started_at: last.map(|h| h.run.started_at),
        activity: last.map(of_run),
    };
    vec![
        side(w.input.vantage, w.runs.last().copied()),
        side(other, history.iter().rfind(in_window)),
    ]
}

fn of_run(h: &RunHistory) -> RunActivity {
    RunActivity {
        run_id: h.run.id,
        started_at: h.run.started_at,
        scenarios: h
            .visits
            .iter()
            .map(|v| ScenarioActivity {
                scenario: v.scenario.clone(),
                observed: v.observed,
                vendors: v
                    .inventory
                    .as_ref()
                    .map(|i| i.vendors.clone())
                    .unwrap_or_default(),
            })
            .collect(),
        findings: h
            .findings
            .iter()
            .filter_map(|f| f.vendor.clone().map(|v| (v, f.scenario.clone(), f.code)))
            .collect(),
    }
}

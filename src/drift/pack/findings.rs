//! The findings of the window: each finding's lifecycle over the history, trimmed to
//! the window, each step marked acknowledged or not.

use super::acks::acknowledge;
use super::Window;
use crate::drift::lifecycle::{lifecycles_in, Lifecycle, Status};

/// Every lifecycle with something in the window, acknowledged per step.
pub(super) fn lifecycles(w: &Window) -> Vec<Lifecycle> {
    let mut lcs: Vec<Lifecycle> = lifecycles_in(w.history(), &w.coverages, w.input.resolve_after)
        .into_iter()
        .filter_map(|l| windowed(w, l))
        .collect();
    for l in &mut lcs {
        acknowledge(w, l);
    }
    lcs
}

/// Trims a lifecycle to the window; `None` when nothing of it happened there (it was
/// resolved before the window and stayed so).
fn windowed(w: &Window, mut l: Lifecycle) -> Option<Lifecycle> {
    let input = w.input;
    let before = l
        .timeline
        .iter()
        .take_while(|s| s.started_at < input.since)
        .count();
    let was_open_before = l.timeline[..before]
        .last()
        .is_some_and(|s| s.status != Status::Resolved);
    l.timeline.drain(..before);
    l.timeline.retain(|s| s.started_at < input.until);
    let first = l.timeline.first()?;
    if l.timeline.iter().all(|s| s.status == Status::Resolved)
        && !(was_open_before && first.status == Status::Resolved)
    {
        return None;
    }
    l.runs_seen = l
        .timeline
        .iter()
        .filter(|s| {
            matches!(
                s.status,
                Status::New | Status::Persisting | Status::Regressed
            )
        })
        .count();
    l.runs_checked = l.timeline.iter().filter(|s| s.checked).count();
    l.current = l.timeline.last().map(|s| s.status).unwrap_or(l.current);
    Some(l)
}

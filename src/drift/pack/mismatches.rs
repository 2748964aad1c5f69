//! A vendor's mismatches: each event of its findings' lifecycles (opened, regressed,
//! resolved, acknowledged, reopened) with the message, rule and evidence of the run
//! that last showed the finding.

use crate::drift::lifecycle::{Lifecycle, Status, Step};
use crate::drift::model::{Mismatch, MismatchEvent};
use crate::store::{FindingSeen, RunHistory};
use std::collections::HashMap;

/// Each finding as stored per run, by `(run, fingerprint)`.
pub(super) struct Evidence<'a>(HashMap<(i64, &'a str), &'a FindingSeen>);

impl<'a> Evidence<'a> {
    pub(super) fn of(history: &'a [RunHistory]) -> Evidence<'a> {
        let mut map = HashMap::new();
        for h in history {
            for f in &h.findings {
                map.entry((h.run.id, f.fingerprint.as_str())).or_insert(f);
            }
        }
        Evidence(map)
    }
}

/// The events of the vendor's findings, in time order.
pub(super) fn mismatches(lcs: &[Lifecycle], vid: &str, evidence: &Evidence) -> Vec<Mismatch> {
    let mut out = Vec::new();
    for l in lcs.iter().filter(|l| l.vendor.as_deref() == Some(vid)) {
        lifecycle_events(l, evidence, &mut out);
    }
    out.sort_by(|a, b| {
        a.at.cmp(&b.at)
            .then_with(|| a.event.cmp(&b.event))
            .then_with(|| a.code.cmp(&b.code))
            .then_with(|| a.subject.cmp(&b.subject))
    });
    out
}

/// What happened at step `s` after `prev`.
fn events(s: &Step, prev: Option<&Step>) -> Vec<MismatchEvent> {
    let mut events = Vec::new();
    match s.status {
        Status::New => events.push(MismatchEvent::Opened),
        Status::Regressed => events.push(MismatchEvent::Regressed),
        Status::Resolved if prev.is_none_or(|p| p.status != Status::Resolved) => {
            events.push(MismatchEvent::Resolved)
        }
        _ => {}
    }
    let open = s.status != Status::Resolved;
    if s.acknowledged && prev.is_none_or(|p| !p.acknowledged) {
        events.push(MismatchEvent::Acknowledged);
    }
    if !s.acknowledged && open && prev.is_some_and(|p| p.acknowledged) {
        events.push(MismatchEvent::Reopened);
    }
    events
}

fn lifecycle_events(l: &Lifecycle, evidence: &Evidence, out: &mut Vec<Mismatch>) {
    let mut prev_step: Option<&Step> = None;
    let mut last_present_run: Option<i64> = None;
    for s in &l.timeline {
        let present = matches!(
            s.status,
            Status::New | Status::Persisting | Status::Regressed
        );
        let source_run = if present {
            Some(s.run_id)
        } else {
            last_present_run
        };
        let seen = source_run.and_then(|r| evidence.0.get(&(r, l.fingerprint.as_str())));
        for event in events(s, prev_step) {
            out.push(Mismatch {
                fingerprint: l.fingerprint.clone(),
                code: l.code.clone(),
                severity: l.severity.clone(),
                scenario: l.scenario.clone(),
                subject: l.subject.clone(),
                event,
                run_id: s.run_id,
                at: s.started_at,
                message: seen
                    .map(|f| f.message.clone())
                    .unwrap_or_else(|| l.message.clone()),
                rule: seen
                    .map(|f| f.rule.clone())
                    .unwrap_or_else(|| l.rule.clone()),
                evidence: seen.and_then(|f| f.evidence.clone()),
                map_changed: s.map_changed,
            });
        }
        if present {
            last_present_run = Some(s.run_id);
        }
        prev_step = Some(s);
    }
}

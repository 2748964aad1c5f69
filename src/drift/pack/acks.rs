//! Acknowledgements: which steps of a finding one covers, and what became of each
//! acknowledgement of the site over the window.

use super::{AckInput, Window};
use crate::drift::lifecycle::Lifecycle;
use crate::drift::model::{AckStatus, AckView};

fn ack_view(a: &AckInput, status: AckStatus, matched: u32) -> AckView {
    AckView {
        fingerprint: a.fingerprint.clone(),
        owner: a.owner.clone(),
        reason: a.reason.clone(),
        acknowledged: a.acknowledged,
        expires: a.expires,
        status,
        location: a.location.clone(),
        matched,
    }
}

/// Marks each step of `l` acknowledged when one of its acknowledgements applied then,
/// and sets the acknowledgement in force at its last step (else the latest that
/// expired in the window).
pub(super) fn acknowledge(w: &Window, l: &mut Lifecycle) {
    let mine: Vec<&&AckInput> = w
        .acks
        .iter()
        .filter(|a| a.fingerprint == l.fingerprint)
        .collect();
    for s in &mut l.timeline {
        s.acknowledged = mine.iter().any(|a| a.applies_at(s.started_at));
    }
    let end = l.timeline.last().map(|s| s.started_at);
    l.acknowledgement = end.and_then(|t| {
        mine.iter()
            .find(|a| a.applies_at(t))
            .map(|a| ack_view(a, AckStatus::Active, 1))
            .or_else(|| {
                mine.iter()
                    .filter(|a| a.expires < w.input.until)
                    .max_by_key(|a| a.expires)
                    .map(|a| ack_view(a, AckStatus::Expired, 1))
            })
    });
}

/// The site's acknowledgements, each with its status over the window and how many
/// findings it matched.
pub(super) fn acknowledgements(w: &Window, lcs: &[Lifecycle]) -> Vec<AckView> {
    let until = w.input.until;
    w.acks
        .iter()
        .map(|a| {
            let matched = lcs
                .iter()
                .filter(|l| l.fingerprint == a.fingerprint)
                .count();
            let matched = u32::try_from(matched).unwrap_or(u32::MAX);
            let status = if a.expires < until {
                AckStatus::Expired
            } else if a.acknowledged.is_some_and(|t| t >= until) {
                AckStatus::Pending
            } else if matched == 0 {
                AckStatus::Unused
            } else {
                AckStatus::Active
            };
            ack_view(a, status, matched)
        })
        .collect()
}

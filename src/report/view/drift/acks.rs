//! The acknowledgements of the site, each with the finding it matches in the window.

use crate::drift::{AckView, DriftReport};
use std::collections::HashMap;

/// The terminal and Markdown columns of the acknowledgements.
pub const ACK_COLUMNS: [&str; 6] = [
    "status",
    "fingerprint",
    "owner",
    "expires",
    "reason",
    "where",
];

/// The review page's columns of the acknowledgements.
pub const ACK_PAGE_COLUMNS: [&str; 7] = [
    "Status",
    "Finding",
    "Owner",
    "Reason",
    "Acknowledged",
    "Expires",
    "Entry",
];

/// One acknowledgement.
pub struct AckRow<'a> {
    pub ack: &'a AckView,
    /// The finding it matches: its position in the pack's findings and its code.
    pub finding: Option<(usize, &'a str)>,
}

pub(super) fn acks(r: &DriftReport) -> Vec<AckRow<'_>> {
    let index: HashMap<&str, usize> = r
        .lifecycles
        .iter()
        .enumerate()
        .map(|(i, l)| (l.fingerprint.as_str(), i))
        .collect();
    r.acknowledgements
        .iter()
        .map(|a| AckRow {
            ack: a,
            finding: index
                .get(a.fingerprint.as_str())
                .and_then(|&i| r.lifecycles.get(i).map(|l| (i, l.code.as_str()))),
        })
        .collect()
}

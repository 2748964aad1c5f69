//! Global Privacy Control: what the visit sent and what the site's
//! `/.well-known/gpc.json` says (read by `crate::signals::gpc`, never here).

use serde::{Deserialize, Serialize};

/// At most this many URLs of requests without the header are kept.
pub const MAX_LISTED: usize = 5;

/// A GPC signal: sent by the visit, or the site's `/.well-known/gpc.json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "signal")]
pub enum GpcSignal {
    Sent(GpcSent),
    WellKnown(GpcWellKnown),
}

/// What a GPC visit sent.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct GpcSent {
    /// How it was switched on (the Chromium features).
    pub mechanism: String,
    /// Web requests the browser-wide interception saw.
    pub requests: u32,
    /// Of those, how many carried `Sec-GPC: 1`.
    pub with_header: u32,
    /// Some of the requests without it (at most [`MAX_LISTED`]).
    pub without_header: Vec<String>,
    /// `navigator.globalPrivacyControl` as read in each document.
    pub navigator: Vec<NavigatorGpc>,
}

/// `navigator.globalPrivacyControl` in one document or worker.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NavigatorGpc {
    /// `document` (the only context read today; workers are proven by the header).
    pub context: String,
    pub url: String,
    /// What it evaluated to, as JavaScript prints it (`true`, `false`, `undefined`).
    pub value: String,
}

impl GpcSent {
    /// Every request seen carried the header (and at least one was seen).
    pub fn header_on_every_request(&self) -> bool {
        self.requests > 0 && self.with_header == self.requests
    }

    /// Contexts where `navigator.globalPrivacyControl` was `true`, and how many were read.
    pub fn navigator_true(&self) -> (usize, usize) {
        let yes = self.navigator.iter().filter(|n| n.value == "true").count();
        (yes, self.navigator.len())
    }

    /// One line for evidence: what was sent, as observed.
    pub fn evidence(&self) -> String {
        let (yes, read) = self.navigator_true();
        format!(
            "Sec-GPC: 1 sent on {} of {} requests; navigator.globalPrivacyControl true in {yes} of {read} documents",
            self.with_header, self.requests
        )
    }
}

/// The site's `/.well-known/gpc.json`, as fetched.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GpcWellKnown {
    pub url: String,
    /// HTTP status, when a response arrived.
    pub status: Option<u16>,
    pub outcome: WellKnownOutcome,
}

/// What the resource said.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "outcome")]
pub enum WellKnownOutcome {
    /// A JSON object with a boolean `gpc`.
    Present {
        gpc: bool,
        /// `lastUpdate`, when given (an ISO 8601 date).
        last_update: Option<String>,
    },
    /// Not there (a status other than 2xx).
    Absent,
    /// There but not what the specification asks for.
    Malformed { error: String },
    /// The fetch itself failed (network error, the page could not run it).
    Unreachable { error: String },
}

impl GpcSignal {
    pub fn summary(&self) -> String {
        match self {
            GpcSignal::Sent(s) => format!("GPC sent: {}", s.evidence()),
            GpcSignal::WellKnown(w) => {
                let status = w
                    .status
                    .map(|s| format!("HTTP {s}"))
                    .unwrap_or_else(|| "no response".into());
                match &w.outcome {
                    WellKnownOutcome::Present { gpc, last_update } => format!(
                        "gpc.json: gpc = {gpc}, lastUpdate = {} ({status})",
                        last_update.as_deref().unwrap_or("not given")
                    ),
                    WellKnownOutcome::Absent => format!("gpc.json: absent ({status})"),
                    WellKnownOutcome::Malformed { error } => {
                        format!("gpc.json: malformed ({status}): {error}")
                    }
                    WellKnownOutcome::Unreachable { error } => {
                        format!("gpc.json: not fetched: {error}")
                    }
                }
            }
        }
    }
}

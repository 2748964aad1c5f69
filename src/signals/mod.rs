//! Consent signals: what the page tells vendors about the visitor's choice, decoded at
//! capture time and kept with the visit (`visit_signals`, docs/storage.md).
//!
//! Four kinds, one module each:
//! - [`tcf`]: IAB TCF v2 TC strings, from `__tcfapi('getTCData')` in the page, from the
//!   CMP's cookie (`euconsent-v2`) and from vendor requests (`gdpr_consent` / `gdpr`).
//! - [`gcm`]: Google Consent Mode v2 (`gcs`, `gcd`, `dma`, `npa`, `gcu` on Google requests).
//! - [`gpc`]: Global Privacy Control (what the visit sent, and the site's
//!   `/.well-known/gpc.json`).
//! - [`gpp`]: IAB GPP strings (`__gpp`, `gpp` / `gpp_sid` on requests) and US Privacy
//!   strings (`__uspapi`, the `usprivacy` cookie, `us_privacy` on requests).
//!
//! Every decoder here reads what a page supplies, so none may bring the audit down: each
//! bounds its input length (a documented limit beside its code) and runs any library it
//! calls inside [`contain::contained`], so what cannot be decoded is recorded as such,
//! with the reason.
//!
//! A signal is an observation like a request: it says when, on which page, in which
//! consent phase, from which source, and what it decoded to. Analysis compares signals
//! with what the CMP recorded and with what vendors did; it never trusts them.

pub mod contain;
pub mod gcm;
pub mod gpc;
pub mod gpp;
pub mod tcf;

use crate::model::{RequestObs, ValueHasher};
use serde::{Deserialize, Serialize};

pub use crate::model::{SignalData, SignalObs, SignalSource};

/// Adds the signals carried by the visit's request URLs to those read in the page, and
/// puts them all in time order. TC strings are hashed with `hasher` (the key of the
/// database the visit is written to).
pub fn add_request_signals(obs: &mut crate::model::VisitObservation, hasher: &ValueHasher) {
    let derived = from_requests(&obs.requests, hasher);
    obs.signals.extend(derived);
    obs.signals.sort_by_key(|s| s.time);
}

/// The signals carried by request URLs (TC strings in `gdpr_consent`, Consent Mode
/// parameters, GPP strings in `gpp`, US Privacy strings in `us_privacy`), derived from the captured requests. Pure: the pipeline calls it once per
/// visit, before the visit is judged and stored.
pub fn from_requests(requests: &[RequestObs], hasher: &ValueHasher) -> Vec<SignalObs> {
    let mut out = Vec::new();
    for r in requests {
        out.extend(tcf::from_request(r, hasher));
        out.extend(gcm::from_request(r));
        out.extend(gpp::from_request(r, hasher));
    }
    out
}

/// One line of the per-scenario signal view: what one source said in one phase.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignalLine {
    /// `before-choice`, `after-reject_all`, ...
    pub phase: String,
    /// `tcf`, `consent_mode`, `gpc`, `gpp`.
    pub kind: String,
    /// Where: `__tcfapi getTCData`, `cookie euconsent-v2@…`, `vendor requests`, ...
    pub source: String,
    /// Signals of this source in this phase.
    pub count: usize,
    /// What the last of them said ([`SignalData::summary`]).
    pub summary: String,
    /// How many different values they had (vendor requests may carry several strings).
    pub distinct: usize,
}

/// The compact per-scenario view of a visit's signals: per phase (in order) and source,
/// the last value and how many signals and distinct values there were.
pub fn view(signals: &[SignalObs]) -> Vec<SignalLine> {
    let mut lines: Vec<(usize, SignalLine, Vec<String>)> = Vec::new();
    for s in signals {
        let phase_no = s.state.actions.len();
        let source = match &s.source {
            SignalSource::Request { .. } => "vendor requests".to_string(),
            other => other.describe(),
        };
        let kind = s.data.kind().to_string();
        let summary = s.data.summary();
        let at = lines
            .iter()
            .position(|(p, l, _)| *p == phase_no && l.kind == kind && l.source == source);
        match at {
            Some(i) => {
                let (_, line, seen) = &mut lines[i];
                line.count += 1;
                if !seen.contains(&summary) {
                    seen.push(summary.clone());
                }
                line.distinct = seen.len();
                line.summary = summary;
            }
            None => lines.push((
                phase_no,
                SignalLine {
                    phase: s.state.phase(),
                    kind,
                    source,
                    count: 1,
                    summary: summary.clone(),
                    distinct: 1,
                },
                vec![summary],
            )),
        }
    }
    lines.sort_by_key(|(p, _, _)| *p);
    lines.into_iter().map(|(_, l, _)| l).collect()
}

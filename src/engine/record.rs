//! What a visit recorded while the browser was driven: the steps and their outcomes,
//! warnings, timings, the failure, the page's consent signals, the timeline of consent
//! transitions, the CMP actions and the screenshots.
//!
//! Data flows one way: the step functions only read the [`super::driver::DriverState`]
//! and return what they saw as values; the driving loop ([`super::drive`]) is the only
//! writer of the record, which only grows (entries are added, times summed). At the end
//! `observation.rs` turns it, with what capture saw and the cookie jar, into the
//! [`crate::model::VisitObservation`].

use crate::model::{
    CmpAction, ConsentState, Failure, Screenshot, SignalObs, StepOutcome, VisitTimings,
};
use chrono::{DateTime, Utc};

/// Everything a visit recorded, in the order it was recorded.
#[derive(Default)]
pub(super) struct VisitRecord {
    /// One per scenario step: done, failed, or skipped after a failure.
    pub(super) steps: Vec<StepOutcome>,
    pub(super) warnings: Vec<String>,
    pub(super) timings: VisitTimings,
    /// Why the visit is incomplete: the first failed step, else the end of the visit
    /// (interrupted, cookie jar unreadable, browser crashed: `run_scenario_in`).
    pub(super) failure: Option<Failure>,
    /// Consent signals read in the page (request-borne ones are added by the pipeline).
    pub(super) signals: Vec<SignalObs>,
    /// When each consent action took effect, and the state in force before it.
    pub(super) transitions: Vec<(DateTime<Utc>, ConsentState)>,
    /// How each consent action was performed and what the CMP recorded; a page loaded
    /// after an action adds to the last one's `banner_again` when the banner is back.
    pub(super) cmp: Vec<CmpAction>,
    /// Screenshots around consent actions, PNG bytes included.
    pub(super) screenshots: Vec<Screenshot>,
}

impl VisitRecord {
    /// The consent state in force at `t`: before the first action that took effect
    /// after it, the state before that action; after the last one, `now`.
    pub(super) fn state_at(&self, t: DateTime<Utc>, now: &ConsentState) -> ConsentState {
        self.transitions
            .iter()
            .find(|(at, _)| t < *at)
            .map(|(_, before)| before.clone())
            .unwrap_or_else(|| now.clone())
    }
}

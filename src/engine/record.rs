//! What a visit recorded while the browser was driven: the steps and their outcomes,
//! warnings, timings, the failure, the page's consent signals, the timeline of consent
//! transitions, the CMP actions and the screenshots.
//!
//! Data flows one way: the step functions only read the [`super::driver::DriverState`]
//! and return what they saw as values; the driving loop ([`super::drive`]) is the only
//! writer of the record, with the visit's start and end around it (`run_scenario_in`:
//! the session's start time, the end's failure, the close's warnings). It only grows
//! (entries are added, times summed). At the end `observation.rs` turns it, with what
//! capture saw and the cookie jar, into the [`crate::model::VisitObservation`].

use crate::model::{
    CmpAction, ConsentState, Failure, LoginObs, Screenshot, SignalObs, StepOutcome, VisitTimings,
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
    /// The file's `[login]`, when this scenario runs it: its steps as they run, and when
    /// it completed.
    pub(super) login: Option<LoginObs>,
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::ConsentAction;
    use chrono::TimeZone;

    fn at(s: i64) -> DateTime<Utc> {
        Utc.timestamp_opt(s, 0).single().expect("a valid instant")
    }

    #[test]
    fn the_state_at_a_time_is_the_one_in_force_then() {
        let initial = ConsentState::initial();
        let accept = ConsentAction::AcceptAll;
        let accepted = initial.apply(accept, accept.default_effects());
        let reject = ConsentAction::RejectAll;
        let rejected = accepted.apply(reject, reject.default_effects());
        // Accepted at 10, rejected at 20; `rejected` is in force at the end.
        let record = VisitRecord {
            transitions: vec![(at(10), initial.clone()), (at(20), accepted.clone())],
            ..VisitRecord::default()
        };
        assert_eq!(record.state_at(at(5), &rejected), initial);
        // An action's own instant belongs to the phase it began.
        assert_eq!(record.state_at(at(10), &rejected), accepted);
        assert_eq!(record.state_at(at(19), &rejected), accepted);
        assert_eq!(record.state_at(at(20), &rejected), rejected);
        assert_eq!(record.state_at(at(30), &rejected), rejected);
        // No action: the state at the end throughout.
        assert_eq!(VisitRecord::default().state_at(at(5), &initial), initial);
    }
}

//! What drives the browser through a scenario, as opposed to what the visit recorded
//! ([`super::record::VisitRecord`]): the scenario and its site, the consent state in force,
//! the page being driven, the CMP profile running, whether screenshots are taken, and
//! whether the next settle continues the last one.
//!
//! Only the driving loop ([`super::drive`]) changes it (and `run_scenario_in`, which
//! owns it, takes the action under way at an interrupt); the step functions (`steps`,
//! `cmp`, `profile`, `shots`, `probe`, `gpc`) read it and return what they saw.

use crate::model::ConsentState;
use crate::scenario::{AuditSpec, Scenario};
use chrono::{DateTime, Utc};
use std::time::Instant;

pub(super) struct DriverState<'a> {
    pub(super) spec: &'a AuditSpec,
    pub(super) scenario: &'a Scenario,
    /// The consent state in force now; while a consent action runs, the state it
    /// declares it records (the CMP's record, read back after it, decides the rest).
    pub(super) state: ConsentState,
    /// A consent action under way: when it was taken and the state in force before it.
    /// The loop records it as a transition once it was performed and drops it when it
    /// failed; one still under way when the visit was interrupted counts as taken.
    pub(super) acting: Option<(DateTime<Utc>, ConsentState)>,
    /// When the current top-level page started loading, and the autoconsent messages
    /// that had arrived by then (those of earlier documents).
    pub(super) page_started: Instant,
    pub(super) page_mark: usize,
    /// The CMP profile whose flow is running (its consent step's method says so).
    pub(super) profile_in_use: Option<String>,
    /// The consent banner's selector path, to see a re-prompt: `[cmp].banner`, else the
    /// banner of the CMP profile used.
    pub(super) banner: Option<String>,
    /// Take screenshots around consent actions ([`super::shots`]).
    pub(super) shots: bool,
    /// Nothing was done to the page (no navigation, click, script) since the last settle
    /// ended without timing out: the next settle continues it
    /// ([`crate::capture::Capture::settle_continued`]) instead of serving a fresh grace.
    pub(super) untouched: bool,
    /// Spaces the page loads of the site across its visits ([`super::Pace`]).
    pub(super) pace: Option<&'a super::Pace>,
}

impl<'a> DriverState<'a> {
    /// Before the first page: the initial consent state, nothing loaded yet.
    pub(super) fn new(spec: &'a AuditSpec, scenario: &'a Scenario, shots: bool) -> Self {
        DriverState {
            spec,
            scenario,
            state: ConsentState::initial(),
            acting: None,
            page_started: Instant::now(),
            page_mark: 0,
            profile_in_use: None,
            banner: scenario.banner().map(String::from),
            shots,
            untouched: false,
            pace: None,
        }
    }
}

//! Judging, shared by every way a run is driven (one process: [`super::site`]; queue
//! workers: [`super::queue`]): a visit made ready to judge and keep, and a run judged as a
//! whole once its visits are in. Each is written once so that a queued fleet and a fleet
//! run in one process judge the same observations the same way.

use crate::analysis::{analyze_run, sort_findings, Finding};
use crate::attribution::AttributedVisit;
use crate::model::{RunStatus, ValueHasher, VisitObservation};
use crate::outcome::VisitSummary;
use crate::scenario::AuditSpec;
use std::path::Path;

/// A visit as the engine handed it over, made ready to judge and keep: bounded,
/// redacted, its screenshots saved under `shots_dir`.
pub(super) fn prepare_visit(
    mut obs: VisitObservation,
    spec: &AuditSpec,
    hasher: &ValueHasher,
    shots_dir: &Path,
    position: usize,
) -> VisitObservation {
    // Signals carried by request URLs come decoded by capture, from each whole URL
    // before it was bounded (capture/recorder/bound.rs). Every page-supplied string is
    // bounded (8 KiB: its start, its length and the keyed hash of its redacted whole),
    // before anything judges, stores or shows it: a page decides how long its URLs are.
    crate::model::clip::clip_visit(&mut obs, hasher, &|s| spec.site.secrets.redact(s));
    // Nothing a secret's value reached leaves this point unredacted: not the store,
    // not the checks' evidence, not the progress lines. A visit that could not be
    // redacted keeps nothing it saw (not observed, never clean).
    if let Err(e) = spec.site.secrets.redact_visit(&mut obs) {
        obs = unredactable(obs, &e);
    }
    crate::screenshots::save_visit(&mut obs, shots_dir, position);
    obs
}

/// A run judged as a whole.
pub(super) struct JudgedRun {
    /// The run-level findings (stored without a visit).
    pub run_level: Vec<Finding>,
    /// Every finding of the run, the visits' and the run's, in report order.
    pub findings: Vec<Finding>,
    /// The visits' summaries, in run order.
    pub summaries: Vec<VisitSummary>,
}

/// Judge a run whose `visits` are in (in run order), given its visits' own findings
/// (one repetition of each scenario).
pub(super) fn judge_run(
    spec: &AuditSpec,
    visits: &[AttributedVisit],
    findings: Vec<Finding>,
) -> JudgedRun {
    let repetitions = vec![1; visits.len()];
    let mut per_visit: Vec<Vec<Finding>> = visits.iter().map(|_| Vec::new()).collect();
    if let Some(first) = per_visit.first_mut() {
        *first = findings;
    }
    judge_repeated(spec, visits, &repetitions, &per_visit)
}

/// Judge a run whose `visits` are in (in run order), each with its repetition (1 to N,
/// parallel to `visits`) and its own findings (`per_visit`, parallel too): the findings
/// of a scenario's repetitions merged per fingerprint with their k/N
/// ([`crate::analysis::repeat::merge`]; nothing merged with one repetition each).
pub(super) fn judge_repeated(
    spec: &AuditSpec,
    visits: &[AttributedVisit],
    repetitions: &[u32],
    per_visit: &[Vec<Finding>],
) -> JudgedRun {
    let run_level = analyze_run(&spec.site, &spec.policy, visits);
    let reps: Vec<crate::analysis::repeat::Repetition> = visits
        .iter()
        .zip(repetitions)
        .zip(per_visit)
        .map(|((v, r), f)| crate::analysis::repeat::Repetition {
            scenario: v.obs.scenario.as_str(),
            repetition: *r,
            observed: v.obs.status == crate::model::VisitStatus::Complete,
            findings: f,
        })
        .collect();
    let mut findings = crate::analysis::repeat::merge(&reps, &run_level);
    let repeated = repetitions.iter().any(|r| *r > 1);
    let summaries: Vec<VisitSummary> = visits
        .iter()
        .zip(repetitions)
        .map(|(v, r)| VisitSummary {
            repetition: repeated.then_some(*r),
            ..VisitSummary::of(v)
        })
        .collect();
    let order: Vec<&str> = summaries.iter().map(|v| v.scenario.as_str()).collect();
    sort_findings(&mut findings, &order);
    JudgedRun {
        run_level,
        findings,
        summaries,
    }
}

/// What is kept of a visit whose records could not be redacted: its scenario and times,
/// not observed, with the reason; none of its records.
pub(super) fn unredactable(obs: VisitObservation, why: &str) -> VisitObservation {
    VisitObservation {
        status: crate::model::VisitStatus::Incomplete(crate::model::Failure::new(
            crate::model::FailureKind::Other,
            format!("the visit's records could not be redacted, so none is kept: {why}"),
        )),
        steps: Vec::new(),
        requests: Vec::new(),
        cookie_writes: Vec::new(),
        cookies: Vec::new(),
        storage_writes: Vec::new(),
        page_errors: Vec::new(),
        signals: Vec::new(),
        cmp: Vec::new(),
        screenshots: Vec::new(),
        warnings: Vec::new(),
        timings: Default::default(),
        ..obs
    }
}

/// The run's status from how it ended, what its visits saw, and which of them could not
/// be written to the database (`unstored`: such a run is never `complete`, and the reason
/// says how many are missing). A signal interrupts a run only if it cut a visit of it
/// short: a site of a fleet whose visits were all observed before it is complete.
pub(super) fn run_status(
    interrupted: bool,
    visits: &[VisitSummary],
    unstored: &[String],
) -> RunStatus {
    let not_observed: Vec<&str> = visits
        .iter()
        .filter(|v| v.not_observed().is_some())
        .map(|v| v.scenario.as_str())
        .collect();
    let unstored = (!unstored.is_empty()).then(|| {
        format!(
            "{} of {} visit(s) could not be written to the database: {}",
            unstored.len(),
            visits.len(),
            unstored.join(", ")
        )
    });
    if interrupted && !not_observed.is_empty() {
        // Not-observed visits of an interrupted run are the interruption's doing.
        let reasons: Vec<String> = std::iter::once("interrupted by a signal".to_string())
            .chain(unstored)
            .collect();
        return RunStatus::Interrupted(reasons.join("; "));
    }
    let reasons: Vec<String> = (!not_observed.is_empty())
        .then(|| format!("not observed: {}", not_observed.join(", ")))
        .into_iter()
        .chain(unstored)
        .collect();
    if reasons.is_empty() {
        RunStatus::Complete
    } else {
        RunStatus::Incomplete(reasons.join("; "))
    }
}

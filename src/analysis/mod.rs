//! Pure analysis: attributed observations + policy -> findings. No I/O here, no clock.
//!
//! The checks live in [`checks`], one module per family, registered in one table. Each
//! pushes one hit per offending observation into a sink; hits are aggregated per
//! (code, scenario, subject) into [`Finding`]s with the first [`MAX_EVIDENCE`] pieces of
//! evidence in time order.
//!
//! A visit is judged on its own as soon as it is recorded ([`analyze_visit`]), so an
//! interrupted run keeps the findings of every visit it finished; run-level checks (a
//! declaration no visit exercised) run once every visit is in ([`analyze_run`]).

mod checks;
pub mod finding;
pub mod repeat;
mod sink;

#[cfg(test)]
pub(crate) mod tests;

pub(crate) use checks::human_secs;
pub use finding::{fingerprint, Code, Evidence, Finding, Seen, Severity, MAX_EVIDENCE};

use crate::attribution::{AttributedVisit, Attributor};
use crate::model::VisitObservation;
use crate::policy::Policy;
use crate::scenario::Site;
use checks::{RunCtx, VisitCtx, FAMILIES};
use sink::Sink;

/// Every code with the family that owns it, in family order.
pub fn code_families() -> Vec<(&'static str, Code)> {
    FAMILIES
        .iter()
        .flat_map(|f| f.codes.iter().map(move |c| (f.name, *c)))
        .collect()
}

/// Findings of one visit (unsorted; [`sort_findings`] orders a run's findings).
pub fn analyze_visit(site: &Site, policy: &Policy, visit: &AttributedVisit) -> Vec<Finding> {
    let ctx = VisitCtx {
        site,
        policy,
        visit,
    };
    let mut sink = Sink::default();
    for family in FAMILIES {
        for check in family.visit {
            check(&ctx, &mut sink);
        }
    }
    let mut findings = sink.into_findings(&site.name);
    mark_logged_in(&mut findings, visit.obs);
    findings
}

/// Mark the evidence of `obs`'s scenario observed once its `[login]` had completed as
/// logged in ([`Evidence::logged_in`]): decided here, once, from the visit's login
/// time, for every check. The fingerprint is left alone: a finding stays the same
/// finding whether or not the visit was logged in.
pub fn mark_logged_in(findings: &mut [Finding], obs: &VisitObservation) {
    let Some(login) = &obs.login else {
        return;
    };
    for f in findings
        .iter_mut()
        .filter(|f| f.scenario.as_deref() == Some(obs.scenario.as_str()))
    {
        for e in &mut f.evidence {
            e.logged_in = login.logged_in_at(e.time);
        }
    }
}

/// Run-level findings, once every visit of the run is in.
pub fn analyze_run(site: &Site, policy: &Policy, visits: &[AttributedVisit]) -> Vec<Finding> {
    let ctx = RunCtx {
        site,
        policy,
        visits,
    };
    let mut sink = Sink::default();
    for family in FAMILIES {
        for check in family.run {
            check(&ctx, &mut sink);
        }
    }
    sink.into_findings(&site.name)
}

/// Judge a whole run at once: attribute, every visit's checks, the run's checks.
///
/// Deterministic: the output is sorted by severity (most severe first), then code (in
/// [`Code::all`] order), then scenario (in the order of `observations`; site-level
/// findings first), then subject.
pub fn analyze(site: &Site, policy: &Policy, observations: &[VisitObservation]) -> Vec<Finding> {
    let attributor = Attributor::new(site, policy);
    let visits: Vec<AttributedVisit> = observations.iter().map(|o| attributor.visit(o)).collect();
    let mut findings: Vec<Finding> = visits
        .iter()
        .flat_map(|v| analyze_visit(site, policy, v))
        .collect();
    findings.extend(analyze_run(site, policy, &visits));
    let order: Vec<&str> = observations.iter().map(|o| o.scenario.as_str()).collect();
    sort_findings(&mut findings, &order);
    findings
}

/// Sort findings the way [`analyze`] returns them; `scenarios` is the run order.
pub fn sort_findings(findings: &mut [Finding], scenarios: &[&str]) {
    let scenario_rank = |s: &Option<String>| -> (usize, String) {
        match s {
            None => (0, String::new()),
            Some(s) => match scenarios.iter().position(|o| o == s) {
                Some(i) => (i + 1, String::new()),
                None => (usize::MAX, s.clone()),
            },
        }
    };
    findings.sort_by(|a, b| {
        b.severity
            .cmp(&a.severity)
            .then(a.code.cmp(&b.code))
            .then_with(|| scenario_rank(&a.scenario).cmp(&scenario_rank(&b.scenario)))
            .then_with(|| a.subject.cmp(&b.subject))
            .then_with(|| a.fingerprint.cmp(&b.fingerprint))
    });
}

pub use crate::text::{clip_for_evidence, EVIDENCE_TEXT_MAX};

//! Pure analysis: observations + declared map -> findings. No I/O here, no clock.
//!
//! Each rule (see [`rules`], documented in docs/findings.md) pushes one hit per offending
//! observation into a sink; hits are aggregated per (code, scenario, subject) into
//! [`Finding`]s with the first [`MAX_EVIDENCE`] pieces of evidence in time order.

pub mod finding;
mod rules;
mod sink;

#[cfg(test)]
mod tests;

pub use finding::{fingerprint, Code, Evidence, Finding, Severity, MAX_EVIDENCE};
pub(crate) use rules::network_host;

use crate::observe::VisitObservation;
use crate::policy::Policy;
use crate::scenario::Site;
use rules::Ctx;
use sink::Sink;

/// Judge what was observed against the declared map.
///
/// Deterministic: the output is sorted by severity (most severe first), then code (in
/// [`Code::ALL`] order), then scenario (in the order of `observations`; site-level
/// findings first), then subject.
pub fn analyze(site: &Site, policy: &Policy, observations: &[VisitObservation]) -> Vec<Finding> {
    let ctx = Ctx {
        site,
        policy,
        observations,
    };
    let mut sink = Sink::default();
    rules::consent_vendor_requests(&ctx, &mut sink);
    rules::li_vendor_after_objection(&ctx, &mut sink);
    rules::undeclared_third_party(&ctx, &mut sink);
    rules::undeclared_cookie(&ctx, &mut sink);
    rules::cookie_retention(&ctx, &mut sink);
    rules::consent_cookie_without_consent(&ctx, &mut sink);
    rules::declared_vendor_unobserved(&ctx, &mut sink);
    rules::scenario_not_observed(&ctx, &mut sink);
    let mut findings = sink.into_findings(&site.name);
    sort_findings(&mut findings, observations);
    findings
}

/// Sort findings the way [`analyze`] returns them.
pub fn sort_findings(findings: &mut [Finding], observations: &[VisitObservation]) {
    let scenario_rank = |s: &Option<String>| -> (usize, String) {
        match s {
            None => (0, String::new()),
            Some(s) => match observations.iter().position(|o| &o.scenario == s) {
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

//! Coverage: what the audit could not see, and declarations nothing exercised.

use super::{last_page_or_site, vendor_label, Family, RunCtx, VisitCtx};
use crate::analysis::finding::{Code, Evidence};
use crate::analysis::sink::{Hit, Sink};
use crate::model::{ConsentChoice, VisitStatus};

pub(crate) const FAMILY: Family = Family {
    name: "coverage",
    codes: &[Code::DeclaredVendorUnobserved, Code::ScenarioNotObserved],
    visit: &[scenario_not_observed],
    run: &[declared_vendor_unobserved],
};

/// `declared-vendor-unobserved`: a declared vendor no request reached in any scenario,
/// judged only when at least one complete scenario ended with consent granted.
fn declared_vendor_unobserved(ctx: &RunCtx, sink: &mut Sink) {
    let judges: Vec<_> = ctx
        .visits
        .iter()
        .map(|v| v.obs)
        .filter(|o| {
            o.status == VisitStatus::Complete && o.final_state.consent == ConsentChoice::Granted
        })
        .collect();
    if judges.is_empty() {
        return;
    }
    let mut seen: Vec<&str> = Vec::new();
    for (_, at) in ctx.visits.iter().flat_map(|v| &v.requests) {
        if let Some(v) = at.vendor {
            if !seen.contains(&v.id.as_str()) {
                seen.push(v.id.as_str());
            }
        }
    }
    let judge_ids: Vec<String> = judges.iter().map(|o| o.scenario.clone()).collect();
    for vendor in &ctx.policy.vendors {
        if (vendor.domains.is_empty() && vendor.hosts.is_empty())
            || seen.contains(&vendor.id.as_str())
        {
            continue;
        }
        let domains = vendor
            .domains
            .iter()
            .map(|d| d.to_string())
            .chain(vendor.hosts.iter().map(|h| h.to_string()))
            .collect::<Vec<_>>()
            .join(", ");
        for obs in &judges {
            sink.push(Hit {
                code: Code::DeclaredVendorUnobserved,
                scenario: None,
                subject: vendor.id.clone(),
                vendor: Some(vendor.id.clone()),
                message: format!(
                    "Declared vendor {} was never contacted in any scenario, even with consent granted ({}); the declaration may be stale.",
                    vendor_label(vendor),
                    judge_ids.join(", ")
                ),
                rule: format!("vendor \"{}\" ({}) declares domains {domains}", vendor.id, vendor.name),
                evidence: Evidence {
                    scenario: obs.scenario.clone(),
                    page: last_page_or_site(obs, ctx.site),
                    request_url: None,
                    cookie: None,
                    time: obs.finished_at,
                    phase: obs.final_state.phase(),
                    detail: Some(format!(
                        "{} requests observed, none to {domains}",
                        obs.requests.len()
                    )),
                    logged_in: false,
                    known: None,
                },
            });
        }
    }
}

/// `scenario-not-observed`: a visit that could not be performed completely.
fn scenario_not_observed(ctx: &VisitCtx, sink: &mut Sink) {
    let obs = ctx.obs();
    {
        let VisitStatus::Incomplete(reason) = &obs.status else {
            return;
        };
        let phase = obs.final_state.phase();
        sink.push(Hit {
            code: Code::ScenarioNotObserved,
            scenario: Some(obs.scenario.clone()),
            subject: obs.scenario.clone(),
            vendor: None,
            message: format!(
                "Scenario \"{}\" could not be observed (stopped in phase {phase}): {reason}. What it should have shown is unknown, so this audit is not clean; findings from what it did observe are still reported.",
                obs.scenario
            ),
            rule: "every scenario of the scenario file must be observed completely".to_string(),
            evidence: Evidence {
                scenario: obs.scenario.clone(),
                page: last_page_or_site(obs, ctx.site),
                request_url: None,
                cookie: None,
                time: obs.finished_at,
                phase,
                detail: Some(format!("[{}] {}", reason.kind, reason.reason)),
                logged_in: false,
                known: None,
            },
        });
    }
}

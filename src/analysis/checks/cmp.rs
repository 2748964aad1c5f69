//! CMP records: did the visitor's choice take effect in the CMP? Judged from what the
//! engine read back after each consent action ([`crate::cmp::CmpAction`]).

use super::{Family, VisitCtx};
use crate::analysis::finding::{Code, Evidence};
use crate::analysis::sink::{Hit, Sink};
use crate::cmp::{CmpAction, Readback, RecordBasis, RecordedConsent};
use crate::model::ConsentAction;

pub(crate) const FAMILY: Family = Family {
    name: "cmp",
    codes: &[
        Code::CmpChoiceNotRecorded,
        Code::CmpChoiceOpposite,
        Code::RejectMoreStepsThanAccept,
        Code::CmpReprompt,
    ],
    visit: &[choice_recorded, reprompt],
    run: &[equal_effort],
};

fn how(a: &CmpAction) -> String {
    let mut s = a.method.describe(a.action);
    if let Some(cmp) = &a.detected {
        s.push_str(&format!(" on {cmp}"));
    }
    s
}

fn evidence(ctx: &VisitCtx, a: &CmpAction, detail: String) -> Evidence {
    Evidence {
        scenario: ctx.obs().scenario.clone(),
        page: a.page.clone(),
        request_url: None,
        cookie: None,
        time: a.time,
        phase: format!("after-{}", a.action.as_str()),
        detail: Some(detail),
        logged_in: false,
        known: None,
    }
}

/// The rule `reject-more-steps-than-accept` breaks.
const EQUAL_EFFORT_RULE: &str = "refusing consent must be as easy as giving it (GDPR Art. 7(3), EDPB guidelines 03/2022 and the cookie-banner taskforce report)";

/// Evidence of a request judged after an objection: when the objection was learned from
/// the CMP's record (not declared), the detail says which record.
pub(crate) fn with_objection_source(
    obs: &crate::model::VisitObservation,
    mut e: Evidence,
) -> Evidence {
    let source = obs.cmp.iter().rev().find(|a| {
        a.effects_from == crate::cmp::EffectsFrom::CmpRecord
            && a.applied.contains(&crate::model::ConsentEffect::ObjectLi)
    });
    if let Some(Readback::Recorded { record }) = source.map(|a| &a.readback) {
        let off: Vec<&str> = record
            .items
            .iter()
            .filter(|i| i.basis == RecordBasis::LegitimateInterest && !i.allowed)
            .map(|i| i.name.as_str())
            .collect();
        let d = e.detail.take().unwrap_or_default();
        e.detail = Some(format!(
            "{d}; objection recorded by the CMP: {} ({}) switched off {}",
            record.reader,
            record.source,
            off.join(", ")
        ));
    }
    e
}

/// `cmp-choice-not-recorded` and `cmp-choice-opposite`.
fn choice_recorded(ctx: &VisitCtx, sink: &mut Sink) {
    for a in &ctx.obs().cmp {
        if !a.success {
            continue;
        }
        match &a.readback {
            Readback::NotRecorded { reader } => sink.push(Hit {
                code: Code::CmpChoiceNotRecorded,
                scenario: Some(ctx.obs().scenario.clone()),
                subject: format!("{}:{}", reader, a.action.as_str()),
                vendor: None,
                message: format!(
                    "After {} ({}), the CMP ({reader}) recorded no choice: the visitor's decision is lost, and the next page acts as if none was made.",
                    a.action.as_str(),
                    how(a)
                ),
                rule: format!(
                    "a consent action must be stored in the CMP's record ({reader})"
                ),
                evidence: evidence(
                    ctx,
                    a,
                    format!(
                        "{reader} is on the page; its record was still absent 1 s after the action"
                    ),
                ),
            }),
            // TCF records are judged bit by bit by the tcf family (tcf-consent-after-reject).
            Readback::Recorded { record } if record.reader == crate::cmp::tcf::NAME => {}
            Readback::Recorded { record } => {
                // What the action wanted of each consent-based item: `Some(allowed)`.
                let wanted = |name: &str| -> Option<bool> {
                    match a.action {
                        ConsentAction::RejectAll => Some(false),
                        ConsentAction::AcceptAll => Some(true),
                        ConsentAction::ObjectLi => None,
                        // A partial consent grants its services only; one the CMP turned
                        // on beyond them is the opposite of the visitor's refusal.
                        ConsentAction::AcceptSome => {
                            let g = a.grant.as_ref()?;
                            (!g.services.iter().any(|s| s == name)).then_some(false)
                        }
                    }
                };
                let consent_items = || {
                    record
                        .items
                        .iter()
                        .filter(|i| i.basis == RecordBasis::Consent)
                };
                let opposite = match a.action {
                    ConsentAction::AcceptAll => record.consent == RecordedConsent::Refused,
                    _ => consent_items().any(|i| wanted(&i.name) == Some(!i.allowed) && i.allowed),
                };
                if !opposite {
                    continue;
                }
                let granted: Vec<&str> = consent_items()
                    .filter(|i| wanted(&i.name) == Some(!i.allowed))
                    .map(|i| i.name.as_str())
                    .collect();
                let refusing = a.action != ConsentAction::AcceptAll;
                let stored = if refusing {
                    "consent granted"
                } else {
                    "consent refused"
                };
                let rule = match (a.action, &a.grant) {
                    (ConsentAction::AcceptSome, Some(g)) => format!(
                        "accept_some must record consent granted only for the services of the purposes granted ({}: {})",
                        g.describe(),
                        if g.services.is_empty() {
                            "none".to_string()
                        } else {
                            g.services.join(", ")
                        }
                    ),
                    (ConsentAction::RejectAll, _) | (ConsentAction::AcceptSome, None) => format!(
                        "{} must record every consent-based service refused",
                        a.action.as_str()
                    ),
                    _ => format!("{} must record consent granted", a.action.as_str()),
                };
                sink.push(Hit {
                    code: Code::CmpChoiceOpposite,
                    scenario: Some(ctx.obs().scenario.clone()),
                    subject: format!("{}:{}", record.reader, a.action.as_str()),
                    vendor: None,
                    message: format!(
                        "After {} ({}), the CMP recorded the opposite: {stored} for {}.",
                        a.action.as_str(),
                        how(a),
                        granted.join(", ")
                    ),
                    rule,
                    evidence: evidence(ctx, a, format!("record {}", record.summary())),
                });
            }
            Readback::NoReader | Readback::Unreadable { .. } => {}
        }
    }
}

/// Clicks a visit needed, from the page load to its first consent action `action`
/// (performed through the scenario's selectors), with the steps' descriptions.
fn clicks_to(
    obs: &crate::model::VisitObservation,
    action: ConsentAction,
) -> Option<(usize, Vec<String>)> {
    let first = obs.cmp.first()?;
    if first.action != action
        || !first.success
        || matches!(first.method, crate::cmp::Method::Autoconsent)
    {
        return None;
    }
    // The heuristic's clicks are its own record (toggles switched off count).
    if let crate::cmp::Method::Heuristic(h) = &first.method {
        let clicks: Vec<String> = h
            .clicks
            .iter()
            .map(|c| format!("click {} {:?} ({})", c.button, c.text, c.element))
            .collect();
        return Some((clicks.len(), clicks));
    }
    let steps: Vec<&crate::model::StepOutcome> =
        obs.steps.iter().filter(|s| s.index <= first.step).collect();
    if steps.len() <= first.step {
        return None; // a step is missing: not judged
    }
    let clicks: Vec<String> = steps
        .iter()
        .filter(|s| s.description.starts_with("click "))
        .map(|s| s.description.clone())
        .collect();
    Some((clicks.len(), clicks))
}

/// `reject-more-steps-than-accept`: refusing takes more clicks than accepting, from the
/// first layer (no reject button beside accept). Judged on the run's observed visits
/// whose first consent action went through the scenario's selectors; autoconsent does
/// not say how many clicks it made, so its actions are not judged.
fn equal_effort(ctx: &super::RunCtx, sink: &mut Sink) {
    let best = |action: ConsentAction| {
        ctx.visits
            .iter()
            .filter(|v| v.obs.status.failure().is_none())
            .filter_map(|v| clicks_to(v.obs, action).map(|c| (v.obs, c)))
            .min_by_key(|(_, (n, _))| *n)
    };
    let Some((_, (accept, accept_steps))) = best(ConsentAction::AcceptAll) else {
        return;
    };
    let Some((obs, (reject, reject_steps))) = best(ConsentAction::RejectAll) else {
        no_reject(ctx, sink, accept, &accept_steps);
        return;
    };
    if reject <= accept || accept == 0 {
        return;
    }
    let Some(a) = obs.cmp.first() else { return };
    sink.push(Hit {
        code: Code::RejectMoreStepsThanAccept,
        scenario: Some(obs.scenario.clone()),
        subject: "reject_all".to_string(),
        vendor: None,
        message: format!(
            "Rejecting took {reject} clicks where accepting took {accept}: the first layer has no reject option as easy as accept (scenario \"{}\").",
            obs.scenario
        ),
        rule: EQUAL_EFFORT_RULE.to_string(),
        evidence: Evidence {
            scenario: obs.scenario.clone(),
            page: a.page.clone(),
            request_url: None,
            cookie: None,
            time: a.time,
            phase: "before-choice".to_string(),
            detail: Some(format!(
                "reject: {}; accept: {}",
                reject_steps.join(", "),
                accept_steps.join(", ")
            )),
            logged_in: false,
            known: None,
        },
    });
}

/// `reject-more-steps-than-accept` when no reject could be performed at all: the
/// heuristic found no reject option, on the first layer or behind its settings, in a
/// visit whose scenario was therefore not observed, while accepting took `accept` clicks.
fn no_reject(ctx: &super::RunCtx, sink: &mut Sink, accept: usize, accept_steps: &[String]) {
    let missing = ctx.visits.iter().find_map(|v| {
        let a = v.obs.cmp.first()?;
        match &a.method {
            crate::cmp::Method::Heuristic(h)
                if a.action == ConsentAction::RejectAll && h.reject_missing =>
            {
                Some((v.obs, a, h))
            }
            _ => None,
        }
    });
    let Some((obs, a, h)) = missing else { return };
    sink.push(Hit {
        code: Code::RejectMoreStepsThanAccept,
        scenario: Some(obs.scenario.clone()),
        subject: "reject_all".to_string(),
        vendor: None,
        message: format!(
            "No reject option was found in the consent dialog, on its first layer or behind its settings, where accepting took {accept} click(s) (scenario \"{}\").",
            obs.scenario
        ),
        rule: EQUAL_EFFORT_RULE.to_string(),
        evidence: Evidence {
            scenario: obs.scenario.clone(),
            page: a.page.clone(),
            request_url: None,
            cookie: None,
            time: a.time,
            phase: "before-choice".to_string(),
            detail: Some(format!(
                "reject: none found (heuristic, dialog {}); accept: {}",
                h.dialog,
                accept_steps.join(", ")
            )),
            logged_in: false,
            known: None,
        },
    });
}

/// `cmp-reprompt`: after the CMP stored the visitor's choice, the CMP shows its banner
/// again (a re-prompt loop). Judged after the last consent action of the visit whose
/// record was read back (before it, the scenario itself may reopen the banner), from
/// two sources: an IAB TCF CMP answering `cmpuishown` through `__tcfapi`, and, for any
/// CMP, its banner on screen on a page loaded after the action (the banner's selector
/// visible, or autoconsent finding its popup open: `CmpAction::banner_again`).
fn reprompt(ctx: &VisitCtx, sink: &mut Sink) {
    use crate::signals::{SignalData, SignalSource};
    let obs = ctx.obs();
    let Some(last) = obs.cmp.last() else { return };
    let Readback::Recorded { record } = &last.readback else {
        return;
    };
    let subject = format!("{}:{}", record.reader, last.action.as_str());
    let hit = |page: &str, time, phase: String, how: String| {
        Hit {
        code: Code::CmpReprompt,
        scenario: Some(obs.scenario.clone()),
        subject: subject.clone(),
        vendor: None,
        message: format!(
            "The CMP showed its banner again on {page} although it had stored the visitor's {} ({}), in scenario \"{}\" (phase {phase}).",
            last.action.as_str(),
            record.source,
            obs.scenario,
        ),
        rule: "a stored choice is respected: the banner is not shown again until the visitor reopens it or the choice expires".to_string(),
        evidence: Evidence {
            scenario: obs.scenario.clone(),
            page: page.to_string(),
            request_url: None,
            cookie: None,
            time,
            phase,
            detail: Some(format!(
                "{how}; choice stored at {} ({})",
                last.time.format("%H:%M:%S%.3f"),
                record.summary()
            )),
            logged_in: false,
            known: None,
        },
    }
    };
    for seen in &last.banner_again {
        // After the last consent action the state is the final one.
        let how = format!("{} after loading the page", seen.how);
        sink.push(hit(&seen.page, seen.time, obs.final_state.phase(), how));
    }
    for sig in &obs.signals {
        if sig.time <= last.time || !matches!(sig.source, SignalSource::PageApi { .. }) {
            continue;
        }
        let SignalData::Tcf(t) = &sig.data else {
            continue;
        };
        if t.event_status.as_deref() != Some("cmpuishown") {
            continue;
        }
        let how = format!("{}: eventStatus cmpuishown", sig.source.describe());
        sink.push(hit(&sig.page, sig.time, sig.state.phase(), how));
    }
}

//! CMP records: did the visitor's choice take effect in the CMP? Judged from what the
//! engine read back after each consent action ([`crate::cmp::CmpAction`]).

use super::{Family, VisitCtx};
use crate::analysis::finding::{Code, Evidence};
use crate::analysis::sink::{Hit, Sink};
use crate::cmp::{CmpAction, Readback, RecordedConsent};
use crate::observe::ConsentAction;

pub(crate) const FAMILY: Family = Family {
    name: "cmp",
    codes: &[Code::CmpChoiceNotRecorded, Code::CmpChoiceOpposite],
    visit: &[choice_recorded],
    run: &[],
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
    }
}

/// Evidence of a request judged after an objection: when the objection was learned from
/// the CMP's record (not declared), the detail says which record.
pub(crate) fn with_objection_source(
    obs: &crate::observe::VisitObservation,
    mut e: Evidence,
) -> Evidence {
    let source = obs.cmp.iter().rev().find(|a| {
        a.effects_from == "cmp-record"
            && a.applied.contains(&crate::observe::ConsentEffect::ObjectLi)
    });
    if let Some(Readback::Recorded { record }) = source.map(|a| &a.readback) {
        let off: Vec<&str> = record
            .items
            .iter()
            .filter(|i| i.basis == "legitimate_interest" && !i.allowed)
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
                let opposite = match a.action {
                    ConsentAction::RejectAll => record
                        .items
                        .iter()
                        .any(|i| i.basis == "consent" && i.allowed),
                    ConsentAction::AcceptAll => record.consent == RecordedConsent::Refused,
                    ConsentAction::ObjectLi => false,
                };
                if !opposite {
                    continue;
                }
                let granted: Vec<&str> = record
                    .items
                    .iter()
                    .filter(|i| i.basis == "consent" && i.allowed == (a.action == ConsentAction::RejectAll))
                    .map(|i| i.name.as_str())
                    .collect();
                let stored = if a.action == ConsentAction::RejectAll {
                    "consent granted"
                } else {
                    "consent refused"
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
                    rule: format!(
                        "{} must record {}",
                        a.action.as_str(),
                        if a.action == ConsentAction::RejectAll {
                            "every consent-based service refused"
                        } else {
                            "consent granted"
                        }
                    ),
                    evidence: evidence(ctx, a, format!("record {}", record.summary())),
                });
            }
            Readback::NoReader | Readback::Unreadable { .. } => {}
        }
    }
}

//! GPP and US Privacy strings against the visitor's US opt-out (docs/signals.md#iab-gpp-and-us-privacy-strings,
//! docs/findings.md): the CMP's record must say what the visitor opted out of, the strings
//! vendors receive must not grant it back, and vendors whose purposes need the opted-out
//! basis must stop once the CMP recorded the opt-out.
//!
//! The visitor opted out of sale, sharing and targeted advertising when the visit sent
//! GPC (`Sec-GPC: 1` reached the site) or after a reject (`reject_all`, the consent state
//! `denied`); and of each basis the CMP's own record (its `__gpp` answer, `__uspapi`
//! answer or `usprivacy` cookie) says the visitor opted out of, from the time of that
//! record on.

use super::gpc::{gpc_sent, opted_out_purposes};
use super::tcf::signal_evidence;
use super::{quoted_list, request_evidence, vendor_label, Family, VisitCtx};
use crate::analysis::finding::Code;
use crate::analysis::sink::{Hit, Sink};
use crate::model::gpp::{GppSignal, UsBasis};
use crate::model::{ConsentChoice, SignalObs, VisitObservation};
use crate::signals::{SignalData, SignalSource};
use chrono::{DateTime, Utc};
use std::collections::BTreeSet;

pub(crate) const FAMILY: Family = Family {
    name: "gpp",
    codes: &[
        Code::GppOptOutNotRecorded,
        Code::GppVendorStringGrantsOptOut,
        Code::GppVendorAfterOptOut,
    ],
    visit: &[
        gpp_opt_out_not_recorded,
        gpp_vendor_string_grants_opt_out,
        gpp_vendor_after_opt_out,
    ],
    run: &[],
};

const ALL: [UsBasis; 3] = [
    UsBasis::Sale,
    UsBasis::Sharing,
    UsBasis::TargetedAdvertising,
];

/// GPC reached the site in this visit.
fn gpc_on(obs: &VisitObservation) -> bool {
    gpc_sent(obs).is_some_and(|s| s.with_header > 0)
}

/// Why the visitor counts as opted out of everything at `state`, if they do.
fn opted_out_by_visit(obs: &VisitObservation, choice: ConsentChoice) -> Option<&'static str> {
    if gpc_on(obs) {
        Some("the visit sent Global Privacy Control")
    } else if choice == ConsentChoice::Denied {
        Some("the visitor rejected (opted out)")
    } else {
        None
    }
}

/// The CMP's own records: GPP and US Privacy strings its page API answered or its cookie
/// held, in time order.
fn cmp_records(obs: &VisitObservation) -> Vec<(&SignalObs, &GppSignal)> {
    obs.signals
        .iter()
        .filter_map(|s| match (&s.source, &s.data) {
            (SignalSource::PageApi { .. } | SignalSource::Cookie { .. }, SignalData::Gpp(g)) => {
                Some((s, &**g))
            }
            _ => None,
        })
        .collect()
}

/// The sections a string says apply (`applicable_sections` with real ids), or every one.
fn applies(g: &GppSignal, id: u8) -> bool {
    match &g.applicable_sections {
        Some(sids) if sids.iter().any(|&x| x > 0) => sids.contains(&i64::from(id)),
        _ => true,
    }
}

/// What the CMP's records at or before `at` say the visitor opted out of: per source
/// (`__gpp ping`, `__uspapi getUSPData`, the `usprivacy` cookie, ...) its latest record,
/// and the bases any of them says opted out (a `uspv1` string speaks only of the sale).
fn recorded_opt_out(records: &[(&SignalObs, &GppSignal)], at: DateTime<Utc>) -> BTreeSet<UsBasis> {
    let mut latest: Vec<(String, DateTime<Utc>, &GppSignal)> = Vec::new();
    for (s, g) in records
        .iter()
        .filter(|(s, g)| s.time <= at && g.error.is_none())
    {
        let source = s.source.describe();
        match latest.iter_mut().find(|(src, _, _)| *src == source) {
            Some(slot) if s.time >= slot.1 => *slot = (source, s.time, g),
            Some(_) => {}
            None => latest.push((source, s.time, g)),
        }
    }
    latest
        .iter()
        .flat_map(|(_, _, g)| {
            g.us_sections()
                .filter(|(sec, _)| applies(g, sec.id))
                .flat_map(|(_, us)| us.opted_out())
        })
        .collect()
}

fn names(bases: &[UsBasis]) -> String {
    bases
        .iter()
        .map(|b| b.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

/// `gpp-opt-out-not-recorded`: with GPC sent or after a reject, the CMP's record has a US
/// section (that applies) saying the visitor did not opt out of sale, sharing or
/// targeted advertising.
fn gpp_opt_out_not_recorded(ctx: &VisitCtx, sink: &mut Sink) {
    let obs = ctx.obs();
    for (sig, g) in cmp_records(obs) {
        let Some(why) = opted_out_by_visit(obs, sig.state.consent) else {
            continue;
        };
        for (sec, us) in g.us_sections().filter(|(sec, _)| applies(g, sec.id)) {
            let missing = us.not_opted_out();
            if missing.is_empty() {
                continue;
            }
            let detail = format!(
                "{} said {}; string hash {}",
                sig.source.describe(),
                sec.describe(),
                g.string_hash
            );
            sink.push(Hit {
                code: Code::GppOptOutNotRecorded,
                scenario: Some(obs.scenario.clone()),
                subject: sec.name.clone(),
                vendor: None,
                message: format!(
                    "The CMP's {} section records no opt-out of {} although {why}, in scenario \"{}\" (phase {}).",
                    sec.name,
                    names(&missing),
                    obs.scenario,
                    sig.state.phase()
                ),
                rule: "a US opt-out (GPC, or the visitor's own) must be recorded in every applicable US section: sale, sharing and targeted advertising opted out".to_string(),
                evidence: signal_evidence(obs, sig, detail),
            });
        }
    }
}

/// `gpp-vendor-string-grants-opt-out`: a request carries a GPP or US Privacy string whose
/// US section says the visitor did not opt out of a basis they did opt out of.
fn gpp_vendor_string_grants_opt_out(ctx: &VisitCtx, sink: &mut Sink) {
    let obs = ctx.obs();
    let records = cmp_records(obs);
    for (req, facts) in &ctx.visit.requests {
        if facts.gpp.is_empty() {
            continue;
        }
        let by_visit = opted_out_by_visit(obs, req.state.consent);
        let opted: BTreeSet<UsBasis> = match by_visit {
            Some(_) => ALL.into_iter().collect(),
            None => recorded_opt_out(&records, req.time),
        };
        if opted.is_empty() {
            continue;
        }
        let why = by_visit.unwrap_or("the CMP recorded the visitor's opt-out");
        let subject = facts
            .vendor
            .map(|v| v.id.clone())
            .or_else(|| facts.host.clone())
            .unwrap_or_else(|| req.url.clone());
        let who = match facts.vendor {
            Some(v) => vendor_label(v),
            None => facts.host.clone().unwrap_or_default(),
        };
        for g in &facts.gpp {
            for (sec, us) in g.us_sections().filter(|(sec, _)| applies(g, sec.id)) {
                let granted: Vec<UsBasis> = us
                    .not_opted_out()
                    .into_iter()
                    .filter(|b| opted.contains(b))
                    .collect();
                if granted.is_empty() {
                    continue;
                }
                let mut evidence = request_evidence(obs, req);
                evidence.detail = Some(format!(
                    "{}; {}; string hash {}",
                    evidence.detail.unwrap_or_default(),
                    sec.describe(),
                    g.string_hash
                ));
                sink.push(Hit {
                    code: Code::GppVendorStringGrantsOptOut,
                    scenario: Some(obs.scenario.clone()),
                    subject: subject.clone(),
                    vendor: facts.vendor.map(|v| v.id.clone()),
                    message: format!(
                        "{who} was sent a string whose {} section says the visitor did not opt out of {} although {why}, in scenario \"{}\" (phase {}).",
                        sec.name,
                        names(&granted),
                        obs.scenario,
                        req.state.phase()
                    ),
                    rule: "the GPP / US Privacy string a vendor receives must carry the visitor's opt-out".to_string(),
                    evidence,
                });
            }
        }
    }
}

/// `gpp-vendor-after-opt-out`: once the CMP recorded an opt-out (its own record, no GPC
/// sent: with GPC, `vendor-ignores-gpc` reports the same request), a request of a vendor
/// whose declared purposes need that basis (`gpc_opt_out` purposes: advertising, a sale
/// or a sharing), while consent is not granted.
fn gpp_vendor_after_opt_out(ctx: &VisitCtx, sink: &mut Sink) {
    let obs = ctx.obs();
    if gpc_on(obs) {
        return;
    }
    let records = cmp_records(obs);
    if records.is_empty() {
        return;
    }
    for (req, facts) in &ctx.visit.requests {
        let (Some(host), Some(vendor)) = (&facts.host, facts.vendor) else {
            continue;
        };
        if req.state.consent == ConsentChoice::Granted {
            continue;
        }
        let opted = recorded_opt_out(&records, req.time);
        if opted.is_empty() {
            continue;
        }
        let purposes = opted_out_purposes(ctx.policy, vendor);
        if purposes.is_empty() {
            continue;
        }
        let opted: Vec<UsBasis> = opted.into_iter().collect();
        let mut evidence = request_evidence(obs, req);
        evidence.detail = Some(format!(
            "{}; the CMP's record before it: opted out of {}",
            evidence.detail.unwrap_or_default(),
            names(&opted)
        ));
        sink.push(Hit {
            code: Code::GppVendorAfterOptOut,
            scenario: Some(obs.scenario.clone()),
            subject: vendor.id.clone(),
            vendor: Some(vendor.id.clone()),
            message: format!(
                "{} was contacted ({host}) after the CMP recorded the visitor's opt-out of {}, in scenario \"{}\" (phase {}).",
                vendor_label(vendor),
                names(&opted),
                obs.scenario,
                req.state.phase()
            ),
            rule: format!(
                "vendor \"{}\" ({}): {} {} need the opted-out basis (gpc_opt_out); a US opt-out must be honoured",
                vendor.id,
                vendor.name,
                if purposes.len() == 1 { "purpose" } else { "purposes" },
                quoted_list(&purposes)
            ),
            evidence,
        });
    }
}

//! Global Privacy Control: vendors that keep firing when the visit says "do not sell or
//! share" (docs/signals.md#global-privacy-control, docs/findings.md).

use super::{quoted_list, request_evidence, vendor_label, Family, VisitCtx};
use crate::analysis::finding::Code;
use crate::analysis::sink::{Hit, Sink};
use crate::model::ConsentChoice;
use crate::policy::{Policy, Vendor};
use crate::signals::gpc::{GpcSent, GpcSignal};
use crate::signals::{SignalData, SignalSource};

pub(crate) const FAMILY: Family = Family {
    name: "gpc",
    codes: &[Code::VendorIgnoresGpc],
    visit: &[vendor_ignores_gpc],
    run: &[],
};

/// What the visit sent, when it ran with GPC on.
pub(crate) fn gpc_sent(obs: &crate::model::VisitObservation) -> Option<&GpcSent> {
    obs.signals.iter().find_map(|s| match (&s.source, &s.data) {
        (SignalSource::Visit, SignalData::Gpc(GpcSignal::Sent(sent))) => Some(sent),
        _ => None,
    })
}

/// The vendor's purposes GPC opts out of, unless one of its purposes is strictly
/// necessary (a request cannot tell which purpose it serves, so the vendor gets the
/// benefit of the doubt, as in `Policy::permission`).
pub(super) fn opted_out_purposes(policy: &Policy, vendor: &Vendor) -> Vec<String> {
    let purposes: Vec<_> = vendor
        .purposes
        .iter()
        .filter_map(|id| policy.purpose(id))
        .collect();
    if purposes.iter().any(|p| p.strictly_necessary) {
        return Vec::new();
    }
    purposes
        .iter()
        .filter(|p| p.gpc_opt_out)
        .map(|p| p.id.clone())
        .collect()
}

/// `vendor-ignores-gpc`: with GPC on and no explicit opt-in (consent not granted), a
/// request to a vendor whose declared purposes GPC opts out of.
fn vendor_ignores_gpc(ctx: &VisitCtx, sink: &mut Sink) {
    let obs = ctx.obs();
    let Some(sent) = gpc_sent(obs) else { return };
    if sent.with_header == 0 {
        // GPC never reached the site: nothing was tested (the visit warns).
        return;
    }
    for (req, at) in &ctx.visit.requests {
        let (Some(host), Some(vendor)) = (&at.host, at.vendor) else {
            continue;
        };
        if req.state.consent == ConsentChoice::Granted || at.cookieless_ping {
            continue;
        }
        let purposes = opted_out_purposes(ctx.policy, vendor);
        if purposes.is_empty() {
            continue;
        }
        let phase = req.state.phase();
        let mut evidence = request_evidence(obs, req);
        evidence.detail = Some(format!(
            "{}; {}",
            evidence.detail.unwrap_or_default(),
            sent.evidence()
        ));
        sink.push(Hit {
            code: Code::VendorIgnoresGpc,
            scenario: Some(obs.scenario.clone()),
            subject: vendor.id.clone(),
            vendor: Some(vendor.id.clone()),
            message: format!(
                "{} was contacted ({host}) although the visit sent Global Privacy Control, in scenario \"{}\" (phase {phase}).",
                vendor_label(vendor),
                obs.scenario
            ),
            rule: format!(
                "vendor \"{}\" ({}): GPC opts out of {} {} (gpc_opt_out); a visitor's GPC must be honoured unless they opt in",
                vendor.id,
                vendor.name,
                if purposes.len() == 1 { "purpose" } else { "purposes" },
                quoted_list(&purposes)
            ),
            evidence,
        });
    }
}

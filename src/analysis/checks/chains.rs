//! Chains: who loaded whom ([`crate::attribution::chain`]). An undeclared third party
//! that a declared vendor loaded is a fourth party: the declared vendor brought it in.
//!
//! How it relates to `undeclared-third-party` (docs/findings.md): that finding stays the
//! one about the undeclared host (per registrable domain), and its evidence shows the
//! chain; `undeclared-fourth-party` is about the declared vendor responsible, one per
//! (declared loader, undeclared registrable domain), so each pair is acted on (and
//! acknowledged) on its own.

use super::{request_evidence, vendor_label, with_known, Family, VisitCtx};
use crate::analysis::finding::{Code, Evidence};
use crate::analysis::sink::{Hit, Sink};
use crate::attribution::{Chain, Party};

pub(crate) const FAMILY: Family = Family {
    name: "chains",
    codes: &[Code::UndeclaredFourthParty],
    visit: &[undeclared_fourth_party],
    run: &[],
};

/// `e` with the request's chain appended to its detail (`...; chain: a (x, declared) →
/// b`), when something other than the site loaded it.
pub(super) fn with_chain(mut e: Evidence, chain: &Chain) -> Evidence {
    if let Some(c) = chain.describe() {
        e.detail = Some(match e.detail {
            Some(d) => format!("{d}; {c}"),
            None => c,
        });
    }
    e
}

/// `undeclared-fourth-party`: a request to an undeclared third-party host that a declared
/// vendor loaded (through undeclared third parties only).
fn undeclared_fourth_party(ctx: &VisitCtx, sink: &mut Sink) {
    let obs = ctx.obs();
    for (req, at) in &ctx.visit.requests {
        if at.party != Party::Third || at.vendor.is_some() {
            continue;
        }
        let (Some(host), Some(domain), Some(loader)) = (&at.host, &at.domain, at.chain.loader)
        else {
            continue;
        };
        let phase = req.state.phase();
        sink.push(Hit {
            code: Code::UndeclaredFourthParty,
            scenario: Some(obs.scenario.clone()),
            subject: format!("{}:{domain}", loader.id),
            vendor: Some(loader.id.clone()),
            message: format!(
                "{} loaded third party {domain} ({host}), which belongs to no declared vendor, in scenario \"{}\" (phase {phase}).",
                vendor_label(loader),
                obs.scenario
            ),
            rule: format!(
                "vendor \"{}\" ({}) may load only declared vendors",
                loader.id, loader.name
            ),
            evidence: with_known(
                with_chain(request_evidence(obs, req), &at.chain),
                at.known.as_ref(),
            ),
        });
    }
}

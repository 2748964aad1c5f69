//! Requests: what vendors were contacted in which consent state.

use super::{choice_phrase, purposes_require, request_evidence, vendor_label, Family, VisitCtx};
use crate::analysis::finding::Code;
use crate::analysis::sink::{Hit, Sink};
use crate::attribution::Party;
use crate::model::ConsentChoice;
use crate::policy::Permission;

pub(crate) const FAMILY: Family = Family {
    name: "requests",
    codes: &[
        Code::ConsentVendorBeforeChoice,
        Code::ConsentVendorAfterReject,
        Code::LiVendorAfterObjection,
        Code::UndeclaredThirdParty,
        Code::VendorOutsideDeclaredPages,
    ],
    visit: &[
        consent_vendor_requests,
        li_vendor_after_objection,
        undeclared_third_party,
        vendor_outside_declared_pages,
    ],
    run: &[],
};

/// `consent-vendor-before-choice` and `consent-vendor-after-reject`: a request to a
/// consent-based vendor while consent was not granted.
fn consent_vendor_requests(ctx: &VisitCtx, sink: &mut Sink) {
    let obs = ctx.obs();
    for (req, at) in &ctx.visit.requests {
        let (Some(host), Some(vendor)) = (&at.host, at.vendor) else {
            continue;
        };
        let Some(Permission::NeedsConsent {
            purposes, choice, ..
        }) = &at.permission
        else {
            continue;
        };
        // Advanced Consent Mode: cookieless pings without consent are what it does.
        if at.cookieless_ping {
            continue;
        }
        let code = match choice {
            ConsentChoice::Undecided => Code::ConsentVendorBeforeChoice,
            ConsentChoice::Denied => Code::ConsentVendorAfterReject,
            // Unreachable through Policy::permission (granted consent allows).
            ConsentChoice::Granted => continue,
        };
        let phase = req.state.phase();
        sink.push(Hit {
            code,
            scenario: Some(obs.scenario.clone()),
            subject: vendor.id.clone(),
            vendor: Some(vendor.id.clone()),
            message: format!(
                "{} was contacted ({host}) {} in scenario \"{}\" (phase {phase}).",
                vendor_label(vendor),
                choice_phrase(*choice),
                obs.scenario
            ),
            rule: format!(
                "vendor \"{}\" ({}): {}",
                vendor.id,
                vendor.name,
                purposes_require(purposes, "requires consent", "require consent")
            ),
            evidence: {
                let mut e = request_evidence(obs, req);
                let notes = super::consent_mode::state_note(req, at, vendor)
                    .into_iter()
                    .chain(at.permission.as_ref().and_then(Permission::why_note));
                for note in notes {
                    e.detail = Some(match e.detail {
                        Some(d) => format!("{d}; {note}"),
                        None => note,
                    });
                }
                e
            },
        });
    }
}

/// `li-vendor-after-objection`: a request to a vendor whose only permitting basis is
/// legitimate interest, after the visitor objected.
fn li_vendor_after_objection(ctx: &VisitCtx, sink: &mut Sink) {
    let obs = ctx.obs();
    for (req, at) in &ctx.visit.requests {
        // Policy::permission also answers `Objected` (with no purposes) for a vendor
        // without any known purpose; only an actual objection is judged here: one of
        // the vendor's own legitimate-interest purposes objected in the phase's effective
        // state (the visitor's action, or the CMP's record, whichever is more protective).
        let (Some(host), Some(vendor)) = (&at.host, at.vendor) else {
            continue;
        };
        let Some(Permission::Objected { purposes, .. }) = &at.permission else {
            continue;
        };
        if purposes.is_empty() || at.cookieless_ping {
            continue;
        }
        let phase = req.state.phase();
        sink.push(Hit {
            code: Code::LiVendorAfterObjection,
            scenario: Some(obs.scenario.clone()),
            subject: vendor.id.clone(),
            vendor: Some(vendor.id.clone()),
            message: format!(
                "{} was contacted ({host}) after the visitor objected to legitimate interest in scenario \"{}\" (phase {phase}).",
                vendor_label(vendor),
                obs.scenario
            ),
            rule: format!(
                "vendor \"{}\" ({}): {}",
                vendor.id,
                vendor.name,
                purposes_require(
                    purposes,
                    "relies on legitimate interest, which stops on objection",
                    "rely on legitimate interest, which stops on objection"
                )
            ),
            evidence: {
                let mut e = super::cmp::with_objection_source(obs, request_evidence(obs, req));
                if let Some(note) = at.permission.as_ref().and_then(Permission::why_note) {
                    e.detail = Some(match e.detail {
                        Some(d) => format!("{d}; {note}"),
                        None => note,
                    });
                }
                e
            },
        });
    }
}

/// `undeclared-third-party`: a third-party host that belongs to no declared vendor.
fn undeclared_third_party(ctx: &VisitCtx, sink: &mut Sink) {
    let obs = ctx.obs();
    for (req, at) in &ctx.visit.requests {
        if at.party != Party::Third || at.vendor.is_some() {
            continue;
        }
        let (Some(host), Some(domain)) = (&at.host, &at.domain) else {
            continue;
        };
        let phase = req.state.phase();
        sink.push(Hit {
            code: Code::UndeclaredThirdParty,
            scenario: Some(obs.scenario.clone()),
            subject: domain.clone(),
            vendor: None,
            message: format!(
                "Third party {domain} ({host}), which belongs to no declared vendor, was contacted in scenario \"{}\" (phase {phase}).",
                obs.scenario
            ),
            rule: "every third-party host must belong to a declared vendor".to_string(),
            evidence: super::with_known(
                super::chains::with_chain(request_evidence(obs, req), &at.chain),
                at.known.as_ref(),
            ),
        });
    }
}

/// `vendor-outside-declared-pages`: a declared vendor contacted while the visit was on a
/// page outside the vendor's declared `pages`.
fn vendor_outside_declared_pages(ctx: &VisitCtx, sink: &mut Sink) {
    let obs = ctx.obs();
    for (req, at) in &ctx.visit.requests {
        let (Some(host), Some(vendor)) = (&at.host, at.vendor) else {
            continue;
        };
        let Ok(page) = url::Url::parse(&req.page) else {
            continue;
        };
        if !matches!(page.scheme(), "http" | "https") || vendor.declared_on_page(&page) {
            continue;
        }
        let phase = req.state.phase();
        sink.push(Hit {
            code: Code::VendorOutsideDeclaredPages,
            scenario: Some(obs.scenario.clone()),
            subject: vendor.id.clone(),
            vendor: Some(vendor.id.clone()),
            message: format!(
                "{} was contacted ({host}) on page {}, where it is not declared, in scenario \"{}\" (phase {phase}).",
                vendor_label(vendor),
                page.path(),
                obs.scenario
            ),
            rule: format!(
                "vendor \"{}\" ({}) is declared on pages {}",
                vendor.id,
                vendor.name,
                vendor.pages.join(", ")
            ),
            evidence: request_evidence(obs, req),
        });
    }
}

//! IAB TCF: what the CMP's TC string records, and what vendors are sent, against the
//! visitor's choice and the declared map. Reads the visit's decoded TCF signals
//! ([`crate::signals::tcf`]): the CMP's own record (`__tcfapi('getTCData')`, the
//! `euconsent-v2` cookie) and the strings vendor requests carry (`gdpr_consent`).
//!
//! Phases are told apart by the number of consent actions performed so far, so a
//! request is compared with what the CMP recorded in the same phase.

use super::{request_evidence, vendor_label, Family, VisitCtx};
use crate::analysis::finding::{Code, Evidence};
use crate::analysis::sink::{Hit, Sink};
use crate::model::{ConsentAction, ConsentState, Grant, VisitObservation};
use crate::signals::tcf::{ids, TcfDecoded};
use crate::signals::{SignalData, SignalObs, SignalSource};
use std::collections::BTreeSet;

pub(crate) const FAMILY: Family = Family {
    name: "tcf",
    codes: &[
        Code::TcfConsentBeforeChoice,
        Code::TcfConsentAfterReject,
        Code::TcfLiAfterObjection,
        Code::TcfLiForbiddenPurpose,
        Code::TcfStaleString,
        Code::TcfUnrecordedConsent,
        Code::TcfVendorWithoutBasis,
        Code::TcfBasisMismatch,
    ],
    visit: &[cmp_record, vendor_strings, vendor_basis, declared_basis],
    run: &[],
};

/// One decoded TC string the CMP itself exposed.
struct CmpString<'a> {
    sig: &'a SignalObs,
    hash: &'a str,
    d: &'a TcfDecoded,
}

/// The CMP's decoded strings (page API and its cookie), in time order.
fn cmp_strings(obs: &VisitObservation) -> Vec<CmpString<'_>> {
    obs.signals
        .iter()
        .filter(|s| {
            matches!(
                s.source,
                SignalSource::PageApi { .. } | SignalSource::Cookie { .. }
            )
        })
        .filter_map(|s| match &s.data {
            SignalData::Tcf(t) => t.decoded.as_ref().map(|d| CmpString {
                sig: s,
                hash: t.string_hash.as_str(),
                d,
            }),
            _ => None,
        })
        .collect()
}

fn phase_index(state: &ConsentState) -> usize {
    state.actions.len()
}

pub(super) fn signal_evidence(obs: &VisitObservation, sig: &SignalObs, detail: String) -> Evidence {
    let (request_url, cookie) = match &sig.source {
        SignalSource::Request { url } => (Some(url.clone()), None),
        SignalSource::Cookie { name, domain } => (None, Some(format!("{name}@{domain}"))),
        _ => (None, None),
    };
    Evidence {
        scenario: obs.scenario.clone(),
        page: sig.page.clone(),
        request_url,
        cookie,
        time: sig.time,
        phase: sig.state.phase(),
        detail: Some(detail),
        logged_in: false,
        known: None,
    }
}

fn string_detail(source: &SignalSource, hash: &str, d: &TcfDecoded) -> String {
    format!(
        "{}: TC string #{hash} ({}): {}",
        source.describe(),
        d.header(),
        d.bits()
    )
}

/// The CMP's own record against the visitor's choice: `tcf-consent-before-choice`,
/// `tcf-consent-after-reject`, `tcf-li-after-objection`, and `tcf-li-forbidden-purpose`
/// for any string the visit saw (the CMP's or a vendor's).
fn cmp_record(ctx: &VisitCtx, sink: &mut Sink) {
    let obs = ctx.obs();
    for c in cmp_strings(obs) {
        let state = &c.sig.state;
        let phase = state.phase();
        let detail = string_detail(&c.sig.source, c.hash, c.d);
        let last = state.actions.last().copied();
        let consent_bits = consent_bits(c.d);
        if !consent_bits.is_empty() {
            let code = match last {
                None => Some(Code::TcfConsentBeforeChoice),
                Some(ConsentAction::RejectAll) => Some(Code::TcfConsentAfterReject),
                _ => None,
            };
            if let Some(code) = code {
                let when = if code == Code::TcfConsentBeforeChoice {
                    "before the visitor made any choice"
                } else {
                    "after the visitor rejected all"
                };
                sink.push(Hit {
                    code,
                    scenario: Some(obs.scenario.clone()),
                    subject: format!("cmp {}", c.d.cmp_id),
                    vendor: None,
                    message: format!(
                        "The CMP's TC string ({}) grants consent for {consent_bits} {when}, in scenario \"{}\" (phase {phase}).",
                        c.sig.source.describe(),
                        obs.scenario
                    ),
                    rule: "IAB TCF: consent signals only what the visitor granted; none before a choice, none after Reject all".to_string(),
                    evidence: signal_evidence(obs, c.sig, detail.clone()),
                });
            }
        }
        // A partial choice: consent recorded for a purpose the visitor did not grant.
        if last == Some(ConsentAction::AcceptSome) {
            if let Some(g) = grant_of(obs, state) {
                let beyond: Vec<String> =
                    c.d.purpose_consents
                        .iter()
                        .filter(|p| !g.tcf_purposes.iter().any(|q| u16::from(*q) == **p))
                        .map(u16::to_string)
                        .collect();
                if !beyond.is_empty() {
                    let granted: Vec<String> = g.tcf_purposes.iter().map(u8::to_string).collect();
                    sink.push(Hit {
                        code: Code::TcfConsentAfterReject,
                        scenario: Some(obs.scenario.clone()),
                        subject: format!("cmp {}", c.d.cmp_id),
                        vendor: None,
                        message: format!(
                            "The CMP's TC string ({}) grants consent for purposes {} the visitor refused (a partial choice granting {}: TCF purposes {}), in scenario \"{}\" (phase {phase}).",
                            c.sig.source.describe(),
                            beyond.join(", "),
                            g.describe(),
                            if granted.is_empty() { "none".to_string() } else { granted.join(", ") },
                            obs.scenario
                        ),
                        rule: "IAB TCF: consent signals only what the visitor granted; none before a choice, none after Reject all".to_string(),
                        evidence: signal_evidence(obs, c.sig, detail.clone()),
                    });
                }
            }
        }
        // The visitor objected (the action), whatever the CMP then recorded.
        let objected = state.li_objected || state.actions.contains(&ConsentAction::ObjectLi);
        if objected && c.d.asserts_li() {
            sink.push(Hit {
                code: Code::TcfLiAfterObjection,
                scenario: Some(obs.scenario.clone()),
                subject: format!("cmp {}", c.d.cmp_id),
                vendor: None,
                message: format!(
                    "The CMP's TC string ({}) still asserts legitimate interest (purposes {}; vendors {}) after the visitor objected, in scenario \"{}\" (phase {phase}).",
                    c.sig.source.describe(),
                    ids(&c.d.purpose_legitimate_interests),
                    ids(&c.d.vendor_legitimate_interests),
                    obs.scenario
                ),
                rule: "IAB TCF / GDPR Art. 21: after an objection the legitimate-interest bits of the objected purposes and vendors are cleared".to_string(),
                evidence: signal_evidence(obs, c.sig, detail.clone()),
            });
        }
    }
    // Any string, the CMP's or a vendor's.
    for sig in &obs.signals {
        let SignalData::Tcf(t) = &sig.data else {
            continue;
        };
        let Some(d) = &t.decoded else { continue };
        let forbidden = d.forbidden_li();
        if forbidden.is_empty() {
            continue;
        }
        let list: Vec<String> = forbidden.iter().map(u16::to_string).collect();
        sink.push(Hit {
            code: Code::TcfLiForbiddenPurpose,
            scenario: Some(obs.scenario.clone()),
            subject: format!("cmp {} purposes {}", d.cmp_id, list.join(",")),
            vendor: None,
            message: format!(
                "A TC string of CMP {} asserts legitimate interest for TCF purpose(s) {} (policy version {}; first seen in {}), in scenario \"{}\" (phase {}).",
                d.cmp_id,
                list.join(", "),
                d.policy_version,
                sig.source.describe(),
                obs.scenario,
                sig.state.phase()
            ),
            rule: "IAB TCF 2.2: legitimate interest is not permitted for purposes 1, 3, 4, 5 and 6".to_string(),
            evidence: signal_evidence(obs, sig, string_detail(&sig.source, &t.string_hash, d)),
        });
    }
}

/// The grant of the partial choice that began the phase `state` summarises.
fn grant_of<'a>(obs: &'a VisitObservation, state: &ConsentState) -> Option<&'a Grant> {
    let i = state.actions.len().checked_sub(1)?;
    crate::model::purpose::performed_actions(&obs.cmp)
        .get(i)
        .filter(|a| a.action == ConsentAction::AcceptSome)?
        .grant
        .as_ref()
}

fn consent_bits(d: &TcfDecoded) -> String {
    let empty = TcfDecoded::default();
    d.consent_beyond(&empty).describe()
}

/// `tcf-stale-string` and `tcf-unrecorded-consent`: a vendor request carrying a TC string
/// that is not the CMP's record of that phase.
fn vendor_strings(ctx: &VisitCtx, sink: &mut Sink) {
    let obs = ctx.obs();
    let cmp = cmp_strings(obs);
    if cmp.is_empty() {
        return; // no CMP record to compare with (reported as a warning by the view)
    }
    for (req, at) in &ctx.visit.requests {
        // Decoded once, when the visit was captured.
        let Some(sent) = at.tcf else {
            continue;
        };
        let phase = phase_index(&req.state);
        let same_phase: Vec<&CmpString> = cmp
            .iter()
            .filter(|c| phase_index(&c.sig.state) == phase)
            .collect();
        if same_phase.iter().any(|c| c.hash == sent.string_hash) {
            continue; // the CMP's current record
        }
        // The CMP's record of the phase: its latest string of the phase, else its latest
        // string before the request.
        let current = same_phase
            .last()
            .copied()
            .or_else(|| cmp.iter().rfind(|c| c.sig.time <= req.time));
        let Some(current) = current else { continue };
        let who = at
            .vendor
            .map(vendor_label)
            .unwrap_or_else(|| at.host.clone().unwrap_or_else(|| "a third party".into()));
        let subject = at
            .vendor
            .map(|v| v.id.clone())
            .or_else(|| at.host.clone())
            .unwrap_or_default();
        let earlier = cmp
            .iter()
            .find(|c| c.hash == sent.string_hash)
            .map(|c| format!("the CMP's string of phase {}", c.sig.state.phase()));
        let mut ev = request_evidence(obs, req);
        let sent_text = match &sent.decoded {
            Some(d) => format!("sent #{} ({}): {}", sent.string_hash, d.header(), d.bits()),
            None => format!(
                "sent #{}: {}",
                sent.string_hash,
                sent.error.as_deref().unwrap_or("undecodable")
            ),
        };
        ev.detail = Some(format!(
            "{}; {sent_text}; CMP's record #{} ({}): {}",
            ev.detail.unwrap_or_default(),
            current.hash,
            current.d.header(),
            current.d.bits()
        ));
        let beyond = sent
            .decoded
            .as_ref()
            .map(|d| d.consent_beyond(current.d))
            .unwrap_or_default();
        let (code, message) = if !beyond.is_empty() {
            (
                Code::TcfUnrecordedConsent,
                format!(
                    "{who} was sent a TC string granting consent the CMP never recorded ({}), in scenario \"{}\" (phase {}).",
                    beyond.describe(),
                    obs.scenario,
                    req.state.phase()
                ),
            )
        } else {
            (
                Code::TcfStaleString,
                format!(
                    "{who} was sent a TC string other than the CMP's current one ({}), in scenario \"{}\" (phase {}).",
                    earlier.as_deref().unwrap_or("a string the CMP never exposed"),
                    obs.scenario,
                    req.state.phase()
                ),
            )
        };
        sink.push(Hit {
            code,
            scenario: Some(obs.scenario.clone()),
            subject,
            vendor: at.vendor.map(|v| v.id.clone()),
            message,
            rule: "IAB TCF: vendors are sent the CMP's current TC string, which carries only what the visitor chose".to_string(),
            evidence: ev,
        });
    }
}

/// `tcf-vendor-without-basis`: a declared TCF vendor contacted while the CMP's record of
/// that phase gives it neither consent nor legitimate interest.
fn vendor_basis(ctx: &VisitCtx, sink: &mut Sink) {
    let obs = ctx.obs();
    let cmp = cmp_strings(obs);
    for (req, at) in &ctx.visit.requests {
        let Some(vendor) = at.vendor else { continue };
        // Advanced Consent Mode's cookieless pings process nothing a TCF basis governs.
        if at.cookieless_ping {
            continue;
        }
        let Some(id) = vendor.tcf.as_ref().and_then(|t| t.vendor_id) else {
            continue;
        };
        let Ok(id) = u16::try_from(id) else { continue };
        let phase = phase_index(&req.state);
        let Some(current) = cmp.iter().rfind(|c| phase_index(&c.sig.state) == phase) else {
            continue; // no record of this phase: nothing to compare with
        };
        let consent = current.d.vendor_consents.contains(&id);
        let li = current.d.vendor_legitimate_interests.contains(&id);
        if consent || li {
            continue;
        }
        let mut ev = request_evidence(obs, req);
        ev.detail = Some(format!(
            "{}; CMP's record #{} ({}): {}",
            ev.detail.unwrap_or_default(),
            current.hash,
            current.d.header(),
            current.d.bits()
        ));
        sink.push(Hit {
            code: Code::TcfVendorWithoutBasis,
            scenario: Some(obs.scenario.clone()),
            subject: vendor.id.clone(),
            vendor: Some(vendor.id.clone()),
            message: format!(
                "{} (TCF vendor {id}) was contacted while the CMP's TC string gives it neither consent nor legitimate interest, in scenario \"{}\" (phase {}).",
                vendor_label(vendor),
                obs.scenario,
                req.state.phase()
            ),
            rule: format!(
                "IAB TCF: vendor {id} may process only with its consent or legitimate-interest bit set"
            ),
            evidence: ev,
        });
    }
}

/// `tcf-basis-mismatch`: the CMP's string registers a declared TCF vendor on another basis
/// than the declared map: legitimate interest for a vendor declared on consent only, or
/// no legitimate interest (before any objection) for one declared on it.
fn declared_basis(ctx: &VisitCtx, sink: &mut Sink) {
    let obs = ctx.obs();
    let cmp = cmp_strings(obs);
    // Only records made before any objection say what the CMP registers LI for.
    let open: Vec<&CmpString> = cmp
        .iter()
        .filter(|c| {
            !c.sig.state.li_objected && !c.sig.state.actions.contains(&ConsentAction::ObjectLi)
        })
        .collect();
    let Some(first) = open.first() else { return };
    let li_anywhere: BTreeSet<u16> = open
        .iter()
        .flat_map(|c| c.d.vendor_legitimate_interests.iter().copied())
        .collect();
    for v in &ctx.policy.vendors {
        let Some(t) = &v.tcf else { continue };
        let Some(id) = t.vendor_id.and_then(|i| u16::try_from(i).ok()) else {
            continue;
        };
        let declared_li = !t.li_purposes.is_empty();
        let string_li = li_anywhere.contains(&id);
        let what = match (declared_li, string_li) {
            (false, true) if !t.consent_purposes.is_empty() => format!(
                "the CMP's TC string asserts legitimate interest for vendor {id}, which the map declares on consent only (purposes {})",
                join(&t.consent_purposes)
            ),
            (true, false) => format!(
                "the map declares vendor {id} on legitimate interest (purposes {}), but the CMP's TC string never sets its legitimate-interest bit",
                join(&t.li_purposes)
            ),
            _ => continue,
        };
        let c = open
            .iter()
            .find(|c| c.d.vendor_legitimate_interests.contains(&id))
            .unwrap_or(first);
        sink.push(Hit {
            code: Code::TcfBasisMismatch,
            scenario: Some(obs.scenario.clone()),
            subject: v.id.clone(),
            vendor: Some(v.id.clone()),
            message: format!(
                "{}: {what}, in scenario \"{}\".",
                vendor_label(v),
                obs.scenario
            ),
            rule: format!(
                "vendor \"{}\": the declared legal basis and the CMP's registration must agree",
                v.id
            ),
            evidence: signal_evidence(obs, c.sig, string_detail(&c.sig.source, c.hash, c.d)),
        });
    }
}

fn join(v: &[u8]) -> String {
    v.iter().map(u8::to_string).collect::<Vec<_>>().join(",")
}

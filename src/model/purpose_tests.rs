//! The effective state per TCF purpose and per CMP service, derived from recorded CMP
//! records: TC strings the IAB reference library made (the golden vectors of
//! fixtures/gen/tcf-golden.mjs, checked against it by tests/tcf_golden.rs), Klaro and
//! cookieconsent records as their readers interpret them.

use super::*;
use crate::cmp::{CmpAction, Method, Readback, Reader};
use crate::model::{ConsentAction, ConsentEffect, ConsentState};
use serde_json::json;

// @iabtcf/core 1.5.6 strings of the fixture CMP (fixtures/build/tcf-golden.json).
const ACCEPT_ALL: &str =
    "CQu26YAQu26YAEsAHBENDIFsAP_gAEPgAAYgAeABAEAQBAEAQBGgBgAUAA8AEYAA.YAAAAAAAAAAA";
const OBJECT_LI: &str = "CQu26YAQu26YAEsAHBENDIFgAAAAAAAAAAYgAAAAAAAA.YAAAAAAAAAAA";
/// "Object all" that keeps purpose 8's LI bit.
const OBJECT_LI_PLANTED: &str = "CQu26YAQu26YAEsAHBENDIFgAAAAAAEAAAYgAAAAAAAA.YAAAAAAAAAAA";
/// "Reject all" that keeps purpose 1's consent.
const REJECT_ALL_PLANTED: &str =
    "CQu26YAQu26YAEsAHBENDIFgAIAAAEPgAAYgAAABGgBgAUAA8AEYAAAA.YAAAAAAAAAAA";

fn tcf_record(tc: &str) -> Readback {
    let record = crate::cmp::tcf::Tcf
        .interpret(&json!({"tcString": tc, "eventStatus": "useractioncomplete"}))
        .expect("a golden TC string decodes");
    Readback::Recorded { record }
}

/// The consent action `action`, its record read back, and the effects the engine applied
/// (the record's when decisive, else the action's defaults), as the engine records it.
fn performed(action: ConsentAction, readback: Readback) -> CmpAction {
    let (applied, from) = match &readback {
        Readback::Recorded { record } if !record.effects().is_empty() => {
            (record.effects(), EffectsFrom::CmpRecord)
        }
        _ => (action.default_effects().to_vec(), EffectsFrom::Declared),
    };
    CmpAction {
        action,
        step: 0,
        page: "https://www.tcf-shop.test/".into(),
        time: chrono::DateTime::UNIX_EPOCH,
        method: Method::Selectors,
        success: true,
        detected: None,
        popup_found: false,
        detect_ms: None,
        done_ms: None,
        added_ms: None,
        readback,
        declared: action.default_effects().to_vec(),
        applied,
        effects_from: from,
        banner_again: Vec::new(),
        grant: None,
    }
}

/// The phases after each of `steps`, as attribution derives them.
fn phases(steps: Vec<(ConsentAction, Readback)>) -> Vec<PhaseConsent> {
    let mut state = ConsentState::initial();
    let mut cmp = Vec::new();
    let mut out = Vec::new();
    for (action, readback) in steps {
        let a = performed(action, readback);
        state = state.apply(action, &a.applied);
        cmp.push(a);
        out.push(phase_consent(&state, &performed_actions(&cmp)));
    }
    out
}

fn one(action: ConsentAction, readback: Readback) -> PhaseConsent {
    phases(vec![(action, readback)]).remove(0)
}

#[test]
fn before_any_choice_everything_is_undecided_and_standing() {
    let p = phase_consent(&ConsentState::initial(), &[]);
    assert_eq!(p, PhaseConsent::initial());
    let (s, tcf) = p.purpose(Some(8));
    assert_eq!(tcf, None, "no record before a choice: the overall standing");
    assert_eq!(s.consent, ConsentChoice::Undecided);
    assert!(!s.li_objected);
}

#[test]
fn accept_all_record_grants_every_purpose_and_keeps_li() {
    let p = one(ConsentAction::AcceptAll, tcf_record(ACCEPT_ALL));
    for n in 1..=11u8 {
        let (s, tcf) = p.purpose(Some(n));
        assert_eq!((tcf, s.consent), (Some(n), ConsentChoice::Granted), "{n}");
        assert!(!s.consent_disputed);
    }
    for n in TCF_LI_PURPOSES {
        assert!(!p.purpose(Some(n)).0.li_objected, "LI purpose {n}");
    }
}

/// The motivating case: "Object all" keeps purpose 8's LI bit. The record alone reads as
/// "no objection" (its effects: a refusal only), but purpose 8 is judged by the more
/// protective of the action (objected) and the record (standing): objected, by the
/// action, disputed. Purpose 7, cleared by the record too, is objected undisputed.
#[test]
fn a_kept_li_bit_after_object_all_is_objected_by_the_action() {
    let p = one(ConsentAction::ObjectLi, tcf_record(OBJECT_LI_PLANTED));
    let (eight, _) = p.purpose(Some(8));
    assert!(eight.li_objected);
    assert_eq!(eight.li_from, Decider::Action);
    assert!(eight.li_disputed);
    let (seven, _) = p.purpose(Some(7));
    assert!(seven.li_objected);
    assert!(!seven.li_disputed);
    // Consent: every bit unset after the objection: refused by the record.
    assert_eq!(eight.consent, ConsentChoice::Denied);
    assert_eq!(eight.consent_from, Decider::CmpRecord);
    // The overall standing (purposes without a TCF number) is objected too, although the
    // record's coarse reading says no objection.
    assert!(p.overall.li_objected);
    assert_eq!(p.overall.li_from, Decider::Action);
    // A faithful record: the same, undisputed.
    let good = one(ConsentAction::ObjectLi, tcf_record(OBJECT_LI));
    let (eight, _) = good.purpose(Some(8));
    assert!(eight.li_objected && !eight.li_disputed);
}

#[test]
fn accept_then_object_keeps_consent_and_objects_every_li_purpose() {
    let all = phases(vec![
        (ConsentAction::AcceptAll, tcf_record(ACCEPT_ALL)),
        // A CMP that ignores the objection: its record is the accept record, unchanged.
        (ConsentAction::ObjectLi, tcf_record(ACCEPT_ALL)),
    ]);
    let p = &all[1];
    for n in TCF_LI_PURPOSES {
        let (s, _) = p.purpose(Some(n));
        assert!(s.li_objected, "LI purpose {n}");
        assert!(s.li_disputed, "LI purpose {n}: the record kept it");
        assert_eq!(
            s.consent,
            ConsentChoice::Granted,
            "consent stays after an objection"
        );
    }
}

#[test]
fn a_consent_bit_kept_after_reject_all_is_refused_by_the_action() {
    let p = one(ConsentAction::RejectAll, tcf_record(REJECT_ALL_PLANTED));
    let (one_, _) = p.purpose(Some(1));
    assert_eq!(one_.consent, ConsentChoice::Denied);
    assert_eq!(one_.consent_from, Decider::Action);
    assert!(one_.consent_disputed);
    let (two, _) = p.purpose(Some(2));
    assert_eq!(two.consent, ConsentChoice::Denied);
    assert!(!two.consent_disputed);
    // "Reject all" leaves legitimate interest standing where the record keeps it.
    assert!(!two.li_objected);
}

fn klaro(raw: serde_json::Value, services: serde_json::Value) -> Readback {
    let record = crate::cmp::klaro::Klaro
        .interpret(&json!({"source": "cookie klaro", "raw": raw.to_string(), "services": services}))
        .expect("a Klaro record");
    Readback::Recorded { record }
}

#[test]
fn klaro_services_have_their_own_standing() {
    let services = json!([
        {"name": "matomo", "optOut": true, "required": false},
        {"name": "google-analytics", "optOut": false, "required": false},
        {"name": "youtube", "optOut": false, "required": false},
        {"name": "session", "optOut": false, "required": true},
    ]);
    // Accept all, but the record keeps YouTube off: a partial record.
    let p = one(
        ConsentAction::AcceptAll,
        klaro(
            json!({"matomo": true, "google-analytics": true, "youtube": false, "session": true}),
            services.clone(),
        ),
    );
    assert_eq!(p.overall.consent, ConsentChoice::Granted);
    let names = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    let (yt, name) = p.services(&names(&["youtube"])).expect("youtube recorded");
    assert_eq!(
        (yt.consent, yt.consent_from, name),
        (ConsentChoice::Denied, Decider::CmpRecord, "youtube")
    );
    let (ga, _) = p
        .services(&names(&["google-analytics"]))
        .expect("ga recorded");
    assert_eq!(ga.consent, ConsentChoice::Granted);
    // A vendor mapped to both takes the stricter, and names it.
    let (both, name) = p
        .services(&names(&["google-analytics", "youtube"]))
        .expect("recorded");
    assert_eq!((both.consent, name), (ConsentChoice::Denied, "youtube"));
    assert!(
        p.services(&names(&["hotjar"])).is_none(),
        "not in the record"
    );
    assert!(
        !p.services.contains_key("session"),
        "necessary items have no standing"
    );

    // Reject all switching the optOut service off: an objection learned from the record.
    let p = one(
        ConsentAction::RejectAll,
        klaro(
            json!({"matomo": false, "google-analytics": false, "youtube": false, "session": true}),
            services,
        ),
    );
    let (m, _) = p.services(&names(&["matomo"])).expect("matomo recorded");
    assert!(m.li_objected);
    assert_eq!(m.li_from, Decider::CmpRecord);
    assert!(p.overall.li_objected, "the coarse record objects too");
}

fn cookieconsent(accepted: &[&str]) -> Readback {
    let record = crate::cmp::cookieconsent::CookieConsent
        .interpret(&json!({
            "source": "cookie cc_cookie",
            "raw": json!({"categories": accepted}).to_string(),
            "categories": {"necessary": {"readOnly": true}, "analytics": {}, "marketing": {}},
        }))
        .expect("a cookieconsent record");
    Readback::Recorded { record }
}

/// "Reject all" that the CMP records as accept (cmp-choice-opposite): the vendor is judged
/// against the more protective, the visitor's refusal.
#[test]
fn a_reject_recorded_as_accept_is_refused_by_the_action() {
    let p = one(
        ConsentAction::RejectAll,
        cookieconsent(&["necessary", "analytics", "marketing"]),
    );
    assert_eq!(p.overall.consent, ConsentChoice::Denied);
    assert_eq!(p.overall.consent_from, Decider::Action);
    assert!(p.overall.consent_disputed);
    let (m, _) = p.services(&["marketing".to_string()]).expect("recorded");
    assert_eq!(m.consent, ConsentChoice::Denied);
    assert!(m.consent_disputed);
    // Accept all with analytics only: each category its own.
    let p = one(
        ConsentAction::AcceptAll,
        cookieconsent(&["necessary", "analytics"]),
    );
    let (a, _) = p.services(&["analytics".to_string()]).expect("recorded");
    let (m, _) = p.services(&["marketing".to_string()]).expect("recorded");
    assert_eq!(
        (a.consent, m.consent),
        (ConsentChoice::Granted, ConsentChoice::Denied)
    );
}

/// A record that does not belong to the phase's last action (actions and records out of
/// step) is not used.
#[test]
fn a_record_of_another_action_is_not_used() {
    let state = ConsentState::initial().apply(ConsentAction::ObjectLi, &[ConsentEffect::ObjectLi]);
    let other = performed(ConsentAction::AcceptAll, tcf_record(ACCEPT_ALL));
    let p = PhaseConsent::derive(&state, Some(&other));
    assert!(p.tcf_purposes.is_empty());
    assert!(p.overall.li_objected);
}

/// The declared map's permission reads the purpose's own standing, and says which purpose
/// and which source decided.
#[test]
fn a_vendor_is_judged_by_its_own_purposes() {
    use crate::policy::{LegalBasis, Permission, Policy, Purpose, Vendor};
    let purpose = |id: &str, basis, tcf| Purpose {
        id: id.into(),
        name: id.into(),
        basis,
        strictly_necessary: false,
        tcf_purpose: tcf,
        gpc_opt_out: false,
        draft: false,
    };
    let vendor = |id: &str, purposes: &[&str], services: &[&str]| Vendor {
        id: id.into(),
        name: id.into(),
        purposes: purposes.iter().map(|p| p.to_string()).collect(),
        cmp_services: services.iter().map(|p| p.to_string()).collect(),
        ..Default::default()
    };
    let policy = Policy {
        purposes: vec![
            purpose("ads", LegalBasis::Consent, Some(4)),
            purpose("ad-measurement", LegalBasis::LegitimateInterest, Some(7)),
            purpose(
                "content-measurement",
                LegalBasis::LegitimateInterest,
                Some(8),
            ),
            purpose("analytics", LegalBasis::Consent, None),
        ],
        ..Default::default()
    };
    let on8 = vendor("on-8", &["content-measurement"], &[]);
    let on7 = vendor("on-7", &["ad-measurement"], &[]);
    // Object all keeping purpose 8: both objected; the kept bit named as a dispute.
    let p = one(ConsentAction::ObjectLi, tcf_record(OBJECT_LI_PLANTED));
    let Permission::Objected { purposes, why } = policy.permission(&on8, &p) else {
        panic!("vendor on purpose 8 not objected");
    };
    assert_eq!(purposes, ["content-measurement"]);
    assert_eq!(
        why,
        ["purpose \"content-measurement\" (TCF purpose 8): legitimate interest objected, by the visitor's action (the visitor's action and the CMP's record disagree; the more protective decides)"]
    );
    let perm = policy.permission(&on7, &p);
    assert!(
        matches!(&perm, Permission::Objected { why, .. } if why == &["purpose \"ad-measurement\" (TCF purpose 7): legitimate interest objected, by the visitor's action"]),
        "{perm:?}"
    );
    assert_eq!(
        perm.why_note().as_deref(),
        Some("decided by purpose \"ad-measurement\" (TCF purpose 7): legitimate interest objected, by the visitor's action")
    );
    // Accept all: both stand.
    let p = one(ConsentAction::AcceptAll, tcf_record(ACCEPT_ALL));
    assert!(matches!(
        policy.permission(&on8, &p),
        Permission::Allowed { .. }
    ));
    // Reject all keeping purpose 1 does not allow a vendor on purpose 4.
    let ads = vendor("ads", &["ads"], &[]);
    let p = one(ConsentAction::RejectAll, tcf_record(REJECT_ALL_PLANTED));
    assert!(matches!(
        policy.permission(&ads, &p),
        Permission::NeedsConsent {
            choice: ConsentChoice::Denied,
            ..
        }
    ));
    // A cookieconsent category mapped to a vendor: accept all with analytics only.
    let p = one(
        ConsentAction::AcceptAll,
        cookieconsent(&["necessary", "analytics"]),
    );
    let ga = vendor("ga", &["analytics"], &["analytics"]);
    let pixel = vendor("pixel", &["analytics"], &["marketing"]);
    let unmapped = vendor("unmapped", &["analytics"], &[]);
    assert!(matches!(
        policy.permission(&ga, &p),
        Permission::Allowed { .. }
    ));
    assert!(matches!(
        policy.permission(&unmapped, &p),
        Permission::Allowed { .. }
    ));
    let perm = policy.permission(&pixel, &p);
    assert!(
        matches!(&perm, Permission::NeedsConsent { choice: ConsentChoice::Denied, why, .. }
            if why == &["purpose \"analytics\", CMP service \"marketing\": consent refused, by the CMP's record (the visitor's action and the CMP's record disagree; the more protective decides)"]),
        "{perm:?}"
    );
}

// Partial choices (accept_some): the visitor's action grants some purposes only.

/// "Save" in the fixture CMP's second layer with purposes 1 and 8 switched on (the golden
/// vector `partial` of fixtures/gen/tcf-golden.mjs: vendor 20's consent, LI 7 and 9).
const PARTIAL: &str = "CQu26YAQu26YAEsAHBENDIFgAIEAAAKAAAYgAKAAAEAFAAACACEAAgAK.cCAAAEAAAAAA";

fn grant(purposes: &[&str], tcf: &[u8], services: &[&str]) -> crate::model::Grant {
    crate::model::Grant {
        purposes: purposes.iter().map(|s| s.to_string()).collect(),
        tcf_purposes: tcf.to_vec(),
        services: services.iter().map(|s| s.to_string()).collect(),
    }
}

/// The phases after each step, an `accept_some` carrying its grant.
fn partial_phases(
    steps: Vec<(ConsentAction, Readback, Option<crate::model::Grant>)>,
) -> Vec<PhaseConsent> {
    let mut state = ConsentState::initial();
    let mut cmp = Vec::new();
    let mut out = Vec::new();
    for (action, readback, g) in steps {
        let mut a = performed(action, readback);
        a.grant = g;
        state = state.apply(action, &a.applied);
        cmp.push(a);
        out.push(phase_consent(&state, &performed_actions(&cmp)));
    }
    out
}

#[test]
fn a_partial_tc_string_grants_exactly_the_purposes_granted() {
    let g = grant(&["storage", "content"], &[1, 8], &[]);
    let p = partial_phases(vec![(
        ConsentAction::AcceptSome,
        tcf_record(PARTIAL),
        Some(g.clone()),
    )])
    .remove(0);
    assert_eq!(p.grant.as_ref(), Some(&g));
    for n in 1..=11u8 {
        let (s, tcf) = p.purpose(Some(n));
        let want = if [1, 8].contains(&n) {
            ConsentChoice::Granted
        } else {
            ConsentChoice::Denied
        };
        assert_eq!((tcf, s.consent), (Some(n), want), "purpose {n}");
        // The action and the record agree on every purpose.
        assert!(!s.consent_disputed, "purpose {n}");
    }
    // Purposes without a TCF number: granted when named, else the overall refusal.
    assert_eq!(
        p.declared_purpose("content", None).0.consent,
        ConsentChoice::Granted
    );
    assert_eq!(
        p.declared_purpose("ads", None).0.consent,
        ConsentChoice::Denied
    );
    assert_eq!(p.overall.consent, ConsentChoice::Denied);
    // A record granting a purpose the visitor did not: refused by the action, disputed.
    let p = partial_phases(vec![(
        ConsentAction::AcceptSome,
        tcf_record(PARTIAL),
        Some(grant(&["storage"], &[1], &[])),
    )])
    .remove(0);
    let (eight, _) = p.purpose(Some(8));
    assert_eq!(
        (eight.consent, eight.consent_from, eight.consent_disputed),
        (ConsentChoice::Denied, Decider::Action, true)
    );
}

#[test]
fn a_partial_klaro_record_is_judged_per_service() {
    let services = json!([
        {"name": "google-analytics", "optOut": false, "required": false},
        {"name": "hotjar", "optOut": false, "required": false},
        {"name": "facebook-pixel", "optOut": false, "required": false},
        {"name": "matomo", "optOut": true, "required": false},
    ]);
    let record = klaro(
        json!({"google-analytics": true, "hotjar": false, "facebook-pixel": true, "matomo": false}),
        services,
    );
    let p = partial_phases(vec![(
        ConsentAction::AcceptSome,
        record,
        Some(grant(&["analytics"], &[], &["google-analytics", "hotjar"])),
    )])
    .remove(0);
    let svc = |n: &str| p.services(&[n.to_string()]).expect("recorded").0;
    // Granted and recorded: granted. Granted, recorded off: refused by the record.
    assert_eq!(svc("google-analytics").consent, ConsentChoice::Granted);
    let h = svc("hotjar");
    assert_eq!(
        (h.consent, h.consent_from, h.consent_disputed),
        (ConsentChoice::Denied, Decider::CmpRecord, true)
    );
    // Not granted, recorded on: refused by the action, a dispute.
    let f = svc("facebook-pixel");
    assert_eq!(
        (f.consent, f.consent_from, f.consent_disputed),
        (ConsentChoice::Denied, Decider::Action, true)
    );
    // Klaro saved its opt-out service off: an objection from the record.
    assert!(svc("matomo").li_objected);
}

#[test]
fn a_partial_cookieconsent_record_and_what_follows_it() {
    let g = grant(&["analytics"], &[], &["analytics"]);
    let ps = partial_phases(vec![
        (
            ConsentAction::AcceptSome,
            cookieconsent(&["necessary", "analytics"]),
            Some(g.clone()),
        ),
        // An objection leaves the partial consent in force...
        (ConsentAction::ObjectLi, Readback::NoReader, None),
        // ... an accept all ends it.
        (
            ConsentAction::AcceptAll,
            cookieconsent(&["necessary", "analytics", "marketing"]),
            None,
        ),
    ]);
    let cat = |p: &PhaseConsent, n: &str| p.services(&[n.to_string()]).map(|s| s.0.consent);
    assert_eq!(cat(&ps[0], "analytics"), Some(ConsentChoice::Granted));
    assert_eq!(cat(&ps[0], "marketing"), Some(ConsentChoice::Denied));
    assert!(!ps[0].services["marketing"].consent_disputed);
    assert_eq!(ps[1].grant.as_ref(), Some(&g));
    assert_eq!(
        ps[1].declared_purpose("analytics", None).0.consent,
        ConsentChoice::Granted
    );
    assert!(ps[1].overall.li_objected);
    assert_eq!(ps[2].grant, None);
    assert_eq!(cat(&ps[2], "marketing"), Some(ConsentChoice::Granted));
    // An accept_some whose grant is unknown refuses everything.
    let p = partial_phases(vec![(
        ConsentAction::AcceptSome,
        cookieconsent(&["necessary", "analytics"]),
        None,
    )])
    .remove(0);
    assert_eq!(cat(&p, "analytics"), Some(ConsentChoice::Denied));
}

/// Under a partial consent the permission names the purpose and who decided, also for a
/// purpose without a TCF number or CMP service.
#[test]
fn under_a_partial_consent_evidence_names_the_purpose() {
    use crate::policy::{LegalBasis, Permission, Policy, Purpose, Vendor};
    let purpose = |id: &str| Purpose {
        id: id.into(),
        name: id.into(),
        basis: LegalBasis::Consent,
        strictly_necessary: false,
        tcf_purpose: None,
        gpc_opt_out: false,
        draft: false,
    };
    let vendor = |id: &str, p: &str| Vendor {
        id: id.into(),
        name: id.into(),
        purposes: vec![p.into()],
        ..Default::default()
    };
    let policy = Policy {
        purposes: vec![purpose("analytics"), purpose("ads")],
        ..Default::default()
    };
    let p = partial_phases(vec![(
        ConsentAction::AcceptSome,
        Readback::NoReader,
        Some(grant(&["analytics"], &[], &[])),
    )])
    .remove(0);
    assert!(matches!(
        policy.permission(&vendor("ga", "analytics"), &p),
        Permission::Allowed { .. }
    ));
    let perm = policy.permission(&vendor("pixel", "ads"), &p);
    assert!(
        matches!(&perm, Permission::NeedsConsent { choice: ConsentChoice::Denied, why, .. }
            if why == &["purpose \"ads\": consent refused, by the visitor's action"]),
        "{perm:?}"
    );
}

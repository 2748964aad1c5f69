//! Golden TC-string vectors: `make fixtures` has the IAB reference library
//! (@iabtcf/core, fixtures/gen/tcf-golden.mjs) encode every state of the fixture CMP and
//! read each string back; consentry's decoder must read the same, field by field.
//! Needs `make fixtures` (run by `make test`), hence the same gate as the browser tests.

mod common;

use common::golden::ids;
use consentry::signals::tcf::decode;
use serde_json::Value;
use std::collections::BTreeSet;

#[test]
#[cfg_attr(
    not(feature = "browser-tests"),
    ignore = "needs `make fixtures` (run with --features browser-tests, as make test does)"
)]
fn reference_vectors_decode_identically() {
    let vectors = common::golden::vectors(
        "tcf-golden.json",
        &[
            "accept_all",
            "reject_all",
            "object_li",
            "partial",
            "interim",
        ],
    );
    for v in &vectors {
        let name = v["name"].as_str().unwrap_or("?");
        let tc = v["tc_string"].as_str().expect("tc_string");
        let e = &v["expected"];
        let d = decode(tc).unwrap_or_else(|err| panic!("{name}: {err}"));
        let ctx = format!("{name} ({tc}, decoded by {})", d.decoder);
        assert_eq!(
            u64::from(d.cmp_id),
            e["cmp_id"].as_u64().unwrap(),
            "{ctx}: cmp_id"
        );
        assert_eq!(
            u64::from(d.cmp_version),
            e["cmp_version"].as_u64().unwrap(),
            "{ctx}"
        );
        assert_eq!(
            u64::from(d.consent_screen),
            e["consent_screen"].as_u64().unwrap(),
            "{ctx}"
        );
        assert_eq!(
            d.consent_language,
            e["consent_language"].as_str().unwrap(),
            "{ctx}"
        );
        assert_eq!(
            u64::from(d.vendor_list_version),
            e["vendor_list_version"].as_u64().unwrap(),
            "{ctx}"
        );
        assert_eq!(
            u64::from(d.policy_version),
            e["policy_version"].as_u64().unwrap(),
            "{ctx}"
        );
        assert_eq!(
            d.is_service_specific,
            e["is_service_specific"].as_bool().unwrap(),
            "{ctx}"
        );
        assert_eq!(
            d.use_non_standard_texts,
            e["use_non_standard_texts"].as_bool().unwrap(),
            "{ctx}"
        );
        assert_eq!(
            d.purpose_one_treatment,
            e["purpose_one_treatment"].as_bool().unwrap(),
            "{ctx}"
        );
        assert_eq!(
            d.publisher_country_code,
            e["publisher_country_code"].as_str().unwrap(),
            "{ctx}"
        );
        assert_eq!(
            d.special_feature_optins,
            ids(&e["special_feature_optins"]),
            "{ctx}"
        );
        assert_eq!(d.purpose_consents, ids(&e["purpose_consents"]), "{ctx}");
        assert_eq!(
            d.purpose_legitimate_interests,
            ids(&e["purpose_legitimate_interests"]),
            "{ctx}"
        );
        assert_eq!(d.vendor_consents, ids(&e["vendor_consents"]), "{ctx}");
        assert_eq!(
            d.vendor_legitimate_interests,
            ids(&e["vendor_legitimate_interests"]),
            "{ctx}"
        );
        let restrictions: Vec<(u64, u64, BTreeSet<u16>)> = e["publisher_restrictions"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| {
                (
                    r["purpose"].as_u64().unwrap(),
                    r["type"].as_u64().unwrap(),
                    ids(&r["vendors"]),
                )
            })
            .collect();
        let ours: Vec<(u64, u64, BTreeSet<u16>)> = d
            .publisher_restrictions
            .iter()
            .map(|r| {
                let t = match r.restriction.as_str() {
                    "not_allowed" => 0,
                    "require_consent" => 1,
                    "require_legitimate_interest" => 2,
                    _ => 3,
                };
                (u64::from(r.purpose), t, r.vendors.clone())
            })
            .collect();
        assert_eq!(ours, restrictions, "{ctx}: publisher restrictions");
        let publisher = d.publisher.clone().unwrap_or_default();
        assert_eq!(publisher.consents, ids(&e["publisher_consents"]), "{ctx}");
        assert_eq!(
            publisher.legitimate_interests,
            ids(&e["publisher_legitimate_interests"]),
            "{ctx}"
        );
        // The TCF keeps deciseconds; the reference returns milliseconds.
        let created = d.created.expect("created").timestamp();
        assert_eq!(
            created,
            e["created_ms"].as_i64().unwrap() / 1000,
            "{ctx}: created"
        );
        let updated = d.last_updated.expect("last updated").timestamp();
        assert_eq!(
            updated,
            e["last_updated_ms"].as_i64().unwrap() / 1000,
            "{ctx}"
        );
        assert!(d.segments.contains(&"core".to_string()), "{ctx}");
    }
}

/// The effective state per TCF purpose, derived from every golden record the reference
/// library made for a visitor's action: consent granted exactly where the action grants
/// and the string sets the purpose's bit; legitimate interest objected exactly where the
/// action objects or the string leaves an LI purpose's bit unset. Where the action and
/// the string disagree, the dispute is recorded and the action (more protective) decides.
#[test]
#[cfg_attr(
    not(feature = "browser-tests"),
    ignore = "needs `make fixtures` (run with --features browser-tests, as make test does)"
)]
fn effective_state_per_purpose_follows_the_reference_records() {
    use consentry::cmp::{CmpAction, EffectsFrom, Method, Readback, Reader};
    use consentry::model::purpose::{performed_actions, phase_consent, Decider, TCF_LI_PURPOSES};
    use consentry::model::{ConsentAction, ConsentChoice, ConsentState};

    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/fixtures/build/tcf-golden.json"
    );
    let text = std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("{path}: {e} (run `make fixtures`)"));
    let vectors: Vec<Value> = serde_json::from_str(&text).expect("golden JSON");
    let mut judged = 0;
    for v in &vectors {
        let name = v["name"].as_str().unwrap_or("?");
        let action = match name {
            "accept_all" => ConsentAction::AcceptAll,
            "reject_all" | "reject_all_planted" => ConsentAction::RejectAll,
            "object_li" | "object_li_planted" => ConsentAction::ObjectLi,
            _ => continue, // interim strings and the partial one answer no action here
        };
        let tc = v["tc_string"].as_str().expect("tc_string");
        let e = &v["expected"];
        let record = consentry::cmp::tcf::Tcf
            .interpret(&serde_json::json!({"tcString": tc, "eventStatus": "useractioncomplete"}))
            .unwrap_or_else(|err| panic!("{name}: {err}"));
        let applied = if record.effects().is_empty() {
            action.default_effects().to_vec()
        } else {
            record.effects()
        };
        let a = CmpAction {
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
            readback: Readback::Recorded { record },
            declared: action.default_effects().to_vec(),
            applied: applied.clone(),
            effects_from: EffectsFrom::CmpRecord,
            banner_again: Vec::new(),
            grant: None,
        };
        let state = ConsentState::initial().apply(action, &applied);
        let cmp = [a];
        let phase = phase_consent(&state, &performed_actions(&cmp));
        let consents = ids(&e["purpose_consents"]);
        let lis = ids(&e["purpose_legitimate_interests"]);
        for p in 1..=11u8 {
            let (s, tcf) = phase.purpose(Some(p));
            assert_eq!(tcf, Some(p), "{name}: purpose {p} judged per purpose");
            let bit = consents.contains(&u16::from(p));
            let want = match action {
                ConsentAction::AcceptAll if bit => ConsentChoice::Granted,
                ConsentAction::ObjectLi if !bit => ConsentChoice::Denied,
                ConsentAction::ObjectLi => ConsentChoice::Undecided,
                _ => ConsentChoice::Denied,
            };
            assert_eq!(s.consent, want, "{name}: consent of purpose {p}");
            let action_grants = action == ConsentAction::AcceptAll;
            assert_eq!(
                s.consent_disputed,
                action != ConsentAction::ObjectLi && bit != action_grants,
                "{name}: consent dispute of purpose {p}"
            );
            if s.consent_disputed {
                assert_eq!(s.consent_from, Decider::Action, "{name}: purpose {p}");
            }
            if TCF_LI_PURPOSES.contains(&p) {
                let li_bit = lis.contains(&u16::from(p));
                let objects = action == ConsentAction::ObjectLi;
                assert_eq!(
                    s.li_objected,
                    objects || !li_bit,
                    "{name}: LI of purpose {p}"
                );
                assert_eq!(
                    s.li_disputed,
                    objects && li_bit,
                    "{name}: LI dispute of purpose {p}"
                );
            }
            judged += 1;
        }
    }
    assert_eq!(judged, 5 * 11, "five action records judged");
}

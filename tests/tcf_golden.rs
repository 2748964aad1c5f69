//! Golden TC-string vectors: `make fixtures` has the IAB reference library
//! (@iabtcf/core, fixtures/gen/tcf-golden.mjs) encode every state of the fixture CMP and
//! read each string back; consentry's decoder must read the same, field by field.
//! Needs `make fixtures` (run by `make test`), hence the same gate as the browser tests.

use consentry::signals::tcf::decode;
use serde_json::Value;
use std::collections::BTreeSet;

fn ids(v: &Value) -> BTreeSet<u16> {
    v.as_array()
        .expect("an array of ids")
        .iter()
        .map(|x| x.as_u64().expect("an id") as u16)
        .collect()
}

#[test]
#[cfg_attr(
    not(feature = "browser-tests"),
    ignore = "needs `make fixtures` (run with --features browser-tests, as make test does)"
)]
fn reference_vectors_decode_identically() {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/fixtures/build/tcf-golden.json"
    );
    let text = std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("{path}: {e} (run `make fixtures`)"));
    let vectors: Vec<Value> = serde_json::from_str(&text).expect("golden JSON");
    let names: Vec<&str> = vectors.iter().filter_map(|v| v["name"].as_str()).collect();
    for wanted in [
        "accept_all",
        "reject_all",
        "object_li",
        "partial",
        "interim",
    ] {
        assert!(names.contains(&wanted), "no {wanted} vector in {names:?}");
    }
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

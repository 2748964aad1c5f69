//! Golden GPP-string vectors: `make fixtures` has the IAB's reference GPP library
//! (@iabgpp/cmpapi, fixtures/gen/gpp-golden.mjs) encode the fixture CMP's records, every
//! US state section both it and consentry know, and a TCF EU v2 section, and read each
//! string back; consentry's decoder (iab_gpp) must read the same, section by section.
//! Needs `make fixtures` (run by `make test`), hence the same gate as the browser tests.

mod common;

use common::golden::ids;
use consentry::signals::gpp::{decode_gpp, GppSection, OptOut};
use serde_json::Value;

/// The reference library's 2-bit opt-out field (`0`, `1`, `2`) or `uspv1` flag.
fn opt_out(v: &Value) -> OptOut {
    match v {
        Value::Number(n) if n.as_u64() == Some(1) => OptOut::OptedOut,
        Value::Number(n) if n.as_u64() == Some(2) => OptOut::DidNotOptOut,
        Value::Number(_) => OptOut::NotApplicable,
        Value::String(s) if s == "Y" => OptOut::OptedOut,
        Value::String(s) if s == "N" => OptOut::DidNotOptOut,
        other => panic!("unexpected opt-out value {other}"),
    }
}

fn check_section(ctx: &str, got: &GppSection, e: &Value) {
    assert_eq!(u64::from(got.id), e["id"].as_u64().unwrap(), "{ctx}: id");
    assert_eq!(got.name, e["name"].as_str().unwrap(), "{ctx}: name");
    assert_eq!(got.error, None, "{ctx}: {}", got.name);
    if let Some(t) = e.get("tcf") {
        let d = got.tcf.as_ref().expect("a TCF reading");
        assert_eq!(u64::from(d.cmp_id), t["cmp_id"].as_u64().unwrap(), "{ctx}");
        assert_eq!(d.purpose_consents, ids(&t["purpose_consents"]), "{ctx}");
        assert_eq!(
            d.purpose_legitimate_interests,
            ids(&t["purpose_legitimate_interests"]),
            "{ctx}"
        );
        assert_eq!(d.vendor_consents, ids(&t["vendor_consents"]), "{ctx}");
        assert_eq!(
            d.special_feature_optins,
            ids(&t["special_feature_optins"]),
            "{ctx}"
        );
        return;
    }
    let us = got.us.as_ref().expect("a US reading");
    let f = &e["fields"];
    let ctx = format!("{ctx}: {}", got.name);
    if got.name == "uspv1" {
        assert_eq!(us.sale_opt_out, Some(opt_out(&f["OptOutSale"])), "{ctx}");
        assert_eq!(
            us.mspa_covered_transaction,
            match f["LspaCovered"].as_str() {
                Some("Y") => Some(true),
                Some("N") => Some(false),
                _ => None,
            },
            "{ctx}"
        );
        return;
    }
    let field = |name: &str| f.get(name).map(opt_out);
    assert_eq!(us.sale_opt_out, field("SaleOptOut"), "{ctx}: sale");
    assert_eq!(us.sharing_opt_out, field("SharingOptOut"), "{ctx}: sharing");
    assert_eq!(
        us.targeted_advertising_opt_out,
        field("TargetedAdvertisingOptOut"),
        "{ctx}: targeted advertising"
    );
    assert_eq!(us.gpc, f.get("Gpc").and_then(Value::as_bool), "{ctx}: gpc");
    assert_eq!(
        us.mspa_covered_transaction,
        f.get("MspaCoveredTransaction")
            .and_then(Value::as_u64)
            .map(|v| v == 1),
        "{ctx}: mspa"
    );
}

#[test]
#[cfg_attr(
    not(feature = "browser-tests"),
    ignore = "needs `make fixtures` (run with --features browser-tests, as make test does)"
)]
fn reference_vectors_decode_identically() {
    let vectors = common::golden::vectors(
        "gpp-golden.json",
        &[
            "gpc_honoured",
            "gpc_ignored",
            "no_opt_out",
            "opted_out_by_link",
            "us_states",
            "tcfeuv2_and_usnat",
        ],
    );
    let mut sections = 0;
    for v in &vectors {
        let name = v["name"].as_str().unwrap_or("?");
        let s = v["gpp_string"].as_str().expect("gpp_string");
        let expected = v["expected"].as_array().expect("expected sections");
        let got = decode_gpp(s).unwrap_or_else(|e| panic!("{name} ({s}): {e}"));
        assert_eq!(got.len(), expected.len(), "{name} ({s}): {got:?}");
        for (g, e) in got.iter().zip(expected) {
            check_section(&format!("{name} ({s})"), g, e);
            sections += 1;
        }
    }
    // uspv1, usnat, usca four times; 15 state sections; tcfeuv2 and usnat.
    assert!(sections >= 29, "only {sections} sections compared");
}

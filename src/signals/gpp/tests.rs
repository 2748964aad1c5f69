//! GPP / US Privacy decoding: readings of strings made by the IAB's reference GPP library
//! (the full golden set is checked in tests/gpp_golden.rs against `make fixtures`' output),
//! request parameters, the page probe, hostile strings.

use super::*;
use crate::model::{ConsentState, TargetKind};

fn key() -> ValueHasher {
    ValueHasher::keyed(b"gpp tests")
}

// Made by @iabgpp/cmpapi 3.2.0 (fixtures/gen/gpp-golden.mjs): the fixture CMP's records.
const GPC_HONOURED: &str = "DBABzYA~1YYN~CVQVAAAAAACA.YA~BUUAAACA.YA";
const GPC_IGNORED: &str = "DBABzYA~1YNN~CVQqAAAAAACA.YA~BUoAAACA.YA";
const TCF_AND_USNAT: &str =
    "DBACMMA~CQu26YAQu26YAEsABAENAAFoAOAAAAIAAAAAF5wAwAFAAUAXmAAAAAAA.IAAA.YAAAAAAAAAAA~CAAQAAAAAACA.QA";

fn section<'a>(s: &'a GppSignal, name: &str) -> &'a GppSection {
    s.sections
        .iter()
        .find(|x| x.name == name)
        .unwrap_or_else(|| panic!("no {name} in {s:?}"))
}

#[test]
fn the_honoured_opt_out_is_read_in_every_section() {
    let s = GppSignal::from_gpp_string(GPC_HONOURED, &key());
    assert_eq!(s.error, None);
    let names: Vec<&str> = s.sections.iter().map(|x| x.name.as_str()).collect();
    assert_eq!(names, ["uspv1", "usnat", "usca"]);
    let nat = section(&s, "usnat").us.as_ref().unwrap();
    assert_eq!(
        nat.opted_out(),
        [
            UsBasis::Sale,
            UsBasis::Sharing,
            UsBasis::TargetedAdvertising
        ]
    );
    assert_eq!(nat.gpc, Some(true));
    assert_eq!(nat.mspa_covered_transaction, Some(false));
    let ca = section(&s, "usca").us.as_ref().unwrap();
    assert_eq!(ca.targeted_advertising_opt_out, None);
    assert_eq!(ca.opted_out(), [UsBasis::Sale, UsBasis::Sharing]);
    let usp = section(&s, "uspv1").us.as_ref().unwrap();
    assert_eq!(usp.opted_out(), [UsBasis::Sale]);
    assert_eq!(s.string_hash, key().hash(GPC_HONOURED));
    assert!(
        s.summary().contains("usnat: sale opted out"),
        "{}",
        s.summary()
    );
}

#[test]
fn the_ignored_opt_out_says_not_opted_out_with_gpc_seen() {
    let s = GppSignal::from_gpp_string(GPC_IGNORED, &key());
    for (sec, us) in s.us_sections() {
        assert!(us.opted_out().is_empty(), "{}", sec.describe());
        assert!(!us.not_opted_out().is_empty(), "{}", sec.describe());
    }
    assert_eq!(section(&s, "usnat").us.as_ref().unwrap().gpc, Some(true));
}

#[test]
fn a_tcf_section_is_read_as_a_tc_string() {
    let s = GppSignal::from_gpp_string(TCF_AND_USNAT, &key());
    let t = section(&s, "tcfeuv2").tcf.as_ref().expect("tcf read");
    assert_eq!(t.cmp_id, 300);
    assert_eq!(t.purpose_consents, [1, 2, 3].into());
    assert_eq!(t.vendor_consents, [10, 20, 755].into());
    let nat = section(&s, "usnat").us.as_ref().unwrap();
    assert_eq!(nat.sale_opt_out, Some(OptOut::OptedOut));
    assert_eq!(nat.sharing_opt_out, Some(OptOut::NotApplicable));
}

#[test]
fn usp_strings_decode_and_bad_ones_say_why() {
    let s = GppSignal::from_usp_string("1YNN", &key());
    assert_eq!(s.format, GppFormat::Usp);
    let us = s.sections[0].us.as_ref().unwrap();
    assert_eq!(us.sale_opt_out, Some(OptOut::DidNotOptOut));
    assert_eq!(us.mspa_covered_transaction, Some(false));
    let bad = GppSignal::from_usp_string("2YNN", &key());
    assert!(bad
        .error
        .as_deref()
        .unwrap()
        .starts_with("undecodable US Privacy string"));
    let long = GppSignal::from_usp_string(&"1".repeat(100), &key());
    assert!(long.error.as_deref().unwrap().contains("too long"));
}

#[test]
fn hostile_gpp_strings_are_errors_never_panics() {
    let too_long = "D".repeat(MAX_GPP_STRING_LEN + 1);
    let cases = [
        "",
        "~~~",
        "DBAB",
        "DBABzYA~1YNN",
        "zzzz~1YNN",
        "DBABzYA~1YNN~!!!!~BUoA",
        "DBABzYA~1YNN~C~B",
        too_long.as_str(),
    ];
    for c in cases {
        let s = GppSignal::from_gpp_string(c, &key());
        let broken = s.error.is_some() || s.sections.iter().any(|x| x.error.is_some());
        assert!(broken, "{c:?} decoded as {s:?}");
    }
    // Every truncation of a real string is an answer, never a panic.
    for i in 0..TCF_AND_USNAT.len() {
        let _ = GppSignal::from_gpp_string(&TCF_AND_USNAT[..i], &key());
    }
}

fn request(url: &str) -> RequestObs {
    RequestObs {
        url: url.to_string(),
        method: "GET".into(),
        resource_type: "Image".into(),
        initiator: None,
        frame_id: None,
        target: TargetKind::Page,
        status: Some(200),
        error: None,
        cancelled: false,
        frames: None,
        cause: None,
        time: Utc::now(),
        page: "https://www.gpp-shop.test/".into(),
        state: ConsentState::initial(),
        http: None,
    }
}

#[test]
fn requests_carry_gpp_with_its_sections_and_usp() {
    let url = format!(
        "https://ads.test/bid?gpp={}&gpp_sid=7,8&us_privacy=1YNN",
        GPC_IGNORED
    );
    let sigs = from_request(&request(&url), &key());
    assert_eq!(sigs.len(), 2);
    let SignalData::Gpp(g) = &sigs[0].data else {
        panic!("{sigs:?}")
    };
    assert_eq!(g.format, GppFormat::Gpp);
    assert_eq!(g.applicable_sections, Some(vec![7, 8]));
    let SignalData::Gpp(u) = &sigs[1].data else {
        panic!("{sigs:?}")
    };
    assert_eq!(u.format, GppFormat::Usp);
    // Macros and empty values are no signal.
    let none = from_request(
        &request("https://ads.test/bid?gpp=${GPP_STRING_755}&gpp_sid=&us_privacy="),
        &key(),
    );
    assert!(none.is_empty(), "{none:?}");
}

#[test]
fn probe_answers_become_page_signals() {
    let probe: GppProbe = serde_json::from_str(&format!(
        r#"{{"gpp":true,"answered":true,"command":"ping","gppString":"{GPC_HONOURED}",
        "applicableSections":[7,8],"cmpStatus":"loaded","signalStatus":"ready",
        "events":[{{"eventName":"sectionChange","gppString":"{GPC_IGNORED}","at":0}}],
        "usp":true,"uspAnswered":true,"uspString":"1YYN","uspCookie":"1YYN",
        "cookieDomain":"www.gpp-shop.test"}}"#
    ))
    .unwrap();
    let now = Utc::now();
    let state = ConsentState::initial();
    let sigs = probe.signals(&key(), now, "https://www.gpp-shop.test/", &state, |_| {
        state.clone()
    });
    let sources: Vec<String> = sigs.iter().map(|s| s.source.describe()).collect();
    assert_eq!(
        sources,
        [
            "__gpp addEventListener (sectionChange)",
            "__gpp ping",
            "__uspapi getUSPData",
            "cookie usprivacy@www.gpp-shop.test"
        ]
    );
    let SignalData::Gpp(g) = &sigs[1].data else {
        panic!()
    };
    assert_eq!(g.signal_status.as_deref(), Some("ready"));
    assert_eq!(g.applicable_sections, Some(vec![7, 8]));
}

//! The `gpp` family on hand-built observations: GPP strings made by the IAB's reference
//! library (the fixture CMP's records, fixtures/gen/gpp-golden.mjs).

use super::gpc::{analyze_with, gpc_policy, sent};
use super::*;
use crate::model::gpp::GppSignal;
use crate::signals::{SignalData, SignalObs, SignalSource};

const GPC_HONOURED: &str = "DBABzYA~1YYN~CVQVAAAAAACA.YA~BUUAAACA.YA";
const GPC_IGNORED: &str = "DBABzYA~1YNN~CVQqAAAAAACA.YA~BUoAAACA.YA";
const OPTED_OUT_BY_LINK: &str = "DBABzYA~1YYN~CVQVAAAAAACA.QA~BUUAAACA.QA";
const META: &str = "https://connect.facebook.net/tr";
const GA: &str = "https://www.google-analytics.com/g/collect";

/// The CMP's `__gpp` answer at `secs`, applicable sections usnat and usca.
fn cmp_record(secs: i64, s: &str) -> SignalObs {
    let mut g = GppSignal::from_gpp_string(s, &crate::model::ValueHasher::unkeyed());
    g.applicable_sections = Some(vec![7, 8]);
    SignalObs {
        time: t(secs),
        page: HOME.into(),
        state: ConsentState::initial(),
        source: SignalSource::PageApi {
            api: "__gpp ping".into(),
        },
        data: SignalData::Gpp(Box::new(g)),
    }
}

fn gpp_keys(f: &[Finding]) -> Vec<(&'static str, String, String, u32)> {
    keys(f)
        .into_iter()
        .filter(|k| k.0.starts_with("gpp-"))
        .collect()
}

fn with(mut obs: VisitObservation, signals: Vec<SignalObs>) -> VisitObservation {
    obs.signals.extend(signals);
    obs.signals.sort_by_key(|s| s.time);
    obs
}

#[test]
fn a_cmp_ignoring_gpc_and_the_string_vendors_get_are_flagged() {
    let obs = scenario("gpc")
        .at(2)
        .req(&format!("{META}?gpp={GPC_IGNORED}&gpp_sid=7,8"))
        .build();
    let f = analyze_with(
        &gpc_policy(),
        &[with(obs, vec![sent(3, 3), cmp_record(1, GPC_IGNORED)])],
    );
    // uspv1 is in the string but not among the applicable sections: not judged.
    assert_eq!(
        gpp_keys(&f),
        vec![
            key("gpp-opt-out-not-recorded", "gpc", "usca", 1),
            key("gpp-opt-out-not-recorded", "gpc", "usnat", 1),
            key("gpp-vendor-string-grants-opt-out", "gpc", "meta", 2),
        ]
    );
    let g = only(&f, Code::GppOptOutNotRecorded)
        .into_iter()
        .find(|g| g.subject == "usnat")
        .unwrap();
    assert_eq!(g.severity, Severity::High);
    let detail = g.evidence[0].detail.as_deref().unwrap_or_default();
    assert!(
        detail.starts_with("__gpp ping said usnat: sale not opted out"),
        "{detail}"
    );
    assert!(
        g.message.contains("sale, sharing, targeted advertising"),
        "{}",
        g.message
    );
}

#[test]
fn a_cmp_honouring_gpc_is_not_flagged() {
    let obs = scenario("gpc")
        .at(2)
        .req(&format!(
            "{META}?gpp={GPC_HONOURED}&gpp_sid=7,8&us_privacy=1YYN"
        ))
        .build();
    let f = analyze_with(
        &gpc_policy(),
        &[with(obs, vec![sent(3, 3), cmp_record(1, GPC_HONOURED)])],
    );
    assert!(gpp_keys(&f).is_empty(), "{f:#?}");
    // Without GPC and without an opt-out, a record saying "not opted out" is no finding.
    let obs = scenario("no_action")
        .at(2)
        .req(&format!("{META}?gpp={GPC_IGNORED}"))
        .build();
    let f = analyze_with(
        &gpc_policy(),
        &[with(obs, vec![cmp_record(1, GPC_IGNORED)])],
    );
    assert!(gpp_keys(&f).is_empty(), "{f:#?}");
}

#[test]
fn vendors_firing_after_the_recorded_opt_out_are_flagged_from_then_on() {
    let obs = scenario("us_opt_out")
        .at(0)
        .req(META)
        .at(5)
        .req(META)
        .req(GA)
        .at(6)
        .req(&format!("{META}?us_privacy=1YNN"))
        .build();
    let f = analyze_with(
        &gpc_policy(),
        &[with(
            obs,
            vec![cmp_record(1, GPC_IGNORED), cmp_record(4, OPTED_OUT_BY_LINK)],
        )],
    );
    // Before the opt-out nothing; after it Meta (advertising) twice, and its forged US
    // Privacy string; Google Analytics (analytics) is not judged.
    assert_eq!(
        gpp_keys(&f),
        vec![
            key("gpp-vendor-string-grants-opt-out", "us_opt_out", "meta", 1),
            key("gpp-vendor-after-opt-out", "us_opt_out", "meta", 2),
        ]
    );
    let g = only(&f, Code::GppVendorAfterOptOut)[0];
    assert!(
        g.evidence[0]
            .detail
            .as_deref()
            .unwrap_or_default()
            .ends_with("opted out of sale, sharing, targeted advertising"),
        "{g:#?}"
    );
    // With GPC, vendor-ignores-gpc reports those requests instead.
    let obs = scenario("gpc").at(5).req(META).build();
    let f = analyze_with(
        &gpc_policy(),
        &[with(obs, vec![sent(3, 3), cmp_record(4, GPC_HONOURED)])],
    );
    assert!(gpp_keys(&f).is_empty(), "{f:#?}");
}

//! Purpose mismatch both ways, on recorded observations (no browser): a declared vendor
//! known as advertising or analytics against its declared purposes, and a declared
//! cookie's retention against the Open Cookie Database's; without knowledge, nothing.

use super::*;
use crate::analysis::finding::Finding;
use crate::analysis::tests::{policy, scenario, site};
use crate::attribution::Attributor;
use crate::knowledge::{CookieEntry, CookieSet, Entity, KnowledgeBase, VendorSet};
use crate::policy::{CookieRule, LegalBasis};
use std::sync::Arc;

fn knowledge() -> Arc<KnowledgeBase> {
    let entity = |name: &str, category: &str, domains: &[&str]| Entity {
        name: name.into(),
        company: None,
        category: Some(category.into()),
        domains: domains.iter().map(|d| (*d).to_string()).collect(),
    };
    let cookie = |name: &str, platform: &str, category: &str, retention: &str| CookieEntry {
        name: name.into(),
        platform: platform.into(),
        category: Some(category.into()),
        retention: Some(retention.into()),
        controller: None,
        wildcard: false,
    };
    Arc::new(KnowledgeBase {
        user_vendors: None,
        vendors: Some(VendorSet::new(
            "third-party-web 0.30.0".into(),
            vec![
                entity("Google reCAPTCHA", "ad", &["*.recaptcha.net"]),
                entity("Google Analytics", "analytics", &["*.google-analytics.com"]),
                entity("Stripe", "utility", &["*.stripe.com"]),
                entity("Facebook", "ad", &["*.facebook.com"]),
            ],
        )),
        cookies: Some(CookieSet::new(
            "open-cookie-database (gdpr-cookie-scanner 3.8.2)".into(),
            vec![
                cookie("_ga", "Google Analytics", "Analytics", "2 years"),
                cookie("_fbp", "Facebook", "Marketing", "4 months"),
                cookie("_GRECAPTCHA", "Google reCAPTCHA", "Functional", "179 days"),
                cookie("sid", "Some platform", "Functional", "Unknown"),
            ],
        )),
        dir: None,
    })
}

fn run(policy: &crate::policy::Policy, kb: Option<Arc<KnowledgeBase>>) -> Vec<Finding> {
    let site = site();
    let obs = scenario("accept_all")
        .req("https://www.recaptcha.net/recaptcha/api.js")
        .req("https://www.google-analytics.com/g/collect")
        .req("https://js.stripe.com/v3/")
        .req("https://www.facebook.com/tr?id=1")
        .stored("_ga", Some(400))
        .stored("_fbp", Some(90))
        .stored("_GRECAPTCHA", Some(179))
        .stored("sid", None)
        .build();
    let mut attributor = Attributor::new(&site, policy);
    if let Some(kb) = kb {
        attributor = attributor.with_knowledge(kb);
    }
    let visits = vec![attributor.visit(&obs)];
    crate::analysis::analyze_run(&site, policy, &visits)
}

fn of(findings: &[Finding], code: Code) -> Vec<(String, Vec<String>)> {
    findings
        .iter()
        .filter(|f| f.code == code)
        .map(|f| {
            (
                f.subject.clone(),
                f.evidence.iter().filter_map(|e| e.detail.clone()).collect(),
            )
        })
        .collect()
}

#[test]
fn the_kinds_of_purposes_and_known_categories() {
    let p = |id: &str, sn: bool, tcf: Option<u8>, gpc: bool| Purpose {
        id: id.into(),
        name: id.into(),
        basis: LegalBasis::Consent,
        strictly_necessary: sn,
        tcf_purpose: tcf,
        gpc_opt_out: gpc,
        draft: false,
    };
    assert_eq!(
        purpose_kind(&p("security", true, Some(4), true)),
        Kind::Necessary
    );
    assert_eq!(
        purpose_kind(&p("x", false, Some(4), false)),
        Kind::Advertising
    );
    assert_eq!(
        purpose_kind(&p("x", false, Some(7), false)),
        Kind::Advertising
    );
    assert_eq!(
        purpose_kind(&p("x", false, Some(9), false)),
        Kind::Analytics
    );
    assert_eq!(
        purpose_kind(&p("advertising", false, Some(10), false)),
        Kind::Other
    );
    assert_eq!(
        purpose_kind(&p("brokering", false, None, true)),
        Kind::Advertising
    );
    assert_eq!(
        purpose_kind(&p("retargeting", false, None, false)),
        Kind::Advertising
    );
    assert_eq!(
        purpose_kind(&p("audience_stats", false, None, false)),
        Kind::Analytics
    );
    assert_eq!(purpose_kind(&p("payment", false, None, false)), Kind::Other);

    use Kind::*;
    assert!(contradicts(Advertising, &[Necessary]));
    assert!(contradicts(Advertising, &[Analytics, Other]));
    assert!(!contradicts(Advertising, &[Analytics, Advertising]));
    assert!(contradicts(Analytics, &[Necessary, Necessary]));
    assert!(!contradicts(Analytics, &[Necessary, Other]));
    assert!(!contradicts(Analytics, &[]));

    assert_eq!(known_retention_secs("2 years"), Some(63_115_200));
    assert_eq!(known_retention_secs("90 Days"), Some(90 * 86_400));
    assert_eq!(known_retention_secs("Session"), None);
    assert_eq!(known_retention_secs("End of session (browser)"), None);
    assert_eq!(known_retention_secs("Unknown"), None);
    assert_eq!(known_retention_secs("forever"), None);
}

#[test]
fn a_vendor_declared_for_security_and_known_as_advertising_is_reported_with_both_sides() {
    let findings = run(&policy(), Some(knowledge()));
    let got = of(&findings, Code::VendorKnownPurposeMismatch);
    // recaptcha: declared "security" (strictly necessary), known "ad": reported. meta:
    // declared advertising, known ad: not. google-analytics: declared analytics, known
    // analytics: not. stripe: known "utility", not judged.
    assert_eq!(
        got.iter().map(|(s, _)| s.as_str()).collect::<Vec<_>>(),
        ["recaptcha"],
        "{findings:#?}"
    );
    let detail = &got[0].1[0];
    assert!(
        detail.ends_with(
            "; known: Google reCAPTCHA, category ad, by pattern *.recaptcha.net in third-party-web 0.30.0; declared purposes: security (strictly necessary)"
        ),
        "{detail}"
    );
    let f = findings
        .iter()
        .find(|f| f.code == Code::VendorKnownPurposeMismatch)
        .map(|f| (f.severity, f.scenario.clone(), f.vendor.clone()));
    assert_eq!(
        f,
        Some((
            crate::analysis::finding::Severity::Low,
            None,
            Some("recaptcha".to_string())
        ))
    );
}

#[test]
fn a_vendor_known_as_analytics_is_reported_only_when_declared_strictly_necessary() {
    let mut p = policy();
    for v in p.vendors.iter_mut().filter(|v| v.id == "google-analytics") {
        v.purposes = vec!["necessary".into()];
    }
    let got = of(
        &run(&p, Some(knowledge())),
        Code::VendorKnownPurposeMismatch,
    );
    let mut subjects: Vec<&str> = got.iter().map(|(s, _)| s.as_str()).collect();
    subjects.sort_unstable();
    assert_eq!(subjects, ["google-analytics", "recaptcha"]);
    // The cookie's known category counts too: _ga is known "Analytics", and the request.
    let ga = &got
        .iter()
        .find(|(s, _)| s == "google-analytics")
        .expect("ga")
        .1;
    assert_eq!(ga.len(), 2, "the request and the stored _ga: {ga:?}");
    assert!(ga[0].contains("declared purposes: necessary (strictly necessary)"));
}

#[test]
fn a_cookie_declared_shorter_than_its_known_retention_is_reported_capped_at_400_days() {
    let mut p = policy();
    for c in p.cookies.iter_mut().filter(|c| c.name == "_ga") {
        c.max_retention = Retention::MaxSeconds(300 * 86_400);
    }
    let findings = run(&p, Some(knowledge()));
    let got = of(&findings, Code::CookieRetentionBelowKnown);
    // _ga: 300d declared, 2 years known, 400d in Chromium: reported. _fbp: 90d declared,
    // 4 months known: reported. _GRECAPTCHA: 180d declared, 179 days: not. sid: session
    // declared, "Unknown": not judged.
    let subjects: Vec<&str> = got.iter().map(|(s, _)| s.as_str()).collect();
    assert_eq!(subjects, ["_fbp", "_ga"], "{got:#?}");
    assert!(
        got[1].1[0].starts_with(
            "declared max_retention 300d (rule \"_ga\" of vendor \"google-analytics\"); typical retention 2 years, 400d in Chromium: known: Google Analytics, category Analytics"
        ),
        "{:?}",
        got[1].1
    );
    assert!(got[0].1[0].starts_with("declared max_retention 90d (rule \"_fbp\" of vendor \"meta\"); typical retention 4 months: "));

    // Within the source's precision (a tenth) and the tolerance: 390d for _ga (400 days
    // in Chromium), 111d for _fbp (4 months, 121.7 days): nothing. 108d for _fbp is out.
    let rules = |fbp_days: i64| {
        vec![
            CookieRule {
                name: "_ga".into(),
                vendor: "google-analytics".into(),
                max_retention: Retention::MaxSeconds(390 * 86_400),
                ..Default::default()
            },
            CookieRule {
                name: "_fbp".into(),
                vendor: "meta".into(),
                max_retention: Retention::MaxSeconds(fbp_days * 86_400),
                ..Default::default()
            },
        ]
    };
    let mut p = policy();
    p.cookies = rules(111);
    assert!(of(&run(&p, Some(knowledge())), Code::CookieRetentionBelowKnown).is_empty());
    p.cookies = rules(108);
    let got = of(&run(&p, Some(knowledge())), Code::CookieRetentionBelowKnown);
    assert_eq!(
        got.iter().map(|(s, _)| s.as_str()).collect::<Vec<_>>(),
        ["_fbp"]
    );
}

#[test]
fn without_knowledge_nothing_is_judged() {
    let findings = run(&policy(), None);
    assert!(of(&findings, Code::VendorKnownPurposeMismatch).is_empty());
    assert!(of(&findings, Code::CookieRetentionBelowKnown).is_empty());
}

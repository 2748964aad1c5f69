//! Drafting on recorded observations (no browser): vendors grouped by known entity or
//! domain, purposes from known categories, cookies with their owner and retention, every
//! entry a draft; the draft loads, and judging the same visits with it leaves only
//! draft-unconfirmed and what the site really did wrong.

use super::*;
use crate::analysis::finding::Code;
use crate::analysis::tests::{scenario, site};
use crate::attribution::Attributor;
use crate::knowledge::{CookieEntry, CookieSet, Entity, KnowledgeBase, VendorSet};
use crate::model::{ConsentAction, StoredCookie, VisitObservation};
use std::sync::Arc;

fn knowledge() -> Arc<KnowledgeBase> {
    let entity = |name: &str, category: &str, domains: &[&str]| Entity {
        name: name.into(),
        company: Some("Google".into()).filter(|_| name.starts_with("Google")),
        category: Some(category.into()),
        domains: domains.iter().map(|d| (*d).to_string()).collect(),
    };
    let cookie =
        |name: &str, platform: &str, category: &str, retention: &str, wildcard| CookieEntry {
            name: name.into(),
            platform: platform.into(),
            category: Some(category.into()),
            retention: Some(retention.into()),
            controller: None,
            wildcard,
        };
    Arc::new(KnowledgeBase {
        user_vendors: None,
        vendors: Some(VendorSet::new(
            "third-party-web 0.30.0".into(),
            vec![
                entity("Google Analytics", "analytics", &["*.google-analytics.com"]),
                entity(
                    "Google Tag Manager",
                    "tag-manager",
                    &["*.googletagmanager.com"],
                ),
                entity("Google CDN", "cdn", &["ajax.googleapis.com"]),
                entity("Facebook", "ad", &["*.facebook.com", "*.facebook.net"]),
            ],
        )),
        cookies: Some(CookieSet::new(
            "open-cookie-database (gdpr-cookie-scanner 3.8.2)".into(),
            vec![
                cookie("_ga", "Google Analytics", "Analytics", "2 years", false),
                cookie("_ga_", "Google Analytics", "Analytics", "2 years", true),
                cookie("_fbp", "Facebook", "Marketing", "3 months", false),
                cookie(
                    "cc_cookie",
                    "CookieConsent",
                    "Functional",
                    "6 months",
                    false,
                ),
            ],
        )),
        dir: None,
    })
}

fn third_party_cookie(obs: &mut VisitObservation, name: &str, domain: &str, days: i64) {
    let mut c: StoredCookie = obs.cookies[0].clone();
    c.name = name.into();
    c.domain = domain.into();
    c.expires = Some(c.observed_at + chrono::Duration::days(days));
    obs.cookies.push(c);
}

fn visits() -> Vec<VisitObservation> {
    let no_action = scenario("no_action")
        .req("https://www.shop.test/")
        .req("https://www.googletagmanager.com/gtm.js?id=GTM-1")
        .req("https://ajax.googleapis.com/ajax/libs/jquery.min.js")
        .req("https://px.tracker.example/p.gif")
        .stored("sid", None)
        .stored("cc_cookie", Some(182))
        .build();
    let mut accept = scenario("accept_all")
        .req("https://www.shop.test/")
        .req("https://www.googletagmanager.com/gtm.js?id=GTM-1")
        .req("https://ajax.googleapis.com/ajax/libs/jquery.min.js")
        .req("https://px.tracker.example/p.gif")
        .act(ConsentAction::AcceptAll)
        .req("https://www.google-analytics.com/g/collect?v=2")
        .req("https://connect.facebook.net/en_US/fbevents.js")
        .req("https://www.facebook.com/tr?id=1")
        .stored("sid", None)
        .stored("cc_cookie", Some(182))
        .stored("_ga", Some(400))
        .stored("_ga_ABC123", Some(400))
        .stored("_fbp", Some(90))
        .build();
    third_party_cookie(&mut accept, "fr", ".facebook.com", 90);
    vec![no_action, accept]
}

/// (id, domains, hosts, purposes)
type VendorRow = (String, Vec<String>, Vec<String>, Vec<String>);

fn source() -> DraftSource {
    DraftSource {
        command: "consentry init".into(),
        date: "2026-12-07".into(),
        from: "a visit of https://www.shop.test/ (no_action, accept_all)".into(),
        knowledge: None,
    }
}

fn drafted() -> Draft {
    let site = site();
    let empty = Policy::default();
    let attributor = Attributor::new(&site, &empty).with_knowledge(knowledge());
    let obs = visits();
    let attributed: Vec<_> = obs.iter().map(|o| attributor.visit(o)).collect();
    draft(&site, &attributed, &source())
}

#[test]
fn vendors_are_grouped_by_known_entity_or_domain_with_suggested_purposes() {
    let d = drafted();
    let vendors: Vec<VendorRow> = d
        .policy
        .vendors
        .iter()
        .map(|v| {
            (
                v.id.clone(),
                v.domains.iter().map(ToString::to_string).collect(),
                v.hosts.iter().map(ToString::to_string).collect(),
                v.purposes.clone(),
            )
        })
        .collect();
    let s = |v: &[&str]| v.iter().map(|x| (*x).to_string()).collect::<Vec<_>>();
    let want: Vec<VendorRow> = vec![
        (
            "shop".into(),
            s(&["shop.test", "shopcdn.test"]),
            s(&[]),
            s(&["necessary"]),
        ),
        (
            "facebook".into(),
            s(&["facebook.net", "facebook.com"]),
            s(&[]),
            s(&["advertising"]),
        ),
        (
            "google-analytics".into(),
            s(&["google-analytics.com"]),
            s(&[]),
            s(&["analytics"]),
        ),
        (
            "google-cdn".into(),
            s(&["ajax.googleapis.com"]),
            s(&[]),
            s(&["functional"]),
        ),
        (
            "google-tag-manager".into(),
            s(&["googletagmanager.com"]),
            s(&[]),
            s(&["functional"]),
        ),
        (
            "tracker-example".into(),
            s(&["tracker.example"]),
            s(&[]),
            s(&["unclassified"]),
        ),
    ];
    let sorted = |mut v: Vec<_>| {
        v.sort();
        v
    };
    assert_eq!(sorted(vendors.clone()), sorted(want), "{vendors:#?}");
    // Every vendor, purpose and cookie is a draft; every domain contacted is declared.
    assert!(d.policy.vendors.iter().all(|v| v.draft));
    assert!(d.policy.purposes.iter().all(|p| p.draft));
    assert!(d.policy.cookies.iter().all(|c| c.draft));
    assert_eq!(
        d.contacted,
        [
            "ajax.googleapis.com",
            "facebook.com",
            "facebook.net",
            "google-analytics.com",
            "googletagmanager.com",
            "tracker.example"
        ]
    );
    let purposes: Vec<(&str, LegalBasis, bool)> = d
        .policy
        .purposes
        .iter()
        .map(|p| (p.id.as_str(), p.basis, p.strictly_necessary))
        .collect();
    assert_eq!(
        purposes,
        [
            ("necessary", LegalBasis::LegitimateInterest, true),
            ("functional", LegalBasis::LegitimateInterest, true),
            ("analytics", LegalBasis::Consent, false),
            ("advertising", LegalBasis::Consent, false),
            ("unclassified", LegalBasis::Consent, false),
        ]
    );
}

#[test]
fn cookies_get_their_owner_and_the_longer_of_observed_and_typical_retention() {
    let d = drafted();
    let cookies: Vec<(String, String, String)> = d
        .policy
        .cookies
        .iter()
        .map(|c| (c.name.clone(), c.vendor.clone(), c.max_retention.describe()))
        .collect();
    let mut want: Vec<(String, String, String)> = [
        // Known platform named by a vendor's known entity.
        ("_ga", "google-analytics", "400d"),
        // A wildcard row: the rule covers every property's cookie.
        ("_ga_*", "google-analytics", "400d"),
        // 90 days observed; the typical 3 months is longer.
        ("_fbp", "facebook", "7890048s"),
        // A third-party cookie nothing knows: the vendor of its domain.
        ("fr", "facebook", "90d"),
        // A first-party functional cookie: the site's; 182 days observed, 6 months typical.
        ("cc_cookie", "shop", "15780096s"),
        ("sid", "shop", "session"),
    ]
    .iter()
    .map(|(a, b, c)| ((*a).to_string(), (*b).to_string(), (*c).to_string()))
    .collect();
    let mut got = cookies.clone();
    got.sort();
    want.sort();
    assert_eq!(got, want, "{cookies:#?}");
    let notes = &d.notes.cookies[&("_fbp".to_string(), "facebook".to_string())];
    assert!(
        notes
            .iter()
            .any(|l| l.contains("longer than the 90d observed")),
        "{notes:?}"
    );
    let tracker = &d.notes.vendors["tracker-example"];
    assert!(
        tracker
            .iter()
            .any(|l| l.contains("Not in the knowledge bases")),
        "{tracker:?}"
    );
    assert!(
        tracker
            .iter()
            .any(|l| l.contains("before any choice (in accept_all, no_action)")),
        "{tracker:?}"
    );
}

#[test]
fn the_draft_loads_and_judging_with_it_leaves_drafts_and_real_behaviour() {
    let d = drafted();
    let text = d.render();
    assert!(
        text.starts_with("# DRAFT of the declared map, written by `consentry init`"),
        "{text}"
    );
    let (policy, diags) =
        crate::policy::load::parse_policy(std::path::Path::new("shop.policy.toml"), &text);
    let policy = policy.unwrap_or_else(|| panic!("{diags}\n{text}"));
    assert_eq!(diags.errors() + diags.warnings(), 0, "{diags}\n{text}");
    let site = site();
    let attributor = Attributor::new(&site, &policy).with_knowledge(knowledge());
    let obs = visits();
    let attributed: Vec<_> = obs.iter().map(|o| attributor.visit(o)).collect();
    let mut findings: Vec<_> = attributed
        .iter()
        .flat_map(|v| crate::analysis::analyze_visit(&site, &policy, v))
        .collect();
    findings.extend(crate::analysis::analyze_run(&site, &policy, &attributed));
    let others: Vec<(Code, Option<String>, String)> = findings
        .iter()
        .filter(|f| f.code != Code::DraftUnconfirmed)
        .map(|f| (f.code, f.scenario.clone(), f.subject.clone()))
        .collect();
    // The unknown tracker fires before any choice: the draft gives it consent, so the
    // behaviour is still reported. Nothing else: no undeclared host or cookie, no
    // retention or purpose mismatch.
    assert_eq!(
        others,
        [
            (
                Code::ConsentVendorBeforeChoice,
                Some("no_action".to_string()),
                "tracker-example".to_string()
            ),
            (
                Code::ConsentVendorBeforeChoice,
                Some("accept_all".to_string()),
                "tracker-example".to_string()
            ),
        ],
        "{findings:#?}"
    );
    let drafts = findings
        .iter()
        .filter(|f| f.code == Code::DraftUnconfirmed)
        .count();
    assert_eq!(
        drafts,
        policy.purposes.len() + policy.vendors.len() + policy.cookies.len()
    );
}

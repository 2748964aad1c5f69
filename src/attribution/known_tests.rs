//! Known vendors and cookies (docs/knowledge.md) on recorded observations: attribution by
//! exact host, subdomain and pattern, cookies by exact name and prefix, and what the
//! findings and the inventory carry of it; without knowledge, nothing.

use super::*;
use crate::analysis::tests::{policy, scenario, site};
use crate::analysis::Code;
use crate::knowledge::{CookieEntry, CookieSet, Entity, KnowledgeBase, MatchKind, VendorSet};
use crate::model::ConsentAction;

fn knowledge() -> Arc<KnowledgeBase> {
    let entity = |name: &str, company: &str, category: &str, domains: &[&str]| Entity {
        name: name.into(),
        company: Some(company.into()),
        category: Some(category.into()),
        domains: domains.iter().map(|d| (*d).to_string()).collect(),
    };
    let cookie = |name: &str, platform: &str, wildcard: bool| CookieEntry {
        name: name.into(),
        platform: platform.into(),
        category: Some("Analytics".into()),
        retention: Some("2 years".into()),
        controller: Some("Google".into()),
        wildcard,
    };
    Arc::new(KnowledgeBase {
        user_vendors: None,
        vendors: Some(VendorSet::new(
            "third-party-web 0.30.0".into(),
            vec![
                entity(
                    "Google/Doubleclick Ads",
                    "Google",
                    "ad",
                    &["adservice.google.com", "*.doubleclick.net"],
                ),
                entity("Bing Ads", "Bing Ads", "ad", &["*.bing.com"]),
                entity(
                    "Google Analytics",
                    "Google",
                    "analytics",
                    &["*.google-analytics.com"],
                ),
                // A first-party domain listed too: never "known" for the site itself.
                entity("Shop CDN", "Shop", "cdn", &["*.shop.test"]),
            ],
        )),
        cookies: Some(CookieSet::new(
            "open-cookie-database (gdpr-cookie-scanner 3.8.2)".into(),
            vec![
                cookie("_ga", "Google Analytics", false),
                cookie("_ga_", "Google Analytics", true),
            ],
        )),
        dir: None,
    })
}

/// A visit before any choice: declared, known-undeclared and unknown hosts and cookies.
fn visit_obs() -> crate::model::VisitObservation {
    scenario("no_action")
        .req("https://bat.bing.com/action/0?ti=1")
        .req("https://adservice.google.com/ddm/fls")
        .req("https://eu.adservice.google.com/ddm/fls")
        .req("https://www.google-analytics.com/g/collect")
        .req("https://www.shop.test/app.js")
        .req("https://cdn.unknown-vendor.test/x.js")
        .write("_ga", Some(30))
        .write("_ga_ABC123", Some(30))
        .write("ab_test_variant", None)
        .stored("_ga_ABC123", Some(30))
        .build()
}

#[test]
fn hosts_are_known_by_exact_host_subdomain_and_pattern_beside_the_declared_vendor() {
    let (site, policy) = (site(), policy());
    let obs = visit_obs();
    let visit = Attributor::new(&site, &policy)
        .with_knowledge(knowledge())
        .visit(&obs);
    let by_host = |h: &str| {
        visit
            .requests
            .iter()
            .find(|(_, a)| a.host.as_deref() == Some(h))
            .map(|(_, a)| a)
            .unwrap_or_else(|| panic!("no request to {h}"))
    };
    let bing = by_host("bat.bing.com");
    let k = bing.known.as_ref().expect("bing is known");
    assert_eq!(
        (
            k.kind,
            k.rule().as_str(),
            k.company.as_str(),
            k.category.as_str()
        ),
        (MatchKind::Pattern, "pattern *.bing.com", "Bing Ads", "ad")
    );
    assert!(bing.vendor.is_none(), "known never makes a host declared");
    let k = by_host("adservice.google.com").known.clone().unwrap();
    assert_eq!((k.kind, k.company.as_str()), (MatchKind::Host, "Google"));
    let k = by_host("eu.adservice.google.com").known.clone().unwrap();
    assert_eq!(k.rule(), "subdomain of adservice.google.com");
    // Declared and known: two fields, each its own answer.
    let ga = by_host("www.google-analytics.com");
    assert_eq!(ga.vendor.map(|v| v.id.as_str()), Some("google-analytics"));
    assert_eq!(
        ga.known.as_ref().map(|k| k.name.as_str()),
        Some("Google Analytics")
    );
    assert!(by_host("www.shop.test").known.is_none(), "first party");
    assert!(by_host("cdn.unknown-vendor.test").known.is_none());

    let cookie = |name: &str| {
        visit
            .cookie_writes
            .iter()
            .find(|(w, _)| w.name == name)
            .map(|(_, a)| a.known.clone())
            .unwrap_or_else(|| panic!("no write of {name}"))
    };
    assert_eq!(cookie("_ga").map(|k| k.kind), Some(MatchKind::CookieName));
    let k = cookie("_ga_ABC123").expect("prefix");
    assert_eq!(
        (k.kind, k.rule().as_str()),
        (MatchKind::CookiePrefix, "cookie prefix _ga_*")
    );
    assert_eq!(k.retention.as_deref(), Some("2 years"));
    assert_eq!(cookie("ab_test_variant"), None);
}

#[test]
fn undeclared_findings_and_inventory_carry_the_known_company_category_and_rule() {
    let (site, policy) = (site(), policy());
    let obs = visit_obs();
    let visit = Attributor::new(&site, &policy)
        .with_knowledge(knowledge())
        .visit(&obs);
    let findings = crate::analysis::analyze_visit(&site, &policy, &visit);
    // The knowledge's say is the evidence's `known` field; the detail never carries it.
    assert!(findings.iter().flat_map(|f| &f.evidence).all(|e| !e
        .detail
        .as_deref()
        .unwrap_or_default()
        .contains("known:")));
    let known = |code: Code, subject: &str| -> Vec<String> {
        findings
            .iter()
            .filter(|f| f.code == code && f.subject == subject)
            .flat_map(|f| f.evidence.iter())
            .map(|e| {
                e.known
                    .as_ref()
                    .map(crate::knowledge::Known::describe)
                    .unwrap_or_default()
            })
            .collect()
    };
    let bing = known(Code::UndeclaredThirdParty, "bing.com");
    assert_eq!(
        bing,
        ["known: Bing Ads, category ad, by pattern *.bing.com in third-party-web 0.30.0"],
        "{findings:#?}"
    );
    let google = known(Code::UndeclaredThirdParty, "google.com");
    assert!(
        google
            .iter()
            .any(|d| d.contains("by host adservice.google.com"))
            && google
                .iter()
                .any(|d| d.contains("by subdomain of adservice.google.com")),
        "{google:?}"
    );
    // The finding's vendor stays the declared map's: none.
    assert!(findings
        .iter()
        .filter(|f| f.code == Code::UndeclaredThirdParty)
        .all(|f| f.vendor.is_none()));
    let unknown = known(Code::UndeclaredThirdParty, "unknown-vendor.test");
    assert!(
        !unknown.is_empty() && unknown.iter().all(String::is_empty),
        "{unknown:?}"
    );
    let prefixed = known(Code::UndeclaredCookie, "_ga_ABC123");
    assert_eq!(prefixed.len(), 2, "a write and a stored copy: {prefixed:?}");
    assert!(
        prefixed.iter().all(|d| d
            == "known: Google Analytics (Google), category Analytics, typical retention 2 years, by cookie prefix _ga_* in open-cookie-database (gdpr-cookie-scanner 3.8.2)"),
        "{prefixed:?}"
    );
    let ab = known(Code::UndeclaredCookie, "ab_test_variant");
    assert!(!ab.is_empty() && ab.iter().all(String::is_empty), "{ab:?}");

    // The knowledge never changes what a finding is: without it, the same findings with
    // the same fingerprints, details and evidence, but for `known`.
    let plain = crate::analysis::analyze_visit(
        &site,
        &policy,
        &Attributor::new(&site, &policy).visit(&obs),
    );
    let mut stripped = findings.clone();
    for e in stripped.iter_mut().flat_map(|f| f.evidence.iter_mut()) {
        e.known = None;
    }
    assert_eq!(stripped, plain);
    assert!(findings.iter().any(|f| f.known().is_some()));

    let inventory = crate::inventory::of_visit(&visit);
    let item = |item: &str| {
        inventory
            .items
            .iter()
            .find(|i| i.item == item)
            .unwrap_or_else(|| panic!("no inventory item {item}"))
    };
    assert_eq!(
        item("bat.bing.com").detail.as_deref(),
        Some("known: Bing Ads, category ad, by pattern *.bing.com in third-party-web 0.30.0")
    );
    // Declared: the inventory names the declared vendor, and no knowledge beside it.
    let ga = item("www.google-analytics.com");
    assert_eq!(
        (ga.vendor.as_deref(), ga.detail.as_deref()),
        (Some("google-analytics"), None)
    );
    assert!(item("_ga_ABC123@shop.test")
        .detail
        .as_deref()
        .is_some_and(|d| d.contains("by cookie prefix _ga_*")));
    assert_eq!(item("_ga@shop.test").detail, None, "declared cookie");
}

#[test]
fn without_a_knowledge_base_nothing_is_known_and_findings_are_unchanged() {
    let (site, policy) = (site(), policy());
    let obs = visit_obs();
    let plain = Attributor::new(&site, &policy).visit(&obs);
    let empty = Attributor::new(&site, &policy)
        .with_knowledge(Arc::new(KnowledgeBase::empty()))
        .visit(&obs);
    for visit in [&plain, &empty] {
        assert!(visit.requests.iter().all(|(_, a)| a.known.is_none()));
        assert!(visit.cookie_writes.iter().all(|(_, a)| a.known.is_none()));
        assert!(crate::inventory::of_visit(visit)
            .items
            .iter()
            .all(|i| i.detail.is_none()));
    }
    let a = crate::analysis::analyze_visit(&site, &policy, &plain);
    let b = crate::analysis::analyze_visit(&site, &policy, &empty);
    assert_eq!(a, b);
    assert!(a.iter().all(|f| f.known().is_none()));
    // A later phase attributes the same way (the knowledge does not depend on consent).
    let after = scenario("accept_all")
        .act(ConsentAction::AcceptAll)
        .req("https://bat.bing.com/action/0")
        .build();
    let v = Attributor::new(&site, &policy)
        .with_knowledge(knowledge())
        .visit(&after);
    assert!(v.requests[0].1.known.is_some());
}

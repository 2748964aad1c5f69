//! Consent Mode checks on hand-built observations (the builders of `analysis::tests`).

use crate::analysis::tests::{policy, scenario, site};
use crate::analysis::{analyze, Code, Finding};
use crate::model::{ConsentAction, VisitObservation};
use crate::policy::{ConsentMode, DomainPattern, Policy};

const GTAG: &str = "https://www.googletagmanager.com/gtag/js?id=G-1";

fn collect(params: &str) -> String {
    format!("https://www.google-analytics.com/g/collect?v=2&tid=G-1&en=page_view{params}")
}

fn with_mode(mode: ConsentMode) -> Policy {
    let mut p = policy();
    if let Some(v) = p.vendors.iter_mut().find(|v| v.id == "google-analytics") {
        v.consent_mode = Some(mode);
        v.domains
            .push(DomainPattern::parse("googletagmanager.com").expect("domain"));
    }
    p
}

fn run(mode: ConsentMode, obs: &[VisitObservation]) -> Vec<Finding> {
    let mut f = analyze(&site(), &with_mode(mode), obs);
    f.retain(|f| f.code != Code::DeclaredVendorUnobserved);
    f
}

fn keys(f: &[Finding]) -> Vec<(String, String, u32)> {
    f.iter()
        .map(|f| {
            (
                f.code.as_str().to_string(),
                f.subject.clone(),
                f.occurrences,
            )
        })
        .collect()
}

fn k(code: &str, subject: &str, n: u32) -> (String, String, u32) {
    (code.to_string(), subject.to_string(), n)
}

fn finding(f: &[Finding], code: Code) -> &Finding {
    f.iter()
        .find(|x| x.code == code)
        .unwrap_or_else(|| panic!("no {code} in {:#?}", keys(f)))
}

#[test]
fn advanced_cookieless_pings_before_choice_and_after_reject_are_compliant() {
    let obs = scenario("reject_all")
        .req(GTAG)
        .req(&collect("&gcs=G100&gcd=11p1p1p1p5"))
        .act(ConsentAction::RejectAll)
        .req(&collect("&gcs=G100&gcd=13q3q3q2q5l1"))
        .build();
    assert_eq!(keys(&run(ConsentMode::Advanced, &[obs])), vec![]);
}

#[test]
fn basic_mode_keeps_every_google_request_without_consent_a_violation() {
    let obs = scenario("reject_all")
        .req(GTAG)
        .req(&collect("&gcs=G100&gcd=11p1p1p1p5"))
        .act(ConsentAction::RejectAll)
        .req(&collect("&gcs=G100&gcd=11q1q1q1q5"))
        .build();
    assert_eq!(
        keys(&run(ConsentMode::Basic, &[obs])),
        vec![
            k("consent-vendor-after-reject", "google-analytics", 1),
            k("consent-vendor-before-choice", "google-analytics", 2),
        ]
    );
}

#[test]
fn granted_after_reject_is_flagged_with_the_decoded_state() {
    let obs = scenario("reject_all")
        .req(&collect("&gcs=G100&gcd=11p1p1p1p5"))
        .act(ConsentAction::RejectAll)
        .req(&collect("&gcs=G110&gcd=11r1p1p1p5"))
        .build();
    let f = run(ConsentMode::Advanced, &[obs]);
    assert_eq!(
        keys(&f),
        vec![
            k("consent-vendor-after-reject", "google-analytics", 1),
            k("consent-mode-granted-after-reject", "google-analytics", 1),
        ]
    );
    let g = finding(&f, Code::ConsentModeGrantedAfterReject);
    let e = &g.evidence[0];
    assert_eq!(e.phase, "after-reject_all");
    assert!(e
        .request_url
        .as_deref()
        .is_some_and(|u| u.contains("gcs=G110")));
    let detail = e.detail.as_deref().unwrap_or_default();
    assert!(
        detail.starts_with(
            "gcs=G110 gcd=11r1p1p1p5 (ad_storage granted (default denied, updated), analytics_storage denied (default)"
        ),
        "{detail}"
    );
    assert!(
        g.message
            .contains("told ad_storage granted after the visitor rejected"),
        "{}",
        g.message
    );
    assert!(g.rule.contains("consent_mode = \"advanced\""), "{}", g.rule);
    assert_eq!(g.vendor.as_deref(), Some("google-analytics"));
}

#[test]
fn granted_before_choice_and_ad_signals_without_consent() {
    let obs = scenario("no_action")
        .req(&collect("&gcs=G101&gcd=11p1t1p1p5"))
        .req(&collect("&gcs=G100&gcd=11p1p1t1t5"))
        .build();
    let f = run(ConsentMode::Advanced, &[obs]);
    assert_eq!(
        keys(&f),
        vec![
            k("consent-vendor-before-choice", "google-analytics", 2),
            k("consent-mode-granted-before-choice", "google-analytics", 1),
            k(
                "consent-mode-ad-signals-without-consent",
                "google-analytics",
                1
            ),
        ]
    );
    // The vendor check's evidence says why the hit was not a cookieless ping.
    let v = finding(&f, Code::ConsentVendorBeforeChoice);
    assert!(
        v.evidence[1]
            .detail
            .as_deref()
            .is_some_and(|d| d.contains("; Consent Mode gcs=G100 gcd=11p1p1t1t5 (")),
        "{:?}",
        v.evidence[1].detail
    );
    let a = finding(&f, Code::ConsentModeAdSignalsWithoutConsent);
    assert!(
        a.message
            .contains("told ad_user_data, ad_personalization granted"),
        "{}",
        a.message
    );
    assert!(a.evidence[0]
        .detail
        .as_deref()
        .is_some_and(|d| d.contains("ad_user_data granted (default)")));
}

#[test]
fn granted_states_after_accept_are_allowed() {
    let obs = scenario("accept_all")
        .req(&collect("&gcs=G100&gcd=11p1p1p1p5"))
        .act(ConsentAction::AcceptAll)
        .req(&collect("&gcs=G111&gcd=11r1r1r1r5"))
        .write("_ga", Some(390))
        .req(&collect("&gcs=G111&gcd=11r1r1r1r5"))
        .build();
    assert_eq!(keys(&run(ConsentMode::Advanced, &[obs])), vec![]);
}

#[test]
fn a_hit_without_default_is_flagged_and_not_exempt() {
    let obs = scenario("no_action")
        .req(&collect(""))
        .req(&collect("&gcd=11l1l1l1l5"))
        .req(&collect("&gcs=G100&gcd=11p1m1p1p5"))
        .build();
    let f = run(ConsentMode::Advanced, &[obs]);
    assert_eq!(
        keys(&f),
        vec![
            k("consent-vendor-before-choice", "google-analytics", 2),
            k("consent-mode-default-missing", "google-analytics", 3),
        ]
    );
    let d = finding(&f, Code::ConsentModeDefaultMissing);
    let details: Vec<&str> = d
        .evidence
        .iter()
        .filter_map(|e| e.detail.as_deref())
        .collect();
    assert!(
        details[0].starts_with("no Consent Mode parameter (no gcs, no gcd)"),
        "{details:?}"
    );
    assert!(details[1].contains("ad_storage not set"), "{details:?}");
    assert!(
        d.message.contains(
            "was sent a hit with no Consent Mode default for ad_storage, analytics_storage"
        ),
        "{}",
        d.message
    );
}

#[test]
fn default_missing_needs_a_declared_consent_mode_and_no_consent() {
    // Declared without consent_mode: a hit without parameters is only the vendor check's.
    let mut p = policy();
    if let Some(v) = p.vendors.iter_mut().find(|v| v.id == "google-analytics") {
        v.consent_mode = None;
    }
    let obs = scenario("accept_all")
        .req(&collect(""))
        .act(ConsentAction::AcceptAll)
        .req(&collect(""))
        .build();
    let f = analyze(&site(), &p, std::slice::from_ref(&obs));
    assert!(f.iter().all(|f| f.code != Code::ConsentModeDefaultMissing));
    // Declared: the hit before the click is flagged, the one after it is not.
    let f = run(ConsentMode::Basic, &[obs]);
    assert_eq!(finding(&f, Code::ConsentModeDefaultMissing).occurrences, 1);
}

#[test]
fn undecodable_state_is_not_a_cookieless_ping() {
    let obs = scenario("no_action")
        .req(&collect("&gcs=G100&gcd=11p1x1p1p5"))
        .build();
    let f = run(ConsentMode::Advanced, &[obs]);
    let v = finding(&f, Code::ConsentVendorBeforeChoice);
    assert_eq!(v.occurrences, 1);
}

#[test]
fn identifier_cookie_written_while_denied_is_flagged_and_ends_the_exemption() {
    let obs = scenario("no_action")
        .req(&collect("&gcs=G100&gcd=11p1p1p1p5"))
        .write("_ga", Some(390))
        .req(&collect("&gcs=G100&gcd=11p1p1p1p5"))
        .build();
    let f = run(ConsentMode::Advanced, &[obs]);
    assert_eq!(
        keys(&f),
        vec![
            k("consent-vendor-before-choice", "google-analytics", 1),
            k("consent-cookie-without-consent", "_ga", 1),
            k("consent-mode-cookie-while-denied", "_ga", 1),
        ]
    );
    let c = finding(&f, Code::ConsentModeCookieWhileDenied);
    let e = &c.evidence[0];
    assert_eq!(e.cookie.as_deref(), Some("_ga@.shop.test"));
    assert!(e
        .request_url
        .as_deref()
        .is_some_and(|u| u.contains("gcs=G100")));
    let detail = e.detail.as_deref().unwrap_or_default();
    assert!(
        detail.contains("written via document.cookie; Consent Mode state gcs=G100 gcd=11p1p1p1p5 (ad_storage denied (default), analytics_storage denied (default)"),
        "{detail}"
    );
    assert!(
        detail.contains("from https://www.google-analytics.com/g/collect at "),
        "{detail}"
    );
    assert_eq!(c.vendor.as_deref(), Some("google-analytics"));
    assert!(
        c.rule.contains("while analytics_storage is denied"),
        "{}",
        c.rule
    );
}

#[test]
fn cookie_written_before_the_first_hit_is_judged_by_its_default() {
    // Written before the first hit, which carries only a default: denied at the write.
    let denied = scenario("no_action")
        .write("_gcl_au", Some(90))
        .req(&collect("&gcs=G100&gcd=11p1p1p1p5"))
        .build();
    let f = run(ConsentMode::Advanced, &[denied]);
    assert!(f
        .iter()
        .any(|f| f.code == Code::ConsentModeCookieWhileDenied && f.subject == "_gcl_au"));
    // Denied by default and by the update: denied whichever held at the write.
    let both = scenario("no_action")
        .write("_gcl_au", Some(90))
        .req(&collect("&gcs=G100&gcd=11q1q1q1q5"))
        .build();
    let f = run(ConsentMode::Advanced, &[both]);
    assert!(f
        .iter()
        .any(|f| f.code == Code::ConsentModeCookieWhileDenied && f.subject == "_gcl_au"));
    // Granted by default, then denied: what held at the write is unknown.
    let updated = scenario("no_action")
        .write("_gcl_au", Some(90))
        .req(&collect("&gcs=G100&gcd=11u1u1u1u5"))
        .build();
    let f = run(ConsentMode::Advanced, &[updated]);
    assert!(f
        .iter()
        .all(|f| f.code != Code::ConsentModeCookieWhileDenied));
    // No Consent Mode state on the page at all: not judged here.
    let none = scenario("no_action").write("_ga", Some(390)).build();
    let f = run(ConsentMode::Advanced, &[none]);
    assert!(f
        .iter()
        .all(|f| f.code != Code::ConsentModeCookieWhileDenied));
}

#[test]
fn cookie_written_between_a_denied_and_a_granted_hit_is_not_judged() {
    // gtag writes _ga on the update's hit before sending it: the write follows a denied
    // hit and precedes the granted one.
    let obs = scenario("accept_all")
        .req(&collect("&gcs=G100&gcd=11p1p1p1p5"))
        .act(ConsentAction::AcceptAll)
        .write("_ga", Some(390))
        .req(&collect("&gcs=G111&gcd=11r1r1r1r5"))
        .build();
    assert_eq!(keys(&run(ConsentMode::Advanced, &[obs])), vec![]);
    // Between two denied hits: denied.
    let obs = scenario("reject_all")
        .req(&collect("&gcs=G100&gcd=11p1p1p1p5"))
        .act(ConsentAction::RejectAll)
        .write("_ga", Some(390))
        .req(&collect("&gcs=G100&gcd=11q1q1q1q5"))
        .build();
    let f = run(ConsentMode::Advanced, &[obs]);
    assert!(f
        .iter()
        .any(|f| f.code == Code::ConsentModeCookieWhileDenied && f.subject == "_ga"));
}

#[test]
fn a_deleted_identifier_cookie_no_longer_ends_the_exemption() {
    let obs = scenario("reject_all")
        .act(ConsentAction::AcceptAll)
        .write("_ga", Some(390))
        .act(ConsentAction::RejectAll)
        .write_secs("_ga", Some(0))
        .req(&collect("&gcs=G100&gcd=11u1u1u1u5"))
        .build();
    assert_eq!(keys(&run(ConsentMode::Advanced, &[obs])), vec![]);
    // Not deleted: the ping after the reject could read it.
    let obs = scenario("reject_all")
        .act(ConsentAction::AcceptAll)
        .write("_ga", Some(390))
        .act(ConsentAction::RejectAll)
        .req(&collect("&gcs=G100&gcd=11u1u1u1u5"))
        .build();
    let f = run(ConsentMode::Advanced, &[obs]);
    assert_eq!(finding(&f, Code::ConsentVendorAfterReject).occurrences, 1);
}

#[test]
fn identifier_cookie_set_by_the_ping_itself_is_not_cookieless() {
    let url = collect("&gcs=G100&gcd=11p1p1p1p5");
    let obs = scenario("no_action")
        .req(&url)
        .header_write("_gcl_au", &url, 90)
        .build();
    let f = run(ConsentMode::Advanced, &[obs]);
    assert_eq!(finding(&f, Code::ConsentVendorBeforeChoice).occurrences, 1);
    let c = finding(&f, Code::ConsentModeCookieWhileDenied);
    assert_eq!(c.evidence[0].request_url.as_deref(), Some(url.as_str()));
}

#[test]
fn request_signals_are_derived_for_google_requests_only() {
    let obs = scenario("no_action")
        .req(GTAG)
        .req(&collect("&gcs=G100&gcd=11p1p1p1p5"))
        .req("https://www.shop.test/?gcs=G111")
        .req(&collect("&gcd=garbage"))
        .build();
    let signals =
        crate::signals::from_requests(&obs.requests, &crate::model::ValueHasher::unkeyed());
    assert_eq!(signals.len(), 2);
    let crate::signals::SignalData::ConsentMode(s) = &signals[0].data else {
        panic!("not a Consent Mode signal");
    };
    assert!(s.all_denied());
    assert_eq!(signals[0].state.phase(), "before-choice");
    assert!(matches!(
        &signals[0].source,
        crate::signals::SignalSource::Request { url } if url.contains("gcs=G100")
    ));
    assert!(signals[1]
        .data
        .summary()
        .contains("undecodable gcd `garbage`"));
}

// ---------------------------------------------------------------------------------------
// The one exemption rule: every check that judges whether a vendor may be contacted
// reads attribution's `cookieless_ping`, TCF ones included.

/// The fixture CMP's "Object all" record, as @iabtcf/core encodes it (the `object_li`
/// golden vector of fixtures/gen/tcf-golden.mjs): no consent, no legitimate interest.
const TCF_OBJECT_LI: &str = "CQu26YAQu26YAEsAHBENDIFgAAAAAAAAAAYgAAAAAAAA.YAAAAAAAAAAA";

/// Google Analytics in `advanced` mode, TCF vendor 10 on consent for purpose 1, and
/// relying on `basis` ("analytics": consent; "measurement": legitimate interest).
fn advanced_tcf(purpose: &str) -> Policy {
    let mut p = with_mode(ConsentMode::Advanced);
    if let Some(v) = p.vendors.iter_mut().find(|v| v.id == "google-analytics") {
        v.purposes = vec![purpose.to_string()];
        v.tcf = Some(crate::policy::TcfDeclaration {
            vendor_id: Some(10),
            consent_purposes: vec![1],
            ..Default::default()
        });
    }
    p
}

fn run_with(policy: &Policy, obs: &[VisitObservation]) -> Vec<Finding> {
    let mut f = analyze(&site(), policy, obs);
    f.retain(|f| f.code != Code::DeclaredVendorUnobserved);
    f
}

#[test]
fn cookieless_pings_are_exempt_from_the_tcf_basis_check_too() {
    // After "Object all" the CMP's record gives vendor 10 nothing; its pings stay
    // cookieless (every storage type denied).
    let obs = scenario("object_li")
        .act(ConsentAction::ObjectLi)
        .cmp_tcf(TCF_OBJECT_LI)
        .req(GTAG)
        .req(&collect("&gcs=G100&gcd=13q3q3q2q5l1"))
        .req(&collect("&gcs=G100&gcd=13q3q3q2q5l1&en=scroll"))
        .build();
    let policy = advanced_tcf("analytics");
    assert_eq!(keys(&run_with(&policy, &[obs])), vec![]);

    // A hit that says analytics storage granted is no cookieless ping: flagged by the
    // TCF check (and by the request and Consent Mode checks), once.
    let obs = scenario("object_li")
        .act(ConsentAction::ObjectLi)
        .cmp_tcf(TCF_OBJECT_LI)
        .req(GTAG)
        .req(&collect("&gcs=G101&gcd=13q3r3q2q5l1"))
        .build();
    let f = run_with(&policy, &[obs]);
    let basis = finding(&f, Code::TcfVendorWithoutBasis);
    assert_eq!(
        (basis.subject.as_str(), basis.occurrences),
        ("google-analytics", 1)
    );
    assert!(basis.evidence[0]
        .request_url
        .as_deref()
        .is_some_and(|u| u.contains("gcs=G101")));
    assert_eq!(finding(&f, Code::ConsentVendorBeforeChoice).occurrences, 1);
}

#[test]
fn cookieless_pings_are_exempt_from_the_objection_check_unless_a_cookie_is_involved() {
    let policy = advanced_tcf("measurement");
    let obs = scenario("object_li")
        .act(ConsentAction::ObjectLi)
        .req(GTAG)
        .req(&collect("&gcs=G100&gcd=13q3q3q2q5l1"))
        .build();
    assert_eq!(keys(&run_with(&policy, &[obs])), vec![]);
    // `_ga` alive on the page: the ping could read it, so it is judged.
    let obs = scenario("object_li")
        .write("_ga", Some(390))
        .act(ConsentAction::ObjectLi)
        .req(&collect("&gcs=G100&gcd=13q3q3q2q5l1"))
        .build();
    let f = run_with(&policy, &[obs]);
    assert_eq!(finding(&f, Code::LiVendorAfterObjection).occurrences, 1);
}

/// The fact is derived once, by attribution, and the inventory reads it too: a
/// cookieless ping counts as a request, never as an unauthorized one.
#[test]
fn attribution_derives_the_cookieless_fact_and_the_inventory_reads_it() {
    let policy = advanced_tcf("analytics");
    let obs = scenario("reject_all")
        .act(ConsentAction::RejectAll)
        .req(GTAG)
        .req(&collect("&gcs=G100&gcd=13q3q3q2q5l1"))
        .req(&collect("&gcs=G101&gcd=13q3r3q2q5l1"))
        .req("https://www.google-analytics.com/g/collect?v=2&tid=G-1&en=page_view")
        .build();
    let s = site();
    let visit = crate::attribution::Attributor::new(&s, &policy).visit(&obs);
    let pings: Vec<bool> = visit
        .requests
        .iter()
        .map(|(_, a)| a.cookieless_ping)
        .collect();
    // The library load and the all-denied hit; not the granted hit, nor a hit with no
    // Consent Mode state.
    assert_eq!(pings, vec![true, true, false, false]);
    let inv = crate::inventory::of_visit(&visit);
    let ga = inv
        .vendors
        .iter()
        .find(|v| v.vendor == "google-analytics")
        .expect("google-analytics in the inventory");
    assert_eq!((ga.requests, ga.unauthorized), (4, 2));
    // A vendor in `basic` mode has no cookieless pings.
    let basic = with_mode(ConsentMode::Basic);
    let visit = crate::attribution::Attributor::new(&s, &basic).visit(&obs);
    assert!(visit.requests.iter().all(|(_, a)| !a.cookieless_ping));
}

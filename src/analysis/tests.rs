//! Rule tests on small hand-built declared maps and observations.

use super::*;
use crate::model::{
    ConsentAction, ConsentEffect, ConsentState, CookieSource, CookieWrite, RequestObs,
    StoredCookie, TargetKind, VisitObservation, VisitStatus, VisitTimings,
};
use crate::policy::{CookieRule, DomainPattern, LegalBasis, Policy, Purpose, Retention, Vendor};
use crate::scenario::Site;
use chrono::{DateTime, Duration, TimeZone, Utc};
use std::path::PathBuf;

// ---------------------------------------------------------------------------------------
// builders

pub(crate) fn t(secs: i64) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 1, 1, 10, 0, 0)
        .single()
        .expect("valid time")
        + Duration::seconds(secs)
}

const HOME: &str = "https://www.shop.test/";

pub(crate) fn site() -> Site {
    let base = url::Url::parse(HOME).expect("url");
    Site {
        name: "shop".into(),
        pages: vec![base.clone(), base.join("/checkout").expect("url")],
        base_url: base,
        first_party_domains: vec!["shop.test".into(), "shopcdn.test".into()],
        secrets: Default::default(),
        crawl: None,
    }
}

fn purpose(id: &str, basis: LegalBasis, strictly_necessary: bool) -> Purpose {
    Purpose {
        id: id.into(),
        name: id.into(),
        basis,
        strictly_necessary,
        tcf_purpose: None,
        gpc_opt_out: false,
        draft: false,
    }
}

fn vendor(id: &str, name: &str, domains: &[&str], purposes: &[&str]) -> Vendor {
    Vendor {
        id: id.into(),
        name: name.into(),
        domains: domains
            .iter()
            .map(|d| DomainPattern::parse(d).expect("domain"))
            .collect(),
        purposes: purposes.iter().map(|p| p.to_string()).collect(),
        ..Default::default()
    }
}

fn cookie(name: &str, vendor: &str, retention: &str) -> CookieRule {
    CookieRule {
        name: name.into(),
        vendor: vendor.into(),
        max_retention: Retention::parse(retention).expect("retention"),
        ..Default::default()
    }
}

/// A small mirror of the demo shop's declared map.
pub(crate) fn policy() -> Policy {
    Policy {
        path: PathBuf::from("shop.policy.toml"),
        purposes: vec![
            purpose("necessary", LegalBasis::LegalObligation, true),
            purpose("payment", LegalBasis::Contract, false),
            purpose("security", LegalBasis::LegitimateInterest, true),
            purpose("analytics", LegalBasis::Consent, false),
            purpose("advertising", LegalBasis::Consent, false),
            purpose("measurement", LegalBasis::LegitimateInterest, false),
        ],
        vendors: vec![
            vendor("shop", "Shop (first party)", &["shop.test"], &["necessary"]),
            vendor(
                "shop-metrics",
                "Shop metrics",
                &["metrics.shop.test"],
                &["analytics"],
            ),
            vendor("stripe", "Stripe", &["stripe.com"], &["payment"]),
            vendor(
                "recaptcha",
                "Google reCAPTCHA",
                &["recaptcha.net"],
                &["security"],
            ),
            vendor(
                "google-analytics",
                "Google Analytics",
                &["google-analytics.com"],
                &["analytics"],
            ),
            vendor(
                "meta",
                "Meta Pixel",
                &["connect.facebook.net", "facebook.com"],
                &["advertising"],
            ),
            vendor(
                "scorecard",
                "Comscore",
                &["scorecardresearch.com"],
                &["measurement"],
            ),
            vendor(
                "mixed",
                "Mixed",
                &["mixed.test"],
                &["analytics", "measurement"],
            ),
            vendor("hotjar", "Hotjar", &["hotjar.com"], &["analytics"]),
            vendor("nodomains", "No domains", &[], &["analytics"]),
        ],
        cookies: vec![
            cookie("sid", "shop", "session"),
            cookie("_ga", "google-analytics", "390d"),
            cookie("_fbp", "meta", "90d"),
            cookie("_GRECAPTCHA", "recaptcha", "180d"),
        ],
        ..Default::default()
    }
}

pub(crate) struct Obs {
    obs: VisitObservation,
    state: ConsentState,
    now: i64,
    page: String,
}

pub(crate) fn scenario(id: &str) -> Obs {
    Obs {
        obs: VisitObservation {
            scenario: id.into(),
            started_at: t(0),
            finished_at: t(0),
            status: VisitStatus::Complete,
            steps: Vec::new(),
            requests: Vec::new(),
            cookie_writes: Vec::new(),
            cookies: Vec::new(),
            storage_writes: Vec::new(),
            page_errors: Vec::new(),
            signals: Vec::new(),
            cmp: Vec::new(),
            screenshots: Vec::new(),
            final_state: ConsentState::initial(),
            warnings: Vec::new(),
            timings: VisitTimings::default(),
            login: None,
        },
        state: ConsentState::initial(),
        now: 0,
        page: HOME.into(),
    }
}

impl Obs {
    pub fn at(mut self, secs: i64) -> Self {
        self.now = secs;
        self
    }
    pub fn page(mut self, page: &str) -> Self {
        self.page = page.into();
        self
    }
    pub fn act(mut self, action: ConsentAction) -> Self {
        self.state = self.state.after(action);
        self
    }
    /// A consent action whose CMP records `effects` (declared in the scenario file).
    pub fn act_recording(mut self, action: ConsentAction, effects: &[ConsentEffect]) -> Self {
        self.state = self.state.apply(action, effects);
        self
    }
    pub fn req(mut self, url: &str) -> Self {
        self.obs.requests.push(RequestObs {
            url: url.into(),
            method: "GET".into(),
            resource_type: "Script".into(),
            initiator: None,
            frame_id: None,
            target: TargetKind::Page,
            status: Some(200),
            error: None,
            cancelled: false,
            frames: None,
            cause: None,
            time: t(self.now),
            page: self.page.clone(),
            state: self.state.clone(),
            http: None,
        });
        self.now += 1;
        self
    }
    fn push_write(mut self, name: &str, lifetime: Option<i64>, blocked: bool) -> Self {
        self.obs.cookie_writes.push(CookieWrite {
            name: name.into(),
            domain: ".shop.test".into(),
            path: Some("/".into()),
            value_hash: "0123456789abcdef".into(),
            requested_lifetime_secs: lifetime,
            expiry_unparsed: None,
            source: CookieSource::Script {
                document_url: self.page.clone(),
            },
            blocked_reasons: if blocked {
                vec!["ThirdPartyBlockedInFirstPartySet".into()]
            } else {
                Vec::new()
            },
            time: t(self.now),
            page: self.page.clone(),
            state: self.state.clone(),
        });
        self.now += 1;
        self
    }
    /// A `document.cookie` write; `lifetime` in days (`None`: session).
    pub fn write(self, name: &str, lifetime_days: Option<i64>) -> Self {
        self.push_write(name, lifetime_days.map(|d| d * 86_400), false)
    }
    pub fn write_secs(self, name: &str, lifetime: Option<i64>) -> Self {
        self.push_write(name, lifetime, false)
    }
    pub fn blocked_write(self, name: &str, lifetime_days: Option<i64>) -> Self {
        self.push_write(name, lifetime_days.map(|d| d * 86_400), true)
    }
    pub fn header_write(mut self, name: &str, url: &str, lifetime_days: i64) -> Self {
        self = self.push_write(name, Some(lifetime_days * 86_400), false);
        if let Some(w) = self.obs.cookie_writes.last_mut() {
            w.source = CookieSource::Header {
                request_url: url.into(),
            };
        }
        self
    }
    /// A cookie in the jar at the end, `lifetime` seconds from when the jar is read.
    pub fn stored_secs(mut self, name: &str, lifetime: Option<i64>) -> Self {
        let observed_at = t(self.now);
        self.obs.cookies.push(StoredCookie {
            name: name.into(),
            domain: ".shop.test".into(),
            path: "/".into(),
            value_hash: "0123456789abcdef".into(),
            expires: lifetime.map(|s| observed_at + Duration::seconds(s)),
            secure: true,
            http_only: false,
            same_site: None,
            partition_key: None,
            observed_at,
            state: self.state.clone(),
        });
        self
    }
    pub fn stored(self, name: &str, lifetime_days: Option<i64>) -> Self {
        self.stored_secs(name, lifetime_days.map(|d| d * 86_400))
    }
    pub fn incomplete(mut self, reason: &str) -> Self {
        self.obs.status = VisitStatus::Incomplete(crate::model::Failure::new(
            crate::model::FailureKind::ElementNotFound,
            reason,
        ));
        self
    }
    /// The CMP's TC string as its page API answered it now (`__tcfapi getTCData`), in the
    /// current phase.
    pub fn cmp_tcf(mut self, tc_string: &str) -> Self {
        let sig = crate::signals::tcf::TcfSignal::from_string(
            tc_string,
            &crate::model::ValueHasher::unkeyed(),
        );
        self.obs.signals.push(crate::model::SignalObs {
            time: t(self.now),
            page: self.page.clone(),
            state: self.state.clone(),
            source: crate::model::SignalSource::PageApi {
                api: "__tcfapi getTCData".into(),
            },
            data: crate::model::SignalData::Tcf(Box::new(sig)),
        });
        self.now += 1;
        self
    }
    /// A consent action performed, and what the engine read back from the CMP.
    pub fn cmp_action(mut self, action: ConsentAction, readback: crate::cmp::Readback) -> Self {
        self.obs.cmp.push(crate::cmp::CmpAction {
            action,
            step: 0,
            page: self.page.clone(),
            time: t(self.now),
            method: crate::cmp::Method::Autoconsent,
            success: true,
            detected: Some("Klaro".into()),
            popup_found: true,
            detect_ms: Some(900),
            done_ms: Some(40),
            added_ms: Some(50),
            readback,
            declared: action.default_effects().to_vec(),
            applied: action.default_effects().to_vec(),
            effects_from: crate::cmp::EffectsFrom::Declared,
            banner_again: Vec::new(),
            grant: None,
        });
        self
    }
    /// The observation as the pipeline hands it to attribution: with the signals its
    /// request URLs carried decoded and added (as `pipeline::audit` does after capture).
    pub fn build(mut self) -> VisitObservation {
        self.obs.final_state = self.state;
        self.obs.finished_at = t(self.now + 1);
        crate::signals::add_request_signals(&mut self.obs, &crate::model::ValueHasher::unkeyed());
        self.obs
    }
}

/// Every finding except `declared-vendor-unobserved`, which any scenario that accepts
/// would otherwise add for the vendors a small test does not contact.
fn run(observations: &[VisitObservation]) -> Vec<Finding> {
    let mut f = run_all(observations);
    f.retain(|f| f.code != Code::DeclaredVendorUnobserved);
    f
}

fn run_all(observations: &[VisitObservation]) -> Vec<Finding> {
    analyze(&site(), &policy(), observations)
}

/// (code, scenario, subject, occurrences) of every finding, in output order.
fn keys(findings: &[Finding]) -> Vec<(&'static str, String, String, u32)> {
    findings
        .iter()
        .map(|f| {
            (
                f.code.as_str(),
                f.scenario.clone().unwrap_or_else(|| "-".into()),
                f.subject.clone(),
                f.occurrences,
            )
        })
        .collect()
}

fn key(
    code: &'static str,
    scenario: &str,
    subject: &str,
    n: u32,
) -> (&'static str, String, String, u32) {
    (code, scenario.into(), subject.into(), n)
}

fn only(findings: &[Finding], code: Code) -> Vec<&Finding> {
    findings.iter().filter(|f| f.code == code).collect()
}

// ---------------------------------------------------------------------------------------
// vendors contacted

#[test]
fn consent_vendor_before_choice_in_no_action() {
    let f = run(&[scenario("no_action")
        .req(HOME)
        .req("https://connect.facebook.net/en_US/fbevents.js")
        .req("https://www.facebook.com/tr?id=1&ev=PageView")
        .build()]);
    assert_eq!(
        keys(&f),
        vec![key("consent-vendor-before-choice", "no_action", "meta", 2)]
    );
    let meta = &f[0];
    assert_eq!(meta.severity, Severity::High);
    assert_eq!(meta.site, "shop");
    assert_eq!(
        meta.rule,
        "vendor \"meta\" (Meta Pixel): purpose \"advertising\" requires consent"
    );
    assert_eq!(
        meta.message,
        "Meta Pixel (\"meta\") was contacted (connect.facebook.net) before the visitor made a consent choice in scenario \"no_action\" (phase before-choice)."
    );
    let e = &meta.evidence[0];
    assert_eq!(e.scenario, "no_action");
    assert_eq!(e.page, HOME);
    assert_eq!(
        e.request_url.as_deref(),
        Some("https://connect.facebook.net/en_US/fbevents.js")
    );
    assert_eq!(e.phase, "before-choice");
    assert_eq!(e.time, t(1));
    assert_eq!(e.detail.as_deref(), Some("GET Script, status 200"));
    assert_eq!(meta.evidence.len(), 2);
    assert_eq!(
        meta.fingerprint,
        fingerprint(
            Code::ConsentVendorBeforeChoice,
            "shop",
            Some("no_action"),
            "meta"
        )
    );
}

#[test]
fn consent_vendor_after_accept_is_allowed_but_before_the_click_is_not() {
    let f = run(&[scenario("accept_all")
        .req("https://www.google-analytics.com/g/collect?v=2")
        .act(ConsentAction::AcceptAll)
        .req("https://www.google-analytics.com/g/collect?v=2")
        .req("https://connect.facebook.net/fbevents.js")
        .build()]);
    assert_eq!(
        keys(&f),
        vec![key(
            "consent-vendor-before-choice",
            "accept_all",
            "google-analytics",
            1
        )]
    );
    assert_eq!(f[0].evidence[0].time, t(0));
}

#[test]
fn consent_vendor_after_reject_but_not_contract_or_li() {
    let f = run(&[scenario("reject_all")
        .act(ConsentAction::RejectAll)
        .req("https://connect.facebook.net/fbevents.js")
        .req("https://js.stripe.com/v3/")
        .req("https://b.scorecardresearch.com/b?c1=2")
        .req("https://www.recaptcha.net/recaptcha/api.js")
        .build()]);
    assert_eq!(
        keys(&f),
        vec![key("consent-vendor-after-reject", "reject_all", "meta", 1)]
    );
    assert_eq!(f[0].severity, Severity::Critical);
    assert_eq!(f[0].evidence[0].phase, "after-reject_all");
    assert!(
        f[0].message.contains("after the visitor rejected"),
        "{}",
        f[0].message
    );
}

#[test]
fn li_vendor_after_objection_only() {
    let f = run(&[scenario("object_li")
        .req("https://b.scorecardresearch.com/b?c1=2")
        .act(ConsentAction::ObjectLi)
        .req("https://b.scorecardresearch.com/b?c1=3")
        .req("https://www.recaptcha.net/recaptcha/api.js")
        .req("https://js.stripe.com/v3/")
        .build()]);
    assert_eq!(
        keys(&f),
        vec![key(
            "li-vendor-after-objection",
            "object_li",
            "scorecard",
            1
        )]
    );
    assert_eq!(
        f[0].rule,
        "vendor \"scorecard\" (Comscore): purpose \"measurement\" relies on legitimate interest, which stops on objection"
    );
    assert_eq!(
        f[0].evidence[0].request_url.as_deref(),
        Some("https://b.scorecardresearch.com/b?c1=3")
    );
}

#[test]
fn vendor_with_several_purposes_is_allowed_by_any() {
    // "mixed" is analytics (consent) + measurement (LI).
    let f = run(&[
        scenario("no_action").req("https://mixed.test/a").build(),
        scenario("accept_then_object")
            .act(ConsentAction::AcceptAll)
            .act(ConsentAction::ObjectLi)
            .req("https://mixed.test/b")
            .build(),
        scenario("object_li")
            .act(ConsentAction::ObjectLi)
            .req("https://mixed.test/c")
            .build(),
    ]);
    // Only when neither basis applies (objected and no consent) is it flagged, and then
    // as a consent problem.
    assert_eq!(
        keys(&f),
        vec![key("consent-vendor-before-choice", "object_li", "mixed", 1)]
    );
}

#[test]
fn first_party_hosts_without_vendor_are_not_flagged_but_first_party_vendors_are_judged() {
    let f = run(&[scenario("no_action")
        .req("https://static.shopcdn.test/app.js")
        .req("https://www.shop.test/api/cart")
        .req("https://metrics.shop.test/hit")
        .build()]);
    assert_eq!(
        keys(&f),
        vec![key(
            "consent-vendor-before-choice",
            "no_action",
            "shop-metrics",
            1
        )]
    );
}

#[test]
fn undeclared_third_party_grouped_by_registrable_domain() {
    let f = run(&[scenario("accept_all")
        .act(ConsentAction::AcceptAll)
        .req("https://analytics.tiktok.com/i18n/pixel/events.js")
        .req("data:image/png;base64,iVBORw0KGgo=")
        .req("blob:https://www.shop.test/0b6c-11")
        .req("chrome-extension://abc/script.js")
        .req("https://ads.tiktok.com/px?x=1")
        .req("https://static.shopcdn.test/app.js")
        .build()]);
    assert_eq!(
        keys(&f),
        vec![key("undeclared-third-party", "accept_all", "tiktok.com", 2)]
    );
    let urls: Vec<_> = f[0]
        .evidence
        .iter()
        .filter_map(|e| e.request_url.as_deref())
        .collect();
    assert_eq!(
        urls,
        vec![
            "https://analytics.tiktok.com/i18n/pixel/events.js",
            "https://ads.tiktok.com/px?x=1"
        ]
    );
    assert_eq!(f[0].severity, Severity::Medium);
}

#[test]
fn vendor_with_unknown_purposes_is_not_an_objection() {
    let mut p = policy();
    p.vendors.push(vendor(
        "ghost",
        "Ghost",
        &["ghost.test"],
        &["no-such-purpose"],
    ));
    let f = analyze(
        &site(),
        &p,
        &[scenario("no_action").req("https://ghost.test/x").build()],
    );
    assert!(f.is_empty(), "{f:#?}");
}

// ---------------------------------------------------------------------------------------
// cookies

#[test]
fn undeclared_cookie_once_per_scenario_and_name() {
    let f = run(&[scenario("accept_all")
        .act(ConsentAction::AcceptAll)
        .write("promo", Some(30))
        .write("promo", Some(30))
        .blocked_write("tracker", Some(30))
        .write_secs("old", Some(-1))
        .stored("promo", Some(30))
        .build()]);
    assert_eq!(
        keys(&f),
        vec![key("undeclared-cookie", "accept_all", "promo", 3)]
    );
    let e = &f[0].evidence;
    assert_eq!(e[0].cookie.as_deref(), Some("promo@.shop.test"));
    assert_eq!(
        e[0].detail.as_deref(),
        Some("written via document.cookie (requested 30d)")
    );
    assert_eq!(e[2].detail.as_deref(), Some("stored in the cookie jar"));
}

#[test]
fn retention_uses_the_requested_lifetime_and_notes_chromium_cap() {
    let f = run(&[scenario("accept_all")
        .act(ConsentAction::AcceptAll)
        .write("_ga", Some(730))
        .write("_ga", Some(30))
        .stored("_ga", Some(400))
        .build()]);
    assert_eq!(
        keys(&f),
        vec![key("cookie-retention-exceeded", "accept_all", "_ga", 1)]
    );
    assert_eq!(
        f[0].evidence[0].detail.as_deref(),
        Some("requested 730d via document.cookie; stored 400d (Chromium caps at 400d); declared max 390d")
    );
    assert_eq!(
        f[0].rule,
        "cookie \"_ga\" (vendor \"google-analytics\"): max_retention 390d"
    );
    assert_eq!(
        f[0].message,
        "Cookie \"_ga\" of Google Analytics (\"google-analytics\") lives 730d (as requested by the site) but its declared retention is 390d, in scenario \"accept_all\" (phase after-accept_all)."
    );
}

#[test]
fn retention_requested_wins_over_stored() {
    // Asked for 30d (within 90d): the stored lifetime is not judged.
    let f = run(&[scenario("accept_all")
        .act(ConsentAction::AcceptAll)
        .header_write("_fbp", "https://www.facebook.com/tr", 30)
        .stored("_fbp", Some(200))
        .build()]);
    assert!(only(&f, Code::CookieRetentionExceeded).is_empty(), "{f:#?}");
}

#[test]
fn retention_header_write_names_its_request() {
    let f = run(&[scenario("accept_all")
        .act(ConsentAction::AcceptAll)
        .header_write("_fbp", "https://www.facebook.com/tr", 365)
        .build()]);
    let r = only(&f, Code::CookieRetentionExceeded);
    assert_eq!(r.len(), 1);
    let e = &r[0].evidence[0];
    assert_eq!(
        e.request_url.as_deref(),
        Some("https://www.facebook.com/tr")
    );
    assert_eq!(
        e.detail.as_deref(),
        Some("requested 365d via Set-Cookie header; not stored at the end; declared max 90d")
    );
}

#[test]
fn retention_stored_only_has_one_day_tolerance() {
    let within = scenario("a")
        .stored_secs("_GRECAPTCHA", Some(180 * 86_400 + 43_200))
        .build();
    assert!(run(&[within]).is_empty());
    let beyond = scenario("b").stored("_GRECAPTCHA", Some(182)).build();
    let f = run(&[beyond]);
    assert_eq!(
        keys(&f),
        vec![key("cookie-retention-exceeded", "b", "_GRECAPTCHA", 1)]
    );
    assert!(f[0].evidence[0]
        .detail
        .as_deref()
        .is_some_and(|d| d.starts_with("no write with a lifetime was seen; stored 182d")));
}

#[test]
fn retention_none_for_requested_lifetimes() {
    // 390d + 1s requested: no tolerance.
    let f = run(&[scenario("accept_all")
        .act(ConsentAction::AcceptAll)
        .write_secs("_ga", Some(390 * 86_400 + 1))
        .build()]);
    assert_eq!(only(&f, Code::CookieRetentionExceeded).len(), 1);
}

#[test]
fn session_rule_is_exceeded_by_any_persistent_lifetime() {
    let f = run(&[
        scenario("a").write_secs("sid", Some(3600)).build(),
        scenario("b").write("sid", None).stored("sid", None).build(),
        scenario("c").stored_secs("sid", Some(600)).build(),
    ]);
    assert_eq!(
        keys(&f),
        vec![
            key("cookie-retention-exceeded", "a", "sid", 1),
            key("cookie-retention-exceeded", "c", "sid", 1),
        ]
    );
}

/// The inventory and `cookie-retention-exceeded` read one verdict: on the cases where the
/// two used to judge differently (a session rule and a short persistent cookie, a requested
/// lifetime just over the rule, a blocked write, the stored lifetime within or beyond the
/// tolerance), a cookie is over in the inventory exactly when it is a finding.
#[test]
fn inventory_and_retention_finding_agree_on_every_cookie() {
    let observations = [
        scenario("session_short")
            .write_secs("sid", Some(3600))
            .build(),
        scenario("session_stored")
            .stored_secs("sid", Some(600))
            .build(),
        scenario("requested_just_over")
            .act(ConsentAction::AcceptAll)
            .write_secs("_ga", Some(390 * 86_400 + 3600))
            .build(),
        scenario("blocked_long")
            .act(ConsentAction::AcceptAll)
            .blocked_write("_ga", Some(900))
            .stored("_ga", Some(30))
            .build(),
        scenario("requested_ok_stored_long")
            .act(ConsentAction::AcceptAll)
            .header_write("_fbp", "https://www.facebook.com/tr", 30)
            .stored("_fbp", Some(200))
            .build(),
        scenario("stored_within")
            .stored_secs("_GRECAPTCHA", Some(180 * 86_400 + 43_200))
            .build(),
        scenario("stored_beyond")
            .stored("_GRECAPTCHA", Some(182))
            .build(),
    ];
    let (site, policy) = (site(), policy());
    let attributor = crate::attribution::Attributor::new(&site, &policy);
    let mut over = std::collections::BTreeSet::new();
    let mut flagged = std::collections::BTreeSet::new();
    for obs in &observations {
        let visit = attributor.visit(obs);
        for item in crate::inventory::of_visit(&visit).items {
            if item.over_retention {
                let name = item
                    .item
                    .rsplit_once('@')
                    .map_or(item.item.clone(), |(n, _)| n.to_string());
                over.insert((obs.scenario.clone(), name));
            }
        }
        for f in crate::analysis::analyze_visit(&site, &policy, &visit) {
            if f.code == Code::CookieRetentionExceeded {
                flagged.insert((obs.scenario.clone(), f.subject.clone()));
            }
        }
    }
    let expected: std::collections::BTreeSet<(String, String)> = [
        ("session_short", "sid"),
        ("session_stored", "sid"),
        ("requested_just_over", "_ga"),
        ("stored_beyond", "_GRECAPTCHA"),
    ]
    .iter()
    .map(|(s, n)| (s.to_string(), n.to_string()))
    .collect();
    assert_eq!(flagged, expected);
    assert_eq!(over, flagged);
}

#[test]
fn consent_cookie_written_or_stored_without_consent() {
    let f = run(&[
        scenario("no_action")
            .write("_fbp", Some(90))
            .stored("_fbp", Some(90))
            .build(),
        scenario("accept_all")
            .act(ConsentAction::AcceptAll)
            .write("_fbp", Some(90))
            .write("_ga", Some(390))
            .stored("_fbp", Some(90))
            .build(),
        scenario("reject_all")
            .act(ConsentAction::RejectAll)
            .blocked_write("_fbp", Some(90))
            .write_secs("_ga", Some(0))
            .stored("_ga", Some(300))
            .build(),
    ]);
    assert_eq!(
        keys(&f),
        vec![
            key("consent-cookie-without-consent", "no_action", "_fbp", 2),
            key("consent-cookie-without-consent", "reject_all", "_ga", 1),
        ]
    );
    assert_eq!(
        f[0].rule,
        "cookie \"_fbp\" belongs to vendor \"meta\" (Meta Pixel): purpose \"advertising\" requires consent"
    );
    assert_eq!(
        f[0].evidence[0].detail.as_deref(),
        Some("written via document.cookie; consent undecided")
    );
    assert_eq!(
        f[1].evidence[0].detail.as_deref(),
        Some("stored at the end; consent denied")
    );
    assert_eq!(f[1].evidence[0].phase, "after-reject_all");
}

#[test]
fn li_cookies_after_objection_are_not_consent_findings() {
    let f = run(&[scenario("object_li")
        .act(ConsentAction::ObjectLi)
        .write("_GRECAPTCHA", Some(100))
        .stored("_GRECAPTCHA", Some(100))
        .build()]);
    assert!(f.is_empty(), "{f:#?}");
}

#[test]
fn blocked_cookie_write_is_not_stored() {
    let f = run(&[scenario("no_action")
        .blocked_write("_fbp", Some(900))
        .blocked_write("unknown", Some(1))
        .build()]);
    assert!(f.is_empty(), "{f:#?}");
}

// ---------------------------------------------------------------------------------------
// declaration and coverage

#[test]
fn declared_vendor_unobserved_needs_a_complete_granted_scenario() {
    let accept = || {
        scenario("accept_all")
            .act(ConsentAction::AcceptAll)
            .req(HOME)
            .req("https://js.stripe.com/v3/")
            .req("https://www.recaptcha.net/x")
            .req("https://www.google-analytics.com/g")
            .req("https://connect.facebook.net/x")
            .req("https://b.scorecardresearch.com/b")
            .req("https://metrics.shop.test/x")
    };
    // mixed only seen before the choice in another scenario: still observed.
    let other = scenario("no_action").req("https://mixed.test/x").build();
    let f = run_all(&[other.clone(), accept().build()]);
    let unobserved = only(&f, Code::DeclaredVendorUnobserved);
    // ("mixed" is allowed before the choice by its legitimate-interest purpose.)
    assert_eq!(unobserved.len(), 1, "{f:#?}");
    assert_eq!(f.len(), 1, "{f:#?}");
    let h = unobserved[0];
    assert_eq!(h.subject, "hotjar");
    assert_eq!(h.scenario, None);
    assert_eq!(h.severity, Severity::Info);
    assert_eq!(h.evidence[0].scenario, "accept_all");
    assert_eq!(h.evidence[0].time, t(8));
    assert_eq!(
        h.evidence[0].detail.as_deref(),
        Some("7 requests observed, none to hotjar.com")
    );
    assert_eq!(
        h.rule,
        "vendor \"hotjar\" (Hotjar) declares domains hotjar.com"
    );

    // Accept scenario not complete: cannot judge.
    let f = run_all(&[other, accept().incomplete("browser crashed").build()]);
    assert!(only(&f, Code::DeclaredVendorUnobserved).is_empty());
    // No scenario granted consent: cannot judge.
    let f = run_all(&[scenario("no_action").build()]);
    assert!(f.is_empty());
}

#[test]
fn scenario_not_observed_keeps_what_was_observed() {
    let f = run(&[scenario("legacy_banner")
        .page("https://www.shop.test/checkout")
        .req("https://connect.facebook.net/x")
        .at(20)
        .incomplete("step 2 click \"#old-cmp-reject\" [reject_all] (scenarios/demo-shop.toml:52:5) failed: no element after 2s")
        .build()]);
    assert_eq!(
        keys(&f),
        vec![
            key("consent-vendor-before-choice", "legacy_banner", "meta", 1),
            key("scenario-not-observed", "legacy_banner", "legacy_banner", 1),
        ]
    );
    let s = &f[1];
    assert_eq!(s.severity, Severity::High);
    let e = &s.evidence[0];
    assert_eq!(e.page, "https://www.shop.test/checkout");
    assert_eq!(e.time, t(21));
    assert_eq!(e.phase, "before-choice");
    assert!(e
        .detail
        .as_deref()
        .is_some_and(|d| d.contains("demo-shop.toml:52:5")));
    assert!(s.message.contains("not clean"));
}

#[test]
fn scenario_not_observed_without_any_page_uses_the_site() {
    let f = run(&[scenario("no_action").incomplete("site unreachable").build()]);
    assert_eq!(f[0].evidence[0].page, HOME);
}

// ---------------------------------------------------------------------------------------
// aggregation, fingerprints, order

#[test]
fn aggregation_keeps_first_evidence_in_time_order_and_counts_all() {
    let mut b = scenario("no_action");
    for i in 0..8 {
        b = b
            .at(100 - i * 10)
            .req(&format!("https://connect.facebook.net/x?n={i}"));
    }
    let f = run(&[b.build()]);
    assert_eq!(f.len(), 1);
    assert_eq!(f[0].occurrences, 8);
    assert_eq!(f[0].evidence.len(), MAX_EVIDENCE);
    let times: Vec<_> = f[0].evidence.iter().map(|e| e.time).collect();
    assert_eq!(times, vec![t(30), t(40), t(50), t(60), t(70)]);
    assert_eq!(
        f[0].evidence[0].request_url.as_deref(),
        Some("https://connect.facebook.net/x?n=7")
    );
}

#[test]
fn messages_mention_further_phases() {
    let f = run(&[scenario("accept_all")
        .req("https://analytics.tiktok.com/a")
        .act(ConsentAction::AcceptAll)
        .req("https://analytics.tiktok.com/b")
        .build()]);
    assert!(
        f[0].message
            .ends_with("(phase before-choice). Also seen in phase after-accept_all."),
        "{}",
        f[0].message
    );
}

#[test]
fn fingerprints_are_stable_across_runs() {
    let one = run(&[scenario("no_action")
        .req("https://connect.facebook.net/x?cb=111")
        .build()]);
    let two = run(&[scenario("no_action")
        .at(5000)
        .req("https://connect.facebook.net/x?cb=222&other=1")
        .build()]);
    assert_eq!(one.len(), 1);
    assert_eq!(one[0].fingerprint, two[0].fingerprint);
    assert_ne!(one[0].evidence[0].time, two[0].evidence[0].time);
    let other_scenario = run(&[scenario("accept_all")
        .req("https://connect.facebook.net/x")
        .build()]);
    assert_ne!(one[0].fingerprint, other_scenario[0].fingerprint);
}

#[test]
fn output_is_sorted_and_deterministic() {
    let observations = [
        scenario("no_action")
            .req("https://www.tiktok.com/x")
            .req("https://connect.facebook.net/x")
            .req("https://www.google-analytics.com/g")
            .write("zz", None)
            .build(),
        scenario("accept_all")
            .act(ConsentAction::AcceptAll)
            .req("https://www.tiktok.com/x")
            .write("_ga", Some(800))
            .build(),
        scenario("reject_all")
            .act(ConsentAction::RejectAll)
            .req("https://connect.facebook.net/x")
            .build(),
        scenario("legacy").incomplete("step failed").build(),
    ];
    let f = run_all(&observations);
    assert_eq!(
        keys(&f),
        vec![
            key("consent-vendor-after-reject", "reject_all", "meta", 1),
            key(
                "consent-vendor-before-choice",
                "no_action",
                "google-analytics",
                1
            ),
            key("consent-vendor-before-choice", "no_action", "meta", 1),
            key("scenario-not-observed", "legacy", "legacy", 1),
            key("undeclared-third-party", "no_action", "tiktok.com", 1),
            key("undeclared-third-party", "accept_all", "tiktok.com", 1),
            key("undeclared-cookie", "no_action", "zz", 1),
            key("cookie-retention-exceeded", "accept_all", "_ga", 1),
            key("declared-vendor-unobserved", "-", "hotjar", 1),
            key("declared-vendor-unobserved", "-", "mixed", 1),
            key("declared-vendor-unobserved", "-", "recaptcha", 1),
            key("declared-vendor-unobserved", "-", "scorecard", 1),
            key("declared-vendor-unobserved", "-", "shop", 1),
            key("declared-vendor-unobserved", "-", "shop-metrics", 1),
            key("declared-vendor-unobserved", "-", "stripe", 1),
        ]
    );
    assert_eq!(f, run_all(&observations));
}

#[test]
fn human_lifetimes() {
    use super::checks::human_secs;
    assert_eq!(human_secs(730 * 86_400), "730d");
    assert_eq!(human_secs(400 * 86_400 - 3), "~400d");
    assert_eq!(human_secs(3600), "1h");
    assert_eq!(human_secs(5000), "~1h");
    assert_eq!(human_secs(45), "45s");
}

/// An illegal declaration (LI for TCF purpose 4) no longer blocks the audit: the policy
/// loads, and the run reports a map finding naming the declaration's file:line:col.
#[test]
fn li_for_tcf_purpose_4_is_a_map_finding_with_its_position() {
    let src = "[[purpose]]\nid = \"ads\"\nbasis = \"legitimate_interest\"\ntcf_purpose = 4\n\n[[vendor]]\nid = \"meta\"\ndomains = [\"facebook.net\"]\npurposes = [\"ads\"]\n";
    let (policy, diags) =
        crate::policy::load::parse_policy(std::path::Path::new("x.policy.toml"), src);
    let policy = policy.unwrap_or_else(|| panic!("the policy must load: {diags}"));
    assert!(!diags.has_errors(), "{diags}");
    let obs = scenario("no_action")
        .req("https://connect.facebook.net/fbevents.js")
        .build();
    let findings = analyze(&site(), &policy, &[obs]);
    let map = only(&findings, Code::LiBasisForbiddenTcfPurpose);
    assert_eq!(map.len(), 1, "{findings:#?}");
    let f = map[0];
    assert_eq!(f.subject, "ads");
    assert_eq!(f.scenario, None);
    assert_eq!(f.severity, Severity::High);
    let detail = f.evidence[0].detail.as_deref().unwrap_or_default();
    assert!(
        detail.contains("x.policy.toml:"),
        "file:line:col in {detail}"
    );
    assert!(f.message.contains("x.policy.toml:"), "{}", f.message);
    // The audit's other judgements still run on the map as written.
    assert!(only(&findings, Code::LiVendorAfterObjection).is_empty());
}

/// CMPs differ: where the scenario file declares that Reject all also objects to LI, an
/// LI vendor that keeps firing after the reject ignores an objection; where an objection
/// flow also refuses consent, a consent vendor after it is "after reject", not "before
/// choice".
#[test]
fn what_the_cmp_records_decides_the_finding() {
    let f = run(&[scenario("reject_all")
        .act_recording(
            ConsentAction::RejectAll,
            &[ConsentEffect::RefuseConsent, ConsentEffect::ObjectLi],
        )
        .req("https://b.scorecardresearch.com/b?c1=3")
        .build()]);
    assert_eq!(
        keys(&f),
        vec![key(
            "li-vendor-after-objection",
            "reject_all",
            "scorecard",
            1
        )]
    );
    // The default reject records no objection: the same request is allowed.
    let f = run(&[scenario("reject_all")
        .act(ConsentAction::RejectAll)
        .req("https://b.scorecardresearch.com/b?c1=3")
        .build()]);
    assert!(f.is_empty(), "{f:#?}");

    let f = run(&[scenario("object_li")
        .act_recording(
            ConsentAction::ObjectLi,
            &[ConsentEffect::ObjectLi, ConsentEffect::RefuseConsent],
        )
        .req("https://connect.facebook.net/fbevents.js")
        .build()]);
    assert_eq!(
        keys(&f),
        vec![key("consent-vendor-after-reject", "object_li", "meta", 1)]
    );
}

#[path = "tests_gpc.rs"]
mod gpc;

#[path = "tests_gpp.rs"]
mod gpp;

// ---------------------------------------------------------------------------------------
// cmp: the CMP's record read back

fn klaro_record(items: &[(&str, bool, &str)]) -> crate::cmp::Readback {
    crate::cmp::Readback::Recorded {
        record: crate::cmp::CmpRecord::from_items(
            "klaro",
            "cookie klaro".into(),
            items
                .iter()
                .map(|(n, a, b)| crate::cmp::RecordItem {
                    name: n.to_string(),
                    allowed: *a,
                    basis: b.parse().expect("a record basis"),
                    tcf_purpose: None,
                })
                .collect(),
        ),
    }
}

#[test]
fn cmp_recorded_nothing_is_flagged_with_the_method() {
    let f = run(&[scenario("reject_all")
        .at(5)
        .cmp_action(
            ConsentAction::RejectAll,
            crate::cmp::Readback::NotRecorded {
                reader: "klaro".into(),
            },
        )
        .build()]);
    assert_eq!(
        keys(&f),
        vec![key(
            "cmp-choice-not-recorded",
            "reject_all",
            "klaro:reject_all",
            1
        )]
    );
    assert_eq!(f[0].severity, Severity::High);
    assert!(
        f[0].message.contains("autoconsent optOut on Klaro"),
        "{}",
        f[0].message
    );
    assert_eq!(f[0].evidence[0].phase, "after-reject_all");
    assert_eq!(f[0].evidence[0].time, t(5));
}

#[test]
fn cmp_recorded_the_opposite_of_reject() {
    let f = run(&[scenario("reject_all")
        .cmp_action(
            ConsentAction::RejectAll,
            klaro_record(&[("ga", true, "consent"), ("fb", false, "consent")]),
        )
        .build()]);
    assert_eq!(
        keys(&f),
        vec![key(
            "cmp-choice-opposite",
            "reject_all",
            "klaro:reject_all",
            1
        )]
    );
    assert_eq!(f[0].severity, Severity::Critical);
    assert!(
        f[0].message.contains("consent granted for ga"),
        "{}",
        f[0].message
    );
    let detail = f[0].evidence[0].detail.clone().unwrap_or_default();
    assert!(detail.contains("ga=on"), "{detail}");
}

#[test]
fn cmp_record_that_matches_the_choice_is_clean() {
    let f = run(&[
        scenario("reject_all")
            .cmp_action(
                ConsentAction::RejectAll,
                klaro_record(&[
                    ("ga", false, "consent"),
                    ("m", false, "legitimate_interest"),
                ]),
            )
            .build(),
        scenario("accept_all")
            .cmp_action(
                ConsentAction::AcceptAll,
                klaro_record(&[("ga", true, "consent"), ("m", true, "legitimate_interest")]),
            )
            .build(),
        scenario("accept_unknown")
            .cmp_action(ConsentAction::AcceptAll, crate::cmp::Readback::NoReader)
            .build(),
    ]);
    assert!(keys(&f).is_empty(), "{:?}", keys(&f));
}

#[test]
fn cmp_accept_recorded_as_refused_is_the_opposite() {
    let f = run(&[scenario("accept_all")
        .cmp_action(
            ConsentAction::AcceptAll,
            klaro_record(&[("ga", false, "consent")]),
        )
        .build()]);
    assert_eq!(
        keys(&f),
        vec![key(
            "cmp-choice-opposite",
            "accept_all",
            "klaro:accept_all",
            1
        )]
    );
}

#[test]
fn objection_learned_from_the_cmp_record_is_named_in_the_evidence() {
    let mut obs = scenario("reject_all")
        .cmp_action(
            ConsentAction::RejectAll,
            klaro_record(&[
                ("ga", false, "consent"),
                ("scorecard", false, "legitimate_interest"),
            ]),
        )
        .act_recording(
            ConsentAction::RejectAll,
            &[ConsentEffect::RefuseConsent, ConsentEffect::ObjectLi],
        )
        .at(3)
        .req("https://sb.scorecardresearch.com/p?c1=2")
        .build();
    obs.cmp[0].effects_from = crate::cmp::EffectsFrom::CmpRecord;
    obs.cmp[0].applied = vec![ConsentEffect::RefuseConsent, ConsentEffect::ObjectLi];
    let f = run(&[obs.clone()]);
    assert_eq!(
        keys(&f),
        vec![key(
            "li-vendor-after-objection",
            "reject_all",
            "scorecard",
            1
        )]
    );
    let detail = f[0].evidence[0].detail.clone().unwrap_or_default();
    assert!(
        detail.ends_with(
            "objection recorded by the CMP: klaro (cookie klaro) switched off scorecard"
        ),
        "{detail}"
    );
    // Declared (not read back): the evidence does not claim a record.
    obs.cmp[0].effects_from = crate::cmp::EffectsFrom::Declared;
    let f = run(&[obs]);
    let detail = f[0].evidence[0].detail.clone().unwrap_or_default();
    assert!(!detail.contains("recorded by the CMP"), "{detail}");
}

// ---------------------------------------------------------------------------------------
// reject-more-steps-than-accept

/// A visit whose first consent action `action` was performed through selectors after
/// `clicks` click steps (the last one the action).
fn clicked(scenario_id: &str, action: ConsentAction, clicks: usize) -> VisitObservation {
    let mut obs = scenario(scenario_id)
        .cmp_action(action, crate::cmp::Readback::NoReader)
        .build();
    obs.steps = (0..clicks)
        .map(|i| crate::model::StepOutcome {
            index: i,
            description: format!("click \"#b{i}\" (s.toml:{})", 10 + i),
            status: crate::model::StepStatus::Done,
            started_at: t(1),
            duration_ms: 5,
        })
        .collect();
    if let Some(a) = obs.cmp.first_mut() {
        a.method = crate::cmp::Method::Selectors;
        a.step = clicks - 1;
    }
    obs
}

#[test]
fn reject_needing_more_clicks_than_accept_is_flagged_once() {
    let f = run(&[
        clicked("accept_all", ConsentAction::AcceptAll, 1),
        clicked("reject_all", ConsentAction::RejectAll, 3),
    ]);
    let hits: Vec<&Finding> = f
        .iter()
        .filter(|f| f.code == Code::RejectMoreStepsThanAccept)
        .collect();
    assert_eq!(hits.len(), 1, "{f:#?}");
    assert_eq!(hits[0].severity, Severity::Low);
    assert_eq!(hits[0].scenario.as_deref(), Some("reject_all"));
    let d = hits[0].evidence[0].detail.as_deref().unwrap();
    assert!(d.contains("#b2") && d.starts_with("reject: "), "{d}");
    assert!(hits[0].message.contains("3 clicks where accepting took 1"));
}

#[test]
fn equal_effort_and_autoconsent_are_not_flagged() {
    let f = run(&[
        clicked("accept_all", ConsentAction::AcceptAll, 1),
        clicked("reject_all", ConsentAction::RejectAll, 1),
    ]);
    assert!(!f.iter().any(|f| f.code == Code::RejectMoreStepsThanAccept));
    // autoconsent does not say how many clicks it made: not judged.
    let mut auto = clicked("reject_all", ConsentAction::RejectAll, 3);
    auto.cmp[0].method = crate::cmp::Method::Autoconsent;
    let f = run(&[clicked("accept_all", ConsentAction::AcceptAll, 1), auto]);
    assert!(!f.iter().any(|f| f.code == Code::RejectMoreStepsThanAccept));
}

/// `[login]`: evidence observed once the login completed is marked logged in, evidence
/// from before it is not, nothing is marked without a completed login, and the
/// fingerprints are those of the same visit without a login.
#[test]
fn evidence_after_the_login_is_marked_logged_in_and_the_fingerprint_stays() {
    // Meta before any choice at 0 s (before the login completed at 5 s) and at 10 s.
    let visit = || {
        scenario("no_action")
            .req("https://connect.facebook.net/en_US/fbevents.js")
            .at(10)
            .page("https://shop.test/account")
            .req("https://connect.facebook.net/en_US/fbevents.js")
            .build()
    };
    let without = run(&[visit()]);
    let login = |completed_at| crate::model::LoginObs {
        steps: Vec::new(),
        completed_at,
    };
    let mut logged_in = visit();
    logged_in.login = Some(login(Some(t(5))));
    let with = run(&[logged_in]);
    let meta = |f: &[Finding]| -> Finding {
        f.iter()
            .find(|f| f.code == Code::ConsentVendorBeforeChoice)
            .cloned()
            .expect("meta before choice")
    };
    let (plain, marked) = (meta(&without), meta(&with));
    assert_eq!(marked.evidence.len(), 2);
    assert!(!marked.evidence[0].logged_in, "{marked:#?}");
    assert!(marked.evidence[1].logged_in, "{marked:#?}");
    assert!(plain.evidence.iter().all(|e| !e.logged_in));
    let prints = |f: &[Finding]| f.iter().map(|f| f.fingerprint.clone()).collect::<Vec<_>>();
    assert_eq!(prints(&without), prints(&with));
    // Only the mark differs.
    let mut unmarked = marked.clone();
    for e in &mut unmarked.evidence {
        e.logged_in = false;
    }
    assert_eq!(unmarked, plain);
    // A failed login (never completed) marks nothing.
    let mut failed = visit();
    failed.login = Some(login(None));
    assert_eq!(run(&[failed]), without);
    // JSON: `logged_in` only where true.
    let json = serde_json::to_value(&marked.evidence).expect("JSON");
    assert!(json[0].get("logged_in").is_none(), "{json:#}");
    assert_eq!(json[1]["logged_in"], true, "{json:#}");
}

#[path = "tests_purpose.rs"]
mod purpose;

#[path = "tests_heuristic.rs"]
mod heuristic;

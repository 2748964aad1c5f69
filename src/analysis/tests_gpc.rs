//! `vendor-ignores-gpc` and `li-cookie-without-consent` on hand-built observations.

use super::*;
use crate::model::StorageWrite;
use crate::signals::gpc::{GpcSent, GpcSignal, NavigatorGpc};
use crate::signals::{SignalData, SignalObs, SignalSource};

/// The test map, with advertising opted out of by GPC and a cookie for the LI vendor.
pub(super) fn gpc_policy() -> Policy {
    let mut p = policy();
    for purpose in &mut p.purposes {
        if purpose.id == "advertising" {
            purpose.gpc_opt_out = true;
        }
    }
    // A strictly necessary vendor that GPC would opt out of if it were not necessary.
    if let Some(security) = p.purposes.iter_mut().find(|x| x.id == "security") {
        security.gpc_opt_out = false;
    }
    p.cookies.push(cookie("_sc", "scorecard", "30d"));
    p.cookies.push(CookieRule {
        strictly_necessary: Some(true),
        ..cookie("_sc_lb", "scorecard", "1d")
    });
    p
}

pub(super) fn analyze_with(p: &Policy, observations: &[VisitObservation]) -> Vec<Finding> {
    let mut f = analyze(&site(), p, observations);
    f.retain(|f| f.code != Code::DeclaredVendorUnobserved);
    f
}

pub(super) fn sent(with_header: u32, requests: u32) -> SignalObs {
    SignalObs {
        time: t(0),
        page: HOME.into(),
        state: ConsentState::initial(),
        source: SignalSource::Visit,
        data: SignalData::Gpc(GpcSignal::Sent(GpcSent {
            mechanism: "test".into(),
            requests,
            with_header,
            without_header: Vec::new(),
            navigator: vec![NavigatorGpc {
                context: "document".into(),
                url: HOME.into(),
                value: "true".into(),
            }],
        })),
    }
}

fn with_gpc(mut obs: VisitObservation, signal: SignalObs) -> VisitObservation {
    obs.signals.push(signal);
    obs
}

fn gpc_codes(f: &[Finding]) -> Vec<(&'static str, String, String, u32)> {
    keys(f)
        .into_iter()
        .filter(|k| k.0 == "vendor-ignores-gpc")
        .collect()
}

#[test]
fn vendor_ignoring_gpc_is_flagged_with_what_was_sent() {
    let obs = scenario("gpc")
        .req(HOME)
        .req("https://connect.facebook.net/en_US/fbevents.js")
        .req("https://www.recaptcha.net/recaptcha/api.js")
        .req("https://js.stripe.com/v3/")
        .req("https://www.google-analytics.com/g/collect")
        .build();
    let f = analyze_with(&gpc_policy(), &[with_gpc(obs, sent(5, 5))]);
    // Meta (advertising, gpc_opt_out) is flagged; reCAPTCHA (strictly necessary),
    // Stripe (contract) and Google Analytics (analytics: not opted out) are not.
    assert_eq!(
        gpc_codes(&f),
        vec![key("vendor-ignores-gpc", "gpc", "meta", 1)]
    );
    let g = only(&f, Code::VendorIgnoresGpc)[0];
    assert_eq!(g.severity, Severity::High);
    let ev = &g.evidence[0];
    assert_eq!(ev.phase, "before-choice");
    assert_eq!(ev.scenario, "gpc");
    assert_eq!(
        ev.request_url.as_deref(),
        Some("https://connect.facebook.net/en_US/fbevents.js")
    );
    let detail = ev.detail.as_deref().unwrap_or_default();
    assert!(
        detail.contains("Sec-GPC: 1 sent on 5 of 5 requests")
            && detail.contains("navigator.globalPrivacyControl true in 1 of 1 documents"),
        "{detail}"
    );
    assert!(
        g.rule.contains("GPC opts out of purpose \"advertising\""),
        "{}",
        g.rule
    );
}

#[test]
fn gpc_is_not_judged_without_the_signal_nor_after_an_opt_in() {
    let p = gpc_policy();
    let meta = "https://connect.facebook.net/en_US/fbevents.js";
    // No GPC in the visit: only the consent finding.
    let f = analyze_with(&p, &[scenario("no_action").req(meta).build()]);
    assert!(gpc_codes(&f).is_empty(), "{f:#?}");
    // GPC on, then the visitor accepts: the explicit opt-in wins.
    let obs = scenario("gpc_accept")
        .act(ConsentAction::AcceptAll)
        .req(meta)
        .build();
    let f = analyze_with(&p, &[with_gpc(obs, sent(3, 3))]);
    assert!(gpc_codes(&f).is_empty(), "{f:#?}");
    // GPC asked for but never on the wire (a Chromium without the feature): not tested.
    let obs = scenario("gpc").req(meta).build();
    let f = analyze_with(&p, &[with_gpc(obs, sent(0, 3))]);
    assert!(gpc_codes(&f).is_empty(), "{f:#?}");
    // GPC on and the visitor rejected: still flagged.
    let obs = scenario("gpc_reject")
        .act(ConsentAction::RejectAll)
        .req(meta)
        .build();
    let f = analyze_with(&p, &[with_gpc(obs, sent(3, 3))]);
    assert_eq!(
        gpc_codes(&f),
        vec![key("vendor-ignores-gpc", "gpc_reject", "meta", 1)]
    );
}

fn storage(
    mut obs: VisitObservation,
    origin: &str,
    key: &str,
    state: ConsentState,
) -> VisitObservation {
    obs.storage_writes.push(StorageWrite {
        area: crate::model::StorageArea::Local,
        origin: origin.into(),
        key: key.into(),
        value_hash: "0123456789abcdef".into(),
        time: t(5),
        page: HOME.into(),
        state,
    });
    obs
}

fn li_codes(f: &[Finding]) -> Vec<(&'static str, String, String, u32)> {
    keys(f)
        .into_iter()
        .filter(|k| k.0 == "li-cookie-without-consent")
        .collect()
}

#[test]
fn li_cookie_and_storage_written_without_consent() {
    let p = gpc_policy();
    let sc = "https://sb.scorecardresearch.com";
    let no_action = scenario("no_action")
        .header_write("_sc", "https://sb.scorecardresearch.com/b", 30)
        .write("_sc_lb", Some(1)) // strictly necessary cookie of the same vendor
        .write("_GRECAPTCHA", Some(100)) // LI but strictly necessary
        .write("_fbp", Some(90)) // consent-based: the consent code, not this one
        .stored("_sc", Some(30)) // the jar is not judged again
        .build();
    let no_action = storage(no_action, sc, "sc_visitor", ConsentState::initial());
    let objected = ConsentState::initial().after(ConsentAction::ObjectLi);
    let object_li = scenario("object_li")
        .act(ConsentAction::ObjectLi)
        .write("_sc", Some(30))
        .build();
    let object_li = storage(object_li, sc, "sc_visitor", objected);
    let accepted = ConsentState::initial().after(ConsentAction::AcceptAll);
    let accept = scenario("accept_all")
        .act(ConsentAction::AcceptAll)
        .write("_sc", Some(30))
        .build();
    let accept = storage(accept, sc, "sc_visitor", accepted);
    let f = analyze_with(&p, &[no_action, object_li, accept]);
    assert_eq!(
        li_codes(&f),
        vec![
            key("li-cookie-without-consent", "no_action", "_sc", 1),
            key("li-cookie-without-consent", "no_action", "sc_visitor", 1),
            key("li-cookie-without-consent", "object_li", "_sc", 1),
            key("li-cookie-without-consent", "object_li", "sc_visitor", 1),
        ]
    );
    let c = only(&f, Code::LiCookieWithoutConsent)[0];
    assert_eq!(c.severity, Severity::Medium);
    assert_eq!(
        c.evidence[0].request_url.as_deref(),
        Some("https://sb.scorecardresearch.com/b")
    );
    assert!(c.rule.contains("ePrivacy art. 5(3)"), "{}", c.rule);
    let s = only(&f, Code::LiCookieWithoutConsent)[1];
    assert_eq!(
        s.evidence[0].cookie.as_deref(),
        Some("localStorage:sc_visitor@sb.scorecardresearch.com")
    );
    // The consent-based cookie is still the consent code's.
    assert!(keys(&f).contains(&key(
        "consent-cookie-without-consent",
        "no_action",
        "_fbp",
        1
    )));
}

#[test]
fn li_vendor_with_consent_purposes_after_objection_is_the_consent_codes() {
    // "mixed" has analytics (consent) and measurement (LI): before any choice its
    // storage rests on LI; after the objection the consent check has it.
    let mut p = gpc_policy();
    p.cookies.push(cookie("_mx", "mixed", "30d"));
    let f = analyze_with(
        &p,
        &[
            scenario("no_action").write("_mx", Some(3)).build(),
            scenario("object_li")
                .act(ConsentAction::ObjectLi)
                .write("_mx", Some(3))
                .build(),
        ],
    );
    assert_eq!(
        li_codes(&f),
        vec![key("li-cookie-without-consent", "no_action", "_mx", 1)]
    );
    assert!(keys(&f).contains(&key(
        "consent-cookie-without-consent",
        "object_li",
        "_mx",
        1
    )));
}

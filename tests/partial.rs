//! Partial choices in real Chromium (issue 22 item 2): the `accept_some` consent action
//! through each fixture CMP's second layer (the bundled profiles' `[accept_some]` flows),
//! granting some declared purposes only. The checks then expect exactly the granted
//! vendors: the complete set of findings per scenario, the CMP's record of the partial
//! choice, the grant carried by the action, and the evidence naming the refused purpose
//! and the source that decided. Needs the `demo` feature (the demo server).
#![cfg(feature = "demo")]

mod common;

use common::{assert_findings, finding, keys, Run as Audit};
use serde_json::Value;
use std::collections::BTreeSet;

/// One audit at a time (two cores; each audit already runs scenarios in parallel).
static ONE_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

async fn run_fixture(site: &str, file: &str) -> (Audit, Vec<String>) {
    let (run, hosts, _) = run_fixture_kept(site, file).await;
    (run, hosts)
}

/// [`run_fixture`], keeping the audit's database (its directory) for the caller.
async fn run_fixture_kept(site: &str, file: &str) -> (Audit, Vec<String>, tempfile::TempDir) {
    let f = common::fixture::audit_fixture_site(site, file).await;
    (f.run, f.hosts, f.dir)
}

fn visit<'a>(json: &'a Value, scenario: &str) -> &'a Value {
    json["visits"]
        .as_array()
        .and_then(|vs| vs.iter().find(|v| v["scenario"] == scenario))
        .unwrap_or_else(|| panic!("no visit {scenario}"))
}

/// The one consent action of a partial-choice scenario: the profile's flow, its grant.
fn partial_action<'a>(json: &'a Value, scenario: &str, profile: &str) -> &'a Value {
    let v = visit(json, scenario);
    assert_eq!(v["status"]["status"], "complete", "{v}");
    let actions = v["consent_actions"].as_array().expect("consent_actions");
    assert_eq!(actions.len(), 1, "{v}");
    let a = &actions[0];
    assert_eq!(a["action"], "accept_some", "{a}");
    assert_eq!(
        a["method"],
        serde_json::json!({"kind": "profile", "after": profile}),
        "{a}"
    );
    assert_eq!(a["success"], true, "{a}");
    assert_eq!(a["readback"]["status"], "recorded", "{a}");
    // The banner before and after the partial choice, stored (schema 19).
    let shots: Vec<(&str, &str)> = v["screenshots"]
        .as_array()
        .expect("screenshots")
        .iter()
        .filter_map(|s| Some((s["action"].as_str()?, s["when"].as_str()?)))
        .collect();
    assert_eq!(
        shots,
        [("accept_some", "before"), ("accept_some", "after")],
        "{v}"
    );
    a
}

fn record_items(a: &Value) -> BTreeSet<(String, bool)> {
    a["readback"]["record"]["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|i| {
            (
                i["name"].as_str().unwrap_or_default().to_string(),
                i["allowed"].as_bool().unwrap_or_default(),
            )
        })
        .collect()
}

fn set(items: &[(&str, bool)]) -> BTreeSet<(String, bool)> {
    items.iter().map(|(n, b)| (n.to_string(), *b)).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    not(feature = "browser-tests"),
    ignore = "needs Chromium and chromedriver: run `make test` or `cargo test --features browser-tests`"
)]
async fn klaro_partial_choice_expects_exactly_the_granted_vendors() {
    let _slot = ONE_AT_A_TIME.lock().await;
    let (run, hosts) = run_fixture("klaro", "tests/fixtures/klaro/klaro-partial.toml").await;
    assert_findings(
        &run,
        keys(&[
            // PLANTED (klaro.toml): the Meta pixel loads ungated, before the choice...
            ("consent-vendor-before-choice", "accept_some", "meta"),
            ("consent-vendor-before-choice", "advertising_only", "meta"),
            // ... and after a partial choice that refused advertising. Google Analytics and
            // Hotjar (analytics, granted) run and are not flagged.
            ("consent-vendor-after-reject", "accept_some", "meta"),
            // Klaro's "Accept selected" saves its opt-out (legitimate-interest) services
            // as their switches show them, off by Klaro's default (`default: false`): its
            // record holds the objection, and the planted Scorecard ignores it (as after
            // Reject all in klaro.toml). Matomo, gated by Klaro, stops.
            ("li-vendor-after-objection", "accept_some", "scorecard"),
            ("li-vendor-after-objection", "advertising_only", "scorecard"),
            // The knowledge (as in klaro.toml): Scorecard Research is known as advertising,
            // declared for measurement only.
            ("vendor-known-purpose-mismatch", "-", "scorecard"),
        ]),
    );
    let a = partial_action(&run.json, "accept_some", "klaro");
    assert_eq!(
        a["grant"],
        serde_json::json!({"purposes": ["analytics"], "tcf_purposes": [], "services": ["google-analytics", "hotjar"]}),
        "{a}"
    );
    // Klaro recorded the partial choice: the analytics services on, the advertising one
    // off, the opt-out (legitimate-interest) ones as their switches were (off).
    assert_eq!(
        record_items(a),
        set(&[
            ("google-analytics", true),
            ("hotjar", true),
            ("facebook-pixel", false),
            ("matomo", false),
            ("scorecard", false),
        ]),
        "{a}"
    );
    assert_eq!(a["readback"]["record"]["consent"], "partial", "{a}");
    // The summary: the action's refusal (of what was not granted) and the record's
    // objection.
    assert_eq!(
        a["applied"],
        serde_json::json!(["refuse_consent", "object_li"]),
        "{a}"
    );
    assert_eq!(a["effects_from"], "cmp-record", "{a}");
    let a = partial_action(&run.json, "advertising_only", "klaro");
    assert_eq!(
        record_items(a),
        set(&[
            ("google-analytics", false),
            ("hotjar", false),
            ("facebook-pixel", true),
            ("matomo", false),
            ("scorecard", false),
        ]),
        "{a}"
    );
    // The evidence names the refused purpose, the CMP service and who decided.
    let f = finding(
        &run.json,
        "consent-vendor-after-reject",
        "accept_some",
        "meta",
    );
    let detail = f["evidence"][0]["detail"].as_str().unwrap_or_default();
    assert!(
        detail.contains(
            "purpose \"advertising\", CMP service \"facebook-pixel\": consent refused, by the visitor's action"
        ),
        "{f}"
    );
    // The granted vendors did run (reachable, not just silent).
    for h in ["www.google-analytics.com", "static.hotjar.com"] {
        assert!(
            hosts.iter().any(|x| x == h),
            "{h} never requested: {hosts:?}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    not(feature = "browser-tests"),
    ignore = "needs Chromium and chromedriver: run `make test` or `cargo test --features browser-tests`"
)]
async fn cookieconsent_partial_choice_expects_exactly_the_granted_vendors() {
    let _slot = ONE_AT_A_TIME.lock().await;
    let (run, hosts) = run_fixture(
        "cookieconsent",
        "tests/fixtures/cookieconsent/cookieconsent-partial.toml",
    )
    .await;
    assert_findings(
        &run,
        keys(&[
            // PLANTED (cookieconsent.toml): the TikTok pixel (marketing) loads ungated,
            // before the choice and after the partial choice that refused advertising.
            // Google Analytics and Hotjar (analytics, granted) run and are not flagged.
            ("consent-vendor-before-choice", "accept_some", "tiktok"),
            ("consent-vendor-after-reject", "accept_some", "tiktok"),
            // Advertising granted: TikTok and Meta may run after it.
            ("consent-vendor-before-choice", "advertising_only", "tiktok"),
            // PLANTED: the About page opens the banner again although the choice is
            // stored (seen by the profile's banner selector).
            ("cmp-reprompt", "accept_some", "cookieconsent:accept_some"),
            (
                "cmp-reprompt",
                "advertising_only",
                "cookieconsent:accept_some",
            ),
        ]),
    );
    let a = partial_action(&run.json, "accept_some", "cookieconsent");
    assert_eq!(
        record_items(a),
        set(&[
            ("necessary", true),
            ("analytics", true),
            ("marketing", false)
        ]),
        "{a}"
    );
    let a = partial_action(&run.json, "advertising_only", "cookieconsent");
    assert_eq!(
        record_items(a),
        set(&[
            ("necessary", true),
            ("analytics", false),
            ("marketing", true)
        ]),
        "{a}"
    );
    for h in [
        "www.google-analytics.com",
        "static.hotjar.com",
        "connect.facebook.net",
    ] {
        assert!(
            hosts.iter().any(|x| x == h),
            "{h} never requested: {hosts:?}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    not(feature = "browser-tests"),
    ignore = "needs Chromium and chromedriver: run `make test` or `cargo test --features browser-tests`"
)]
async fn tcf_partial_choice_expects_exactly_the_granted_vendors() {
    let _slot = ONE_AT_A_TIME.lock().await;
    let (run, hosts) = run_fixture("tcf", "tests/fixtures/tcf/tcf-partial.toml").await;
    assert_findings(
        &run,
        keys(&[
            // PLANTED: vendor 50 fires on every string, the interim one included...
            (
                "consent-vendor-before-choice",
                "accept_some",
                "nobasis-pixel",
            ),
            ("tcf-vendor-without-basis", "accept_some", "nobasis-pixel"),
            (
                "consent-vendor-before-choice",
                "advertising_only",
                "nobasis-pixel",
            ),
            (
                "tcf-vendor-without-basis",
                "advertising_only",
                "nobasis-pixel",
            ),
            // ... and after a partial choice that refused its purpose (advertising, TCF 4).
            // Content Analytics (vendor 60: storage and content measurement, both granted)
            // runs and is not flagged; Consent Ads (vendor 10) gets no consent bit and
            // stays silent.
            (
                "consent-vendor-after-reject",
                "accept_some",
                "nobasis-pixel",
            ),
            // advertising_only grants its purpose, so the map allows it; the CMP gave
            // vendor 50 no consent bit (its purposes 1 and 7 were not granted): the TCF
            // check flags it (tcf-vendor-without-basis above, in both phases).
            // preticked: the CMP records purpose 4, which the visitor did not grant: its
            // finding, and vendor 50 is judged by the more protective (the refusal).
            ("consent-vendor-before-choice", "preticked", "nobasis-pixel"),
            ("tcf-vendor-without-basis", "preticked", "nobasis-pixel"),
            ("consent-vendor-after-reject", "preticked", "nobasis-pixel"),
            ("tcf-consent-after-reject", "preticked", "cmp 300"),
        ]),
    );
    let a = partial_action(&run.json, "accept_some", "consentry-tcf");
    assert_eq!(
        a["grant"],
        serde_json::json!({"purposes": ["storage", "content-measurement"], "tcf_purposes": [1, 8], "services": []}),
        "{a}"
    );
    let consented: BTreeSet<String> = record_items(a)
        .into_iter()
        .filter(|(n, on)| *on && !n.ends_with("(LI)"))
        .map(|(n, _)| n)
        .collect();
    assert_eq!(
        consented,
        ["purpose 1", "purpose 8"]
            .iter()
            .map(|s| s.to_string())
            .collect::<BTreeSet<_>>(),
        "{a}"
    );
    let source = a["readback"]["record"]["source"]
        .as_str()
        .unwrap_or_default();
    assert!(source.contains("consent vendors 20,60;"), "{a}");
    let a = partial_action(&run.json, "advertising_only", "consentry-tcf");
    let source = a["readback"]["record"]["source"]
        .as_str()
        .unwrap_or_default();
    assert!(source.contains("consent vendors none;"), "{a}");
    let f = finding(
        &run.json,
        "tcf-consent-after-reject",
        "preticked",
        "cmp 300",
    );
    assert!(
        f["message"].as_str().unwrap_or_default().contains(
            "grants consent for purposes 4 the visitor refused (a partial choice granting storage: TCF purposes 1)"
        ),
        "{f}"
    );
    let f = finding(
        &run.json,
        "consent-vendor-after-reject",
        "preticked",
        "nobasis-pixel",
    );
    let detail = f["evidence"][0]["detail"].as_str().unwrap_or_default();
    assert!(
        detail.contains("purpose \"advertising\" (TCF purpose 4): consent refused, by the visitor's action (the visitor's action and the CMP's record disagree; the more protective decides)"),
        "{f}"
    );
    let f = finding(
        &run.json,
        "consent-vendor-after-reject",
        "accept_some",
        "nobasis-pixel",
    );
    let detail = f["evidence"][0]["detail"].as_str().unwrap_or_default();
    assert!(
        detail.contains(
            "purpose \"advertising\" (TCF purpose 4): consent refused, by the visitor's action"
        ),
        "{f}"
    );
    assert!(
        hosts.iter().any(|h| h == "s.mislabelled-analytics.test"),
        "vendor 60 never ran: {hosts:?}"
    );
    assert!(
        !hosts.iter().any(|h| h == "cdn.consent-ads.test"),
        "vendor 10 ran without its purposes: {hosts:?}"
    );
}

/// Issue 22, "Done when": TCF and Consent Mode on one page. Google Analytics 4 in Consent
/// Mode advanced sends cookieless pings (every storage type denied) in every scenario,
/// after the objection too, and has no TCF vendor bit: no check flags them (the one
/// exemption, read by the TCF vendor-basis check as by the request checks), beside the
/// CMP's own finding for the LI bit it keeps after "Object all".
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    not(feature = "browser-tests"),
    ignore = "needs Chromium and chromedriver: run `make test` or `cargo test --features browser-tests`"
)]
async fn cookieless_pings_beside_a_tcf_cmp_are_flagged_by_no_check() {
    let _slot = ONE_AT_A_TIME.lock().await;
    let (run, hosts, dir) = run_fixture_kept("tcf", "tests/fixtures/tcf/tcf-gcm.toml").await;
    assert_findings(
        &run,
        keys(&[
            ("tcf-li-after-objection", "object_li", "cmp 300"),
            ("tcf-li-after-objection", "accept_then_object", "cmp 300"),
        ]),
    );
    assert!(
        hosts.iter().any(|h| h == "www.google-analytics.com"),
        "no ping sent: {hosts:?}"
    );
    // The pings were sent in every phase, the objection's included, each cookieless.
    for scenario in [
        "no_action",
        "accept_all",
        "reject_all",
        "object_li",
        "accept_then_object",
        "accept_some",
    ] {
        let v = visit(&run.json, scenario);
        assert_eq!(v["status"]["status"], "complete", "{v}");
    }
    // After the objection, on page 2: Google Analytics' pings, every type denied (gcs
    // G100), with no TCF vendor bit: what tcf-vendor-without-basis would flag but for the
    // exemption.
    let store = consentry::store::Store::open(&dir.path().join("audit.db"))
        .await
        .expect("store");
    let run_id = run.json["run_id"].as_i64().expect("run id");
    for scenario in ["object_li", "accept_then_object"] {
        let obs = store
            .history()
            .observation(run_id, scenario)
            .await
            .expect("read")
            .expect("stored visit");
        let pings: Vec<&str> = obs
            .requests
            .iter()
            .filter(|r| r.state.phase() == "after-object_li")
            .filter(|r| {
                r.url
                    .starts_with("https://www.google-analytics.com/g/collect")
            })
            .map(|r| r.url.as_str())
            .collect();
        assert!(!pings.is_empty(), "{scenario}: no ping after the objection");
        assert!(
            pings.iter().all(|u| u.contains("gcs=G100")),
            "{scenario}: {pings:?}"
        );
    }
}

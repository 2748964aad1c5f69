//! Real CMPs in real Chromium: the Klaro 0.7.22 and vanilla-cookieconsent 3.1.0 fixture
//! sites (fixtures/sites/, their packages installed by `make fixtures`) audited through
//! `[cmp] auto = true` (autoconsent, no site-specific selector). Asserts the complete set
//! of findings per scenario, how each consent action was performed, and the CMP's
//! record read back deciding the following phase (Klaro's Reject all => LI objected).
//! Needs the `demo` feature (the demo server).
#![cfg(feature = "demo")]

mod common;

use common::{assert_findings, finding, keys, Run as Audit};
use consentry::store::{RunId, Store};
use serde_json::Value;
use std::collections::BTreeSet;
use std::path::Path;

const ROOT: &str = env!("CARGO_MANIFEST_DIR");

/// One audit at a time (two cores; each audit already runs scenarios in parallel).
static ONE_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

async fn run_fixture(site: &str, file: &str) -> (Audit, tempfile::TempDir, Vec<String>) {
    let f = common::fixture::audit_fixture_site(site, file).await;
    if f.run.json["run_id"].is_i64() {
        common::assert_retention_agrees(&f.db, &f.run.json);
    }
    (f.run, f.dir, f.hosts)
}

fn visit<'a>(json: &'a Value, scenario: &str) -> &'a Value {
    json["visits"]
        .as_array()
        .and_then(|vs| vs.iter().find(|v| v["scenario"] == scenario))
        .unwrap_or_else(|| panic!("no visit {scenario}"))
}

/// The one consent action of a scenario, checked to be autoconsent on `cmp`.
fn auto_action<'a>(json: &'a Value, scenario: &str, cmp: &str) -> &'a Value {
    let v = visit(json, scenario);
    assert_eq!(v["status"]["status"], "complete", "{v}");
    let actions = v["consent_actions"].as_array().expect("consent_actions");
    assert_eq!(actions.len(), 1, "{v}");
    let a = &actions[0];
    assert_eq!(a["method"]["kind"], "autoconsent", "{a}");
    assert_eq!(a["detected"], cmp, "{a}");
    assert_eq!(a["success"], true, "{a}");
    assert_eq!(a["popup_found"], true, "{a}");
    assert!(a["done_ms"].as_u64().is_some(), "no autoconsentDone: {a}");
    eprintln!(
        "{scenario} on {cmp}: navigation -> popup {} ms, action -> autoconsentDone {} ms, added {} ms",
        a["detect_ms"], a["done_ms"], a["added_ms"]
    );
    a
}

fn record_items(a: &Value) -> Vec<(String, bool)> {
    assert_eq!(a["readback"]["status"], "recorded", "{a}");
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

fn assert_not_flagged(json: &Value, compliant: &[&str]) {
    for f in json["findings"].as_array().unwrap() {
        let subject = f["subject"].as_str().unwrap_or_default();
        assert!(
            !compliant.contains(&subject),
            "compliant {subject} flagged: {f}"
        );
    }
}

async fn stored_observation(
    db: &Path,
    json: &Value,
    scenario: &str,
) -> consentry::model::VisitObservation {
    let store = Store::open(db).await.expect("store");
    let run: RunId = json["run_id"].as_i64().expect("run id");
    store
        .history()
        .observation(run, scenario)
        .await
        .expect("read")
        .expect("stored visit")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    not(feature = "browser-tests"),
    ignore = "needs Chromium and chromedriver: run `make test` or `cargo test --features browser-tests`"
)]
async fn klaro_through_autoconsent_and_its_record() {
    let _slot = ONE_AT_A_TIME.lock().await;
    let scenario_file = "tests/fixtures/klaro/klaro.toml";
    let text = std::fs::read_to_string(format!("{ROOT}/{scenario_file}")).unwrap();
    // The LI objection is learned from Klaro's record, not declared.
    assert!(
        !text.contains("records =") && !text.contains("[cmp.records]"),
        "the scenario file must not declare records"
    );
    let (run, dir, hosts) = run_fixture("klaro", scenario_file).await;
    assert_findings(
        &run,
        keys(&[
            // PLANTED: the Meta pixel loads ungated, in every scenario and after reject.
            ("consent-vendor-before-choice", "no_action", "meta"),
            ("consent-vendor-before-choice", "accept_all", "meta"),
            ("consent-vendor-before-choice", "reject_all", "meta"),
            ("consent-vendor-before-choice", "dismiss_banner", "meta"),
            ("consent-vendor-after-reject", "reject_all", "meta"),
            ("consent-vendor-after-reject", "dismiss_banner", "meta"),
            // PLANTED: Scorecard ignores the objection Klaro's Reject all recorded.
            ("li-vendor-after-objection", "reject_all", "scorecard"),
            // object_li through the klaro profile (picked by the CMP autoconsent
            // detected): Klaro saves the consent services as refused and the opt-out ones
            // off. The Meta pixel and Scorecard ignore it.
            ("consent-vendor-before-choice", "object_li", "meta"),
            ("consent-vendor-after-reject", "object_li", "meta"),
            ("li-vendor-after-objection", "object_li", "scorecard"),
            // reject_then_reload: the choice persists (no re-prompt); the same two ignore it.
            ("consent-vendor-before-choice", "reject_then_reload", "meta"),
            ("consent-vendor-after-reject", "reject_then_reload", "meta"),
            (
                "li-vendor-after-objection",
                "reject_then_reload",
                "scorecard",
            ),
            // accept_then_withdraw: Meta keeps firing after the withdrawal; Klaro deletes
            // the _ga cookie of the withdrawn Google Analytics (not flagged).
            (
                "consent-vendor-before-choice",
                "accept_then_withdraw",
                "meta",
            ),
            (
                "consent-vendor-after-reject",
                "accept_then_withdraw",
                "meta",
            ),
            // PLANTED: the site's No thanks button hides the notice, Klaro records nothing.
            (
                "cmp-choice-not-recorded",
                "dismiss_banner",
                "klaro:reject_all",
            ),
            // The knowledge: Scorecard Research is known as advertising (third-party-web
            // `ad`), declared for measurement only.
            ("vendor-known-purpose-mismatch", "-", "scorecard"),
        ]),
    );
    assert_eq!(
        run.code, 1,
        "findings at or above high; stderr:\n{}",
        run.stderr
    );
    assert_not_flagged(
        &run.json,
        &[
            "google-analytics",
            "hotjar",
            "matomo",
            "klaro-shop",
            "klaro",
            "_ga",
        ],
    );
    // The gated vendors did run when allowed: they were reachable, not just silent.
    for h in [
        "www.google-analytics.com",
        "static.hotjar.com",
        "cdn.matomo.cloud",
    ] {
        assert!(
            hosts.iter().any(|x| x == h),
            "{h} never requested: {hosts:?}"
        );
    }

    let accept = auto_action(&run.json, "accept_all", "Klaro");
    assert!(record_items(accept).iter().all(|(_, on)| *on), "{accept}");
    assert_eq!(accept["applied"], serde_json::json!(["grant_consent"]));

    let reject = auto_action(&run.json, "reject_all", "Klaro");
    assert_eq!(reject["readback"]["record"]["source"], "cookie klaro");
    assert_eq!(reject["readback"]["record"]["consent"], "refused");
    assert_eq!(reject["readback"]["record"]["li_objected"], true);
    assert!(record_items(reject).iter().all(|(_, on)| !*on), "{reject}");
    assert_eq!(reject["declared"], serde_json::json!(["refuse_consent"]));
    assert_eq!(
        reject["applied"],
        serde_json::json!(["refuse_consent", "object_li"])
    );
    assert_eq!(reject["effects_from"], "cmp-record");

    let f = finding(
        &run.json,
        "li-vendor-after-objection",
        "reject_all",
        "scorecard",
    );
    let e = &f["evidence"][0];
    assert!(
        e["request_url"]
            .as_str()
            .unwrap_or_default()
            .contains("scorecardresearch.com"),
        "{f}"
    );
    assert_eq!(e["phase"], "after-reject_all");
    assert!(
        e["page"].as_str().unwrap_or_default().ends_with("/about"),
        "{f}"
    );

    let f = finding(
        &run.json,
        "cmp-choice-not-recorded",
        "dismiss_banner",
        "klaro:reject_all",
    );
    assert!(
        f["message"]
            .as_str()
            .unwrap_or_default()
            .contains("selectors"),
        "{f}"
    );

    // The objection through the klaro profile: the record says every opt-out
    // (legitimate-interest) service is off, and nothing was granted.
    let object = &visit(&run.json, "object_li")["consent_actions"][0];
    assert_eq!(
        object["method"],
        serde_json::json!({"kind": "profile", "after": "klaro"}),
        "{object}"
    );
    assert_eq!(
        object["readback"]["record"]["li_objected"], true,
        "{object}"
    );
    let items = record_items(object);
    assert!(items.contains(&("matomo".into(), false)), "{items:?}");
    assert!(items.contains(&("scorecard".into(), false)), "{items:?}");
    assert!(items.iter().all(|(_, on)| !*on), "{items:?}");
    // The withdrawal through the klaro profile after accepting.
    let actions = visit(&run.json, "accept_then_withdraw")["consent_actions"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert_eq!(actions.len(), 2, "{actions:?}");
    assert_eq!(actions[1]["method"]["after"], "klaro", "{actions:?}");
    assert_eq!(actions[1]["readback"]["record"]["consent"], "refused");
    // Reloading after reject: Klaro does not show its banner again.
    let reload = &visit(&run.json, "reject_then_reload")["consent_actions"][0];
    assert_eq!(reload["banner_again"], serde_json::json!([]), "{reload}");
    // Stored: the visit's consent actions and the record-decided final state.
    let obs = stored_observation(&dir.path().join("audit.db"), &run.json, "reject_all").await;
    assert_eq!(obs.cmp.len(), 1);
    assert_eq!(obs.cmp[0].detected.as_deref(), Some("Klaro"));
    assert!(obs.final_state.li_objected, "{:?}", obs.final_state);
    assert_eq!(
        obs.final_state.consent,
        consentry::model::ConsentChoice::Denied
    );
    let obs = stored_observation(&dir.path().join("audit.db"), &run.json, "dismiss_banner").await;
    assert!(
        !obs.final_state.li_objected,
        "nothing recorded: the declared effects apply"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    not(feature = "browser-tests"),
    ignore = "needs Chromium and chromedriver: run `make test` or `cargo test --features browser-tests`"
)]
async fn cookieconsent_through_autoconsent_and_its_record() {
    let _slot = ONE_AT_A_TIME.lock().await;
    let (run, _dir, hosts) = run_fixture(
        "cookieconsent",
        "tests/fixtures/cookieconsent/cookieconsent.toml",
    )
    .await;
    assert_findings(
        &run,
        keys(&[
            // PLANTED: the TikTok pixel loads ungated.
            ("consent-vendor-before-choice", "no_action", "tiktok"),
            ("consent-vendor-before-choice", "accept_all", "tiktok"),
            ("consent-vendor-before-choice", "reject_all", "tiktok"),
            (
                "consent-vendor-before-choice",
                "reject_via_footer",
                "tiktok",
            ),
            ("consent-vendor-after-reject", "reject_all", "tiktok"),
            // object_li: vanilla-cookieconsent has no legitimate interest to object to:
            // not observed, with the reason (never clean).
            ("consent-vendor-before-choice", "object_li", "tiktok"),
            ("scenario-not-observed", "object_li", "object_li"),
            (
                "consent-vendor-before-choice",
                "reject_then_reload",
                "tiktok",
            ),
            (
                "consent-vendor-after-reject",
                "reject_then_reload",
                "tiktok",
            ),
            // accept_then_withdraw through the cookieconsent profile; the library's
            // autoClear deletes _ga (not flagged), TikTok keeps firing.
            (
                "consent-vendor-before-choice",
                "accept_then_withdraw",
                "tiktok",
            ),
            (
                "consent-vendor-after-reject",
                "accept_then_withdraw",
                "tiktok",
            ),
            // PLANTED: the About page opens the banner again although the choice is
            // stored (seen by autoconsent finding its popup, or by the profile's banner
            // selector after the withdrawal).
            ("cmp-reprompt", "accept_all", "cookieconsent:accept_all"),
            ("cmp-reprompt", "reject_all", "cookieconsent:reject_all"),
            (
                "cmp-reprompt",
                "reject_then_reload",
                "cookieconsent:reject_all",
            ),
            (
                "cmp-reprompt",
                "accept_then_withdraw",
                "cookieconsent:reject_all",
            ),
            // PLANTED: "Continue without accepting" accepts every category.
            (
                "cmp-choice-opposite",
                "reject_via_footer",
                "cookieconsent:reject_all",
            ),
            // ... and the vendors the CMP then lets run are judged against the more
            // protective of the visitor's refusal and the CMP's grant: the refusal
            // (docs/findings.md#judging-a-vendor-permission). Before per-purpose states
            // the CMP's record alone decided, and they read as consented.
            (
                "consent-vendor-after-reject",
                "reject_via_footer",
                "google-analytics",
            ),
            ("consent-vendor-after-reject", "reject_via_footer", "hotjar"),
            ("consent-vendor-after-reject", "reject_via_footer", "meta"),
            ("consent-vendor-after-reject", "reject_via_footer", "tiktok"),
            ("consent-cookie-without-consent", "reject_via_footer", "_ga"),
        ]),
    );
    // object_li was not observed: the audit is incomplete (exit 3), never clean.
    assert_eq!(run.code, 3, "stderr:\n{}", run.stderr);
    // Compliant wherever the CMP records the visitor's choice faithfully.
    let faithful = run.json["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .filter(|f| f["scenario"] != "reject_via_footer")
        .cloned()
        .collect::<Vec<_>>();
    assert_not_flagged(
        &serde_json::json!({ "findings": faithful }),
        &[
            "google-analytics",
            "hotjar",
            "meta",
            "cc-shop",
            "cc_cookie",
            "_ga",
        ],
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

    let accept = auto_action(&run.json, "accept_all", "cookieconsent3");
    assert_eq!(accept["readback"]["record"]["consent"], "granted");
    assert!(record_items(accept).iter().all(|(_, on)| *on), "{accept}");

    let reject = auto_action(&run.json, "reject_all", "cookieconsent3");
    assert_eq!(reject["readback"]["record"]["source"], "cookie cc_cookie");
    let items = record_items(reject);
    assert!(items.contains(&("necessary".into(), true)), "{items:?}");
    assert!(items.contains(&("analytics".into(), false)), "{items:?}");
    assert!(items.contains(&("marketing".into(), false)), "{items:?}");
    // cookieconsent has no legitimate-interest notion: no objection is inferred.
    assert_eq!(reject["applied"], serde_json::json!(["refuse_consent"]));

    let object = visit(&run.json, "object_li");
    assert_eq!(object["status"]["kind"], "no-cmp-profile", "{object}");
    assert!(
        object["status"]["reason"]
            .as_str()
            .unwrap_or_default()
            .contains("no legitimate-interest notion"),
        "{object}"
    );
    // The re-prompt is on the About page, not on the reload of the home page.
    let f = finding(
        &run.json,
        "cmp-reprompt",
        "reject_then_reload",
        "cookieconsent:reject_all",
    );
    assert!(
        f["evidence"][0]["page"]
            .as_str()
            .unwrap_or_default()
            .ends_with("/about"),
        "{f}"
    );
    assert!(
        f["evidence"][0]["detail"]
            .as_str()
            .unwrap_or_default()
            .starts_with("autoconsent popupFound (cookieconsent3)"),
        "{f}"
    );
    let f = finding(
        &run.json,
        "cmp-reprompt",
        "accept_then_withdraw",
        "cookieconsent:reject_all",
    );
    assert!(
        f["evidence"][0]["detail"]
            .as_str()
            .unwrap_or_default()
            .starts_with("banner \"#cc-main .cm\" visible"),
        "{f}"
    );
    let withdraw = &visit(&run.json, "accept_then_withdraw")["consent_actions"][1];
    assert_eq!(withdraw["method"]["after"], "cookieconsent", "{withdraw}");
    assert_eq!(withdraw["applied"], serde_json::json!(["refuse_consent"]));

    let footer = &visit(&run.json, "reject_via_footer")["consent_actions"][0];
    assert_eq!(footer["method"]["kind"], "selectors");
    assert_eq!(footer["applied"], serde_json::json!(["grant_consent"]));
    let f = finding(
        &run.json,
        "cmp-choice-opposite",
        "reject_via_footer",
        "cookieconsent:reject_all",
    );
    assert_eq!(f["severity"], "critical");
    let detail = f["evidence"][0]["detail"].as_str().unwrap_or_default();
    assert!(
        detail.contains("marketing=on") && detail.contains("cc_cookie"),
        "{f}"
    );
    // The vendors it lets run are judged per category (their `cmp_services`), and the
    // evidence says which category and which source decided.
    let f = finding(
        &run.json,
        "consent-vendor-after-reject",
        "reject_via_footer",
        "meta",
    );
    let detail = f["evidence"][0]["detail"].as_str().unwrap_or_default();
    assert!(
        detail.ends_with("decided by purpose \"advertising\", CMP service \"marketing\": consent refused, by the visitor's action (the visitor's action and the CMP's record disagree; the more protective decides)"),
        "{f}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    not(feature = "browser-tests"),
    ignore = "needs Chromium and chromedriver: run `make test` or `cargo test --features browser-tests`"
)]
async fn no_cmp_with_auto_is_not_observed_with_the_reason() {
    let _slot = ONE_AT_A_TIME.lock().await;
    let (run, _dir, _) = run_fixture("no-cmp", "tests/fixtures/no-cmp/no-cmp.toml").await;
    assert_findings(
        &run,
        keys(&[
            ("scenario-not-observed", "accept_all", "accept_all"),
            ("scenario-not-observed", "reject_all", "reject_all"),
            ("scenario-not-observed", "object_li", "object_li"),
        ]),
    );
    // object_li: no CMP profile matches a page without a CMP.
    let v = visit(&run.json, "object_li");
    assert_eq!(v["status"]["kind"], "no-cmp-profile", "{v}");
    let reason = v["status"]["reason"].as_str().unwrap_or_default();
    assert!(
        reason.contains("no CMP profile matches the CMP on")
            && reason.contains("autoconsent detected no CMP")
            && reason.contains("profiles: klaro, cookieconsent, consentry-tcf"),
        "{reason}"
    );
    assert_eq!(
        run.code, 3,
        "not observed is never clean; stderr:\n{}",
        run.stderr
    );
    assert_eq!(
        visit(&run.json, "no_action")["status"]["status"],
        "complete"
    );
    for s in ["accept_all", "reject_all"] {
        let v = visit(&run.json, s);
        assert_eq!(v["status"]["status"], "incomplete", "{v}");
        assert_eq!(v["status"]["kind"], "cmp-not-detected", "{v}");
        let reason = v["status"]["reason"].as_str().unwrap_or_default();
        assert!(
            reason.contains("no CMP detected by autoconsent")
                && reason.contains("no selectors given"),
            "{reason}"
        );
        let a = &v["consent_actions"][0];
        assert_eq!(a["success"], false, "{a}");
        assert_eq!(a["effects_from"], "not performed", "{a}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    not(feature = "browser-tests"),
    ignore = "needs Chromium and chromedriver: run `make test` or `cargo test --features browser-tests`"
)]
async fn selectors_are_the_fallback_when_autoconsent_detects_no_cmp() {
    let _slot = ONE_AT_A_TIME.lock().await;
    let (run, _dir, _) = run_fixture("no-cmp", "tests/fixtures/no-cmp/fallback.toml").await;
    assert_findings(&run, keys(&[]));
    assert_eq!(run.code, 0, "stderr:\n{}", run.stderr);
    for s in ["accept_all", "reject_all"] {
        let v = visit(&run.json, s);
        assert_eq!(v["status"]["status"], "complete", "{v}");
        let a = &v["consent_actions"][0];
        assert_eq!(a["method"]["kind"], "fallback", "{a}");
        let why = a["method"]["after"].as_str().unwrap_or_default();
        assert!(why.contains("no CMP detected by autoconsent"), "{a}");
        assert_eq!(a["success"], true, "{a}");
        assert!(a["detected"].is_null(), "{a}");
        // No reader knows the homemade banner: the declared effects decide.
        assert_eq!(a["readback"]["status"], "no_reader", "{a}");
        assert_eq!(a["effects_from"], "declared", "{a}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    not(feature = "browser-tests"),
    ignore = "needs Chromium and chromedriver: run `make test` or `cargo test --features browser-tests`"
)]
async fn selector_paths_reach_banners_in_cross_site_frames_and_shadow_roots() {
    let _slot = ONE_AT_A_TIME.lock().await;
    for file in ["iframe", "shadow"] {
        let (run, dir, _) =
            run_fixture("frames", &format!("tests/fixtures/frames/{file}.toml")).await;
        // The choice reached the site: Google Analytics (consent) loads after accept
        // only, and nothing is flagged.
        let mut want = BTreeSet::new();
        if file == "iframe" {
            want.insert((
                "scenario-not-observed".to_string(),
                "wrong_path".to_string(),
                "wrong_path".to_string(),
            ));
        }
        assert_findings(&run, want);
        for scenario in ["accept_all", "reject_all", "reject_then_reload"] {
            let v = visit(&run.json, scenario);
            assert_eq!(v["status"]["status"], "complete", "{file} {scenario}: {v}");
            let a = &v["consent_actions"][0];
            assert_eq!(a["method"]["kind"], "selectors", "{a}");
        }
        // The choice reached the site through the frame / shadow root: the first-party
        // consent cookie after each choice, Google Analytics (consent) only after accept.
        let db = dir.path().join("audit.db");
        for (scenario, want) in [
            ("no_action", vec![]),
            ("accept_all", vec!["_ga", "frame_consent"]),
            ("reject_all", vec!["frame_consent"]),
            ("reject_then_reload", vec!["frame_consent"]),
        ] {
            let obs = stored_observation(&db, &run.json, scenario).await;
            let mut names: Vec<&str> = obs.cookies.iter().map(|c| c.name.as_str()).collect();
            names.sort();
            assert_eq!(names, want, "{file} {scenario}");
            let ga = obs.requests.iter().any(|r| {
                r.url
                    .starts_with("https://www.google-analytics.com/g/collect")
            });
            assert_eq!(ga, scenario == "accept_all", "{file} {scenario}");
        }
        if file == "iframe" {
            let v = visit(&run.json, "wrong_path");
            assert_eq!(v["status"]["kind"], "element-not-found", "{v}");
            assert!(
                v["status"]["reason"]
                    .as_str()
                    .unwrap_or_default()
                    .contains("`#no-such-button` not found"),
                "{v}"
            );
        }
    }
}

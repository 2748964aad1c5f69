//! Heuristic banner handling in real Chromium (docs/heuristic.md): hand-written banners
//! no autoconsent rule and no CMP profile knows (fixtures/sites/heuristic), audited with
//! `[cmp] auto = true` and no selectors. The German banner is accepted and rejected by
//! the heuristic (the reject on its second layer), its planted violation found; the
//! notice with no reject anywhere is not observed, with the reason. Needs the `demo`
//! feature (the demo server).
#![cfg(feature = "demo")]

mod common;

use common::{finding, finding_keys, Run as Audit};
use consentry::demo::{DemoServer, FileSite};
use serde_json::Value;
use std::path::Path;

const ROOT: &str = env!("CARGO_MANIFEST_DIR");

static ONE_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

async fn run_fixture(file: &str) -> (Audit, tempfile::TempDir) {
    let f = common::fixture::audit_fixture_site("heuristic", file).await;
    (f.run, f.dir)
}

fn visit<'a>(json: &'a Value, scenario: &str) -> &'a Value {
    json["visits"]
        .as_array()
        .and_then(|vs| vs.iter().find(|v| v["scenario"] == scenario))
        .unwrap_or_else(|| panic!("no visit {scenario}"))
}

/// The scenario's one consent action, checked to be the heuristic's, and its record.
fn heuristic_action<'a>(json: &'a Value, scenario: &str) -> (&'a Value, &'a Value) {
    let v = visit(json, scenario);
    let actions = v["consent_actions"].as_array().expect("consent_actions");
    assert_eq!(actions.len(), 1, "{v}");
    let a = &actions[0];
    assert_eq!(a["method"]["kind"], "heuristic", "{a}");
    eprintln!(
        "{scenario}: heuristic {} ms (step {} ms in all, autoconsent's wait included)",
        a["done_ms"], a["added_ms"]
    );
    (a, &a["method"]["after"])
}

fn clicked(h: &Value) -> Vec<(String, String)> {
    h["clicks"]
        .as_array()
        .expect("clicks")
        .iter()
        .map(|c| {
            (
                c["button"].as_str().unwrap_or_default().to_string(),
                c["text"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    not(feature = "browser-tests"),
    ignore = "needs Chromium and chromedriver: run `make test` or `cargo test --features browser-tests`"
)]
async fn hand_written_banner_is_accepted_and_rejected_by_the_heuristic() {
    let _slot = ONE_AT_A_TIME.lock().await;
    let (run, _dir) = run_fixture("tests/fixtures/heuristic/hausgemacht.toml").await;
    let json = &run.json;
    for s in ["no_action", "accept_all", "reject_all"] {
        assert_eq!(
            visit(json, s)["status"]["status"],
            "complete",
            "{s}: {}\nstderr:\n{}",
            visit(json, s),
            run.stderr
        );
    }
    let (accept, h) = heuristic_action(json, "accept_all");
    assert_eq!(accept["success"], true, "{accept}");
    assert_eq!(
        clicked(h),
        [("accept".to_string(), "Alle akzeptieren".to_string())]
    );
    assert_eq!(h["clicks"][0]["language"], "de", "{h}");
    assert!(
        h["dialog"]
            .as_str()
            .unwrap_or_default()
            .starts_with("div#hg-consent (fixed"),
        "{h}"
    );
    let words: Vec<&str> = h["words"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert!(
        words.contains(&"cookie") && words.contains(&"wir verwenden"),
        "{words:?}"
    );
    assert!(h["confidence"].as_u64().unwrap_or(0) >= 60, "{h}");

    // Reject: no reject beside accept; Einstellungen, Statistik (on in advance) off, save.
    let (reject, h) = heuristic_action(json, "reject_all");
    assert_eq!(reject["success"], true, "{reject}");
    assert_eq!(
        clicked(h),
        [
            ("settings".to_string(), "Einstellungen".to_string()),
            ("toggle off".to_string(), "Statistik".to_string()),
            ("save".to_string(), "Auswahl speichern".to_string()),
        ]
    );
    assert_eq!(h["reject_missing"], false, "{h}");

    // The planted violation, and nothing of what the choice withholds after the reject.
    let f = finding(json, "consent-vendor-before-choice", "no_action", "hotjar");
    assert!(f["message"].as_str().is_some(), "{f}");
    let keys = finding_keys(json);
    for (code, _, subject) in &keys {
        assert!(
            !(code == "consent-vendor-after-reject" && subject != "hotjar"),
            "the second layer's choice was not what was saved: {keys:#?}"
        );
    }
    // Three clicks to refuse, one to accept: the equal-effort finding.
    finding(
        json,
        "reject-more-steps-than-accept",
        "reject_all",
        "reject_all",
    );
    // The summary line shows the method.
    let v = visit(json, "reject_all");
    assert!(v.to_string().contains("heuristic"), "{v}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    not(feature = "browser-tests"),
    ignore = "needs Chromium and chromedriver: run `make test` or `cargo test --features browser-tests`"
)]
async fn a_notice_with_no_reject_anywhere_is_not_observed_with_the_reason() {
    let _slot = ONE_AT_A_TIME.lock().await;
    let (run, _dir) = run_fixture("tests/fixtures/heuristic/nur-ok.toml").await;
    let json = &run.json;
    let (accept, h) = heuristic_action(json, "accept_all");
    assert_eq!(accept["success"], true, "{accept}");
    assert_eq!(
        clicked(h),
        [("accept".to_string(), "OK, got it".to_string())]
    );
    assert_eq!(visit(json, "accept_all")["status"]["status"], "complete");

    let v = visit(json, "reject_all");
    assert_eq!(v["status"]["status"], "incomplete", "{v}");
    assert_eq!(v["status"]["kind"], "cmp-action-failed", "{v}");
    let reason = v["status"]["reason"].as_str().unwrap_or_default();
    assert!(
        reason.contains("no reject button and no settings button") && reason.contains("OK, got it"),
        "{reason}"
    );
    let (reject, h) = heuristic_action(json, "reject_all");
    assert_eq!(reject["success"], false, "{reject}");
    assert_eq!(reject["effects_from"], "not performed", "{reject}");
    assert_eq!(h["reject_missing"], true, "{h}");
    finding(json, "scenario-not-observed", "reject_all", "reject_all");
    let f = finding(
        json,
        "reject-more-steps-than-accept",
        "reject_all",
        "reject_all",
    );
    assert!(
        f["message"]
            .as_str()
            .unwrap_or_default()
            .starts_with("No reject option was found"),
        "{f}"
    );
    assert_eq!(
        run.code, 3,
        "not observed is never clean; stderr:\n{}",
        run.stderr
    );
}

/// The page at `url` of fixture `site`, after `wait` appears: the collector's facts.
async fn facts_of(
    session: &consentry::browser::Session,
    url: &str,
    wait: &str,
) -> consentry::cmp::heuristic::Facts {
    use fantoccini::Locator;
    session.client.goto(url).await.expect("page loads");
    session
        .client
        .wait()
        .at_most(std::time::Duration::from_secs(10))
        .for_element(Locator::Css(wait))
        .await
        .unwrap_or_else(|e| panic!("{wait} on {url}: {e}"));
    // Banners animate in; the collector needs them on screen.
    tokio::time::sleep(std::time::Duration::from_millis(800)).await;
    let v = session
        .client
        .execute(consentry::cmp::heuristic::COLLECT_JS, vec![])
        .await
        .expect("collector runs");
    serde_json::from_value(v).expect("facts decode")
}

/// The collector in Chromium on the fixture CMPs installed from npm (Klaro,
/// vanilla-cookieconsent: DOM they build themselves) and on small pages with the layouts
/// a page script must reach into (a same-origin frame, an open shadow root, a corner box
/// beside a sticky header and a hidden banner): the decision finds their buttons.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    not(feature = "browser-tests"),
    ignore = "needs Chromium and chromedriver: run `make test` or `cargo test --features browser-tests`"
)]
async fn the_collector_finds_real_cmps_frames_and_shadow_roots() {
    use consentry::browser::{BrowserConfig, Chromedriver, Session};
    use consentry::cmp::heuristic::{first_layer, BannerWords, FirstLayer, Want};
    let _slot = ONE_AT_A_TIME.lock().await;
    let words = BannerWords::bundled().expect("words");
    let driver = Chromedriver::spawn(None).await.expect("chromedriver");
    let cfg = BrowserConfig::new(driver.url.clone(), true, None);
    let choose =
        |f: &consentry::cmp::heuristic::Facts, want: Want| match first_layer(f, &words, want) {
            FirstLayer::Click(d, c) => (d.element, c.text),
            other => panic!("{want:?}: {other:?}\n{f:#?}"),
        };
    for (site, url, wait, accept, reject, place) in [
        (
            "klaro",
            "https://www.klaro-shop.test/",
            ".klaro .cookie-notice",
            "ok",
            "decline",
            "",
        ),
        (
            "cookieconsent",
            "https://www.cc-shop.test/",
            "#cc-main .cm",
            "accept all",
            "reject all",
            "",
        ),
        (
            "heuristic",
            "https://www.layouts.test/frame.html",
            "#cmp-frame",
            "aceptar todas",
            "rechazar todas",
            "in iframe#cmp-frame",
        ),
        (
            "heuristic",
            "https://www.layouts.test/shadow.html",
            "#host",
            "accetta tutti",
            "rifiuta",
            "cmp-banner#host (fixed)",
        ),
        (
            "heuristic",
            "https://www.layouts.test/corner.html",
            "#box",
            "akceptuję",
            "odrzuć wszystkie",
            "div#box (fixed)",
        ),
    ] {
        let server = DemoServer::start_files(0, FileSite::named(Path::new(ROOT), site))
            .await
            .expect("fixture server");
        let opts = consentry::scenario::BrowserOptions {
            args: vec![format!(
                "--host-resolver-rules=MAP * 127.0.0.1:{}, EXCLUDE localhost",
                server.port()
            )],
            ..consentry::scenario::BrowserOptions::default()
        };
        let session = Session::start(&cfg, &opts).await.expect("browser session");
        let f = facts_of(&session, url, wait).await;
        let (dialog, a) = choose(&f, Want::Accept);
        let (_, r) = choose(&f, Want::Reject);
        eprintln!("{url}: dialog {dialog}, accept {a:?}, reject {r:?}");
        assert!(a.to_lowercase().contains(accept), "{url}: accept {a:?}");
        assert!(r.to_lowercase().contains(reject), "{url}: reject {r:?}");
        assert!(dialog.contains(place), "{url}: {dialog}");
        // The click reaches into the frame or shadow root: the shadow banner goes away.
        if url.ends_with("shadow.html") {
            let FirstLayer::Click(_, c) = first_layer(&f, &words, Want::Reject) else {
                unreachable!()
            };
            let res = session
                .client
                .execute(
                    consentry::cmp::heuristic::ACT_JS,
                    vec![serde_json::json!(c.path), serde_json::json!(c.text)],
                )
                .await
                .expect("act runs");
            assert_eq!(res["ok"], true, "{res}");
            let choice = session
                .client
                .execute("return window.__choice || null;", vec![])
                .await
                .expect("reads");
            assert_eq!(choice, "ko");
        }
        session.close().await.expect("close");
        server.shutdown().await;
    }
    driver.shutdown().await;
}

//! Real-browser tests of Google Consent Mode v2: Debian Chromium through chromedriver,
//! against the consent-mode fixture (fixtures/sites/consent-mode, docs/fixtures.md),
//! served in-process over HTTPS. They run the real binary.
//!
//! The fixture's vendors: `ga4` (advanced) and `ga4-basic` (basic) are compliant;
//! `google-ads` (ad signals granted without consent, ad_storage granted after reject),
//! `google-ccm` (a hit with no default) and `ga4-leaky` (declared basic, loads before
//! consent, writes `_ga_LEAK` while denied) carry the planted violations.
//! Needs the `demo` feature (the demo server).
#![cfg(feature = "demo")]

mod common;

use common::{finding, finding_keys, key, Key};
use consentry::demo::{DemoServer, FileSite};
use consentry::signals::{SignalData, SignalSource};
use consentry::store::Store;
use serde_json::Value;
use std::collections::BTreeSet;
use std::path::Path;

const SCENARIOS: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/fixtures/consent-mode/consent-mode.toml"
);

fn expected() -> BTreeSet<Key> {
    let mut e = BTreeSet::new();
    for s in ["no_action", "accept_all", "reject_all"] {
        // Before any choice, in every scenario: the Ads tag's ad signals are granted
        // (not a cookieless ping, so not exempt), the ccm tag has no default.
        e.insert(key(
            "consent-mode-ad-signals-without-consent",
            s,
            "google-ads",
        ));
        e.insert(key("consent-vendor-before-choice", s, "google-ads"));
        e.insert(key("consent-mode-default-missing", s, "google-ccm"));
        e.insert(key("consent-vendor-before-choice", s, "google-ccm"));
    }
    // The basic page is visited after the choice: before it in no_action, after the
    // reject in reject_all; in accept_all it is consented.
    e.insert(key(
        "consent-vendor-before-choice",
        "no_action",
        "ga4-leaky",
    ));
    e.insert(key(
        "consent-vendor-after-reject",
        "reject_all",
        "ga4-leaky",
    ));
    for s in ["no_action", "reject_all"] {
        e.insert(key("consent-mode-cookie-while-denied", s, "_ga_LEAK"));
        e.insert(key("consent-cookie-without-consent", s, "_ga_LEAK"));
    }
    // The Ads mapping grants ad_storage on reject.
    e.insert(key(
        "consent-mode-granted-after-reject",
        "reject_all",
        "google-ads",
    ));
    e.insert(key(
        "consent-vendor-after-reject",
        "reject_all",
        "google-ads",
    ));
    e
}

fn audit(port: u16, db: &Path) -> (i32, Value, String) {
    let run = common::audit(SCENARIOS, port, db, &[]);
    (run.code, run.json, run.stderr)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    not(feature = "browser-tests"),
    ignore = "needs Chromium and chromedriver: run `make test` or `cargo test --features browser-tests`"
)]
async fn consent_mode_fixture_flags_exactly_the_planted_violations() {
    let project = Path::new(env!("CARGO_MANIFEST_DIR"));
    let server = DemoServer::start_files(0, FileSite::named(project, "consent-mode"))
        .await
        .expect("fixture server");
    let dir = tempfile::tempdir().expect("tempdir");
    let db = dir.path().join("audit.db");
    let port = server.port();
    let db2 = db.clone();
    let (code, json, stderr) = tokio::task::spawn_blocking(move || audit(port, &db2))
        .await
        .expect("audit task");
    let log = server.log();
    server.shutdown().await;

    // The fake tag really ran in Chromium: its hits reached the server.
    let hits: Vec<&str> = log
        .iter()
        .map(|r| r.path_and_query.as_str())
        .filter(|p| p.starts_with("/g/collect") || p.starts_with("/ccm/collect"))
        .collect();
    assert!(hits.len() >= 6, "too few tag hits served: {hits:?}");

    assert_eq!(json["status"]["status"], "complete", "stderr:\n{stderr}");
    assert_eq!(
        code, 1,
        "findings at the default threshold; stderr:\n{stderr}"
    );
    let got = finding_keys(&json);
    let want = expected();
    let missing: Vec<_> = want.difference(&got).collect();
    let unexpected: Vec<_> = got.difference(&want).collect();
    assert!(
        missing.is_empty() && unexpected.is_empty(),
        "missing: {missing:#?}\nunexpected: {unexpected:#?}\nstderr:\n{stderr}"
    );

    // Compliant: ga4's cookieless pings before the choice and after the reject, the
    // basic-mode tag loaded after consent, their cookies, the CMP's record.
    for f in json["findings"].as_array().expect("findings") {
        for compliant in [
            "ga4",
            "ga4-basic",
            "cm-shop",
            "_ga",
            "_ga_ADV",
            "_ga_BASIC",
            "cm_consent",
        ] {
            assert_ne!(
                f["subject"], compliant,
                "compliant {compliant} flagged: {f}"
            );
            assert_ne!(f["vendor"], compliant, "compliant {compliant} flagged: {f}");
        }
    }

    // Each planted violation names the decoded state it broke.
    let after_reject = finding(
        &json,
        "consent-mode-granted-after-reject",
        "reject_all",
        "google-ads",
    );
    let e = &after_reject["evidence"][0];
    assert_eq!(e["phase"], "after-reject_all");
    assert_eq!(e["scenario"], "reject_all");
    assert_eq!(e["page"], "https://www.cm-shop.test/");
    assert!(e["time"].is_string());
    assert!(
        e["request_url"].as_str().is_some_and(|u| u
            .starts_with("https://googleads.g.doubleclick.net/pagead/viewthroughconversion/1001/")
            && u.contains("gcs=G110")),
        "{e}"
    );
    let detail = e["detail"].as_str().unwrap_or_default();
    assert!(
        detail.starts_with("gcs=G110 gcd=11r1q1u1u5 dma=0 (ad_storage granted (default denied, updated), analytics_storage denied (default and update), ad_user_data denied (default granted, updated), ad_personalization denied (default granted, updated))"),
        "{detail}"
    );
    assert!(after_reject["rule"]
        .as_str()
        .unwrap_or_default()
        .contains("consent_mode = \"advanced\""));
    assert_eq!(after_reject["vendor"], "google-ads");
    assert_eq!(after_reject["severity"], "critical");

    let ads = finding(
        &json,
        "consent-mode-ad-signals-without-consent",
        "no_action",
        "google-ads",
    );
    let detail = ads["evidence"][0]["detail"].as_str().unwrap_or_default();
    assert!(
        detail.starts_with("gcs=G100 gcd=11p1p1t1t5 dma=0 (ad_storage denied (default), analytics_storage denied (default), ad_user_data granted (default), ad_personalization granted (default))"),
        "{detail}"
    );
    assert_eq!(ads["evidence"][0]["phase"], "before-choice");

    // The vendor check says why the Ads hit was not a cookieless ping.
    let vendor = finding(
        &json,
        "consent-vendor-before-choice",
        "no_action",
        "google-ads",
    );
    let detail = vendor["evidence"][0]["detail"].as_str().unwrap_or_default();
    assert!(
        detail.contains("; Consent Mode gcs=G100 gcd=11p1p1t1t5 dma=0 ("),
        "{detail}"
    );

    let missing_default = finding(
        &json,
        "consent-mode-default-missing",
        "accept_all",
        "google-ccm",
    );
    let e = &missing_default["evidence"][0];
    assert_eq!(e["phase"], "before-choice");
    assert!(e["request_url"]
        .as_str()
        .is_some_and(|u| u.starts_with("https://www.google.com/ccm/collect")));
    assert!(
        e["detail"].as_str().is_some_and(|d| d.starts_with("gcd=11l1l1l1l5 dma=0 (ad_storage not set, analytics_storage not set, ad_user_data not set, ad_personalization not set)")),
        "{e}"
    );

    let leak = finding(
        &json,
        "consent-mode-cookie-while-denied",
        "reject_all",
        "_ga_LEAK",
    );
    let e = &leak["evidence"][0];
    assert_eq!(e["cookie"], "_ga_LEAK@cm-shop.test");
    assert_eq!(e["page"], "https://www.cm-shop.test/basic/");
    assert_eq!(e["phase"], "after-reject_all");
    assert!(
        e["request_url"]
            .as_str()
            .is_some_and(|u| u.starts_with("https://analytics.google.com/g/collect")),
        "{e}"
    );
    let detail = e["detail"].as_str().unwrap_or_default();
    assert!(
        detail
            .starts_with("written via document.cookie; Consent Mode state gcs=G100 gcd=11p1q1p1p5")
            || detail.starts_with(
                "written via document.cookie; Consent Mode state gcs=G100 gcd=11q1q1q1q5"
            )
            || detail.starts_with(
                "written via document.cookie; Consent Mode state gcs=G100 gcd=11p1p1p1p5"
            ),
        "{detail}"
    );
    assert!(detail.contains("analytics_storage denied"), "{detail}");
    assert_eq!(leak["vendor"], "ga4-leaky");

    // The signals are stored with the visit and read back.
    let run_id = json["run_id"].as_i64().expect("run id");
    let store = Store::open(&db).await.expect("open store");
    let signals = store
        .history()
        .signals(run_id, Some("reject_all"))
        .await
        .expect("signals");
    let consent_mode: Vec<_> = signals
        .iter()
        .filter_map(|s| match (&s.data, &s.source) {
            (SignalData::ConsentMode(c), SignalSource::Request { url }) => Some((s, c, url)),
            _ => None,
        })
        .collect();
    // ga4's pings: all denied before the choice (default) and after the reject (update).
    let ga4: Vec<_> = consent_mode
        .iter()
        .filter(|(_, _, url)| url.starts_with("https://www.google-analytics.com/g/collect"))
        .collect();
    assert!(
        ga4.iter()
            .any(|(s, c, _)| s.state.phase() == "before-choice"
                && c.all_denied()
                && c.raw.gcd.as_deref() == Some("11p1p1p1p5")),
        "{ga4:#?}"
    );
    assert!(
        ga4.iter()
            .any(|(s, c, _)| s.state.phase() == "after-reject_all"
                && c.all_denied()
                && c.raw.gcd.as_deref() == Some("11q1q1q1q5")),
        "{ga4:#?}"
    );
    let obs = store
        .history()
        .observation(run_id, "accept_all")
        .await
        .expect("observation")
        .expect("accept_all stored");
    assert!(
        obs.signals
            .iter()
            .any(|s| matches!(&s.data, SignalData::ConsentMode(c)
            if s.state.phase() == "after-accept_all" && c.raw.gcs.as_deref() == Some("G111"))),
        "no granted signal after accept: {:#?}",
        obs.signals
    );
    assert!(obs
        .signals
        .iter()
        .all(|s| s.data.summary().starts_with("Consent Mode ")));
}

/// The one exemption rule, read by every check that judges whether a vendor may be
/// contacted: the consent-mode fixture audited with Global Privacy Control on and its
/// analytics purpose declared as one GPC opts out of. `ga4`'s cookieless pings (advanced
/// mode, every storage type denied) are flagged by no check in any scenario, `vendor-
/// ignores-gpc` included; the basic-mode tag that loads before any opt-in is.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    not(feature = "browser-tests"),
    ignore = "needs Chromium and chromedriver: run `make test` or `cargo test --features browser-tests`"
)]
async fn cookieless_pings_are_exempt_from_every_check_with_gpc_on() {
    let project = Path::new(env!("CARGO_MANIFEST_DIR"));
    let fixture = project.join("tests/fixtures/consent-mode");
    let dir = tempfile::tempdir().expect("tempdir");
    let policy = std::fs::read_to_string(fixture.join("consent-mode.policy.toml"))
        .expect("policy")
        .replace(
            "id = \"analytics\"\nname = \"Audience analytics\"\nbasis = \"consent\"\n",
            "id = \"analytics\"\nname = \"Audience analytics\"\nbasis = \"consent\"\ngpc_opt_out = true\n",
        );
    assert!(policy.contains("gpc_opt_out = true"), "policy text moved");
    std::fs::write(dir.path().join("consent-mode.policy.toml"), policy).expect("write policy");
    let scenarios = std::fs::read_to_string(fixture.join("consent-mode.toml"))
        .expect("scenarios")
        .replace(
            "scenarios = [\"no_action\", \"accept_all\", \"reject_all\"]",
            "scenarios = [\"no_action\", \"reject_all\", \"gpc\"]",
        );
    assert!(scenarios.contains("\"gpc\"]"), "scenario text moved");
    let file = dir.path().join("consent-mode.toml");
    std::fs::write(&file, scenarios).expect("write scenarios");

    let server = DemoServer::start_files(0, FileSite::named(project, "consent-mode"))
        .await
        .expect("fixture server");
    let db = dir.path().join("audit.db");
    let port = server.port();
    let run = tokio::task::spawn_blocking(move || common::audit(&file, port, &db, &[]))
        .await
        .expect("audit task");
    server.shutdown().await;
    let json = &run.json;
    assert_eq!(
        json["status"]["status"], "complete",
        "stderr:\n{}",
        run.stderr
    );
    let got = finding_keys(json);
    // GPC is judged in this run: the leaky basic-mode tag ignores it.
    assert!(
        got.contains(&key("vendor-ignores-gpc", "gpc", "ga4-leaky")),
        "{got:#?}"
    );
    // ga4 did send pings in the gpc scenario (so the exemption had something to judge).
    let run_id = json["run_id"].as_i64().expect("run id");
    let store = Store::open(&dir.path().join("audit.db"))
        .await
        .expect("open store");
    let signals = store
        .history()
        .signals(run_id, Some("gpc"))
        .await
        .expect("signals");
    assert!(
        signals.iter().any(|s| matches!((&s.data, &s.source),
            (SignalData::ConsentMode(c), SignalSource::Request { url })
                if url.starts_with("https://www.google-analytics.com/g/collect") && c.all_denied())),
        "no ga4 cookieless ping in the gpc scenario: {signals:#?}"
    );
    for f in json["findings"].as_array().expect("findings") {
        assert_ne!(f["vendor"], "ga4", "a cookieless ping flagged: {f}");
        assert_ne!(f["subject"], "ga4", "a cookieless ping flagged: {f}");
    }
}

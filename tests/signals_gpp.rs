//! GPP and US Privacy strings on a real Chromium, against the GPP fixture site
//! (fixtures/sites/gpp: a US CMP on the IAB's GPP library, one page where it ignores GPC and
//! one where it records it) served in-process over HTTPS. They run the real binary.
//! docs/signals.md#iab-gpp-and-us-privacy-strings. Needs the `demo` feature.
#![cfg(feature = "demo")]

mod common;

use common::Run;
use consentry::demo::{DemoServer, FileSite};
use consentry::signals::gpp::{GppSignal, OptOut};
use consentry::signals::{SignalData, SignalSource};
use consentry::store::Store;
use serde_json::Value;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// One browser test at a time (two cores; each audit runs its own Chromium).
static ONE_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

fn scenarios(file: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/gpp")
        .join(file)
}

/// Audits one scenario of a fixture file; a visit Chromium's renderer crashed in is run
/// once more, any other incomplete visit fails the test.
async fn audit(server: &DemoServer, file: &str, db: &Path, scenario: &str) -> Run {
    for attempt in 0..2 {
        let (port, db2, s, f) = (
            server.port(),
            db.to_path_buf(),
            scenario.to_string(),
            scenarios(file),
        );
        let run = tokio::task::spawn_blocking(move || {
            common::audit(&f, port, &db2, &["--jobs", "1", "--scenario", &s])
        })
        .await
        .unwrap();
        if !run.stderr.contains("[browser-crashed]") || attempt == 1 {
            assert!(
                !run.stderr.contains("NOT OBSERVED"),
                "{scenario} not observed:\n{}",
                run.stderr
            );
            return run;
        }
    }
    unreachable!()
}

/// (code, scenario, subject) of every GPP finding and `vendor-ignores-gpc`.
fn gpp_findings(json: &Value) -> BTreeSet<(String, String, String)> {
    json["findings"]
        .as_array()
        .expect("findings array")
        .iter()
        .filter(|f| {
            let c = f["code"].as_str().unwrap_or_default();
            c.starts_with("gpp-") || c == "vendor-ignores-gpc"
        })
        .map(|f| {
            (
                f["code"].as_str().unwrap_or_default().to_string(),
                f["scenario"].as_str().unwrap_or("-").to_string(),
                f["subject"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect()
}

fn all_codes(json: &Value) -> Vec<String> {
    json["findings"]
        .as_array()
        .expect("findings array")
        .iter()
        .map(|f| format!("{} {}", f["code"], f["subject"]))
        .collect()
}

fn key(code: &str, scenario: &str, subject: &str) -> (String, String, String) {
    (code.to_string(), scenario.to_string(), subject.to_string())
}

/// The per-scenario signal view lines of `scenario`'s visit.
fn view(json: &Value, scenario: &str) -> Vec<Value> {
    json["visits"]
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["scenario"] == scenario)
        .unwrap_or_else(|| panic!("no {scenario} visit"))["signals"]
        .as_array()
        .expect("signal view")
        .clone()
}

/// The CMP's GPP records (page API answers) stored for the run's `scenario`.
async fn cmp_records(db: &Path, json: &Value, scenario: &str) -> Vec<GppSignal> {
    let run = json["run_id"].as_i64().expect("run id");
    let store = Store::open(db).await.unwrap();
    store
        .history()
        .signals(run, Some(scenario))
        .await
        .unwrap()
        .into_iter()
        .filter_map(|s| match (&s.source, s.data) {
            (SignalSource::PageApi { api }, SignalData::Gpp(g)) if api == "__gpp ping" => Some(*g),
            _ => None,
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    not(feature = "browser-tests"),
    ignore = "needs Chromium and chromedriver: run `make test` or `cargo test --features browser-tests`"
)]
async fn the_ignored_gpc_opt_out_is_flagged_and_the_honoured_one_is_not() {
    let _slot = ONE_AT_A_TIME.lock().await;
    let site = FileSite::named(Path::new(env!("CARGO_MANIFEST_DIR")), "gpp");
    let server = DemoServer::start_files(0, site)
        .await
        .expect("fixture server");
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("audit.db");

    // The CMP that ignores GPC: it sees it (Gpc = 1) but records no opt-out, and every
    // vendor is handed a string saying so.
    let shop = audit(&server, "gpp-shop.toml", &db, "gpc").await;
    let got = gpp_findings(&shop.json);
    let want = BTreeSet::from([
        key("gpp-opt-out-not-recorded", "gpc", "usnat"),
        key("gpp-opt-out-not-recorded", "gpc", "usca"),
        key("gpp-opt-out-not-recorded", "gpc", "uspv1"),
        key("gpp-vendor-string-grants-opt-out", "gpc", "gpp-bidder"),
        key("gpp-vendor-string-grants-opt-out", "gpc", "gpp-deaf"),
        key("gpp-vendor-string-grants-opt-out", "gpc", "gpp-stats"),
        key("vendor-ignores-gpc", "gpc", "gpp-bidder"),
        key("vendor-ignores-gpc", "gpc", "gpp-deaf"),
    ]);
    assert_eq!(got, want, "{:#?}\n{}", all_codes(&shop.json), shop.stderr);
    let f = shop.json["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["code"] == "gpp-opt-out-not-recorded" && f["subject"] == "usnat")
        .unwrap();
    assert_eq!(f["severity"], "high");
    let detail = f["evidence"][0]["detail"].as_str().unwrap_or_default();
    assert!(
        detail.contains("__gpp")
            && detail.contains("sale not opted out")
            && detail.contains("gpc yes"),
        "{detail}"
    );
    // The decoded sections are in the signal view, from the page API and from requests.
    let lines = view(&shop.json, "gpc");
    assert!(
        lines.iter().any(|l| l["kind"] == "gpp"
            && l["source"] == "__gpp ping"
            && l["summary"].as_str().unwrap().contains(
                "usnat: sale not opted out, sharing not opted out, targeted advertising not opted out, gpc yes"
            )),
        "{lines:#?}"
    );
    assert!(
        lines
            .iter()
            .any(|l| l["kind"] == "gpp" && l["source"] == "vendor requests"),
        "{lines:#?}"
    );
    assert!(
        lines.iter().any(|l| l["source"] == "__uspapi getUSPData"
            && l["summary"]
                .as_str()
                .unwrap()
                .contains("uspv1: sale not opted out")),
        "{lines:#?}"
    );
    assert!(
        lines
            .iter()
            .any(|l| l["source"] == "cookie usprivacy@www.gpp-shop.test"),
        "{lines:#?}"
    );
    let stored = cmp_records(&db, &shop.json, "gpc").await;
    assert!(!stored.is_empty());
    for g in &stored {
        let nat = g
            .us_sections()
            .find(|(s, _)| s.name == "usnat")
            .expect("usnat stored")
            .1;
        assert_eq!(nat.sale_opt_out, Some(OptOut::DidNotOptOut));
        assert_eq!(nat.gpc, Some(true));
        assert_eq!(g.applicable_sections, Some(vec![7, 8]));
        assert!(!g.string_hash.is_empty() && g.string_len > 0);
    }

    // The CMP that records the GPC opt-out: no GPP finding, the compliant bidder stays
    // silent, and the record is in the view and the store.
    let good = audit(&server, "gpp-good.toml", &db, "gpc").await;
    assert!(
        gpp_findings(&good.json).is_empty(),
        "{:#?}",
        all_codes(&good.json)
    );
    assert_eq!(
        good.code,
        0,
        "{:#?}\n{}",
        all_codes(&good.json),
        good.stderr
    );
    let lines = view(&good.json, "gpc");
    assert!(
        lines.iter().any(|l| l["source"] == "__gpp ping"
            && l["summary"].as_str().unwrap().contains(
                "usnat: sale opted out, sharing opted out, targeted advertising opted out, gpc yes"
            )),
        "{lines:#?}"
    );
    for g in cmp_records(&db, &good.json, "gpc").await {
        for (sec, us) in g.us_sections() {
            assert!(us.not_opted_out().is_empty(), "{}", sec.describe());
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    not(feature = "browser-tests"),
    ignore = "needs Chromium and chromedriver: run `make test` or `cargo test --features browser-tests`"
)]
async fn a_bidder_firing_after_the_visitors_own_opt_out_is_flagged() {
    let _slot = ONE_AT_A_TIME.lock().await;
    let site = FileSite::named(Path::new(env!("CARGO_MANIFEST_DIR")), "gpp");
    let server = DemoServer::start_files(0, site)
        .await
        .expect("fixture server");
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("audit.db");

    // Without GPC and without an opt-out, nothing of GPP is judged.
    let plain = audit(&server, "gpp-shop.toml", &db, "no_action").await;
    assert!(
        gpp_findings(&plain.json).is_empty(),
        "{:#?}",
        all_codes(&plain.json)
    );
    // The visitor opts out with the CMP's link (the CMP records it); on page 2 the deaf
    // bidder fires anyway, the compliant one does not.
    let opt = audit(&server, "gpp-shop.toml", &db, "us_opt_out").await;
    assert_eq!(
        gpp_findings(&opt.json),
        BTreeSet::from([key("gpp-vendor-after-opt-out", "us_opt_out", "gpp-deaf")]),
        "{:#?}\n{}",
        all_codes(&opt.json),
        opt.stderr
    );
    let f = opt.json["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["code"] == "gpp-vendor-after-opt-out")
        .unwrap();
    let ev = &f["evidence"][0];
    assert_eq!(ev["page"], "https://www.gpp-shop.test/page2.html", "{ev}");
    assert!(
        ev["detail"]
            .as_str()
            .unwrap_or_default()
            .contains("opted out of sale, sharing, targeted advertising"),
        "{ev}"
    );
    let stored = cmp_records(&db, &opt.json, "us_opt_out").await;
    assert!(
        stored.iter().any(|g| g
            .us_sections()
            .any(|(s, us)| s.name == "usnat" && us.sale_opt_out == Some(OptOut::OptedOut))),
        "{stored:#?}"
    );
}

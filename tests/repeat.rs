//! Issue 22, item 4: `audit --repeat N`. Real Chromium against the demo site's lab page
//! `/lab/intermittent` (`tests/fixtures/lab.toml`, scenario `intermittent`): a steady
//! undeclared pixel on every load, and another on every other load the demo server
//! serves (src/demo/lab.rs), so three visits, each in a fresh browser context, see the
//! intermittent one exactly twice, whatever order they run in.
//! Needs the `demo` feature (the demo server).
#![cfg(feature = "demo")]

mod common;

use common::lab::LAB;
use consentry::demo::DemoServer;
use serde_json::Value;
use std::path::Path;

const STEADY: &str = "steady-lab.test";
const FLAKY: &str = "every-other-lab.test";

/// The undeclared-third-party finding of the `intermittent` scenario whose subject
/// names `host`.
fn undeclared<'a>(json: &'a Value, host: &str) -> &'a Value {
    json["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .find(|f| {
            f["code"] == "undeclared-third-party"
                && f["scenario"] == "intermittent"
                && f["subject"].as_str().is_some_and(|s| s.contains(host))
        })
        .unwrap_or_else(|| panic!("no undeclared-third-party finding for {host}: {json:#}"))
}

fn consentry_out(db: &Path, args: &[&str]) -> (i32, String, String) {
    let out = common::consentry()
        .args(args)
        .arg("--db")
        .arg(db)
        .output()
        .expect("run consentry");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Three repetitions: the steady vendor's finding says 3/3 and is not intermittent; the
/// every-other-load vendor's says 2/3 and is intermittent, in the JSON report, the
/// table, Markdown, SARIF and the report rebuilt from the database; the three visits are
/// stored, each with its repetition; the fingerprints are the ones a single visit gives.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    not(feature = "browser-tests"),
    ignore = "needs Chromium and chromedriver: run `make test` or `cargo test --features browser-tests`"
)]
async fn an_every_other_load_vendor_is_seen_two_of_three_times_and_intermittent() {
    let server = DemoServer::start(0).await.expect("demo server");
    let port = server.port();
    let dir = tempfile::tempdir().expect("temp dir");
    let db = dir.path().join("repeat.db");
    let db2 = db.clone();
    let run = tokio::task::spawn_blocking(move || {
        common::audit(
            Path::new(LAB),
            port,
            &db2,
            &[
                "--fail-on",
                "never",
                "--scenario",
                "intermittent",
                "--repeat",
                "3",
            ],
        )
    })
    .await
    .expect("audit task");
    let loads = server
        .log()
        .into_iter()
        .filter(|r| r.path_and_query == "/lab/intermittent")
        .count();
    server.shutdown().await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(loads, 3, "one load of the page per repetition");
    let json = &run.json;
    assert_eq!(json["visits"].as_array().map(Vec::len), Some(3), "{json:#}");
    let reps: Vec<u64> = json["visits"]
        .as_array()
        .expect("visits")
        .iter()
        .map(|v| v["repetition"].as_u64().expect("repetition"))
        .collect();
    assert_eq!(reps, vec![1, 2, 3]);

    let steady = undeclared(json, STEADY);
    assert_eq!(
        steady["repeat"],
        serde_json::json!({"seen": 3, "of": 3, "intermittent": false})
    );
    let flaky = undeclared(json, FLAKY);
    assert_eq!(
        flaky["repeat"],
        serde_json::json!({"seen": 2, "of": 3, "intermittent": true})
    );
    // One finding per fingerprint, whatever the repetitions.
    let fps: Vec<&str> = json["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .filter_map(|f| f["fingerprint"].as_str())
        .collect();
    let unique: std::collections::BTreeSet<&&str> = fps.iter().collect();
    assert_eq!(fps.len(), unique.len(), "{fps:?}");
    // The fingerprint is the one a single visit gives (no repetition in it).
    let expected = consentry::analysis::fingerprint(
        consentry::analysis::Code::UndeclaredThirdParty,
        json["site"].as_str().expect("site"),
        Some("intermittent"),
        flaky["subject"].as_str().expect("subject"),
    );
    assert_eq!(flaky["fingerprint"], expected.as_str());

    // The three visits are stored, one per repetition.
    let stored = common::texts(
        &db,
        "SELECT scenario || '#' || repetition FROM visits WHERE run_id = ? ORDER BY repetition",
        json["run_id"].as_i64().expect("run id"),
    );
    assert_eq!(
        stored,
        vec!["intermittent#1", "intermittent#2", "intermittent#3"]
    );

    // The report rebuilt from the database says the same.
    let (code, out, err) = consentry_out(&db, &["report", "latest", "--format", "json"]);
    assert_eq!(code, 0, "{err}");
    let again: Value = serde_json::from_str(&out).expect("stored report JSON");
    assert_eq!(undeclared(&again, FLAKY)["repeat"], flaky["repeat"]);
    assert_eq!(undeclared(&again, STEADY)["repeat"], steady["repeat"]);

    // Every report says it: the table and Markdown (ungrouped: each finding's row, and
    // grouped: the problem's spread), SARIF's properties, JUnit's failure text.
    for (format, ungrouped) in [
        ("table", true),
        ("table", false),
        ("markdown", true),
        ("markdown", false),
        ("html", true),
    ] {
        let mut args = vec!["report", "latest", "--format", format];
        if ungrouped {
            args.push("--ungrouped");
        }
        let (code, out, err) = consentry_out(&db, &args);
        assert_eq!(code, 0, "{format}: {err}");
        assert!(
            out.contains("2/3") && out.contains("intermittent"),
            "{format} (ungrouped {ungrouped}) does not say 2/3 intermittent:\n{out}"
        );
    }
    let (_, sarif, _) = consentry_out(&db, &["report", "latest", "--format", "sarif"]);
    let sarif: Value = serde_json::from_str(&sarif).expect("SARIF");
    let results = sarif["runs"][0]["results"].as_array().expect("results");
    let flaky_result = results
        .iter()
        .find(|r| {
            r["properties"]["subject"]
                .as_str()
                .is_some_and(|s| s.contains(FLAKY))
        })
        .expect("flaky SARIF result");
    assert_eq!(flaky_result["properties"]["seen"], 2);
    assert_eq!(flaky_result["properties"]["of"], 3);
    assert_eq!(flaky_result["properties"]["intermittent"], true);
}

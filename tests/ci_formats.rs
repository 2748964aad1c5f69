//! The CI formats and the output rule on a real run: the demo shop audited in Chromium,
//! then `consentry report RUN --format sarif|junit|json` run as a user would. The SARIF
//! validates against the SARIF 2.1.0 schema and points at the demo policy's lines, the
//! JUnit XML against the JUnit XSD (tests/fixtures/schemas/README.md), and the JSON of
//! `report latest` comes on stdout (`| jq .summary`).
//!
//! Needs the `demo` feature (the demo site) and Chromium (`--features browser-tests`).
#![cfg(feature = "demo")]

mod common;

use common::consentry;
use serde_json::Value;
use std::path::Path;

const POLICY: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/scenarios/demo-shop.policy.toml"
);
const SCHEMAS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/schemas");

/// `consentry ARGS --db DB`: exit code and stdout (stderr in the panic message).
fn run(db: &Path, args: &[&str]) -> (i32, String) {
    let out = consentry()
        .args(args)
        .arg("--db")
        .arg(db)
        .output()
        .expect("run consentry");
    let stderr = String::from_utf8_lossy(&out.stderr);
    let code = out.status.code().unwrap_or(-1);
    assert!(
        matches!(code, 0 | 1 | 3),
        "{args:?} exited {code}: {stderr}"
    );
    (code, String::from_utf8_lossy(&out.stdout).into_owned())
}

/// The 1-based line of `needle` in the demo policy.
fn policy_line(needle: &str) -> u64 {
    let text = std::fs::read_to_string(POLICY).expect("demo policy");
    let at = text.lines().position(|l| l.trim() == needle);
    at.map(|i| i as u64 + 1)
        .unwrap_or_else(|| panic!("{needle} not in the demo policy"))
}

/// The SARIF 2.1.0 schema, its published erratum corrected (see the README there).
fn sarif_schema() -> jsonschema::Validator {
    let text =
        std::fs::read_to_string(Path::new(SCHEMAS).join("sarif-2.1.0.json")).expect("schema");
    let mut schema: Value = serde_json::from_str(&text).expect("schema JSON");
    for of in ["run", "toolComponent"] {
        schema["definitions"][of]["properties"]["language"]["pattern"] =
            "^[a-zA-Z]{2}$|^[a-zA-Z]{2}-[a-zA-Z]{2}$".into();
    }
    jsonschema::draft4::new(&schema).expect("the schema compiles")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_demo_run_as_sarif_junit_and_json_on_stdout() {
    let (audit, dir, db) = common::fixture::audit_demo(&["--no-screenshots"]).await;
    let run_id = audit.json["run_id"].as_i64().expect("run id").to_string();

    // `report latest --format json | jq .summary`: the JSON on stdout.
    let (_, json) = run(&db, &["report", "latest", "--format", "json"]);
    let json: Value = serde_json::from_str(&json).expect("report latest: JSON on stdout");
    assert_eq!(json["summary"], audit.json["summary"]);

    // SARIF: valid, one result per finding, anchored at the declared map.
    let (code, sarif) = run(&db, &["report", &run_id, "--format", "sarif"]);
    assert_eq!(code, audit.code, "the run's verdict, as with any format");
    let log: Value = serde_json::from_str(&sarif).expect("SARIF is JSON");
    let validator = sarif_schema();
    let errors: Vec<String> = validator
        .iter_errors(&log)
        .map(|e| format!("{e} at {}", e.instance_path()))
        .collect();
    assert!(errors.is_empty(), "{errors:#?}");
    let results = log["runs"][0]["results"].as_array().expect("results");
    let findings = json["findings"].as_array().expect("findings");
    assert_eq!(results.len(), findings.len());
    for (r, f) in results.iter().zip(findings) {
        assert_eq!(r["ruleId"], f["code"]);
        assert_eq!(
            r["partialFingerprints"]["consentryFingerprint/v1"],
            f["fingerprint"]
        );
    }
    let place = |code: &str, subject: &str| {
        let r = results
            .iter()
            .find(|r| r["ruleId"] == code && r["properties"]["subject"] == subject)
            .unwrap_or_else(|| panic!("no {code} on {subject}"));
        let loc = &r["locations"][0]["physicalLocation"];
        (
            loc["artifactLocation"]["uri"]
                .as_str()
                .unwrap_or_default()
                .to_string(),
            loc["region"]["startLine"].as_u64().unwrap_or(0),
        )
    };
    // The Meta pixel fires before consent: at `id = "meta"` of the demo policy.
    let (uri, line) = place("consent-vendor-before-choice", "meta");
    assert!(uri.ends_with("scenarios/demo-shop.policy.toml"), "{uri}");
    assert!(
        uri.starts_with("file:///"),
        "an absolute path is a file URI: {uri}"
    );
    assert_eq!(line, policy_line("id = \"meta\""));
    // The legacy banner's scenario could not be performed: the scenario file.
    let (uri, line) = place("scenario-not-observed", "legacy_banner");
    assert!(uri.ends_with("scenarios/demo-shop.toml"), "{uri}");
    assert_eq!(line, 1);

    // JUnit: valid against the XSD; a failure per finding that fails the run.
    let (_, xml) = run(&db, &["report", &run_id, "--format", "junit"]);
    let file = dir.path().join("junit.xml");
    std::fs::write(&file, &xml).expect("write");
    let lint = std::process::Command::new("xmllint")
        .args(["--noout", "--schema"])
        .arg(Path::new(SCHEMAS).join("junit-10.xsd"))
        .arg(&file)
        .output()
        .expect("xmllint (make setup installs libxml2-utils)");
    assert!(
        lint.status.success(),
        "{}\n{xml}",
        String::from_utf8_lossy(&lint.stderr)
    );
    let failing = findings
        .iter()
        .filter(|f| matches!(f["severity"].as_str(), Some("high" | "critical")))
        .filter(|f| f["acknowledgement"].is_null())
        .count();
    assert!(failing > 0, "the demo has high findings");
    assert_eq!(xml.matches("<failure ").count(), failing, "{xml}");
    for v in json["visits"].as_array().expect("visits") {
        let name = v["scenario"].as_str().unwrap_or_default();
        assert!(
            xml.contains(&format!("<testcase name=\"{name}\"")),
            "{name}"
        );
    }
    assert_eq!(
        xml.matches("<error type=\"scenario-not-observed\"").count(),
        1,
        "legacy_banner was not observed"
    );

    // A drift pack has no SARIF form: refused, nothing printed.
    let out = consentry()
        .args(["drift", "--format", "sarif", "--db"])
        .arg(&db)
        .output()
        .expect("drift");
    assert_eq!(out.status.code(), Some(2));
    assert!(out.stdout.is_empty());
    assert!(String::from_utf8_lossy(&out.stderr).contains("describes one run"));
}

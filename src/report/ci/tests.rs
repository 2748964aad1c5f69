//! The CI formats on the fixed report: SARIF validates against the SARIF 2.1.0 schema,
//! JUnit against the JUnit XSD (both vendored, tests/fixtures/schemas/README.md), and
//! each lays out what the view says (rules, fingerprints, declared-map lines, failures).

use super::*;
use crate::analysis::finding::Code;
use crate::report::tests::{ack_record, finding, fixed_report};
use crate::report::{reporter, Format};
use std::path::Path;

const POLICY: &str = r#"[[purpose]]
id = "ads"
basis = "consent"

[[vendor]]
id = "meta"
domains = ["facebook.net"]
purposes = ["ads"]

[[cookie]]
name = "_fbp"
vendor = "meta"
max_retention = "90d"
"#;

/// The fixed report, with a vendor finding and a cookie finding of the policy above,
/// one acknowledged, judged at `high`.
fn report() -> AuditReport {
    let mut r = fixed_report();
    let mut vendor = finding(Code::ConsentVendorBeforeChoice, "no_action", "meta");
    vendor.vendor = Some("meta".into());
    let mut cookie = finding(Code::CookieRetentionExceeded, "accept_all", "_fbp");
    cookie.vendor = Some("meta".into());
    let acked = finding(Code::ConsentVendorAfterReject, "reject_all", "hotjar");
    r.acknowledgements = vec![ack_record(&acked.fingerprint, AckStatus::Active)];
    r.findings.extend([vendor, cookie, acked]);
    let (policy, diags) =
        crate::policy::load::parse_policy(Path::new("scenarios/shop-policy.toml"), POLICY);
    let policy = policy.unwrap_or_else(|| panic!("{diags}"));
    r.declared = Some(crate::outcome::DeclaredAt::of(&policy));
    r.with_verdict()
}

fn schema_dir() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/schemas")
}

#[test]
fn every_code_has_its_help_from_the_findings_contract() {
    for code in Code::all() {
        let help = code_doc(code);
        assert!(help.contains("**Severity:**"), "{code}: {help:?}");
        assert!(!help.contains("\n## "), "{code}: one section only");
    }
}

#[test]
fn sarif_validates_against_the_sarif_2_1_0_schema_and_points_at_the_declared_map() {
    let text = reporter(Format::Sarif).render(&report());
    let log: serde_json::Value = serde_json::from_str(&text).expect("SARIF is JSON");
    let mut schema: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(schema_dir().join("sarif-2.1.0.json")).expect("schema"),
    )
    .expect("schema JSON");
    // The published schema's one erratum: the `language` patterns (of `run` and of
    // `toolComponent`) have a stray `]` (`…[a-zA-Z]{2}]?$`), which a strict regex check
    // of the schema refuses; corrected here, as later schema releases did
    // (tests/fixtures/schemas/README.md).
    for of in ["run", "toolComponent"] {
        let language = &mut schema["definitions"][of]["properties"]["language"]["pattern"];
        assert_eq!(language, "^[a-zA-Z]{2}|^[a-zA-Z]{2}-[a-zA-Z]{2}]?$");
        *language = "^[a-zA-Z]{2}$|^[a-zA-Z]{2}-[a-zA-Z]{2}$".into();
    }
    let validator = jsonschema::draft4::new(&schema).expect("the schema compiles");
    let errors: Vec<String> = validator
        .iter_errors(&log)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    assert!(errors.is_empty(), "{errors:#?}\n{text}");
    // A schema that cannot fail proves nothing: a broken log is refused.
    let mut broken = log.clone();
    broken["runs"][0]["results"][0]["level"] = "fatal".into();
    assert!(!validator.is_valid(&broken));

    let run = &log["runs"][0];
    let rules = run["tool"]["driver"]["rules"].as_array().expect("rules");
    let ids: Vec<&str> = rules.iter().filter_map(|r| r["id"].as_str()).collect();
    let mut unique = ids.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), ids.len(), "one rule per code: {ids:?}");
    let r = report();
    let mut codes: Vec<&str> = r.findings.iter().map(|f| f.code.as_str()).collect();
    codes.sort();
    codes.dedup();
    assert_eq!(unique, codes, "a rule for each code of the run, no other");
    for rule in rules {
        let code = Code::parse(rule["id"].as_str().unwrap_or_default()).expect("a code");
        assert_eq!(rule["help"]["text"], code_doc(code));
    }
    let results = run["results"].as_array().expect("results");
    assert_eq!(results.len(), r.findings.len());
    for (res, f) in results.iter().zip(&r.findings) {
        assert_eq!(res["ruleId"], f.code.as_str());
        assert_eq!(
            res["partialFingerprints"]["consentryFingerprint/v1"],
            f.fingerprint.as_str()
        );
        assert_eq!(
            rules[res["ruleIndex"].as_u64().unwrap_or(999) as usize]["id"],
            f.code.as_str()
        );
    }
    let at = |subject: &str| {
        let res = results
            .iter()
            .find(|r| r["properties"]["subject"] == subject)
            .expect("the result");
        let loc = &res["locations"][0]["physicalLocation"];
        (
            loc["artifactLocation"]["uri"]
                .as_str()
                .unwrap_or_default()
                .to_string(),
            loc["region"]["startLine"].as_u64().unwrap_or(0),
        )
    };
    // The vendor's `id` is on line 6, the cookie's `name` on line 11.
    assert_eq!(at("meta"), ("scenarios/shop-policy.toml".into(), 6));
    assert_eq!(at("_fbp"), ("scenarios/shop-policy.toml".into(), 11));
    // Undeclared (no rule): the scenario file.
    assert_eq!(at("hotjar").0, r.scenario_file);
    // The acknowledged one is an accepted external suppression.
    let acked = results
        .iter()
        .find(|r| r["properties"]["subject"] == "hotjar")
        .expect("acked");
    assert_eq!(acked["suppressions"][0]["status"], "accepted");
    assert_eq!(acked["properties"]["fails"], false);
}

#[test]
fn junit_validates_against_the_xsd_with_a_failure_per_finding_at_or_above_fail_on() {
    let r = report();
    let xml = reporter(Format::Junit).render(&r);
    let dir = tempfile::tempdir().expect("tmp");
    let file = dir.path().join("junit.xml");
    std::fs::write(&file, &xml).expect("write");
    let out = std::process::Command::new("xmllint")
        .arg("--noout")
        .arg("--schema")
        .arg(schema_dir().join("junit-10.xsd"))
        .arg(&file)
        .output()
        .expect("xmllint runs (make setup installs libxml2-utils)");
    assert!(
        out.status.success(),
        "{}\n{xml}",
        String::from_utf8_lossy(&out.stderr)
    );
    // Invalid XML against the XSD is refused (the check can fail).
    std::fs::write(&file, xml.replace("<testcase name=", "<testcase nom=")).expect("write");
    let bad = std::process::Command::new("xmllint")
        .args(["--noout", "--schema"])
        .arg(schema_dir().join("junit-10.xsd"))
        .arg(&file)
        .output()
        .expect("xmllint");
    assert!(!bad.status.success());

    let view = CiView::of(&r);
    let failing: usize = view.cases.iter().map(|c| c.failures.len()).sum();
    assert_eq!(
        failing, r.verdict.failing,
        "failures = the verdict's failing"
    );
    assert_eq!(xml.matches("<failure ").count(), r.verdict.failing);
    for f in r.findings.iter().filter(|f| r.fails(f)) {
        assert!(xml.contains(&format!("fingerprint: {}", f.fingerprint)));
    }
    // A case per scenario of the run.
    for v in &r.visits {
        assert!(
            xml.contains(&format!("<testcase name=\"{}\"", v.scenario)),
            "{xml}"
        );
    }
    // Nothing fails at `never`.
    let mut never = report();
    never.fail_on = None;
    let never = never.with_verdict();
    assert_eq!(
        reporter(Format::Junit)
            .render(&never)
            .matches("<failure ")
            .count(),
        0
    );
}

#[test]
fn what_is_known_of_an_undeclared_host_is_a_sarif_property_and_a_junit_line() {
    let mut r = report();
    let mut bing = finding(Code::UndeclaredThirdParty, "no_action", "bing.com");
    // Failing at the report's `high`, so JUnit writes its failure.
    bing.severity = crate::analysis::Severity::High;
    bing.evidence[0].known = Some(crate::knowledge::Known {
        name: "Bing Ads".into(),
        company: "Bing Ads".into(),
        category: "ad".into(),
        kind: crate::knowledge::MatchKind::Pattern,
        pattern: "*.bing.com".into(),
        source: "third-party-web 0.30.0".into(),
        retention: None,
    });
    let fp = bing.fingerprint.clone();
    r.findings.push(bing);
    let r = r.with_verdict();
    const LINE: &str =
        "known: Bing Ads, category ad, by pattern *.bing.com in third-party-web 0.30.0";

    let log: serde_json::Value =
        serde_json::from_str(&reporter(Format::Sarif).render(&r)).expect("SARIF is JSON");
    let results = log["runs"][0]["results"].as_array().expect("results");
    let of = |fp: &str| {
        results
            .iter()
            .find(|x| x["partialFingerprints"][sarif::FINGERPRINT_KEY] == fp)
            .unwrap_or_else(|| panic!("no result {fp}"))
    };
    let props = &of(&fp)["properties"];
    assert_eq!(props["known"]["company"], "Bing Ads", "{props}");
    assert_eq!(props["known"]["category"], "ad", "{props}");
    assert_eq!(props["known"]["kind"], "pattern", "{props}");
    assert_eq!(props["known"]["pattern"], "*.bing.com", "{props}");
    assert_eq!(props["knownText"], LINE, "{props}");
    // Nothing is known of a declared vendor's finding: no property at all.
    let meta = crate::analysis::fingerprint(
        Code::ConsentVendorBeforeChoice,
        "demo-shop",
        Some("no_action"),
        "meta",
    );
    assert!(of(&meta)["properties"].get("known").is_none());

    let xml = reporter(Format::Junit).render(&r);
    let failure = xml
        .split("<failure ")
        .find(|f| f.contains(&format!("fingerprint: {fp}")))
        .unwrap_or_else(|| panic!("no failure for {fp}:\n{xml}"));
    let failure = &failure[..failure.find("</failure>").unwrap_or(failure.len())];
    assert!(failure.ends_with(&format!("\n{LINE}")), "{failure}");
    assert_eq!(xml.matches("known: ").count(), 1, "{xml}");
}

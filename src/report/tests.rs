//! Snapshot-style tests of the three formats on a fixed report; fixtures shared with
//! the exit-code tests.

use super::*;
use crate::analysis::{fingerprint, Code, Evidence, Finding, Severity};
use crate::model::{Failure, FailureKind, RunStatus, VisitStatus};
use chrono::DateTime;
use chrono::{Duration, TimeZone, Utc};

pub(crate) fn t(ms: i64) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 1, 1, 10, 0, 0)
        .single()
        .expect("valid time")
        + Duration::milliseconds(ms)
}

pub(crate) fn visit(scenario: &str, status: VisitStatus) -> VisitSummary {
    VisitSummary {
        scenario: scenario.into(),
        repetition: None,
        status,
        requests: 12,
        third_party_requests: 5,
        cookies_stored: 3,
        cookie_writes: 4,
        duration_ms: 3200,
        warnings: Vec::new(),
        signals: Vec::new(),
        consent_actions: Vec::new(),
        screenshots: Vec::new(),
        timings: Default::default(),
        vendors: Vec::new(),
        login: None,
    }
}

/// A finding with one piece of request evidence.
pub(crate) fn finding(code: Code, scenario: &str, subject: &str) -> Finding {
    Finding {
        code,
        severity: code.severity(),
        site: "demo-shop".into(),
        scenario: Some(scenario.into()),
        subject: subject.into(),
        vendor: None,
        message: format!("{subject} broke {code} in scenario \"{scenario}\"."),
        rule: format!("rule for {subject}"),
        evidence: vec![Evidence {
            scenario: scenario.into(),
            page: "https://www.demo-shop.test/".into(),
            request_url: Some(format!("https://{subject}.example/x")),
            cookie: None,
            time: t(5_000),
            phase: "before-choice".into(),
            detail: Some("GET Script, status 200".into()),
            logged_in: false,
            known: None,
        }],
        occurrences: 1,
        repeat: None,
        fingerprint: fingerprint(code, "demo-shop", Some(scenario), subject),
    }
}

const REASON: &str = "step 2 click \"#old-cmp-reject\" [reject_all] (scenarios/demo-shop.toml:52:5) failed: no element after 2s";

pub(crate) fn fixed_report() -> AuditReport {
    let mut no_action = visit("no_action", VisitStatus::Complete);
    no_action.warnings = vec!["network did not settle within 15s".into()];
    let reject = VisitSummary {
        requests: 9,
        third_party_requests: 2,
        cookies_stored: 2,
        cookie_writes: 2,
        duration_ms: 2900,
        signals: vec![crate::signals::SignalLine {
            phase: "after-reject_all".into(),
            kind: "tcf".into(),
            source: "__tcfapi getTCData".into(),
            count: 2,
            summary: "TCF CMP 300 v7, screen 1, GVL 200, policy 5: consent purposes none; LI purposes 2,7; consent vendors none; LI vendors 20".into(),
            distinct: 1,
        }],
        ..visit("reject_all", VisitStatus::Complete)
    };
    let legacy = VisitSummary {
        requests: 3,
        third_party_requests: 0,
        cookies_stored: 1,
        cookie_writes: 1,
        duration_ms: 2450,
        ..visit(
            "legacy_banner",
            VisitStatus::Incomplete(Failure::new(FailureKind::ElementNotFound, REASON)),
        )
    };

    let mut meta = finding(Code::ConsentVendorAfterReject, "reject_all", "meta");
    meta.message = "Meta Pixel (\"meta\") was contacted (connect.facebook.net) after the visitor rejected in scenario \"reject_all\" (phase after-reject_all).".into();
    meta.rule = "vendor \"meta\" (Meta Pixel): purpose \"advertising\" requires consent".into();
    meta.occurrences = 3;
    meta.evidence[0].request_url = Some("https://connect.facebook.net/en_US/fbevents.js".into());
    meta.evidence[0].phase = "after-reject_all".into();
    meta.evidence[0].time = t(4_250);

    let mut legacy_f = finding(Code::ScenarioNotObserved, "legacy_banner", "legacy_banner");
    legacy_f.message = format!("Scenario \"legacy_banner\" could not be observed: {REASON}.");
    legacy_f.rule = "every scenario of the scenario file must be observed completely".into();
    legacy_f.evidence[0].request_url = None;
    legacy_f.evidence[0].detail = Some(REASON.into());
    legacy_f.evidence[0].time = t(12_400);

    let mut cookie = finding(Code::UndeclaredCookie, "no_action", "promo|x");
    cookie.message = "Cookie \"promo|x\" (domain .demo-shop.test), which matches no declared cookie, was written in scenario \"no_action\" (phase before-choice).".into();
    cookie.rule = "every cookie must match a declared cookie rule".into();
    cookie.evidence[0].request_url = None;
    cookie.evidence[0].cookie = Some("promo|x@.demo-shop.test".into());
    cookie.evidence[0].detail = Some("written via document.cookie (requested 30d)".into());
    cookie.evidence[0].time = t(1_500);

    AuditReport {
        run_id: Some(42),
        site: "demo-shop".into(),
        scenario_file: "scenarios/demo-shop.toml".into(),
        started_at: t(0),
        finished_at: t(12_400),
        status: RunStatus::Incomplete("1 of 3 scenarios not observed".into()),
        visits: vec![no_action, reject, legacy],
        findings: vec![meta, legacy_f, cookie],
        fail_on: Some(Severity::High),
        db_path: Some("consentry.db".into()),
        crawl: None,
        data_versions: vec![crate::data::DataVersions {
            consentry: "0.1.0".into(),
            autoconsent: Some("16.23.0".into()),
            cmp_profiles: "klaro,cookieconsent,consentry-tcf@0123456789abcdef".into(),
            knowledge: None,
        }],
        fail_on_new: false,
        new_fingerprints: Vec::new(),
        regressed_fingerprints: Vec::new(),
        acknowledgements: Vec::new(),
        vantage: Default::default(),
        verdict: crate::outcome::Verdict::default(),
        declared: None,
    }
    .with_verdict()
}

/// An acknowledgement of `fingerprint` with `status`, as a run snapshot holds it.
pub(crate) fn ack_record(
    fingerprint: &str,
    status: crate::ack::AckStatus,
) -> crate::ack::AckRecord {
    crate::ack::AckRecord {
        fingerprint: fingerprint.into(),
        site: Some("demo-shop".into()),
        owner: "dpo@example.com".into(),
        reason: "accepted in the 2026 Q3 LIA".into(),
        expires: Utc
            .with_ymd_and_hms(2027, 3, 31, 23, 59, 59)
            .single()
            .expect("valid time")
            + Duration::nanoseconds(999_999_999),
        acknowledged: Some(t(0)),
        status,
        location: "scenarios/acks.toml:3".into(),
    }
}

fn clean_report() -> AuditReport {
    let mut r = fixed_report();
    r.status = RunStatus::Complete;
    r.visits.truncate(2);
    r.visits[0].warnings.clear();
    r.findings.clear();
    r.with_verdict()
}

#[test]
fn format_parsing() {
    assert_eq!("table".parse::<Format>(), Ok(Format::Table));
    assert_eq!("JSON".parse::<Format>(), Ok(Format::Json));
    assert_eq!("md".parse::<Format>(), Ok(Format::Markdown));
    assert_eq!("markdown".parse::<Format>(), Ok(Format::Markdown));
    assert_eq!("HTML".parse::<Format>(), Ok(Format::Html));
    assert!("htm".parse::<Format>().is_err());
    for f in [Format::Table, Format::Json, Format::Markdown, Format::Html] {
        assert_eq!(f.to_string().parse::<Format>(), Ok(f));
    }
}

#[test]
fn visit_summary_from_observation() {
    use crate::model::{ConsentState, RequestObs, TargetKind, VisitObservation, VisitTimings};
    let site = crate::scenario::Site {
        name: "demo-shop".into(),
        base_url: url::Url::parse("https://www.demo-shop.test/").expect("url"),
        pages: Vec::new(),
        first_party_domains: vec!["demo-shop.test".into()],
        secrets: Default::default(),
        crawl: None,
    };
    let req = |url: &str| RequestObs {
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
        time: t(0),
        page: "https://www.demo-shop.test/".into(),
        state: ConsentState::initial(),
        http: None,
    };
    let obs = VisitObservation {
        scenario: "no_action".into(),
        started_at: t(0),
        finished_at: t(3_210),
        status: VisitStatus::Complete,
        steps: Vec::new(),
        requests: vec![
            req("https://www.demo-shop.test/"),
            req("https://cdn.demo-shop.test/app.js"),
            req("https://connect.facebook.net/x.js"),
            req("data:image/gif;base64,R0lGOD"),
        ],
        cookie_writes: Vec::new(),
        cookies: Vec::new(),
        storage_writes: Vec::new(),
        page_errors: Vec::new(),
        signals: Vec::new(),
        cmp: Vec::new(),
        screenshots: Vec::new(),
        final_state: ConsentState::initial(),
        warnings: vec!["w".into()],
        timings: VisitTimings::default(),
        login: None,
    };
    let policy = crate::analysis::tests::policy();
    let attributed = crate::attribution::Attributor::new(&site, &policy).visit(&obs);
    let v = VisitSummary::of(&attributed);
    assert_eq!(v.requests, 4);
    assert_eq!(v.third_party_requests, 1);
    assert_eq!(v.duration_ms, 3_210);
    assert_eq!(v.warnings, vec!["w".to_string()]);
}

const TABLE: &str = r##"consentry audit of demo-shop | run #42 | INCOMPLETE: 1 of 3 scenarios not observed | 12.4s | started 2026-01-01 10:00:00 UTC
scenario file: scenarios/demo-shop.toml | database: consentry.db
data: consentry 0.1.0, autoconsent 16.23.0, CMP profiles klaro,cookieconsent,consentry-tcf@0123456789abcdef
vantage: default (direct, the browser's own locale and timezone)

Scenarios
 scenario      | status                                                         | requests | third-party | cookies | cookie writes | duration
---------------+----------------------------------------------------------------+----------+-------------+---------+---------------+----------
 no_action     | complete (1 warning)                                           | 12       | 5           | 3       | 4             | 3.2s
 reject_all    | complete                                                       | 9        | 2           | 2       | 2             | 2.9s
 legacy_banner | NOT OBSERVED: step 2 click "#old-cmp-reject" [reject_all] (... | 3        | 0           | 1       | 1             | 2.4s
  NOT OBSERVED legacy_banner: step 2 click "#old-cmp-reject" [reject_all] (scenarios/demo-shop.toml:52:5) failed: no element after 2s
  warning no_action: network did not settle within 15s

Consent signals
  no_action: no consent signal read (no __tcfapi, no TC-string cookie or parameter, no Consent Mode parameters, no GPC)
  reject_all | after-reject_all | __tcfapi getTCData (x2): TCF CMP 300 v7, screen 1, GVL 200, policy 5: consent purposes none; LI purposes 2,7; consent vendors none; LI vendors 20
  legacy_banner: none read (the scenario was not observed)

Findings (3)
 # | severity | code                        | scenario      | subject       | phase            | first evidence                                               | time     | n
---+----------+-----------------------------+---------------+---------------+------------------+--------------------------------------------------------------+----------+---
 1 | critical | consent-vendor-after-reject | reject_all    | meta          | after-reject_all | https://connect.facebook.net/en_US/fbevents.js               | 10:00:04 | 3
   |          |                             |               |               |                  | on https://www.demo-shop.test/                               |          |
 2 | high     | scenario-not-observed       | legacy_banner | legacy_banner | before-choice    | step 2 click "#old-cmp-reject" [reject_all] (scenarios/de... | 10:00:12 | 1
   |          |                             |               |               |                  | on https://www.demo-shop.test/                               |          |
 3 | medium   | undeclared-cookie           | no_action     | promo|x       | before-choice    | promo|x@.demo-shop.test                                      | 10:00:01 | 1
   |          |                             |               |               |                  | on https://www.demo-shop.test/                               |          |

[1] Meta Pixel ("meta") was contacted (connect.facebook.net) after the visitor rejected in scenario "reject_all" (phase after-reject_all).
    rule: vendor "meta" (Meta Pixel): purpose "advertising" requires consent
[2] Scenario "legacy_banner" could not be observed: step 2 click "#old-cmp-reject" [reject_all] (scenarios/demo-shop.toml:52:5) failed: no element after 2s.
    rule: every scenario of the scenario file must be observed completely
[3] Cookie "promo|x" (domain .demo-shop.test), which matches no declared cookie, was written in scenario "no_action" (phase before-choice).
    rule: every cookie must match a declared cookie rule

Findings: 1 critical, 1 high, 1 medium, 0 low, 0 info (3 total)
AUDIT INCOMPLETE: 1 scenario NOT OBSERVED (legacy_banner). 3 findings in what was observed. Exit 3 (incomplete).
"##;

#[test]
fn table_snapshot() {
    let out = TableReporter::default().render_with(&fixed_report(), Grouping::Ungrouped);
    assert_eq!(out, TABLE, "\n{out}");
}

#[test]
fn table_never_emits_ansi_and_can_show_fingerprints() {
    let mut r = fixed_report();
    r.findings[2].subject = "evil\u{1b}[31mred".into();
    let out = TableReporter::default()
        .with_fingerprints(true)
        .render_with(&r, Grouping::Ungrouped);
    assert!(!out.contains('\u{1b}'), "{out}");
    assert!(out.contains("| fingerprint"), "{out}");
    assert!(out.contains("v1-7ab13e0e1af6dac0"), "{out}");
}

#[test]
fn incomplete_without_findings_never_reads_clean() {
    let mut r = fixed_report();
    r.findings.clear();
    let table = TableReporter::default().render_with(&r, Grouping::Ungrouped);
    assert!(table.contains("NOT OBSERVED: step 2 click"), "{table}");
    assert!(table.contains("AUDIT INCOMPLETE, NOT CLEAN: 1 scenario NOT OBSERVED (legacy_banner). No findings in what was observed, but what was not observed is unknown. Exit 3 (incomplete)."), "{table}");
    assert!(!table.contains("Clean"), "{table}");
    let md = MarkdownReporter.render_with(&r, Grouping::Ungrouped);
    assert!(
        md.contains("> **Warning:** AUDIT INCOMPLETE, NOT CLEAN"),
        "{md}"
    );
    assert!(
        md.contains("| `legacy_banner` | **NOT OBSERVED:** step 2 click"),
        "{md}"
    );
    let json: serde_json::Value =
        serde_json::from_str(&JsonReporter.render(&r)).expect("valid JSON");
    assert_eq!(json["summary"]["verdict"], "incomplete");
    assert_eq!(json["summary"]["exit_code"], 3);
    assert_eq!(
        json["summary"]["scenarios_not_observed"][0],
        "legacy_banner"
    );

    // Interrupted with every visit complete: still not clean.
    let mut r = clean_report();
    r.status = RunStatus::Interrupted("interrupted by Ctrl-C".into());
    let r = r.with_verdict();
    let table = TableReporter::default().render_with(&r, Grouping::Ungrouped);
    assert!(
        table.contains("INTERRUPTED: interrupted by Ctrl-C"),
        "{table}"
    );
    assert!(
        table.contains("AUDIT INCOMPLETE, NOT CLEAN: the run is INTERRUPTED"),
        "{table}"
    );
}

#[test]
fn clean_report_reads_clean() {
    let r = clean_report();
    let table = TableReporter::default().render_with(&r, Grouping::Ungrouped);
    assert!(table.ends_with("Findings: 0 critical, 0 high, 0 medium, 0 low, 0 info (0 total)\nClean: every scenario was observed and nothing broke the declared map. Exit 0 (ok).\n"), "{table}");
    let md = MarkdownReporter.render_with(&r, Grouping::Ungrouped);
    assert!(md.ends_with("## Findings (0)\n\nNone.\n"), "{md}");
}

#[test]
fn findings_below_threshold_are_not_a_failure() {
    let mut r = clean_report();
    r.findings
        .push(finding(Code::UndeclaredCookie, "no_action", "promo"));
    let mut r = r.with_verdict();
    let table = TableReporter::default().render_with(&r, Grouping::Ungrouped);
    assert!(table.contains("Every scenario was observed; 1 finding below the threshold (fail-on high). Exit 0 (ok)."), "{table}");
    r.fail_on = Some(Severity::Medium);
    let r = r.with_verdict();
    let table = TableReporter::default().render_with(&r, Grouping::Ungrouped);
    assert!(
        table.contains("FAILED: findings at or above medium. Exit 1 (findings)."),
        "{table}"
    );
}

#[test]
fn json_shape() {
    let out = JsonReporter.render(&fixed_report());
    let v: serde_json::Value = serde_json::from_str(&out).expect("valid JSON");
    let keys: Vec<&str> = v
        .as_object()
        .expect("object")
        .keys()
        .map(|k| k.as_str())
        .collect();
    // serde_json without preserve_order sorts keys; the document order is checked below.
    let mut expected = vec![
        "schema_version",
        "run_id",
        "site",
        "scenario_file",
        "started_at",
        "finished_at",
        "duration_ms",
        "status",
        "fail_on",
        "fail_on_new",
        "db_path",
        "data_versions",
        "vantage",
        "summary",
        "visits",
        "findings",
        "problems",
        "acknowledgements",
    ];
    expected.sort_unstable();
    assert_eq!(keys, expected);
    // The findings grouped by code and subject: each finding in exactly one problem.
    let problems = v["problems"].as_array().expect("problems");
    let grouped: usize = problems
        .iter()
        .map(|p| p["fingerprints"].as_array().map_or(0, Vec::len))
        .sum();
    assert_eq!(grouped, v["findings"].as_array().map_or(0, Vec::len));
    assert!(
        out.starts_with(
            "{\n  \"schema_version\": 1,\n  \"run_id\": 42,\n  \"site\": \"demo-shop\",\n"
        ),
        "{out}"
    );
    assert_eq!(v["started_at"], "2026-01-01T10:00:00Z");
    assert_eq!(v["status"]["status"], "incomplete");
    assert_eq!(v["status"]["reason"], "1 of 3 scenarios not observed");
    assert_eq!(v["fail_on"], "high");
    assert_eq!(v["summary"]["findings"], 3);
    assert_eq!(v["summary"]["by_severity"]["critical"], 1);
    assert_eq!(v["summary"]["by_severity"]["info"], 0);
    assert_eq!(v["visits"][2]["status"]["status"], "incomplete");
    assert_eq!(v["visits"][0]["third_party_requests"], 5);
    let f = &v["findings"][0];
    assert_eq!(f["code"], "consent-vendor-after-reject");
    assert_eq!(f["severity"], "critical");
    assert_eq!(f["scenario"], "reject_all");
    assert_eq!(f["subject"], "meta");
    assert_eq!(f["occurrences"], 3);
    assert_eq!(f["fingerprint"], "v1-7ab13e0e1af6dac0");
    assert_eq!(
        f["evidence"][0]["request_url"],
        "https://connect.facebook.net/en_US/fbevents.js"
    );
    assert_eq!(f["evidence"][0]["time"], "2026-01-01T10:00:04.250Z");
    assert_eq!(f["evidence"][0]["cookie"], serde_json::Value::Null);
    // Findings round-trip (consumers may deserialize them with this crate's types).
    let back: Vec<Finding> = serde_json::from_value(v["findings"].clone()).expect("findings");
    assert_eq!(back, fixed_report().findings);
    // The per-scenario signal view.
    let sig = &v["visits"][1]["signals"][0];
    assert_eq!(sig["phase"], "after-reject_all");
    assert_eq!(sig["kind"], "tcf");
    assert_eq!(sig["count"], 2);
    assert!(sig["summary"].as_str().unwrap().contains("LI vendors 20"));
    assert_eq!(v["visits"][0]["signals"], serde_json::json!([]));
    // The data the run ran with; none for a run that did not record it; each set when a
    // queued fleet's workers differed.
    assert_eq!(
        v["data_versions"],
        serde_json::json!([{
            "consentry": "0.1.0",
            "autoconsent": "16.23.0",
            "cmp_profiles": "klaro,cookieconsent,consentry-tcf@0123456789abcdef",
            "knowledge": null,
        }])
    );
    let mut old = fixed_report();
    old.data_versions.clear();
    assert!(MarkdownReporter
        .render_with(&old, Grouping::Ungrouped)
        .contains("| Data          | not recorded for this run "));
    let old: serde_json::Value = serde_json::from_str(&JsonReporter.render(&old)).unwrap();
    assert_eq!(old["data_versions"], serde_json::json!([]));
    let mut two = fixed_report();
    two.data_versions.push(crate::data::DataVersions {
        autoconsent: None,
        ..two.data_versions[0].clone()
    });
    assert!(MarkdownReporter.render_with(&two, Grouping::Ungrouped).contains(
        "| Data          | consentry 0.1.0, autoconsent 16.23.0, CMP profiles klaro,cookieconsent,consentry-tcf@0123456789abcdef; then consentry 0.1.0, autoconsent not used, CMP profiles klaro,cookieconsent,consentry-tcf@0123456789abcdef |"
    ));
    assert_eq!(out, JsonReporter.render(&fixed_report()), "deterministic");
}

#[test]
fn markdown_snapshot_fragments() {
    let out = MarkdownReporter.render_with(&fixed_report(), Grouping::Ungrouped);
    for fragment in [
        "# Consent audit: demo-shop\n\n",
        "| Status        | **INCOMPLETE: 1 of 3 scenarios not observed**                                                         |\n",
        "| Exit          | 3 (incomplete)                                                                                        |\n",
        "| Data          | consentry 0.1.0, autoconsent 16.23.0, CMP profiles klaro,cookieconsent,consentry-tcf@0123456789abcdef |\n",
        "| Vantage       | default (direct, the browser's own locale and timezone)                                               |\n\n",
        "> **Warning:** AUDIT INCOMPLETE: 1 scenario NOT OBSERVED (legacy_banner). 3 findings in what was observed. Exit 3 (incomplete).\n",
        "| `no_action`     | complete                                                                                                                    | 12       | 5           | 3              | 4             | 3.2s     |\n",
        "|-----------------|-----------------------------------------------------------------------------------------------------------------------------|----------|-------------|----------------|---------------|----------|\n",
        "- `no_action`: network did not settle within 15s\n",
        "## Consent signals\n\n",
        "| `reject_all`    | `after-reject_all` | \\_\\_tcfapi getTCData (x2) | TCF CMP 300 v7",
        "| 1 | critical | `consent-vendor-after-reject` | `reject_all`    | `meta`          | after-reject_all | `https://connect.facebook.net/en_US/fbevents.js`                                                       | 3           |\n",
        "| 3 | medium   | `undeclared-cookie`           | `no_action`     | `promo\\|x`      | before-choice    | `promo\\|x@.demo-shop.test`                                                                             | 1           |\n\n",
        "### Finding 1: critical `consent-vendor-after-reject` (meta)\n\nMeta Pixel (\"meta\") was contacted (connect.facebook.net) after the visitor rejected in scenario \"reject_all\" (phase after-reject_all).\n\n- **Rule broken:** vendor \"meta\" (Meta Pixel): purpose \"advertising\" requires consent\n- **Scenario:** `reject_all`\n- **Occurrences:** 3 (first 1 shown)\n- **Fingerprint:** `v1-7ab13e0e1af6dac0`\n",
        "| 2026-01-01 10:00:04.250 | `reject_all` | after-reject_all | `https://www.demo-shop.test/` | `https://connect.facebook.net/en_US/fbevents.js` | GET Script, status 200 |\n",
        "### Finding 3: medium `undeclared-cookie` (promo\\|x)\n",
    ] {
        assert!(out.contains(fragment), "missing {fragment:?} in\n{out}");
    }
    // Every row of a table has as many unescaped column separators as its header.
    let separators = |line: &str| {
        let b = line.as_bytes();
        (0..b.len())
            .filter(|&i| b[i] == b'|' && (i == 0 || b[i - 1] != b'\\'))
            .count()
    };
    let mut expected = None;
    for line in out.lines() {
        if line.starts_with('|') {
            let n = separators(line);
            assert_eq!(*expected.get_or_insert(n), n, "{line}");
        } else {
            expected = None;
        }
    }
    assert_eq!(
        out,
        MarkdownReporter.render_with(&fixed_report(), Grouping::Ungrouped),
        "deterministic"
    );
}

#[test]
fn markdown_escapes_data() {
    let mut r = fixed_report();
    r.findings[2].message = "Cookie \"_ga\" and *bold* <b>x</b> [link](y)".into();
    let out = MarkdownReporter.render_with(&r, Grouping::Ungrouped);
    assert!(
        out.contains("Cookie \"\\_ga\" and \\*bold\\* \\<b>x\\</b> \\[link\\](y)"),
        "{out}"
    );
}

#[test]
fn markdown_code_spans_cannot_be_broken_out_of() {
    let mut r = fixed_report();
    let hostile = "a`` <script>alert(1)</script> ``b` ![x](https://evil.example/p.png)";
    r.findings[2].subject = hostile.into();
    r.findings[2].evidence[0].cookie = Some(format!("{hostile}@.demo-shop.test"));
    let out = MarkdownReporter.render_with(&r.with_verdict(), Grouping::Ungrouped);
    // The longest backtick run inside is 2, so the fence is 3 and the text stays inside.
    assert!(
        out.contains("``` a`` <script>alert(1)</script> ``b` ![x](https://evil.example/p.png) ```"),
        "{out}"
    );
    assert_eq!(
        out.matches("`` a``").count(),
        out.matches("``` a``").count(),
        "every span opens with a fence of 3 (a fence of 2 would close early):\n{out}"
    );
}

#[test]
fn hostile_page_text_is_escaped_and_clipped_in_every_human_format() {
    let mut r = fixed_report();
    let hostile = format!(
        "\u{1b}]0;pwned\u{7}\u{1b}[2Jx\u{202e}gpj.exe\nfile:1:1: error: forged{}",
        "A".repeat(100_000)
    );
    r.findings[2].subject = hostile.clone();
    r.findings[2].message = format!("Cookie {hostile} was written.");
    r.findings[2].evidence[0].cookie = Some(format!("{hostile}@x"));
    r.visits[0].warnings = vec![hostile.clone()];
    let r = r.with_verdict();
    for (name, out) in [
        (
            "table",
            TableReporter::default().render_with(&r, Grouping::Ungrouped),
        ),
        (
            "markdown",
            MarkdownReporter.render_with(&r, Grouping::Ungrouped),
        ),
    ] {
        assert!(!out.contains('\u{1b}'), "{name}: ESC reached the output");
        assert!(!out.contains('\u{7}'), "{name}: BEL reached the output");
        assert!(
            !out.contains('\u{202e}'),
            "{name}: a bidi control reached the output"
        );
        assert!(
            !out.lines()
                .any(|l| l.starts_with("file:1:1: error: forged")),
            "{name}: a newline in page text forged a line"
        );
        assert!(
            out.contains("\\u{202e}"),
            "{name}: the bidi control is shown escaped"
        );
        assert!(
            out.len() < 20_000,
            "{name}: a 100 KB cookie name must not amplify the report ({} bytes)",
            out.len()
        );
    }
    // JSON keeps the exact value.
    let json = JsonReporter.render(&r);
    let v: serde_json::Value = serde_json::from_str(&json).expect("json");
    assert_eq!(v["findings"][2]["subject"], hostile);
}

/// A complete run with three findings: the critical one acknowledged (active), the
/// medium one's acknowledgement expired, and one acknowledgement that matched nothing.
fn acknowledged_report() -> AuditReport {
    use crate::ack::AckStatus;
    let mut r = fixed_report();
    r.status = RunStatus::Complete;
    r.visits.truncate(2);
    r.findings.remove(1); // scenario-not-observed
    r.acknowledgements = vec![
        ack_record(&r.findings[0].fingerprint, AckStatus::Active),
        ack_record(&r.findings[1].fingerprint, AckStatus::Expired),
        ack_record("v1-1111111111111111", AckStatus::Unused),
    ];
    r.acknowledgements[1].expires = t(-86_400_000);
    r.with_verdict()
}

#[test]
fn acknowledged_findings_are_shown_and_do_not_count() {
    let mut r = acknowledged_report();
    assert_eq!(
        r.exit_status(),
        ExitStatus::Ok,
        "critical acknowledged, medium < high"
    );
    assert_eq!((r.verdict.failing, r.verdict.acknowledged), (0, 1));
    let table = TableReporter::default().render_with(&r, Grouping::Ungrouped);
    for fragment in [
        "| n | ack\n",
        "| 3 | ack\n",
        "| 1 | EXPIRED\n",
        "Acknowledgements\n  [1] acknowledged by dpo@example.com until 2027-03-31; reason: accepted in the 2026 Q3 LIA (scenarios/acks.toml:3)\n",
        "  [2] acknowledgement EXPIRED on 2025-12-31T10:00:00Z (by dpo@example.com): the finding counts again; reason:",
        "  unused v1-1111111111111111: matched no finding of this run (by dpo@example.com, until 2027-03-31);",
        "Every scenario was observed; 2 findings, none counting towards fail-on high: 1 acknowledged finding does not count. Exit 0 (ok).\n",
    ] {
        assert!(table.contains(fragment), "missing {fragment:?} in\n{table}");
    }
    let md = MarkdownReporter.render_with(&r, Grouping::Ungrouped);
    for fragment in [
        "| Occurrences | Ack         |\n",
        "| 3           | **ack**     |\n",
        "| 1           | **EXPIRED** |\n",
        "- **Acknowledgement:** acknowledged by dpo@example.com until 2027-03-31; reason: accepted in the 2026 Q3 LIA (scenarios/acks.toml:3)\n",
        "## Acknowledgements\n\n- Finding 1 (`v1-7ab13e0e1af6dac0`): acknowledged by",
        "- **Unused** `v1-1111111111111111`: matched no finding",
    ] {
        assert!(md.contains(fragment), "missing {fragment:?} in\n{md}");
    }
    let v: serde_json::Value = serde_json::from_str(&JsonReporter.render(&r)).expect("valid JSON");
    assert_eq!(v["summary"]["acknowledged"], 1);
    let ack = &v["findings"][0]["acknowledgement"];
    assert_eq!(ack["status"], "active");
    assert_eq!(ack["owner"], "dpo@example.com");
    assert_eq!(ack["expires"], "2027-03-31T23:59:59.999999999Z");
    assert_eq!(v["findings"][1]["acknowledgement"]["status"], "expired");
    assert_eq!(
        v["acknowledgements"]["active"].as_array().map(Vec::len),
        Some(1)
    );
    assert_eq!(
        v["acknowledgements"]["expired"][0]["fingerprint"],
        r.findings[1].fingerprint
    );
    assert_eq!(
        v["acknowledgements"]["unused"][0]["fingerprint"],
        "v1-1111111111111111"
    );

    // The expired acknowledgement no longer protects: at medium, the run fails, and
    // says the acknowledged one did not count.
    r.fail_on = Some(Severity::Medium);
    let r = r.with_verdict();
    assert_eq!(r.exit_status(), ExitStatus::Findings);
    assert_eq!((r.verdict.failing, r.verdict.acknowledged), (1, 1));
    let table = TableReporter::default().render_with(&r, Grouping::Ungrouped);
    assert!(
        table.contains("FAILED: findings at or above medium (1 acknowledged finding does not count). Exit 1 (findings)."),
        "{table}"
    );
}

#[test]
fn without_acknowledgements_nothing_changes_and_json_says_null() {
    let r = fixed_report();
    let table = TableReporter::default().render_with(&r, Grouping::Ungrouped);
    assert!(
        !table.contains("ack") && !table.contains("Acknowledgements"),
        "{table}"
    );
    let md = MarkdownReporter.render_with(&r, Grouping::Ungrouped);
    assert!(!md.contains("Ack"), "{md}");
    let v: serde_json::Value = serde_json::from_str(&JsonReporter.render(&r)).expect("valid JSON");
    assert_eq!(v["findings"][0]["acknowledgement"], serde_json::Value::Null);
    assert_eq!(v["summary"]["acknowledged"], 0);
    assert_eq!(v["acknowledgements"]["unused"], serde_json::json!([]));
}

#[test]
fn consent_actions_appear_in_every_format() {
    use crate::cmp::{CmpAction, CmpRecord, Method, Readback, RecordItem};
    use crate::model::{ConsentAction, ConsentEffect};
    let mut r = fixed_report();
    let item = |name: &str, basis: &str| RecordItem {
        name: name.into(),
        allowed: false,
        basis: basis.parse().expect("a record basis"),
        tcf_purpose: None,
    };
    r.visits[0].consent_actions = vec![CmpAction {
        action: ConsentAction::RejectAll,
        step: 0,
        page: "https://www.klaro-shop.test/".into(),
        time: chrono::DateTime::UNIX_EPOCH,
        method: Method::Autoconsent,
        success: true,
        detected: Some("Klaro".into()),
        popup_found: true,
        detect_ms: Some(985),
        done_ms: Some(42),
        added_ms: Some(45),
        readback: Readback::Recorded {
            record: CmpRecord::from_items(
                "klaro",
                "cookie klaro".into(),
                vec![
                    item("ga", "consent"),
                    item("scorecard", "legitimate_interest"),
                ],
            ),
        },
        declared: vec![ConsentEffect::RefuseConsent],
        applied: vec![ConsentEffect::RefuseConsent, ConsentEffect::ObjectLi],
        effects_from: crate::cmp::EffectsFrom::CmpRecord,
        banner_again: Vec::new(),
        grant: None,
    }];
    for f in [Format::Table, Format::Markdown, Format::Html] {
        let out = reporter(f).render_with(&r, Grouping::Ungrouped);
        assert!(out.contains("autoconsent optOut on Klaro"), "{f}:\n{out}");
        assert!(out.contains("scorecard=off (LI)"), "{f}:\n{out}");
    }
    let json: serde_json::Value =
        serde_json::from_str(&reporter(Format::Json).render(&r)).expect("json");
    let a = &json["visits"][0]["consent_actions"][0];
    assert_eq!(a["detected"], "Klaro");
    assert_eq!(a["done_ms"], 42);
    assert_eq!(
        a["applied"],
        serde_json::json!(["refuse_consent", "object_li"])
    );
    // Visits without a consent action carry no empty list.
    assert!(json["visits"][1].get("consent_actions").is_none());
}

#[test]
fn screenshots_appear_in_every_format() {
    use crate::model::ConsentAction;
    use crate::screenshots::{Screenshot, ShotWhen};
    let mut r = fixed_report();
    let shot = |when: ShotWhen, path: &str| Screenshot {
        step: 1,
        action: ConsentAction::RejectAll,
        when,
        time: t(4_000),
        page: "https://www.demo-shop.test/".into(),
        width: 1280,
        height: 900,
        bytes: 52_311,
        capture_ms: 90,
        action_failed: false,
        path: Some(path.into()),
        png: Vec::new(),
    };
    r.visits[1].screenshots = vec![
        shot(
            ShotWhen::Before,
            "/srv/reports/demo-shop/run-7/02-reject_all-step2-reject_all-before.png",
        ),
        shot(
            ShotWhen::After,
            "/srv/reports/demo-shop/run-7/02-reject_all-step2-reject_all-after.png",
        ),
    ];
    // Written to a file: paths relative to it.
    crate::screenshots::paths_relative_to(
        &mut r,
        std::path::Path::new("/srv/reports/demo-shop/run-7.html"),
    );
    let before = "run-7/02-reject_all-step2-reject_all-before.png";
    let after = "run-7/02-reject_all-step2-reject_all-after.png";
    let html = reporter(Format::Html).render_with(&r, Grouping::Ungrouped);
    for p in [before, after] {
        assert!(
            html.contains(&format!(
                "<a href=\"{p}\"><img src=\"{p}\" width=\"1280\" height=\"900\""
            )),
            "{html}"
        );
    }
    assert!(html.contains("Banner screenshots (2)"), "{html}");
    // The scenarios table links each scenario's pictures.
    assert!(
        html.contains("<a href=\"#shots-1-reject-all\">2</a>"),
        "{html}"
    );
    assert!(html.contains("<h3 id=\"shots-1-reject-all\">"), "{html}");
    // Before comes first, in the reject_all scenario's section.
    assert!(html.find(before) < html.find(after));
    let md = reporter(Format::Markdown).render_with(&r, Grouping::Ungrouped);
    assert!(
        md.contains(&format!(
            "- `reject_all` step 2 `reject_all`: [before]({before}) · [after]({after})"
        )),
        "{md}"
    );
    let table = reporter(Format::Table).render_with(&r, Grouping::Ungrouped);
    assert!(
        table.contains("screenshots: 2 screenshot(s) of 1 consent action(s) in run-7/"),
        "{table}"
    );
    let json: serde_json::Value =
        serde_json::from_str(&reporter(Format::Json).render(&r)).expect("json");
    let s = &json["visits"][1]["screenshots"];
    assert_eq!(s[0]["path"], before);
    assert_eq!(s[0]["when"], "before");
    assert_eq!(s[1]["when"], "after");
    assert_eq!(s[0]["action"], "reject_all");
    assert_eq!(s[0]["step"], 1);
    assert!(s[0].get("png").is_none(), "the bytes are never in the JSON");
    // Visits without screenshots carry no list, and no format mentions them.
    assert!(json["visits"][0].get("screenshots").is_none());
    // An "after" of a failed action says so.
    r.visits[1].screenshots[1].action_failed = true;
    let html = reporter(Format::Html).render_with(&r, Grouping::Ungrouped);
    assert!(
        html.contains("<b>after</b> <span class=\"warn\">the action failed"),
        "{html}"
    );
    let md = reporter(Format::Markdown).render_with(&r, Grouping::Ungrouped);
    assert!(
        md.contains(&format!("[after (the action failed)]({after})")),
        "{md}"
    );
    let plain = reporter(Format::Html).render_with(&fixed_report(), Grouping::Ungrouped);
    assert!(!plain.contains("<img"), "no screenshots, no images");
    assert!(!reporter(Format::Table)
        .render_with(&fixed_report(), Grouping::Ungrouped)
        .contains("screenshots:"));
}

/// With page discovery, every evidence names its page's template (docs/crawl.md), in
/// every format; without it, no template column appears.
#[test]
fn evidence_names_the_template_of_its_page_when_pages_were_discovered() {
    let mut r = fixed_report();
    let plain_md = reporter(Format::Markdown).render_with(&r, Grouping::Ungrouped);
    assert!(!plain_md.contains("Template"), "{plain_md}");
    let base = url::Url::parse("https://www.demo-shop.test/").expect("url");
    let product = url::Url::parse("https://www.demo-shop.test/product/blue-wool-hat").expect("url");
    r.crawl = Some(crate::crawl::listed_only(
        &base,
        &[base.clone(), product.clone()],
        None,
    ));
    let meta = r
        .findings
        .iter_mut()
        .find(|f| f.subject == "meta")
        .expect("meta");
    meta.evidence[0].page = format!("{product}?utm_source=mail");
    let md = reporter(Format::Markdown).render_with(&r, Grouping::Ungrouped);
    let header = md
        .lines()
        .find(|l| l.starts_with("| Time (UTC)"))
        .expect("evidence table");
    let cols: Vec<&str> = header.split('|').map(str::trim).collect();
    assert_eq!(
        cols,
        [
            "",
            "Time (UTC)",
            "Scenario",
            "Phase",
            "Page",
            "Template",
            "Request / cookie",
            "Detail",
            ""
        ]
    );
    assert!(md.contains("`/product/{slug}`"), "{md}");
    let html = reporter(Format::Html).render_with(&r, Grouping::Ungrouped);
    assert!(html.contains("<th>Template</th>"), "{html}");
    assert!(html.contains("<code>/product/{slug}</code>"), "{html}");
    let table = reporter(Format::Table).render_with(&r, Grouping::Ungrouped);
    assert!(table.contains("(/product/{slug})"), "{table}");
    let json: serde_json::Value =
        serde_json::from_str(&reporter(Format::Json).render(&r)).expect("json");
    assert_eq!(json["crawl"]["pages"][1]["template"], "/product/{slug}");
    let meta = json["findings"]
        .as_array()
        .and_then(|fs| fs.iter().find(|f| f["subject"] == "meta"))
        .expect("meta");
    assert_eq!(meta["templates"], serde_json::json!(["/product/{slug}"]));
}

//! Snapshot tests (insta) of every format on one fixed demo run and one drift pack,
//! grouped into problems and ungrouped. The run is built from fixed data (no browser,
//! no clock, no port), so the snapshots are byte-for-byte deterministic. The `.snap`
//! files are committed: in CI (`CI=true`) a missing snapshot fails. After an intended
//! change of a layout, review the new output with `INSTA_UPDATE=always cargo test
//! --lib report::snapshots` and `git diff src/report/snapshots/`.

use super::tests::{ack_record, finding, fixed_report, t, visit};
use super::{reporter, Format, Grouping};
use crate::ack::AckStatus;
use crate::analysis::{sort_findings, Code, Finding};
use crate::model::{Failure, FailureKind, RunStatus, VisitStatus};
use crate::outcome::AuditReport;

const SCENARIOS: [&str; 4] = ["no_action", "accept_all", "reject_all", "object_li"];

fn with_vendor(mut f: Finding, vendor: &str) -> Finding {
    f.vendor = Some(vendor.into());
    f
}

/// The demo shop's run, as the demo site's misbehaviours would record it: Meta fires
/// before the choice in every scenario and again after the reject, Bing's cookie is
/// undeclared everywhere (two of its findings acknowledged), Google Analytics keeps
/// `_ga` too long, Scorecard ignores the objection, Hotjar never fires, and the legacy
/// banner scenario could not be observed.
pub(crate) fn demo_run() -> AuditReport {
    let mut r = fixed_report();
    r.status = RunStatus::Incomplete("1 of 5 scenarios not observed".into());
    r.visits = SCENARIOS
        .iter()
        .map(|s| visit(s, VisitStatus::Complete))
        .collect();
    r.visits.push(visit(
        "legacy_banner",
        VisitStatus::Incomplete(Failure::new(
            FailureKind::ElementNotFound,
            "step 2 click \"#old-cmp-reject\" (scenarios/demo-shop.toml:52:5) failed: no element after 2s",
        )),
    ));
    for v in &mut r.visits[..4] {
        v.vendors = vec!["meta".into(), "scorecard".into()];
    }
    r.visits[1].vendors.push("google-analytics".into());

    let mut findings = Vec::new();
    for (i, s) in SCENARIOS.iter().enumerate() {
        let mut meta = with_vendor(finding(Code::ConsentVendorBeforeChoice, s, "meta"), "meta");
        meta.message = format!("Meta Pixel (\"meta\") was contacted (connect.facebook.net) before the visitor made a choice in scenario \"{s}\".");
        meta.rule = "vendor \"meta\" (Meta Pixel): purpose \"advertising\" requires consent".into();
        meta.evidence[0].request_url =
            Some("https://connect.facebook.net/en_US/fbevents.js".into());
        if i % 2 == 1 {
            meta.evidence[0].page = "https://www.demo-shop.test/products/1".into();
        }
        findings.push(meta);

        let mut bing = finding(Code::UndeclaredCookie, s, "_uetsid");
        bing.message = format!("Cookie \"_uetsid\" (domain .demo-shop.test), which matches no declared cookie, was written in scenario \"{s}\".");
        bing.rule = "every cookie must match a declared cookie rule".into();
        bing.evidence[0].request_url = None;
        bing.evidence[0].cookie = Some("_uetsid@.demo-shop.test".into());
        bing.evidence[0].detail = Some("set by bat.bing.com (requested 1d)".into());
        bing.evidence[0].known = Some(crate::knowledge::Known {
            name: "Microsoft Advertising".into(),
            company: "Microsoft".into(),
            category: "Marketing".into(),
            kind: crate::knowledge::MatchKind::CookieName,
            pattern: "_uetsid".into(),
            source: "open-cookie-database (gdpr-cookie-scanner 3.8.2)".into(),
            retention: Some("1 day".into()),
        });
        bing.evidence[0].time = t(2_000 + i as i64 * 100);
        findings.push(bing);
    }
    let mut reject = with_vendor(
        finding(Code::ConsentVendorAfterReject, "reject_all", "meta"),
        "meta",
    );
    reject.message = "Meta Pixel (\"meta\") was contacted (connect.facebook.net) after the visitor rejected in scenario \"reject_all\".".into();
    reject.rule = "vendor \"meta\" (Meta Pixel): purpose \"advertising\" requires consent".into();
    reject.evidence[0].request_url = Some("https://connect.facebook.net/en_US/fbevents.js".into());
    reject.evidence[0].phase = "after-reject_all".into();
    reject.occurrences = 3;
    findings.push(reject);
    let mut objection = with_vendor(
        finding(Code::LiVendorAfterObjection, "object_li", "scorecard"),
        "scorecard",
    );
    objection.message = "Scorecard (\"scorecard\") kept measuring (sb.scorecardresearch.com) after the visitor objected to legitimate interest in scenario \"object_li\".".into();
    objection.rule =
        "vendor \"scorecard\": purpose \"measurement\" (legitimate_interest) stops on objection"
            .into();
    objection.evidence[0].request_url = Some("https://sb.scorecardresearch.com/p?c1=2".into());
    objection.evidence[0].phase = "after-object_li".into();
    findings.push(objection);
    let mut ga = with_vendor(
        finding(Code::CookieRetentionExceeded, "accept_all", "_ga"),
        "google-analytics",
    );
    ga.message = "Cookie \"_ga\" asks for 730d; the declaration allows 395d.".into();
    ga.rule = "cookie \"_ga\" (google-analytics): retention 395d".into();
    ga.evidence[0].request_url = None;
    ga.evidence[0].cookie = Some("_ga@.demo-shop.test".into());
    ga.evidence[0].detail = Some("requested 730d; declared 395d".into());
    ga.evidence[0].phase = "after-accept_all".into();
    findings.push(ga);
    let mut hotjar = with_vendor(
        finding(Code::DeclaredVendorUnobserved, "no_action", "hotjar"),
        "hotjar",
    );
    hotjar.message = "Declared vendor \"hotjar\" made no request in any scenario: a stale entry of the declared map?".into();
    hotjar.rule = "vendor \"hotjar\" (Hotjar) is declared".into();
    hotjar.scenario = None;
    hotjar.evidence.clear();
    hotjar.fingerprint = crate::analysis::fingerprint(hotjar.code, "demo-shop", None, "hotjar");
    findings.push(hotjar);
    let mut legacy = finding(Code::ScenarioNotObserved, "legacy_banner", "legacy_banner");
    legacy.message = "Scenario \"legacy_banner\" could not be observed: no element \"#old-cmp-reject\" after 2s.".into();
    legacy.rule = "every scenario of the scenario file must be observed completely".into();
    legacy.evidence[0].request_url = None;
    legacy.evidence[0].detail = Some("no element after 2s".into());
    findings.push(legacy);

    let order: Vec<&str> = r.visits.iter().map(|v| v.scenario.as_str()).collect();
    sort_findings(&mut findings, &order);
    let acked: Vec<String> = findings
        .iter()
        .filter(|f| {
            f.subject == "_uetsid"
                && matches!(f.scenario.as_deref(), Some("no_action" | "accept_all"))
        })
        .map(|f| f.fingerprint.clone())
        .collect();
    r.findings = findings;
    r.acknowledgements = acked
        .iter()
        .map(|fp| ack_record(fp, AckStatus::Active))
        .collect();
    r.with_verdict()
}

fn render(format: Format, grouping: Grouping) -> String {
    reporter(format).render_with(&demo_run(), grouping)
}

#[test]
fn demo_run_has_problems_spread_over_scenarios() {
    let r = demo_run();
    let p = crate::outcome::problems(&r);
    let meta = p
        .iter()
        .find(|p| p.code == Code::ConsentVendorBeforeChoice)
        .expect("meta problem");
    assert_eq!(meta.spread(), "4/5 scenarios, 2 pages");
    assert!(r.findings.len() > p.len(), "grouping must collapse rows");
}

macro_rules! human_format_snapshots {
    ($($name:ident: $format:expr,)*) => {$(
        #[test]
        fn $name() {
            let grouped = render($format, Grouping::Problems);
            let ungrouped = render($format, Grouping::Ungrouped);
            assert_ne!(grouped, ungrouped, "the grouping changes the layout");
            insta::assert_snapshot!(concat!(stringify!($name), "_grouped"), grouped);
            insta::assert_snapshot!(concat!(stringify!($name), "_ungrouped"), ungrouped);
        }
    )*};
}

human_format_snapshots! {
    run_table: Format::Table,
    run_markdown: Format::Markdown,
    run_html: Format::Html,
}

macro_rules! machine_format_snapshots {
    ($($name:ident: $format:expr,)*) => {$(
        #[test]
        fn $name() {
            let grouped = render($format, Grouping::Problems);
            // Machine formats carry both lists (JSON) or neither grouping (SARIF, JUnit).
            assert_eq!(grouped, render($format, Grouping::Ungrouped));
            insta::assert_snapshot!(stringify!($name), grouped);
        }
    )*};
}

machine_format_snapshots! {
    run_json: Format::Json,
    run_sarif: Format::Sarif,
    run_junit: Format::Junit,
}

/// The sample drift pack with the undeclared cookie seen in three scenarios: three
/// lifecycles, one problem.
fn demo_drift() -> crate::drift::DriftReport {
    let mut d = crate::report::html::sample::drift_pack(6);
    let cookie = d
        .lifecycles
        .iter()
        .find(|l| l.code == "undeclared-cookie")
        .cloned()
        .expect("undeclared-cookie lifecycle");
    for s in ["accept_all", "reject_all"] {
        let mut l = cookie.clone();
        l.scenario = Some(s.into());
        l.fingerprint = format!("{}-{s}", l.fingerprint);
        d.lifecycles.push(l);
    }
    d
}

#[test]
fn drift_pack_groups_one_problem_over_scenarios() {
    let d = demo_drift();
    let v = super::view::DriftView::of(&d);
    assert_eq!(v.lifecycles.len(), v.problems.len() + 2);
    let cookie = v
        .problems
        .iter()
        .find(|p| p.code == "undeclared-cookie")
        .expect("cookie problem");
    assert_eq!(cookie.scenarios, ["no_action", "accept_all", "reject_all"]);
    assert_eq!(cookie.scenarios_text(), "3 scenarios");
}

macro_rules! drift_snapshots {
    ($($name:ident: $format:expr,)*) => {$(
        #[test]
        fn $name() {
            let d = demo_drift();
            let grouped = reporter($format).render_drift_with(&d, Grouping::Problems);
            let ungrouped = reporter($format).render_drift_with(&d, Grouping::Ungrouped);
            assert_ne!(grouped, ungrouped, "the grouping changes the layout");
            insta::assert_snapshot!(concat!(stringify!($name), "_grouped"), grouped);
            insta::assert_snapshot!(concat!(stringify!($name), "_ungrouped"), ungrouped);
        }
    )*};
}

drift_snapshots! {
    drift_table: Format::Table,
    drift_markdown: Format::Markdown,
    drift_html: Format::Html,
}

#[test]
fn drift_json() {
    let d = demo_drift();
    let json = reporter(Format::Json).render_drift_with(&d, Grouping::Problems);
    assert_eq!(
        json,
        reporter(Format::Json).render_drift_with(&d, Grouping::Ungrouped)
    );
    insta::assert_snapshot!("drift_json", json);
}

#[test]
fn grouped_layouts_show_each_problem_once_with_spread_and_ack_share() {
    for format in [Format::Table, Format::Markdown, Format::Html] {
        let grouped = render(format, Grouping::Problems);
        assert_eq!(
            grouped.matches("4/5 scenarios, 2 pages").count(),
            if format == Format::Table { 1 } else { 2 },
            "{format}: the Meta problem once in the table (and once in its details)\n{grouped}"
        );
        assert!(
            grouped.contains("ack 2/4"),
            "{format}: Bing's cookie, 2 of 4 acknowledged"
        );
        assert!(
            grouped.contains("Vendors by scenario"),
            "{format}: the matrix"
        );
        let ungrouped = render(format, Grouping::Ungrouped);
        assert!(!ungrouped.contains("4/5 scenarios"), "{format}");
        assert!(
            ungrouped.contains("Vendors by scenario"),
            "{format}: the matrix either way"
        );
    }
}

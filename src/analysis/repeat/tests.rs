use super::*;
use crate::analysis::finding::{fingerprint, Evidence, Severity};
use chrono::{TimeZone, Utc};

fn finding(code: Code, scenario: &str, subject: &str, at: u32) -> Finding {
    Finding {
        code,
        severity: Severity::Medium,
        site: "shop".into(),
        scenario: Some(scenario.into()),
        subject: subject.into(),
        vendor: None,
        message: format!("{subject} in {scenario}"),
        rule: "r".into(),
        evidence: vec![Evidence {
            scenario: scenario.into(),
            page: "https://shop.test/".into(),
            request_url: Some(format!("https://{subject}/p?{at}")),
            cookie: None,
            time: Utc
                .with_ymd_and_hms(2026, 12, 7, 2, 0, at)
                .single()
                .expect("time"),
            phase: "before-choice".into(),
            detail: None,
            logged_in: false,
            known: None,
        }],
        occurrences: 1,
        fingerprint: fingerprint(code, "shop", Some(scenario), subject),
        repeat: None,
    }
}

fn rep<'a>(scenario: &'a str, r: u32, observed: bool, f: &'a [Finding]) -> Repetition<'a> {
    Repetition {
        scenario,
        repetition: r,
        observed,
        findings: f,
    }
}

fn seen_of(merged: &[Finding], subject: &str) -> Option<Seen> {
    merged
        .iter()
        .find(|f| f.subject == subject)
        .expect("merged finding")
        .repeat
}

#[test]
fn one_repetition_changes_nothing() {
    let a = [finding(
        Code::UndeclaredThirdParty,
        "no_action",
        "px.test",
        1,
    )];
    let merged = merge(&[rep("no_action", 1, true, &a)], &[]);
    assert_eq!(merged, a.to_vec());
}

#[test]
fn steady_and_intermittent_findings_over_three_repetitions() {
    let steady = |at| finding(Code::UndeclaredThirdParty, "no_action", "steady.test", at);
    let flaky = |at| finding(Code::UndeclaredThirdParty, "no_action", "flaky.test", at);
    let r1 = [steady(1), flaky(2)];
    let r2 = [steady(3)];
    let r3 = [steady(5), flaky(6)];
    let merged = merge(
        &[
            rep("no_action", 3, true, &r3),
            rep("no_action", 1, true, &r1),
            rep("no_action", 2, true, &r2),
        ],
        &[],
    );
    assert_eq!(merged.len(), 2);
    let s = seen_of(&merged, "steady.test").expect("k/N");
    assert_eq!((s.seen, s.of, s.intermittent()), (3, 3, false));
    let f = seen_of(&merged, "flaky.test").expect("k/N");
    assert_eq!((f.seen, f.of, f.intermittent()), (2, 3, true));
    assert_eq!(f.label(), "2/3 intermittent");
    // The earliest repetition's finding, with every repetition's occurrences and evidence.
    let m = merged
        .iter()
        .find(|f| f.subject == "steady.test")
        .expect("steady");
    assert_eq!(m.occurrences, 3);
    assert_eq!(m.evidence.len(), 3);
    assert_eq!(m.fingerprint, steady(1).fingerprint);
}

#[test]
fn a_repetition_not_observed_does_not_count() {
    let steady = |at| finding(Code::UndeclaredThirdParty, "no_action", "steady.test", at);
    let (r1, r3) = ([steady(1)], [steady(5)]);
    let not_observed = [finding(
        Code::ScenarioNotObserved,
        "no_action",
        "no_action",
        3,
    )];
    let merged = merge(
        &[
            rep("no_action", 1, true, &r1),
            rep("no_action", 2, false, &not_observed),
            rep("no_action", 3, true, &r3),
        ],
        &[],
    );
    // Seen in both repetitions that observed the scenario: not intermittent.
    let s = seen_of(&merged, "steady.test").expect("k/N");
    assert_eq!((s.seen, s.of), (2, 2));
    // Not observing is counted over every repetition run.
    let n = seen_of(&merged, "no_action").expect("k/N");
    assert_eq!((n.seen, n.of), (1, 3));
}

#[test]
fn run_level_findings_carry_no_count() {
    let a = [finding(
        Code::UndeclaredThirdParty,
        "no_action",
        "px.test",
        1,
    )];
    let mut run = finding(Code::DeclaredVendorUnobserved, "no_action", "meta", 9);
    run.scenario = None;
    let merged = merge(
        &[rep("no_action", 1, true, &a), rep("no_action", 2, true, &a)],
        std::slice::from_ref(&run),
    );
    assert_eq!(merged.last(), Some(&run));
    assert_eq!(
        seen_of(&merged, "px.test").map(|s| (s.seen, s.of)),
        Some((2, 2))
    );
}

#[test]
fn seen_round_trips_as_json_with_its_flag() {
    let s = Seen { seen: 1, of: 3 };
    let json = serde_json::to_value(s).expect("json");
    assert_eq!(
        json,
        serde_json::json!({"seen": 1, "of": 3, "intermittent": true})
    );
    assert_eq!(serde_json::from_value::<Seen>(json).expect("back"), s);
}

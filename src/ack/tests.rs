//! The acknowledgements loader (every problem at once) and the pure matching.

use super::load::{load_for, parse_acks, parse_time, DayEdge};
use super::*;
use crate::analysis::{fingerprint, Severity};
use chrono::TimeZone;
use std::path::Path;

fn parse(src: &str) -> (Option<Acks>, crate::diag::Diagnostics) {
    parse_acks(Path::new("acks.toml"), src)
}

fn positions(d: &crate::diag::Diagnostics) -> Vec<String> {
    d.0.iter()
        .map(|d| format!("{}:{} {}", d.line, d.col, d.message))
        .collect()
}

fn utc(y: i32, mo: u32, d: u32, h: u32, mi: u32, s: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(y, mo, d, h, mi, s)
        .single()
        .expect("valid time")
}

const FP: &str = "v1-0123456789abcdef";
const FP2: &str = "v1-fedcba9876543210";

#[test]
fn a_full_entry_loads() {
    let (acks, d) = parse(
        r#"# accepted findings
[[ack]]
fingerprint = "v1-0123456789abcdef"
site = "demo-shop"
code = "consent-vendor-before-choice"
subject = "stripe"
reason = "Stripe fraud cookie, accepted in the 2026 Q3 LIA"
owner = "dpo@example.com"
acknowledged = "2026-12-01"
expires = "2027-03-31"

[[ack]]
fingerprint = "v1-fedcba9876543210"
reason = "r"
owner = "o"
expires = 2027-01-01T12:00:00+02:00
"#,
    );
    assert!(d.0.is_empty(), "{d}");
    let acks = acks.unwrap();
    assert_eq!(acks.entries.len(), 2);
    let a = &acks.entries[0];
    assert_eq!(a.fingerprint, FP);
    assert_eq!(a.site.as_deref(), Some("demo-shop"));
    assert_eq!(a.code, Some(Code::ConsentVendorBeforeChoice));
    assert_eq!(a.acknowledged, Some(utc(2026, 12, 1, 0, 0, 0)));
    assert_eq!(
        a.expires,
        utc(2027, 3, 31, 23, 59, 59) + chrono::Duration::nanoseconds(999_999_999)
    );
    assert_eq!(a.location, "acks.toml:2");
    assert_eq!(show_time(a.expires), "2027-03-31");
    assert_eq!(show_time(a.acknowledged.unwrap()), "2026-12-01");
    let b = &acks.entries[1];
    assert_eq!(b.site, None);
    assert_eq!(b.acknowledged, None);
    assert_eq!(
        b.expires,
        utc(2027, 1, 1, 10, 0, 0),
        "TOML datetime, offset"
    );
    assert_eq!(show_time(b.expires), "2027-01-01T10:00:00Z");
}

#[test]
fn every_problem_is_reported_at_once() {
    let (acks, d) = parse(
        r#"[[ack]]
fingerprint = "v1-0123456789ABCDEF"
reason = ""
owner = 3
expires = "next spring"
colour = "red"

[[ack]]
fingerprint = "v1-0123456789abcdef"
site = "shop"
reason = "r"
owner = "o"
acknowledged = "2027-02-01"
expires = "2027-01-31"
code = "undeclared-cookies"

[[ack]]
fingerprint = "v1-0123456789abcdef"
site = "shop"
reason = "again"
owner = "  "

[[ack]]
fingerprint = "v1-0123456789abcdef"
reason = "same fingerprint, any site: not a duplicate"
owner = "o"
expires = "2027-13-01"
"#,
    );
    assert!(acks.is_none());
    assert_eq!(
        positions(&d),
        [
            "2:15 invalid fingerprint \"v1-0123456789ABCDEF\"",
            "3:10 `reason` in [[ack]] is empty",
            "4:9 `owner` in [[ack]] must be a string, found integer",
            "5:11 invalid date \"next spring\" for `expires`",
            "6:1 unknown key `colour` in [[ack]]",
            "14:11 `expires` (2027-01-31) is before `acknowledged` (2027-02-01, line 13)",
            "15:8 unknown finding code `undeclared-cookies`",
            "17:1 missing required key `expires` in [[ack]]",
            "18:15 duplicate acknowledgement of `v1-0123456789abcdef` for site \"shop\" (first at line 9)",
            "21:9 `owner` in [[ack]] is empty",
            "27:11 invalid date \"2027-13-01\" for `expires`",
        ]
    );
    let hint = |i: usize| d.0[i].hint.clone().unwrap_or_default();
    assert!(hint(6).contains("undeclared-cookie"), "{}", hint(6));
    assert!(hint(8).contains("edit its `expires`"), "{}", hint(8));
}

#[test]
fn syntax_errors_and_other_shapes_are_reported() {
    let (_, d) = parse("[[ack]\nfingerprint = 1\n");
    assert!(d.0[0].message.starts_with("TOML syntax error"), "{d}");
    let (_, d) = parse("ack = \"x\"\nwhat = 1\n");
    assert_eq!(
        positions(&d),
        [
            "1:7 [[ack]] must be an array of tables, found string",
            "2:1 unknown key `what` in the file"
        ]
    );
    let (acks, d) = parse("# nothing acknowledged yet\n");
    assert!(d.0.is_empty());
    assert!(acks.unwrap().is_empty());
}

#[test]
fn times() {
    assert_eq!(
        parse_time("2027-03-31", DayEdge::Start),
        Some(utc(2027, 3, 31, 0, 0, 0))
    );
    assert_eq!(
        parse_time("2027-03-31T17:00:00+01:00", DayEdge::End),
        Some(utc(2027, 3, 31, 16, 0, 0))
    );
    for bad in ["2027-03-31T17:00:00", "31/03/2027", "", "2027-02-30"] {
        assert_eq!(parse_time(bad, DayEdge::End), None, "{bad}");
    }
}

/// chrono alone reads `+12345-01-01` as the year 12345 and `-0001-01-01` as 2 BC; a date
/// given to consentry has a year of four unsigned digits (issue 25).
#[test]
fn years_are_four_unsigned_digits() {
    for bad in [
        "+12345-01-01",
        "-0001-01-01",
        "+2027-03-31",
        "12345-01-01",
        "+12345-01-01T00:00:00Z",
        "-0001-01-01T00:00:00+00:00",
        "027-03-31",
    ] {
        for edge in [DayEdge::Start, DayEdge::End] {
            assert_eq!(parse_time(bad, edge), None, "{bad}");
        }
    }
    assert_eq!(
        parse_time("0001-01-01", DayEdge::Start),
        Some(utc(1, 1, 1, 0, 0, 0))
    );
    let (acks, d) = parse(
        "[[ack]]\nfingerprint = \"v1-0123456789abcdef\"\nreason = \"r\"\nowner = \"o\"\nexpires = \"+12345-01-01\"\n",
    );
    assert!(acks.is_none(), "{d:?}");
    let shown: Vec<String> =
        d.0.iter()
            .map(|d| format!("{} {}", d.message, d.hint.clone().unwrap_or_default()))
            .collect();
    assert!(
        shown.len() == 1
            && shown[0].contains("invalid date \"+12345-01-01\"")
            && shown[0].contains("four-digit year"),
        "{shown:?}"
    );
}

#[test]
fn default_file_is_optional_an_explicit_one_is_not() {
    let dir = tempfile::tempdir().unwrap();
    let scenario = dir.path().join("shop.toml");
    assert_eq!(load_for(&scenario, None), Ok(Acks::default()));
    let missing = dir.path().join("nope.toml");
    let d = load_for(&scenario, Some(&missing)).unwrap_err();
    assert_eq!(d.0.len(), 1);
    assert!(d.0[0].message.contains("nope.toml"), "{d}");
    assert!(d.0[0].message.contains("does not exist"), "{d}");
    std::fs::write(
        dir.path().join("acks.toml"),
        format!("[[ack]]\nfingerprint = \"{FP}\"\nreason = \"r\"\nowner = \"o\"\nexpires = \"2027-01-01\"\n"),
    )
    .unwrap();
    let acks = load_for(&scenario, None).unwrap();
    assert_eq!(acks.entries.len(), 1);
    assert_eq!(acks.path, Some(dir.path().join("acks.toml")));
    std::fs::write(dir.path().join("acks.toml"), "[[ack]]\n").unwrap();
    let d = load_for(&scenario, None).unwrap_err();
    assert_eq!(d.errors(), 4, "fingerprint, reason, owner, expires: {d}");
}

fn ack(fp: &str, site: Option<&str>, from: Option<&str>, until: &str) -> Ack {
    Ack {
        fingerprint: fp.into(),
        site: site.map(Into::into),
        reason: format!("reason {until}"),
        owner: "dpo@example.com".into(),
        expires: parse_time(until, DayEdge::End).unwrap(),
        acknowledged: from.map(|f| parse_time(f, DayEdge::Start).unwrap()),
        code: None,
        subject: None,
        location: "acks.toml:1".into(),
    }
}

fn acks(entries: Vec<Ack>) -> Acks {
    Acks {
        path: None,
        entries,
    }
}

#[test]
fn expiry_is_the_end_of_the_day_and_acknowledged_its_start() {
    let a = acks(vec![ack(FP, None, Some("2026-12-01"), "2027-03-31")]);
    let at = |t: DateTime<Utc>| a.lookup("shop", t, FP);
    let last = utc(2027, 3, 31, 23, 59, 59) + chrono::Duration::nanoseconds(999_999_999);
    assert!(matches!(at(last), Some(Match::Active(_))));
    assert!(matches!(
        at(last + chrono::Duration::nanoseconds(1)),
        Some(Match::Expired(_))
    ));
    assert!(matches!(
        at(utc(2026, 12, 1, 0, 0, 0)),
        Some(Match::Active(_))
    ));
    assert_eq!(
        at(utc(2026, 11, 30, 23, 59, 59)),
        None,
        "not yet in force: does not apply"
    );
    assert_eq!(a.lookup("shop", last, FP2), None, "another finding");
    assert_eq!(
        a.entries[0].at(utc(2026, 1, 1, 0, 0, 0)),
        AckTime::NotYetInForce
    );
    assert_eq!(a.entries[0].at(utc(2028, 1, 1, 0, 0, 0)), AckTime::Expired);
}

#[test]
fn site_restriction_and_preference() {
    let a = acks(vec![
        ack(FP, Some("other"), None, "2030-01-01"),
        ack(FP, None, None, "2027-01-01"),
        ack(FP, Some("shop"), None, "2027-06-01"),
    ]);
    let t = utc(2026, 12, 1, 0, 0, 0);
    let Some(Match::Active(hit)) = a.lookup("shop", t, FP) else {
        panic!("expected an active acknowledgement");
    };
    assert_eq!(hit.site.as_deref(), Some("shop"), "site-specific wins");
    let Some(Match::Active(hit)) = a.lookup("third", t, FP) else {
        panic!("the any-site entry covers every site");
    };
    assert_eq!(hit.site, None);
    // After the shop's own entry expired, the other site's (active) does not apply.
    let later = utc(2027, 7, 1, 0, 0, 0);
    let Some(Match::Expired(hit)) = a.lookup("shop", later, FP) else {
        panic!("expected an expired acknowledgement");
    };
    assert_eq!(hit.site.as_deref(), Some("shop"));
    assert!(matches!(
        a.lookup("other", later, FP),
        Some(Match::Active(_))
    ));
    // An active one wins over an expired one, whatever the site restriction.
    let b = acks(vec![
        ack(FP, Some("shop"), None, "2026-01-01"),
        ack(FP, None, None, "2027-01-01"),
    ]);
    let Some(Match::Active(hit)) = b.lookup("shop", t, FP) else {
        panic!("expected the active entry");
    };
    assert_eq!(hit.site, None);
}

#[test]
fn unused_acknowledgements_of_the_site() {
    let a = acks(vec![
        ack(FP, None, None, "2027-01-01"),
        ack(FP2, Some("shop"), None, "2027-01-01"),
        ack("v1-1111111111111111", Some("other"), None, "2027-01-01"),
    ]);
    let unused: Vec<&str> = a
        .unused("shop", [FP])
        .iter()
        .map(|a| a.fingerprint.as_str())
        .collect();
    assert_eq!(
        unused,
        [FP2],
        "the other site's entry is not this site's concern"
    );
    assert_eq!(a.unused("shop", [FP, FP2]).len(), 0);
    assert_eq!(a.unused("other", [FP]).len(), 1);
}

fn finding(subject: &str) -> Finding {
    let code = Code::UndeclaredCookie;
    Finding {
        code,
        severity: Severity::Medium,
        site: "shop".into(),
        scenario: Some("no_action".into()),
        subject: subject.into(),
        vendor: None,
        message: String::new(),
        rule: String::new(),
        evidence: Vec::new(),
        occurrences: 1,
        repeat: None,
        fingerprint: fingerprint(code, "shop", Some("no_action"), subject),
    }
}

#[test]
fn the_run_snapshot_lists_matches_in_finding_order_then_unused() {
    let (a, b, c) = (finding("a"), finding("b"), finding("c"));
    let acks = acks(vec![
        ack("v1-1111111111111111", None, None, "2027-01-01"),
        ack(&c.fingerprint, None, None, "2027-01-01"),
        ack(&a.fingerprint, None, None, "2026-06-01"),
        ack(&b.fingerprint, None, Some("2027-01-01"), "2027-06-01"),
    ]);
    let records = acks.for_run(
        "shop",
        utc(2026, 12, 1, 0, 0, 0),
        &[a.clone(), b, c.clone()],
    );
    let got: Vec<(&str, AckStatus)> = records
        .iter()
        .map(|r| (r.fingerprint.as_str(), r.status))
        .collect();
    assert_eq!(
        got,
        [
            (a.fingerprint.as_str(), AckStatus::Expired),
            (c.fingerprint.as_str(), AckStatus::Active),
            ("v1-1111111111111111", AckStatus::Unused),
        ],
        "b's acknowledgement is not in force yet: neither applied nor unused"
    );
    assert_eq!(
        AckStatus::parse(AckStatus::Unused.as_str()),
        Some(AckStatus::Unused)
    );
}

/// One acknowledgement status for runs and drift windows: each has one name, the same in
/// the store, the run's JSON and the drift pack's (strum and serde agree, as the two
/// former enums' snake_case and kebab-case names did).
#[test]
fn ack_status_names_are_one_in_every_form() {
    for (s, n) in [
        (AckStatus::Active, "active"),
        (AckStatus::Expired, "expired"),
        (AckStatus::Unused, "unused"),
        (AckStatus::Pending, "pending"),
    ] {
        assert_eq!((s.as_str(), s.to_string()), (n, n.to_string()));
        assert_eq!(AckStatus::parse(n), Some(s));
        let json = serde_json::to_string(&s).unwrap();
        assert_eq!(json, format!("\"{n}\""));
        assert_eq!(serde_json::from_str::<AckStatus>(&json).ok(), Some(s));
    }
    assert_eq!(AckStatus::parse("Active"), None);
}

/// The example in docs/drift.md is a valid acknowledgements file.
#[test]
fn the_documented_example_loads() {
    let doc = include_str!("../../docs/drift.md");
    let section = doc
        .split("## Acknowledgements")
        .nth(1)
        .expect("docs/drift.md has an Acknowledgements section");
    let example = section
        .split("```toml\n")
        .nth(1)
        .and_then(|s| s.split("```").next())
        .expect("a TOML example");
    let (acks, d) = parse(example);
    let acks = acks.unwrap_or_else(|| panic!("{d}"));
    assert_eq!(acks.entries.len(), 1);
    assert_eq!(
        acks.entries[0].code,
        Some(Code::ConsentCookieWithoutConsent)
    );
}

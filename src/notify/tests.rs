//! The notification's content (pure), its two layouts, targets and the signature.

use super::message::{clean, Change, Notification, SiteInput, MAX_LISTED};
use super::render;
use super::*;
use crate::ack::AckStatus;
use crate::analysis::{Code, Severity};
use crate::model::{RunStatus, VisitStatus};
use crate::outcome::AuditReport;
use crate::report::tests::{ack_record, finding, fixed_report, visit};
use crate::secrets::Secrets;

/// A complete run with three findings, none new.
fn complete() -> AuditReport {
    let mut r = fixed_report();
    r.status = RunStatus::Complete;
    r.visits = vec![visit("no_action", VisitStatus::Complete)];
    r.findings = vec![
        finding(Code::ConsentVendorBeforeChoice, "no_action", "meta"),
        finding(Code::UndeclaredCookie, "no_action", "ab_test_variant"),
        finding(Code::UndeclaredThirdParty, "no_action", "tiktok.com"),
    ];
    r.with_verdict()
}

fn none() -> Secrets {
    Secrets::default()
}

fn input<'a>(r: &'a AuditReport, secrets: &'a Secrets) -> SiteInput<'a> {
    SiteInput {
        report: r,
        report_path: Some("reports/demo-shop/report.md"),
        secrets,
    }
}

#[test]
fn nothing_new_and_complete_says_nothing() {
    let r = complete();
    assert!(!r.verdict.incomplete);
    assert_eq!(Notification::of_run(&input(&r, &none())), None);
    assert_eq!(
        Notification::of_fleet("agency", Some(3), r.started_at, &[input(&r, &none())], &[]),
        None
    );
}

#[test]
fn only_new_and_regressed_findings_are_listed_never_persisting_or_acknowledged_ones() {
    let mut r = complete();
    let fps: Vec<String> = r.findings.iter().map(|f| f.fingerprint.clone()).collect();
    // meta new, tiktok regressed, the cookie persisting.
    r.new_fingerprints = vec![fps[0].clone(), fps[2].clone()];
    r.regressed_fingerprints = vec![fps[2].clone()];
    let r = r.with_verdict();
    let n = Notification::of_run(&input(&r, &none())).expect("something new");
    assert_eq!(n.id, "run-42");
    assert_eq!(n.fleet, None);
    let [site] = n.sites.as_slice() else {
        panic!("{n:?}")
    };
    assert_eq!((site.new, site.regressed), (1, 1));
    assert_eq!(site.incomplete, None);
    assert_eq!(site.report.as_deref(), Some("reports/demo-shop/report.md"));
    let listed: Vec<(Change, Code, &str)> = site
        .findings
        .iter()
        .map(|f| (f.change, f.code, f.subject.as_str()))
        .collect();
    assert_eq!(
        listed,
        vec![
            (Change::New, Code::ConsentVendorBeforeChoice, "meta"),
            (Change::Regressed, Code::UndeclaredThirdParty, "tiktok.com"),
        ]
    );
    let meta = &site.findings[0];
    assert_eq!(meta.severity, Severity::High);
    assert_eq!(meta.scenario.as_deref(), Some("no_action"));
    assert_eq!(meta.page.as_deref(), Some("/"));
    assert_eq!(meta.fingerprint, fps[0]);
    assert_eq!(meta.title, Code::ConsentVendorBeforeChoice.summary());
    assert_eq!(
        n.headline(),
        "consentry: demo-shop: 1 new finding, 1 regressed"
    );

    // Acknowledged (active): not news. Expired: news again.
    let mut acked = r.clone();
    acked.acknowledgements = vec![ack_record(&fps[0], AckStatus::Active)];
    acked.new_fingerprints = vec![fps[0].clone()];
    acked.regressed_fingerprints.clear();
    let acked = acked.with_verdict();
    assert_eq!(Notification::of_run(&input(&acked, &none())), None);
    let mut expired = acked.clone();
    expired.acknowledgements[0].status = AckStatus::Expired;
    assert!(Notification::of_run(&input(&expired, &none())).is_some());
}

#[test]
fn an_incomplete_run_notifies_with_its_reason_even_with_nothing_new() {
    // fixed_report: a scenario not observed, the run incomplete.
    let r = fixed_report();
    assert!(r.verdict.incomplete);
    let n = Notification::of_run(&input(&r, &none())).expect("incomplete");
    let site = &n.sites[0];
    assert_eq!((site.new, site.regressed), (0, 0));
    let why = site.incomplete.as_deref().unwrap_or_default();
    assert!(why.contains("1 of 3 scenarios not observed"), "{why}");
    assert!(why.contains("legacy_banner not observed:"), "{why}");
    assert_eq!(n.headline(), "consentry: demo-shop: the run is incomplete");
}

#[test]
fn a_fleet_names_its_sites_with_news_and_those_not_audited() {
    let quiet = complete();
    let mut loud = complete();
    loud.site = "shop-b".into();
    loud.run_id = Some(43);
    loud.new_fingerprints = vec![loud.findings[1].fingerprint.clone()];
    let loud = loud.with_verdict();
    let n = Notification::of_fleet(
        "agency",
        Some(7),
        loud.started_at,
        &[input(&quiet, &none()), input(&loud, &none())],
        &[("broken-client", 2)],
    )
    .expect("news");
    assert_eq!(n.id, "fleet-run-7");
    assert_eq!(n.fleet.as_ref().map(|f| f.name.as_str()), Some("agency"));
    let sites: Vec<(&str, usize, Option<&str>)> = n
        .sites
        .iter()
        .map(|s| (s.site.as_str(), s.new, s.incomplete.as_deref()))
        .collect();
    assert_eq!(
        sites,
        vec![
            ("shop-b", 1, None),
            (
                "broken-client",
                0,
                Some("not audited: 2 error(s) in its files")
            ),
        ]
    );
    assert_eq!(
        n.headline(),
        "consentry: fleet agency: 1 new finding; 1 site incomplete"
    );
}

#[test]
fn at_most_max_listed_findings_per_site_most_severe_first_and_counted_in_full() {
    let mut r = complete();
    r.findings = (0..30)
        .map(|i| finding(Code::UndeclaredCookie, "no_action", &format!("c{i}")))
        .chain(std::iter::once(finding(
            Code::ConsentVendorAfterReject,
            "no_action",
            "meta",
        )))
        .collect();
    r.new_fingerprints = r.findings.iter().map(|f| f.fingerprint.clone()).collect();
    let r = r.with_verdict();
    let n = Notification::of_run(&input(&r, &none())).expect("news");
    let site = &n.sites[0];
    assert_eq!(site.new, 31);
    assert_eq!(site.findings.len(), MAX_LISTED);
    assert_eq!(site.findings[0].subject, "meta", "most severe first");
    let slack = render::slack(&n);
    assert!(slack.contains("and 11 more in the report"), "{slack}");
}

/// Nothing a page or the environment supplied beyond a finding's identity gets in: no
/// cookie value, no value hash, no declared secret, no query string, no credentials.
#[test]
fn no_value_hash_secret_or_query_string_can_get_in() {
    const SECRET: &str = "hunter2-SECRET-token";
    const VALUE: &str = "cookie-value-abc123";
    const HASH: &str = "h1:9f86d081884c7d65";
    let secrets = Secrets::new([("LOGIN_TOKEN".to_string(), SECRET.to_string())]);
    let mut r = complete();
    r.site = format!("shop {SECRET}");
    let mut f = finding(
        Code::UndeclaredThirdParty,
        "no_action",
        &format!("https://user:pw@tracker.example/px/{SECRET}?uid={VALUE}&k={HASH}#frag"),
    );
    f.message = format!("value {VALUE} hash {HASH} secret {SECRET}");
    f.rule = format!("{VALUE} {HASH}");
    f.evidence[0].page = format!("https://www.demo-shop.test/account?token={SECRET}&v={VALUE}");
    f.evidence[0].request_url = Some(format!("https://x.test/?{VALUE}"));
    f.evidence[0].cookie = Some(format!("sid={VALUE}@.demo-shop.test"));
    f.evidence[0].detail = Some(format!("value {VALUE}, hashed {HASH}"));
    let mut clipped = finding(
        Code::UndeclaredCookie,
        "no_action",
        &format!("name{}", crate::text::clip_mark(9000, "0123456789abcdef")),
    );
    clipped.evidence.clear();
    r.findings = vec![f, clipped];
    r.new_fingerprints = r.findings.iter().map(|f| f.fingerprint.clone()).collect();
    r.status = RunStatus::Incomplete(format!(
        "page https://www.demo-shop.test/login?pw={SECRET}&v={VALUE} timed out"
    ));
    let r = r.with_verdict();
    let n = Notification::of_run(&SiteInput {
        report: &r,
        report_path: Some("reports/shop/report.md"),
        secrets: &secrets,
    })
    .expect("news");
    let bodies = [
        render::slack(&n),
        render::generic(&n),
        n.headline(),
        format!("{n:?}"),
    ];
    for body in &bodies {
        for leak in [
            SECRET,
            VALUE,
            HASH,
            "uid=",
            "token=",
            "pw=",
            "user:pw",
            "#frag",
            "0123456789abcdef",
        ] {
            assert!(!body.contains(leak), "{leak} leaked into {body}");
        }
    }
    let site = &n.sites[0];
    assert_eq!(site.site, "shop [secret:LOGIN_TOKEN]");
    assert_eq!(
        site.findings[0].subject,
        "https://tracker.example/px/[secret:LOGIN_TOKEN]"
    );
    assert_eq!(site.findings[0].page.as_deref(), Some("/account"));
    assert_eq!(site.findings[1].subject, "name…");
    assert_eq!(
        site.incomplete.as_deref(),
        Some("page https://www.demo-shop.test/login timed out")
    );
}

#[test]
fn clean_cuts_every_url_to_scheme_host_and_path() {
    let s = clean(
        "a wss://u:p@h.test:8443/ws?x=1 and http://q.test?y=2#z then \"https://r.test/p?s\"",
        &none(),
    );
    assert_eq!(
        s,
        "a wss://h.test:8443/ws and http://q.test then \"https://r.test/p\""
    );
    assert_eq!(
        clean("line\nbreak\u{202e}", &none()),
        "line\\nbreak\\u{202e}"
    );
}

#[test]
fn slack_body_is_text_and_blocks_with_escaped_mrkdwn() {
    let mut r = complete();
    r.findings[0].subject = "<!channel> & <https://evil.test|click>".into();
    r.new_fingerprints = vec![r.findings[0].fingerprint.clone()];
    let r = r.with_verdict();
    let n = Notification::of_run(&input(&r, &none())).expect("news");
    let body: serde_json::Value = serde_json::from_str(&render::slack(&n)).expect("JSON");
    assert_eq!(body["text"], n.headline());
    let blocks = body["blocks"].as_array().expect("blocks");
    assert!(blocks.len() >= 3 && blocks.len() <= 50, "{body}");
    let all = body.to_string();
    assert!(!all.contains("<!channel>"), "{all}");
    assert!(all.contains("&lt;!channel&gt; &amp; &lt;https://evil.test|click&gt;"));
    assert!(all.contains("consent-vendor-before-choice"));
    assert!(all.contains("reports/demo-shop/report.md"));
}

#[test]
fn generic_body_has_schema_version_and_every_field() {
    let mut r = complete();
    r.new_fingerprints = vec![r.findings[0].fingerprint.clone()];
    let r = r.with_verdict();
    let n = Notification::of_run(&input(&r, &none())).expect("news");
    let body: serde_json::Value = serde_json::from_str(&render::generic(&n)).expect("JSON");
    assert_eq!(body["schema"], "consentry.notification");
    assert_eq!(body["version"], 1);
    assert_eq!(body["id"], "run-42");
    assert_eq!(body["summary"], n.headline());
    assert_eq!(body["fleet"], serde_json::Value::Null);
    let site = &body["sites"][0];
    assert_eq!(site["site"], "demo-shop");
    assert_eq!(site["run_id"], 42);
    assert_eq!(site["status"], "complete");
    assert_eq!(site["new"], 1);
    assert_eq!(site["regressed"], 0);
    let f = &site["findings"][0];
    for (k, v) in [
        ("change", "new"),
        ("code", "consent-vendor-before-choice"),
        ("severity", "high"),
        ("subject", "meta"),
        ("scenario", "no_action"),
        ("page", "/"),
    ] {
        assert_eq!(f[k], v, "{k}: {body}");
    }
    assert_eq!(f["fingerprint"], r.findings[0].fingerprint);
}

#[test]
fn targets_choose_their_shape_and_never_show_their_token() {
    let slack = Target::parse("https://hooks.slack.com/services/T0/B0/XyZsecret").unwrap();
    assert_eq!(slack.format, Format::Slack);
    assert_eq!(slack.label(), "https://hooks.slack.com/services/…");
    assert!(!format!("{slack:?}").contains("XyZsecret"));
    let forced = Target::parse("slack+http://127.0.0.1:9000/hook").unwrap();
    assert_eq!(forced.format, Format::Slack);
    assert_eq!(forced.url.as_str(), "http://127.0.0.1:9000/hook");
    assert_eq!(forced.label(), "http://127.0.0.1:9000/hook");
    let generic = Target::parse("https://alerts.example/in/abc?sig=zz").unwrap();
    assert_eq!(generic.format, Format::Generic);
    assert_eq!(generic.label(), "https://alerts.example/in/…");
    assert_eq!(
        Target::parse("http://[::1]:8080/").unwrap().label(),
        "http://[::1]:8080"
    );
    for bad in [
        "ftp://x.test/",
        "https://u:p@x.test/",
        "not a url",
        "https://x.test/#f",
        "slack+ftp://x/",
    ] {
        assert!(Target::parse(bad).is_err(), "{bad}");
    }
}

#[test]
fn generic_targets_need_a_long_enough_secret() {
    let slack = vec![Target::parse("slack+https://x.test/h").unwrap()];
    assert!(matches!(signer_for(&slack, None), Ok(None)));
    let generic = vec![Target::parse("https://x.test/h").unwrap()];
    let e = signer_for(&generic, None).unwrap_err();
    assert!(e.contains(SECRET_ENV), "{e}");
    assert!(signer_for(&generic, Some("short")).is_err());
    assert!(signer_for(&generic, Some("0123456789abcdef"))
        .unwrap()
        .is_some());
}

/// The signature is HMAC-SHA-256 over `<timestamp>.<body>`: checked against a value
/// computed independently (Python's `hmac.new(b"key", b"1700000000.{}", sha256)`).
#[test]
fn the_signature_covers_timestamp_and_body() {
    let s = Signer::new(b"key");
    assert_eq!(
        s.sign(1_700_000_000, b"{}"),
        "sha256=9d713ed406bb7076d4123f0dc2c39d2df5c654ed4b0cd56b52c8b4c940bd63ae"
    );
    assert_ne!(s.sign(1_700_000_001, b"{}"), s.sign(1_700_000_000, b"{}"));
    assert!(!format!("{s:?}").contains("key"));
}

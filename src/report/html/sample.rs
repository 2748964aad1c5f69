//! Synthetic reports for the HTML tests and the docs screenshot: a realistic LIA review
//! pack (several vendors, a legitimate-interest vendor that ignores the objection in
//! some runs, a declaration change, an expired acknowledgement), and hostile versions
//! of it and of a single run, with script, markup, `javascript:` URLs, bidi and escape
//! characters in every text field a page or a file can reach. Not part of the API.

use crate::analysis::{Code, Evidence, Finding, Severity};
use crate::drift::*;
use crate::model::{Failure, FailureKind, LegalBasis, RunStatus, VisitStatus};
use crate::outcome::{AuditReport, Verdict, VisitSummary};
use chrono::{DateTime, Duration, TimeZone, Utc};

/// Strings a hostile page could plant; each one must come out inert.
pub const HOSTILE: &[&str] = &[
    "<script>document.title='PWNED'</script>",
    "\"><img src=x onerror=\"document.title='PWNED'\">",
    "javascript:alert(1)",
    "</style><script>alert(1)</script>",
    "abc\u{202e}txt.exe",
    "esc\u{1b}[2Jcleared",
    "'><svg onload=alert(1)>",
];

/// All hostile strings in one.
pub fn hostile() -> String {
    HOSTILE.concat()
}

fn day(start: DateTime<Utc>, i: usize) -> DateTime<Utc> {
    start + Duration::days(i as i64)
}

fn evidence(
    scenario: &str,
    at: DateTime<Utc>,
    url: Option<&str>,
    cookie: Option<&str>,
) -> Evidence {
    Evidence {
        scenario: scenario.into(),
        page: "https://www.demo-shop.test/".into(),
        request_url: url.map(str::to_string),
        cookie: cookie.map(str::to_string),
        time: at + Duration::seconds(4),
        phase: format!("after-{scenario}"),
        detail: Some("GET Script, status 200".into()),
        logged_in: false,
        known: None,
    }
}

/// What third-party-web says of analytics.tiktok.com.
pub(crate) fn tiktok_known() -> crate::knowledge::Known {
    crate::knowledge::Known {
        name: "TikTok".into(),
        company: "ByteDance Ltd".into(),
        category: "social".into(),
        kind: crate::knowledge::MatchKind::Pattern,
        pattern: "*.tiktok.com".into(),
        source: "third-party-web 0.30.0".into(),
        retention: None,
    }
}

/// Knowledge whose every string is hostile.
fn hostile_known(h: &str) -> crate::knowledge::Known {
    crate::knowledge::Known {
        name: h.into(),
        company: h.into(),
        category: h.into(),
        kind: crate::knowledge::MatchKind::CookiePrefix,
        pattern: h.into(),
        source: h.into(),
        retention: Some(h.into()),
    }
}

struct Spec {
    code: &'static str,
    severity: &'static str,
    scenario: Option<&'static str>,
    subject: &'static str,
    vendor: Option<&'static str>,
    message: &'static str,
    rule: &'static str,
    /// Status of each run, by run index; `None`: not seen yet.
    status: fn(usize, usize) -> Option<Status>,
    ack_until: Option<usize>,
}

fn present(s: Status) -> bool {
    matches!(s, Status::New | Status::Regressed | Status::Persisting)
}

/// A realistic pack over `n` daily runs (the docs screenshot uses 30).
pub fn drift_pack(n: usize) -> DriftReport {
    let n = n.max(2);
    let start = Utc
        .with_ymd_and_hms(2026, 9, 1, 2, 0, 0)
        .single()
        .expect("time");
    let decl_run = n / 2; // hotjar: legitimate_interest -> consent
    let li_bad = (n / 4)..(n / 4 + n / 5 + 1); // scorecard ignores the objection
    let legacy_down = |i: usize| i % 7 == 3;
    let since = start - Duration::days(1);
    let until = day(start, n);
    let run_ids: Vec<i64> = (0..n).map(|i| 101 + i as i64).collect();

    let specs: Vec<Spec> = vec![
        Spec { code: "consent-vendor-before-choice", severity: "high", scenario: Some("no_action"), subject: "meta", vendor: Some("meta"), message: "Meta Pixel (\"meta\") was contacted (connect.facebook.net) before the visitor made a choice.", rule: "vendor \"meta\" (Meta Pixel): purpose \"advertising\" requires consent", status: |i, _| Some(if i == 0 { Status::New } else { Status::Persisting }), ack_until: Some(n * 2 / 3) },
        Spec { code: "li-vendor-after-objection", severity: "high", scenario: Some("object_li"), subject: "scorecard", vendor: Some("scorecard"), message: "Scorecard kept measuring after the visitor objected to legitimate interest.", rule: "vendor \"scorecard\": purpose \"measurement\" (legitimate_interest) stops on objection", status: |i, n| { let (a, z) = (n / 4, n / 4 + n / 5); if i < a { None } else if i == a { Some(Status::New) } else if i <= z { Some(Status::Persisting) } else { Some(Status::Resolved) } }, ack_until: None },
        Spec { code: "consent-vendor-after-reject", severity: "high", scenario: Some("reject_all"), subject: "hotjar", vendor: Some("hotjar"), message: "Hotjar was loaded after the visitor rejected.", rule: "vendor \"hotjar\": purpose \"analytics\" (consent)", status: |i, n| if i < n / 2 { Some(if i == 0 { Status::New } else { Status::Persisting }) } else { Some(Status::Resolved) }, ack_until: None },
        Spec { code: "cookie-retention-exceeded", severity: "medium", scenario: Some("accept_all"), subject: "_ga", vendor: Some("google-analytics"), message: "Cookie \"_ga\" asks for 730d; the declaration allows 395d.", rule: "cookie \"_ga\": retention 395d", status: |i, _| Some(if i == 0 { Status::New } else { Status::Persisting }), ack_until: None },
        Spec { code: "undeclared-third-party", severity: "medium", scenario: Some("accept_all"), subject: "tiktok.com", vendor: None, message: "Undeclared third party analytics.tiktok.com was contacted.", rule: "every third-party host must belong to a declared vendor", status: |i, n| { let a = n * 3 / 4; if i < a { None } else if i == a { Some(Status::New) } else { Some(Status::Persisting) } }, ack_until: None },
        Spec { code: "scenario-not-observed", severity: "high", scenario: Some("legacy_banner"), subject: "legacy_banner", vendor: None, message: "Scenario \"legacy_banner\" could not be observed: no element \"#old-cmp-reject\" after 2s.", rule: "every scenario must be observed completely", status: |i, _| { if i < 3 { None } else if i == 3 { Some(Status::New) } else if i % 7 == 3 { Some(Status::Regressed) } else { Some(Status::Resolved) } }, ack_until: None },
        Spec { code: "undeclared-cookie", severity: "medium", scenario: Some("no_action"), subject: "ab_test_variant", vendor: None, message: "Cookie \"ab_test_variant\" matches no declared cookie.", rule: "every cookie must match a declared cookie rule", status: |i, _| Some(if i == 0 { Status::New } else if i % 7 == 3 { Status::Unverified } else { Status::Persisting }), ack_until: None },
    ];
    let mut lifecycles = Vec::new();
    let mut acks = Vec::new();
    for sp in &specs {
        let fp = format!(
            "v1-{:016x}",
            sp.subject
                .bytes()
                .fold(7u64, |h, b| h.wrapping_mul(31).wrapping_add(u64::from(b)))
        );
        let mut timeline = Vec::new();
        let (mut seen, mut checked, mut first, mut last) = (0, 0, None, None);
        for (i, &run_id) in run_ids.iter().enumerate() {
            let Some(st) = (sp.status)(i, n) else {
                continue;
            };
            let at = day(start, i);
            if present(st) {
                seen += 1;
                first.get_or_insert(at);
                last = Some(at);
            }
            if st != Status::Unverified {
                checked += 1;
            }
            timeline.push(Step {
                run_id,
                started_at: at,
                status: st,
                map_changed: i == decl_run,
                checked: st != Status::Unverified,
                acknowledged: sp.ack_until.is_some_and(|u| i >= n / 3 && i < u) && present(st),
                new_template: None,
            });
        }
        let ack = sp.ack_until.map(|u| AckView {
            fingerprint: fp.clone(),
            owner: "dpo@demo-shop.test".into(),
            reason: "Pixel removal scheduled with the agency (ticket PRIV-212)".into(),
            acknowledged: Some(day(start, n / 3)),
            expires: day(start, u),
            status: AckStatus::Expired,
            location: Some("acknowledgements.toml:4:1".into()),
            matched: 1,
        });
        if let Some(a) = &ack {
            acks.push(a.clone());
        }
        let current = timeline
            .last()
            .map(|s: &Step| s.status)
            .unwrap_or(Status::New);
        lifecycles.push(Lifecycle {
            fingerprint: fp,
            code: sp.code.into(),
            severity: sp.severity.into(),
            scenario: sp.scenario.map(str::to_string),
            subject: sp.subject.into(),
            vendor: sp.vendor.map(str::to_string),
            message: sp.message.into(),
            rule: sp.rule.into(),
            evidence: Some(Evidence {
                // The undeclared host: what third-party-web says of it.
                known: (sp.subject == "tiktok.com").then(tiktok_known),
                ..evidence(
                    sp.scenario.unwrap_or("no_action"),
                    first.unwrap_or(start),
                    Some("https://connect.facebook.net/en_US/fbevents.js"),
                    None,
                )
            }),
            first_seen: first.unwrap_or(start),
            last_seen: last.unwrap_or(start),
            runs_seen: seen,
            runs_checked: checked,
            current,
            acknowledgement: ack,
            timeline,
            intermittent: false,
        });
    }
    lifecycles.sort_by(|a, b| a.current.cmp(&b.current).then_with(|| a.code.cmp(&b.code)));
    acks.push(AckView {
        fingerprint: "v1-00000000deadbeef".into(),
        owner: "web-team".into(),
        reason: "Old consent banner retired".into(),
        acknowledged: Some(start),
        expires: day(start, n + 60),
        status: AckStatus::Unused,
        location: Some("acknowledgements.toml:11:1".into()),
        matched: 0,
    });

    let mut current = StatusCounts::default();
    for l in &lifecycles {
        current.add(l.current, l.timeline.last().is_some_and(|s| s.acknowledged));
    }
    let scenario_ids = [
        "no_action",
        "accept_all",
        "reject_all",
        "object_li",
        "legacy_banner",
    ];
    let runs: Vec<RunRef> = (0..n)
        .map(|i| {
            let mut counts = StatusCounts::default();
            for l in &lifecycles {
                if let Some(s) = l.timeline.iter().find(|s| s.run_id == run_ids[i]) {
                    counts.add(s.status, s.acknowledged);
                }
            }
            RunRef {
                id: run_ids[i],
                started_at: day(start, i),
                status: if legacy_down(i) {
                    "incomplete".into()
                } else {
                    "complete".into()
                },
                status_reason: legacy_down(i).then(|| "1 of 5 scenarios not observed".to_string()),
                scenarios: scenario_ids
                    .iter()
                    .map(|s| ScenarioRef {
                        id: s.to_string(),
                        observed: !(legacy_down(i) && *s == "legacy_banner"),
                        li_objected: *s == "object_li",
                    })
                    .collect(),
                scenario_digest: Some("sha256:5c1e".into()),
                policy_digest: Some(if i < decl_run {
                    "sha256:aa01".into()
                } else {
                    "sha256:bb02".into()
                }),
                declaration_changed: i == decl_run,
                behaviour_changed: counts.new + counts.regressed > 0,
                counts,
                coverage: None,
                crawl_changed: false,
            }
        })
        .collect();

    let vrun = |i: usize, li: bool, unauthorized: u32, bad: bool| VendorRun {
        run_id: run_ids[i],
        started_at: day(start, i),
        requests: 14 + (i as u32 % 5),
        cookie_writes: 3,
        storage_writes: 1,
        unauthorized,
        objected: if bad { 6 } else { 0 },
        objection: li.then_some(if bad {
            Objection::NotHonoured
        } else if legacy_down(i) && i % 2 == 1 {
            Objection::Unverified
        } else {
            Objection::Honoured
        }),
    };
    let mismatch = |l: &Lifecycle, event: MismatchEvent, i: usize| Mismatch {
        fingerprint: l.fingerprint.clone(),
        code: l.code.clone(),
        severity: l.severity.clone(),
        scenario: l.scenario.clone(),
        subject: l.subject.clone(),
        event,
        run_id: run_ids[i],
        at: day(start, i),
        message: l.message.clone(),
        rule: l.rule.clone(),
        evidence: l.evidence.clone(),
        map_changed: i == decl_run,
    };
    let find = |code: &str| {
        lifecycles
            .iter()
            .find(|l| l.code == code)
            .expect("spec")
            .clone()
    };
    let (meta_l, score_l, hot_l, ga_l) = (
        find("consent-vendor-before-choice"),
        find("li-vendor-after-objection"),
        find("consent-vendor-after-reject"),
        find("cookie-retention-exceeded"),
    );
    let purpose = |p: &str, b: LegalBasis, tcf: Option<u8>| DeclaredPurpose {
        purpose: p.into(),
        basis: b,
        strictly_necessary: false,
        tcf_purpose: tcf,
    };
    let counts_of = |l: &Lifecycle| {
        let mut c = StatusCounts::default();
        c.add(l.current, false);
        c
    };
    let suppression = |bad: usize, unverified: usize| {
        Rate::new(
            (n - bad - unverified) as u32,
            (n - unverified) as u32,
            unverified as u32,
        )
    };
    let unverified_runs = (0..n)
        .filter(|&i| legacy_down(i) && i % 2 == 1 && !li_bad.contains(&i))
        .count();
    let vendors = vec![
        VendorSection {
            vendor: "scorecard".into(),
            name: Some("Scorecard Research".into()),
            declared: true,
            purposes: vec![
                purpose("measurement", LegalBasis::LegitimateInterest, Some(8)),
                purpose(
                    "product_development",
                    LegalBasis::LegitimateInterest,
                    Some(10),
                ),
            ],
            legitimate_interest: true,
            declaration_history: Vec::new(),
            runs: (0..n)
                .map(|i| vrun(i, true, 0, li_bad.contains(&i)))
                .collect(),
            suppression: Some(suppression(li_bad.len(), unverified_runs)),
            unauthorized_fires: 0,
            retention: Vec::new(),
            findings: counts_of(&score_l),
            mismatches: vec![
                mismatch(&score_l, MismatchEvent::Opened, li_bad.start),
                mismatch(&score_l, MismatchEvent::Resolved, li_bad.end),
            ],
            inventory: Vec::new(),
        },
        VendorSection {
            vendor: "hotjar".into(),
            name: Some("Hotjar".into()),
            declared: true,
            purposes: vec![purpose("analytics", LegalBasis::Consent, Some(9))],
            legitimate_interest: false,
            declaration_history: vec![DeclarationEvent {
                run_id: run_ids[decl_run],
                at: day(start, decl_run),
                change: "analytics legitimate_interest -> consent".into(),
            }],
            runs: (0..n)
                .map(|i| vrun(i, false, u32::from(i < decl_run) * 3, false))
                .collect(),
            suppression: None,
            unauthorized_fires: 3 * decl_run as u64,
            retention: Vec::new(),
            findings: counts_of(&hot_l),
            mismatches: vec![
                mismatch(&hot_l, MismatchEvent::Opened, 0),
                mismatch(&hot_l, MismatchEvent::Resolved, decl_run),
            ],
            inventory: Vec::new(),
        },
        VendorSection {
            vendor: "meta".into(),
            name: Some("Meta Pixel".into()),
            declared: true,
            purposes: vec![purpose("advertising", LegalBasis::Consent, Some(4))],
            legitimate_interest: false,
            declaration_history: Vec::new(),
            runs: (0..n).map(|i| vrun(i, false, 4, false)).collect(),
            suppression: None,
            unauthorized_fires: 4 * n as u64,
            retention: Vec::new(),
            findings: counts_of(&meta_l),
            mismatches: vec![
                mismatch(&meta_l, MismatchEvent::Opened, 0),
                mismatch(&meta_l, MismatchEvent::Acknowledged, n / 3),
                mismatch(&meta_l, MismatchEvent::Reopened, n * 2 / 3),
            ],
            inventory: Vec::new(),
        },
        VendorSection {
            vendor: "google-analytics".into(),
            name: Some("Google Analytics".into()),
            declared: true,
            purposes: vec![purpose("analytics", LegalBasis::Consent, Some(9))],
            legitimate_interest: false,
            declaration_history: Vec::new(),
            runs: (0..n).map(|i| vrun(i, false, 0, false)).collect(),
            suppression: None,
            unauthorized_fires: 0,
            retention: vec![RetentionIssue {
                cookie: "_ga@.demo-shop.test".into(),
                declared_secs: 395 * 86_400,
                lifetime_secs: Some(730 * 86_400),
                over_by_secs: 335 * 86_400,
                runs_over: n as u32,
                runs_seen: n as u32,
                first_over: start,
                last_over: day(start, n - 1),
                last_run: run_ids[n - 1],
                still_over: true,
            }],
            findings: counts_of(&ga_l),
            mismatches: vec![mismatch(&ga_l, MismatchEvent::Opened, 0)],
            inventory: Vec::new(),
        },
        VendorSection {
            vendor: "optimizely".into(),
            name: Some("Optimizely".into()),
            declared: true,
            purposes: vec![purpose("personalisation", LegalBasis::Consent, None)],
            legitimate_interest: false,
            declaration_history: Vec::new(),
            runs: (0..n)
                .map(|i| VendorRun {
                    requests: 0,
                    cookie_writes: 0,
                    storage_writes: 0,
                    ..vrun(i, false, 0, false)
                })
                .collect(),
            suppression: None,
            unauthorized_fires: 0,
            retention: Vec::new(),
            findings: StatusCounts::default(),
            mismatches: Vec::new(),
            inventory: Vec::new(),
        },
    ];
    let tik = n * 3 / 4;
    let inventory = vec![
        InventoryChange {
            run_id: run_ids[tik],
            at: day(start, tik),
            scenario: "accept_all".into(),
            against_run: run_ids[tik - 1],
            kind: InventoryKind::Host,
            change: Change::Added,
            item: "analytics.tiktok.com".into(),
            vendor: None,
            before: None,
            after: None,
            known: Some(
                "known: TikTok (ByteDance Ltd), category social, by pattern *.tiktok.com in third-party-web 0.30.0"
                    .into(),
            ),
        },
        InventoryChange {
            run_id: run_ids[tik],
            at: day(start, tik),
            scenario: "accept_all".into(),
            against_run: run_ids[tik - 1],
            kind: InventoryKind::LoadedBy,
            change: Change::Added,
            item: "analytics.tiktok.com".into(),
            vendor: Some("gtm".into()),
            before: None,
            after: Some("www.googletagmanager.com".into()),
            known: None,
        },
        InventoryChange {
            run_id: run_ids[decl_run],
            at: day(start, decl_run),
            scenario: "reject_all".into(),
            against_run: run_ids[decl_run - 1],
            kind: InventoryKind::Vendor,
            change: Change::Removed,
            item: "hotjar".into(),
            vendor: Some("hotjar".into()),
            before: None,
            after: None,
            known: None,
        },
        InventoryChange {
            run_id: run_ids[2],
            at: day(start, 2),
            scenario: "accept_all".into(),
            against_run: run_ids[1],
            kind: InventoryKind::CookieLifetime,
            change: Change::Changed,
            item: "_ga@.demo-shop.test".into(),
            vendor: Some("google-analytics".into()),
            before: Some("395d".into()),
            after: Some("730d".into()),
            known: None,
        },
    ];
    let declaration_changes = vec![DeclarationChange {
        run_id: run_ids[decl_run],
        at: day(start, decl_run),
        previous_run: run_ids[decl_run - 1],
        scenario_changed: false,
        policy_changed: true,
        changes: vec!["vendor hotjar: analytics legitimate_interest -> consent".into()],
        resolved_in_run: 1,
    }];
    let summary = Summary {
        runs: n as u32,
        complete_runs: runs.iter().filter(|r| r.status == "complete").count() as u32,
        first_run: runs.first().map(|r| r.started_at),
        last_run: runs.last().map(|r| r.started_at),
        current,
        li_vendors: 1,
        suppression: suppression(li_bad.len(), unverified_runs),
        unauthorized_fires: vendors.iter().map(|v| v.unauthorized_fires).sum(),
        retention_over: 1,
        inventory_added: 2,
        inventory_removed: 1,
        inventory_changed: 1,
        declaration_changes: 1,
        unused_acknowledgements: 1,
    };
    let activity = sample_activity(&runs);
    DriftReport {
        schema_version: DRIFT_SCHEMA_VERSION,
        site: "demo-shop".into(),
        since,
        until,
        summary,
        runs,
        declaration_changes,
        lifecycles,
        inventory,
        vendors,
        acknowledgements: acks,
        activity,
        vantage: crate::model::vantage::DEFAULT_LABEL.to_string(),
        versus: Vec::new(),
    }
}

/// What the sample's first and last run did per scenario: Meta fires before the choice
/// throughout; Hotjar fired after a reject in the first run and only with consent in the
/// last (the fix the pack's lifecycles tell too).
fn sample_activity(runs: &[RunRef]) -> Vec<crate::drift::RunActivity> {
    use crate::analysis::Code;
    let of = |r: &RunRef, fixed: bool| crate::drift::RunActivity {
        run_id: r.id,
        started_at: r.started_at,
        scenarios: r
            .scenarios
            .iter()
            .map(|s| {
                let mut vendors = vec!["meta".to_string(), "scorecard".to_string()];
                if s.id.starts_with("accept") {
                    vendors.push("google-analytics".into());
                    vendors.push("hotjar".into());
                } else if s.id == "reject_all" && !fixed {
                    vendors.push("hotjar".into());
                }
                crate::drift::ScenarioActivity {
                    scenario: s.id.clone(),
                    observed: s.observed,
                    vendors,
                }
            })
            .collect(),
        findings: {
            let mut f = vec![(
                "meta".to_string(),
                Some("no_action".to_string()),
                Code::ConsentVendorBeforeChoice,
            )];
            if !fixed {
                f.push((
                    "hotjar".into(),
                    Some("reject_all".into()),
                    Code::ConsentVendorAfterReject,
                ));
            }
            f
        },
    };
    match (runs.first(), runs.last()) {
        (Some(a), Some(b)) if a.id != b.id => vec![of(a, false), of(b, true)],
        (Some(a), _) => vec![of(a, false)],
        _ => Vec::new(),
    }
}

/// [`drift_pack`] with every page- or file-provided string replaced by hostile text.
pub fn hostile_drift(n: usize) -> DriftReport {
    let h = hostile();
    let mut r = drift_pack(n);
    let ev = |e: &mut Option<Evidence>| {
        if let Some(e) = e {
            e.scenario = h.clone();
            e.page = HOSTILE[2].into();
            e.request_url = Some(format!("{}{h}", HOSTILE[2]));
            e.cookie = Some(h.clone());
            e.phase = h.clone();
            e.detail = Some(h.clone());
            e.known = Some(hostile_known(&h));
        }
    };
    r.site = h.clone();
    for run in &mut r.runs {
        run.status_reason = Some(h.clone());
        run.status = h.clone();
        for s in &mut run.scenarios {
            s.id = h.clone();
            s.observed = false;
        }
    }
    for l in &mut r.lifecycles {
        l.code = h.clone();
        l.severity = h.clone();
        l.scenario = Some(h.clone());
        l.subject = h.clone();
        l.vendor = Some(h.clone());
        l.message = h.clone();
        l.rule = h.clone();
        ev(&mut l.evidence);
    }
    for v in &mut r.vendors {
        v.vendor = format!("{}{h}", v.vendor);
        v.name = Some(h.clone());
        for p in &mut v.purposes {
            // (its basis is a closed vocabulary, LegalBasis: nothing hostile reaches it)
            p.purpose = h.clone();
        }
        for d in &mut v.declaration_history {
            d.change = h.clone();
        }
        for x in &mut v.retention {
            x.cookie = h.clone();
        }
        for m in &mut v.mismatches {
            m.code = h.clone();
            m.severity = h.clone();
            m.scenario = Some(h.clone());
            m.subject = h.clone();
            m.message = h.clone();
            m.rule = h.clone();
            ev(&mut m.evidence);
        }
        v.inventory = r.inventory.clone();
    }
    for c in r
        .inventory
        .iter_mut()
        .chain(r.vendors.iter_mut().flat_map(|v| v.inventory.iter_mut()))
    {
        c.scenario = h.clone();
        c.item = h.clone();
        c.vendor = Some(h.clone());
        c.before = Some(h.clone());
        c.after = Some(h.clone());
        c.known = Some(h.clone());
    }
    for d in &mut r.declaration_changes {
        d.changes = vec![h.clone()];
    }
    for a in &mut r.acknowledgements {
        a.fingerprint = h.clone();
        a.owner = h.clone();
        a.reason = h.clone();
        a.location = Some(h.clone());
    }
    r
}

/// A single run whose every page- or file-provided string is hostile.
pub fn hostile_run() -> AuditReport {
    let h = hostile();
    let t0 = Utc
        .with_ymd_and_hms(2026, 1, 1, 10, 0, 0)
        .single()
        .expect("time");
    let visit = |scenario: &str, status: VisitStatus| VisitSummary {
        scenario: scenario.into(),
        repetition: None,
        status,
        requests: 12,
        third_party_requests: 5,
        cookies_stored: 3,
        cookie_writes: 4,
        duration_ms: 3200,
        warnings: vec![h.clone()],
        signals: vec![crate::signals::SignalLine {
            phase: h.clone(),
            kind: "tcf".into(),
            source: h.clone(),
            count: 2,
            summary: h.clone(),
            distinct: 1,
        }],
        consent_actions: Vec::new(),
        screenshots: vec![crate::model::Screenshot {
            step: 0,
            action: crate::model::ConsentAction::AcceptAll,
            when: crate::model::screenshot::ShotWhen::Before,
            time: t0,
            page: h.clone(),
            width: 1280,
            height: 900,
            bytes: 1,
            capture_ms: 1,
            action_failed: false,
            path: Some(format!("//evil.test/{h}")),
            png: Vec::new(),
        }],
        timings: Default::default(),
        vendors: vec![h.clone()],
        login: None,
    };
    let finding = |code: Code| Finding {
        code,
        severity: code.severity(),
        site: h.clone(),
        scenario: Some(h.clone()),
        subject: h.clone(),
        vendor: Some(h.clone()),
        message: h.clone(),
        rule: h.clone(),
        evidence: vec![Evidence {
            scenario: h.clone(),
            page: HOSTILE[2].into(),
            request_url: Some(format!("{}{h}", HOSTILE[2])),
            cookie: Some(h.clone()),
            time: t0,
            phase: h.clone(),
            detail: Some(h.clone()),
            logged_in: false,
            known: Some(hostile_known(&h)),
        }],
        occurrences: 3,
        repeat: None,
        fingerprint: h.clone(),
    };
    AuditReport {
        run_id: Some(7),
        site: h.clone(),
        scenario_file: h.clone(),
        started_at: t0,
        finished_at: t0 + Duration::seconds(12),
        status: RunStatus::Incomplete(h.clone()),
        visits: vec![
            visit(&h, VisitStatus::Complete),
            visit(
                &h,
                VisitStatus::Incomplete(Failure::new(FailureKind::ElementNotFound, &h)),
            ),
        ],
        findings: vec![
            finding(Code::ConsentVendorBeforeChoice),
            finding(Code::UndeclaredCookie),
        ],
        fail_on: Some(Severity::High),
        fail_on_new: true,
        new_fingerprints: vec![h.clone()],
        regressed_fingerprints: Vec::new(),
        db_path: Some(h.clone()),
        crawl: None,
        data_versions: vec![crate::data::DataVersions {
            consentry: h.clone(),
            autoconsent: Some(h.clone()),
            cmp_profiles: h.clone(),
            knowledge: None,
        }],
        acknowledgements: Vec::new(),
        vantage: Default::default(),
        verdict: Verdict::default(),
        declared: None,
    }
    .with_verdict()
}

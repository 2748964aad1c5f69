//! The drift pack over several stored runs, without a browser: runs are written through
//! the store's API (inventory, vendor activity, declarations and findings as an audit
//! records them), read back with `site_history`, and built into the pack. The tests over
//! stored runs run on SQLite and on PostgreSQL (`sqlite::NAME`, `postgres::NAME`).

use chrono::{DateTime, Duration, TimeZone, Utc};
use consentry::analysis::finding::{fingerprint, Code, Evidence, Finding};
use consentry::drift::pack::{build, AckInput, PackInput};
use consentry::drift::{AckStatus, Change, DriftReport, InventoryKind, MismatchEvent, Objection};
use consentry::inventory::{Declaration, InventoryItem, ItemKind, VendorActivity, VisitInventory};
use consentry::model::{
    ConsentAction, ConsentState, Failure, FailureKind, RunStatus, VisitObservation, VisitStatus,
    VisitTimings,
};
use consentry::store::{JudgedVisit, RunStart, Store};

mod common;

use common::pg::TestDb;

const SITE: &str = "shop";

crate::on_both_back_ends!(
    lifecycles_unverified_and_a_map_change_told_apart_from_a_behaviour_change,
    inventory_drift_with_a_lifetime_change_and_an_unobserved_night_skipped,
    the_lia_facts_per_vendor,
    acknowledgements_expire_and_an_unused_one_is_reported,
    drift_reads_the_acknowledgements_file_and_rejects_a_bad_one_with_its_position,
    reports_and_packs_go_to_stdout_unless_output_or_output_dir,
    drift_compares_the_runs_of_one_vantage_only,
);

fn day(d: i64) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 10, 1, 2, 0, 0)
        .single()
        .expect("time")
        + Duration::days(d)
}

fn observation(scenario: &str, d: i64, observed: bool) -> VisitObservation {
    let state = if scenario == "object_li" {
        ConsentState::initial().after(ConsentAction::ObjectLi)
    } else {
        ConsentState::initial()
    };
    VisitObservation {
        scenario: scenario.to_string(),
        started_at: day(d),
        finished_at: day(d) + Duration::seconds(5),
        status: if observed {
            VisitStatus::Complete
        } else {
            VisitStatus::Incomplete(Failure::new(
                FailureKind::ElementNotFound,
                "no element matches \"#li-object\"",
            ))
        },
        steps: Vec::new(),
        requests: Vec::new(),
        cookie_writes: Vec::new(),
        cookies: Vec::new(),
        storage_writes: Vec::new(),
        page_errors: Vec::new(),
        signals: Vec::new(),
        cmp: Vec::new(),
        screenshots: Vec::new(),
        final_state: state,
        warnings: Vec::new(),
        timings: VisitTimings {
            session_start_ms: 1,
            load_ms: 1,
            settle_ms: 1,
            capture_ms: 1,
            close_ms: 1,
            ..VisitTimings::default()
        },
        login: None,
    }
}

fn finding(code: Code, scenario: &str, subject: &str, vendor: Option<&str>, d: i64) -> Finding {
    Finding {
        code,
        severity: code.severity(),
        site: SITE.into(),
        scenario: Some(scenario.into()),
        subject: subject.into(),
        vendor: vendor.map(str::to_string),
        message: format!("{subject} broke {code} in {scenario}"),
        rule: format!("rule of {subject}"),
        evidence: vec![Evidence {
            scenario: scenario.into(),
            page: "https://shop.example/".into(),
            request_url: Some(format!("https://{subject}/px?d={d}")),
            cookie: None,
            time: day(d) + Duration::seconds(1),
            phase: "before-choice".into(),
            detail: None,
            logged_in: false,
            known: None,
        }],
        occurrences: 1,
        repeat: None,
        fingerprint: fingerprint(code, SITE, Some(scenario), subject),
    }
}

fn decl(vendor: &str, purpose: &str, basis: &str) -> Declaration {
    Declaration {
        vendor: vendor.into(),
        vendor_name: vendor.to_uppercase(),
        purpose: purpose.into(),
        basis: basis.parse().expect("a legal basis"),
        strictly_necessary: false,
        tcf_purpose: None,
    }
}

fn host(h: &str, vendor: Option<&str>) -> InventoryItem {
    InventoryItem {
        kind: ItemKind::Host,
        item: h.into(),
        vendor: vendor.map(str::to_string),
        lifetime_secs: None,
        declared_secs: None,
        over_retention: false,
        detail: None,
    }
}

fn cookie(key: &str, vendor: &str, lifetime_days: i64, declared_days: i64) -> InventoryItem {
    InventoryItem {
        kind: ItemKind::Cookie,
        item: key.into(),
        vendor: Some(vendor.into()),
        lifetime_secs: Some(lifetime_days * 86_400),
        declared_secs: Some(declared_days * 86_400),
        over_retention: lifetime_days > declared_days + 1,
        detail: None,
    }
}

fn activity(vendor: &str, requests: u32, unauthorized: u32, objected: u32) -> VendorActivity {
    VendorActivity {
        vendor: vendor.into(),
        requests,
        cookie_writes: 0,
        storage_writes: 0,
        unauthorized,
        objected,
    }
}

/// One visit to record: scenario, observed, inventory, findings.
struct V {
    scenario: &'static str,
    observed: bool,
    inventory: VisitInventory,
    findings: Vec<Finding>,
}

async fn record_run(
    store: &Store,
    d: i64,
    policy: &str,
    decls: &[Declaration],
    visits: Vec<V>,
) -> i64 {
    record_run_from(store, None, d, policy, decls, visits).await
}

/// [`record_run`] from a vantage (`None`: no `[vantage]`, stored as before schema 22).
async fn record_run_from(
    store: &Store,
    vantage: Option<&consentry::model::vantage::Vantage>,
    d: i64,
    policy: &str,
    decls: &[Declaration],
    visits: Vec<V>,
) -> i64 {
    let run = store
        .writer()
        .start_run(&RunStart {
            site: SITE,
            scenario_file: "scenarios/shop.toml",
            started_at: day(d),
            scenario_digest: Some("s1"),
            policy_digest: Some(policy),
            data_versions: None,
            fail_on: consentry::outcome::FailOn::DEFAULT,
            fleet_run: None,
            vantage,
        })
        .await
        .expect("run");
    store
        .writer()
        .record_declarations(run, decls)
        .await
        .expect("declarations");
    let mut complete = true;
    for (i, v) in visits.iter().enumerate() {
        complete &= v.observed;
        let obs = observation(v.scenario, d, v.observed);
        store
            .writer()
            .record_judged_visit(
                run,
                &JudgedVisit {
                    position: Some(i),
                    repetition: 1,
                    obs: &obs,
                    third_party_requests: Some(1),
                    findings: &v.findings,
                    inventory: Some(&v.inventory),
                },
            )
            .await
            .expect("visit");
    }
    let status = if complete {
        RunStatus::Complete
    } else {
        RunStatus::Incomplete("not observed: object_li".into())
    };
    store
        .writer()
        .finish_run(run, &status, day(d) + Duration::minutes(1))
        .await
        .expect("finish");
    run
}

/// Five nights of a shop (see the comments per night), and the pack over them.
async fn five_nights(db: &TestDb) -> (Vec<i64>, DriftReport) {
    let store = db.open().await;
    let li = vec![
        decl("meta", "advertising", "consent"),
        decl("hotjar", "analytics", "legitimate_interest"),
        decl("ga", "analytics", "consent"),
    ];
    let consent = vec![
        decl("meta", "advertising", "consent"),
        decl("hotjar", "analytics", "consent"),
        decl("ga", "analytics", "consent"),
    ];
    let meta = |d| {
        finding(
            Code::ConsentVendorBeforeChoice,
            "no_action",
            "meta",
            Some("meta"),
            d,
        )
    };
    let hotjar = |d| {
        finding(
            Code::LiVendorAfterObjection,
            "object_li",
            "hotjar",
            Some("hotjar"),
            d,
        )
    };
    let tiktok = |d| {
        finding(
            Code::UndeclaredThirdParty,
            "no_action",
            "tiktok.com",
            None,
            d,
        )
    };
    let no_action = |ga_days: i64, tiktok_on: bool, findings: Vec<Finding>| {
        let mut items = vec![
            host("connect.facebook.net", Some("meta")),
            cookie("_ga@shop.example", "ga", ga_days, 400),
        ];
        if tiktok_on {
            items.push(host("analytics.tiktok.com", None));
        }
        V {
            scenario: "no_action",
            observed: true,
            inventory: VisitInventory {
                vendors: vec![activity("meta", 4, 4, 0), activity("ga", 1, 0, 0)],
                items,
            },
            findings,
        }
    };
    let object_li = |observed: bool, objected: u32, hj_cookie: bool, findings: Vec<Finding>| {
        let mut items = vec![host("static.hotjar.com", Some("hotjar"))];
        if hj_cookie {
            items.push(cookie("_hjSession@shop.example", "hotjar", 1, 1));
        }
        V {
            scenario: "object_li",
            observed,
            inventory: VisitInventory {
                vendors: vec![activity("hotjar", 2 + objected, objected, objected)],
                items,
            },
            findings,
        }
    };
    let mut ids = Vec::new();
    // Night 1: meta fires before the choice; hotjar stops after the objection.
    ids.push(
        record_run(
            &store,
            0,
            "p1",
            &li,
            vec![
                no_action(395, false, vec![meta(0)]),
                object_li(true, 0, false, vec![]),
            ],
        )
        .await,
    );
    // Night 2: hotjar keeps firing after the objection; a TikTok pixel appears; _ga's
    // lifetime grows from 395 to 730 days (over its declared 400).
    ids.push(
        record_run(
            &store,
            1,
            "p1",
            &li,
            vec![
                no_action(730, true, vec![meta(1), tiktok(1)]),
                object_li(true, 3, false, vec![hotjar(1)]),
            ],
        )
        .await,
    );
    // Night 3: the objection scenario could not be performed.
    ids.push(
        record_run(
            &store,
            2,
            "p1",
            &li,
            vec![
                no_action(730, true, vec![meta(2), tiktok(2)]),
                object_li(false, 0, false, vec![]),
            ],
        )
        .await,
    );
    // Night 4: the policy moves hotjar to consent; meta's finding is gone (same night as
    // the policy change); hotjar still fires after the objection; a new hotjar cookie.
    ids.push(
        record_run(
            &store,
            3,
            "p2",
            &consent,
            vec![
                no_action(730, true, vec![tiktok(3)]),
                object_li(true, 2, true, vec![hotjar(3)]),
            ],
        )
        .await,
    );
    // Night 5: hotjar stops (a behaviour change, same policy).
    ids.push(
        record_run(
            &store,
            4,
            "p2",
            &consent,
            vec![
                no_action(730, true, vec![tiktok(4)]),
                object_li(true, 0, true, vec![]),
            ],
        )
        .await,
    );

    let since = day(0) - Duration::hours(1);
    let until = day(5);
    let from = store
        .history()
        .context_start(SITE, since)
        .await
        .expect("context");
    let history = store
        .history()
        .site_history(SITE, from, until)
        .await
        .expect("history");
    store.close().await;
    let acks = vec![
        // TikTok accepted for a day only: it reopens.
        AckInput {
            fingerprint: tiktok(0).fingerprint,
            site: Some(SITE.into()),
            owner: "dpo@shop.example".into(),
            reason: "pilot campaign".into(),
            acknowledged: Some(day(1) - Duration::hours(1)),
            expires: day(2) - Duration::hours(1),
            location: Some("scenarios/acks.toml:1:1".into()),
        },
        // Matches nothing.
        AckInput {
            fingerprint: "v1-0000000000000000".into(),
            site: None,
            owner: "dpo@shop.example".into(),
            reason: "old".into(),
            acknowledged: None,
            expires: day(400),
            location: Some("scenarios/acks.toml:8:1".into()),
        },
        // Another site's: ignored.
        AckInput {
            fingerprint: meta(0).fingerprint,
            site: Some("elsewhere".into()),
            owner: "x".into(),
            reason: "x".into(),
            acknowledged: None,
            expires: day(400),
            location: None,
        },
    ];
    let report = build(&PackInput {
        site: SITE,
        since,
        until,
        history: &history,
        acks: &acks,
        resolve_after: consentry::drift::lifecycle::DEFAULT_RESOLVE_AFTER,
        vantage: "default",
        versus: None,
    });
    (ids, report)
}

fn timeline<'a>(r: &'a DriftReport, subject: &str) -> Vec<&'a str> {
    r.lifecycles
        .iter()
        .find(|l| l.subject == subject)
        .map(|l| l.timeline.iter().map(|s| s.status.as_str()).collect())
        .unwrap_or_default()
}

async fn lifecycles_unverified_and_a_map_change_told_apart_from_a_behaviour_change(db: TestDb) {
    let (ids, r) = five_nights(&db).await;
    assert_eq!(r.runs.iter().map(|x| x.id).collect::<Vec<_>>(), ids);
    assert_eq!(
        timeline(&r, "meta"),
        vec!["new", "persisting", "persisting", "resolved", "resolved"]
    );
    assert_eq!(
        timeline(&r, "hotjar"),
        vec!["new", "unverified", "persisting", "resolved"]
    );
    assert_eq!(
        timeline(&r, "tiktok.com"),
        vec!["new", "persisting", "persisting", "persisting"]
    );
    // meta went the night the policy changed: said so.
    let meta = r
        .lifecycles
        .iter()
        .find(|l| l.subject == "meta")
        .expect("meta");
    assert!(meta.timeline[3].map_changed && !meta.timeline[2].map_changed);
    // hotjar went on a night the policy did not change: a behaviour change.
    let hj = r
        .lifecycles
        .iter()
        .find(|l| l.subject == "hotjar")
        .expect("hotjar");
    assert!(!hj.timeline[3].map_changed);
    assert_eq!((hj.runs_seen, hj.runs_checked), (2, 3));

    assert_eq!(
        r.declaration_changes.len(),
        1,
        "{:#?}",
        r.declaration_changes
    );
    let d = &r.declaration_changes[0];
    assert_eq!((d.run_id, d.previous_run), (ids[3], ids[2]));
    assert!(d.policy_changed && !d.scenario_changed);
    assert_eq!(
        d.changes,
        vec!["vendor hotjar: analytics: legitimate_interest -> consent"]
    );
    assert_eq!(d.resolved_in_run, 1, "meta resolved that night");
    let flags: Vec<(bool, bool)> = r
        .runs
        .iter()
        .map(|x| (x.declaration_changed, x.behaviour_changed))
        .collect();
    assert_eq!(
        flags,
        vec![
            (false, false),
            (false, true),
            (false, false),
            (true, true),
            (false, true)
        ]
    );
    assert_eq!(r.runs[2].status, "incomplete");
    assert_eq!(r.runs[2].counts.unverified, 1);
}

async fn inventory_drift_with_a_lifetime_change_and_an_unobserved_night_skipped(db: TestDb) {
    let (ids, r) = five_nights(&db).await;
    type Row<'a> = (
        i64,
        &'a str,
        &'a str,
        &'a str,
        &'a str,
        Option<&'a str>,
        Option<&'a str>,
    );
    let got: Vec<Row> = r
        .inventory
        .iter()
        .map(|c| {
            (
                c.run_id,
                c.scenario.as_str(),
                c.kind.as_str(),
                c.change.as_str(),
                c.item.as_str(),
                c.before.as_deref(),
                c.after.as_deref(),
            )
        })
        .collect();
    assert_eq!(
        got,
        vec![
            (
                ids[1],
                "no_action",
                "host",
                "added",
                "analytics.tiktok.com",
                None,
                None
            ),
            (
                ids[1],
                "no_action",
                "cookie-lifetime",
                "changed",
                "_ga@shop.example",
                Some("395d"),
                Some("730d")
            ),
            (
                ids[3],
                "object_li",
                "cookie",
                "added",
                "_hjSession@shop.example",
                None,
                Some("1d")
            ),
        ]
    );
    // Night 3's object_li was not observed: night 4 is compared against night 2.
    let hj = r
        .inventory
        .iter()
        .find(|c| c.item.starts_with("_hjSession"))
        .expect("hj");
    assert_eq!(hj.against_run, ids[1]);
    assert_eq!(hj.kind, InventoryKind::Cookie);
    assert_eq!(hj.change, Change::Added);
    assert_eq!(
        (
            r.summary.inventory_added,
            r.summary.inventory_changed,
            r.summary.inventory_removed
        ),
        (2, 1, 0)
    );
}

async fn the_lia_facts_per_vendor(db: TestDb) {
    let (ids, r) = five_nights(&db).await;
    // Legitimate-interest vendors first (hotjar was LI for part of the window).
    assert_eq!(r.vendors[0].vendor, "hotjar");
    assert!(r.vendors[0].legitimate_interest);
    assert!(r.vendors.iter().skip(1).all(|v| !v.legitimate_interest));
    let hj = &r.vendors[0];
    let objection: Vec<Option<Objection>> = hj.runs.iter().map(|x| x.objection).collect();
    assert_eq!(
        objection,
        vec![
            Some(Objection::Honoured),
            Some(Objection::NotHonoured),
            Some(Objection::Unverified),
            Some(Objection::NotHonoured),
            Some(Objection::Honoured),
        ]
    );
    let rate = hj.suppression.expect("rate");
    assert_eq!((rate.honoured, rate.checked, rate.unverified), (2, 4, 1));
    assert_eq!(rate.describe(), "50% (2/4), 1 unverified");
    assert_eq!(hj.unauthorized_fires, 5);
    assert_eq!(hj.declaration_history.len(), 1);
    assert_eq!(hj.declaration_history[0].run_id, ids[3]);
    let events: Vec<(i64, MismatchEvent)> =
        hj.mismatches.iter().map(|m| (m.run_id, m.event)).collect();
    assert_eq!(
        events,
        vec![
            (ids[1], MismatchEvent::Opened),
            (ids[4], MismatchEvent::Resolved)
        ]
    );
    // The resolution carries the evidence of the last night it was seen.
    let resolved = &hj.mismatches[1];
    assert_eq!(
        resolved
            .evidence
            .as_ref()
            .and_then(|e| e.request_url.as_deref()),
        Some("https://hotjar/px?d=3")
    );
    // Retention: _ga over its declared 400 days from night 2 on, by 330 days.
    let ga = r.vendors.iter().find(|v| v.vendor == "ga").expect("ga");
    assert_eq!(ga.retention.len(), 1);
    let ret = &ga.retention[0];
    assert_eq!(ret.over_by_secs, 330 * 86_400);
    assert_eq!((ret.runs_over, ret.runs_seen, ret.still_over), (4, 5, true));
    let meta = r.vendors.iter().find(|v| v.vendor == "meta").expect("meta");
    assert_eq!(meta.unauthorized_fires, 20);
    assert!(meta.suppression.is_none());
    assert_eq!((r.summary.li_vendors, r.summary.retention_over), (1, 1));
    assert_eq!(r.summary.suppression.checked, 4);
}

async fn acknowledgements_expire_and_an_unused_one_is_reported(db: TestDb) {
    let (_, r) = five_nights(&db).await;
    let tiktok = r
        .lifecycles
        .iter()
        .find(|l| l.subject == "tiktok.com")
        .expect("tiktok");
    let acked: Vec<bool> = tiktok.timeline.iter().map(|s| s.acknowledged).collect();
    assert_eq!(acked, vec![true, false, false, false]);
    let ack = tiktok.acknowledgement.as_ref().expect("ack");
    assert_eq!(ack.status, AckStatus::Expired);
    let statuses: Vec<AckStatus> = r.acknowledgements.iter().map(|a| a.status).collect();
    assert_eq!(
        statuses,
        vec![AckStatus::Expired, AckStatus::Unused],
        "another site's ack is not listed"
    );
    assert_eq!(r.summary.unused_acknowledgements, 1);
    assert_eq!(
        r.summary.current.acknowledged, 0,
        "the expired one counts again"
    );
    // An acknowledged night, then reopened, as mismatch events would show for a vendor;
    // tiktok has no declared vendor, so the site-level lists carry it.
    assert!(r
        .vendors
        .iter()
        .all(|v| v.mismatches.iter().all(|m| m.subject != "tiktok.com")));
}

async fn drift_reads_the_acknowledgements_file_and_rejects_a_bad_one_with_its_position(db: TestDb) {
    let (_, _) = five_nights(&db).await;
    let tiktok = fingerprint(
        Code::UndeclaredThirdParty,
        SITE,
        Some("no_action"),
        "tiktok.com",
    );
    let good = db.dir.path().join("acks.toml");
    std::fs::write(
        &good,
        format!(
            "[[ack]]\nfingerprint = \"{tiktok}\"\nreason = \"pilot\"\nowner = \"dpo@shop.example\"\nexpires = \"2099-01-01\"\n"
        ),
    )
    .expect("write");
    let run = |acks: &std::path::Path| {
        std::process::Command::new(env!("CARGO_BIN_EXE_consentry"))
            .args(["drift", "--format", "json", "--output", "-"])
            .args(["--since", "2026-09-30", "--until", "2026-10-06", "--db"])
            .arg(db.arg())
            .arg("--acks")
            .arg(acks)
            .output()
            .expect("run")
    };
    let out = run(&good);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(json["schema_version"], 2);
    assert_eq!(json["acknowledgements"][0]["status"], "active");
    assert_eq!(json["summary"]["current"]["acknowledged"], 1);

    let bad = db.dir.path().join("bad.toml");
    std::fs::write(
        &bad,
        "[[ack]]\nfingerprint = \"v1-nothex\"\nreason = \"\"\nowner = \"x\"\nexpires = \"someday\"\n",
    )
    .expect("write");
    let out = run(&bad);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    for at in ["bad.toml:2:", "bad.toml:3:", "bad.toml:5:"] {
        assert!(err.contains(at), "{at} missing in: {err}");
    }
    assert!(
        out.stdout.is_empty(),
        "no pack on a bad acknowledgements file"
    );
}

/// Every format goes to stdout unless `--output FILE` or `--output-dir [DIR]`
/// (docs/reports.md, "Where a report goes"): `report latest --format json | jq .summary`
/// works, `--output` writes the file and prints nothing, `--output-dir` keeps the naming
/// scheme (one file per site with `--all`).
async fn reports_and_packs_go_to_stdout_unless_output_or_output_dir(db: TestDb) {
    let (ids, _) = five_nights(&db).await;
    let reports = db.dir.path().join("out");
    let run = |args: &[&str]| {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_consentry"))
            .args(args)
            .arg("--db")
            .arg(db.arg())
            .env("CONSENTRY_REPORTS_DIR", &reports)
            .output()
            .expect("run");
        assert!(
            matches!(out.status.code(), Some(0 | 1)),
            "{args:?}: {:?} {}",
            out.status.code(),
            String::from_utf8_lossy(&out.stderr)
        );
        out
    };
    let window = ["--since", "2026-09-30", "--until", "2026-10-06"];

    // The run report as JSON on stdout, `.summary` and all; nothing written.
    let out = run(&["report", "latest", "--format", "json"]);
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "report latest --format json: stdout is not JSON ({e}): {}",
            String::from_utf8_lossy(&out.stdout)
        )
    });
    assert!(json["summary"]["findings"].is_u64(), "{json}");
    assert_eq!(json["run_id"].as_i64(), ids.last().copied());
    // The drift pack as JSON on stdout.
    let out = run(&[&["drift", "--format", "json"][..], &window[..]].concat());
    let pack: serde_json::Value = serde_json::from_slice(&out.stdout).expect("drift json");
    assert!(pack["summary"]["current"].is_object(), "{pack}");
    // HTML and Markdown on stdout too.
    let out = run(&[&["drift", "--format", "html"][..], &window[..]].concat());
    assert!(String::from_utf8_lossy(&out.stdout).starts_with("<!DOCTYPE html>"));
    let id = ids[4].to_string();
    let out = run(&["report", &id, "--format", "markdown"]);
    let md = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(md.contains("tiktok.com"));
    assert!(!reports.exists(), "nothing written without --output(-dir)");
    // Problems by default, each finding with --ungrouped (report and drift alike).
    assert!(
        md.contains("## Problems (") && !md.contains("### Finding 1:"),
        "{md}"
    );
    let out = run(&["report", &id, "--format", "markdown", "--ungrouped"]);
    let md = String::from_utf8_lossy(&out.stdout);
    assert!(
        md.contains("### Finding 1:") && !md.contains("## Problems ("),
        "{md}"
    );
    let out = run(&[&["drift", "--format", "table"][..], &window[..]].concat());
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(text.contains("Problems ("), "{text}");
    let out = run(&[
        &["drift", "--format", "table", "--ungrouped"][..],
        &window[..],
    ]
    .concat());
    let ungrouped = String::from_utf8_lossy(&out.stdout);
    assert!(
        ungrouped.contains("\nFindings\n") && !ungrouped.contains("Problems ("),
        "{ungrouped}"
    );

    // --output FILE: the file, nothing on stdout, its path on stderr.
    let file = db.dir.path().join("run.json");
    let out = run(&["report", "latest", "--format", "json", "--output"]
        .into_iter()
        .chain(file.to_str())
        .collect::<Vec<_>>());
    assert!(out.stdout.is_empty(), "--output: nothing on stdout");
    let written: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&file).expect("--output file"))
            .expect("json file");
    assert_eq!(written["summary"], json["summary"]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("run.json"));

    // --output-dir without a directory: the reports directory, by the naming scheme.
    let out = run(&[
        &["drift", "--all", "--format", "html", "--output-dir"][..],
        &window[..],
    ]
    .concat());
    assert!(out.stdout.is_empty(), "a file, not stdout");
    let pack = reports.join("shop/drift-2026-09-30_2026-10-06.html");
    let html = std::fs::read_to_string(&pack).expect("the pack under the naming scheme");
    assert!(html.contains("Content-Security-Policy"), "CSP");
    assert!(html.contains("hotjar") && html.contains("tiktok.com"));
    assert!(!html.contains("<script"), "no script");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("drift-2026-09-30_2026-10-06.html"),
        "the path is printed: {err}"
    );
    // --output-dir DIR (after RUN).
    let dir = db.dir.path().join("elsewhere");
    let dir_arg = format!("--output-dir={}", dir.display());
    run(&["report", &id, "--format", "markdown", &dir_arg]);
    let md = std::fs::read_to_string(dir.join(format!("shop/run-{id}.md"))).expect("run report");
    assert!(md.contains("tiktok.com"), "{md}");
    // --output - is stdout, as before.
    let out = run(&["report", &id, "--format", "html", "--output", "-"]);
    assert!(String::from_utf8_lossy(&out.stdout).starts_with("<!DOCTYPE html>"));
    assert!(!reports.join(format!("shop/run-{id}.html")).exists());
}

/// The declared legal basis is decoded at the store edge: read back as a `LegalBasis`,
/// and a stored name that is none (a hand-edited or foreign database) is a
/// corrupt-database error naming the column and the value, never passed on as text.
#[tokio::test]
async fn a_stored_legal_basis_is_decoded_and_an_unknown_one_is_a_clear_error() {
    use consentry::model::LegalBasis;
    use consentry::store::StoreError;
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("basis.db");
    let store = Store::open(&db).await.unwrap();
    let decls = [
        decl("meta", "advertising", "consent"),
        decl("hotjar", "analytics", "legitimate_interest"),
    ];
    record_run(&store, 0, "p1", &decls, Vec::new()).await;
    let history = store
        .history()
        .site_history(SITE, day(-1), day(1))
        .await
        .unwrap();
    let bases: Vec<LegalBasis> = history[0].declarations.iter().map(|d| d.basis).collect();
    assert_eq!(bases, [LegalBasis::Consent, LegalBasis::LegitimateInterest]);
    store.close().await;

    {
        use sqlx::sqlite::SqliteConnectOptions;
        use sqlx::{ConnectOptions, Connection};
        let mut conn = SqliteConnectOptions::new()
            .filename(&db)
            .connect()
            .await
            .unwrap();
        sqlx::query(
            "UPDATE declaration_items SET basis = 'vital_interest' WHERE vendor = 'hotjar'",
        )
        .execute(&mut conn)
        .await
        .unwrap();
        conn.close().await.unwrap();
    }
    let store = Store::open(&db).await.unwrap();
    let err = store
        .history()
        .site_history(SITE, day(-1), day(1))
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Corrupt { .. }), "{err}");
    assert!(
        err.to_string()
            .contains("column basis: unknown legal basis \"vital_interest\""),
        "{err}"
    );
    store.close().await;
}

/// The drift pack's enumerations say the same name in the pack's JSON and in its
/// Markdown / HTML text (`as_str`, from strum, as serde's kebab-case).
#[test]
fn drift_enumeration_names_are_one_in_json_and_text() {
    use consentry::drift::lifecycle::Status;
    fn same<T: serde::Serialize>(v: T, text: &str, want: &str) {
        assert_eq!(text, want);
        assert_eq!(serde_json::to_string(&v).unwrap(), format!("\"{want}\""));
    }
    for (k, n) in [
        (InventoryKind::Vendor, "vendor"),
        (InventoryKind::Host, "host"),
        (InventoryKind::Cookie, "cookie"),
        (InventoryKind::CookieLifetime, "cookie-lifetime"),
        (InventoryKind::LoadedBy, "loaded-by"),
    ] {
        same(k, k.as_str(), n);
    }
    for (c, n) in [
        (Change::Added, "added"),
        (Change::Removed, "removed"),
        (Change::Changed, "changed"),
    ] {
        same(c, c.as_str(), n);
    }
    for (e, n) in [
        (MismatchEvent::Opened, "opened"),
        (MismatchEvent::Regressed, "regressed"),
        (MismatchEvent::Resolved, "resolved"),
        (MismatchEvent::Acknowledged, "acknowledged"),
        (MismatchEvent::Reopened, "reopened"),
    ] {
        same(e, e.as_str(), n);
    }
    for (s, n) in [
        (Status::New, "new"),
        (Status::Regressed, "regressed"),
        (Status::Persisting, "persisting"),
        (Status::Unverified, "unverified"),
        (Status::Resolved, "resolved"),
    ] {
        same(s, s.as_str(), n);
    }
}

/// Runs of two vantages are never compared with each other: Meta seen from `eu-de` on
/// nights 0 and 2 and not from `us` on night 1 is `persisting` in eu-de's pack (compared
/// across vantages it would have been resolved, then regressed); `--vs-vantage` sets the
/// two vantages' latest runs side by side; a run stored without a vantage is `default`.
async fn drift_compares_the_runs_of_one_vantage_only(db: TestDb) {
    use consentry::model::vantage::Vantage;
    let store = db.open().await;
    let decls = vec![decl("meta", "advertising", "consent")];
    let eu = Vantage {
        label: "eu-de".into(),
        proxy: Some("http://127.0.0.1:3128".into()),
        proxy_auth: true,
        locale: Some("de-DE".into()),
        timezone: Some("Europe/Berlin".into()),
    };
    let us = Vantage::labelled("us");
    let meta = |d| {
        finding(
            Code::ConsentVendorBeforeChoice,
            "no_action",
            "meta",
            Some("meta"),
            d,
        )
    };
    // Meta active wherever it is found (the matrices show it).
    let visit = |findings: Vec<Finding>| V {
        scenario: "no_action",
        observed: true,
        inventory: VisitInventory {
            vendors: if findings.is_empty() {
                Vec::new()
            } else {
                vec![activity("meta", 2, 2, 0)]
            },
            items: Vec::new(),
        },
        findings,
    };
    let old = record_run_from(&store, None, -3, "p1", &decls, vec![visit(vec![])]).await;
    let e0 = record_run_from(
        &store,
        Some(&eu),
        0,
        "p1",
        &decls,
        vec![visit(vec![meta(0)])],
    )
    .await;
    let u1 = record_run_from(&store, Some(&us), 1, "p1", &decls, vec![visit(vec![])]).await;
    let e2 = record_run_from(
        &store,
        Some(&eu),
        2,
        "p1",
        &decls,
        vec![visit(vec![meta(2)])],
    )
    .await;

    let h = store.history();
    let vantages = h.site_vantages(SITE).await.expect("vantages");
    let labels: Vec<&str> = vantages.iter().map(|(l, _)| l.as_str()).collect();
    assert_eq!(labels, ["eu-de", "us", "default"]);
    let stored = h.run(e0).await.expect("run").expect("stored");
    assert_eq!(stored.vantage, eu, "the settings are stored with the run");
    assert_eq!(
        h.run(old).await.expect("run").expect("old").vantage.label,
        "default"
    );
    let ids = |hs: &[consentry::store::RunHistory]| hs.iter().map(|h| h.run.id).collect::<Vec<_>>();
    let (since, until) = (day(-1), day(3));
    assert_eq!(
        ids(&h
            .vantage_history(SITE, "eu-de", since, until)
            .await
            .expect("eu")),
        [e0, e2]
    );
    assert_eq!(
        ids(&h
            .vantage_history(SITE, "us", since, until)
            .await
            .expect("us")),
        [u1]
    );
    assert_eq!(
        ids(&h
            .vantage_history(SITE, "default", day(-4), until)
            .await
            .expect("default")),
        [old]
    );
    assert_eq!(
        ids(&h.site_history(SITE, day(-4), until).await.expect("all")),
        [old, e0, u1, e2]
    );
    // The baseline before a window is the same vantage's: eu-de has none before night 0.
    assert_eq!(
        h.vantage_context_start(SITE, "eu-de", since)
            .await
            .expect("ctx"),
        since
    );
    assert_eq!(
        h.vantage_context_start(SITE, "default", since)
            .await
            .expect("ctx"),
        day(-3)
    );
    store.close().await;

    let drift = |extra: &[&str]| {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_consentry"))
            .args([
                "drift",
                "--format",
                "json",
                "--since",
                "2026-09-30",
                "--until",
                "2026-10-04",
            ])
            .args(extra)
            .arg("--db")
            .arg(db.arg())
            .output()
            .expect("run");
        serde_json::from_slice::<serde_json::Value>(&out.stdout).unwrap_or_else(|e| {
            panic!(
                "{extra:?}: not JSON ({e}): {}",
                String::from_utf8_lossy(&out.stderr)
            )
        })
    };
    // Default: the latest run's vantage, eu-de; Meta persists (never resolved by `us`).
    let pack = drift(&[]);
    assert_eq!(pack["vantage"], "eu-de", "{pack}");
    let run_ids: Vec<i64> = pack["runs"]
        .as_array()
        .expect("runs")
        .iter()
        .filter_map(|r| r["id"].as_i64())
        .collect();
    assert_eq!(run_ids, [e0, e2]);
    let statuses: Vec<&str> = pack["lifecycles"][0]["timeline"]
        .as_array()
        .expect("timeline")
        .iter()
        .filter_map(|s| s["status"].as_str())
        .collect();
    assert_eq!(statuses, ["new", "persisting"], "{pack}");
    assert!(pack.get("versus").is_none());
    // `--vantage us`: its one run, no Meta at all.
    let pack = drift(&["--vantage", "us"]);
    assert_eq!(pack["vantage"], "us");
    assert_eq!(pack["runs"].as_array().map(Vec::len), Some(1));
    assert_eq!(
        pack["lifecycles"].as_array().map(Vec::len),
        Some(0),
        "{pack}"
    );
    // Side by side: eu-de's latest run and us's.
    let pack = drift(&["--vs-vantage", "us"]);
    assert_eq!(pack["versus"][0]["vantage"], "eu-de");
    assert_eq!(pack["versus"][0]["run_id"].as_i64(), Some(e2));
    assert_eq!(pack["versus"][1]["vantage"], "us");
    assert_eq!(pack["versus"][1]["run_id"].as_i64(), Some(u1));
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_consentry"))
        .args([
            "drift",
            "--since",
            "2026-09-30",
            "--until",
            "2026-10-04",
            "--vs-vantage",
            "us",
        ])
        .arg("--db")
        .arg(db.arg())
        .output()
        .expect("run");
    let text = String::from_utf8_lossy(&out.stdout);
    for line in [
        "Vantage: eu-de (only its runs are compared)",
        &format!("vantage eu-de, latest run: #{e2}"),
        &format!("vantage us, latest run: #{u1}"),
    ] {
        assert!(text.contains(line), "{line} not in\n{text}");
    }
}

//! Storage layer against real SQLite files in a temp dir and a real PostgreSQL server
//! (tests/common/pg.rs): the back-end neutral tests run on both (`sqlite::NAME`,
//! `postgres::NAME`); SQLite-only ones (files, WAL, directories) on SQLite.

use chrono::{DateTime, Duration, TimeZone, Utc};
use common::pg::TestDb;
use consentry::analysis::finding::{fingerprint, Code, Evidence, Finding, Severity};
use consentry::model::{
    ConsentAction, ConsentState, CookieSource, CookieWrite, Failure, FailureKind, RequestObs,
    RunStatus, StepOutcome, StepStatus, StorageWrite, StoredCookie, TargetKind, ValueHasher,
    VisitObservation, VisitStatus, VisitTimings,
};
use consentry::store::{RunId, Store, StoreError, VisitCounts};
use std::path::Path;

mod common;

crate::on_both_back_ends!(
    observation_round_trips,
    empty_observation_round_trips,
    findings_round_trip_in_order,
    runs_are_listed_newest_first,
    finish_run_round_trips_every_status,
    recorded_visit_survives_reopen,
    visit_for_unknown_run_is_refused_and_leaves_nothing,
    failure_midway_rolls_back_the_whole_visit,
    same_scenario_twice_in_a_run_is_refused,
    repetitions_of_a_scenario_are_visits_of_their_own,
    parallel_visits_all_succeed,
    parallel_visits_with_findings_number_them_once,
    two_stores_on_one_file_can_write_concurrently,
    stale_running_runs_are_marked_incomplete,
    dead_runs_are_marked_incomplete_live_ones_are_not,
    purge_keeps_findings_and_history,
    drift_over_stored_runs,
    acknowledgements_are_kept_per_run_and_re_rendered,
    import_runs_matches_the_per_call_writes,
    large_visit_round_trips,
    a_run_acknowledgement_snapshot_cannot_say_pending,
);

fn t0() -> DateTime<Utc> {
    // Sub-microsecond part on purpose: timestamps must round-trip exactly.
    Utc.with_ymd_and_hms(2025, 3, 14, 9, 26, 53).unwrap() + Duration::nanoseconds(589_793_238)
}

fn at(ms: i64) -> DateTime<Utc> {
    t0() + Duration::milliseconds(ms)
}

/// A value's hash as a capture with an unkeyed hasher records it (the store keeps the
/// hashes it is given).
fn hash_value(value: &str) -> String {
    ValueHasher::unkeyed().hash(value)
}

/// A realistic `reject_all`-style observation exercising every field and variant.
fn observation(scenario: &str) -> VisitObservation {
    let before = ConsentState::initial();
    let rejected = before.after(ConsentAction::RejectAll);
    let objected = rejected.after(ConsentAction::ObjectLi);
    let page = "https://shop.example/".to_string();
    VisitObservation {
        scenario: scenario.to_string(),
        started_at: at(0),
        finished_at: at(9_000),
        status: VisitStatus::Incomplete(Failure::new(
            FailureKind::ElementNotFound,
            "step 3 failed: selector not found",
        )),
        steps: vec![
            StepOutcome {
                index: 0,
                description: "open https://shop.example/ (scenarios/demo.toml:12)".into(),
                status: StepStatus::Done,
                started_at: at(10),
                duration_ms: 800,
            },
            StepOutcome {
                index: 1,
                description: "click \"#cb-reject\" (scenarios/demo.toml:40)".into(),
                status: StepStatus::Done,
                started_at: at(900),
                duration_ms: 120,
            },
            StepOutcome {
                index: 2,
                description: "click \"#li-object\" (scenarios/demo.toml:44)".into(),
                status: StepStatus::Failed(Failure::new(
                    FailureKind::ElementNotFound,
                    "no element matches \"#li-object\"",
                )),
                started_at: at(1_100),
                duration_ms: 5_000,
            },
            StepOutcome {
                index: 3,
                description: "visit https://shop.example/cart".into(),
                status: StepStatus::Skipped,
                started_at: at(6_100),
                duration_ms: 0,
            },
        ],
        requests: vec![
            RequestObs {
                url: "https://shop.example/".into(),
                method: "GET".into(),
                resource_type: "Document".into(),
                initiator: None,
                frame_id: Some("F1".into()),
                target: TargetKind::Page,
                status: Some(200),
                error: None,
                cancelled: false,
                frames: None,
                cause: None,
                time: at(20),
                page: page.clone(),
                state: before.clone(),
                http: Some(Box::new(consentry::model::http::HttpExchange {
                    request_headers: vec![
                        ("Accept".into(), "text/html".into()),
                        ("Cookie".into(), "sid=[hash 0123456789abcdef]".into()),
                    ],
                    request_dropped: 2,
                    request_wire: true,
                    response_headers: vec![("Content-Type".into(), "text/html".into())],
                    response_dropped: 0,
                    response_wire: false,
                    status_text: Some("OK".into()),
                    mime_type: Some("text/html".into()),
                    protocol: Some("http/1.1".into()),
                    timing: Some(consentry::model::http::HttpTiming {
                        blocked: 0.5,
                        dns: -1.0,
                        connect: -1.0,
                        ssl: -1.0,
                        send: 0.125,
                        wait: 12.25,
                        receive: 3.0,
                    }),
                })),
            },
            RequestObs {
                url: "https://Tracker.Example.NET/px?id=1&u=x".into(),
                method: "POST".into(),
                resource_type: "Ping".into(),
                initiator: Some("https://cdn.tracker.example.net/t.js".into()),
                frame_id: None,
                target: TargetKind::ServiceWorker,
                status: None,
                error: Some("net::ERR_CONNECTION_REFUSED".into()),
                cancelled: false,
                frames: None,
                cause: None,
                time: at(1_000),
                page: page.clone(),
                state: rejected.clone(),
                http: None,
            },
            RequestObs {
                url: "data:image/png;base64,AAAA".into(),
                method: "GET".into(),
                resource_type: "Image".into(),
                initiator: Some("parser".into()),
                frame_id: Some("F2".into()),
                target: TargetKind::Browser,
                status: Some(0),
                error: None,
                cancelled: false,
                frames: None,
                cause: None,
                time: at(1_050),
                page: page.clone(),
                state: objected.clone(),
                http: None,
            },
        ],
        cookie_writes: vec![
            CookieWrite {
                name: "sid".into(),
                domain: "shop.example".into(),
                path: Some("/".into()),
                value_hash: hash_value("session-123"),
                requested_lifetime_secs: None,
                expiry_unparsed: None,
                source: CookieSource::Header {
                    request_url: "https://shop.example/".into(),
                },
                blocked_reasons: vec![],
                time: at(25),
                page: page.clone(),
                state: before.clone(),
            },
            CookieWrite {
                name: "_ga".into(),
                domain: ".shop.example".into(),
                path: None,
                value_hash: hash_value("GA1.1.123"),
                requested_lifetime_secs: Some(63_072_000),
                expiry_unparsed: None,
                source: CookieSource::Script {
                    document_url: "https://shop.example/".into(),
                },
                blocked_reasons: vec!["SameSiteNoneInsecure".into(), "ThirdPartyPhaseout".into()],
                time: at(1_010),
                page: page.clone(),
                state: rejected.clone(),
            },
            CookieWrite {
                name: "old".into(),
                domain: "shop.example".into(),
                path: Some("/".into()),
                value_hash: hash_value(""),
                requested_lifetime_secs: Some(-1),
                expiry_unparsed: None,
                source: CookieSource::Header {
                    request_url: "https://shop.example/logout".into(),
                },
                blocked_reasons: vec![],
                time: at(1_020),
                page: page.clone(),
                state: rejected.clone(),
            },
        ],
        cookies: vec![
            StoredCookie {
                name: "sid".into(),
                domain: "shop.example".into(),
                path: "/".into(),
                value_hash: hash_value("session-123"),
                expires: None,
                secure: true,
                http_only: true,
                same_site: Some("Lax".into()),
                partition_key: None,
                observed_at: at(8_900),
                state: rejected.clone(),
            },
            StoredCookie {
                name: "_ga".into(),
                domain: ".shop.example".into(),
                path: "/".into(),
                value_hash: hash_value("GA1.1.123"),
                expires: Some(at(34_560_000_000)),
                secure: false,
                http_only: false,
                same_site: None,
                partition_key: Some("https://shop.example".into()),
                observed_at: at(8_900),
                state: rejected.clone(),
            },
        ],
        storage_writes: vec![
            StorageWrite {
                area: consentry::model::StorageArea::Local,
                origin: "https://shop.example".into(),
                key: "consent".into(),
                value_hash: hash_value("{\"ads\":false}"),
                time: at(950),
                page: page.clone(),
                state: rejected.clone(),
            },
            StorageWrite {
                area: consentry::model::StorageArea::Session,
                origin: "https://shop.example".into(),
                key: "cart".into(),
                value_hash: hash_value("[]"),
                time: at(30),
                page,
                state: before,
            },
        ],
        page_errors: vec![],
        signals: Vec::new(),
        cmp: Vec::new(),
        screenshots: ["before", "after"]
            .into_iter()
            .enumerate()
            .map(|(i, when)| consentry::screenshots::Screenshot {
                step: 1,
                action: ConsentAction::RejectAll,
                when: consentry::screenshots::ShotWhen::parse(when).expect("when"),
                time: at(2_000 + i as i64 * 900),
                page: "https://shop.example/".into(),
                width: 1280,
                height: 900,
                bytes: 40_000 + i as u64,
                capture_ms: 80 + i as u64,
                action_failed: false,
                path: Some(format!(
                    "/r/shop/run-1/01-{scenario}-step2-reject_all-{when}.png"
                )),
                png: Vec::new(),
            })
            .collect(),
        final_state: rejected,
        warnings: vec![
            "network did not settle within 2s".into(),
            "capture restarted once".into(),
        ],
        timings: VisitTimings {
            session_start_ms: 310,
            load_ms: 820,
            settle_ms: 2_000,
            capture_ms: 45,
            close_ms: 12,
            screenshot_ms: 380,
            steps_ms: 230,
            settles: vec![consentry::model::Settle {
                why: "after loading https://shop.test/".into(),
                ms: 140,
                ended: consentry::model::SettleEnd::Idle,
            }],
        },
        login: Some(consentry::model::LoginObs {
            steps: vec![
                StepOutcome {
                    index: 0,
                    description: "navigate https://shop.example/login (scenarios/demo.toml:30:5)"
                        .into(),
                    status: StepStatus::Done,
                    started_at: at(100),
                    duration_ms: 310,
                },
                StepOutcome {
                    index: 1,
                    description: "wait for \"#account\" (scenarios/demo.toml:28:1)".into(),
                    status: StepStatus::Done,
                    started_at: at(420),
                    duration_ms: 12,
                },
            ],
            completed_at: Some(at(433)),
        }),
    }
}

fn simple_observation(scenario: &str, requests: usize) -> VisitObservation {
    let mut obs = observation(scenario);
    obs.login = None;
    obs.status = VisitStatus::Complete;
    let template = obs.requests[0].clone();
    obs.requests = (0..requests)
        .map(|i| RequestObs {
            url: format!("https://shop.example/{scenario}/{i}"),
            time: at(i as i64),
            ..template.clone()
        })
        .collect();
    obs
}

fn finding(code: Code, scenario: Option<&str>, subject: &str, evidence: usize) -> Finding {
    Finding {
        code,
        severity: code.severity(),
        site: "shop".into(),
        scenario: scenario.map(str::to_string),
        subject: subject.into(),
        vendor: Some("tracker".into()),
        message: format!("{subject}: {}", code.summary()),
        rule: "vendor tracker: purpose advertising (consent)".into(),
        evidence: (0..evidence)
            .map(|i| Evidence {
                scenario: scenario.unwrap_or("accept_all").into(),
                page: "https://shop.example/".into(),
                request_url: (i % 2 == 0).then(|| format!("https://tracker.example.net/{i}")),
                cookie: (i % 2 == 1).then(|| format!("c{i}@shop.example")),
                // Out of time order on purpose: the stored order is the given order.
                time: at(1_000 - i as i64 * 100),
                phase: "after-reject_all".into(),
                detail: (i == 0).then(|| "requested lifetime 730d".to_string()),
                logged_in: false,
                known: None,
            })
            .collect(),
        occurrences: evidence as u32 + 7,
        repeat: None,
        fingerprint: fingerprint(code, "shop", scenario, subject),
    }
}

async fn observation_round_trips(db: TestDb) {
    let store = db.open().await;
    let run = store
        .writer()
        .begin_run("shop", "scenarios/shop.toml", at(-5))
        .await
        .unwrap();
    let obs = observation("reject_all");
    let other = simple_observation("accept_all", 3);
    store.writer().record_visit(run, &obs).await.unwrap();
    store.writer().record_visit(run, &other).await.unwrap();

    assert_eq!(
        store
            .history()
            .observation(run, "reject_all")
            .await
            .unwrap(),
        Some(obs.clone())
    );
    assert_eq!(
        store
            .history()
            .observation(run, "accept_all")
            .await
            .unwrap(),
        Some(other.clone())
    );
    assert_eq!(
        store.history().observation(run, "nope").await.unwrap(),
        None
    );

    let only = Some("reject_all");
    assert_eq!(
        store.history().requests(run, only).await.unwrap(),
        obs.requests
    );
    assert_eq!(
        store.history().cookies(run, only).await.unwrap(),
        obs.cookies
    );
    assert_eq!(
        store.history().cookie_writes(run, only).await.unwrap(),
        obs.cookie_writes
    );
    assert_eq!(
        store.history().storage_writes(run, only).await.unwrap(),
        obs.storage_writes
    );
    assert_eq!(
        store.history().steps(run, "reject_all").await.unwrap(),
        obs.steps
    );
    assert_eq!(
        store.history().screenshots(run, only).await.unwrap(),
        obs.screenshots
    );
    assert_eq!(obs.screenshots.len(), 2, "the observation has screenshots");

    // All scenarios: visit order, then observation order.
    let all = store.history().requests(run, None).await.unwrap();
    let expected: Vec<_> = obs
        .requests
        .iter()
        .chain(&other.requests)
        .cloned()
        .collect();
    assert_eq!(all, expected);

    let visits = store.history().visits(run).await.unwrap();
    assert_eq!(visits.len(), 2);
    let v = &visits[0];
    assert_eq!(v.run_id, run);
    assert_eq!(v.scenario, "reject_all");
    assert_eq!(v.status, obs.status);
    assert_eq!(v.started_at, obs.started_at);
    assert_eq!(v.finished_at, obs.finished_at);
    assert_eq!(v.final_state, obs.final_state);
    assert_eq!(v.timings, obs.timings);
    assert_eq!(v.warnings, obs.warnings);
    assert_eq!(
        v.counts,
        VisitCounts {
            steps: 4,
            requests: 3,
            cookie_writes: 3,
            cookies: 2,
            storage_writes: 2,
            page_errors: 0
        }
    );
    assert_eq!(visits[1].scenario, "accept_all");
    assert_eq!(visits[1].status, VisitStatus::Complete);

    // Another run's data is not mixed in.
    let run2 = store
        .writer()
        .begin_run("shop", "s.toml", at(10))
        .await
        .unwrap();
    assert!(store
        .history()
        .requests(run2, None)
        .await
        .unwrap()
        .is_empty());
    assert!(store.history().visits(run2).await.unwrap().is_empty());
}

async fn empty_observation_round_trips(db: TestDb) {
    let store = db.open().await;
    let run = store
        .writer()
        .begin_run("shop", "s.toml", at(0))
        .await
        .unwrap();
    let obs = VisitObservation {
        scenario: "no_action".into(),
        started_at: at(0),
        finished_at: at(1),
        status: VisitStatus::Incomplete(Failure::new(FailureKind::Other, "")),
        steps: vec![],
        requests: vec![],
        cookie_writes: vec![],
        cookies: vec![],
        storage_writes: vec![],
        page_errors: vec![],
        signals: Vec::new(),
        cmp: Vec::new(),
        screenshots: Vec::new(),
        final_state: ConsentState::initial(),
        warnings: vec![],
        timings: VisitTimings::default(),
        login: None,
    };
    store.writer().record_visit(run, &obs).await.unwrap();
    assert_eq!(
        store.history().observation(run, "no_action").await.unwrap(),
        Some(obs)
    );
}

async fn findings_round_trip_in_order(db: TestDb) {
    let store = db.open().await;
    let run = store
        .writer()
        .begin_run("shop", "s.toml", at(0))
        .await
        .unwrap();
    let first = vec![
        finding(
            Code::ConsentVendorAfterReject,
            Some("reject_all"),
            "tracker",
            5,
        ),
        finding(Code::DeclaredVendorUnobserved, None, "analytics", 0),
    ];
    let second = vec![finding(
        Code::UndeclaredCookie,
        Some("accept_all"),
        "_ga",
        2,
    )];
    store.writer().record_findings(run, &first).await.unwrap();
    store.writer().record_findings(run, &[]).await.unwrap();
    store.writer().record_findings(run, &second).await.unwrap();

    let got = store.history().findings(run).await.unwrap();
    let expected: Vec<_> = first.iter().chain(&second).cloned().collect();
    assert_eq!(got, expected);
    assert_eq!(got[0].severity, Severity::Critical);
    assert_eq!(got[0].evidence.len(), 5);

    let other = store
        .writer()
        .begin_run("shop", "s.toml", at(1))
        .await
        .unwrap();
    assert!(store.history().findings(other).await.unwrap().is_empty());

    match store.writer().record_findings(4242, &second).await {
        Err(StoreError::UnknownRun { run: 4242, .. }) => {}
        other => panic!("expected UnknownRun, got {other:?}"),
    }
}

async fn runs_are_listed_newest_first(db: TestDb) {
    let store = db.open().await;
    // Inserted out of time order: listing follows started_at, not id.
    let b = store
        .writer()
        .begin_run("shop", "s.toml", at(2_000))
        .await
        .unwrap();
    let a = store
        .writer()
        .begin_run("shop", "s.toml", at(1_000))
        .await
        .unwrap();
    let other = store
        .writer()
        .begin_run("blog", "b.toml", at(1_500))
        .await
        .unwrap();
    let c = store
        .writer()
        .begin_run("shop", "s.toml", at(3_000))
        .await
        .unwrap();

    let ids =
        |runs: Vec<consentry::store::RunRecord>| runs.iter().map(|r| r.id).collect::<Vec<_>>();
    assert_eq!(
        ids(store.history().runs(None, 10).await.unwrap()),
        vec![c, b, other, a]
    );
    assert_eq!(
        ids(store.history().runs(Some("shop"), 10).await.unwrap()),
        vec![c, b, a]
    );
    assert_eq!(
        ids(store.history().runs(Some("shop"), 2).await.unwrap()),
        vec![c, b]
    );
    assert_eq!(
        ids(store.history().runs(Some("blog"), 0).await.unwrap()),
        Vec::<RunId>::new()
    );
    assert!(store
        .history()
        .runs(Some("none"), 10)
        .await
        .unwrap()
        .is_empty());

    let r = store.history().run(a).await.unwrap().unwrap();
    assert_eq!(r.site, "shop");
    assert_eq!(r.scenario_file, "s.toml");
    assert_eq!(r.started_at, at(1_000));
    assert_eq!(r.finished_at, None);
    assert_eq!(r.status, RunStatus::Running);
    assert_eq!(store.history().run(9_999).await.unwrap(), None);
}

async fn finish_run_round_trips_every_status(db: TestDb) {
    let store = db.open().await;
    for (i, status) in [
        RunStatus::Running,
        RunStatus::Complete,
        RunStatus::Incomplete("scenario reject_all not observed".into()),
        RunStatus::Interrupted("interrupted by Ctrl-C".into()),
        RunStatus::Incomplete(String::new()),
    ]
    .into_iter()
    .enumerate()
    {
        let run = store
            .writer()
            .begin_run("shop", "s.toml", at(0))
            .await
            .unwrap();
        let end = at(60_000 + i as i64);
        store.writer().finish_run(run, &status, end).await.unwrap();
        let r = store.history().run(run).await.unwrap().unwrap();
        assert_eq!(r.status, status);
        assert_eq!(r.finished_at, Some(end));
    }
    match store
        .writer()
        .finish_run(777, &RunStatus::Complete, at(0))
        .await
    {
        Err(e @ StoreError::UnknownRun { .. }) => {
            assert!(e.to_string().contains("run 777"), "{e}");
            assert!(e.to_string().contains(&db.location.to_string()), "{e}");
        }
        other => panic!("expected UnknownRun, got {other:?}"),
    }
}

async fn recorded_visit_survives_reopen(db: TestDb) {
    let obs = observation("reject_all");
    let run = {
        let store = Store::open(&db.location).await.unwrap();
        let run = store
            .writer()
            .begin_run("shop", "s.toml", at(0))
            .await
            .unwrap();
        store.writer().record_visit(run, &obs).await.unwrap();
        // No finish_run, no close: as if the process died here.
        run
    };
    let store = Store::open(&db.location).await.unwrap();
    assert_eq!(
        store
            .history()
            .observation(run, "reject_all")
            .await
            .unwrap(),
        Some(obs)
    );
    let r = store.history().run(run).await.unwrap().unwrap();
    assert_eq!(r.status, RunStatus::Running);
    assert_eq!(r.finished_at, None);
}

async fn visit_for_unknown_run_is_refused_and_leaves_nothing(db: TestDb) {
    let store = db.open().await;
    match store
        .writer()
        .record_visit(31_337, &observation("reject_all"))
        .await
    {
        Err(StoreError::UnknownRun { run: 31_337, .. }) => {}
        other => panic!("expected UnknownRun, got {other:?}"),
    }
    store.close().await;
    for table in [
        "visits",
        "steps",
        "requests",
        "cookie_writes",
        "cookies",
        "storage_writes",
    ] {
        assert_eq!(db.count(table).await, 0, "{table}");
    }
}

async fn failure_midway_rolls_back_the_whole_visit(db: TestDb) {
    let store = db.open().await;
    let run = store
        .writer()
        .begin_run("shop", "s.toml", at(0))
        .await
        .unwrap();

    // Steps are inserted last; a repeated step index violates UNIQUE (visit_id, step_index)
    // after the visit, requests, cookies and storage writes rows are already written.
    let mut bad = observation("reject_all");
    bad.steps[3].index = 1;
    let err = store.writer().record_visit(run, &bad).await.unwrap_err();
    assert!(matches!(err, StoreError::Query { .. }), "{err:?}");
    assert!(err.to_string().contains(&db.location.to_string()), "{err}");

    assert!(store.history().visits(run).await.unwrap().is_empty());
    assert!(store
        .history()
        .requests(run, None)
        .await
        .unwrap()
        .is_empty());
    for table in [
        "visits",
        "steps",
        "requests",
        "cookie_writes",
        "cookies",
        "storage_writes",
    ] {
        assert_eq!(db.count(table).await, 0, "{table}");
    }

    // The same scenario can then be recorded properly (no half-visit blocks it).
    let good = observation("reject_all");
    store.writer().record_visit(run, &good).await.unwrap();
    assert_eq!(
        store
            .history()
            .observation(run, "reject_all")
            .await
            .unwrap(),
        Some(good)
    );

    // A value that cannot be stored also aborts the whole visit.
    let mut huge = observation("huge");
    huge.timings.close_ms = u64::MAX;
    match store.writer().record_visit(run, &huge).await {
        Err(StoreError::Invalid { detail, .. }) => {
            assert!(detail.contains("close time"), "{detail}")
        }
        other => panic!("expected Invalid, got {other:?}"),
    }
    let mut huge = observation("huge");
    huge.steps[2].duration_ms = u64::MAX;
    assert!(store.writer().record_visit(run, &huge).await.is_err());
    assert_eq!(store.history().visits(run).await.unwrap().len(), 1);
    assert_eq!(db.count("requests").await, 3);
}

async fn same_scenario_twice_in_a_run_is_refused(db: TestDb) {
    let store = db.open().await;
    let run = store
        .writer()
        .begin_run("shop", "s.toml", at(0))
        .await
        .unwrap();
    store
        .writer()
        .record_visit(run, &simple_observation("accept_all", 1))
        .await
        .unwrap();
    match store
        .writer()
        .record_visit(run, &simple_observation("accept_all", 2))
        .await
    {
        Err(StoreError::DuplicateVisit {
            run: r, scenario, ..
        }) => {
            assert_eq!((r, scenario.as_str()), (run, "accept_all"));
        }
        other => panic!("expected DuplicateVisit, got {other:?}"),
    }
    assert_eq!(store.history().requests(run, None).await.unwrap().len(), 1);
}

/// `audit --repeat N` (schema 18): a scenario's repetitions are visits of their own,
/// each with its findings; the same repetition twice is refused; the findings read back
/// with the repetition of their visit (run-level ones with none).
async fn repetitions_of_a_scenario_are_visits_of_their_own(db: TestDb) {
    let store = db.open().await;
    let run = store
        .writer()
        .begin_run("shop", "s.toml", at(0))
        .await
        .unwrap();
    let steady = finding(
        Code::UndeclaredThirdParty,
        Some("accept_all"),
        "steady.test",
        1,
    );
    let flaky = finding(
        Code::UndeclaredThirdParty,
        Some("accept_all"),
        "flaky.test",
        1,
    );
    let per_rep: [Vec<Finding>; 3] = [
        vec![steady.clone(), flaky.clone()],
        vec![steady.clone()],
        vec![steady.clone(), flaky.clone()],
    ];
    for (i, findings) in per_rep.iter().enumerate() {
        let obs = simple_observation("accept_all", i + 1);
        store
            .writer()
            .record_judged_visit(
                run,
                &consentry::store::JudgedVisit {
                    position: Some(0),
                    repetition: i as u32 + 1,
                    obs: &obs,
                    third_party_requests: Some(1),
                    findings,
                    inventory: None,
                },
            )
            .await
            .unwrap();
    }
    let again = simple_observation("accept_all", 9);
    match store
        .writer()
        .record_judged_visit(
            run,
            &consentry::store::JudgedVisit {
                position: Some(0),
                repetition: 2,
                obs: &again,
                third_party_requests: None,
                findings: &[],
                inventory: None,
            },
        )
        .await
    {
        Err(StoreError::DuplicateVisit { scenario, .. }) => assert_eq!(scenario, "accept_all"),
        other => panic!("expected DuplicateVisit, got {other:?}"),
    }
    let run_level = finding(Code::DeclaredVendorUnobserved, None, "meta", 1);
    store
        .writer()
        .record_findings(run, std::slice::from_ref(&run_level))
        .await
        .unwrap();
    let mut reps: Vec<u32> = store
        .history()
        .visits(run)
        .await
        .unwrap()
        .iter()
        .map(|v| v.repetition)
        .collect();
    reps.sort();
    assert_eq!(reps, vec![1, 2, 3]);
    // Each visit's own requests: nothing of the refused one.
    assert_eq!(store.history().requests(run, None).await.unwrap().len(), 6);
    let read: Vec<(Option<u32>, String)> = store
        .history()
        .findings_by_repetition(run)
        .await
        .unwrap()
        .into_iter()
        .map(|(r, f)| (r, f.subject))
        .collect();
    assert_eq!(
        read,
        vec![
            (Some(1), "steady.test".to_string()),
            (Some(1), "flaky.test".to_string()),
            (Some(2), "steady.test".to_string()),
            (Some(3), "steady.test".to_string()),
            (Some(3), "flaky.test".to_string()),
            (None, "meta".to_string()),
        ]
    );
    // Drift sees each visit's repetition and each finding's.
    let history = store
        .history()
        .site_history("shop", at(0) - Duration::days(1), at(0) + Duration::days(1))
        .await
        .unwrap();
    let h = &history[0];
    let mut seen: Vec<u32> = h.visits.iter().map(|v| v.repetition).collect();
    seen.sort();
    assert_eq!(seen, vec![1, 2, 3]);
    assert_eq!(
        h.findings
            .iter()
            .filter(|f| f.subject == "flaky.test")
            .map(|f| f.repetition)
            .collect::<Vec<_>>(),
        vec![Some(1), Some(3)]
    );
}

async fn parallel_visits_all_succeed(db: TestDb) {
    let store = db.open().await;
    let run = store
        .writer()
        .begin_run("shop", "s.toml", at(0))
        .await
        .unwrap();
    let tasks: Vec<_> = (0..12)
        .map(|i| {
            let store = store.clone();
            tokio::spawn(async move {
                let obs = simple_observation(&format!("scenario_{i}"), 150);
                store.writer().record_visit(run, &obs).await
            })
        })
        .collect();
    // Reads while writing.
    let reader = {
        let store = store.clone();
        tokio::spawn(async move {
            for _ in 0..20 {
                store.history().visits(run).await?;
                store.history().requests(run, None).await?;
            }
            Ok::<_, StoreError>(())
        })
    };
    for t in tasks {
        t.await.unwrap().unwrap();
    }
    reader.await.unwrap().unwrap();
    let visits = store.history().visits(run).await.unwrap();
    assert_eq!(visits.len(), 12);
    assert!(visits.iter().all(|v| v.counts.requests == 150));
    assert_eq!(
        store.history().requests(run, None).await.unwrap().len(),
        12 * 150
    );
}

async fn two_stores_on_one_file_can_write_concurrently(db: TestDb) {
    // As two processes would: separate pools, the database arbitrates.
    let a = db.open().await;
    let b = db.open().await;
    let run = a.writer().begin_run("shop", "s.toml", at(0)).await.unwrap();
    let tasks: Vec<_> = (0..8)
        .map(|i| {
            let store = if i % 2 == 0 { a.clone() } else { b.clone() };
            tokio::spawn(async move {
                store
                    .writer()
                    .record_visit(run, &simple_observation(&format!("s{i}"), 100))
                    .await
            })
        })
        .collect();
    for t in tasks {
        t.await.unwrap().unwrap();
    }
    assert_eq!(b.history().visits(run).await.unwrap().len(), 8);
}

#[tokio::test]
async fn open_creates_missing_parent_directories() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("a/b/c/audit.db");
    let store = Store::open(&path).await.unwrap();
    assert!(path.is_file());
    assert_eq!(store.path(), path);
    store
        .writer()
        .begin_run("shop", "s.toml", at(0))
        .await
        .unwrap();
}

#[tokio::test]
async fn opening_a_directory_names_it() {
    let dir = tempfile::tempdir().unwrap();
    let err = Store::open(dir.path()).await.unwrap_err();
    assert!(matches!(err, StoreError::IsDirectory { .. }), "{err:?}");
    let msg = err.to_string();
    assert!(msg.contains(&dir.path().display().to_string()), "{msg}");
    assert!(msg.contains("directory"), "{msg}");
}

#[tokio::test]
async fn opening_a_non_database_names_it() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("notes.txt");
    std::fs::write(
        &path,
        "this is not a database, just some text long enough ".repeat(100),
    )
    .unwrap();
    let err = Store::open(&path).await.unwrap_err();
    let msg = err.to_string();
    assert!(
        msg.starts_with(&format!("cannot open database {}", path.display())),
        "{msg}"
    );
}

#[tokio::test]
async fn newer_schema_is_refused_clearly() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("consentry.db");
    Store::open(&path).await.unwrap().close().await;
    {
        use sqlx::sqlite::SqliteConnectOptions;
        use sqlx::{ConnectOptions, Connection};
        let mut conn = SqliteConnectOptions::new()
            .filename(&path)
            .connect()
            .await
            .unwrap();
        sqlx::query(
            "INSERT INTO _sqlx_migrations (version, description, success, checksum, execution_time) \
             VALUES (999999, 'from the future', TRUE, X'00', 0)",
        )
        .execute(&mut conn)
        .await
        .unwrap();
        conn.close().await.unwrap();
    }
    let err = Store::open(&path).await.unwrap_err();
    assert!(
        matches!(
            err,
            StoreError::NewerSchema {
                version: 999999,
                ..
            }
        ),
        "{err:?}"
    );
    assert!(err.to_string().contains("newer consentry"), "{err}");
}

async fn stale_running_runs_are_marked_incomplete(db: TestDb) {
    let store = db.open().await;
    let dead = store
        .writer()
        .begin_run("shop", "s.toml", at(0))
        .await
        .unwrap();
    let finished = store
        .writer()
        .begin_run("shop", "s.toml", at(1))
        .await
        .unwrap();
    store
        .writer()
        .finish_run(finished, &RunStatus::Complete, at(2))
        .await
        .unwrap();
    let live = store
        .writer()
        .begin_run("shop", "s.toml", at(10_000))
        .await
        .unwrap();

    assert_eq!(
        store
            .admin()
            .mark_stale_runs_incomplete(at(5_000))
            .await
            .unwrap(),
        1
    );
    let r = store.history().run(dead).await.unwrap().unwrap();
    assert!(matches!(r.status, RunStatus::Incomplete(ref why) if why.contains("never finished")));
    assert_eq!(r.finished_at, None);
    assert_eq!(
        store.history().run(finished).await.unwrap().unwrap().status,
        RunStatus::Complete
    );
    assert_eq!(
        store.history().run(live).await.unwrap().unwrap().status,
        RunStatus::Running
    );
    assert_eq!(
        store
            .admin()
            .mark_stale_runs_incomplete(at(5_000))
            .await
            .unwrap(),
        0
    );
}

#[tokio::test]
async fn cookie_values_are_not_stored() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("consentry.db");
    let store = Store::open(&path).await.unwrap();
    let run = store
        .writer()
        .begin_run("shop", "s.toml", at(0))
        .await
        .unwrap();
    store
        .writer()
        .record_visit(run, &observation("reject_all"))
        .await
        .unwrap();
    store.close().await;
    let bytes = std::fs::read(&path).unwrap();
    let hay = String::from_utf8_lossy(&bytes);
    assert!(hay.contains(&hash_value("session-123")));
    assert!(!hay.contains("session-123"));
    assert!(!hay.contains("GA1.1.123"));
}

#[tokio::test]
async fn database_is_in_wal_mode() {
    use sqlx::sqlite::SqliteConnectOptions;
    use sqlx::{ConnectOptions, Connection};
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("consentry.db");
    Store::open(&path).await.unwrap().close().await;
    // journal_mode=WAL is persistent in the file.
    let mut conn = SqliteConnectOptions::new()
        .filename(&path)
        .connect()
        .await
        .unwrap();
    let mode: String = sqlx::query_scalar("PRAGMA journal_mode")
        .fetch_one(&mut conn)
        .await
        .unwrap();
    assert_eq!(mode, "wal");
    conn.close().await.unwrap();
}

#[tokio::test]
async fn uncreatable_parent_directory_names_both_paths() {
    let dir = tempfile::tempdir().unwrap();
    let blocker = dir.path().join("file");
    std::fs::write(&blocker, "x").unwrap();
    let path = blocker.join("sub/x.db");
    let err = Store::open(&path).await.unwrap_err();
    assert!(matches!(err, StoreError::CreateDir { .. }), "{err:?}");
    let msg = err.to_string();
    assert!(msg.contains(&path.display().to_string()), "{msg}");
    assert!(
        msg.contains(&blocker.join("sub").display().to_string()),
        "{msg}"
    );
}

/// Two processes (here: two stores) opening the same new file at once both end up with a
/// migrated database; neither fails on the other's half-applied migration.
#[tokio::test]
async fn concurrent_first_opens_of_a_new_file_both_succeed() {
    for _ in 0..5 {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("race.db");
        let (a, b) = tokio::join!(
            consentry::store::Store::open(&path),
            consentry::store::Store::open(&path)
        );
        let (a, b) = (a.unwrap(), b.unwrap());
        let run = a
            .writer()
            .begin_run("site", "file.toml", chrono::Utc::now())
            .await
            .unwrap();
        assert!(b.history().run(run).await.unwrap().is_some());
    }
}

/// After `close`, the `.db` file alone (copied without its `-wal`) holds everything, and
/// passes SQLite's integrity check.
#[tokio::test]
async fn closed_database_file_is_complete_on_its_own() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("a.db");
    let store = Store::open(&db).await.unwrap();
    let run = store
        .writer()
        .begin_run("shop", "s.toml", at(0))
        .await
        .unwrap();
    store
        .writer()
        .record_visit(run, &observation("no_action"))
        .await
        .unwrap();
    store.close().await;
    let copy = dir.path().join("copy.db");
    std::fs::copy(&db, &copy).unwrap();
    assert_eq!(
        consentry::store::integrity_check(&copy).await.unwrap(),
        "ok"
    );
    let reopened = Store::open(&copy).await.unwrap();
    let runs = reopened.history().runs(None, 10).await.unwrap();
    assert_eq!(runs.len(), 1);
    assert_eq!(reopened.history().visits(run).await.unwrap().len(), 1);
}

/// A run left `running` by a process that no longer exists is marked incomplete by the
/// next audit; a live one is left alone.
async fn dead_runs_are_marked_incomplete_live_ones_are_not(db: TestDb) {
    let store = db.open().await;
    let run = store
        .writer()
        .begin_run("shop", "s.toml", at(0))
        .await
        .unwrap();
    // Our own process is alive: nothing marked.
    assert!(store
        .admin()
        .mark_dead_runs_incomplete(|_| false)
        .await
        .unwrap()
        .is_empty());
    // Pretend another (dead) process started it.
    let other = consentry::store::testing::set_run_pid(&store, run, 999_999).await;
    assert!(other.is_ok());
    assert!(store
        .admin()
        .mark_dead_runs_incomplete(|_| true)
        .await
        .unwrap()
        .is_empty());
    assert_eq!(
        store
            .admin()
            .mark_dead_runs_incomplete(|_| false)
            .await
            .unwrap(),
        vec![run]
    );
    let r = store.history().run(run).await.unwrap().unwrap();
    assert_eq!(r.status.as_str(), "incomplete");
}

/// Each database has its own random value-hashing key, kept across opens; one process
/// writes values hashed with each database's own key into each database, and reads them
/// back as written.
#[tokio::test]
async fn each_database_has_its_own_stable_hash_key() {
    let dir = tempfile::tempdir().unwrap();
    let a = Store::open(&dir.path().join("a.db")).await.unwrap();
    let b = Store::open(&dir.path().join("b.db")).await.unwrap();
    let (ha, hb) = (a.hasher().await.unwrap(), b.hasher().await.unwrap());
    assert_ne!(ha, hb, "keys are per database");
    assert_ne!(ha.hash("session-123"), hb.hash("session-123"));
    for (store, hasher) in [(&a, &ha), (&b, &hb)] {
        let run = store
            .writer()
            .begin_run("shop", "s.toml", at(0))
            .await
            .unwrap();
        let mut obs = observation("reject_all");
        for c in &mut obs.cookies {
            c.value_hash = hasher.hash("session-123");
        }
        store.writer().record_visit(run, &obs).await.unwrap();
        let stored = store.history().cookies(run, None).await.unwrap();
        assert!(stored
            .iter()
            .all(|c| c.value_hash == hasher.hash("session-123")));
    }
    a.close().await;
    let again = Store::open(&dir.path().join("a.db")).await.unwrap();
    assert_eq!(again.hasher().await.unwrap(), ha, "the key is kept");
}

/// Purge deletes the raw observations of old runs and keeps runs, visits and findings.
async fn purge_keeps_findings_and_history(db: TestDb) {
    let store = db.open().await;
    let old = store
        .writer()
        .begin_run("shop", "s.toml", at(0))
        .await
        .unwrap();
    store
        .writer()
        .record_visit(old, &observation("no_action"))
        .await
        .unwrap();
    store
        .writer()
        .record_findings(
            old,
            &[finding(Code::UndeclaredCookie, Some("no_action"), "x", 1)],
        )
        .await
        .unwrap();
    let new = store
        .writer()
        .begin_run("shop", "s.toml", at(0) + chrono::Duration::days(100))
        .await
        .unwrap();
    store
        .writer()
        .record_visit(new, &observation("no_action"))
        .await
        .unwrap();
    let files = store
        .admin()
        .screenshot_files_before(at(0) + chrono::Duration::days(10))
        .await
        .unwrap();
    assert_eq!(
        files,
        [
            "/r/shop/run-1/01-no_action-step2-reject_all-before.png",
            "/r/shop/run-1/01-no_action-step2-reject_all-after.png"
        ],
        "only the old run's files"
    );
    let counts = store
        .admin()
        .purge_raw(at(0) + chrono::Duration::days(10))
        .await
        .unwrap();
    assert!(counts.contains(&("visit_screenshots", 2)), "{counts:?}");
    assert!(store
        .history()
        .screenshots(old, None)
        .await
        .unwrap()
        .is_empty());
    assert_eq!(
        store.history().screenshots(new, None).await.unwrap().len(),
        2
    );
    assert!(
        counts.iter().any(|(t, n)| *t == "requests" && *n > 0),
        "{counts:?}"
    );
    assert!(store
        .history()
        .requests(old, None)
        .await
        .unwrap()
        .is_empty());
    assert!(store.history().cookies(old, None).await.unwrap().is_empty());
    assert_eq!(
        store.history().visits(old).await.unwrap().len(),
        1,
        "visits kept"
    );
    assert_eq!(
        store.history().findings(old).await.unwrap().len(),
        1,
        "findings kept"
    );
    assert!(
        !store
            .history()
            .requests(new, None)
            .await
            .unwrap()
            .is_empty(),
        "newer runs untouched"
    );
}

/// Drift over stored runs, no browser: a finding new, persisting, unverified (its visit
/// not observed), resolved, regressed; `consentry drift` shows the same.
async fn drift_over_stored_runs(db: TestDb) {
    use consentry::store::JudgedVisit;
    let store = db.open().await;
    let meta = finding(
        Code::ConsentVendorBeforeChoice,
        Some("no_action"),
        "meta",
        1,
    );
    let tiktok = finding(
        Code::UndeclaredThirdParty,
        Some("no_action"),
        "tiktok.com",
        1,
    );
    // run: (present findings, visit observed?)
    let plan: [(&[&Finding], bool); 5] = [
        (&[&meta], true),
        (&[&meta], true),
        (&[], false),
        (&[], true),
        (&[&meta, &tiktok], true),
    ];
    for (day, (present, observed)) in plan.iter().enumerate() {
        let start = at(0) + Duration::days(day as i64);
        let run = store
            .writer()
            .begin_run("shop", "s.toml", start)
            .await
            .unwrap();
        let mut obs = observation("no_action");
        if *observed {
            obs.status = VisitStatus::Complete;
        }
        let findings: Vec<Finding> = present.iter().map(|f| (*f).clone()).collect();
        store
            .writer()
            .record_judged_visit(
                run,
                &JudgedVisit {
                    position: Some(0),
                    repetition: 1,
                    obs: &obs,
                    third_party_requests: Some(1),
                    findings: &findings,
                    inventory: None,
                },
            )
            .await
            .unwrap();
        let status = if *observed {
            RunStatus::Complete
        } else {
            RunStatus::Incomplete("not observed: no_action".into())
        };
        store
            .writer()
            .finish_run(run, &status, start)
            .await
            .unwrap();
    }
    let history = store
        .history()
        .site_history(
            "shop",
            at(0) - Duration::days(1),
            at(0) + Duration::days(10),
        )
        .await
        .unwrap();
    assert_eq!(history.len(), 5);
    let lifecycles = consentry::drift::lifecycles(&history);
    let of = |subject: &str| {
        lifecycles
            .iter()
            .find(|l| l.subject == subject)
            .map(|l| {
                l.timeline
                    .iter()
                    .map(|s| s.status.as_str())
                    .collect::<Vec<_>>()
            })
            .unwrap()
    };
    assert_eq!(
        of("meta"),
        vec!["new", "persisting", "unverified", "resolved", "regressed"]
    );
    assert_eq!(of("tiktok.com"), vec!["new"]);
    store.close().await;

    let out = std::process::Command::new(env!("CARGO_BIN_EXE_consentry"))
        .args([
            "drift",
            "--format",
            "json",
            "--output",
            "-",
            "--since",
            "2025-01-01",
            "--db",
        ])
        .arg(db.arg())
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["site"], "shop", "the only site is picked");
    assert_eq!(json["runs"].as_array().unwrap().len(), 5);
    let current: Vec<(&str, &str)> = json["lifecycles"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| {
            (
                l["subject"].as_str().unwrap(),
                l["current"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(current, vec![("tiktok.com", "new"), ("meta", "regressed")]);
    let table = std::process::Command::new(env!("CARGO_BIN_EXE_consentry"))
        .args(["drift", "--site", "shop", "--since", "2025-01-01", "--db"])
        .arg(db.arg())
        .output()
        .unwrap();
    let table = String::from_utf8_lossy(&table.stdout);
    assert!(table.contains("1 new, 1 regressed"), "{table}");
}

/// The acknowledgements as they stood in a run are kept with its end: the stored run
/// re-renders with the same statuses and the same verdict (an acknowledged finding at
/// or above --fail-on does not fail it; an expired one counts again), `run_acks` reads
/// several runs in one call, and `latest_finding` finds the newest run of a finding.
async fn acknowledgements_are_kept_per_run_and_re_rendered(db: TestDb) {
    use consentry::ack::{load::parse_acks, AckStatus};
    use consentry::outcome::FailOn;
    use consentry::store::JudgedVisit;
    let store = db.open().await;
    let meta = finding(
        Code::ConsentVendorBeforeChoice,
        Some("no_action"),
        "meta",
        1,
    );
    let tiktok = finding(
        Code::UndeclaredThirdParty,
        Some("no_action"),
        "tiktok.com",
        1,
    );
    let src = format!(
        "[[ack]]\nfingerprint = \"{}\"\nsite = \"shop\"\nreason = \"accepted in the Q3 LIA\"\nowner = \"dpo@example.com\"\nexpires = \"2025-06-30\"\n\n\
         [[ack]]\nfingerprint = \"{}\"\nreason = \"vendor being removed\"\nowner = \"web@example.com\"\nexpires = \"2025-03-01\"\n\n\
         [[ack]]\nfingerprint = \"v1-1111111111111111\"\nreason = \"r\"\nowner = \"o\"\nexpires = \"2030-01-01\"\n",
        meta.fingerprint, tiktok.fingerprint
    );
    let (acks, diags) = parse_acks(Path::new("scenarios/acks.toml"), &src);
    let acks = acks.unwrap_or_else(|| panic!("{diags}"));

    let mut runs = Vec::new();
    for (day, present) in [
        vec![meta.clone(), tiktok.clone()],
        vec![],
        vec![meta.clone()],
    ]
    .into_iter()
    .enumerate()
    {
        let start = at(0) + Duration::days(day as i64);
        let run = store
            .writer()
            .begin_run("shop", "s.toml", start)
            .await
            .unwrap();
        let mut obs = observation("no_action");
        obs.status = VisitStatus::Complete;
        store
            .writer()
            .record_judged_visit(
                run,
                &JudgedVisit {
                    position: Some(0),
                    repetition: 1,
                    obs: &obs,
                    third_party_requests: Some(1),
                    findings: &present,
                    inventory: None,
                },
            )
            .await
            .unwrap();
        let records = if day == 0 {
            acks.for_run("shop", start, &present)
        } else {
            Vec::new()
        };
        store
            .writer()
            .finish_run_with_acks(run, &RunStatus::Complete, start, &records)
            .await
            .unwrap();
        runs.push((run, records));
    }
    let (first, records) = &runs[0];
    let statuses: Vec<AckStatus> = records.iter().map(|r| r.status).collect();
    assert_eq!(
        statuses,
        [AckStatus::Active, AckStatus::Expired, AckStatus::Unused]
    );

    let ids: Vec<RunId> = runs.iter().map(|(id, _)| *id).chain([9_999]).collect();
    let stored = store.history().run_acks(&ids).await.unwrap();
    assert_eq!(stored.len(), 1, "only the first run had acknowledgements");
    assert_eq!(stored.get(first), Some(records), "exact round trip");

    let report = consentry::pipeline::stored_report(&store, *first, None)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(&report.acknowledgements, records);
    assert_eq!(
        report.exit_status(),
        consentry::exit::ExitStatus::Ok,
        "meta (high) is acknowledged, tiktok (medium) is below high"
    );
    assert_eq!(report.verdict.acknowledged, 1);
    let medium = consentry::pipeline::stored_report(&store, *first, FailOn::parse("medium").ok())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        medium.exit_status(),
        consentry::exit::ExitStatus::Findings,
        "tiktok's acknowledgement has expired: it counts again"
    );
    assert_eq!(
        (medium.verdict.failing, medium.verdict.acknowledged),
        (1, 1)
    );

    let (run, f) = store
        .history()
        .latest_finding(&meta.fingerprint)
        .await
        .unwrap()
        .unwrap();
    assert_eq!((run.id, f.subject.as_str()), (runs[2].0, "meta"));
    let (run, _) = store
        .history()
        .latest_finding(&tiktok.fingerprint)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(run.id, *first);
    assert!(store
        .history()
        .latest_finding("v1-1111111111111111")
        .await
        .unwrap()
        .is_none());
    store.close().await;

    // `consentry report RUN` renders the snapshot and exits with its verdict.
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_consentry"))
        .args([
            "report",
            &first.to_string(),
            "--format",
            "json",
            "--output",
            "-",
            "--db",
        ])
        .arg(db.arg())
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["summary"]["acknowledged"], 1);
    assert_eq!(json["findings"][0]["subject"], "meta");
    assert_eq!(json["findings"][0]["acknowledgement"]["status"], "active");
    assert_eq!(
        json["findings"][0]["acknowledgement"]["location"],
        "scenarios/acks.toml:1"
    );
    assert_eq!(json["findings"][1]["acknowledgement"]["status"], "expired");
    assert_eq!(
        json["acknowledgements"]["unused"][0]["fingerprint"],
        "v1-1111111111111111"
    );
    assert_eq!(
        db.count("run_acks").await,
        3,
        "one row per acknowledgement of the run"
    );
}

/// `import_runs` (the bulk path of examples/synth_history.rs) stores what the five
/// per-call writes store, and a failing run leaves nothing of its batch.
async fn import_runs_matches_the_per_call_writes(db: TestDb) {
    use consentry::inventory::{InventoryItem, ItemKind, VendorActivity, VisitInventory};
    use consentry::store::{JudgedVisit, RunImport, RunStart};
    let store = db.open().await;
    let obs = observation("reject_all");
    let fs = vec![finding(
        Code::ConsentVendorAfterReject,
        Some("reject_all"),
        "tracker",
        2,
    )];
    let site_level = vec![finding(Code::DeclaredVendorUnobserved, None, "tracker", 1)];
    let inventory = VisitInventory {
        vendors: vec![VendorActivity {
            vendor: "tracker".into(),
            requests: 3,
            unauthorized: 3,
            ..VendorActivity::default()
        }],
        items: vec![InventoryItem {
            kind: ItemKind::Host,
            item: "tracker.example.net".into(),
            vendor: Some("tracker".into()),
            lifetime_secs: None,
            declared_secs: None,
            over_retention: false,
            detail: None,
        }],
    };
    let import = |started_at| RunImport {
        start: RunStart {
            site: "shop",
            scenario_file: "s.toml",
            started_at,
            scenario_digest: Some("s1"),
            policy_digest: Some("p1"),
            data_versions: Some("consentry=0.1.0; autoconsent=16.23.0"),
            fail_on: consentry::outcome::FailOn::DEFAULT,
            fleet_run: None,
            vantage: None,
        },
        declarations: &[],
        visits: vec![JudgedVisit {
            position: Some(0),
            repetition: 1,
            obs: &obs,
            third_party_requests: Some(3),
            findings: &fs,
            inventory: Some(&inventory),
        }],
        findings: &site_level,
        status: RunStatus::Incomplete("not observed: reject_all".into()),
        finished_at: started_at + Duration::seconds(9),
    };
    let ids = store
        .admin()
        .import_runs(&[import(at(0)), import(at(0) + Duration::days(1))])
        .await
        .unwrap();
    assert_eq!(ids.len(), 2);
    for id in &ids {
        let run = store.history().run(*id).await.unwrap().expect("run");
        assert_eq!(
            run.status,
            RunStatus::Incomplete("not observed: reject_all".into())
        );
        assert_eq!(run.policy_digest.as_deref(), Some("p1"));
        assert_eq!(
            run.data_versions.as_deref(),
            Some("consentry=0.1.0; autoconsent=16.23.0")
        );
        let findings = store.history().findings(*id).await.unwrap();
        assert_eq!(findings.len(), 2);
        assert_eq!(findings[0], fs[0]);
        assert_eq!(findings[1], site_level[0]);
        assert_eq!(
            store
                .history()
                .observation(*id, "reject_all")
                .await
                .unwrap(),
            Some(obs.clone())
        );
    }
    let history = store
        .history()
        .site_history("shop", at(0), at(0) + Duration::days(2))
        .await
        .unwrap();
    assert_eq!(history.len(), 2);
    // The vendor's activity summed over the run (the visit was not observed: its
    // records after an objection do not count as observed), the vendors that acted in
    // the visit, its items; both nights share one inventory set.
    assert_eq!(
        history[1].vendors,
        vec![consentry::store::RunVendor {
            activity: inventory.vendors[0].clone(),
            objected_observed: 0,
        }]
    );
    let set = history[1].visits[0]
        .inventory
        .as_ref()
        .expect("an inventory");
    assert_eq!(set.vendors, vec!["tracker".to_string()]);
    assert_eq!(set.items, inventory.items);
    // Both nights stored the same inventory: one set, one value shared by both visits.
    let other = history[0].visits[0]
        .inventory
        .as_ref()
        .expect("an inventory");
    assert!(std::sync::Arc::ptr_eq(set, other));
    assert_eq!(db.count("inventory_sets").await, 1);

    // The second run repeats a scenario: the whole batch is refused, nothing is left.
    let mut bad = import(at(0) + Duration::days(5));
    bad.visits.push(bad.visits[0]);
    let err = store
        .admin()
        .import_runs(&[import(at(0) + Duration::days(4)), bad])
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::DuplicateVisit { .. }), "{err}");
    assert_eq!(db.count("runs").await, 2);
}

/// The schema version docs/storage.md states is the newest migration's, and a new
/// database is at that version.
#[tokio::test]
async fn documented_schema_version_is_the_newest_migration() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let newest = std::fs::read_dir(root.join("src/store/sqlite/migrations"))
        .unwrap()
        .filter_map(|e| {
            let name = e.ok()?.file_name().into_string().ok()?;
            name.split('_').next()?.parse::<i64>().ok()
        })
        .max()
        .unwrap();
    let doc = std::fs::read_to_string(root.join("docs/storage.md")).unwrap();
    assert!(
        doc.contains(&format!("(currently `{newest}`:")),
        "docs/storage.md must state schema version {newest}"
    );
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("v.db");
    Store::open(&path).await.unwrap().close().await;
    use sqlx::{ConnectOptions, Connection};
    let mut conn = sqlx::sqlite::SqliteConnectOptions::new()
        .filename(&path)
        .connect()
        .await
        .unwrap();
    let version: i64 = sqlx::query_scalar("SELECT MAX(version) FROM _sqlx_migrations")
        .fetch_one(&mut conn)
        .await
        .unwrap();
    conn.close().await.unwrap();
    assert_eq!(version, newest);
}

/// A visit with thousands of rows in each child table (more values than SQLite binds in
/// one statement) round-trips whole; the time the write takes is printed
/// (`cargo test --test store large_visit -- --nocapture`).
async fn large_visit_round_trips(db: TestDb) {
    let store = db.open().await;
    let run = store
        .writer()
        .begin_run("shop", "s.toml", at(0))
        .await
        .unwrap();
    let mut obs = simple_observation("large", 5_000);
    let (w, c, s) = (
        obs.cookie_writes[1].clone(),
        obs.cookies[1].clone(),
        obs.storage_writes[0].clone(),
    );
    obs.cookie_writes = (0..2_000)
        .map(|i| CookieWrite {
            name: format!("c{i}"),
            ..w.clone()
        })
        .collect();
    obs.cookies = (0..2_000)
        .map(|i| StoredCookie {
            name: format!("c{i}"),
            ..c.clone()
        })
        .collect();
    obs.storage_writes = (0..2_000)
        .map(|i| StorageWrite {
            key: format!("k{i}"),
            ..s.clone()
        })
        .collect();
    obs.page_errors = (0..1_000)
        .map(|i| consentry::model::PageError {
            message: format!("TypeError {i}"),
            source: (i % 2 == 0).then(|| "https://shop.example/app.js".to_string()),
            time: at(i),
            page: "https://shop.example/".into(),
        })
        .collect();
    let started = std::time::Instant::now();
    store.writer().record_visit(run, &obs).await.unwrap();
    eprintln!(
        "large visit (5,000 requests, 2,000 cookie writes, 2,000 cookies, 2,000 storage writes, 1,000 page errors) written in {:?}",
        started.elapsed()
    );
    assert_eq!(
        store.history().observation(run, "large").await.unwrap(),
        Some(obs)
    );
}

/// A run's acknowledgement snapshot holds `active`, `expired` or `unused`; `pending`, the
/// drift window's fourth status of the one `AckStatus`, is not a run's: a snapshot that
/// says it is refused (the schema's CHECK), and nothing of it is kept.
async fn a_run_acknowledgement_snapshot_cannot_say_pending(db: TestDb) {
    use consentry::ack::{load::parse_acks, AckStatus};
    let store = db.open().await;
    let meta = finding(
        Code::ConsentVendorBeforeChoice,
        Some("no_action"),
        "meta",
        1,
    );
    let src = format!(
        "[[ack]]\nfingerprint = \"{}\"\nreason = \"r\"\nowner = \"o\"\nexpires = \"2030-01-01\"\n",
        meta.fingerprint
    );
    let (acks, diags) = parse_acks(Path::new("scenarios/acks.toml"), &src);
    let acks = acks.unwrap_or_else(|| panic!("{diags}"));
    let mut records = acks.for_run("shop", at(0), std::slice::from_ref(&meta));
    assert_eq!(records[0].status, AckStatus::Active);
    records[0].status = AckStatus::Pending;
    let run = store
        .writer()
        .begin_run("shop", "s.toml", at(0))
        .await
        .unwrap();
    let res = store
        .writer()
        .finish_run_with_acks(run, &RunStatus::Complete, at(1), &records)
        .await;
    assert!(
        res.is_err(),
        "a pending acknowledgement was stored in a run"
    );
    assert!(store.history().run_acks(&[run]).await.unwrap().is_empty());
    store.close().await;
}

/// PostgreSQL: processes opening one new database at once all migrate it (the
/// migrator's advisory lock) and agree on one value-hashing key; each database has its
/// own key, kept across opens.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn postgres_concurrent_first_opens_agree_on_schema_and_hash_key() {
    let mut keys = Vec::new();
    for _ in 0..3 {
        let db = TestDb::postgres().await;
        let (a, b, c) = tokio::join!(
            Store::open(&db.location),
            Store::open(&db.location),
            Store::open(&db.location)
        );
        let (a, b, c) = (a.unwrap(), b.unwrap(), c.unwrap());
        let (ha, hb, hc) = tokio::join!(a.hasher(), b.hasher(), c.hasher());
        let (ha, hb, hc) = (ha.unwrap(), hb.unwrap(), hc.unwrap());
        assert_eq!(ha, hb);
        assert_eq!(ha, hc);
        let run = a.writer().begin_run("site", "f.toml", at(0)).await.unwrap();
        assert!(c.history().run(run).await.unwrap().is_some());
        a.close().await;
        let again = db.open().await;
        assert_eq!(again.hasher().await.unwrap(), ha, "the key is kept");
        assert_eq!(db.count("meta").await, 1);
        keys.push(ha);
    }
    assert_ne!(keys[0], keys[1], "keys are per database");
}

/// PostgreSQL read-only opening: a database consentry never migrated is refused with
/// the command that migrates it; a migrated one reads, and every write through it fails
/// (the sessions are read-only), leaving nothing.
#[tokio::test]
async fn postgres_read_only_opening_checks_the_schema_and_never_writes() {
    let db = TestDb::postgres().await;
    match Store::open_read_only(&db.location).await {
        Err(e @ StoreError::NeedsMigration { version: 0, .. }) => {
            let msg = e.to_string();
            assert!(msg.contains("consentry migrate --db postgres://"), "{msg}");
        }
        other => panic!("expected NeedsMigration, got {other:?}"),
    }
    let store = db.open().await;
    let run = store
        .writer()
        .begin_run("shop", "s.toml", at(0))
        .await
        .unwrap();
    store.close().await;
    let ro = db.open_read_only().await;
    assert_eq!(ro.history().runs(None, 10).await.unwrap().len(), 1);
    let err = ro
        .writer()
        .finish_run(run, &RunStatus::Complete, at(1))
        .await
        .unwrap_err();
    assert!(err.to_string().contains("read-only"), "{err}");
    let err = ro.writer().begin_run("shop", "s.toml", at(2)).await;
    assert!(err.is_err());
    assert_eq!(db.count("runs").await, 1);
    assert_eq!(
        ro.history().run(run).await.unwrap().unwrap().status,
        RunStatus::Running
    );
}

/// PostgreSQL: a database migrated by a newer consentry is refused, for writing and for
/// reading, as on SQLite.
#[tokio::test]
async fn postgres_newer_schema_is_refused_clearly() {
    let db = TestDb::postgres().await;
    db.open().await.close().await;
    db.execute(
        "INSERT INTO _sqlx_migrations (version, description, success, checksum, execution_time) \
         VALUES (999999, 'from the future', TRUE, '\\x00'::bytea, 0)",
    )
    .await;
    for err in [
        Store::open(&db.location).await.unwrap_err(),
        Store::open_read_only(&db.location).await.unwrap_err(),
    ] {
        assert!(
            matches!(
                err,
                StoreError::NewerSchema {
                    version: 999999,
                    ..
                }
            ),
            "{err:?}"
        );
        assert!(err.to_string().contains("newer consentry"), "{err}");
    }
}

/// PostgreSQL unreachable: opening fails at once, naming the host and port, never the
/// password.
#[tokio::test]
async fn postgres_unreachable_names_the_host_never_the_password() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let url = format!("postgres://alice:s3cret@127.0.0.1:{port}/audits");
    let location = consentry::store::DbLocation::parse(url.as_ref()).unwrap();
    for err in [
        Store::open(&location).await.unwrap_err(),
        Store::open_read_only(&location).await.unwrap_err(),
    ] {
        assert!(matches!(err, StoreError::Open { .. }), "{err:?}");
        let msg = format!("{err} {err:?}");
        assert!(msg.contains(&format!("127.0.0.1:{port}")), "{msg}");
        assert!(!msg.contains("s3cret"), "{msg}");
    }
}

/// Every SQLite migration has its PostgreSQL mirror with the same file name (so the same
/// version number), and no other: a schema version means the same tables on both.
#[test]
fn each_sqlite_migration_has_its_postgres_mirror() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/store");
    let names = |dir: &str| -> Vec<String> {
        let mut v: Vec<String> = std::fs::read_dir(root.join(dir))
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|n| n.ends_with(".sql"))
            .collect();
        v.sort();
        v
    };
    let sqlite = names("sqlite/migrations");
    assert!(sqlite.len() >= 12, "{sqlite:?}");
    assert_eq!(
        names("postgres/migrations"),
        sqlite,
        "add the PostgreSQL mirror of each SQLite migration (docs/storage.md, \"PostgreSQL\")"
    );
}

/// Visits of one run recorded at once, each with findings (an audit with `--jobs N`):
/// every finding is stored once, numbered without a gap or a clash.
async fn parallel_visits_with_findings_number_them_once(db: TestDb) {
    use consentry::store::JudgedVisit;
    let store = db.open().await;
    let run = store
        .writer()
        .begin_run("shop", "s.toml", at(0))
        .await
        .unwrap();
    let tasks: Vec<_> = (0..12)
        .map(|i| {
            let store = store.clone();
            tokio::spawn(async move {
                let scenario = format!("scenario_{i}");
                let obs = simple_observation(&scenario, 20);
                let findings: Vec<Finding> = (0..3)
                    .map(|k| {
                        finding(
                            Code::ConsentVendorAfterReject,
                            Some(&scenario),
                            &format!("vendor{k}.example"),
                            1,
                        )
                    })
                    .collect();
                let v = JudgedVisit {
                    position: Some(i),
                    repetition: 1,
                    obs: &obs,
                    third_party_requests: Some(0),
                    findings: &findings,
                    inventory: None,
                };
                store.writer().record_judged_visit(run, &v).await
            })
        })
        .collect();
    for t in tasks {
        t.await.unwrap().unwrap();
    }
    let stored = store.history().findings(run).await.unwrap();
    assert_eq!(stored.len(), 36);
    let distinct: std::collections::BTreeSet<_> = stored
        .iter()
        .map(|f| (f.scenario.clone(), f.subject.clone()))
        .collect();
    assert_eq!(distinct.len(), 36);
}

//! Migration 16 (the history layout, docs/storage.md) changes how a year of history is
//! stored, not what drift makes of it. The same synthetic history (the generator of
//! `examples/synth_history`, included here) is written twice: through this consentry's
//! store, and row by row into a database at schema 15, as consentry wrote it before
//! (`legacy` below: the tables and encodings of migrations 1-15). The second is then
//! migrated by opening it, and `consentry drift` must write the same pack, byte for byte,
//! from both, in every format that carries the whole pack.

#![allow(dead_code)] // the generator's parts the example uses and this test does not

mod common;
#[path = "../examples/synth_history/night.rs"]
mod night;
#[path = "../examples/synth_history/site.rs"]
mod site;

use chrono::{TimeZone, Utc};
use common::pg::TestDb;
use consentry::store::{DbLocation, RunImport};
use sqlx::Connection;
use std::path::Path;

const SITES: usize = 3;
const DAYS: u32 = 150;

/// The schema-15 writer: the rows `Admin::import_runs` wrote before migration 16, for the
/// columns any reader of the history uses (the others as a live audit leaves them when
/// nothing was measured). One per back end: `$sql` spells a statement's placeholders.
macro_rules! legacy_writer {
    ($name:ident, $findings:ident, $conn:ty, $sql:expr) => {
        async fn $name(conn: &mut $conn, runs: &[RunImport<'_>]) {
            use consentry::model::RunStatus;
            let mut tx = conn.begin().await.unwrap();
            for r in runs {
                let (status, reason) = match &r.status {
                    RunStatus::Complete => ("complete", None),
                    RunStatus::Incomplete(why) => ("incomplete", Some(why.clone())),
                    other => panic!("the generator writes no {other:?} run"),
                };
                let run: i64 = sqlx::query_scalar(
                    sqlx::AssertSqlSafe($sql("INSERT INTO runs (site, scenario_file, started_at, finished_at, status, \
                     status_reason, fail_on, scenario_digest, policy_digest, data_versions) \
                     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id")),
                )
                .bind(r.start.site)
                .bind(r.start.scenario_file)
                .bind(ts(&r.start.started_at))
                .bind(ts(&r.finished_at))
                .bind(status)
                .bind(reason)
                .bind(r.start.fail_on.as_string())
                .bind(r.start.scenario_digest)
                .bind(r.start.policy_digest)
                .bind(r.start.data_versions)
                .fetch_one(&mut *tx)
                .await
                .unwrap();
                for d in r.declarations {
                    sqlx::query(
                        sqlx::AssertSqlSafe($sql("INSERT INTO run_declarations (run_id, vendor, vendor_name, \
                         purpose, basis, strictly_necessary, tcf_purpose) VALUES (?, ?, ?, ?, ?, ?, ?)")),
                    )
                    .bind(run)
                    .bind(&d.vendor)
                    .bind(&d.vendor_name)
                    .bind(&d.purpose)
                    .bind(d.basis.as_str())
                    .bind(d.strictly_necessary)
                    .bind(d.tcf_purpose.map(i64::from))
                    .execute(&mut *tx)
                    .await
                    .unwrap();
                }
                let mut seq = 0i64;
                for v in &r.visits {
                    let o = v.obs;
                    let (status, reason) = match &o.status {
                        consentry::model::VisitStatus::Complete => ("complete", None),
                        consentry::model::VisitStatus::Incomplete(f) => {
                            ("incomplete", Some(f.reason.clone()))
                        }
                    };
                    let consent: &str = o.final_state.consent.into();
                    let visit: i64 = sqlx::query_scalar(
                        sqlx::AssertSqlSafe($sql("INSERT INTO visits (run_id, scenario, status, reason, started_at, \
                         finished_at, final_consent, final_li_objected, final_actions, \
                         session_start_ms, load_ms, settle_ms, capture_ms, close_ms, warnings, \
                         position, third_party_requests) \
                         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 0, 0, 0, 0, 0, '[]', ?, ?) RETURNING id")),
                    )
                    .bind(run)
                    .bind(&o.scenario)
                    .bind(status)
                    .bind(reason)
                    .bind(ts(&o.started_at))
                    .bind(ts(&o.finished_at))
                    .bind(consent)
                    .bind(o.final_state.li_objected)
                    .bind(actions(&o.final_state.actions))
                    .bind(v.position.map(|p| p as i64))
                    .bind(v.third_party_requests.map(|p| p as i64))
                    .fetch_one(&mut *tx)
                    .await
                    .unwrap();
                    $findings(&mut tx, run, Some(visit), v.findings, &mut seq).await;
                    let Some(inv) = v.inventory else { continue };
                    for a in &inv.vendors {
                        sqlx::query(
                            sqlx::AssertSqlSafe($sql("INSERT INTO visit_vendors (visit_id, run_id, vendor, requests, \
                             cookie_writes, storage_writes, unauthorized, objected) \
                             VALUES (?, ?, ?, ?, ?, ?, ?, ?)")),
                        )
                        .bind(visit)
                        .bind(run)
                        .bind(&a.vendor)
                        .bind(i64::from(a.requests))
                        .bind(i64::from(a.cookie_writes))
                        .bind(i64::from(a.storage_writes))
                        .bind(i64::from(a.unauthorized))
                        .bind(i64::from(a.objected))
                        .execute(&mut *tx)
                        .await
                        .unwrap();
                    }
                    for i in &inv.items {
                        let kind: &str = i.kind.into();
                        sqlx::query(
                            sqlx::AssertSqlSafe($sql("INSERT INTO visit_inventory (visit_id, run_id, kind, item, vendor, \
                             lifetime_secs, declared_secs, over_retention, detail) \
                             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)")),
                        )
                        .bind(visit)
                        .bind(run)
                        .bind(kind)
                        .bind(&i.item)
                        .bind(&i.vendor)
                        .bind(i.lifetime_secs)
                        .bind(i.declared_secs)
                        .bind(i.over_retention)
                        .bind(&i.detail)
                        .execute(&mut *tx)
                        .await
                        .unwrap();
                    }
                }
                $findings(&mut tx, run, None, r.findings, &mut seq).await;
            }
            tx.commit().await.unwrap();
        }

        async fn $findings(
            tx: &mut $conn,
            run: i64,
            visit: Option<i64>,
            findings: &[consentry::analysis::Finding],
            seq: &mut i64,
        ) {
            for f in findings {
                sqlx::query(
                    sqlx::AssertSqlSafe($sql("INSERT INTO findings (run_id, seq, fingerprint, code, severity, site, scenario, \
                     subject, message, rule, occurrences, evidence, visit_id, vendor) \
                     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")),
                )
                .bind(run)
                .bind(*seq)
                .bind(&f.fingerprint)
                .bind(f.code.as_str())
                .bind(f.severity.as_str())
                .bind(&f.site)
                .bind(&f.scenario)
                .bind(&f.subject)
                .bind(&f.message)
                .bind(&f.rule)
                .bind(i64::from(f.occurrences))
                .bind(serde_json::to_string(&f.evidence).unwrap())
                .bind(visit)
                .bind(&f.vendor)
                .execute(&mut *tx)
                .await
                .unwrap();
                *seq += 1;
            }
        }
    };
}

fn ts(t: &chrono::DateTime<Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%S%.9fZ").to_string()
}

fn actions(a: &[consentry::model::ConsentAction]) -> String {
    let names: Vec<&str> = a.iter().map(|a| a.as_str()).collect();
    serde_json::to_string(&names).unwrap()
}

/// PostgreSQL's placeholders: `$1`, `$2`, ... for SQLite's `?`s.
fn numbered(sql: &str) -> String {
    let mut out = String::with_capacity(sql.len() + 16);
    let mut n = 0;
    for c in sql.chars() {
        if c == '?' {
            n += 1;
            out.push_str(&format!("${n}"));
        } else {
            out.push(c);
        }
    }
    out
}

legacy_writer!(
    write_sqlite,
    findings_sqlite,
    sqlx::SqliteConnection,
    |s: &str| s.to_string()
);
legacy_writer!(
    write_postgres,
    findings_postgres,
    sqlx::PgConnection,
    numbered
);

/// The schema-15 database being written, on either back end.
enum Legacy {
    Sqlite(sqlx::SqliteConnection),
    Postgres(sqlx::PgConnection),
}

impl Legacy {
    /// An empty database at schema 15 at `db`, as consentry left it before migration 16
    /// (the shipped migrations up to 15, applied by sqlx's migrator), connected.
    async fn at_schema_15(db: &TestDb) -> Legacy {
        match &db.location {
            DbLocation::Sqlite(path) => {
                common::sqlite_at_schema(path, 15).await;
                use sqlx::ConnectOptions;
                let conn = sqlx::sqlite::SqliteConnectOptions::new()
                    .filename(path)
                    .connect()
                    .await
                    .unwrap();
                Legacy::Sqlite(conn)
            }
            DbLocation::Postgres(url) => {
                let mut conn = sqlx::PgConnection::connect(url.secret()).await.unwrap();
                let dir =
                    Path::new(env!("CARGO_MANIFEST_DIR")).join("src/store/postgres/migrations");
                let migrator = sqlx::migrate::Migrator::new(dir.as_path()).await.unwrap();
                migrator.run_to(15, &mut conn).await.unwrap();
                Legacy::Postgres(conn)
            }
        }
    }

    async fn write(&mut self, runs: &[RunImport<'_>]) {
        match self {
            Legacy::Sqlite(c) => write_sqlite(c, runs).await,
            Legacy::Postgres(c) => write_postgres(c, runs).await,
        }
    }

    async fn close(self) {
        match self {
            Legacy::Sqlite(c) => c.close().await.unwrap(),
            Legacy::Postgres(c) => c.close().await.unwrap(),
        }
    }
}

/// The drift pack of `site` in `format`, as `consentry drift` writes it.
fn pack(db: &TestDb, site: &str, format: &str, out: &Path) -> Vec<u8> {
    let o = common::consentry()
        .args(["drift", "--site", site, "--since", "2026-08-01", "--until"])
        .arg("2026-12-01")
        .args(["--format", format, "--output"])
        .arg(out)
        .arg("--db")
        .arg(db.arg())
        .output()
        .unwrap();
    assert!(
        o.status.success(),
        "drift {site} {format}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    std::fs::read(out).unwrap()
}

/// Writes the synthetic year into `new` through the store and into `old` in the schema-15
/// layout, migrates `old`, and compares every site's pack.
async fn migrated_packs_match(new: TestDb, old: TestDb) {
    let mut legacy = Legacy::at_schema_15(&old).await;
    let store = new.open().await;
    let end = Utc.with_ymd_and_hms(2026, 12, 1, 2, 0, 0).unwrap();
    let mut synth = night::Synth::new(SITES, DAYS, 7, end, 14);
    for n in 0..DAYS {
        let nights = synth.night(n);
        let imports: Vec<RunImport> = nights.iter().map(|n| n.import()).collect();
        store.admin().import_runs(&imports).await.unwrap();
        legacy.write(&imports).await;
    }
    store.close().await;
    legacy.close().await;
    let old_rows = old.count("visit_inventory").await;
    assert!(
        old_rows > 10_000,
        "a thin history: {old_rows} inventory rows"
    );

    // Opening migrates (a writer's open).
    old.open().await.close().await;
    // What it stored once: far fewer inventory rows than before, a declaration set per
    // distinct map (one per site, two where a declaration changed mid-year), every run
    // referring to one.
    let items = old.count("inventory_items").await;
    assert!(
        items * 10 < old_rows,
        "{items} set items for {old_rows} rows"
    );
    let sets = old.count("declaration_sets").await;
    assert!(
        (SITES as i64..=2 * SITES as i64).contains(&sets),
        "{sets} declaration sets"
    );
    assert_eq!(old.count("runs WHERE declaration_set IS NULL").await, 0);
    assert_eq!(old.count("runs").await, i64::from(DAYS) * SITES as i64);

    let dir = new.dir.path();
    for site in (1..=SITES).map(|i| format!("site-{i:02}")) {
        for (format, ext) in [("json", "json"), ("markdown", "md")] {
            let a = pack(&new, &site, format, &dir.join(format!("new-{site}.{ext}")));
            let b = pack(&old, &site, format, &dir.join(format!("old-{site}.{ext}")));
            assert!(
                a.len() > 2_000,
                "{site} {format}: a thin pack ({} bytes)",
                a.len()
            );
            assert!(
                a == b,
                "{site} {format}: the migrated database's pack differs"
            );
        }
    }
}

#[tokio::test]
async fn migrating_a_year_of_history_keeps_every_drift_pack_byte_for_byte() {
    migrated_packs_match(TestDb::sqlite().await, TestDb::sqlite().await).await;
}

#[tokio::test]
async fn migrating_a_year_of_history_on_postgres_keeps_every_drift_pack_byte_for_byte() {
    migrated_packs_match(TestDb::postgres().await, TestDb::postgres().await).await;
}

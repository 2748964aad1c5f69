//! Storage: runs, what each scenario observed, and findings, in SQLite.
//!
//! This is the only module that holds SQL. The schema lives in embedded, append-only
//! migrations under `src/store/migrations/` and is described in docs/storage.md.
//!
//! Writes are one transaction per call: a scenario's observation is stored as soon as
//! the scenario finishes ([`Store::record_visit`]), so a run that dies later keeps what
//! it had already observed. Cookie and storage values are never stored, only hashes.

mod codec;

use crate::analysis::finding::{Code, Evidence, Finding, Severity};
use crate::observe::{
    ConsentState, CookieSource, CookieWrite, RequestObs, RunStatus, StepOutcome, StepStatus,
    StorageWrite, StoredCookie, VisitObservation, VisitStatus, VisitTimings,
};
use chrono::{DateTime, Utc};
use codec::{get, get_json, get_opt_ts, get_state, get_ts, get_u64, DecodeResult};
use sqlx::migrate::{MigrateError, Migrator};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteConnection, SqliteJournalMode, SqlitePool, SqlitePoolOptions,
    SqliteRow,
};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

/// Embedded migrations, applied by [`Store::open`]. Append-only: never edit one that shipped.
static MIGRATOR: Migrator = sqlx::migrate!("src/store/migrations");

/// Environment variable overriding [`default_db_path`].
pub const DB_ENV: &str = "CONSENTRY_DB";

/// How long a connection waits for another process's write lock before failing.
pub const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

const MAX_CONNECTIONS: u32 = 4;

pub type RunId = i64;

/// Where the database lives unless the CLI's `--db` says otherwise: `$CONSENTRY_DB` when
/// set and non-empty, else `consentry.db` in the current directory.
pub fn default_db_path() -> PathBuf {
    db_path_from_env(std::env::var_os(DB_ENV))
}

fn db_path_from_env(value: Option<std::ffi::OsString>) -> PathBuf {
    match value {
        Some(p) if !p.is_empty() => PathBuf::from(p),
        _ => PathBuf::from("consentry.db"),
    }
}

/// A storage failure. Messages name the database file.
///
/// Underlying errors are kept in `cause` fields and included in the message (not exposed
/// as `source()`, so chains printed with `{:#}` do not repeat them).
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("cannot open database {}: it is a directory", path.display())]
    IsDirectory { path: PathBuf },
    #[error("cannot create directory {} for database {}: {cause}", dir.display(), path.display())]
    CreateDir {
        path: PathBuf,
        dir: PathBuf,
        cause: std::io::Error,
    },
    #[error("cannot open database {}: {cause}", path.display())]
    Open { path: PathBuf, cause: sqlx::Error },
    #[error(
        "cannot open database {}: it was written by a newer consentry (schema migration {version} is unknown to this version)",
        path.display()
    )]
    NewerSchema { path: PathBuf, version: i64 },
    #[error("cannot migrate database {}: {cause}", path.display())]
    Migrate { path: PathBuf, cause: MigrateError },
    #[error("database {}: {op} failed: {cause}", path.display())]
    Query {
        path: PathBuf,
        op: &'static str,
        cause: sqlx::Error,
    },
    #[error("database {}: run {run} does not exist", path.display())]
    UnknownRun { path: PathBuf, run: RunId },
    #[error("database {}: run {run} already has a visit for scenario {scenario:?}", path.display())]
    DuplicateVisit {
        path: PathBuf,
        run: RunId,
        scenario: String,
    },
    #[error("database {}: cannot store: {detail}", path.display())]
    Invalid { path: PathBuf, detail: String },
    #[error("database {}: invalid stored data: {detail}", path.display())]
    Corrupt { path: PathBuf, detail: String },
}

impl StoreError {
    /// Errors another process opening the same new file at the same moment can cause;
    /// worth one more try a moment later.
    fn is_transient(&self) -> bool {
        fn busy(e: &sqlx::Error) -> bool {
            // SQLITE_BUSY (5) and SQLITE_LOCKED (6), including extended codes.
            e.as_database_error()
                .and_then(|d| d.code())
                .and_then(|c| c.parse::<i32>().ok())
                .is_some_and(|c| matches!(c & 0xff, 5 | 6))
        }
        match self {
            StoreError::Open { cause, .. } => busy(cause),
            StoreError::Migrate { cause, .. } => matches!(
                cause,
                MigrateError::ExecuteMigration(..) | MigrateError::Execute(_)
            ),
            _ => false,
        }
    }
}

/// One audit run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunRecord {
    pub id: RunId,
    pub site: String,
    pub scenario_file: String,
    pub started_at: DateTime<Utc>,
    /// `None` while running, and for a run whose process died (see docs/storage.md).
    pub finished_at: Option<DateTime<Utc>>,
    pub status: RunStatus,
}

/// How many rows a visit has in each child table.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct VisitCounts {
    pub steps: u64,
    pub requests: u64,
    pub cookie_writes: u64,
    pub cookies: u64,
    pub storage_writes: u64,
}

/// One scenario of a run, without its (possibly many) child rows.
#[derive(Debug, Clone, PartialEq)]
pub struct VisitRecord {
    pub id: i64,
    pub run_id: RunId,
    pub scenario: String,
    pub status: VisitStatus,
    pub started_at: DateTime<Utc>,
    pub finished_at: DateTime<Utc>,
    pub final_state: ConsentState,
    pub timings: VisitTimings,
    pub warnings: Vec<String>,
    pub counts: VisitCounts,
}

/// Handle on the database; cheap to clone (a connection pool inside).
#[derive(Debug, Clone)]
pub struct Store {
    pool: SqlitePool,
    path: Arc<PathBuf>,
    /// Serialises this process's write transactions so parallel scenarios queue here
    /// instead of racing for SQLite's single write lock; the busy timeout only has to
    /// cover other processes.
    write_lock: Arc<tokio::sync::Mutex<()>>,
}

impl Store {
    /// Opens (creating the file and parent dir if needed) and migrates. WAL mode, busy
    /// timeout ~5 s, foreign keys on.
    pub async fn open(path: &Path) -> Result<Store, StoreError> {
        let owned = path.to_path_buf();
        if path.is_dir() {
            return Err(StoreError::IsDirectory { path: owned });
        }
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            if !dir.is_dir() {
                tokio::fs::create_dir_all(dir)
                    .await
                    .map_err(|cause| StoreError::CreateDir {
                        path: owned.clone(),
                        dir: dir.to_path_buf(),
                        cause,
                    })?;
            }
        }
        // Two processes opening a new file at once race on switching it to WAL ("database is
        // locked") and on applying the first migration ("table already exists"); asked
        // again a moment later, the loser finds the file ready.
        let mut attempt = 0;
        let pool = loop {
            match connect_and_migrate(path, &owned).await {
                Ok(pool) => break pool,
                Err(e) if attempt < 10 && e.is_transient() => {
                    attempt += 1;
                    tokio::time::sleep(std::time::Duration::from_millis(100 * attempt)).await;
                }
                Err(e) => return Err(e),
            }
        };
        Ok(Store {
            pool,
            path: Arc::new(owned),
            write_lock: Arc::new(tokio::sync::Mutex::new(())),
        })
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Closes the pool, waiting for connections to finish (checkpoints the WAL).
    pub async fn close(&self) {
        self.pool.close().await;
    }

    /// Starts a run with status `running`.
    pub async fn begin_run(
        &self,
        site: &str,
        scenario_file: &str,
        started_at: DateTime<Utc>,
    ) -> Result<RunId, StoreError> {
        let _writer = self.write_lock.lock().await;
        sqlx::query_scalar(
            "INSERT INTO runs (site, scenario_file, started_at, finished_at, status, status_reason) \
             VALUES (?, ?, ?, NULL, 'running', NULL) RETURNING id",
        )
        .bind(site)
        .bind(scenario_file)
        .bind(codec::ts(&started_at))
        .fetch_one(&self.pool)
        .await
        .map_err(self.db_err("begin run"))
    }

    /// Stores one scenario's observation (visit row, steps, requests, cookie writes,
    /// stored cookies, storage writes) in one transaction; returns the visit id.
    pub async fn record_visit(
        &self,
        run: RunId,
        obs: &VisitObservation,
    ) -> Result<i64, StoreError> {
        let _writer = self.write_lock.lock().await;
        let mut tx = self
            .pool
            .begin_with("BEGIN IMMEDIATE")
            .await
            .map_err(self.db_err("begin transaction"))?;
        let visit = self.insert_visit(&mut tx, run, obs).await?;
        for (seq, r) in obs.requests.iter().enumerate() {
            self.insert_request(&mut tx, visit, seq, r).await?;
        }
        for (seq, w) in obs.cookie_writes.iter().enumerate() {
            self.insert_cookie_write(&mut tx, visit, seq, w).await?;
        }
        for (seq, c) in obs.cookies.iter().enumerate() {
            self.insert_cookie(&mut tx, visit, seq, c).await?;
        }
        for (seq, s) in obs.storage_writes.iter().enumerate() {
            self.insert_storage_write(&mut tx, visit, seq, s).await?;
        }
        for s in &obs.steps {
            self.insert_step(&mut tx, visit, s).await?;
        }
        tx.commit().await.map_err(self.db_err("commit visit"))?;
        Ok(visit)
    }

    /// Appends findings to a run, in order, in one transaction.
    pub async fn record_findings(
        &self,
        run: RunId,
        findings: &[Finding],
    ) -> Result<(), StoreError> {
        let _writer = self.write_lock.lock().await;
        let mut tx = self
            .pool
            .begin_with("BEGIN IMMEDIATE")
            .await
            .map_err(self.db_err("begin transaction"))?;
        let next: i64 =
            sqlx::query_scalar("SELECT COALESCE(MAX(seq) + 1, 0) FROM findings WHERE run_id = ?")
                .bind(run)
                .fetch_one(&mut *tx)
                .await
                .map_err(self.db_err("read findings"))?;
        for (i, f) in findings.iter().enumerate() {
            let seq = next + self.invalid(codec::to_i64("finding index", i as u64))?;
            let evidence = self.invalid(codec::json("finding evidence", &f.evidence))?;
            sqlx::query(
                "INSERT INTO findings (run_id, seq, fingerprint, code, severity, site, scenario, \
                 subject, message, rule, occurrences, evidence) \
                 VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            )
            .bind(run)
            .bind(seq)
            .bind(&f.fingerprint)
            .bind(f.code.as_str())
            .bind(f.severity.as_str())
            .bind(&f.site)
            .bind(f.scenario.as_deref())
            .bind(&f.subject)
            .bind(&f.message)
            .bind(&f.rule)
            .bind(i64::from(f.occurrences))
            .bind(evidence)
            .execute(&mut *tx)
            .await
            .map_err(|e| self.fk_err(e, run, "record finding"))?;
        }
        tx.commit().await.map_err(self.db_err("commit findings"))
    }

    /// Sets a run's final status and finish time.
    pub async fn finish_run(
        &self,
        run: RunId,
        status: &RunStatus,
        finished_at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let _writer = self.write_lock.lock().await;
        let reason = match status {
            RunStatus::Running | RunStatus::Complete => None,
            RunStatus::Incomplete(r) | RunStatus::Interrupted(r) => Some(r.as_str()),
        };
        let done = sqlx::query(
            "UPDATE runs SET status = ?, status_reason = ?, finished_at = ? WHERE id = ?",
        )
        .bind(status.as_str())
        .bind(reason)
        .bind(codec::ts(&finished_at))
        .bind(run)
        .execute(&self.pool)
        .await
        .map_err(self.db_err("finish run"))?;
        if done.rows_affected() == 0 {
            return Err(self.unknown_run(run));
        }
        Ok(())
    }

    /// Marks runs still `running` (never finished) that started before `older_than` as
    /// `incomplete`: their process died. `finished_at` stays NULL (the time of death is
    /// unknown). Returns how many runs were marked. The caller picks `older_than` so that
    /// no live run can match (e.g. now minus the longest plausible run).
    pub async fn mark_stale_runs_incomplete(
        &self,
        older_than: DateTime<Utc>,
    ) -> Result<u64, StoreError> {
        let _writer = self.write_lock.lock().await;
        let done = sqlx::query(
            "UPDATE runs SET status = 'incomplete', status_reason = ? \
             WHERE status = 'running' AND finished_at IS NULL AND started_at < ?",
        )
        .bind(STALE_REASON)
        .bind(codec::ts(&older_than))
        .execute(&self.pool)
        .await
        .map_err(self.db_err("mark stale runs"))?;
        Ok(done.rows_affected())
    }

    // ----- read side -----

    pub async fn run(&self, run: RunId) -> Result<Option<RunRecord>, StoreError> {
        let row = sqlx::query(
            "SELECT id, site, scenario_file, started_at, finished_at, status, status_reason \
             FROM runs WHERE id = ?",
        )
        .bind(run)
        .fetch_optional(&self.pool)
        .await
        .map_err(self.db_err("read run"))?;
        row.map(|r| self.decode(decode_run(&r))).transpose()
    }

    /// Runs, newest first (by start time), optionally of one site.
    pub async fn runs(&self, site: Option<&str>, limit: u32) -> Result<Vec<RunRecord>, StoreError> {
        let rows = sqlx::query(
            "SELECT id, site, scenario_file, started_at, finished_at, status, status_reason \
             FROM runs WHERE (? IS NULL OR site = ?) ORDER BY started_at DESC, id DESC LIMIT ?",
        )
        .bind(site)
        .bind(site)
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await
        .map_err(self.db_err("read runs"))?;
        rows.iter().map(|r| self.decode(decode_run(r))).collect()
    }

    /// A run's visits, in the order they were recorded.
    pub async fn visits(&self, run: RunId) -> Result<Vec<VisitRecord>, StoreError> {
        let rows = sqlx::query(
            "SELECT v.*, \
             (SELECT COUNT(*) FROM steps c WHERE c.visit_id = v.id) AS n_steps, \
             (SELECT COUNT(*) FROM requests c WHERE c.visit_id = v.id) AS n_requests, \
             (SELECT COUNT(*) FROM cookie_writes c WHERE c.visit_id = v.id) AS n_cookie_writes, \
             (SELECT COUNT(*) FROM cookies c WHERE c.visit_id = v.id) AS n_cookies, \
             (SELECT COUNT(*) FROM storage_writes c WHERE c.visit_id = v.id) AS n_storage_writes \
             FROM visits v WHERE v.run_id = ? ORDER BY v.id",
        )
        .bind(run)
        .fetch_all(&self.pool)
        .await
        .map_err(self.db_err("read visits"))?;
        rows.iter().map(|r| self.decode(decode_visit(r))).collect()
    }

    /// Steps of one scenario's visit, in step order.
    pub async fn steps(&self, run: RunId, scenario: &str) -> Result<Vec<StepOutcome>, StoreError> {
        let rows = sqlx::query(
            "SELECT s.* FROM steps s JOIN visits v ON v.id = s.visit_id \
             WHERE v.run_id = ? AND v.scenario = ? ORDER BY s.step_index",
        )
        .bind(run)
        .bind(scenario)
        .fetch_all(&self.pool)
        .await
        .map_err(self.db_err("read steps"))?;
        rows.iter().map(|r| self.decode(decode_step(r))).collect()
    }

    /// Requests of a run (or of one scenario), by visit then in observation order.
    pub async fn requests(
        &self,
        run: RunId,
        scenario: Option<&str>,
    ) -> Result<Vec<RequestObs>, StoreError> {
        let rows = self.child_rows("requests", run, scenario).await?;
        rows.iter()
            .map(|r| self.decode(decode_request(r)))
            .collect()
    }

    /// Cookies in the jar at the end of each scenario (or one scenario).
    pub async fn cookies(
        &self,
        run: RunId,
        scenario: Option<&str>,
    ) -> Result<Vec<StoredCookie>, StoreError> {
        let rows = self.child_rows("cookies", run, scenario).await?;
        rows.iter().map(|r| self.decode(decode_cookie(r))).collect()
    }

    /// Cookie write attempts of a run (or of one scenario), in observation order.
    pub async fn cookie_writes(
        &self,
        run: RunId,
        scenario: Option<&str>,
    ) -> Result<Vec<CookieWrite>, StoreError> {
        let rows = self.child_rows("cookie_writes", run, scenario).await?;
        rows.iter()
            .map(|r| self.decode(decode_cookie_write(r)))
            .collect()
    }

    /// `localStorage` / `sessionStorage` writes of a run (or of one scenario).
    pub async fn storage_writes(
        &self,
        run: RunId,
        scenario: Option<&str>,
    ) -> Result<Vec<StorageWrite>, StoreError> {
        let rows = self.child_rows("storage_writes", run, scenario).await?;
        rows.iter()
            .map(|r| self.decode(decode_storage_write(r)))
            .collect()
    }

    /// A run's findings, in the order they were recorded.
    pub async fn findings(&self, run: RunId) -> Result<Vec<Finding>, StoreError> {
        let rows = sqlx::query("SELECT * FROM findings WHERE run_id = ? ORDER BY seq")
            .bind(run)
            .fetch_all(&self.pool)
            .await
            .map_err(self.db_err("read findings"))?;
        rows.iter()
            .map(|r| self.decode(decode_finding(r)))
            .collect()
    }

    /// Reassembles everything recorded for one scenario of a run, as it was recorded.
    pub async fn observation(
        &self,
        run: RunId,
        scenario: &str,
    ) -> Result<Option<VisitObservation>, StoreError> {
        let Some(visit) = self
            .visits(run)
            .await?
            .into_iter()
            .find(|v| v.scenario == scenario)
        else {
            return Ok(None);
        };
        let only = Some(scenario);
        Ok(Some(VisitObservation {
            scenario: visit.scenario,
            started_at: visit.started_at,
            finished_at: visit.finished_at,
            status: visit.status,
            steps: self.steps(run, scenario).await?,
            requests: self.requests(run, only).await?,
            cookie_writes: self.cookie_writes(run, only).await?,
            cookies: self.cookies(run, only).await?,
            storage_writes: self.storage_writes(run, only).await?,
            page_errors: Vec::new(),
            final_state: visit.final_state,
            warnings: visit.warnings,
            timings: visit.timings,
        }))
    }

    // ----- internals -----

    async fn child_rows(
        &self,
        table: &'static str,
        run: RunId,
        scenario: Option<&str>,
    ) -> Result<Vec<SqliteRow>, StoreError> {
        // `table` is one of our own table names, never input.
        let sql = format!(
            "SELECT c.* FROM {table} c JOIN visits v ON v.id = c.visit_id \
             WHERE v.run_id = ? AND (? IS NULL OR v.scenario = ?) ORDER BY v.id, c.seq"
        );
        sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(run)
            .bind(scenario)
            .bind(scenario)
            .fetch_all(&self.pool)
            .await
            .map_err(self.db_err(table))
    }

    async fn insert_visit(
        &self,
        tx: &mut SqliteConnection,
        run: RunId,
        obs: &VisitObservation,
    ) -> Result<i64, StoreError> {
        let (status, reason) = match &obs.status {
            VisitStatus::Complete => ("complete", None),
            VisitStatus::Incomplete(r) => ("incomplete", Some(r.as_str())),
        };
        let t = &obs.timings;
        let ms = |what, v| self.invalid(codec::to_i64(what, v));
        sqlx::query_scalar(
            "INSERT INTO visits (run_id, scenario, status, reason, started_at, finished_at, \
             final_consent, final_li_objected, final_actions, session_start_ms, load_ms, \
             settle_ms, capture_ms, close_ms, warnings) \
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
        )
        .bind(run)
        .bind(&obs.scenario)
        .bind(status)
        .bind(reason)
        .bind(codec::ts(&obs.started_at))
        .bind(codec::ts(&obs.finished_at))
        .bind(codec::consent_str(obs.final_state.consent))
        .bind(obs.final_state.li_objected)
        .bind(self.invalid(codec::actions_json(&obs.final_state.actions))?)
        .bind(ms("session start time", t.session_start_ms)?)
        .bind(ms("load time", t.load_ms)?)
        .bind(ms("settle time", t.settle_ms)?)
        .bind(ms("capture time", t.capture_ms)?)
        .bind(ms("close time", t.close_ms)?)
        .bind(self.invalid(codec::json("warnings", &obs.warnings))?)
        .fetch_one(&mut *tx)
        .await
        .map_err(|e| match &e {
            sqlx::Error::Database(d) if d.is_unique_violation() => StoreError::DuplicateVisit {
                path: self.path_buf(),
                run,
                scenario: obs.scenario.clone(),
            },
            _ => self.fk_err(e, run, "record visit"),
        })
    }

    async fn insert_step(
        &self,
        tx: &mut SqliteConnection,
        visit: i64,
        s: &StepOutcome,
    ) -> Result<(), StoreError> {
        let (status, detail) = match &s.status {
            StepStatus::Done => ("done", None),
            StepStatus::Failed(d) => ("failed", Some(d.as_str())),
            StepStatus::Skipped => ("skipped", None),
        };
        sqlx::query(
            "INSERT INTO steps (visit_id, step_index, description, status, detail, started_at, \
             duration_ms) VALUES (?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(visit)
        .bind(self.invalid(codec::to_i64("step index", s.index as u64))?)
        .bind(&s.description)
        .bind(status)
        .bind(detail)
        .bind(codec::ts(&s.started_at))
        .bind(self.invalid(codec::to_i64("step duration", s.duration_ms))?)
        .execute(&mut *tx)
        .await
        .map_err(self.db_err("record step"))?;
        Ok(())
    }

    async fn insert_request(
        &self,
        tx: &mut SqliteConnection,
        visit: i64,
        seq: usize,
        r: &RequestObs,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO requests (visit_id, seq, url, host, method, resource_type, initiator, \
             frame_id, target, http_status, error, time, page, phase, consent, li_objected, \
             actions) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(visit)
        .bind(self.invalid(codec::to_i64("request index", seq as u64))?)
        .bind(&r.url)
        .bind(r.host())
        .bind(&r.method)
        .bind(&r.resource_type)
        .bind(r.initiator.as_deref())
        .bind(r.frame_id.as_deref())
        .bind(codec::target_str(r.target))
        .bind(r.status.map(i64::from))
        .bind(r.error.as_deref())
        .bind(codec::ts(&r.time))
        .bind(&r.page)
        .bind(r.state.phase())
        .bind(codec::consent_str(r.state.consent))
        .bind(r.state.li_objected)
        .bind(self.invalid(codec::actions_json(&r.state.actions))?)
        .execute(&mut *tx)
        .await
        .map_err(self.db_err("record request"))?;
        Ok(())
    }

    async fn insert_cookie_write(
        &self,
        tx: &mut SqliteConnection,
        visit: i64,
        seq: usize,
        w: &CookieWrite,
    ) -> Result<(), StoreError> {
        let (kind, url) = match &w.source {
            CookieSource::Header { request_url } => ("header", request_url),
            CookieSource::Script { document_url } => ("script", document_url),
        };
        sqlx::query(
            "INSERT INTO cookie_writes (visit_id, seq, name, domain, path, value_hash, \
             requested_lifetime_secs, source_kind, source_url, blocked_reasons, time, page, \
             phase, consent, li_objected, actions) \
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(visit)
        .bind(self.invalid(codec::to_i64("cookie write index", seq as u64))?)
        .bind(&w.name)
        .bind(&w.domain)
        .bind(w.path.as_deref())
        .bind(&w.value_hash)
        .bind(w.requested_lifetime_secs)
        .bind(kind)
        .bind(url)
        .bind(self.invalid(codec::json("blocked reasons", &w.blocked_reasons))?)
        .bind(codec::ts(&w.time))
        .bind(&w.page)
        .bind(w.state.phase())
        .bind(codec::consent_str(w.state.consent))
        .bind(w.state.li_objected)
        .bind(self.invalid(codec::actions_json(&w.state.actions))?)
        .execute(&mut *tx)
        .await
        .map_err(self.db_err("record cookie write"))?;
        Ok(())
    }

    async fn insert_cookie(
        &self,
        tx: &mut SqliteConnection,
        visit: i64,
        seq: usize,
        c: &StoredCookie,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO cookies (visit_id, seq, name, domain, path, value_hash, expires, secure, \
             http_only, same_site, partition_key, observed_at, phase, consent, li_objected, \
             actions) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(visit)
        .bind(self.invalid(codec::to_i64("cookie index", seq as u64))?)
        .bind(&c.name)
        .bind(&c.domain)
        .bind(&c.path)
        .bind(&c.value_hash)
        .bind(c.expires.as_ref().map(codec::ts))
        .bind(c.secure)
        .bind(c.http_only)
        .bind(c.same_site.as_deref())
        .bind(c.partition_key.as_deref())
        .bind(codec::ts(&c.observed_at))
        .bind(c.state.phase())
        .bind(codec::consent_str(c.state.consent))
        .bind(c.state.li_objected)
        .bind(self.invalid(codec::actions_json(&c.state.actions))?)
        .execute(&mut *tx)
        .await
        .map_err(self.db_err("record cookie"))?;
        Ok(())
    }

    async fn insert_storage_write(
        &self,
        tx: &mut SqliteConnection,
        visit: i64,
        seq: usize,
        s: &StorageWrite,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO storage_writes (visit_id, seq, area, origin, storage_key, value_hash, \
             time, page, phase, consent, li_objected, actions) \
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(visit)
        .bind(self.invalid(codec::to_i64("storage write index", seq as u64))?)
        .bind(&s.area)
        .bind(&s.origin)
        .bind(&s.key)
        .bind(&s.value_hash)
        .bind(codec::ts(&s.time))
        .bind(&s.page)
        .bind(s.state.phase())
        .bind(codec::consent_str(s.state.consent))
        .bind(s.state.li_objected)
        .bind(self.invalid(codec::actions_json(&s.state.actions))?)
        .execute(&mut *tx)
        .await
        .map_err(self.db_err("record storage write"))?;
        Ok(())
    }

    fn path_buf(&self) -> PathBuf {
        self.path.as_ref().clone()
    }

    fn db_err(&self, op: &'static str) -> impl Fn(sqlx::Error) -> StoreError + '_ {
        move |cause| StoreError::Query {
            path: self.path_buf(),
            op,
            cause,
        }
    }

    /// A foreign-key failure on a row referencing `runs` means the run does not exist.
    fn fk_err(&self, e: sqlx::Error, run: RunId, op: &'static str) -> StoreError {
        match &e {
            sqlx::Error::Database(d) if d.is_foreign_key_violation() => self.unknown_run(run),
            _ => self.db_err(op)(e),
        }
    }

    fn unknown_run(&self, run: RunId) -> StoreError {
        StoreError::UnknownRun {
            path: self.path_buf(),
            run,
        }
    }

    fn invalid<T>(&self, r: Result<T, String>) -> Result<T, StoreError> {
        r.map_err(|detail| StoreError::Invalid {
            path: self.path_buf(),
            detail,
        })
    }

    fn decode<T>(&self, r: DecodeResult<T>) -> Result<T, StoreError> {
        r.map_err(|detail| StoreError::Corrupt {
            path: self.path_buf(),
            detail,
        })
    }
}

/// `status_reason` of runs marked by [`Store::mark_stale_runs_incomplete`].
pub const STALE_REASON: &str =
    "the run never finished (its process stopped before recording an outcome)";

fn decode_run(r: &SqliteRow) -> DecodeResult<RunRecord> {
    let status: String = get(r, "status")?;
    let reason: Option<String> = get(r, "status_reason")?;
    let reason = || reason.clone().unwrap_or_default();
    let status = match status.as_str() {
        "running" => RunStatus::Running,
        "complete" => RunStatus::Complete,
        "incomplete" => RunStatus::Incomplete(reason()),
        "interrupted" => RunStatus::Interrupted(reason()),
        other => return Err(format!("column status: unknown run status {other:?}")),
    };
    Ok(RunRecord {
        id: get(r, "id")?,
        site: get(r, "site")?,
        scenario_file: get(r, "scenario_file")?,
        started_at: get_ts(r, "started_at")?,
        finished_at: get_opt_ts(r, "finished_at")?,
        status,
    })
}

fn decode_visit(r: &SqliteRow) -> DecodeResult<VisitRecord> {
    let status: String = get(r, "status")?;
    let status = match status.as_str() {
        "complete" => VisitStatus::Complete,
        "incomplete" => {
            VisitStatus::Incomplete(get::<Option<String>>(r, "reason")?.unwrap_or_default())
        }
        other => return Err(format!("column status: unknown visit status {other:?}")),
    };
    Ok(VisitRecord {
        id: get(r, "id")?,
        run_id: get(r, "run_id")?,
        scenario: get(r, "scenario")?,
        status,
        started_at: get_ts(r, "started_at")?,
        finished_at: get_ts(r, "finished_at")?,
        final_state: get_state(r, "final_")?,
        timings: VisitTimings {
            session_start_ms: get_u64(r, "session_start_ms")?,
            load_ms: get_u64(r, "load_ms")?,
            settle_ms: get_u64(r, "settle_ms")?,
            capture_ms: get_u64(r, "capture_ms")?,
            close_ms: get_u64(r, "close_ms")?,
        },
        warnings: get_json(r, "warnings")?,
        counts: VisitCounts {
            steps: get_u64(r, "n_steps")?,
            requests: get_u64(r, "n_requests")?,
            cookie_writes: get_u64(r, "n_cookie_writes")?,
            cookies: get_u64(r, "n_cookies")?,
            storage_writes: get_u64(r, "n_storage_writes")?,
        },
    })
}

fn decode_step(r: &SqliteRow) -> DecodeResult<StepOutcome> {
    let status: String = get(r, "status")?;
    let status = match status.as_str() {
        "done" => StepStatus::Done,
        "failed" => StepStatus::Failed(get::<Option<String>>(r, "detail")?.unwrap_or_default()),
        "skipped" => StepStatus::Skipped,
        other => return Err(format!("column status: unknown step status {other:?}")),
    };
    let index = get_u64(r, "step_index")?;
    Ok(StepOutcome {
        index: usize::try_from(index)
            .map_err(|_| format!("column step_index: {index} is out of range"))?,
        description: get(r, "description")?,
        status,
        started_at: get_ts(r, "started_at")?,
        duration_ms: get_u64(r, "duration_ms")?,
    })
}

fn decode_request(r: &SqliteRow) -> DecodeResult<RequestObs> {
    let target: String = get(r, "target")?;
    let status = get::<Option<i64>>(r, "http_status")?
        .map(|s| u16::try_from(s).map_err(|_| format!("column http_status: {s} is out of range")))
        .transpose()?;
    Ok(RequestObs {
        url: get(r, "url")?,
        method: get(r, "method")?,
        resource_type: get(r, "resource_type")?,
        initiator: get(r, "initiator")?,
        frame_id: get(r, "frame_id")?,
        target: codec::parse_target(&target)?,
        status,
        error: get(r, "error")?,
        cancelled: false,
        time: get_ts(r, "time")?,
        page: get(r, "page")?,
        state: get_state(r, "")?,
    })
}

fn decode_cookie_write(r: &SqliteRow) -> DecodeResult<CookieWrite> {
    let kind: String = get(r, "source_kind")?;
    let url: String = get(r, "source_url")?;
    let source = match kind.as_str() {
        "header" => CookieSource::Header { request_url: url },
        "script" => CookieSource::Script { document_url: url },
        other => {
            return Err(format!(
                "column source_kind: unknown cookie source {other:?}"
            ))
        }
    };
    Ok(CookieWrite {
        name: get(r, "name")?,
        domain: get(r, "domain")?,
        path: get(r, "path")?,
        value_hash: get(r, "value_hash")?,
        requested_lifetime_secs: get(r, "requested_lifetime_secs")?,
        expiry_unparsed: None,
        source,
        blocked_reasons: get_json(r, "blocked_reasons")?,
        time: get_ts(r, "time")?,
        page: get(r, "page")?,
        state: get_state(r, "")?,
    })
}

fn decode_cookie(r: &SqliteRow) -> DecodeResult<StoredCookie> {
    Ok(StoredCookie {
        name: get(r, "name")?,
        domain: get(r, "domain")?,
        path: get(r, "path")?,
        value_hash: get(r, "value_hash")?,
        expires: get_opt_ts(r, "expires")?,
        secure: get(r, "secure")?,
        http_only: get(r, "http_only")?,
        same_site: get(r, "same_site")?,
        partition_key: get(r, "partition_key")?,
        observed_at: get_ts(r, "observed_at")?,
        state: get_state(r, "")?,
    })
}

fn decode_storage_write(r: &SqliteRow) -> DecodeResult<StorageWrite> {
    Ok(StorageWrite {
        area: get(r, "area")?,
        origin: get(r, "origin")?,
        key: get(r, "storage_key")?,
        value_hash: get(r, "value_hash")?,
        time: get_ts(r, "time")?,
        page: get(r, "page")?,
        state: get_state(r, "")?,
    })
}

fn decode_finding(r: &SqliteRow) -> DecodeResult<Finding> {
    let code: String = get(r, "code")?;
    let severity: String = get(r, "severity")?;
    let occurrences: i64 = get(r, "occurrences")?;
    Ok(Finding {
        code: Code::parse(&code).ok_or_else(|| format!("column code: unknown code {code:?}"))?,
        severity: Severity::parse(&severity)
            .ok_or_else(|| format!("column severity: unknown severity {severity:?}"))?,
        site: get(r, "site")?,
        scenario: get(r, "scenario")?,
        subject: get(r, "subject")?,
        message: get(r, "message")?,
        rule: get(r, "rule")?,
        evidence: get_json::<Vec<Evidence>>(r, "evidence")?,
        occurrences: u32::try_from(occurrences)
            .map_err(|_| format!("column occurrences: {occurrences} is out of range"))?,
        fingerprint: get(r, "fingerprint")?,
    })
}

async fn connect_and_migrate(path: &Path, owned: &Path) -> Result<SqlitePool, StoreError> {
    let options = SqliteConnectOptions::new()
        .filename(path)
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        .busy_timeout(BUSY_TIMEOUT)
        .foreign_keys(true);
    let pool = SqlitePoolOptions::new()
        .max_connections(MAX_CONNECTIONS)
        .connect_with(options)
        .await
        .map_err(|cause| StoreError::Open {
            path: owned.to_path_buf(),
            cause,
        })?;
    if let Err(cause) = MIGRATOR.run(&pool).await {
        pool.close().await;
        let owned = owned.to_path_buf();
        return Err(match cause {
            MigrateError::VersionMissing(version) => StoreError::NewerSchema {
                path: owned,
                version,
            },
            // A file that is not a database fails here, on the first read.
            MigrateError::Execute(cause) => StoreError::Open { path: owned, cause },
            cause => StoreError::Migrate { path: owned, cause },
        });
    }
    Ok(pool)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_path_honours_env() {
        // Tested without touching the process environment (tests run in parallel).
        assert_eq!(db_path_from_env(None), PathBuf::from("consentry.db"));
        assert_eq!(
            db_path_from_env(Some("/tmp/x/audit.db".into())),
            PathBuf::from("/tmp/x/audit.db")
        );
        assert_eq!(
            db_path_from_env(Some("".into())),
            PathBuf::from("consentry.db")
        );
    }

    #[test]
    fn errors_name_the_database() {
        let e = StoreError::UnknownRun {
            path: PathBuf::from("/x/y.db"),
            run: 7,
        };
        assert_eq!(e.to_string(), "database /x/y.db: run 7 does not exist");
        let e = StoreError::IsDirectory {
            path: PathBuf::from("/x"),
        };
        assert_eq!(e.to_string(), "cannot open database /x: it is a directory");
    }
}

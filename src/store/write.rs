//! The write side: runs, visits (with everything they observed, written by `rows.rs`, and
//! their findings), in one transaction per call.

use super::{codec, JudgedVisit, RunId, RunStart, Store, StoreError, STALE_REASON};
use crate::ack::AckRecord;
use crate::analysis::finding::Finding;
use crate::model::{RunStatus, VisitObservation};
use chrono::{DateTime, Utc};
use sqlx::sqlite::SqliteConnection;

impl Store {
    /// Starts a run with status `running` (no digests, fail-on `high`).
    pub async fn begin_run(
        &self,
        site: &str,
        scenario_file: &str,
        started_at: DateTime<Utc>,
    ) -> Result<RunId, StoreError> {
        self.start_run(&RunStart {
            site,
            scenario_file,
            started_at,
            scenario_digest: None,
            policy_digest: None,
            fail_on: crate::outcome::FailOn::DEFAULT,
        })
        .await
    }

    /// Starts a run with status `running`.
    pub async fn start_run(&self, run: &RunStart<'_>) -> Result<RunId, StoreError> {
        let _writer = self.write_lock.lock().await;
        let mut conn = self
            .pool
            .acquire()
            .await
            .map_err(self.db_err("begin run"))?;
        self.insert_run(&mut conn, run).await
    }

    async fn insert_run(
        &self,
        conn: &mut SqliteConnection,
        run: &RunStart<'_>,
    ) -> Result<RunId, StoreError> {
        sqlx::query_scalar(
            "INSERT INTO runs (site, scenario_file, started_at, finished_at, status, status_reason, \
             fail_on, scenario_digest, policy_digest, pid, host) \
             VALUES (?, ?, ?, NULL, 'running', NULL, ?, ?, ?, ?, ?) RETURNING id",
        )
        .bind(run.site)
        .bind(run.scenario_file)
        .bind(codec::ts(&run.started_at))
        .bind(codec::fail_on_str(run.fail_on))
        .bind(run.scenario_digest)
        .bind(run.policy_digest)
        .bind(i64::from(std::process::id()))
        .bind(super::this_host())
        .fetch_one(&mut *conn)
        .await
        .map_err(self.db_err("begin run"))
    }

    /// Stores one visit's observation (visit row, steps, requests, cookie writes, stored
    /// cookies, storage writes, page errors) in one transaction; returns the visit id.
    pub async fn record_visit(
        &self,
        run: RunId,
        obs: &VisitObservation,
    ) -> Result<i64, StoreError> {
        self.record_judged_visit(
            run,
            &JudgedVisit {
                position: None,
                obs,
                third_party_requests: None,
                findings: &[],
                inventory: None,
            },
        )
        .await
    }

    /// Stores one visit with its findings, all in one transaction: a run interrupted
    /// after this keeps both. Returns the visit id.
    pub async fn record_judged_visit(
        &self,
        run: RunId,
        v: &JudgedVisit<'_>,
    ) -> Result<i64, StoreError> {
        let _writer = self.write_lock.lock().await;
        let mut tx = self
            .pool
            .begin_with("BEGIN IMMEDIATE")
            .await
            .map_err(self.db_err("begin transaction"))?;
        let visit = self.insert_judged_visit(&mut tx, run, v).await?;
        tx.commit().await.map_err(self.db_err("commit visit"))?;
        Ok(visit)
    }

    /// A visit with everything it carries, inside the caller's transaction.
    async fn insert_judged_visit(
        &self,
        tx: &mut SqliteConnection,
        run: RunId,
        v: &JudgedVisit<'_>,
    ) -> Result<i64, StoreError> {
        let obs = v.obs;
        let visit = self.insert_visit(&mut *tx, run, v).await?;
        for (seq, e) in obs.page_errors.iter().enumerate() {
            self.insert_page_error(&mut *tx, visit, seq, e).await?;
        }
        self.insert_findings(&mut *tx, run, Some(visit), v.findings)
            .await?;
        for (seq, r) in obs.requests.iter().enumerate() {
            self.insert_request(&mut *tx, visit, seq, r).await?;
        }
        for (seq, w) in obs.cookie_writes.iter().enumerate() {
            self.insert_cookie_write(&mut *tx, visit, seq, w).await?;
        }
        for (seq, c) in obs.cookies.iter().enumerate() {
            self.insert_cookie(&mut *tx, visit, seq, c).await?;
        }
        for (seq, s) in obs.storage_writes.iter().enumerate() {
            self.insert_storage_write(&mut *tx, visit, seq, s).await?;
        }
        for s in &obs.steps {
            self.insert_step(&mut *tx, visit, s).await?;
        }
        for (seq, sig) in obs.signals.iter().enumerate() {
            self.insert_signal(&mut *tx, visit, seq, sig).await?;
        }
        // Only screenshots whose file was written (the file is the evidence).
        let saved = obs.screenshots.iter().filter(|s| s.path.is_some());
        for (seq, shot) in saved.enumerate() {
            self.insert_screenshot(&mut *tx, visit, seq, shot).await?;
        }
        if let Some(inv) = v.inventory {
            self.insert_inventory(&mut *tx, run, visit, inv).await?;
        }
        Ok(visit)
    }

    /// Bulk path for importing history (the drift benchmark's synthetic year,
    /// `examples/synth_history.rs`; a migration from another store): writes each run
    /// exactly as `start_run`, `record_declarations`, `record_judged_visit` per visit,
    /// `record_findings` and `finish_run` would, but all of `runs` in ONE transaction, so
    /// thousands of runs cost one commit (one fsync) per batch instead of seven per run.
    /// All-or-nothing: if any row fails, nothing of the batch is stored. Not for live
    /// audits, which must keep each visit as soon as it finishes. Returns the run ids.
    pub async fn import_runs(
        &self,
        runs: &[super::RunImport<'_>],
    ) -> Result<Vec<RunId>, StoreError> {
        let _writer = self.write_lock.lock().await;
        let mut tx = self
            .pool
            .begin_with("BEGIN IMMEDIATE")
            .await
            .map_err(self.db_err("begin transaction"))?;
        let mut ids = Vec::with_capacity(runs.len());
        for r in runs {
            let run = self.insert_run(&mut tx, &r.start).await?;
            self.insert_declarations(&mut tx, run, r.declarations)
                .await?;
            for v in &r.visits {
                self.insert_judged_visit(&mut tx, run, v).await?;
            }
            self.insert_findings(&mut tx, run, None, r.findings).await?;
            self.update_finish(&mut tx, run, &r.status, r.finished_at)
                .await?;
            ids.push(run);
        }
        tx.commit().await.map_err(self.db_err("commit import"))?;
        Ok(ids)
    }

    /// Records the declared map a run audits against (one row per vendor and purpose).
    pub async fn record_declarations(
        &self,
        run: RunId,
        declarations: &[crate::inventory::Declaration],
    ) -> Result<(), StoreError> {
        let _writer = self.write_lock.lock().await;
        let mut tx = self
            .pool
            .begin_with("BEGIN IMMEDIATE")
            .await
            .map_err(self.db_err("begin transaction"))?;
        self.insert_declarations(&mut tx, run, declarations).await?;
        tx.commit()
            .await
            .map_err(self.db_err("commit declarations"))
    }

    async fn insert_declarations(
        &self,
        tx: &mut SqliteConnection,
        run: RunId,
        declarations: &[crate::inventory::Declaration],
    ) -> Result<(), StoreError> {
        for d in declarations {
            sqlx::query(
                "INSERT OR IGNORE INTO run_declarations (run_id, vendor, vendor_name, purpose, \
                 basis, strictly_necessary, tcf_purpose) VALUES (?, ?, ?, ?, ?, ?, ?)",
            )
            .bind(run)
            .bind(&d.vendor)
            .bind(&d.vendor_name)
            .bind(&d.purpose)
            .bind(&d.basis)
            .bind(d.strictly_necessary)
            .bind(d.tcf_purpose.map(i64::from))
            .execute(&mut *tx)
            .await
            .map_err(|e| self.fk_err(e, run, "record declarations"))?;
        }
        Ok(())
    }

    async fn insert_inventory(
        &self,
        tx: &mut SqliteConnection,
        run: RunId,
        visit: i64,
        inv: &crate::inventory::VisitInventory,
    ) -> Result<(), StoreError> {
        for a in &inv.vendors {
            sqlx::query(
                "INSERT INTO visit_vendors (visit_id, run_id, vendor, requests, cookie_writes, \
                 storage_writes, unauthorized, objected) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
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
            .map_err(|e| self.fk_err(e, run, "record vendor activity"))?;
        }
        for i in &inv.items {
            sqlx::query(
                "INSERT INTO visit_inventory (visit_id, run_id, kind, item, vendor, lifetime_secs, \
                 declared_secs, over_retention, detail) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            )
            .bind(visit)
            .bind(run)
            .bind(i.kind.as_str())
            .bind(&i.item)
            .bind(i.vendor.as_deref())
            .bind(i.lifetime_secs)
            .bind(i.declared_secs)
            .bind(i.over_retention)
            .bind(i.detail.as_deref())
            .execute(&mut *tx)
            .await
            .map_err(|e| self.fk_err(e, run, "record inventory"))?;
        }
        Ok(())
    }

    /// Appends run-level findings to a run, in order, in one transaction.
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
        self.insert_findings(&mut tx, run, None, findings).await?;
        tx.commit().await.map_err(self.db_err("commit findings"))
    }

    async fn insert_findings(
        &self,
        tx: &mut SqliteConnection,
        run: RunId,
        visit: Option<i64>,
        findings: &[Finding],
    ) -> Result<(), StoreError> {
        if findings.is_empty() {
            return Ok(());
        }
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
                 subject, message, rule, occurrences, evidence, visit_id, vendor) \
                 VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
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
            .bind(visit)
            .bind(f.vendor.as_deref())
            .execute(&mut *tx)
            .await
            .map_err(|e| self.fk_err(e, run, "record finding"))?;
        }
        Ok(())
    }

    /// Sets a run's final status and finish time.
    pub async fn finish_run(
        &self,
        run: RunId,
        status: &RunStatus,
        finished_at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        self.finish_run_with_acks(run, status, finished_at, &[])
            .await
    }

    /// Sets a run's final status and finish time, and stores the acknowledgements as
    /// they stood in it (replacing any stored before), in one transaction.
    pub async fn finish_run_with_acks(
        &self,
        run: RunId,
        status: &RunStatus,
        finished_at: DateTime<Utc>,
        acks: &[AckRecord],
    ) -> Result<(), StoreError> {
        let _writer = self.write_lock.lock().await;
        let mut tx = self
            .pool
            .begin_with("BEGIN IMMEDIATE")
            .await
            .map_err(self.db_err("begin transaction"))?;
        self.update_finish(&mut tx, run, status, finished_at)
            .await?;
        sqlx::query("DELETE FROM run_acks WHERE run_id = ?")
            .bind(run)
            .execute(&mut *tx)
            .await
            .map_err(self.db_err("replace acknowledgements"))?;
        for (seq, a) in acks.iter().enumerate() {
            sqlx::query(
                "INSERT INTO run_acks (run_id, seq, fingerprint, site, owner, reason, expires, \
                 acknowledged_at, status, location) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            )
            .bind(run)
            .bind(self.invalid(codec::to_i64("acknowledgement index", seq as u64))?)
            .bind(&a.fingerprint)
            .bind(a.site.as_deref())
            .bind(&a.owner)
            .bind(&a.reason)
            .bind(codec::ts(&a.expires))
            .bind(a.acknowledged.as_ref().map(codec::ts))
            .bind(a.status.as_str())
            .bind(&a.location)
            .execute(&mut *tx)
            .await
            .map_err(|e| self.fk_err(e, run, "record acknowledgement"))?;
        }
        tx.commit().await.map_err(self.db_err("commit run end"))
    }

    async fn update_finish(
        &self,
        conn: &mut SqliteConnection,
        run: RunId,
        status: &RunStatus,
        finished_at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
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
        .execute(&mut *conn)
        .await
        .map_err(self.db_err("finish run"))?;
        if done.rows_affected() == 0 {
            return Err(self.unknown_run(run));
        }
        Ok(())
    }

    /// Our own retention: deletes the raw observations (requests, cookie writes, stored
    /// cookies, storage writes, page errors, screenshot rows: read their files first with
    /// [`Store::screenshot_files_before`], the caller deletes them) of runs that started before `before`, keeping
    /// the runs, their visits, steps and findings with their evidence (which quotes the
    /// request or cookie it is about), so drift and lifecycle history stay intact.
    /// One transaction. Returns the rows deleted per table.
    pub async fn purge_raw(
        &self,
        before: DateTime<Utc>,
    ) -> Result<Vec<(&'static str, u64)>, StoreError> {
        let _writer = self.write_lock.lock().await;
        let mut tx = self
            .pool
            .begin_with("BEGIN IMMEDIATE")
            .await
            .map_err(self.db_err("begin transaction"))?;
        let mut counts = Vec::new();
        for table in [
            "requests",
            "cookie_writes",
            "cookies",
            "storage_writes",
            "page_errors",
            "visit_screenshots",
        ] {
            // `table` is one of our own table names, never input.
            let sql = format!(
                "DELETE FROM {table} WHERE visit_id IN (SELECT v.id FROM visits v \
                 JOIN runs r ON r.id = v.run_id WHERE r.started_at < ?)"
            );
            let done = sqlx::query(sqlx::AssertSqlSafe(sql))
                .bind(codec::ts(&before))
                .execute(&mut *tx)
                .await
                .map_err(self.db_err("purge"))?;
            counts.push((table, done.rows_affected()));
        }
        tx.commit().await.map_err(self.db_err("commit purge"))?;
        Ok(counts)
    }

    /// Marks runs still `running` whose process, on this host, no longer exists as
    /// `incomplete` (killed with SIGKILL, crashed). `alive(pid)` says whether a process
    /// exists. Runs of other hosts, and runs stored before v2 (no pid), are left to
    /// [`Store::mark_stale_runs_incomplete`]. Returns the runs marked.
    pub async fn mark_dead_runs_incomplete(
        &self,
        alive: impl Fn(i64) -> bool,
    ) -> Result<Vec<RunId>, StoreError> {
        let _writer = self.write_lock.lock().await;
        let rows: Vec<(RunId, i64)> = sqlx::query_as(
            "SELECT id, pid FROM runs WHERE status = 'running' AND finished_at IS NULL \
             AND pid IS NOT NULL AND host = ?",
        )
        .bind(super::this_host())
        .fetch_all(&self.pool)
        .await
        .map_err(self.db_err("read running runs"))?;
        let mut marked = Vec::new();
        for (id, pid) in rows {
            if pid == i64::from(std::process::id()) || alive(pid) {
                continue;
            }
            sqlx::query(
                "UPDATE runs SET status = 'incomplete', status_reason = ? \
                 WHERE id = ? AND status = 'running'",
            )
            .bind(STALE_REASON)
            .bind(id)
            .execute(&self.pool)
            .await
            .map_err(self.db_err("mark dead run"))?;
            marked.push(id);
        }
        Ok(marked)
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
}

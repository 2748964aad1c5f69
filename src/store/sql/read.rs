//! The reads of [`crate::store::History`]: runs, visits and what they recorded, as they
//! were recorded.

use super::decode::*;
use super::Db;
use super::DbRow;
use crate::analysis::finding::Finding;
use crate::model::{
    CookieWrite, PageError, RequestObs, StepOutcome, StorageWrite, StoredCookie, VisitObservation,
};
use crate::signals::SignalObs;
use crate::store::{RunId, RunRecord, StoreError, VisitRecord};

impl Db {
    pub(in crate::store) async fn run(&self, run: RunId) -> Result<Option<RunRecord>, StoreError> {
        let row = super::query("SELECT * FROM runs WHERE id = ?")
            .bind(run)
            .fetch_optional(&self.pool)
            .await
            .map_err(self.db_err("read run"))?;
        row.map(|r| self.decode(decode_run(&r))).transpose()
    }

    pub(in crate::store) async fn fleet_run(
        &self,
        id: crate::store::FleetRunId,
    ) -> Result<Option<crate::store::FleetRunRecord>, StoreError> {
        let row = super::query("SELECT * FROM fleet_runs WHERE id = ?")
            .bind(id)
            .fetch_optional(&self.pool)
            .await
            .map_err(self.db_err("read fleet run"))?;
        row.map(|r| self.decode(super::decode::decode_fleet_run(&r)))
            .transpose()
    }

    pub(in crate::store) async fn fleet_run_sites(
        &self,
        id: crate::store::FleetRunId,
    ) -> Result<Vec<RunRecord>, StoreError> {
        let rows = super::query("SELECT * FROM runs WHERE fleet_run_id = ? ORDER BY id")
            .bind(id)
            .fetch_all(&self.pool)
            .await
            .map_err(self.db_err("read a fleet run's runs"))?;
        rows.iter().map(|r| self.decode(decode_run(r))).collect()
    }

    /// Runs, newest first (by start time), optionally of one site.
    pub(in crate::store) async fn runs(
        &self,
        site: Option<&str>,
        limit: u32,
    ) -> Result<Vec<RunRecord>, StoreError> {
        let rows = super::query(
            "SELECT * FROM runs WHERE (? IS NULL OR site = ?) \
             ORDER BY started_at DESC, id DESC LIMIT ?",
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
    pub(in crate::store) async fn visits(
        &self,
        run: RunId,
    ) -> Result<Vec<VisitRecord>, StoreError> {
        let rows = super::query(
            "SELECT v.*, \
             (SELECT COUNT(*) FROM steps c WHERE c.visit_id = v.id) AS n_steps, \
             (SELECT COUNT(*) FROM requests c WHERE c.visit_id = v.id) AS n_requests, \
             (SELECT COUNT(*) FROM cookie_writes c WHERE c.visit_id = v.id) AS n_cookie_writes, \
             (SELECT COUNT(*) FROM cookies c WHERE c.visit_id = v.id) AS n_cookies, \
             (SELECT COUNT(*) FROM storage_writes c WHERE c.visit_id = v.id) AS n_storage_writes, \
             (SELECT COUNT(*) FROM page_errors c WHERE c.visit_id = v.id) AS n_page_errors \
             FROM visits v WHERE v.run_id = ? ORDER BY v.id",
        )
        .bind(run)
        .fetch_all(&self.pool)
        .await
        .map_err(self.db_err("read visits"))?;
        rows.iter().map(|r| self.decode(decode_visit(r))).collect()
    }

    /// Steps of one scenario's visit, in step order.
    pub(in crate::store) async fn steps(
        &self,
        run: RunId,
        scenario: &str,
    ) -> Result<Vec<StepOutcome>, StoreError> {
        let rows = super::query(
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
    pub(in crate::store) async fn requests(
        &self,
        run: RunId,
        scenario: Option<&str>,
    ) -> Result<Vec<RequestObs>, StoreError> {
        let rows = self.child_rows("requests", run, scenario).await?;
        rows.iter()
            .map(|r| self.decode(decode_request(r)))
            .collect()
    }

    /// Requests of one visit (a [`VisitRecord::id`]), in observation order.
    pub(in crate::store) async fn visit_requests(
        &self,
        visit: i64,
    ) -> Result<Vec<RequestObs>, StoreError> {
        let rows = super::query("SELECT c.* FROM requests c WHERE c.visit_id = ? ORDER BY c.seq")
            .bind(visit)
            .fetch_all(&self.pool)
            .await
            .map_err(self.db_err("requests"))?;
        rows.iter()
            .map(|r| self.decode(decode_request(r)))
            .collect()
    }

    /// Cookies in the jar at the end of each scenario (or one scenario).
    pub(in crate::store) async fn cookies(
        &self,
        run: RunId,
        scenario: Option<&str>,
    ) -> Result<Vec<StoredCookie>, StoreError> {
        let rows = self.child_rows("cookies", run, scenario).await?;
        rows.iter().map(|r| self.decode(decode_cookie(r))).collect()
    }

    /// Cookie write attempts of a run (or of one scenario), in observation order.
    pub(in crate::store) async fn cookie_writes(
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
    pub(in crate::store) async fn storage_writes(
        &self,
        run: RunId,
        scenario: Option<&str>,
    ) -> Result<Vec<StorageWrite>, StoreError> {
        let rows = self.child_rows("storage_writes", run, scenario).await?;
        rows.iter()
            .map(|r| self.decode(decode_storage_write(r)))
            .collect()
    }

    /// Uncaught page exceptions of a run (or of one scenario), in observation order.
    pub(in crate::store) async fn page_errors(
        &self,
        run: RunId,
        scenario: Option<&str>,
    ) -> Result<Vec<PageError>, StoreError> {
        let rows = self.child_rows("page_errors", run, scenario).await?;
        rows.iter()
            .map(|r| self.decode(decode_page_error(r)))
            .collect()
    }

    /// Consent signals of a run (or of one scenario), in observation order.
    pub(in crate::store) async fn signals(
        &self,
        run: RunId,
        scenario: Option<&str>,
    ) -> Result<Vec<SignalObs>, StoreError> {
        let rows = self.child_rows("visit_signals", run, scenario).await?;
        rows.iter().map(|r| self.decode(decode_signal(r))).collect()
    }

    /// Screenshots around consent actions of a run (or of one scenario), in the order
    /// taken; each with the path of its PNG file (docs/reports.md, "Screenshots").
    pub(in crate::store) async fn screenshots(
        &self,
        run: RunId,
        scenario: Option<&str>,
    ) -> Result<Vec<crate::model::Screenshot>, StoreError> {
        let rows = self.child_rows("visit_screenshots", run, scenario).await?;
        rows.iter()
            .map(|r| self.decode(decode_screenshot(r)))
            .collect()
    }

    /// A run's findings, in the order they were recorded, each with the repetition of the
    /// visit that produced it (`None`: a run-level finding).
    pub(in crate::store) async fn findings_by_repetition(
        &self,
        run: RunId,
    ) -> Result<Vec<(Option<u32>, Finding)>, StoreError> {
        let rows = super::query(
            "SELECT f.*, v.repetition AS visit_repetition FROM finding_view f \
             LEFT JOIN visits v ON v.id = f.visit_id WHERE f.run_id = ? ORDER BY f.seq",
        )
        .bind(run)
        .fetch_all(&self.pool)
        .await
        .map_err(self.db_err("read findings"))?;
        rows.iter()
            .map(|r| {
                self.decode(
                    super::history::visit_repetition(r)
                        .and_then(|rep| decode_finding(r).map(|f| (rep, f))),
                )
            })
            .collect()
    }

    /// A run's findings, in the order they were recorded.
    pub(in crate::store) async fn findings(&self, run: RunId) -> Result<Vec<Finding>, StoreError> {
        let rows = super::query("SELECT * FROM finding_view WHERE run_id = ? ORDER BY seq")
            .bind(run)
            .fetch_all(&self.pool)
            .await
            .map_err(self.db_err("read findings"))?;
        rows.iter()
            .map(|r| self.decode(decode_finding(r)))
            .collect()
    }

    /// Reassembles everything recorded for one scenario of a run, as it was recorded.
    pub(in crate::store) async fn observation(
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
            page_errors: self.page_errors(run, only).await?,
            signals: self.signals(run, only).await?,
            cmp: visit.cmp,
            screenshots: self.screenshots(run, only).await?,
            final_state: visit.final_state,
            warnings: visit.warnings,
            timings: visit.timings,
            login: visit.login,
        }))
    }

    async fn child_rows(
        &self,
        table: &'static str,
        run: RunId,
        scenario: Option<&str>,
    ) -> Result<Vec<DbRow>, StoreError> {
        // `table` is one of our own table names, never input.
        let sql = format!(
            "SELECT c.* FROM {table} c JOIN visits v ON v.id = c.visit_id \
             WHERE v.run_id = ? AND (? IS NULL OR v.scenario = ?) ORDER BY v.id, c.seq"
        );
        super::query(sqlx::AssertSqlSafe(sql))
            .bind(run)
            .bind(scenario)
            .bind(scenario)
            .fetch_all(&self.pool)
            .await
            .map_err(self.db_err(table))
    }
}

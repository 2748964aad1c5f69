//! The reading role: stored runs as they were recorded, and a site's history as drift,
//! `consentry report`, `runs` and `ack` read it.

use super::{RunHistory, RunId, RunRecord, Store, StoreError, VisitRecord};
use crate::ack::AckRecord;
use crate::analysis::finding::Finding;
use crate::model::{
    CookieWrite, PageError, RequestObs, Screenshot, SignalObs, StepOutcome, StorageWrite,
    StoredCookie, VisitObservation,
};
use chrono::{DateTime, Utc};
use std::collections::HashMap;

/// Reads stored runs (`store.history()`). A stored value that cannot be decoded is
/// [`StoreError::Corrupt`] naming the database and column, never a panic.
#[derive(Debug, Clone, Copy)]
pub struct History<'s> {
    pub(super) store: &'s Store,
}

impl History<'_> {
    pub async fn run(&self, run: RunId) -> Result<Option<RunRecord>, StoreError> {
        self.store.db.run(run).await
    }

    /// A fleet run (docs/fleet.md); its sites' runs name it in `fleet_run`.
    pub async fn fleet_run(
        &self,
        id: super::FleetRunId,
    ) -> Result<Option<super::FleetRunRecord>, StoreError> {
        self.store.db.fleet_run(id).await
    }

    /// The runs of a fleet run's sites, in the order they started.
    pub async fn fleet_run_sites(
        &self,
        id: super::FleetRunId,
    ) -> Result<Vec<RunRecord>, StoreError> {
        self.store.db.fleet_run_sites(id).await
    }

    /// Alert deliveries (docs/alerts.md) about a run and/or a fleet run (`None`: any), in
    /// the order they were stored.
    pub async fn notifications(
        &self,
        run: Option<RunId>,
        fleet_run: Option<super::FleetRunId>,
    ) -> Result<Vec<super::NotificationRecord>, StoreError> {
        self.store.db.notifications(run, fleet_run).await
    }

    /// Runs, newest first (by start time), optionally of one site.
    pub async fn runs(&self, site: Option<&str>, limit: u32) -> Result<Vec<RunRecord>, StoreError> {
        self.store.db.runs(site, limit).await
    }

    /// A run's visits, in the order they were recorded.
    pub async fn visits(&self, run: RunId) -> Result<Vec<VisitRecord>, StoreError> {
        self.store.db.visits(run).await
    }

    /// Steps of one scenario's visit, in step order.
    pub async fn steps(&self, run: RunId, scenario: &str) -> Result<Vec<StepOutcome>, StoreError> {
        self.store.db.steps(run, scenario).await
    }

    /// Requests of a run (or of one scenario), by visit then in observation order.
    pub async fn requests(
        &self,
        run: RunId,
        scenario: Option<&str>,
    ) -> Result<Vec<RequestObs>, StoreError> {
        self.store.db.requests(run, scenario).await
    }

    /// Requests of one visit ([`super::VisitRecord::id`]), in observation order; none
    /// once `consentry purge` removed the run's raw records.
    pub async fn visit_requests(&self, visit: i64) -> Result<Vec<RequestObs>, StoreError> {
        self.store.db.visit_requests(visit).await
    }

    /// Cookies in the jar at the end of each scenario (or one scenario).
    pub async fn cookies(
        &self,
        run: RunId,
        scenario: Option<&str>,
    ) -> Result<Vec<StoredCookie>, StoreError> {
        self.store.db.cookies(run, scenario).await
    }

    /// Cookie write attempts of a run (or of one scenario), in observation order.
    pub async fn cookie_writes(
        &self,
        run: RunId,
        scenario: Option<&str>,
    ) -> Result<Vec<CookieWrite>, StoreError> {
        self.store.db.cookie_writes(run, scenario).await
    }

    /// `localStorage` / `sessionStorage` writes of a run (or of one scenario).
    pub async fn storage_writes(
        &self,
        run: RunId,
        scenario: Option<&str>,
    ) -> Result<Vec<StorageWrite>, StoreError> {
        self.store.db.storage_writes(run, scenario).await
    }

    /// Uncaught page exceptions of a run (or of one scenario), in observation order.
    pub async fn page_errors(
        &self,
        run: RunId,
        scenario: Option<&str>,
    ) -> Result<Vec<PageError>, StoreError> {
        self.store.db.page_errors(run, scenario).await
    }

    /// Consent signals of a run (or of one scenario), in observation order.
    pub async fn signals(
        &self,
        run: RunId,
        scenario: Option<&str>,
    ) -> Result<Vec<SignalObs>, StoreError> {
        self.store.db.signals(run, scenario).await
    }

    /// Screenshots around consent actions of a run (or of one scenario), in the order
    /// taken; each with the path of its PNG file (docs/reports.md, "Screenshots").
    pub async fn screenshots(
        &self,
        run: RunId,
        scenario: Option<&str>,
    ) -> Result<Vec<Screenshot>, StoreError> {
        self.store.db.screenshots(run, scenario).await
    }

    /// A run's findings, in the order they were recorded.
    pub async fn findings(&self, run: RunId) -> Result<Vec<Finding>, StoreError> {
        self.store.db.findings(run).await
    }

    /// A run's findings, in the order they were recorded, each with the repetition of the
    /// visit that produced it (`None`: a run-level finding; `audit --repeat`).
    pub async fn findings_by_repetition(
        &self,
        run: RunId,
    ) -> Result<Vec<(Option<u32>, Finding)>, StoreError> {
        self.store.db.findings_by_repetition(run).await
    }

    /// Reassembles everything recorded for one scenario of a run, as it was recorded.
    pub async fn observation(
        &self,
        run: RunId,
        scenario: &str,
    ) -> Result<Option<VisitObservation>, StoreError> {
        self.store.db.observation(run, scenario).await
    }

    /// The acknowledgement snapshots of `runs`, each in its recorded order, in one query.
    /// A run with none (or that does not exist) has no entry.
    pub async fn run_acks(
        &self,
        runs: &[RunId],
    ) -> Result<HashMap<RunId, Vec<AckRecord>>, StoreError> {
        self.store.db.run_acks(runs).await
    }

    /// The newest run (by start) with a finding of this fingerprint, and that finding.
    pub async fn latest_finding(
        &self,
        fingerprint: &str,
    ) -> Result<Option<(RunRecord, Finding)>, StoreError> {
        self.store.db.latest_finding(fingerprint).await
    }

    /// Every site with at least one run, by name.
    pub async fn sites(&self) -> Result<Vec<String>, StoreError> {
        self.store.db.sites().await
    }

    /// When the history for a drift window `[since, ..)` should start: at the latest
    /// complete run of `site` before `since` (the baseline the window is compared
    /// against), else at `since`.
    pub async fn context_start(
        &self,
        site: &str,
        since: DateTime<Utc>,
    ) -> Result<DateTime<Utc>, StoreError> {
        self.store.db.context_start(site, None, since).await
    }

    /// [`History::context_start`] among the runs of one vantage (by label; runs stored
    /// before schema 22 are vantage `default`).
    pub async fn vantage_context_start(
        &self,
        site: &str,
        vantage: &str,
        since: DateTime<Utc>,
    ) -> Result<DateTime<Utc>, StoreError> {
        self.store
            .db
            .context_start(site, Some(vantage), since)
            .await
    }

    /// The vantages `site` was audited from, by label, each with the start of its latest
    /// run, latest first (docs/drift.md, "Vantages").
    pub async fn site_vantages(
        &self,
        site: &str,
    ) -> Result<Vec<(String, DateTime<Utc>)>, StoreError> {
        self.store.db.site_vantages(site).await
    }

    /// The runs of `site` that started in `[since, until)`, oldest first, with their
    /// visits, findings, vendors' activity, inventory and declarations, in six queries
    /// whatever the number of runs.
    pub async fn site_history(
        &self,
        site: &str,
        since: DateTime<Utc>,
        until: DateTime<Utc>,
    ) -> Result<Vec<RunHistory>, StoreError> {
        self.store.db.site_history(site, None, since, until).await
    }

    /// [`History::site_history`] of the runs of one vantage only (by label): drift
    /// compares runs that looked from the same place (docs/drift.md, "Vantages").
    pub async fn vantage_history(
        &self,
        site: &str,
        vantage: &str,
        since: DateTime<Utc>,
        until: DateTime<Utc>,
    ) -> Result<Vec<RunHistory>, StoreError> {
        self.store
            .db
            .site_history(site, Some(vantage), since, until)
            .await
    }

    /// [`History::site_findings_history`] of the runs of one vantage only.
    pub async fn vantage_findings_history(
        &self,
        site: &str,
        vantage: &str,
        since: DateTime<Utc>,
        until: DateTime<Utc>,
    ) -> Result<Vec<RunHistory>, StoreError> {
        self.store
            .db
            .site_findings_history(site, Some(vantage), since, until)
            .await
    }

    /// Like [`History::site_history`], with visits and findings only (what finding
    /// lifecycles need).
    pub async fn site_findings_history(
        &self,
        site: &str,
        since: DateTime<Utc>,
        until: DateTime<Utc>,
    ) -> Result<Vec<RunHistory>, StoreError> {
        self.store
            .db
            .site_findings_history(site, None, since, until)
            .await
    }
}

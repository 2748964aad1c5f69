//! The writing role: one audit run, from its start to its end.

use super::{FleetRunId, JudgedVisit, RunId, RunStart, Store, StoreError};
use crate::ack::AckRecord;
use crate::analysis::finding::Finding;
use crate::inventory::Declaration;
use crate::model::{RunStatus, VisitObservation};
use chrono::{DateTime, Utc};

/// Writes a run as it happens (`store.writer()`). Each call is one transaction: a visit is
/// stored as soon as it finishes, so a run that dies later keeps what it observed.
#[derive(Debug, Clone, Copy)]
pub struct RunWriter<'s> {
    pub(super) store: &'s Store,
}

impl RunWriter<'_> {
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
            data_versions: None,
            fail_on: crate::outcome::FailOn::DEFAULT,
            fleet_run: None,
            vantage: None,
        })
        .await
    }

    /// Starts a fleet run (docs/fleet.md) with status `running`: the runs of its sites
    /// name it in their [`RunStart::fleet_run`].
    pub async fn start_fleet_run(
        &self,
        name: &str,
        fleet_file: Option<&str>,
        started_at: DateTime<Utc>,
    ) -> Result<FleetRunId, StoreError> {
        self.store
            .db
            .start_fleet_run(name, fleet_file, started_at)
            .await
    }

    /// Sets a fleet run's final status and finish time.
    pub async fn finish_fleet_run(
        &self,
        id: FleetRunId,
        status: &RunStatus,
        finished_at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        self.store
            .db
            .finish_fleet_run(id, status, finished_at)
            .await
    }

    /// Stores the crawl plan a run's scenarios follow (docs/crawl.md): the JSON of a
    /// [`crate::crawl::CrawlPlan`], its secrets already redacted by the caller.
    pub async fn record_crawl_plan(&self, run: RunId, plan_json: &str) -> Result<(), StoreError> {
        self.store.db.record_crawl_plan(run, plan_json).await
    }

    /// Stores the deliveries of a notification (docs/alerts.md), one transaction.
    pub async fn record_notifications(
        &self,
        records: &[super::NotificationRecord],
    ) -> Result<(), StoreError> {
        self.store.db.record_notifications(records).await
    }

    /// Starts a run with status `running`.
    pub async fn start_run(&self, run: &RunStart<'_>) -> Result<RunId, StoreError> {
        self.store.db.start_run(run).await
    }

    /// Records the declared map a run audits against (one row per vendor and purpose).
    pub async fn record_declarations(
        &self,
        run: RunId,
        declarations: &[Declaration],
    ) -> Result<(), StoreError> {
        self.store.db.record_declarations(run, declarations).await
    }

    /// Stores one visit's observation (visit row, steps, requests, cookie writes, stored
    /// cookies, storage writes, page errors, signals, screenshots); returns the visit id.
    pub async fn record_visit(
        &self,
        run: RunId,
        obs: &VisitObservation,
    ) -> Result<i64, StoreError> {
        let visit = JudgedVisit {
            position: None,
            repetition: 1,
            obs,
            third_party_requests: None,
            findings: &[],
            inventory: None,
        };
        self.record_judged_visit(run, &visit).await
    }

    /// Stores one visit with its findings and inventory, all in one transaction: a run
    /// interrupted after this keeps both. All-or-nothing. Returns the visit id.
    pub async fn record_judged_visit(
        &self,
        run: RunId,
        v: &JudgedVisit<'_>,
    ) -> Result<i64, StoreError> {
        self.store.db.record_judged_visit(run, v).await
    }

    /// Appends run-level findings to a run, in order, in one transaction.
    pub async fn record_findings(
        &self,
        run: RunId,
        findings: &[Finding],
    ) -> Result<(), StoreError> {
        self.store.db.record_findings(run, findings).await
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
        self.store
            .db
            .finish_run_with_acks(run, status, finished_at, acks)
            .await
    }
}

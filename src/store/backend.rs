//! The back end a [`super::Store`] holds, and the one place its calls are dispatched:
//! each method of the roles' back-end API forwards to SQLite's or PostgreSQL's `Db`,
//! which share their queries (src/store/sql/).

use super::queue::{
    Completion, FleetEnqueue, JobId, JobRecord, LeasedJob, QueuedFleet, QueuedVisit, SiteFinish,
};
use super::{
    postgres, sqlite, FleetRunId, FleetRunRecord, JudgedVisit, NotificationRecord, RunHistory,
    RunId, RunImport, RunRecord, RunStart, StoreError, VisitRecord, WriteRetry,
};
use crate::ack::AckRecord;
use crate::analysis::finding::Finding;
use crate::inventory::Declaration;
use crate::model::{
    CookieWrite, PageError, RequestObs, RunStatus, Screenshot, StepOutcome, StorageWrite,
    StoredCookie, VisitObservation,
};
use crate::signals::SignalObs;
use chrono::{DateTime, Utc};
use std::collections::HashMap;
use std::path::Path;

#[derive(Debug, Clone)]
pub(super) enum Backend {
    Sqlite(sqlite::Db),
    Postgres(postgres::Db),
}

/// `async fn name(&self, args) -> T` forwarded to the back end's method of that name.
macro_rules! forward {
    ($( fn $name:ident(&self $(, $arg:ident : $ty:ty)* ) -> $ret:ty; )*) => {
        impl Backend {
            $(
                pub(super) async fn $name(&self $(, $arg: $ty)*) -> $ret {
                    match self {
                        Backend::Sqlite(db) => db.$name($($arg),*).await,
                        Backend::Postgres(db) => db.$name($($arg),*).await,
                    }
                }
            )*
        }
    };
}

forward! {
    fn hash_key(&self) -> Result<Vec<u8>, StoreError>;
    fn close(&self) -> ();
    fn set_run_pid(&self, run: RunId, pid: i64) -> Result<(), StoreError>;
    fn run_acks(&self, runs: &[RunId]) -> Result<HashMap<RunId, Vec<AckRecord>>, StoreError>;
    fn latest_finding(&self, fingerprint: &str) -> Result<Option<(RunRecord, Finding)>, StoreError>;
    fn screenshot_files_before(&self, before: DateTime<Utc>) -> Result<Vec<String>, StoreError>;
    fn purge_raw(&self, before: DateTime<Utc>, batch: super::PurgeBatch) -> Result<Vec<(&'static str, u64)>, StoreError>;
    fn mark_dead_runs_incomplete(&self, alive: impl Fn(i64) -> bool) -> Result<Vec<RunId>, StoreError>;
    fn mark_stale_runs_incomplete(&self, older_than: DateTime<Utc>) -> Result<u64, StoreError>;
    fn sites(&self) -> Result<Vec<String>, StoreError>;
    fn context_start(&self, site: &str, vantage: Option<&str>, since: DateTime<Utc>) -> Result<DateTime<Utc>, StoreError>;
    fn site_vantages(&self, site: &str) -> Result<Vec<(String, DateTime<Utc>)>, StoreError>;
    fn site_history(&self, site: &str, vantage: Option<&str>, since: DateTime<Utc>, until: DateTime<Utc>) -> Result<Vec<RunHistory>, StoreError>;
    fn site_findings_history(&self, site: &str, vantage: Option<&str>, since: DateTime<Utc>, until: DateTime<Utc>) -> Result<Vec<RunHistory>, StoreError>;
    fn run(&self, run: RunId) -> Result<Option<RunRecord>, StoreError>;
    fn fleet_run(&self, id: FleetRunId) -> Result<Option<FleetRunRecord>, StoreError>;
    fn fleet_run_sites(&self, id: FleetRunId) -> Result<Vec<RunRecord>, StoreError>;
    fn runs(&self, site: Option<&str>, limit: u32) -> Result<Vec<RunRecord>, StoreError>;
    fn visits(&self, run: RunId) -> Result<Vec<VisitRecord>, StoreError>;
    fn steps(&self, run: RunId, scenario: &str) -> Result<Vec<StepOutcome>, StoreError>;
    fn requests(&self, run: RunId, scenario: Option<&str>) -> Result<Vec<RequestObs>, StoreError>;
    fn visit_requests(&self, visit: i64) -> Result<Vec<RequestObs>, StoreError>;
    fn cookies(&self, run: RunId, scenario: Option<&str>) -> Result<Vec<StoredCookie>, StoreError>;
    fn cookie_writes(&self, run: RunId, scenario: Option<&str>) -> Result<Vec<CookieWrite>, StoreError>;
    fn storage_writes(&self, run: RunId, scenario: Option<&str>) -> Result<Vec<StorageWrite>, StoreError>;
    fn page_errors(&self, run: RunId, scenario: Option<&str>) -> Result<Vec<PageError>, StoreError>;
    fn signals(&self, run: RunId, scenario: Option<&str>) -> Result<Vec<SignalObs>, StoreError>;
    fn screenshots(&self, run: RunId, scenario: Option<&str>) -> Result<Vec<Screenshot>, StoreError>;
    fn findings(&self, run: RunId) -> Result<Vec<Finding>, StoreError>;
    fn findings_by_repetition(&self, run: RunId) -> Result<Vec<(Option<u32>, Finding)>, StoreError>;
    fn observation(&self, run: RunId, scenario: &str) -> Result<Option<VisitObservation>, StoreError>;
    fn start_run(&self, run: &RunStart<'_>) -> Result<RunId, StoreError>;
    fn start_fleet_run(&self, name: &str, fleet_file: Option<&str>, started_at: DateTime<Utc>) -> Result<FleetRunId, StoreError>;
    fn finish_fleet_run(&self, id: FleetRunId, status: &RunStatus, finished_at: DateTime<Utc>) -> Result<(), StoreError>;
    fn record_crawl_plan(&self, run: RunId, json: &str) -> Result<(), StoreError>;
    fn record_notifications(&self, records: &[NotificationRecord]) -> Result<(), StoreError>;
    fn notifications(&self, run: Option<RunId>, fleet_run: Option<FleetRunId>) -> Result<Vec<NotificationRecord>, StoreError>;
    fn record_judged_visit(&self, run: RunId, v: &JudgedVisit<'_>) -> Result<i64, StoreError>;
    fn import_runs(&self, runs: &[RunImport<'_>]) -> Result<Vec<RunId>, StoreError>;
    fn record_declarations(&self, run: RunId, declarations: &[Declaration]) -> Result<(), StoreError>;
    fn enqueue_fleet(&self, fleet: &FleetEnqueue<'_>) -> Result<(FleetRunId, Vec<RunId>), StoreError>;
    fn lease(&self, owner: &str, lease_ms: u64) -> Result<Option<LeasedJob>, StoreError>;
    fn heartbeat(&self, owner: &str, lease_ms: u64) -> Result<u64, StoreError>;
    fn release(&self, job: JobId, owner: &str, why: &str) -> Result<Completion, StoreError>;
    fn complete_visit(&self, job: &LeasedJob, owner: &str, visit: &QueuedVisit<'_>) -> Result<Completion, StoreError>;
    fn complete_discover(&self, job: &LeasedJob, owner: &str, plan_json: Option<&str>, scenarios: &[&str]) -> Result<Completion, StoreError>;
    fn complete_site(&self, job: &LeasedJob, owner: &str, finish: &SiteFinish<'_>) -> Result<Completion, StoreError>;
    fn complete_fleet(&self, job: &LeasedJob, owner: &str, status: &RunStatus, finished_at: DateTime<Utc>) -> Result<Completion, StoreError>;
    fn queued_fleet(&self, fleet_run: FleetRunId) -> Result<Option<QueuedFleet>, StoreError>;
    fn latest_queued_fleet(&self) -> Result<Option<FleetRunId>, StoreError>;
    fn queued_observations(&self, run: RunId) -> Result<Vec<(usize, String, Option<String>)>, StoreError>;
    fn fleet_jobs(&self, fleet_run: FleetRunId) -> Result<(Vec<JobRecord>, i64), StoreError>;
    fn open_jobs(&self) -> Result<u64, StoreError>;
    fn record_findings(&self, run: RunId, findings: &[Finding]) -> Result<(), StoreError>;
    fn finish_run_with_acks(&self, run: RunId, status: &RunStatus, finished_at: DateTime<Utc>, acks: &[AckRecord]) -> Result<(), StoreError>;
}

impl Backend {
    pub(super) fn path(&self) -> &Path {
        match self {
            Backend::Sqlite(db) => db.path(),
            Backend::Postgres(db) => db.path(),
        }
    }

    pub(super) fn set_retry(&mut self, retry: WriteRetry) {
        match self {
            Backend::Sqlite(db) => db.retry = retry,
            Backend::Postgres(db) => db.retry = retry,
        }
    }
}

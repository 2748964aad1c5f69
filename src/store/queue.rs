//! The queue role (`store.queue()`): fleet runs whose jobs any number of workers share
//! (docs/queue.md). A fleet run is enqueued whole, in one transaction: its record, each
//! site's run (owned by no process) with its declared map, and the first jobs. A worker
//! leases one job at a time; the lease runs out unless renewed ([`Queue::heartbeat`]),
//! so a dead worker's jobs go to another. A job's result and its `done` mark are one
//! transaction, written only while its worker still holds it: each job is done exactly
//! once, whatever crashes.
//!
//! Four kinds of job: `discover` a site's pages (then its visits are queued), `visit`
//! one scenario, `finish-site` (queued by the completion of its last visit: the
//! run-level checks and the run's end), `finish-fleet` (queued by the last site's finish).

use super::{FleetRunId, JudgedVisit, RunId, RunStart, Store, StoreError};
use crate::ack::AckRecord;
use crate::analysis::finding::Finding;
use crate::inventory::Declaration;
use crate::model::RunStatus;
use chrono::{DateTime, Utc};

pub type JobId = i64;

/// What a job does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JobKind {
    Discover,
    Visit,
    FinishSite,
    FinishFleet,
}

impl JobKind {
    pub fn as_str(self) -> &'static str {
        match self {
            JobKind::Discover => "discover",
            JobKind::Visit => "visit",
            JobKind::FinishSite => "finish-site",
            JobKind::FinishFleet => "finish-fleet",
        }
    }

    pub fn parse(s: &str) -> Option<JobKind> {
        [
            JobKind::Discover,
            JobKind::Visit,
            JobKind::FinishSite,
            JobKind::FinishFleet,
        ]
        .into_iter()
        .find(|k| k.as_str() == s)
    }
}

/// A fleet run to enqueue.
#[derive(Debug, Clone)]
pub struct FleetEnqueue<'a> {
    pub name: &'a str,
    pub fleet_file: Option<&'a str>,
    pub started_at: DateTime<Utc>,
    /// What the workers load to audit its sites (JSON, the pipeline's to read).
    pub inputs: &'a str,
    /// At most this many page jobs of one site leased at once, over all workers.
    pub per_site: usize,
    /// At least this long between two leases of one site's page jobs.
    pub page_delay_ms: u64,
    pub sites: Vec<SiteEnqueue<'a>>,
}

/// One site of a fleet to enqueue.
#[derive(Debug, Clone)]
pub struct SiteEnqueue<'a> {
    /// Its run's record (`fleet_run` is set by the store).
    pub start: RunStart<'a>,
    pub declarations: &'a [Declaration],
    /// Its pages are discovered first (`[site] crawl`): one discover job, whose
    /// completion queues the visits.
    pub discover: bool,
    /// The scenarios to visit, in run order (without discovery).
    pub scenarios: Vec<&'a str>,
}

/// A job a worker holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LeasedJob {
    pub id: JobId,
    pub fleet_run: FleetRunId,
    /// The site's run; `None` for the fleet's finish.
    pub run: Option<RunId>,
    pub kind: JobKind,
    /// A visit's scenario and its place in the run order.
    pub scenario: Option<String>,
    pub position: Option<usize>,
    /// How many times it was leased, this lease included.
    pub attempts: u32,
}

/// A job as `fleet status` reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JobRecord {
    pub job: LeasedJob,
    /// `queued`, `leased` or `done`.
    pub state: String,
    /// Who holds it (or did it).
    pub owner: Option<String>,
    pub lease_until_ms: Option<i64>,
    /// Why the last worker gave it back.
    pub last_error: Option<String>,
}

/// How a completion ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Completion {
    /// Written, and the job is done.
    Done,
    /// Nothing written: the lease ran out and another worker holds the job (it will do
    /// it), or it is done already.
    LeaseLost,
}

/// A visit job's result.
#[derive(Debug, Clone, Copy)]
pub struct QueuedVisit<'a> {
    pub judged: JudgedVisit<'a>,
    /// The observation as judged (JSON), kept for the site's run-level checks.
    pub observation: &'a str,
    /// The data versions the worker ran with.
    pub data_versions: Option<&'a str>,
}

/// A site's finish.
#[derive(Debug, Clone)]
pub struct SiteFinish<'a> {
    /// The run-level findings.
    pub findings: &'a [Finding],
    pub status: RunStatus,
    pub finished_at: DateTime<Utc>,
    pub acks: &'a [AckRecord],
    pub data_versions: Option<&'a str>,
}

/// A queued fleet run, as its workers load it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueuedFleet {
    pub fleet_run: FleetRunId,
    pub inputs: String,
    pub per_site: usize,
    pub page_delay_ms: u64,
}

/// The queue (`store.queue()`).
#[derive(Debug, Clone, Copy)]
pub struct Queue<'s> {
    pub(super) store: &'s Store,
}

impl Queue<'_> {
    /// Enqueue a fleet run whole, in one transaction: its id and its sites' run ids (in
    /// `fleet.sites` order).
    pub async fn enqueue(
        &self,
        fleet: &FleetEnqueue<'_>,
    ) -> Result<(FleetRunId, Vec<RunId>), StoreError> {
        self.store.db.enqueue_fleet(fleet).await
    }

    /// Lease the next job for `owner` for `lease_ms`; `None`: nothing to take now.
    pub async fn lease(&self, owner: &str, lease_ms: u64) -> Result<Option<LeasedJob>, StoreError> {
        self.store.db.lease(owner, lease_ms).await
    }

    /// Renew every lease `owner` holds for another `lease_ms`; how many it holds.
    pub async fn heartbeat(&self, owner: &str, lease_ms: u64) -> Result<u64, StoreError> {
        self.store.db.heartbeat(owner, lease_ms).await
    }

    /// Give a job back to the queue, keeping why.
    pub async fn release(
        &self,
        job: &LeasedJob,
        owner: &str,
        why: &str,
    ) -> Result<Completion, StoreError> {
        self.store.db.release(job.id, owner, why).await
    }

    pub async fn complete_visit(
        &self,
        job: &LeasedJob,
        owner: &str,
        visit: &QueuedVisit<'_>,
    ) -> Result<Completion, StoreError> {
        self.store.db.complete_visit(job, owner, visit).await
    }

    /// `plan_json`: the crawl plan to store (redacted); `scenarios`: the visits to queue.
    pub async fn complete_discover(
        &self,
        job: &LeasedJob,
        owner: &str,
        plan_json: Option<&str>,
        scenarios: &[&str],
    ) -> Result<Completion, StoreError> {
        self.store
            .db
            .complete_discover(job, owner, plan_json, scenarios)
            .await
    }

    pub async fn complete_site(
        &self,
        job: &LeasedJob,
        owner: &str,
        finish: &SiteFinish<'_>,
    ) -> Result<Completion, StoreError> {
        self.store.db.complete_site(job, owner, finish).await
    }

    pub async fn complete_fleet(
        &self,
        job: &LeasedJob,
        owner: &str,
        status: &RunStatus,
        finished_at: DateTime<Utc>,
    ) -> Result<Completion, StoreError> {
        self.store
            .db
            .complete_fleet(job, owner, status, finished_at)
            .await
    }

    /// A queued fleet run; `None` when `fleet_run` was not enqueued.
    pub async fn fleet(&self, fleet_run: FleetRunId) -> Result<Option<QueuedFleet>, StoreError> {
        self.store.db.queued_fleet(fleet_run).await
    }

    /// The newest queued fleet run.
    pub async fn latest_fleet(&self) -> Result<Option<FleetRunId>, StoreError> {
        self.store.db.latest_queued_fleet().await
    }

    /// The observations the visits of `run` kept, in run order: (position, JSON, data
    /// versions).
    pub async fn observations(
        &self,
        run: RunId,
    ) -> Result<Vec<(usize, String, Option<String>)>, StoreError> {
        self.store.db.queued_observations(run).await
    }

    /// Every job of a fleet run, in queue order, and the database's clock now (ms since
    /// the epoch) to tell live leases from expired ones.
    pub async fn jobs(&self, fleet_run: FleetRunId) -> Result<(Vec<JobRecord>, i64), StoreError> {
        self.store.db.fleet_jobs(fleet_run).await
    }

    /// Jobs not done yet, over every queued fleet run.
    pub async fn open_jobs(&self) -> Result<u64, StoreError> {
        self.store.db.open_jobs().await
    }
}

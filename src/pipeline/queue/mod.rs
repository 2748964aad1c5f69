//! Fleet runs shared by workers (docs/queue.md): [`enqueue`] puts a validated fleet into
//! the store's queue whole (the fleet run, each site's run with its declared map, the
//! first jobs), and any number of [`work`]ers, on any machines, take its jobs one lease
//! at a time until the last one finishes the fleet run.
//!
//! ```text
//! enqueue: FleetSpec ─▶ store queue (fleet run, site runs, jobs)
//! worker:  lease ─▶ job ─▶ the same stages as a run in one process ─▶ complete (one
//!          transaction, only while the lease is held) ─▶ next lease
//! ```
//!
//! A job names its site's run; a worker loads the fleet's files from the paths the
//! enqueuer recorded ([`QueueInputs`]) and refuses a site whose scenario or policy file
//! differs from the one enqueued (their digests are on the run): every worker judges a
//! site by the map it was enqueued with.

mod config;
mod jobs;
mod status;
mod worker;

pub use config::{WorkerConfig, WorkerLog, WorkerSummary};
pub use status::{finished_fleet_run, progress, FleetProgress, SiteProgress};
pub use worker::work;

use super::{fleet_sites, AuditError};
use crate::fleet::{FleetSpec, SiteLimits};
use crate::outcome::FailOn;
use crate::store::queue::{FleetEnqueue, SiteEnqueue};
use crate::store::{DbLocation, FleetRunId, RunId, RunStart, Store};
use chrono::Utc;
use serde::{Deserialize, Serialize};
use std::path::PathBuf;

/// What a queued fleet's workers load: the inputs `consentry enqueue` was given, as
/// absolute paths (workers read them at the same paths: a shared checkout, an image, a
/// mounted volume), and the `--scenario` selection.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct QueueInputs {
    /// Scenario files, folders or one fleet file, as `consentry audit` takes them.
    pub files: Vec<PathBuf>,
    /// `--acks`.
    pub acks: Option<PathBuf>,
    /// `--gvl`.
    pub gvl: Option<PathBuf>,
    /// `--scenario`: the scenarios each site runs (empty: its own run list).
    pub scenarios: Vec<String>,
}

/// How a fleet is enqueued.
#[derive(Debug, Clone)]
pub struct EnqueueConfig {
    pub db: DbLocation,
    pub inputs: QueueInputs,
    pub fail_on: FailOn,
    pub limits: SiteLimits,
}

/// A fleet run in the queue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Enqueued {
    pub fleet_run: FleetRunId,
    /// Each site's run, in fleet order.
    pub sites: Vec<(String, RunId)>,
}

/// Put `fleet` into the queue of the database at `cfg.db`, whole, in one transaction.
pub async fn enqueue(fleet: &FleetSpec, cfg: &EnqueueConfig) -> Result<Enqueued, AuditError> {
    let sites = fleet_sites(fleet, &cfg.inputs.scenarios)?;
    let inputs = serde_json::to_string(&cfg.inputs)
        .map_err(|e| AuditError::Engine(anyhow::anyhow!("the queue's inputs: {e}")))?;
    let declarations: Vec<Vec<crate::inventory::Declaration>> = sites
        .iter()
        .map(|s| crate::inventory::declarations(&s.spec.policy))
        .collect();
    let started_at = Utc::now();
    let file = fleet.path.as_ref().map(|p| p.display().to_string());
    let queued = FleetEnqueue {
        name: &fleet.name,
        fleet_file: file.as_deref(),
        started_at,
        inputs: &inputs,
        per_site: cfg.limits.per_site,
        page_delay_ms: u64::try_from(cfg.limits.page_delay.as_millis()).unwrap_or(u64::MAX),
        sites: sites
            .iter()
            .zip(&declarations)
            .map(|(s, declarations)| SiteEnqueue {
                start: RunStart {
                    site: &s.spec.site.name,
                    scenario_file: s.scenario_file,
                    started_at,
                    scenario_digest: Some(&s.spec.digest),
                    policy_digest: Some(&s.spec.policy.digest),
                    data_versions: None,
                    fail_on: cfg.fail_on,
                    fleet_run: None,
                    vantage: Some(&s.spec.browser.vantage),
                },
                declarations,
                discover: s.spec.site.crawl.is_some(),
                scenarios: s.scenarios.iter().map(|sc| sc.id.as_str()).collect(),
            })
            .collect(),
    };
    let store = Store::open(&cfg.db).await?;
    let done = store.queue().enqueue(&queued).await;
    store.close().await;
    let (fleet_run, runs) = done?;
    Ok(Enqueued {
        fleet_run,
        sites: sites
            .iter()
            .map(|s| s.spec.site.name.clone())
            .zip(runs)
            .collect(),
    })
}

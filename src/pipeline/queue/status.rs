//! A queued fleet's progress (`consentry fleet status`), and its runs read back as a
//! fleet run once it is finished (`enqueue --wait`).

use crate::fleet::FleetSpec;
use crate::pipeline::{AuditRun, FleetRun};
use crate::store::queue::JobKind;
use crate::store::{FleetRunId, RunId, Store, StoreError};
use chrono::{DateTime, Utc};
use serde::Serialize;

/// Where a queued fleet run stands.
#[derive(Debug, Clone, Serialize)]
pub struct FleetProgress {
    pub fleet_run: FleetRunId,
    pub name: String,
    /// `running`, or how it ended.
    pub status: String,
    pub started_at: DateTime<Utc>,
    pub finished_at: Option<DateTime<Utc>>,
    /// Visits done and queued in all (a site still discovering its pages adds its visits
    /// once discovery is done).
    pub visits_done: usize,
    pub visits: usize,
    /// Sites whose run is finished.
    pub sites_finished: usize,
    pub sites: Vec<SiteProgress>,
    /// Workers holding a live lease now.
    pub workers: Vec<String>,
}

/// Where one site of a queued fleet stands.
#[derive(Debug, Clone, Serialize)]
pub struct SiteProgress {
    pub site: String,
    pub run: RunId,
    /// Its run's status (`running` until its finish).
    pub status: String,
    pub discovering: bool,
    pub visits_done: usize,
    pub visits: usize,
    /// What live leases of it are doing: `scenario (worker)`.
    pub leased: Vec<String>,
    /// Jobs whose lease ran out (their worker stopped): taken again by the next lease.
    pub expired: usize,
    /// Why a worker last gave a job of it back.
    pub last_error: Option<String>,
}

/// The progress of queued fleet run `fleet_run` (the newest when `None`); `None` when
/// there is no such queued fleet run.
pub async fn progress(
    store: &Store,
    fleet_run: Option<FleetRunId>,
) -> Result<Option<FleetProgress>, StoreError> {
    let id = match fleet_run {
        Some(id) => id,
        None => match store.queue().latest_fleet().await? {
            Some(id) => id,
            None => return Ok(None),
        },
    };
    if store.queue().fleet(id).await?.is_none() {
        return Ok(None);
    }
    let Some(record) = store.history().fleet_run(id).await? else {
        return Ok(None);
    };
    let runs = store.history().fleet_run_sites(id).await?;
    let (jobs, now) = store.queue().jobs(id).await?;
    let mut workers: Vec<String> = Vec::new();
    let sites: Vec<SiteProgress> = runs
        .iter()
        .map(|r| {
            let mine = jobs.iter().filter(|j| j.job.run == Some(r.id));
            let mut site = SiteProgress {
                site: r.site.clone(),
                run: r.id,
                status: r.status.as_str().to_string(),
                discovering: false,
                visits_done: 0,
                visits: 0,
                leased: Vec::new(),
                expired: 0,
                last_error: None,
            };
            for j in mine {
                let live = j.state == "leased" && j.lease_until_ms.is_some_and(|t| t >= now);
                if j.state == "leased" && !live {
                    site.expired += 1;
                }
                if j.job.kind == JobKind::Visit {
                    site.visits += 1;
                    site.visits_done += usize::from(j.state == "done");
                }
                if j.job.kind == JobKind::Discover && j.state != "done" {
                    site.discovering = true;
                }
                if live {
                    let owner = j.owner.clone().unwrap_or_default();
                    let what = j.job.scenario.as_deref().unwrap_or(j.job.kind.as_str());
                    site.leased.push(format!("{what} ({owner})"));
                    if !workers.contains(&owner) {
                        workers.push(owner);
                    }
                }
                if j.last_error.is_some() {
                    site.last_error = j.last_error.clone();
                }
            }
            site
        })
        .collect();
    for j in &jobs {
        if j.job.run.is_none() && j.state == "leased" {
            if let Some(owner) = j.owner.as_ref().filter(|o| !workers.contains(o)) {
                workers.push(owner.clone());
            }
        }
    }
    Ok(Some(FleetProgress {
        fleet_run: id,
        name: record.name,
        status: record.status.as_str().to_string(),
        started_at: record.started_at,
        finished_at: record.finished_at,
        visits_done: sites.iter().map(|s| s.visits_done).sum(),
        visits: sites.iter().map(|s| s.visits).sum(),
        sites_finished: runs.iter().filter(|r| r.finished_at.is_some()).count(),
        sites,
        workers,
    }))
}

/// A finished queued fleet run read back as the fleet run an audit in one process
/// returns: each site's stored report, in `fleet`'s order. `None` while it runs.
pub async fn finished_fleet_run(
    store: &Store,
    fleet_run: FleetRunId,
    fleet: &FleetSpec,
) -> Result<Option<FleetRun>, StoreError> {
    let Some(record) = store.history().fleet_run(fleet_run).await? else {
        return Ok(None);
    };
    let Some(finished_at) = record.finished_at else {
        return Ok(None);
    };
    let runs = store.history().fleet_run_sites(fleet_run).await?;
    let mut sites = Vec::with_capacity(runs.len());
    for site in &fleet.sites {
        let Some(run) = runs.iter().find(|r| r.site == site.spec.site.name) else {
            continue;
        };
        if let Some(report) = crate::pipeline::stored_report(store, run.id, None).await? {
            let active_ms = crate::outcome::millis_between(
                run.started_at,
                run.finished_at.unwrap_or(run.started_at),
            );
            sites.push(AuditRun {
                report,
                storage_errors: Vec::new(),
                leftover_profiles: Vec::new(),
                active_ms,
            });
        }
    }
    Ok(Some(FleetRun {
        id: Some(fleet_run),
        name: record.name,
        started_at: record.started_at,
        finished_at,
        sites,
        storage_errors: Vec::new(),
        leftover_profiles: Vec::new(),
    }))
}

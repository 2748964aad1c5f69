//! A queue worker (`consentry worker`, docs/queue.md): one store, one engine, up to
//! `jobs` leases held at once, every lease renewed by a heartbeat while its job runs.
//! A database that goes away is waited for (leases, completions and heartbeats are
//! tried again), never a reason to drop a result: a completion the database refuses
//! because the lease went to another worker is dropped, and that worker's is the one
//! kept.

use super::config::{Backoff, WorkerConfig, WorkerLog, WorkerSummary};
use super::jobs::{Fleets, JobCtx, JobEnd};
use super::AuditError;
use crate::engine::{Cancel, Engine};
use crate::store::Store;
use futures_util::stream::StreamExt;
use std::time::Duration;

/// This process's owner name for leases: `NAME@HOST:PID`.
fn owner_name(name: &str) -> String {
    format!(
        "{name}@{}:{}",
        crate::store::this_host(),
        std::process::id()
    )
}

/// Work the queue of the database at `cfg.db` until `cancel` (or, with `until_empty`,
/// until no job is left). An error only when the worker cannot start (the database or
/// the browser unusable at start).
pub async fn work(
    cfg: &WorkerConfig,
    cancel: Cancel,
    log: &dyn WorkerLog,
) -> Result<WorkerSummary, AuditError> {
    let store = Store::open(&cfg.db).await?;
    let hasher = store.hasher().await?;
    let mut engine = Engine::start(&cfg.engine, hasher.clone())
        .await
        .map_err(AuditError::Engine)?;
    // autoconsent as an audit in the current directory finds it (--autoconsent, the data
    // directory, a checkout's fixtures); without it, `[cmp] auto = true` scenarios are not
    // observed, saying why.
    let here = std::env::current_dir()
        .unwrap_or_default()
        .join("fleet.toml");
    let autoconsent = cfg.engine.locate_autoconsent(&here).ok();
    // The vendor and cookie knowledge, found the same way (docs/knowledge.md).
    let knowledge = cfg
        .engine
        .load_knowledge(&here)
        .map_err(|e| AuditError::Engine(anyhow::anyhow!(e)))?;
    for notice in &knowledge.notices {
        log.line(format_args!("{notice}"));
    }
    let knowledge = std::sync::Arc::new(knowledge.base);
    let data_versions = crate::data::DataVersions::with_autoconsent(
        autoconsent.as_ref().and_then(|b| b.version.clone()),
    )
    .with_knowledge(knowledge.versions())
    .stored();
    engine.set_autoconsent(autoconsent);
    let owner = owner_name(&cfg.name);
    let lease_ms = u64::try_from(cfg.lease.as_millis()).unwrap_or(u64::MAX);
    log.line(format_args!(
        "worker {owner}: {} job(s) at once, leases of {} s, database {}",
        engine.jobs(),
        cfg.lease.as_secs(),
        cfg.db
    ));
    let ctx = JobCtx {
        store: &store,
        engine: &engine,
        hasher: &hasher,
        owner: &owner,
        cfg,
        data_versions: &data_versions,
        knowledge: &knowledge,
        fleets: Fleets::default(),
        log,
        cancel: cancel.clone(),
    };
    // Every future here is polled together: the leases taken, the jobs under way and
    // the heartbeat. None waits for another while holding the store (a suspended future
    // holding SQLite's in-process write lock would stall the rest).
    let counts = std::sync::Mutex::new(WorkerSummary::default());
    let slots = engine.jobs().max(1);
    let started = std::time::Instant::now();
    let leased_any = std::sync::atomic::AtomicBool::new(false);
    let leases = futures_util::stream::unfold(Backoff::default(), |mut backoff| async {
        loop {
            if *cancel.borrow() {
                return None;
            }
            match store.queue().lease(&owner, lease_ms).await {
                Ok(Some(job)) => {
                    backoff.reset();
                    leased_any.store(true, std::sync::atomic::Ordering::Relaxed);
                    return Some((job, backoff));
                }
                Ok(None) => {
                    // An empty queue ends the work once this worker has had a job, or
                    // after the start grace when it has not (the fleet may not be
                    // queued yet).
                    let may_stop = leased_any.load(std::sync::atomic::Ordering::Relaxed)
                        || started.elapsed() >= cfg.start_grace;
                    if cfg.until_empty
                        && may_stop
                        && matches!(store.queue().open_jobs().await, Ok(0))
                    {
                        return None;
                    }
                }
                Err(e) => {
                    log.line(format_args!("worker {owner}: cannot lease: {e}"));
                    backoff.grow();
                }
            }
            let mut cancelled = cancel.clone();
            tokio::select! {
                _ = tokio::time::sleep(backoff.pause(cfg.poll)) => {}
                _ = cancelled.changed() => {}
            }
        }
    });
    let jobs = leases.for_each_concurrent(slots, |job| async {
        let end = ctx.run(job).await;
        let mut c = counts.lock().unwrap_or_else(|e| e.into_inner());
        match end {
            JobEnd::Done => c.done += 1,
            JobEnd::Lost => c.lost += 1,
            JobEnd::Released => c.released += 1,
        }
    });
    tokio::select! {
        _ = jobs => {}
        _ = heartbeat(&store, &owner, lease_ms, cfg.lease / 3, log) => {}
    }
    let mut summary = counts.into_inner().unwrap_or_else(|e| e.into_inner());
    summary.leftover_profiles = engine.shutdown().await;
    store.close().await;
    log.line(format_args!(
        "worker {owner}: stopped; {} job(s) done, {} given back, {} taken over by another worker",
        summary.done, summary.released, summary.lost
    ));
    Ok(summary)
}

/// Renew this worker's leases every `every`, for as long as it runs (never ends).
async fn heartbeat(
    store: &Store,
    owner: &str,
    lease_ms: u64,
    every: Duration,
    log: &dyn WorkerLog,
) {
    let mut failing = false;
    loop {
        tokio::time::sleep(every.max(Duration::from_millis(200))).await;
        match store.queue().heartbeat(owner, lease_ms).await {
            Ok(_) if failing => {
                failing = false;
                log.line(format_args!(
                    "worker {owner}: database back, leases renewed"
                ));
            }
            Ok(_) => {}
            Err(e) if !failing => {
                failing = true;
                log.line(format_args!(
                    "worker {owner}: cannot renew leases ({e}); trying again"
                ));
            }
            Err(_) => {}
        }
    }
}

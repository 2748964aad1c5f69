//! The audit use case, one stage after another, each handing the next a named type:
//!
//! ```text
//! Job (site, scenario) ─▶ engine: VisitObservation ─▶ attribution: AttributedVisit
//!   ─▶ analysis: Vec<Finding> ─▶ store (visit + its findings, one transaction)
//!   ─▶ (all visits in) run-level findings ─▶ outcome: AuditReport (verdict inside)
//! ```
//!
//! The command line only parses flags and prints; everything here is library code, so
//! nightly jobs, tests and future front ends run the same pipeline. A visit is judged and
//! stored as soon as it finishes: an interruption loses only the visits in flight.

use crate::ack::Acks;
use crate::analysis::{analyze_run, analyze_visit, sort_findings, Finding};
use crate::attribution::{AttributedVisit, Attributor};
use crate::engine::{Cancel, Engine, EngineConfig, Job};
use crate::model::{RunStatus, VisitObservation};
use crate::outcome::{AuditReport, FailOn, Verdict, VisitSummary};
use crate::scenario::{AuditSpec, Scenario};
use crate::store::{JudgedVisit, RunId, RunStart, Store, StoreError};
use chrono::Utc;
use futures_util::StreamExt;
use std::path::PathBuf;

/// What to audit and how.
#[derive(Debug, Clone)]
pub struct AuditConfig {
    /// The scenario file as the user named it (shown in reports).
    pub scenario_file: String,
    /// Scenario ids to run, in order; empty: the file's run list.
    pub scenarios: Vec<String>,
    pub fail_on: FailOn,
    pub db_path: PathBuf,
    pub engine: EngineConfig,
    /// The acknowledgements in force (validated before the audit starts; empty: none).
    pub acks: Acks,
    /// The reports directory: screenshots go to `<dir>/<site>/run-<id>/`
    /// ([`crate::screenshots::run_dir`]).
    pub reports_dir: PathBuf,
}

/// Why an audit could not be run at all (per-visit problems are data, never this).
#[derive(Debug, thiserror::Error)]
pub enum AuditError {
    #[error("{file}: no scenario {id:?} (known: {known})")]
    UnknownScenario {
        file: String,
        id: String,
        known: String,
    },
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("{0:#}")]
    Engine(anyhow::Error),
}

impl AuditError {
    /// Invalid input (exit 2) rather than a failure of consentry (exit 4).
    pub fn is_invalid_input(&self) -> bool {
        matches!(self, AuditError::UnknownScenario { .. })
    }
}

/// Where the pipeline reports progress (a terminal bar, CI log lines, nothing).
pub trait Progress: Sync {
    fn started(&self, site: &str, visits: usize, jobs: usize);
    fn visit_done(&self, obs: &VisitObservation);
    /// A visit could not be stored; the audit goes on and ends with an error.
    fn store_failed(&self, scenario: &str, error: &StoreError);
    fn finished(&self);
}

/// Progress that says nothing.
pub struct Silent;

impl Progress for Silent {
    fn started(&self, _: &str, _: usize, _: usize) {}
    fn visit_done(&self, _: &VisitObservation) {}
    fn store_failed(&self, _: &str, _: &StoreError) {}
    fn finished(&self) {}
}

/// What an audit produced.
#[derive(Debug)]
pub struct AuditRun {
    pub report: AuditReport,
    /// Something could not be written to the database (the report is still complete).
    pub storage_errors: Vec<String>,
    /// Browser profile directories that could not be deleted.
    pub leftover_profiles: Vec<String>,
}

/// The scenarios of `spec` named in `ids` (file order when empty).
pub fn select<'s>(
    spec: &'s AuditSpec,
    file: &str,
    ids: &[String],
) -> Result<Vec<&'s Scenario>, AuditError> {
    if ids.is_empty() {
        return Ok(spec.scenarios.iter().collect());
    }
    ids.iter()
        .map(|id| {
            spec.scenarios
                .iter()
                .find(|s| &s.id == id)
                .ok_or_else(|| AuditError::UnknownScenario {
                    file: file.to_string(),
                    id: id.clone(),
                    known: spec
                        .scenarios
                        .iter()
                        .map(|s| s.id.as_str())
                        .collect::<Vec<_>>()
                        .join(", "),
                })
        })
        .collect()
}

/// Run a whole audit of one site: open the store, start the browsers, visit every
/// selected scenario (recording and judging each as it finishes), judge the run, close
/// everything, and return the report with its verdict.
pub async fn audit(
    spec: &AuditSpec,
    cfg: &AuditConfig,
    cancel: Cancel,
    progress: &dyn Progress,
) -> Result<AuditRun, AuditError> {
    let selected = select(spec, &cfg.scenario_file, &cfg.scenarios)?;
    let store = Store::open(&cfg.db_path).await?;
    // Runs left `running` by a process that died (SIGKILL, a crash) are incomplete, and
    // their browser profiles are litter.
    store
        .admin()
        .mark_dead_runs_incomplete(|pid| {
            i32::try_from(pid).is_ok_and(crate::browser::process_alive)
        })
        .await?;
    crate::browser::sweep_stale_profiles();
    // Cookie and storage values and TC strings are hashed with this database's key: the
    // engine's captures and the request-signal decoder are given it as a value.
    let hasher = store.hasher().await?;
    // `[cmp] auto = true`: autoconsent's bundle is found before any browser starts.
    let autoconsent = if selected.iter().any(|s| s.uses_autoconsent()) {
        Some(
            crate::cmp::autoconsent::locate(cfg.engine.autoconsent.as_deref(), &spec.path)
                .map_err(|e| AuditError::Engine(anyhow::anyhow!(e)))?,
        )
    } else {
        None
    };
    let mut engine = Engine::start(&cfg.engine, hasher.clone())
        .await
        .map_err(AuditError::Engine)?;
    engine.set_autoconsent(autoconsent);
    let started_at = Utc::now();
    let run_id = match store
        .writer()
        .start_run(&RunStart {
            site: &spec.site.name,
            scenario_file: &cfg.scenario_file,
            started_at,
            scenario_digest: Some(&spec.digest),
            policy_digest: Some(&spec.policy.digest),
            fail_on: cfg.fail_on,
        })
        .await
    {
        Ok(id) => id,
        Err(e) => {
            engine.shutdown().await;
            return Err(e.into());
        }
    };

    if let Err(e) = store
        .writer()
        .record_declarations(run_id, &crate::inventory::declarations(&spec.policy))
        .await
    {
        engine.shutdown().await;
        return Err(e.into());
    }
    let shots_dir = crate::screenshots::run_dir(&cfg.reports_dir, &spec.site.name, run_id);
    progress.started(&spec.site.name, selected.len(), engine.jobs());
    let attributor = Attributor::new(&spec.site, &spec.policy);
    // One slot per job, in run order: a visit lands in its slot once, and its single
    // attribution borrows it there, for the visit's own checks and the run's alike.
    let slots: Vec<std::sync::OnceLock<VisitObservation>> = selected
        .iter()
        .map(|_| std::sync::OnceLock::new())
        .collect();
    let mut visits: Vec<(usize, AttributedVisit)> = Vec::with_capacity(slots.len());
    let mut findings: Vec<Finding> = Vec::new();
    let mut storage_errors = Vec::new();
    // Scenarios observed (or not) whose visit could not be written: the run is not
    // complete in the database, whatever the report in memory holds.
    let mut unstored: Vec<String> = Vec::new();
    {
        let jobs: Vec<Job> = selected
            .iter()
            .enumerate()
            .map(|(position, scenario)| Job {
                spec,
                scenario,
                position,
            })
            .collect();
        let mut stream = std::pin::pin!(engine.run(jobs, cancel.clone()));
        while let Some((job, mut obs)) = stream.next().await {
            // Signals carried by request URLs are decoded here, from the URLs as sent.
            crate::signals::add_request_signals(&mut obs, &hasher);
            // Then every page-supplied string is bounded (8 KiB: its start, its length
            // and the keyed hash of its redacted whole), before anything judges, stores
            // or shows it: a page decides how long its URLs are.
            crate::model::clip::clip_visit(&mut obs, &hasher, &|s| spec.site.secrets.redact(s));
            // Nothing a secret's value reached leaves this point unredacted: not the
            // store, not the checks' evidence, not the progress lines. A visit that could
            // not be redacted keeps nothing it saw (not observed, never clean).
            if let Err(e) = spec.site.secrets.redact_visit(&mut obs) {
                obs = unredactable(obs, &e);
            }
            crate::screenshots::save_visit(&mut obs, &shots_dir, job.position);
            let Some(slot) = slots.get(job.position) else {
                continue; // a job the engine was never given: cannot happen
            };
            let obs = slot.get_or_init(|| obs);
            let visit = attributor.visit(obs);
            let judged = analyze_visit(&spec.site, &spec.policy, &visit);
            let inventory = crate::inventory::of_visit(&visit);
            let stored = store
                .writer()
                .record_judged_visit(
                    run_id,
                    &JudgedVisit {
                        position: Some(job.position),
                        obs,
                        third_party_requests: Some(visit.third_party_requests()),
                        findings: &judged,
                        inventory: Some(&inventory),
                    },
                )
                .await;
            if let Err(e) = stored {
                progress.store_failed(&obs.scenario, &e);
                unstored.push(obs.scenario.clone());
                storage_errors.push(format!("could not record scenario {}: {e}", obs.scenario));
            }
            progress.visit_done(obs);
            findings.extend(judged);
            visits.push((job.position, visit));
        }
    }
    let leftover_profiles = engine.shutdown().await;
    progress.finished();
    let interrupted = *cancel.borrow();

    // Judge and report visits in run order (the order the file or --scenario lists them).
    visits.sort_by_key(|(position, _)| *position);
    let visits: Vec<AttributedVisit> = visits.into_iter().map(|(_, v)| v).collect();
    let run_level = analyze_run(&spec.site, &spec.policy, &visits);
    if let Err(e) = store.writer().record_findings(run_id, &run_level).await {
        storage_errors.push(format!("could not record the run's findings: {e}"));
    }
    findings.extend(run_level);
    let summaries: Vec<VisitSummary> = visits.iter().map(VisitSummary::of).collect();
    let order: Vec<&str> = summaries.iter().map(|v| v.scenario.as_str()).collect();
    sort_findings(&mut findings, &order);
    let site = spec.site.name.clone();
    // Judged as of the run's start, and kept with the run's end.
    let acknowledgements = cfg.acks.for_run(&site, started_at, &findings);
    let status = run_status(interrupted, &summaries, &unstored);
    let finished_at = Utc::now();
    if let Err(e) = store
        .writer()
        .finish_run_with_acks(run_id, &status, finished_at, &acknowledgements)
        .await
    {
        storage_errors.push(format!("could not record the run's end: {e}"));
    }
    let new_fingerprints = match new_in_run(&store, &spec.site.name, run_id, started_at).await {
        Ok(fps) => fps,
        Err(e) => {
            storage_errors.push(format!("could not read the site's history: {e}"));
            Vec::new()
        }
    };
    store.close().await;

    let report = AuditReport {
        run_id: Some(run_id),
        site,
        scenario_file: cfg.scenario_file.clone(),
        started_at,
        finished_at,
        status,
        visits: summaries,
        findings,
        fail_on: cfg.fail_on.threshold,
        fail_on_new: cfg.fail_on.new_only,
        new_fingerprints,
        acknowledgements,
        db_path: Some(cfg.db_path.display().to_string()),
        verdict: Verdict::default(),
    }
    .with_verdict();
    Ok(AuditRun {
        report,
        storage_errors,
        leftover_profiles,
    })
}

/// What is kept of a visit whose records could not be redacted: its scenario and times,
/// not observed, with the reason; none of its records.
fn unredactable(obs: VisitObservation, why: &str) -> VisitObservation {
    VisitObservation {
        status: crate::model::VisitStatus::Incomplete(crate::model::Failure::new(
            crate::model::FailureKind::Other,
            format!("the visit's records could not be redacted, so none is kept: {why}"),
        )),
        steps: Vec::new(),
        requests: Vec::new(),
        cookie_writes: Vec::new(),
        cookies: Vec::new(),
        storage_writes: Vec::new(),
        page_errors: Vec::new(),
        signals: Vec::new(),
        cmp: Vec::new(),
        screenshots: Vec::new(),
        warnings: Vec::new(),
        timings: Default::default(),
        ..obs
    }
}

/// The run's status from how it ended, what its visits saw, and which of them could not
/// be written to the database (`unstored`: such a run is never `complete`, and the reason
/// says how many are missing).
fn run_status(interrupted: bool, visits: &[VisitSummary], unstored: &[String]) -> RunStatus {
    let not_observed: Vec<&str> = visits
        .iter()
        .filter(|v| v.not_observed().is_some())
        .map(|v| v.scenario.as_str())
        .collect();
    let mut reasons = Vec::new();
    if !not_observed.is_empty() {
        reasons.push(format!("not observed: {}", not_observed.join(", ")));
    }
    if !unstored.is_empty() {
        reasons.push(format!(
            "{} of {} visit(s) could not be written to the database: {}",
            unstored.len(),
            visits.len(),
            unstored.join(", ")
        ));
    }
    if interrupted {
        reasons.insert(0, "interrupted by a signal".into());
        // Not-observed visits of an interrupted run are the interruption's doing.
        reasons.retain(|r| !r.starts_with("not observed"));
        RunStatus::Interrupted(reasons.join("; "))
    } else if reasons.is_empty() {
        RunStatus::Complete
    } else {
        RunStatus::Incomplete(reasons.join("; "))
    }
}

/// Rebuild the report of a stored run, as the audit printed it: the same visits in the
/// same order, the same findings in the same order, the same acknowledgements (as they
/// stood in the run), the same verdict.
pub async fn stored_report(
    store: &Store,
    run: RunId,
    fail_on: Option<FailOn>,
) -> Result<Option<AuditReport>, StoreError> {
    let Some(record) = store.history().run(run).await? else {
        return Ok(None);
    };
    let mut visits = store.history().visits(run).await?;
    visits.sort_by_key(|v| (v.position.unwrap_or(u64::MAX), v.id));
    let mut signals = Vec::with_capacity(visits.len());
    for v in &visits {
        signals.push((
            crate::signals::view(&store.history().signals(run, Some(&v.scenario)).await?),
            store.history().screenshots(run, Some(&v.scenario)).await?,
        ));
    }
    let summaries: Vec<VisitSummary> = visits
        .into_iter()
        .zip(signals)
        .map(|(v, (signals, screenshots))| VisitSummary {
            duration_ms: crate::outcome::millis_between(v.started_at, v.finished_at),
            scenario: v.scenario,
            status: v.status,
            requests: usize::try_from(v.counts.requests).unwrap_or(usize::MAX),
            third_party_requests: v
                .third_party_requests
                .and_then(|n| usize::try_from(n).ok())
                .unwrap_or(0),
            cookies_stored: usize::try_from(v.counts.cookies).unwrap_or(usize::MAX),
            cookie_writes: usize::try_from(v.counts.cookie_writes).unwrap_or(usize::MAX),
            warnings: v.warnings,
            signals,
            consent_actions: v.cmp,
            screenshots,
            timings: v.timings,
        })
        .collect();
    let mut findings = store.history().findings(run).await?;
    let order: Vec<&str> = summaries.iter().map(|v| v.scenario.as_str()).collect();
    sort_findings(&mut findings, &order);
    let fail_on = fail_on.unwrap_or(record.fail_on);
    let new_fingerprints = new_in_run(store, &record.site, record.id, record.started_at).await?;
    let acknowledgements = store
        .history()
        .run_acks(&[record.id])
        .await?
        .remove(&record.id)
        .unwrap_or_default();
    Ok(Some(
        AuditReport {
            run_id: Some(record.id),
            site: record.site,
            scenario_file: record.scenario_file,
            started_at: record.started_at,
            // A run whose process died has no end: show its start (it is incomplete).
            finished_at: record.finished_at.unwrap_or(record.started_at),
            status: record.status,
            visits: summaries,
            findings,
            fail_on: fail_on.threshold,
            fail_on_new: fail_on.new_only,
            new_fingerprints,
            acknowledgements,
            db_path: Some(store.path().display().to_string()),
            verdict: Verdict::default(),
        }
        .with_verdict(),
    ))
}

/// Fingerprints of the findings new or regressed in run `run` of `site`, judged against
/// every run of the site that started before it (docs/drift.md).
async fn new_in_run(
    store: &Store,
    site: &str,
    run: RunId,
    started_at: chrono::DateTime<Utc>,
) -> Result<Vec<String>, StoreError> {
    let until = started_at + chrono::Duration::nanoseconds(1);
    let history = store
        .history()
        .site_findings_history(site, chrono::DateTime::<Utc>::UNIX_EPOCH, until)
        .await?;
    let lifecycles = crate::drift::lifecycles(&history);
    Ok(lifecycles
        .into_iter()
        .filter(|l| {
            l.timeline.last().is_some_and(|s| {
                s.run_id == run
                    && matches!(
                        s.status,
                        crate::drift::Status::New | crate::drift::Status::Regressed
                    )
            })
        })
        .map(|l| l.fingerprint)
        .collect())
}

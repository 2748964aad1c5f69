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
//! stored as soon as it finishes, and a site's run is finished as soon as its last visit
//! is: an interruption loses only the visits in flight.
//!
//! One site or a fleet of them (docs/fleet.md) run the same way: one store, one engine
//! and its job slots shared by every site ([`audit_fleet`]); each site is a [`SiteRun`]
//! with its own run record. [`audit`] is a fleet of one.
//!
//! Once the reports are written, [`notify`] posts what is new or regressed (and incomplete
//! runs) to the alert targets and stores the deliveries (docs/alerts.md); it never changes
//! the verdict.

pub mod draft;
mod har;
mod judge;
mod notify;
pub mod queue;
mod site;
mod stored;

pub use har::{har_file_names, is_purged, stored_hars, HarOutcome, StoredHar};
pub use notify::{notify, About, Notified, NotifyConfig};
pub use stored::stored_report;

use crate::ack::Acks;
use crate::crawl::CrawlPlan;
use crate::engine::{Cancel, Engine, EngineConfig, Job, Pace};
use crate::fleet::{FleetSpec, SiteLimits};
use crate::model::{RunStatus, VisitObservation};
use crate::outcome::{AuditReport, FailOn};
use crate::scenario::{AuditSpec, Scenario};
use crate::store::{FleetRunId, Store, StoreError};
use chrono::{DateTime, Utc};
use futures_util::StreamExt;
use site::SiteRun;
use std::path::PathBuf;

/// What to audit and how.
#[derive(Debug, Clone)]
pub struct AuditConfig {
    /// The scenario file as the user named it (shown in reports).
    pub scenario_file: String,
    /// Scenario ids to run, in order; empty: the file's run list.
    pub scenarios: Vec<String>,
    pub fail_on: FailOn,
    pub db: crate::store::DbLocation,
    pub engine: EngineConfig,
    /// The acknowledgements in force (validated before the audit starts; empty: none).
    pub acks: Acks,
    /// The reports directory: screenshots go to `<dir>/<site>/run-<id>/`
    /// ([`crate::screenshots::run_dir`]).
    pub reports_dir: PathBuf,
    /// How many times each scenario is visited, each in a fresh browser context (at
    /// least 1; docs/findings.md, "Repetitions").
    pub repeat: u32,
}

/// How a fleet is audited: what [`AuditConfig`] says for one site, for all of them.
#[derive(Debug, Clone)]
pub struct FleetConfig {
    /// Scenario ids to run in every site that has them; empty: each site's run list.
    pub scenarios: Vec<String>,
    pub fail_on: FailOn,
    pub db: crate::store::DbLocation,
    pub engine: EngineConfig,
    pub reports_dir: PathBuf,
    /// At most this many visits of one site at once, and the least time between two
    /// page loads of one site.
    pub limits: SiteLimits,
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

/// Where the pipeline reports progress (terminal bars, CI log lines, nothing).
pub trait Progress: Sync {
    /// The run starts: each site with its number of visits, `jobs` visits at once.
    fn started(&self, sites: &[(&str, usize)], jobs: usize);
    fn visit_done(&self, site: &str, obs: &VisitObservation);
    /// A visit could not be stored; the audit goes on and ends with an error.
    fn store_failed(&self, site: &str, scenario: &str, error: &StoreError);
    /// A site's last visit is in and its run is finished.
    fn site_finished(&self, report: &AuditReport);
    /// A site's pages were discovered (`[site] crawl`).
    fn discovered(&self, _site: &str, _plan: &CrawlPlan) {}
    fn finished(&self);
}

/// Progress that says nothing.
pub struct Silent;

impl Progress for Silent {
    fn started(&self, _: &[(&str, usize)], _: usize) {}
    fn visit_done(&self, _: &str, _: &VisitObservation) {}
    fn store_failed(&self, _: &str, _: &str, _: &StoreError) {}
    fn site_finished(&self, _: &AuditReport) {}
    fn finished(&self) {}
}

/// What an audit of one site produced.
#[derive(Debug)]
pub struct AuditRun {
    pub report: AuditReport,
    /// Something could not be written to the database (the report is still complete).
    pub storage_errors: Vec<String>,
    /// Browser profile directories that could not be deleted.
    pub leftover_profiles: Vec<String>,
    /// From the start of the site's first visit to the end of its last (in a fleet, a
    /// site's run starts with the fleet and may wait for a browser: this is its own time).
    pub active_ms: u64,
}

/// What a fleet run produced: each site's run, in fleet order.
#[derive(Debug)]
pub struct FleetRun {
    /// The fleet run's id in the database (ties the sites' runs together).
    pub id: Option<FleetRunId>,
    pub name: String,
    pub started_at: DateTime<Utc>,
    pub finished_at: DateTime<Utc>,
    pub sites: Vec<AuditRun>,
    /// Something about the fleet run itself could not be written.
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

/// One site to audit, as the pipeline takes it.
pub struct SiteInput<'a> {
    pub spec: &'a AuditSpec,
    /// Where the site was declared, as shown in reports.
    pub scenario_file: &'a str,
    pub acks: &'a Acks,
    pub scenarios: Vec<&'a Scenario>,
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
    let site = SiteInput {
        spec,
        scenario_file: &cfg.scenario_file,
        acks: &cfg.acks,
        scenarios: selected,
    };
    let shared = Shared {
        fail_on: cfg.fail_on,
        db: &cfg.db,
        engine: &cfg.engine,
        reports_dir: &cfg.reports_dir,
        // One site audited alone: its scenarios run as many at once as there are jobs.
        limits: SiteLimits {
            per_site: usize::MAX,
            page_delay: std::time::Duration::ZERO,
            repeat: cfg.repeat,
        },
    };
    let mut run = run_sites(vec![site], None, &shared, cancel, progress).await?;
    let mut one = run.sites.pop().ok_or_else(|| {
        AuditError::Engine(anyhow::anyhow!("the audit ended without its site's run"))
    })?;
    one.storage_errors.extend(run.storage_errors);
    one.leftover_profiles = run.leftover_profiles;
    Ok(one)
}

/// Audit every site of a fleet in one run (docs/fleet.md): one store, one engine whose
/// job slots every site shares, at most `limits.per_site` visits of one site at once.
/// Each site gets its own run record, tied to the others by a fleet run; a site whose
/// pages cannot be loaded is not observed and never holds the others up.
pub async fn audit_fleet(
    fleet: &FleetSpec,
    cfg: &FleetConfig,
    cancel: Cancel,
    progress: &dyn Progress,
) -> Result<FleetRun, AuditError> {
    let sites = fleet_sites(fleet, &cfg.scenarios)?;
    let shared = Shared {
        fail_on: cfg.fail_on,
        db: &cfg.db,
        engine: &cfg.engine,
        reports_dir: &cfg.reports_dir,
        limits: cfg.limits,
    };
    let file = fleet.path.as_ref().map(|p| p.display().to_string());
    let invalid: Vec<&str> = fleet.invalid.iter().map(|s| s.label.as_str()).collect();
    let about = FleetAbout {
        name: &fleet.name,
        file: file.as_deref(),
        not_audited: &invalid,
    };
    run_sites(sites, Some(about), &shared, cancel, progress).await
}

/// The sites of a fleet as the pipeline takes them, each with the scenarios of
/// `scenarios` it has (all of its own when empty); an error when a scenario of
/// `scenarios` is no site's.
fn fleet_sites<'f>(
    fleet: &'f FleetSpec,
    scenarios: &[String],
) -> Result<Vec<SiteInput<'f>>, AuditError> {
    let mut sites = Vec::with_capacity(fleet.sites.len());
    for s in &fleet.sites {
        // `--scenario` names scenarios of any site: each runs those it has.
        let own: Vec<&Scenario> = if scenarios.is_empty() {
            s.spec.scenarios.iter().collect()
        } else {
            scenarios
                .iter()
                .filter_map(|id| s.spec.scenarios.iter().find(|sc| &sc.id == id))
                .collect()
        };
        sites.push(SiteInput {
            spec: &s.spec,
            scenario_file: &s.scenario_file,
            acks: &s.acks,
            scenarios: own,
        });
    }
    if let Some(id) = scenarios.iter().find(|id| {
        !sites
            .iter()
            .any(|s| s.scenarios.iter().any(|sc| &&sc.id == id))
    }) {
        return Err(AuditError::UnknownScenario {
            file: fleet
                .path
                .as_ref()
                .map(|p| p.display().to_string())
                .unwrap_or_else(|| "the fleet".into()),
            id: id.clone(),
            known: "no site of the fleet has it".into(),
        });
    }
    Ok(sites)
}

/// A fleet run's record: its name, its file, and the sites left out (invalid files).
struct FleetAbout<'a> {
    name: &'a str,
    file: Option<&'a str>,
    not_audited: &'a [&'a str],
}

/// What every site of a run shares.
struct Shared<'a> {
    fail_on: FailOn,
    db: &'a crate::store::DbLocation,
    engine: &'a EngineConfig,
    reports_dir: &'a std::path::Path,
    limits: SiteLimits,
}

/// `spec` visiting the pages of `plan` (its listed pages first, then the sample).
fn with_planned_pages(spec: &AuditSpec, plan: &CrawlPlan) -> AuditSpec {
    let mut spec = spec.clone();
    if !plan.pages.is_empty() {
        spec.site.pages = plan.pages.iter().map(|p| p.url.clone()).collect();
    }
    spec
}

/// The one driver of every audit: `fleet` (its name and file) is `Some` for a fleet run,
/// which gets a fleet-run record.
async fn run_sites(
    sites: Vec<SiteInput<'_>>,
    fleet: Option<FleetAbout<'_>>,
    shared: &Shared<'_>,
    cancel: Cancel,
    progress: &dyn Progress,
) -> Result<FleetRun, AuditError> {
    let store = Store::open(shared.db).await?;
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
    // `[cmp] auto = true`: autoconsent's bundle is found before any browser starts
    // (beside the first site that needs it).
    let needs_autoconsent = sites
        .iter()
        .find(|s| s.scenarios.iter().any(|sc| sc.uses_autoconsent()));
    let autoconsent = match needs_autoconsent {
        Some(s) => Some(
            shared
                .engine
                .locate_autoconsent(&s.spec.path)
                .map_err(|e| AuditError::Engine(anyhow::anyhow!(e)))?,
        ),
        None => None,
    };
    // The vendor and cookie knowledge (docs/knowledge.md), found beside the first site:
    // a bundled set missing is one notice; an unreadable --vendor-db stops here.
    let knowledge = shared
        .engine
        .load_knowledge(
            sites
                .first()
                .map_or(std::path::Path::new("."), |s| s.spec.path.as_path()),
        )
        .map_err(|e| AuditError::Engine(anyhow::anyhow!(e)))?;
    for notice in &knowledge.notices {
        crate::stderr::line(format_args!("{notice}"));
    }
    let knowledge = std::sync::Arc::new(knowledge.base);
    let mut engine = Engine::start(shared.engine, hasher.clone())
        .await
        .map_err(AuditError::Engine)?;
    // What each run records of the data it ran with (docs/packaging.md).
    let data_versions = crate::data::DataVersions::with_autoconsent(
        autoconsent.as_ref().and_then(|b| b.version.clone()),
    )
    .with_knowledge(knowledge.versions());
    engine.set_autoconsent(autoconsent);
    let started_at = Utc::now();
    let mut storage_errors = Vec::new();
    let fleet_id = match &fleet {
        Some(f) => match store
            .writer()
            .start_fleet_run(f.name, f.file, started_at)
            .await
        {
            Ok(id) => Some(id),
            Err(e) => {
                engine.shutdown().await;
                return Err(e.into());
            }
        },
        None => None,
    };

    // Page discovery (`[site] crawl`, docs/crawl.md), before any scenario: a site's
    // scenarios visit its listed pages and the sample discovery planned, and the plan is
    // stored with its run. Sites discover at once, as many as there are job slots.
    let plans: Vec<Option<CrawlPlan>> = futures_util::stream::iter(sites.iter())
        .map(|site| {
            let (engine, cancel) = (&engine, cancel.clone());
            async move {
                let spec = site.spec;
                spec.site.crawl.as_ref()?;
                let plan = crate::engine::discover(engine, spec, cancel).await;
                progress.discovered(&spec.site.name, &plan);
                Some(plan)
            }
        })
        .buffered(engine.jobs().max(1))
        .collect()
        .await;
    let crawled: Vec<Option<AuditSpec>> = sites
        .iter()
        .zip(&plans)
        .map(|(site, plan)| plan.as_ref().map(|p| with_planned_pages(site.spec, p)))
        .collect();
    let sites: Vec<SiteInput<'_>> = sites
        .into_iter()
        .zip(&crawled)
        .map(|(site, crawled)| SiteInput {
            spec: crawled.as_ref().unwrap_or(site.spec),
            ..site
        })
        .collect();

    // One slot per job of each site, in run order (each scenario's repetitions side by
    // side: slot = position x repeat + repetition - 1): a visit lands in its slot once,
    // and its single attribution borrows it there, for the visit's own checks and the run's.
    let repeat = shared.limits.repeat.max(1);
    let slots: Vec<Vec<std::sync::OnceLock<VisitObservation>>> = sites
        .iter()
        .map(|s| {
            (0..s.scenarios.len() * repeat as usize)
                .map(|_| std::sync::OnceLock::new())
                .collect()
        })
        .collect();
    let paces: Vec<Pace> = sites
        .iter()
        .map(|_| Pace::new(shared.limits.page_delay))
        .collect();
    let mut runs: Vec<SiteRun<'_>> = Vec::with_capacity(sites.len());
    for ((site, slots), plan) in sites.iter().zip(&slots).zip(&plans) {
        let run = SiteRun::start(
            &store,
            site,
            slots,
            shared,
            site::RunAbout {
                fleet_run: fleet_id,
                data_versions: &data_versions,
                knowledge: &knowledge,
            },
            &hasher,
            plan.as_ref(),
        )
        .await;
        match run {
            Ok(run) => runs.push(run),
            Err(e) => {
                engine.shutdown().await;
                return Err(e.into());
            }
        }
    }
    let counts: Vec<(&str, usize)> = sites
        .iter()
        .map(|s| {
            (
                s.spec.site.name.as_str(),
                s.scenarios.len() * repeat as usize,
            )
        })
        .collect();
    progress.started(&counts, engine.jobs());
    let mut reports: Vec<Option<AuditRun>> = sites.iter().map(|_| None).collect();
    {
        // Interleaved by site (each site's first scenario, then each one's second...),
        // so the job slots spread over the sites from the start; with repetitions, every
        // scenario's first visit comes before any second one. A job's `position` is its
        // slot ([`site::Slot`]).
        let longest = sites.iter().map(|s| s.scenarios.len()).max().unwrap_or(0);
        let mut jobs: Vec<Job> = Vec::new();
        for repetition in 0..repeat as usize {
            for position in 0..longest {
                for (index, site) in sites.iter().enumerate() {
                    if let Some(scenario) = site.scenarios.get(position) {
                        jobs.push(Job {
                            spec: site.spec,
                            scenario,
                            position: position * repeat as usize + repetition,
                            site: index,
                            pace: paces.get(index),
                        });
                    }
                }
            }
        }
        // A site without scenarios (none of `--scenario` is its) finishes at once.
        for (index, run) in runs.iter_mut().enumerate() {
            if run.is_done() {
                finish_site(&store, run, &cancel, progress, &mut reports, index).await;
            }
        }
        let mut stream = std::pin::pin!(engine.run(jobs, shared.limits.per_site, cancel.clone()));
        while let Some((job, obs)) = stream.next().await {
            let Some(run) = runs.get_mut(job.site) else {
                continue; // a job of no site: cannot happen
            };
            run.visit(&store, job.position, obs, progress).await;
            if run.is_done() {
                finish_site(&store, run, &cancel, progress, &mut reports, job.site).await;
            }
        }
    }
    let leftover_profiles = engine.shutdown().await;
    // Sites whose visits never all came back (cannot happen: every job yields a visit)
    // are finished with what they have.
    for (index, run) in runs.iter_mut().enumerate() {
        if reports.get(index).is_some_and(Option::is_none) {
            finish_site(&store, run, &cancel, progress, &mut reports, index).await;
        }
    }
    progress.finished();
    let finished_at = Utc::now();
    let sites: Vec<AuditRun> = reports.into_iter().flatten().collect();
    if let (Some(id), Some(f)) = (fleet_id, &fleet) {
        let status = fleet_status(&sites, f.not_audited);
        if let Err(e) = store
            .writer()
            .finish_fleet_run(id, &status, finished_at)
            .await
        {
            storage_errors.push(format!("could not record the fleet run's end: {e}"));
        }
    }
    store.close().await;
    Ok(FleetRun {
        id: fleet_id,
        name: fleet.map(|f| f.name.to_string()).unwrap_or_default(),
        started_at,
        finished_at,
        sites,
        storage_errors,
        leftover_profiles,
    })
}

async fn finish_site(
    store: &Store,
    run: &mut SiteRun<'_>,
    cancel: &Cancel,
    progress: &dyn Progress,
    reports: &mut [Option<AuditRun>],
    index: usize,
) {
    let interrupted = *cancel.borrow();
    let done = run.finish(store, interrupted).await;
    progress.site_finished(&done.report);
    if let Some(slot) = reports.get_mut(index) {
        *slot = Some(done);
    }
}

/// A fleet run's status: complete when every site's is (and none was left out for its
/// files); interrupted when any site was; else incomplete, naming the sites that were not.
fn fleet_status(sites: &[AuditRun], not_audited: &[&str]) -> RunStatus {
    let sites: Vec<(&str, &RunStatus)> = sites
        .iter()
        .map(|s| (s.report.site.as_str(), &s.report.status))
        .collect();
    fleet_status_of(&sites, not_audited)
}

/// [`fleet_status`] of each site's name and status.
fn fleet_status_of(sites: &[(&str, &RunStatus)], not_audited: &[&str]) -> RunStatus {
    let not: Vec<&str> = sites
        .iter()
        .filter(|(_, status)| !matches!(status, RunStatus::Complete))
        .map(|(site, _)| *site)
        .chain(not_audited.iter().copied())
        .collect();
    let reason = || format!("sites not complete: {}", not.join(", "));
    if sites
        .iter()
        .any(|(_, status)| matches!(status, RunStatus::Interrupted(_)))
    {
        RunStatus::Interrupted(reason())
    } else if not.is_empty() {
        RunStatus::Complete
    } else {
        RunStatus::Incomplete(reason())
    }
}

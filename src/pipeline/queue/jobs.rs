//! One leased job, done the way a run in one process does it (the same stages, the same
//! judging: [`crate::pipeline::judge`]), its result completed in one transaction while
//! the lease is held.

use super::config::{Backoff, WorkerConfig, WorkerLog};
use super::QueueInputs;
use crate::analysis::analyze_visit;
use crate::attribution::{AttributedVisit, Attributor};
use crate::crawl::CrawlPlan;
use crate::engine::{Cancel, Engine, Job, Pace};
use crate::fleet::{FleetSite, FleetSpec};
use crate::model::{Failure, FailureKind, ValueHasher, VisitObservation, VisitStatus};
use crate::scenario::AuditSpec;
use crate::store::queue::{Completion, JobKind, LeasedJob, QueuedFleet, QueuedVisit, SiteFinish};
use crate::store::{FleetRunId, JudgedVisit, RunRecord, Store, StoreError};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// A visit leased this many times without being done is given up: recorded as not
/// observed, so its site's run ends (incomplete, never clean).
pub(super) const MAX_ATTEMPTS: u32 = 3;

/// How a job ended for this worker.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum JobEnd {
    Done,
    /// Its lease went to another worker, which does it.
    Lost,
    /// Given back to the queue.
    Released,
}

/// A queued fleet as this worker loaded it from its files.
pub(super) struct LoadedFleet {
    queued: QueuedFleet,
    inputs: QueueInputs,
    spec: FleetSpec,
}

/// The fleets this worker loaded, by fleet run (a load that failed is kept as its
/// error: each of that fleet's jobs is given back with it).
#[derive(Default)]
pub(super) struct Fleets {
    loaded: Mutex<HashMap<FleetRunId, Arc<Result<LoadedFleet, String>>>>,
}

/// What every job of a worker shares.
pub(super) struct JobCtx<'a> {
    pub store: &'a Store,
    pub engine: &'a Engine,
    pub hasher: &'a ValueHasher,
    pub owner: &'a str,
    pub cfg: &'a WorkerConfig,
    pub data_versions: &'a str,
    /// The vendor and cookie knowledge this worker attributes with.
    pub knowledge: &'a std::sync::Arc<crate::knowledge::KnowledgeBase>,
    pub fleets: Fleets,
    pub log: &'a dyn WorkerLog,
    pub cancel: Cancel,
}

/// Why a job could not be done by this worker now: given back with this reason.
struct GiveBack(String);

impl From<StoreError> for GiveBack {
    fn from(e: StoreError) -> Self {
        GiveBack(e.to_string())
    }
}

impl JobCtx<'_> {
    /// Do one leased job.
    pub(super) async fn run(&self, job: LeasedJob) -> JobEnd {
        // The site's run, read once: for the log lines and for the job itself.
        let run = self.run_of(&job).await;
        let label = label(&job, run.as_ref().ok().and_then(Option::as_ref));
        self.log.line(format_args!(
            "{}: {} {label} (attempt {})",
            self.owner,
            job.kind.as_str(),
            job.attempts
        ));
        let done = match (job.kind, run) {
            (JobKind::FinishFleet, _) => self.finish_fleet(&job).await,
            (_, Err(e)) => Err(e),
            (_, Ok(None)) => Err(GiveBack("a site's job without its run".into())),
            (JobKind::Discover, Ok(Some(run))) => self.discover(&job, &run).await,
            (JobKind::Visit, Ok(Some(run))) => self.visit(&job, &run).await,
            (JobKind::FinishSite, Ok(Some(run))) => self.finish_site(&job, &run).await,
        };
        let end = match done {
            Ok(Completion::Done) => JobEnd::Done,
            Ok(Completion::LeaseLost) => JobEnd::Lost,
            Err(GiveBack(why)) => {
                self.log.line(format_args!(
                    "{}: {} {label}: given back: {why}",
                    self.owner,
                    job.kind.as_str()
                ));
                let _ = self
                    .persist(async || self.store.queue().release(&job, self.owner, &why).await)
                    .await;
                JobEnd::Released
            }
        };
        if end == JobEnd::Lost {
            self.log.line(format_args!(
                "{}: {} {label}: its lease ran out and another worker holds it; this result is dropped",
                self.owner,
                job.kind.as_str()
            ));
        }
        end
    }

    /// The run of a site's job (`None` for the fleet's finish).
    async fn run_of(&self, job: &LeasedJob) -> Result<Option<RunRecord>, GiveBack> {
        let Some(id) = job.run else {
            return Ok(None);
        };
        self.persist(async || self.store.history().run(id).await)
            .await?
            .map(Some)
            .ok_or_else(|| GiveBack(format!("run {id} is not in the database")))
    }

    /// A store call tried again while the database is unreachable or busy, until it
    /// answers or the worker is stopped; any other error at once (it would fail again).
    async fn persist<T>(
        &self,
        call: impl AsyncFn() -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let mut backoff = Backoff::default();
        let mut warned = false;
        loop {
            match call().await {
                Ok(v) => return Ok(v),
                Err(e) if *self.cancel.borrow() || !(e.is_unreachable() || e.is_busy()) => {
                    return Err(e)
                }
                Err(e) => {
                    if !warned {
                        self.log
                            .line(format_args!("{}: database: {e}; trying again", self.owner));
                        warned = true;
                    }
                    backoff.grow();
                    tokio::time::sleep(backoff.pause(Duration::from_millis(500))).await;
                }
            }
        }
    }

    /// The fleet of `fleet_run`, read from the queue and loaded from the files it was
    /// enqueued with once, then kept (a load that failed too, as its error).
    async fn fleet(
        &self,
        fleet_run: FleetRunId,
    ) -> Result<Arc<Result<LoadedFleet, String>>, GiveBack> {
        if let Some(f) = self.cached(fleet_run) {
            return Ok(f);
        }
        let queued = self
            .persist(async || self.store.queue().fleet(fleet_run).await)
            .await?
            .ok_or_else(|| GiveBack(format!("fleet run {fleet_run} is not queued")))?;
        let mut loaded = self.fleets.loaded.lock().unwrap_or_else(|e| e.into_inner());
        Ok(loaded
            .entry(fleet_run)
            .or_insert_with(|| Arc::new(load_fleet(queued)))
            .clone())
    }

    fn cached(&self, fleet_run: FleetRunId) -> Option<Arc<Result<LoadedFleet, String>>> {
        let loaded = self.fleets.loaded.lock().unwrap_or_else(|e| e.into_inner());
        loaded.get(&fleet_run).cloned()
    }

    /// A visit of one scenario.
    async fn visit(&self, job: &LeasedJob, run: &RunRecord) -> Result<Completion, GiveBack> {
        let fleet = self.fleet(job.fleet_run).await?;
        let loaded = fleet.as_ref().as_ref().map_err(|e| GiveBack(e.clone()))?;
        let site = site_in(loaded, run)?;
        let spec = planned_spec(&site.spec, run.crawl.as_ref());
        let id = job.scenario.as_deref().unwrap_or_default();
        let scenario = spec
            .scenarios
            .iter()
            .find(|s| s.id == id)
            .ok_or_else(|| GiveBack(format!("{}: no scenario {id:?}", site.scenario_file)))?;
        let position = job.position.unwrap_or(0);
        let obs = if job.attempts > MAX_ATTEMPTS {
            crate::engine::not_observed(
                &spec,
                scenario,
                Failure::new(
                    FailureKind::Other,
                    format!(
                        "no worker finished this visit in {MAX_ATTEMPTS} attempts (each one \
                         holding it stopped or gave it back)"
                    ),
                ),
            )
        } else {
            let pace = Pace::new(Duration::from_millis(loaded.queued.page_delay_ms));
            let one = Job {
                spec: &spec,
                scenario,
                position,
                site: 0,
                pace: Some(&pace),
            };
            self.engine.visit_one(one, self.cancel.clone()).await
        };
        if let Some(why) = retry_reason(&obs, job.attempts) {
            return Err(GiveBack(why));
        }
        let reports = self
            .cfg
            .reports_dir
            .as_ref()
            .or(loaded.spec.reports.as_ref())
            .unwrap_or(&self.cfg.default_reports_dir);
        let shots = crate::screenshots::run_dir(reports, &spec.site.name, run.id);
        let obs = crate::pipeline::judge::prepare_visit(obs, &spec, self.hasher, &shots, position);
        let attributor =
            Attributor::new(&spec.site, &spec.policy).with_knowledge(self.knowledge.clone());
        let visit = attributor.visit(&obs);
        let judged = analyze_visit(&spec.site, &spec.policy, &visit);
        let inventory = crate::inventory::of_visit(&visit);
        let json = serde_json::to_string(&obs)
            .map_err(|e| GiveBack(format!("the visit could not be kept: {e}")))?;
        let queued = QueuedVisit {
            judged: JudgedVisit {
                position: Some(position),
                repetition: 1,
                obs: &obs,
                third_party_requests: Some(visit.third_party_requests()),
                findings: &judged,
                inventory: Some(&inventory),
            },
            observation: &json,
            data_versions: Some(self.data_versions),
        };
        let done = self
            .persist(async || {
                self.store
                    .queue()
                    .complete_visit(job, self.owner, &queued)
                    .await
            })
            .await?;
        if done == Completion::Done {
            self.log.line(format_args!(
                "{}: visited {}/{}: {}, {} finding(s)",
                self.owner,
                spec.site.name,
                obs.scenario,
                match &obs.status {
                    VisitStatus::Complete => "observed".to_string(),
                    VisitStatus::Incomplete(f) => format!("not observed ({})", f.reason),
                },
                judged.len()
            ));
        }
        Ok(done)
    }

    /// A site's page discovery, then its visits queued.
    async fn discover(&self, job: &LeasedJob, run: &RunRecord) -> Result<Completion, GiveBack> {
        let fleet = self.fleet(job.fleet_run).await?;
        let loaded = fleet.as_ref().as_ref().map_err(|e| GiveBack(e.clone()))?;
        let site = site_in(loaded, run)?;
        let scenarios: Vec<&str> = selected(&site.spec, &loaded.inputs.scenarios);
        // Given up after its attempts: the listed pages only, without a plan.
        let plan = if job.attempts > MAX_ATTEMPTS {
            None
        } else {
            let plan = crate::engine::discover(self.engine, &site.spec, self.cancel.clone()).await;
            if *self.cancel.borrow() {
                return Err(GiveBack("the worker was stopped".into()));
            }
            Some(plan)
        };
        let plan_json =
            match plan.map(|p| crate::pipeline::site::redacted_plan(&site.spec.site.secrets, &p)) {
                Some(Ok((_, json))) => Some(json),
                Some(Err(e)) => {
                    self.log.line(format_args!(
                        "{}: {}: the crawl plan was not stored: {e}",
                        self.owner, site.spec.site.name
                    ));
                    None
                }
                None => None,
            };
        self.persist(async || {
            self.store
                .queue()
                .complete_discover(job, self.owner, plan_json.as_deref(), &scenarios)
                .await
        })
        .await
        .map_err(GiveBack::from)
    }

    /// A site's run judged as a whole and finished, from the observations its visits kept.
    async fn finish_site(&self, job: &LeasedJob, run: &RunRecord) -> Result<Completion, GiveBack> {
        let fleet = self.fleet(job.fleet_run).await?;
        let loaded = fleet.as_ref().as_ref().map_err(|e| GiveBack(e.clone()))?;
        let site = site_in(loaded, run)?;
        let spec = planned_spec(&site.spec, run.crawl.as_ref());
        let kept = self
            .persist(async || self.store.queue().observations(run.id).await)
            .await?;
        let mut observations: Vec<VisitObservation> = Vec::with_capacity(kept.len());
        let mut versions: Vec<String> = Vec::new();
        for (_, json, v) in &kept {
            let obs: VisitObservation = serde_json::from_str(json)
                .map_err(|e| GiveBack(format!("a kept observation does not read: {e}")))?;
            observations.push(obs);
            if let Some(v) = v.as_ref().filter(|v| !versions.contains(v)) {
                versions.push(v.clone());
            }
        }
        let attributor =
            Attributor::new(&spec.site, &spec.policy).with_knowledge(self.knowledge.clone());
        let visits: Vec<AttributedVisit> =
            observations.iter().map(|o| attributor.visit(o)).collect();
        let findings = visits
            .iter()
            .flat_map(|v| analyze_visit(&spec.site, &spec.policy, v))
            .collect();
        let judged = crate::pipeline::judge::judge_run(&spec, &visits, findings);
        let acks = site
            .acks
            .for_run(&run.site, run.started_at, &judged.findings);
        let status = crate::pipeline::judge::run_status(false, &judged.summaries, &[]);
        // Workers with other data versions: all of them, in the order their visits ran.
        let data_versions =
            (!versions.is_empty()).then(|| versions.join(crate::data::STORED_SEPARATOR));
        let finish = SiteFinish {
            findings: &judged.run_level,
            status,
            finished_at: chrono::Utc::now(),
            acks: &acks,
            data_versions: data_versions.as_deref(),
        };
        let done = self
            .persist(async || {
                self.store
                    .queue()
                    .complete_site(job, self.owner, &finish)
                    .await
            })
            .await?;
        if done == Completion::Done {
            self.log.line(format_args!(
                "{}: finished {} (run {}): {}, {} finding(s)",
                self.owner,
                run.site,
                run.id,
                finish.status.as_str(),
                judged.findings.len()
            ));
        }
        Ok(done)
    }

    /// The fleet run finished: its status from its sites', then its alerts.
    async fn finish_fleet(&self, job: &LeasedJob) -> Result<Completion, GiveBack> {
        let fleet = self.fleet(job.fleet_run).await?;
        let loaded = fleet.as_ref().as_ref().ok();
        let runs = self
            .persist(async || self.store.history().fleet_run_sites(job.fleet_run).await)
            .await?;
        let sites: Vec<(&str, &crate::model::RunStatus)> =
            runs.iter().map(|r| (r.site.as_str(), &r.status)).collect();
        let invalid: Vec<&str> = loaded
            .map(|l| l.spec.invalid.iter().map(|s| s.label.as_str()).collect())
            .unwrap_or_default();
        let status = crate::pipeline::fleet_status_of(&sites, &invalid);
        let finished_at = chrono::Utc::now();
        let done = self
            .persist(async || {
                self.store
                    .queue()
                    .complete_fleet(job, self.owner, &status, finished_at)
                    .await
            })
            .await?;
        if done != Completion::Done {
            return Ok(done);
        }
        self.log.line(format_args!(
            "{}: fleet run {} finished: {}",
            self.owner,
            job.fleet_run,
            status.as_str()
        ));
        if let Some(loaded) = loaded {
            self.alert(job.fleet_run, loaded, &runs).await;
        }
        Ok(done)
    }

    /// Post the fleet's alert (at most once: after its finish is stored).
    async fn alert(&self, fleet_run: FleetRunId, loaded: &LoadedFleet, runs: &[RunRecord]) {
        let mut cfg = self.cfg.notify.clone();
        if cfg.targets.is_empty() {
            cfg.targets = loaded.spec.notify.clone();
            let secret = std::env::var(crate::notify::SECRET_ENV).ok();
            match crate::notify::signer_for(&cfg.targets, secret.as_deref()) {
                Ok(signer) => cfg.signer = signer,
                Err(e) => {
                    self.log
                        .line(format_args!("{}: no alert sent: {e}", self.owner));
                    return;
                }
            }
        }
        if cfg.targets.is_empty() {
            return;
        }
        let mut reports = Vec::with_capacity(runs.len());
        for r in runs {
            match crate::pipeline::stored_report(self.store, r.id, None).await {
                Ok(Some(report)) => reports.push(report),
                Ok(None) => {}
                Err(e) => {
                    self.log
                        .line(format_args!("{}: no alert sent: {e}", self.owner));
                    return;
                }
            }
        }
        let none = crate::secrets::Secrets::default();
        let inputs: Vec<crate::notify::SiteInput<'_>> = reports
            .iter()
            .map(|report| crate::notify::SiteInput {
                report,
                report_path: None,
                secrets: loaded
                    .spec
                    .sites
                    .iter()
                    .find(|s| s.spec.site.name == report.site)
                    .map_or(&none, |s| &s.spec.site.secrets),
            })
            .collect();
        let not_audited: Vec<(&str, usize)> = loaded
            .spec
            .invalid
            .iter()
            .map(|s| (s.label.as_str(), s.errors))
            .collect();
        let started = runs.iter().map(|r| r.started_at).min().unwrap_or_default();
        let n = crate::notify::Notification::of_fleet(
            &loaded.spec.name,
            Some(fleet_run),
            started,
            &inputs,
            &not_audited,
        );
        let notified = crate::pipeline::notify(
            &self.cfg.db,
            Some(crate::pipeline::About::FleetRun(fleet_run)),
            n.as_ref(),
            &cfg,
        )
        .await;
        for d in notified.deliveries.iter().filter(|d| !d.delivered) {
            self.log.line(format_args!(
                "{}: alert to {} not delivered: {}",
                self.owner,
                d.target,
                d.error.as_deref().unwrap_or("unknown error")
            ));
        }
    }
}

/// `site/scenario` of a job, for log lines.
fn label(job: &LeasedJob, run: Option<&RunRecord>) -> String {
    let site = match (run, job.run) {
        (Some(r), _) => r.site.clone(),
        (None, Some(id)) => format!("run {id}"),
        (None, None) => format!("fleet run {}", job.fleet_run),
    };
    match &job.scenario {
        Some(s) => format!("{site}/{s}"),
        None => site,
    }
}

/// Load a queued fleet from its files, as `consentry audit` would (with `--gvl`'s
/// checks applied to each site's map).
fn load_fleet(queued: QueuedFleet) -> Result<LoadedFleet, String> {
    let inputs: QueueInputs = serde_json::from_str(&queued.inputs).map_err(|e| {
        format!(
            "fleet run {}: its inputs do not read: {e}",
            queued.fleet_run
        )
    })?;
    let env = |name: &str| std::env::var(name).ok();
    let (mut spec, _) =
        crate::fleet::inputs::load_inputs(&inputs.files, inputs.acks.as_deref(), &env).map_err(
            |d| {
                format!(
                    "the fleet's files do not load here: {}",
                    d.to_string().trim()
                )
            },
        )?;
    if let Some(path) = &inputs.gvl {
        let gvl = crate::policy::gvl::load_gvl(path)
            .map_err(|d| format!("the GVL does not load here: {}", d.to_string().trim()))?;
        for site in &mut spec.sites {
            let issues = crate::policy::gvl::lint(&site.spec.policy, &gvl);
            site.spec.policy.map_issues.extend(issues);
        }
    }
    Ok(LoadedFleet {
        queued,
        inputs,
        spec,
    })
}

/// The site of `run` in `fleet`, refused when its files differ from those enqueued.
fn site_in<'f>(fleet: &'f LoadedFleet, run: &RunRecord) -> Result<&'f FleetSite, GiveBack> {
    let site = fleet
        .spec
        .sites
        .iter()
        .find(|s| s.spec.site.name == run.site)
        .ok_or_else(|| {
            GiveBack(format!(
                "no site {:?} in this worker's copy of the fleet",
                run.site
            ))
        })?;
    let same = run.scenario_digest.as_deref() == Some(site.spec.digest.as_str())
        && run.policy_digest.as_deref() == Some(site.spec.policy.digest.as_str());
    if !same {
        return Err(GiveBack(format!(
            "{}: this worker's copy differs from the one enqueued (scenario or policy digest)",
            site.scenario_file
        )));
    }
    Ok(site)
}

/// The scenarios of `spec` named in `ids` (its own when empty), as ids.
fn selected<'s>(spec: &'s AuditSpec, ids: &[String]) -> Vec<&'s str> {
    spec.scenarios
        .iter()
        .filter(|s| ids.is_empty() || ids.contains(&s.id))
        .map(|s| s.id.as_str())
        .collect()
}

/// `spec` visiting the pages of its stored plan, when it has one.
fn planned_spec(spec: &AuditSpec, plan: Option<&CrawlPlan>) -> AuditSpec {
    match plan {
        Some(plan) => crate::pipeline::with_planned_pages(spec, plan),
        None => spec.clone(),
    }
}

/// Why a visit is given back instead of kept: the worker was stopped in it, or its
/// browser failed on its first attempt (tried once more, by whichever worker leases it).
fn retry_reason(obs: &VisitObservation, attempts: u32) -> Option<String> {
    let VisitStatus::Incomplete(f) = &obs.status else {
        return None;
    };
    match f.kind {
        FailureKind::Cancelled => Some("the worker was stopped".into()),
        FailureKind::BrowserCrashed
        | FailureKind::SessionFailed
        | FailureKind::CaptureUnavailable
            if attempts < 2 =>
        {
            Some(format!(
                "the browser failed ({}); tried once more",
                f.reason
            ))
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn failed(kind: FailureKind) -> VisitObservation {
        let at = chrono::Utc::now();
        VisitObservation {
            scenario: "accept_all".into(),
            started_at: at,
            finished_at: at,
            status: VisitStatus::Incomplete(Failure::new(kind, "gone")),
            steps: Vec::new(),
            requests: Vec::new(),
            cookie_writes: Vec::new(),
            cookies: Vec::new(),
            storage_writes: Vec::new(),
            page_errors: Vec::new(),
            signals: Vec::new(),
            cmp: Vec::new(),
            screenshots: Vec::new(),
            final_state: crate::model::ConsentState::initial(),
            warnings: Vec::new(),
            timings: Default::default(),
            login: None,
        }
    }

    #[test]
    fn a_failed_browser_is_tried_once_more_and_a_site_problem_never() {
        // The browser's own failures: given back on the first attempt only.
        for kind in [
            FailureKind::BrowserCrashed,
            FailureKind::SessionFailed,
            FailureKind::CaptureUnavailable,
        ] {
            assert!(retry_reason(&failed(kind), 1).is_some(), "{kind:?}");
            assert_eq!(retry_reason(&failed(kind), 2), None, "{kind:?} twice");
        }
        // A stopped worker gives any attempt back.
        assert!(retry_reason(&failed(FailureKind::Cancelled), 3).is_some());
        // What the site did is the result: kept at once.
        for kind in [
            FailureKind::NavigationFailed,
            FailureKind::PageLoadTimeout,
            FailureKind::ElementNotFound,
        ] {
            assert_eq!(retry_reason(&failed(kind), 1), None, "{kind:?}");
        }
    }
}

//! One site's run inside an audit: started in the store, fed its visits as the engine
//! finishes them (each judged and stored at once), finished when its last visit is in.

use super::{AuditRun, Progress, Shared, SiteInput};
use crate::analysis::{analyze_visit, Finding};
use crate::attribution::{AttributedVisit, Attributor};
use crate::crawl::CrawlPlan;
use crate::data::DataVersions;
use crate::model::{ValueHasher, VisitObservation};
use crate::outcome::{AuditReport, Verdict};
use crate::store::{FleetRunId, JudgedVisit, RunId, RunStart, Store, StoreError};
use chrono::{DateTime, Utc};
use std::path::PathBuf;
use std::sync::OnceLock;

/// A site's run while its visits come in.
pub(super) struct SiteRun<'a> {
    site: &'a SiteInput<'a>,
    fail_on: crate::outcome::FailOn,
    db_path: String,
    run_id: RunId,
    started_at: DateTime<Utc>,
    attributor: Attributor<'a>,
    hasher: &'a ValueHasher,
    shots_dir: PathBuf,
    /// One per visit (selected scenario x repetition), in run order; a visit lands in its
    /// slot once.
    slots: &'a [OnceLock<VisitObservation>],
    /// How many times each scenario is visited (slot = position x repeat + repetition - 1).
    repeat: usize,
    /// Each visit with its slot, and its own findings.
    visits: Vec<(usize, AttributedVisit<'a, 'a>, Vec<Finding>)>,
    storage_errors: Vec<String>,
    /// Scenarios observed (or not) whose visit could not be written: the run is not
    /// complete in the database, whatever the report in memory holds.
    unstored: Vec<String>,
    received: usize,
    /// The crawl plan its scenarios followed, as stored (secrets redacted).
    crawl: Option<CrawlPlan>,
    /// The data it runs with, as stored with the run.
    data_versions: DataVersions,
}

/// What a site's run record says beyond its own input: the fleet run it belongs to and
/// the data versions it ran with (stored as [`DataVersions::stored`], and in its report).
#[derive(Debug, Clone, Copy)]
pub(super) struct RunAbout<'s> {
    pub fleet_run: Option<FleetRunId>,
    pub data_versions: &'s DataVersions,
    /// The vendor and cookie knowledge its visits are attributed with.
    pub knowledge: &'s std::sync::Arc<crate::knowledge::KnowledgeBase>,
}

impl<'a> SiteRun<'a> {
    /// Record the run's start and the declared map it audits against.
    pub(super) async fn start(
        store: &Store,
        site: &'a SiteInput<'a>,
        slots: &'a [OnceLock<VisitObservation>],
        shared: &Shared<'_>,
        about: RunAbout<'_>,
        hasher: &'a ValueHasher,
        plan: Option<&CrawlPlan>,
    ) -> Result<SiteRun<'a>, StoreError> {
        let spec = site.spec;
        let started_at = Utc::now();
        let run_id = store
            .writer()
            .start_run(&RunStart {
                site: &spec.site.name,
                scenario_file: site.scenario_file,
                started_at,
                scenario_digest: Some(&spec.digest),
                policy_digest: Some(&spec.policy.digest),
                fail_on: shared.fail_on,
                fleet_run: about.fleet_run,
                data_versions: Some(&about.data_versions.stored()),
                vantage: Some(&spec.browser.vantage),
            })
            .await?;
        store
            .writer()
            .record_declarations(run_id, &crate::inventory::declarations(&spec.policy))
            .await?;
        // The pages discovery planned, stored with the run; the report names each
        // evidence's template from the same redacted plan.
        let mut storage_errors = Vec::new();
        let crawl = match plan.map(|p| redacted_plan(&spec.site.secrets, p)) {
            Some(Ok((plan, json))) => {
                store.writer().record_crawl_plan(run_id, &json).await?;
                Some(plan)
            }
            Some(Err(e)) => {
                storage_errors.push(format!("the crawl plan was not stored: {e}"));
                None
            }
            None => None,
        };
        Ok(SiteRun {
            site,
            fail_on: shared.fail_on,
            db_path: shared.db.to_string(),
            run_id,
            started_at,
            attributor: Attributor::new(&spec.site, &spec.policy)
                .with_knowledge(about.knowledge.clone()),
            hasher,
            shots_dir: crate::screenshots::run_dir(shared.reports_dir, &spec.site.name, run_id),
            slots,
            repeat: shared.limits.repeat.max(1) as usize,
            visits: Vec::with_capacity(slots.len()),
            storage_errors,
            unstored: Vec::new(),
            received: 0,
            crawl,
            data_versions: about.data_versions.clone(),
        })
    }

    /// Every selected scenario's visit is in.
    pub(super) fn is_done(&self) -> bool {
        self.received >= self.slots.len()
    }

    /// One visit, as the engine hands it over (`slot`: its job's position): decoded,
    /// bounded, redacted, attributed, judged and stored (with its findings and inventory,
    /// one transaction).
    pub(super) async fn visit(
        &mut self,
        store: &Store,
        slot_index: usize,
        obs: VisitObservation,
        progress: &dyn Progress,
    ) {
        self.received += 1;
        let spec = self.site.spec;
        let (position, repetition) = (slot_index / self.repeat, slot_index % self.repeat + 1);
        // Screenshots are named by slot, so repetitions never overwrite each other's.
        let obs = super::judge::prepare_visit(obs, spec, self.hasher, &self.shots_dir, slot_index);
        let Some(slot) = self.slots.get(slot_index) else {
            return; // a job the engine was never given: cannot happen
        };
        let obs = slot.get_or_init(|| obs);
        let visit = self.attributor.visit(obs);
        let judged = analyze_visit(&spec.site, &spec.policy, &visit);
        let inventory = crate::inventory::of_visit(&visit);
        let stored = store
            .writer()
            .record_judged_visit(
                self.run_id,
                &JudgedVisit {
                    position: Some(position),
                    repetition: u32::try_from(repetition).unwrap_or(u32::MAX),
                    obs,
                    third_party_requests: Some(visit.third_party_requests()),
                    findings: &judged,
                    inventory: Some(&inventory),
                },
            )
            .await;
        let site = spec.site.name.as_str();
        if let Err(e) = stored {
            progress.store_failed(site, &obs.scenario, &e);
            self.unstored.push(obs.scenario.clone());
            self.storage_errors
                .push(format!("could not record scenario {}: {e}", obs.scenario));
        }
        progress.visit_done(site, obs);
        self.visits.push((slot_index, visit, judged));
    }

    /// Judge the run as a whole, record its end, and build its report. `interrupted`: a
    /// signal arrived; the run counts as interrupted only if a visit of it was cut short.
    pub(super) async fn finish(&mut self, store: &Store, interrupted: bool) -> AuditRun {
        let spec = self.site.spec;
        // Judge and report visits in run order (the order the file or --scenario lists them).
        // (each scenario's repetitions side by side, in repetition order).
        self.visits.sort_by_key(|(slot, _, _)| *slot);
        let mut visits: Vec<AttributedVisit> = Vec::with_capacity(self.visits.len());
        let mut repetitions: Vec<u32> = Vec::with_capacity(self.visits.len());
        let mut per_visit: Vec<Vec<Finding>> = Vec::with_capacity(self.visits.len());
        for (slot, visit, findings) in std::mem::take(&mut self.visits) {
            visits.push(visit);
            repetitions.push(u32::try_from(slot % self.repeat + 1).unwrap_or(u32::MAX));
            per_visit.push(findings);
        }
        let mut storage_errors = std::mem::take(&mut self.storage_errors);
        let judged = super::judge::judge_repeated(spec, &visits, &repetitions, &per_visit);
        if let Err(e) = store
            .writer()
            .record_findings(self.run_id, &judged.run_level)
            .await
        {
            storage_errors.push(format!("could not record the run's findings: {e}"));
        }
        let (findings, summaries) = (judged.findings, judged.summaries);
        let site = spec.site.name.clone();
        let first = self
            .slots
            .iter()
            .filter_map(|s| s.get())
            .map(|o| o.started_at)
            .min();
        let last = self
            .slots
            .iter()
            .filter_map(|s| s.get())
            .map(|o| o.finished_at)
            .max();
        let active_ms = match (first, last) {
            (Some(a), Some(b)) => crate::outcome::millis_between(a, b),
            _ => 0,
        };
        // Judged as of the run's start, and kept with the run's end.
        let acknowledgements = self.site.acks.for_run(&site, self.started_at, &findings);
        let status = super::judge::run_status(interrupted, &summaries, &self.unstored);
        let finished_at = Utc::now();
        if let Err(e) = store
            .writer()
            .finish_run_with_acks(self.run_id, &status, finished_at, &acknowledgements)
            .await
        {
            storage_errors.push(format!("could not record the run's end: {e}"));
        }
        let vantage = &self.site.spec.browser.vantage.label;
        let changed =
            match super::stored::new_in_run(store, &site, vantage, self.run_id, self.started_at)
                .await
            {
                Ok(changed) => changed,
                Err(e) => {
                    storage_errors.push(format!("could not read the site's history: {e}"));
                    super::stored::NewInRun::default()
                }
            };
        let report = AuditReport {
            run_id: Some(self.run_id),
            site,
            scenario_file: self.site.scenario_file.to_string(),
            started_at: self.started_at,
            finished_at,
            status,
            visits: summaries,
            findings,
            fail_on: self.fail_on.threshold,
            fail_on_new: self.fail_on.new_only,
            new_fingerprints: changed.new_or_regressed,
            regressed_fingerprints: changed.regressed,
            acknowledgements,
            db_path: Some(self.db_path.clone()),
            crawl: self.crawl.take(),
            data_versions: vec![self.data_versions.clone()],
            vantage: self.site.spec.browser.vantage.clone(),
            verdict: Verdict::default(),
            declared: Some(crate::outcome::DeclaredAt::of(&self.site.spec.policy)),
        }
        .with_verdict();
        AuditRun {
            report,
            storage_errors,
            leftover_profiles: Vec::new(),
            active_ms,
        }
    }
}

/// A crawl plan through the secrets door (a page's links and sitemaps may name a
/// secret): every string of it redacted, and its JSON as stored. An error when the
/// redacted plan no longer reads as a plan (a URL a redaction broke), so that the store
/// never holds a plan its readers refuse.
pub(super) fn redacted_plan(
    secrets: &crate::secrets::Secrets,
    plan: &CrawlPlan,
) -> Result<(CrawlPlan, String), String> {
    let mut tree = serde_json::to_value(plan).map_err(|e| e.to_string())?;
    secrets.redact_tree(&mut tree);
    let json = tree.to_string();
    let plan = serde_json::from_value(tree)
        .map_err(|e| format!("a redacted secret left it unreadable ({e})"))?;
    Ok((plan, json))
}

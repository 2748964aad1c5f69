//! Reports rebuilt from the store, and what is new in a run against the site's history.

use crate::analysis::sort_findings;
use crate::outcome::{AuditReport, FailOn, Verdict, VisitSummary};
use crate::store::{RunId, Store, StoreError};
use chrono::Utc;

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
    visits.sort_by_key(|v| (v.position.unwrap_or(u64::MAX), v.repetition, v.id));
    let repeated = visits.iter().any(|v| v.repetition > 1);
    // Each visit's scenario, repetition and whether it observed it, for merging the
    // repetitions' findings as the audit did.
    let seen_visits: Vec<(String, u32, bool)> = visits
        .iter()
        .map(|v| {
            (
                v.scenario.clone(),
                v.repetition,
                matches!(v.status, crate::model::VisitStatus::Complete),
            )
        })
        .collect();
    let mut signals = Vec::with_capacity(visits.len());
    for v in &visits {
        signals.push((
            crate::signals::view(&store.history().signals(run, Some(&v.scenario)).await?),
            store.history().screenshots(run, Some(&v.scenario)).await?,
        ));
    }
    let vendors = visit_vendors(store, &record).await?;
    let summaries: Vec<VisitSummary> = visits
        .into_iter()
        .zip(signals)
        .map(|(v, (signals, screenshots))| VisitSummary {
            vendors: match v.status {
                crate::model::VisitStatus::Complete => vendors
                    .iter()
                    .find(|(s, r, _)| *s == v.scenario && *r == v.repetition)
                    .map(|(_, _, ids)| ids.clone())
                    .unwrap_or_default(),
                crate::model::VisitStatus::Incomplete(_) => Vec::new(),
            },
            duration_ms: crate::outcome::millis_between(v.started_at, v.finished_at),
            repetition: repeated.then_some(v.repetition),
            login: v.login,
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
    let mut findings = merged_findings(
        &seen_visits,
        store.history().findings_by_repetition(run).await?,
    );
    let order: Vec<&str> = summaries.iter().map(|v| v.scenario.as_str()).collect();
    sort_findings(&mut findings, &order);
    let fail_on = fail_on.unwrap_or(record.fail_on);
    let changed = new_in_run(
        store,
        &record.site,
        &record.vantage.label,
        record.id,
        record.started_at,
    )
    .await?;
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
            new_fingerprints: changed.new_or_regressed,
            regressed_fingerprints: changed.regressed,
            acknowledgements,
            db_path: Some(store.path().display().to_string()),
            crawl: record.crawl,
            data_versions: record
                .data_versions
                .as_deref()
                .map(crate::data::DataVersions::all_from_stored)
                .unwrap_or_default(),
            vantage: record.vantage,
            verdict: Verdict::default(),
            declared: None,
        }
        .with_verdict(),
    ))
}

/// A stored run's findings as its report showed them: the findings of each scenario's
/// repetitions merged per fingerprint with their k/N (`analysis::repeat::merge`), the
/// run-level ones after them. `visits`: each visit's scenario, repetition and whether it
/// observed the scenario; `rows`: the findings with the repetition of their visit.
fn merged_findings(
    visits: &[(String, u32, bool)],
    rows: Vec<(Option<u32>, crate::analysis::Finding)>,
) -> Vec<crate::analysis::Finding> {
    let mut per_visit: Vec<Vec<crate::analysis::Finding>> =
        visits.iter().map(|_| Vec::new()).collect();
    let mut run_level = Vec::new();
    for (repetition, f) in rows {
        let at = repetition.and_then(|r| {
            visits
                .iter()
                .position(|(s, vr, _)| *vr == r && f.scenario.as_deref() == Some(s.as_str()))
        });
        match at.and_then(|i| per_visit.get_mut(i)) {
            Some(list) => list.push(f),
            None => run_level.push(f),
        }
    }
    let reps: Vec<crate::analysis::repeat::Repetition> = visits
        .iter()
        .zip(&per_visit)
        .map(
            |((scenario, repetition, observed), findings)| crate::analysis::repeat::Repetition {
                scenario,
                repetition: *repetition,
                observed: *observed,
                findings,
            },
        )
        .collect();
    crate::analysis::repeat::merge(&reps, &run_level)
}

/// The declared vendors active in each visit of a stored run, per scenario and
/// repetition, from the visits' stored inventories (what drift reads; none for a visit
/// stored without one).
async fn visit_vendors(
    store: &Store,
    record: &crate::store::RunRecord,
) -> Result<Vec<(String, u32, Vec<String>)>, StoreError> {
    let until = record.started_at + chrono::Duration::seconds(1);
    let history = store
        .history()
        .site_history(&record.site, record.started_at, until)
        .await?;
    Ok(history
        .into_iter()
        .filter(|h| h.run.id == record.id)
        .flat_map(|h| h.visits)
        .map(|v| {
            let ids = v.inventory.map(|i| i.vendors.clone()).unwrap_or_default();
            (v.scenario, v.repetition, ids)
        })
        .collect())
}

/// The findings of a run that are new or regressed against the site's history.
#[derive(Debug, Default)]
pub(super) struct NewInRun {
    /// Fingerprints of the findings new or regressed in the run.
    pub new_or_regressed: Vec<String>,
    /// Those of them that were seen before, resolved, and are back.
    pub regressed: Vec<String>,
}

/// The findings new or regressed in run `run` of `site`, judged against every run of
/// the site from the same vantage that started before it (docs/drift.md).
pub(super) async fn new_in_run(
    store: &Store,
    site: &str,
    vantage: &str,
    run: RunId,
    started_at: chrono::DateTime<Utc>,
) -> Result<NewInRun, StoreError> {
    let until = started_at + chrono::Duration::nanoseconds(1);
    let history = store
        .history()
        .vantage_findings_history(site, vantage, chrono::DateTime::<Utc>::UNIX_EPOCH, until)
        .await?;
    let mut changed = NewInRun::default();
    for l in crate::drift::lifecycles(&history) {
        let Some(last) = l.timeline.last().filter(|s| s.run_id == run) else {
            continue;
        };
        match last.status {
            crate::drift::Status::New => changed.new_or_regressed.push(l.fingerprint),
            crate::drift::Status::Regressed => {
                changed.regressed.push(l.fingerprint.clone());
                changed.new_or_regressed.push(l.fingerprint);
            }
            _ => {}
        }
    }
    Ok(changed)
}

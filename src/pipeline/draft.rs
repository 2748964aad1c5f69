//! A declared map drafted from a stored run (`consentry map draft --run RUN`, and the
//! visit `consentry init URL` makes): the run's visits read back as they were recorded,
//! attributed with the knowledge bases against an empty map (only party and knowledge
//! matter), then [`crate::draft::draft`].

use crate::attribution::Attributor;
use crate::draft::{Draft, DraftSource};
use crate::knowledge::KnowledgeBase;
use crate::model::VisitStatus;
use crate::policy::Policy;
use crate::scenario::Site;
use crate::store::{RunId, Store, StoreError};
use std::sync::Arc;

/// A draft, and what the run could not show.
#[derive(Debug)]
pub struct DraftedRun {
    pub draft: Draft,
    /// Scenarios drafted from (complete or not: what an incomplete visit saw counts).
    pub scenarios: Vec<String>,
    /// `scenario: reason` of each visit that was not observed completely.
    pub incomplete: Vec<String>,
    /// CMPs autoconsent (or the heuristic) detected in the run's consent actions.
    pub cmps: Vec<String>,
}

/// Draft the map of `site` from run `run` of `store`. `None` when there is no such run.
pub async fn draft_from_run(
    store: &Store,
    run: RunId,
    site: &Site,
    knowledge: Arc<KnowledgeBase>,
    mut source: DraftSource,
) -> Result<Option<DraftedRun>, StoreError> {
    let history = store.history();
    if history.run(run).await?.is_none() {
        return Ok(None);
    }
    let mut visits = history.visits(run).await?;
    visits.sort_by_key(|v| (v.position.unwrap_or(u64::MAX), v.repetition, v.id));
    let mut observations = Vec::new();
    let mut incomplete = Vec::new();
    let mut cmps = Vec::new();
    for v in &visits {
        if observations
            .iter()
            .any(|o: &crate::model::VisitObservation| o.scenario == v.scenario)
        {
            continue; // one repetition of each scenario is enough for a draft
        }
        if let VisitStatus::Incomplete(f) = &v.status {
            incomplete.push(format!("{}: {}", v.scenario, f.reason));
        }
        for a in &v.cmp {
            if let Some(d) = a.detected.as_ref().filter(|d| !cmps.contains(*d)) {
                cmps.push(d.clone());
            }
        }
        if let Some(obs) = history.observation(run, &v.scenario).await? {
            observations.push(obs);
        }
    }
    let scenarios: Vec<String> = observations.iter().map(|o| o.scenario.clone()).collect();
    if source.knowledge.is_none() {
        source.knowledge = knowledge.versions();
    }
    let empty = Policy::default();
    let attributor = Attributor::new(site, &empty).with_knowledge(knowledge);
    let attributed: Vec<_> = observations.iter().map(|o| attributor.visit(o)).collect();
    let draft = crate::draft::draft(site, &attributed, &source);
    Ok(Some(DraftedRun {
        draft,
        scenarios,
        incomplete,
        cmps,
    }))
}

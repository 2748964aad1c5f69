//! Repetitions (`audit --repeat N`): the findings of a scenario's N visits merged into
//! one finding per fingerprint, each saying in how many of them it was seen
//! ([`Seen`]). Pure; the one place k/N is derived, for the live audit, the stored report
//! and drift alike (docs/findings.md, "Repetitions").
//!
//! What counts (`of`): the repetitions of the finding's scenario that observed it
//! completely, plus any not-observed repetition whose partial records still produced
//! the finding. A `scenario-not-observed` finding counts every repetition run (it is
//! about observing). When no repetition observed the scenario, every repetition counts.
//! `seen`: the counted repetitions that produced it.

use super::finding::{Code, Finding, Seen, MAX_EVIDENCE};
use std::collections::{BTreeSet, HashMap};

/// One visit of a scenario, as the merge takes it.
#[derive(Debug, Clone, Copy)]
pub struct Repetition<'a> {
    pub scenario: &'a str,
    /// 1 to N.
    pub repetition: u32,
    /// Observed completely.
    pub observed: bool,
    /// Its own findings (each visit's, never the run's).
    pub findings: &'a [Finding],
}

/// The repetitions of each scenario: which ran, which observed it.
#[derive(Debug, Default)]
pub struct Runs<'a> {
    by_scenario: HashMap<&'a str, (BTreeSet<u32>, BTreeSet<u32>)>,
}

impl<'a> Runs<'a> {
    /// From each visit's scenario, repetition and whether it observed the scenario.
    pub fn of(visits: impl IntoIterator<Item = (&'a str, u32, bool)>) -> Runs<'a> {
        let mut by_scenario: HashMap<&str, (BTreeSet<u32>, BTreeSet<u32>)> = HashMap::new();
        for (scenario, repetition, observed) in visits {
            let e = by_scenario.entry(scenario).or_default();
            e.0.insert(repetition);
            if observed {
                e.1.insert(repetition);
            }
        }
        Runs { by_scenario }
    }

    /// More than one repetition of some scenario ran.
    pub fn repeated(&self) -> bool {
        self.by_scenario.values().any(|(all, _)| all.len() > 1)
    }

    /// k/N of a finding of `code` and `scenario` found in the repetitions `found_in`.
    pub fn seen(&self, code: Code, scenario: &str, found_in: &BTreeSet<u32>) -> Seen {
        let (all, observed) = self
            .by_scenario
            .get(scenario)
            .map(|(a, o)| (a.clone(), o.clone()))
            .unwrap_or_default();
        let counted: BTreeSet<u32> = if code == Code::ScenarioNotObserved || observed.is_empty() {
            all.union(found_in).copied().collect()
        } else {
            observed.union(found_in).copied().collect()
        };
        let n = |s: &BTreeSet<u32>| u32::try_from(s.len()).unwrap_or(u32::MAX);
        Seen {
            seen: n(&found_in.intersection(&counted).copied().collect()),
            of: n(&counted),
        }
    }
}

/// The visits' findings merged per fingerprint (first seen first), each with its k/N,
/// then the run-level findings as they are. With one repetition of every scenario,
/// nothing is merged and no finding carries k/N: the findings are the visits' own.
/// A merged finding is its earliest repetition's (message, rule, evidence), with the
/// occurrences of every repetition added up and evidence from later repetitions added
/// while there is room (at most [`MAX_EVIDENCE`]).
pub fn merge(visits: &[Repetition<'_>], run_level: &[Finding]) -> Vec<Finding> {
    let runs = Runs::of(
        visits
            .iter()
            .map(|v| (v.scenario, v.repetition, v.observed)),
    );
    if !runs.repeated() {
        return visits
            .iter()
            .flat_map(|v| v.findings.iter().cloned())
            .chain(run_level.iter().cloned())
            .collect();
    }
    let mut ordered: Vec<&Repetition> = visits.iter().collect();
    ordered.sort_by_key(|v| v.repetition);
    let mut out: Vec<(Finding, BTreeSet<u32>)> = Vec::new();
    let mut index: HashMap<&str, usize> = HashMap::new();
    for v in ordered {
        for f in v.findings {
            match index.get(f.fingerprint.as_str()) {
                Some(&i) => {
                    let Some((merged, found)) = out.get_mut(i) else {
                        continue;
                    };
                    found.insert(v.repetition);
                    merged.occurrences = merged.occurrences.saturating_add(f.occurrences);
                    for e in &f.evidence {
                        if merged.evidence.len() < MAX_EVIDENCE && !merged.evidence.contains(e) {
                            merged.evidence.push(e.clone());
                        }
                    }
                }
                None => {
                    index.insert(f.fingerprint.as_str(), out.len());
                    out.push((f.clone(), BTreeSet::from([v.repetition])));
                }
            }
        }
    }
    out.into_iter()
        .map(|(mut f, found)| {
            let scenario = f.scenario.clone().unwrap_or_default();
            f.repeat = Some(runs.seen(f.code, &scenario, &found));
            f
        })
        .chain(run_level.iter().cloned())
        .collect()
}

#[cfg(test)]
mod tests;

//! Lifecycles: what happened to each finding across a site's runs. Pure: a site's
//! history in ([`crate::store::RunHistory`], oldest run first), lifecycles out.
//!
//! Per fingerprint and run:
//! - **new**: present, never present in an earlier run of the window;
//! - **persisting**: present, and present (or unverified) the last time it was checked;
//! - **resolved**: absent from a run that *checked* it, after being present;
//! - **regressed**: present again after being resolved;
//! - **unverified**: absent from a run that could not check it (its scenario was not
//!   observed, not run, or, for a site-level finding, the run was incomplete). A scenario
//!   that was not observed never resolves a finding.
//!
//! An **intermittent** finding (seen in fewer than all of its scenario's repetitions in
//! some run, `audit --repeat N`; docs/findings.md) is not resolved by one run without it:
//! it stays unverified until it has been absent from `resolve_after` consecutive runs
//! that checked it ([`DEFAULT_RESOLVE_AFTER`], `consentry drift --resolve-after K`);
//! back before that, it is persisting, not regressed. Steady findings resolve at the
//! first run that checked them, as always.
//!
//! A resolution in a run whose policy digest differs from the previous run's is flagged
//! (`map_changed`): the finding may have gone because the declaration changed, not the
//! site.

use super::coverage::Coverages;
use crate::store::RunHistory;
use chrono::{DateTime, Utc};
use serde::Serialize;
use std::collections::HashMap;

#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, strum::IntoStaticStr,
)]
#[serde(rename_all = "kebab-case")]
#[strum(serialize_all = "kebab-case")]
pub enum Status {
    New,
    Regressed,
    Persisting,
    Unverified,
    Resolved,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        self.into()
    }
}

/// A finding's status in one run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Step {
    pub run_id: i64,
    pub started_at: DateTime<Utc>,
    pub status: Status,
    /// The policy changed since the previous run (a resolution may be the map's doing).
    pub map_changed: bool,
    /// The run could check it (its scenario observed; for a site-level finding, the
    /// run complete). Present implies checked.
    pub checked: bool,
    /// Under an active acknowledgement at that run's time.
    pub acknowledged: bool,
    /// New or regressed on a page of a template the crawl had not planned in the
    /// previous run (docs/drift.md#page-coverage): the crawl found it, the site may not
    /// have changed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub new_template: Option<String>,
}

/// One finding across the window.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Lifecycle {
    pub fingerprint: String,
    pub code: String,
    pub severity: String,
    pub scenario: Option<String>,
    pub subject: String,
    /// The declared vendor it is about.
    pub vendor: Option<String>,
    /// The message of its latest occurrence.
    pub message: String,
    /// The declared rule it breaks (latest occurrence).
    pub rule: String,
    /// First evidence of its latest occurrence.
    pub evidence: Option<crate::analysis::Evidence>,
    pub first_seen: DateTime<Utc>,
    pub last_seen: DateTime<Utc>,
    /// Runs it was present in.
    pub runs_seen: usize,
    /// Runs, from its first appearance on, that could check it.
    pub runs_checked: usize,
    /// Its status in the latest run of the window.
    pub current: Status,
    /// The acknowledgement that applies at the end of the window (active or expired).
    pub acknowledgement: Option<super::AckView>,
    pub timeline: Vec<Step>,
    /// Seen in fewer than all of its scenario's repetitions in some run of the history
    /// (`audit --repeat N`): it resolves only after `resolve_after` consecutive absences.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub intermittent: bool,
}

/// How many consecutive runs that checked it an intermittent finding must be absent
/// from before it is called resolved (steady ones: one), unless told otherwise.
pub const DEFAULT_RESOLVE_AFTER: u32 = 2;

/// Could `run` check a finding of `scenario` (`None`: site-level)?
fn checked(run: &RunHistory, scenario: Option<&str>) -> bool {
    match scenario {
        Some(s) => run.visits.iter().any(|v| v.scenario == s && v.observed),
        None => run.run.status == crate::model::RunStatus::Complete,
    }
}

/// Lifecycles of every finding seen in `history` (oldest run first), most urgent first
/// (new, regressed, persisting, unverified, resolved), then by code and subject.
pub fn lifecycles(history: &[RunHistory]) -> Vec<Lifecycle> {
    lifecycles_in(history, &Coverages::of(history), DEFAULT_RESOLVE_AFTER)
}

/// Is each finding of `run` intermittent in it (seen in fewer than all the repetitions
/// of its scenario that counted; `analysis::repeat`, the one place k/N is derived)?
fn intermittent_in(run: &RunHistory) -> HashMap<&str, bool> {
    use crate::analysis::repeat::Runs;
    let runs = Runs::of(
        run.visits
            .iter()
            .map(|v| (v.scenario.as_str(), v.repetition, v.observed)),
    );
    let mut found: HashMap<&str, (&crate::store::FindingSeen, std::collections::BTreeSet<u32>)> =
        HashMap::new();
    for f in &run.findings {
        let e = found
            .entry(f.fingerprint.as_str())
            .or_insert_with(|| (f, Default::default()));
        if let Some(r) = f.repetition {
            e.1.insert(r);
        }
    }
    found
        .into_iter()
        .map(|(fp, (f, reps))| {
            let flickers = match (&f.scenario, runs.repeated()) {
                (Some(scenario), true) => runs.seen(f.code, scenario, &reps).intermittent(),
                _ => false,
            };
            (fp, flickers)
        })
        .collect()
}

/// [`lifecycles`], with the history's page coverage already derived, and an intermittent
/// finding resolved only after `resolve_after` consecutive absences (at least 1).
pub fn lifecycles_in(
    history: &[RunHistory],
    coverages: &Coverages,
    resolve_after: u32,
) -> Vec<Lifecycle> {
    let resolve_after = resolve_after.max(1);
    // Consecutive runs that checked a finding and did not see it.
    let mut absences: HashMap<&str, u32> = HashMap::new();
    let mut by_fp: HashMap<&str, Lifecycle> = HashMap::new();
    let mut order: Vec<&str> = Vec::new();
    let mut previous_digest: Option<&Option<String>> = None;
    for run in history {
        let map_changed = previous_digest.is_some_and(|d| *d != run.run.policy_digest);
        previous_digest = Some(&run.run.policy_digest);
        let started_at = run.run.started_at;
        let flickering = intermittent_in(run);
        // Present in this run.
        for f in &run.findings {
            let seen_at = f.first_evidence.unwrap_or(started_at);
            let entry = by_fp.entry(f.fingerprint.as_str()).or_insert_with(|| {
                order.push(f.fingerprint.as_str());
                Lifecycle {
                    fingerprint: f.fingerprint.clone(),
                    code: f.code.to_string(),
                    severity: f.severity.to_string(),
                    scenario: f.scenario.clone(),
                    subject: f.subject.clone(),
                    vendor: f.vendor.clone(),
                    message: f.message.clone(),
                    rule: f.rule.clone(),
                    evidence: f.evidence.clone(),
                    first_seen: seen_at,
                    last_seen: seen_at,
                    runs_seen: 0,
                    runs_checked: 0,
                    current: Status::New,
                    acknowledgement: None,
                    timeline: Vec::new(),
                    intermittent: false,
                }
            });
            if flickering
                .get(f.fingerprint.as_str())
                .copied()
                .unwrap_or(false)
            {
                entry.intermittent = true;
            }
            absences.remove(f.fingerprint.as_str());
            if entry
                .timeline
                .last()
                .is_some_and(|s| s.run_id == run.run.id)
            {
                continue; // the same fingerprint twice in one run
            }
            let status = match entry.timeline.last().map(|s| s.status) {
                None => Status::New,
                Some(Status::Resolved) => Status::Regressed,
                Some(_) => Status::Persisting,
            };
            entry.message = f.message.clone();
            entry.rule = f.rule.clone();
            entry.evidence = f.evidence.clone();
            entry.vendor = f.vendor.clone();
            entry.severity = f.severity.to_string();
            entry.last_seen = seen_at;
            entry.runs_seen += 1;
            entry.runs_checked += 1;
            entry.current = status;
            let new_template = match status {
                Status::New | Status::Regressed => f
                    .evidence
                    .as_ref()
                    .and_then(|e| coverages.new_template_of(run, &e.page))
                    .map(str::to_string),
                _ => None,
            };
            entry.timeline.push(Step {
                run_id: run.run.id,
                started_at,
                status,
                map_changed,
                checked: true,
                acknowledged: false,
                new_template,
            });
        }
        // Known but absent from this run.
        for fp in &order {
            let Some(entry) = by_fp.get_mut(fp) else {
                continue;
            };
            if entry
                .timeline
                .last()
                .is_some_and(|s| s.run_id == run.run.id)
            {
                continue;
            }
            let was = entry.timeline.last().map(|s| s.status);
            let could_check = checked(run, entry.scenario.as_deref());
            let status = if could_check {
                entry.runs_checked += 1;
                let absent = absences.entry(*fp).or_insert(0);
                *absent += 1;
                if was == Some(Status::Resolved) || !entry.intermittent || *absent >= resolve_after
                {
                    Status::Resolved
                } else {
                    Status::Unverified
                }
            } else if was == Some(Status::Resolved) {
                Status::Resolved
            } else {
                Status::Unverified
            };
            entry.current = status;
            entry.timeline.push(Step {
                run_id: run.run.id,
                started_at,
                status,
                map_changed,
                checked: could_check,
                acknowledged: false,
                new_template: None,
            });
        }
    }
    let mut out: Vec<Lifecycle> = order.iter().filter_map(|fp| by_fp.remove(fp)).collect();
    out.sort_by(|a, b| {
        a.current
            .cmp(&b.current)
            .then_with(|| a.code.cmp(&b.code))
            .then_with(|| a.scenario.cmp(&b.scenario))
            .then_with(|| a.subject.cmp(&b.subject))
    });
    out
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::model::RunStatus;
    use crate::store::{FindingSeen, RunRecord};
    use chrono::TimeZone;

    /// A run of site `shop` on day `day` of November 2026: its scenarios (observed or
    /// not) and findings (fingerprint = subject, scenario).
    pub(crate) fn run(
        id: i64,
        day: u32,
        visits: &[(&str, bool)],
        fps: &[(&str, Option<&str>)],
    ) -> RunHistory {
        let started_at = Utc
            .with_ymd_and_hms(2026, 11, day, 2, 0, 0)
            .single()
            .expect("time");
        RunHistory {
            run: RunRecord {
                id,
                site: "shop".into(),
                scenario_file: "s.toml".into(),
                started_at,
                finished_at: Some(started_at),
                status: if visits.iter().all(|(_, o)| *o) {
                    RunStatus::Complete
                } else {
                    RunStatus::Incomplete("x".into())
                },
                fail_on: crate::outcome::FailOn::DEFAULT,
                scenario_digest: Some("s1".into()),
                policy_digest: Some("p1".into()),
                data_versions: None,
                fleet_run: None,
                crawl: None,
                vantage: Default::default(),
            },
            visits: visits
                .iter()
                .map(|(s, o)| crate::store::VisitSeen {
                    scenario: s.to_string(),
                    repetition: 1,
                    observed: *o,
                    li_objected: false,
                    inventory: Some(Default::default()),
                })
                .collect(),
            vendors: Vec::new(),
            declarations: Vec::new(),
            findings: fps
                .iter()
                .map(|(fp, sc)| FindingSeen {
                    fingerprint: fp.to_string(),
                    code: crate::analysis::finding::Code::ConsentVendorBeforeChoice,
                    severity: crate::analysis::finding::Severity::High,
                    scenario: sc.map(str::to_string),
                    subject: fp.to_string(),
                    vendor: None,
                    message: format!("{fp} fired"),
                    rule: "r".into(),
                    first_evidence: None,
                    evidence: None,
                    repetition: Some(1),
                })
                .collect(),
        }
    }

    fn statuses(l: &Lifecycle) -> Vec<&'static str> {
        l.timeline.iter().map(|s| s.status.as_str()).collect()
    }

    fn find<'a>(ls: &'a [Lifecycle], fp: &str) -> &'a Lifecycle {
        ls.iter().find(|l| l.fingerprint == fp).expect("lifecycle")
    }

    #[test]
    fn every_transition() {
        let a = Some("no_action");
        let ok = [("no_action", true)];
        let history = vec![
            run(1, 1, &ok, &[("meta", a)]),
            run(2, 2, &ok, &[("meta", a)]),
            run(3, 3, &ok, &[]),
            run(4, 4, &ok, &[("meta", a), ("tiktok", a)]),
        ];
        let ls = lifecycles(&history);
        let meta = find(&ls, "meta");
        assert_eq!(
            statuses(meta),
            vec!["new", "persisting", "resolved", "regressed"]
        );
        assert_eq!((meta.runs_seen, meta.runs_checked), (3, 4));
        assert_eq!(meta.current, Status::Regressed);
        let tiktok = find(&ls, "tiktok");
        assert_eq!(statuses(tiktok), vec!["new"]);
        // Most urgent first.
        assert_eq!(ls[0].fingerprint, "tiktok");
    }

    #[test]
    fn a_scenario_not_observed_never_resolves() {
        let a = Some("no_action");
        let history = vec![
            run(1, 1, &[("no_action", true)], &[("meta", a)]),
            run(2, 2, &[("no_action", false)], &[]),
            run(3, 3, &[("reject_all", true)], &[]),
            run(4, 4, &[("no_action", true)], &[("meta", a)]),
        ];
        let meta = find(&lifecycles(&history), "meta").clone();
        assert_eq!(
            statuses(&meta),
            vec!["new", "unverified", "unverified", "persisting"]
        );
        assert_eq!((meta.runs_seen, meta.runs_checked), (2, 2));
    }

    #[test]
    fn site_level_findings_are_checked_only_by_complete_runs() {
        let history = vec![
            run(1, 1, &[("a", true)], &[("stale", None)]),
            run(2, 2, &[("a", false)], &[]),
            run(3, 3, &[("a", true)], &[]),
        ];
        let stale = find(&lifecycles(&history), "stale").clone();
        assert_eq!(statuses(&stale), vec!["new", "unverified", "resolved"]);
    }

    #[test]
    fn a_resolution_with_a_map_change_says_so() {
        let a = Some("no_action");
        let ok = [("no_action", true)];
        let mut history = vec![run(1, 1, &ok, &[("meta", a)]), run(2, 2, &ok, &[])];
        history[1].run.policy_digest = Some("p2".into());
        let meta = find(&lifecycles(&history), "meta").clone();
        assert_eq!(statuses(&meta), vec!["new", "resolved"]);
        assert!(meta.timeline[1].map_changed, "{meta:?}");
        assert!(!meta.timeline[0].map_changed);
    }

    /// A run of `no_action` visited three times; the finding `flaky` seen in repetitions
    /// `reps` of it (none: absent).
    fn repeated(id: i64, day: u32, reps: &[u32]) -> RunHistory {
        let ok = [("no_action", true)];
        let mut h = run(id, day, &ok, &[]);
        h.visits = (1..=3)
            .map(|r| crate::store::VisitSeen {
                repetition: r,
                ..h.visits[0].clone()
            })
            .collect();
        let one = run(id, day, &ok, &[("flaky", Some("no_action"))]).findings;
        h.findings = reps
            .iter()
            .flat_map(|r| {
                one.iter().map(move |f| FindingSeen {
                    repetition: Some(*r),
                    ..f.clone()
                })
            })
            .collect();
        h
    }

    #[test]
    fn an_intermittent_finding_seen_in_runs_1_3_5_is_never_resolved_between() {
        // Seen 1/3 in runs 1, 3 and 5; absent from runs 2 and 4 (which checked it).
        let history: Vec<RunHistory> = (1..=5)
            .map(|i| repeated(i, i as u32, if i % 2 == 1 { &[2] } else { &[] }))
            .collect();
        let ls = lifecycles(&history);
        let flaky = find(&ls, "flaky");
        assert!(flaky.intermittent);
        assert_eq!(
            statuses(flaky),
            vec![
                "new",
                "unverified",
                "persisting",
                "unverified",
                "persisting"
            ]
        );
        // Runs 2 and 4 checked it (their scenario was observed), and it was absent.
        assert!(flaky.timeline[1].checked && flaky.timeline[3].checked);
        assert_eq!((flaky.runs_seen, flaky.runs_checked), (3, 5));
    }

    #[test]
    fn an_intermittent_finding_resolves_after_k_consecutive_absences() {
        let runs = |n: i64| -> Vec<RunHistory> {
            (1..=n)
                .map(|i| repeated(i, i as u32, if i == 1 { &[1, 3] } else { &[] }))
                .collect()
        };
        let status_with = |k: u32| {
            let h = runs(5);
            let ls = lifecycles_in(&h, &Coverages::of(&h), k);
            statuses(find(&ls, "flaky"))
        };
        // Default K = 2: the second absence resolves it.
        assert_eq!(
            statuses(find(&lifecycles(&runs(3)), "flaky")),
            vec!["new", "unverified", "resolved"]
        );
        assert_eq!(
            status_with(3),
            vec!["new", "unverified", "unverified", "resolved", "resolved"]
        );
        assert_eq!(
            status_with(1),
            vec!["new", "resolved", "resolved", "resolved", "resolved"]
        );
        // Back after its resolution: regressed, as any finding.
        let mut h = runs(3);
        h.push(repeated(4, 4, &[1]));
        assert_eq!(
            statuses(find(&lifecycles(&h), "flaky")),
            vec!["new", "unverified", "resolved", "regressed"]
        );
    }

    #[test]
    fn a_steady_finding_of_repeated_runs_resolves_at_once() {
        // Seen in all three repetitions: steady, resolved by the first run without it.
        let history = vec![repeated(1, 1, &[1, 2, 3]), repeated(2, 2, &[])];
        let ls = lifecycles(&history);
        let flaky = find(&ls, "flaky");
        assert!(!flaky.intermittent);
        assert_eq!(statuses(flaky), vec!["new", "resolved"]);
    }

    #[test]
    fn an_absence_the_run_could_not_check_does_not_count() {
        let mut history = vec![
            repeated(1, 1, &[3]),
            repeated(2, 2, &[]),
            repeated(3, 3, &[]),
            repeated(4, 4, &[]),
        ];
        for v in &mut history[2].visits {
            v.observed = false;
        }
        let ls = lifecycles(&history);
        assert_eq!(
            statuses(find(&ls, "flaky")),
            vec!["new", "unverified", "unverified", "resolved"]
        );
    }
}

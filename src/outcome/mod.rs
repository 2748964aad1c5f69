//! The outcome of an audit: the report model every reporter renders, with its verdict
//! computed once, here ([`Verdict::of`]). Reporters never decide anything; the binary
//! turns [`Verdict::exit`] into the process exit code.

mod declared;
mod fleet;
pub mod problems;
pub use declared::DeclaredAt;
pub use fleet::{fleet_exit, FleetReport, SiteLine};
pub use problems::{problems, Problem, SITE_LEVEL};

use crate::ack::{AckRecord, AckStatus};
use crate::analysis::{Code, Finding, Severity};
use crate::attribution::AttributedVisit;
use crate::exit::ExitStatus;
use crate::model::{RunStatus, VisitStatus};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// Everything a report shows about one audit run, verdict included.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuditReport {
    /// Id of the run in the database, when stored.
    pub run_id: Option<i64>,
    pub site: String,
    pub scenario_file: String,
    pub started_at: DateTime<Utc>,
    pub finished_at: DateTime<Utc>,
    pub status: RunStatus,
    /// One per visit, in run order.
    pub visits: Vec<VisitSummary>,
    /// Sorted as [`crate::analysis::sort_findings`] does.
    pub findings: Vec<Finding>,
    /// Findings at or above this severity fail the audit (exit 1); `None`: never.
    pub fail_on: Option<Severity>,
    /// `--fail-on new[:SEVERITY]`: only findings new or regressed in this run fail it.
    #[serde(default)]
    pub fail_on_new: bool,
    /// Fingerprints of the findings that are new or regressed in this run, against the
    /// site's stored history (docs/drift.md).
    #[serde(default)]
    pub new_fingerprints: Vec<String>,
    /// Those of [`AuditReport::new_fingerprints`] that were seen before, resolved, and
    /// are back (regressed); the others are new (alerts tell the two apart).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub regressed_fingerprints: Vec<String>,
    /// The acknowledgements as they stood in this run (docs/drift.md,
    /// "Acknowledgements"): those that matched a finding (active or expired), in
    /// finding order, then those of the site that matched none (`unused`).
    #[serde(default)]
    pub acknowledgements: Vec<AckRecord>,
    pub db_path: Option<String>,
    /// The pages the scenarios visited, when the site discovers pages (`[site] crawl`,
    /// docs/crawl.md): the run's stored plan, secrets redacted. It names each
    /// evidence's template ([`AuditReport::template_of`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub crawl: Option<crate::crawl::CrawlPlan>,
    /// The data the run ran with: consentry's version, autoconsent's (`None` when no
    /// scenario used it) and the bundled CMP profiles' (docs/packaging.md), as the run
    /// stored them. One set; several when the workers of a queued fleet that ran its
    /// visits had different data (in the order their visits ran); none for a run stored
    /// before consentry recorded them (schema 13 and older).
    #[serde(default)]
    pub data_versions: Vec<crate::data::DataVersions>,
    /// Where the run looked from (`[vantage]`, docs/scenarios.md#vantage), as stored
    /// with it: its label and settings, never the proxy's credentials.
    #[serde(default)]
    pub vantage: crate::model::vantage::Vantage,
    /// Computed from the fields above by [`Verdict::of`].
    pub verdict: Verdict,
    /// Where the declared map's rules are written (the policy file and its lines), when
    /// known: the audit's own policy, or the scenario file's as it is now for a stored run
    /// (SARIF points at them). Not part of the JSON report.
    #[serde(skip)]
    pub declared: Option<DeclaredAt>,
}

/// What one visit observed, in numbers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VisitSummary {
    pub scenario: String,
    pub status: VisitStatus,
    pub requests: usize,
    /// Requests to network hosts outside the site's first-party domains.
    pub third_party_requests: usize,
    /// Cookies in the jar when the visit ended.
    pub cookies_stored: usize,
    /// Cookie write attempts (including blocked ones and deletions).
    pub cookie_writes: usize,
    pub duration_ms: u64,
    pub warnings: Vec<String>,
    /// The consent signals the visit read, per phase and source ([`crate::signals::view`]).
    #[serde(default)]
    pub signals: Vec<crate::signals::SignalLine>,
    /// How each consent action was performed (autoconsent / selectors, the detected CMP,
    /// the time it took) and what the CMP recorded ([`crate::cmp::CmpAction`]).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub consent_actions: Vec<crate::cmp::CmpAction>,
    /// Screenshots before and after each consent action, with the paths of their files
    /// ([`crate::screenshots`]).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub screenshots: Vec<crate::model::Screenshot>,
    /// Where the visit's time went, each settle with what ended it.
    #[serde(default)]
    pub timings: crate::model::VisitTimings,
    /// The declared vendors that made a request, cookie or storage write in the visit,
    /// by id (its inventory's vendors; the run report's vendor matrix reads it).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub vendors: Vec<String>,
    /// Which visit of its scenario (1 to N) when the run visited each scenario N > 1
    /// times (`audit --repeat N`); `None` with one visit each.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub repetition: Option<u32>,
    /// The scenario file's `[login]` as the visit ran it (its steps, when it completed);
    /// `None` when it ran none (docs/scenarios.md#login).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub login: Option<crate::model::LoginObs>,
}

impl VisitSummary {
    pub fn of(visit: &AttributedVisit) -> Self {
        let obs = visit.obs;
        VisitSummary {
            scenario: obs.scenario.clone(),
            repetition: None,
            login: obs.login.clone(),
            status: obs.status.clone(),
            requests: obs.requests.len(),
            third_party_requests: visit.third_party_requests(),
            cookies_stored: obs.cookies.len(),
            cookie_writes: obs.cookie_writes.len(),
            duration_ms: millis_between(obs.started_at, obs.finished_at),
            warnings: obs.warnings.clone(),
            signals: crate::signals::view(&obs.signals),
            consent_actions: obs.cmp.clone(),
            screenshots: obs
                .screenshots
                .iter()
                .filter(|s| s.path.is_some())
                .map(|s| crate::model::Screenshot {
                    png: Vec::new(),
                    ..s.clone()
                })
                .collect(),
            timings: obs.timings.clone(),
            // Only of a visit observed completely: a partial visit's vendors are not
            // "what happened" (the matrix shows it as not observed).
            vendors: match obs.status {
                crate::model::VisitStatus::Complete => crate::inventory::of_visit(visit)
                    .vendors
                    .into_iter()
                    .map(|a| a.vendor)
                    .collect(),
                crate::model::VisitStatus::Incomplete(_) => Vec::new(),
            },
        }
    }

    /// The reason the visit was not observed, if it was not.
    pub fn not_observed(&self) -> Option<&str> {
        self.status.failure().map(|f| f.reason.as_str())
    }
}

/// `to - from` in milliseconds, 0 when negative.
pub fn millis_between(from: DateTime<Utc>, to: DateTime<Utc>) -> u64 {
    (to - from).num_milliseconds().try_into().unwrap_or(0)
}

/// The verdict of an audit: the one place findings, visits and run status become an
/// exit status.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Verdict {
    pub exit: ExitStatus,
    /// The audit could not look at everything: never to be read as clean.
    pub incomplete: bool,
    /// Findings at or above `fail_on` (not acknowledged).
    pub failing: usize,
    /// Findings that would count towards `fail_on` but an active acknowledgement keeps
    /// from failing the run.
    #[serde(default)]
    pub acknowledged: usize,
    /// Visits not observed, by scenario id, in run order.
    pub not_observed: Vec<String>,
}

impl Default for Verdict {
    /// The verdict of nothing at all: incomplete. [`AuditReport::with_verdict`] replaces it.
    fn default() -> Self {
        Verdict {
            exit: ExitStatus::Incomplete,
            incomplete: true,
            failing: 0,
            acknowledged: 0,
            not_observed: Vec::new(),
        }
    }
}

impl Verdict {
    /// Precedence: `Incomplete` (a visit not observed, nothing observed at all, or a run
    /// status other than `Complete` — `Running`, `Incomplete` and `Interrupted` all
    /// count) over `Findings` (a finding with severity >= `fail_on` — with
    /// `fail_on_new`, only one new or regressed in this run; never one with an active
    /// acknowledgement; `None` never fails on findings) over `Ok`.
    pub fn of(report: &AuditReport) -> Verdict {
        let (status, visits, findings, fail_on) = (
            &report.status,
            &report.visits,
            &report.findings,
            report.fail_on,
        );
        let not_observed: Vec<String> = visits
            .iter()
            .filter(|v| v.not_observed().is_some())
            .map(|v| v.scenario.clone())
            .collect();
        let incomplete = *status != RunStatus::Complete
            || visits.is_empty()
            || !not_observed.is_empty()
            || findings.iter().any(|f| f.code == Code::ScenarioNotObserved);
        let (failing, acknowledged) = match fail_on {
            Some(_) => findings
                .iter()
                .filter(|f| report.counts_toward_fail_on(f))
                .fold((0, 0), |(failing, acked), f| {
                    if report.is_acknowledged(f) {
                        (failing, acked + 1)
                    } else {
                        (failing + 1, acked)
                    }
                }),
            None => (0, 0),
        };
        let exit = if incomplete {
            ExitStatus::Incomplete
        } else if failing > 0 {
            ExitStatus::Findings
        } else {
            ExitStatus::Ok
        };
        Verdict {
            exit,
            incomplete,
            failing,
            acknowledged,
            not_observed,
        }
    }
}

/// `--fail-on`: a severity threshold (or never), optionally only for findings that are
/// new or regressed in this run (`new`, `new:high`): the nightly job's choice.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FailOn {
    pub threshold: Option<Severity>,
    pub new_only: bool,
}

impl FailOn {
    pub const DEFAULT: FailOn = FailOn {
        threshold: Some(Severity::High),
        new_only: false,
    };

    /// `never`, a severity, `new` (any severity) or `new:SEVERITY`.
    pub fn parse(s: &str) -> Result<FailOn, String> {
        let sev = |t: &str| {
            Severity::parse(t).ok_or_else(|| {
                format!(
                    "expected never, a severity (info, low, medium, high, critical), new or new:SEVERITY; got {s:?}"
                )
            })
        };
        match s {
            "never" => Ok(FailOn {
                threshold: None,
                new_only: false,
            }),
            "new" => Ok(FailOn {
                threshold: Some(Severity::Info),
                new_only: true,
            }),
            _ => match s.strip_prefix("new:") {
                Some(t) => Ok(FailOn {
                    threshold: Some(sev(t)?),
                    new_only: true,
                }),
                None => Ok(FailOn {
                    threshold: Some(sev(s)?),
                    new_only: false,
                }),
            },
        }
    }

    /// The form [`FailOn::parse`] reads back.
    pub fn as_string(&self) -> String {
        match (self.threshold, self.new_only) {
            (None, _) => "never".to_string(),
            (Some(s), false) => s.as_str().to_string(),
            (Some(s), true) => format!("new:{s}"),
        }
    }
}

impl AuditReport {
    /// The template of the planned page an evidence was on (docs/crawl.md); `None`
    /// without discovery, or for a page the plan does not hold.
    pub fn template_of(&self, page: &str) -> Option<&str> {
        self.crawl.as_ref()?.template_of(page)
    }

    /// Recompute the verdict from the report's fields (after building or editing one).
    pub fn with_verdict(mut self) -> Self {
        self.verdict = Verdict::of(&self);
        self
    }

    pub fn duration_ms(&self) -> u64 {
        millis_between(self.started_at, self.finished_at)
    }

    /// Number of findings per severity, most severe first (every severity listed).
    pub fn counts(&self) -> Vec<(Severity, usize)> {
        Severity::all()
            .rev()
            .map(|s| (s, self.findings.iter().filter(|f| f.severity == s).count()))
            .collect()
    }

    /// Visits that were not observed, with their reason.
    pub fn not_observed(&self) -> Vec<(&str, &str)> {
        self.visits
            .iter()
            .filter_map(|v| v.not_observed().map(|r| (v.scenario.as_str(), r)))
            .collect()
    }

    /// Does `f` count towards `--fail-on`: at or above the threshold and, with
    /// `fail_on_new`, new or regressed in this run (acknowledged or not)?
    pub fn counts_toward_fail_on(&self, f: &Finding) -> bool {
        self.fail_on.is_some_and(|t| f.severity >= t)
            && (!self.fail_on_new || self.new_fingerprints.contains(&f.fingerprint))
    }

    /// Does `f` fail the run ([`Verdict::of`] counts these)?
    pub fn fails(&self, f: &Finding) -> bool {
        self.counts_toward_fail_on(f) && !self.is_acknowledged(f)
    }

    /// The acknowledgement that matched finding `f` in this run (active or expired).
    pub fn acknowledgement(&self, f: &Finding) -> Option<&AckRecord> {
        self.acknowledgements.iter().find(|a| {
            matches!(a.status, AckStatus::Active | AckStatus::Expired)
                && a.fingerprint == f.fingerprint
        })
    }

    /// Whether finding `f` has an active acknowledgement: shown, but never failing.
    pub fn is_acknowledged(&self, f: &Finding) -> bool {
        self.acknowledgement(f)
            .is_some_and(|a| a.status == AckStatus::Active)
    }

    /// The acknowledgements of this run with status `status`.
    pub fn acks_with(&self, status: AckStatus) -> impl Iterator<Item = &AckRecord> {
        self.acknowledgements
            .iter()
            .filter(move |a| a.status == status)
    }

    /// The exit status this report leads to.
    pub fn exit_status(&self) -> ExitStatus {
        self.verdict.exit
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Failure, FailureKind};
    use crate::report::tests::{finding, fixed_report, visit};

    fn clean() -> AuditReport {
        let mut r = fixed_report();
        r.status = RunStatus::Complete;
        r.visits = vec![visit("no_action", VisitStatus::Complete)];
        r.findings = Vec::new();
        r.fail_on = Some(Severity::High);
        r.with_verdict()
    }

    #[test]
    fn ok_when_complete_and_nothing_at_threshold() {
        let mut r = clean();
        assert_eq!(r.exit_status(), ExitStatus::Ok);
        r.findings
            .push(finding(Code::UndeclaredCookie, "no_action", "x"));
        let r = r.with_verdict();
        assert_eq!(r.exit_status(), ExitStatus::Ok, "medium < high");
        assert_eq!(r.verdict.failing, 0);
    }

    #[test]
    fn findings_at_or_above_threshold() {
        let mut r = clean();
        r.findings.push(finding(
            Code::ConsentVendorBeforeChoice,
            "no_action",
            "meta",
        ));
        let mut r = r.with_verdict();
        assert_eq!(r.exit_status(), ExitStatus::Findings, "high >= high");
        assert_eq!(r.verdict.failing, 1);
        r.fail_on = Some(Severity::Critical);
        let mut r = r.with_verdict();
        assert_eq!(r.exit_status(), ExitStatus::Ok);
        r.fail_on = Some(Severity::Info);
        let mut r = r.with_verdict();
        assert_eq!(r.exit_status(), ExitStatus::Findings);
        r.fail_on = None;
        let r = r.with_verdict();
        assert_eq!(
            r.exit_status(),
            ExitStatus::Ok,
            "no fail-on: never fail on findings"
        );
    }

    #[test]
    fn incomplete_wins_over_findings() {
        let mut r = clean();
        r.findings
            .push(finding(Code::ConsentVendorAfterReject, "no_action", "meta"));
        r.visits.push(visit(
            "legacy",
            VisitStatus::Incomplete(Failure::new(FailureKind::ElementNotFound, "step 2 failed")),
        ));
        let mut r = r.with_verdict();
        assert_eq!(r.exit_status(), ExitStatus::Incomplete);
        assert_eq!(r.verdict.not_observed, vec!["legacy".to_string()]);
        // Even with no finding and no fail-on: never clean.
        r.findings.clear();
        r.fail_on = None;
        assert_eq!(r.with_verdict().exit_status(), ExitStatus::Incomplete);
    }

    #[test]
    fn run_status_other_than_complete_is_incomplete() {
        for status in [
            RunStatus::Running,
            RunStatus::Incomplete("1 scenario not observed".into()),
            RunStatus::Interrupted("interrupted by Ctrl-C".into()),
        ] {
            let mut r = clean();
            r.status = status;
            assert_eq!(r.with_verdict().exit_status(), ExitStatus::Incomplete);
        }
    }

    #[test]
    fn fail_on_new_counts_only_new_or_regressed_findings() {
        let mut r = clean();
        r.findings.push(finding(
            Code::ConsentVendorBeforeChoice,
            "no_action",
            "meta",
        ));
        r.fail_on_new = true;
        let mut r = r.with_verdict();
        assert_eq!(r.exit_status(), ExitStatus::Ok, "persisting: not new");
        r.new_fingerprints = vec![r.findings[0].fingerprint.clone()];
        let r = r.with_verdict();
        assert_eq!(r.exit_status(), ExitStatus::Findings);
        assert_eq!(
            FailOn::parse("new:high").map(|f| f.as_string()),
            Ok("new:high".into())
        );
        assert_eq!(
            FailOn::parse("new").map(|f| f.as_string()),
            Ok("new:info".into())
        );
        assert_eq!(FailOn::parse("never").map(|f| f.threshold), Ok(None));
        assert!(FailOn::parse("new:bad").is_err() && FailOn::parse("huge").is_err());
    }

    #[test]
    fn active_acknowledgements_never_fail_expired_ones_count_again() {
        use crate::ack::AckStatus;
        use crate::report::tests::ack_record;
        let mut r = clean();
        let f = finding(Code::ConsentVendorBeforeChoice, "no_action", "meta");
        r.findings.push(f.clone());
        r.acknowledgements = vec![ack_record(&f.fingerprint, AckStatus::Active)];
        let mut r = r.with_verdict();
        assert_eq!(r.exit_status(), ExitStatus::Ok);
        assert_eq!((r.verdict.failing, r.verdict.acknowledged), (0, 1));
        // New in this run, and acknowledged: --fail-on new does not fail either.
        r.fail_on_new = true;
        r.new_fingerprints = vec![f.fingerprint.clone()];
        let mut r = r.with_verdict();
        assert_eq!(r.exit_status(), ExitStatus::Ok);
        assert_eq!(r.verdict.acknowledged, 1);
        for status in [AckStatus::Expired, AckStatus::Unused] {
            r.acknowledgements[0].status = status;
            let v = Verdict::of(&r);
            assert_eq!(v.exit, ExitStatus::Findings, "{status:?} counts again");
            assert_eq!((v.failing, v.acknowledged), (1, 0));
        }
        // An acknowledgement of another finding covers nothing.
        r.acknowledgements = vec![ack_record("v1-0000000000000000", AckStatus::Active)];
        assert_eq!(r.clone().with_verdict().exit_status(), ExitStatus::Findings);
        // Incomplete still wins.
        r.acknowledgements = vec![ack_record(&f.fingerprint, AckStatus::Active)];
        r.status = RunStatus::Interrupted("signal".into());
        assert_eq!(r.with_verdict().exit_status(), ExitStatus::Incomplete);
    }

    #[test]
    fn nothing_observed_is_incomplete() {
        let mut r = clean();
        r.visits.clear();
        assert_eq!(r.with_verdict().exit_status(), ExitStatus::Incomplete);
    }
}

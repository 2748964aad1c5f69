//! Exit codes: decided here and only here (documented in docs/exit-codes.md).
//!
//! | code | status         | meaning                                                        |
//! |------|----------------|----------------------------------------------------------------|
//! | 0    | `Ok`           | every scenario observed, no finding at or above `--fail-on`    |
//! | 1    | `Findings`     | every scenario observed, a finding at or above `--fail-on`     |
//! | 2    | `InvalidInput` | the scenario file, declared map or command line is invalid     |
//! | 3    | `Incomplete`   | a scenario was not observed, or the run did not complete       |
//! | 4    | `Error`        | consentry itself failed (browser not found, database, I/O, ...) |

use crate::observe::{RunStatus, VisitStatus};
use crate::report::AuditReport;
use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum ExitStatus {
    Ok = 0,
    Findings = 1,
    InvalidInput = 2,
    Incomplete = 3,
    Error = 4,
}

impl ExitStatus {
    pub const ALL: [ExitStatus; 5] = [
        ExitStatus::Ok,
        ExitStatus::Findings,
        ExitStatus::InvalidInput,
        ExitStatus::Incomplete,
        ExitStatus::Error,
    ];

    /// The process exit code.
    pub fn code(self) -> u8 {
        self as u8
    }

    /// Stable machine name (used in the JSON report's `summary.verdict`).
    pub fn as_str(self) -> &'static str {
        match self {
            ExitStatus::Ok => "ok",
            ExitStatus::Findings => "findings",
            ExitStatus::InvalidInput => "invalid-input",
            ExitStatus::Incomplete => "incomplete",
            ExitStatus::Error => "error",
        }
    }

    /// One-line human meaning.
    pub fn describe(self) -> &'static str {
        match self {
            ExitStatus::Ok => {
                "every scenario observed; no finding at or above the fail-on severity"
            }
            ExitStatus::Findings => "findings at or above the fail-on severity",
            ExitStatus::InvalidInput => "invalid scenario file, declared map or arguments",
            ExitStatus::Incomplete => {
                "the audit is incomplete: a scenario was not observed or the run did not finish"
            }
            ExitStatus::Error => "consentry failed",
        }
    }
}

impl fmt::Display for ExitStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl From<ExitStatus> for std::process::ExitCode {
    fn from(s: ExitStatus) -> Self {
        std::process::ExitCode::from(s.code())
    }
}

/// Is the audit incomplete: the run did not complete, a scenario was not observed, or
/// there was nothing to observe at all?
pub fn is_incomplete(report: &AuditReport) -> bool {
    report.status != RunStatus::Complete
        || report.visits.is_empty()
        || report
            .visits
            .iter()
            .any(|v| matches!(v.status, VisitStatus::Incomplete(_)))
        || report
            .findings
            .iter()
            .any(|f| f.code == crate::analysis::Code::ScenarioNotObserved)
}

/// The exit status of an audit that ran.
///
/// Precedence: `Incomplete` (any scenario not observed, or the run status is not
/// `Complete` — `Running`, `Incomplete` and `Interrupted` (Ctrl-C) all count) over
/// `Findings` (a finding with severity >= `fail_on`; `fail_on: None` never fails on
/// findings) over `Ok`.
pub fn audit_exit(report: &AuditReport) -> ExitStatus {
    if is_incomplete(report) {
        return ExitStatus::Incomplete;
    }
    match report.fail_on {
        Some(threshold) if report.findings.iter().any(|f| f.severity >= threshold) => {
            ExitStatus::Findings
        }
        _ => ExitStatus::Ok,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::Severity;
    use crate::report::tests::{finding, fixed_report, visit};

    #[test]
    fn codes_are_fixed() {
        let codes: Vec<u8> = ExitStatus::ALL.iter().map(|s| s.code()).collect();
        assert_eq!(codes, vec![0, 1, 2, 3, 4]);
        assert_eq!(
            std::process::ExitCode::from(ExitStatus::Incomplete),
            std::process::ExitCode::from(3)
        );
    }

    fn clean() -> AuditReport {
        let mut r = fixed_report();
        r.status = RunStatus::Complete;
        r.visits = vec![visit("no_action", VisitStatus::Complete)];
        r.findings = Vec::new();
        r.fail_on = Some(Severity::High);
        r
    }

    #[test]
    fn ok_when_complete_and_nothing_at_threshold() {
        let mut r = clean();
        assert_eq!(audit_exit(&r), ExitStatus::Ok);
        r.findings.push(finding(
            crate::analysis::Code::UndeclaredCookie,
            "no_action",
            "x",
        ));
        assert_eq!(audit_exit(&r), ExitStatus::Ok, "medium < high");
    }

    #[test]
    fn findings_at_or_above_threshold() {
        let mut r = clean();
        r.findings.push(finding(
            crate::analysis::Code::ConsentVendorBeforeChoice,
            "no_action",
            "meta",
        ));
        assert_eq!(audit_exit(&r), ExitStatus::Findings, "high >= high");
        r.fail_on = Some(Severity::Critical);
        assert_eq!(audit_exit(&r), ExitStatus::Ok);
        r.fail_on = Some(Severity::Info);
        assert_eq!(audit_exit(&r), ExitStatus::Findings);
        r.fail_on = None;
        assert_eq!(
            audit_exit(&r),
            ExitStatus::Ok,
            "no fail-on: never fail on findings"
        );
    }

    #[test]
    fn incomplete_wins_over_findings() {
        let mut r = clean();
        r.findings.push(finding(
            crate::analysis::Code::ConsentVendorAfterReject,
            "no_action",
            "meta",
        ));
        r.visits.push(visit(
            "legacy",
            VisitStatus::Incomplete("step 2 failed".into()),
        ));
        assert_eq!(audit_exit(&r), ExitStatus::Incomplete);
        // Even with no finding and no fail-on: never clean.
        r.findings.clear();
        r.fail_on = None;
        assert_eq!(audit_exit(&r), ExitStatus::Incomplete);
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
            assert_eq!(audit_exit(&r), ExitStatus::Incomplete);
        }
    }

    #[test]
    fn nothing_observed_is_incomplete() {
        let mut r = clean();
        r.visits.clear();
        assert_eq!(audit_exit(&r), ExitStatus::Incomplete);
    }
}

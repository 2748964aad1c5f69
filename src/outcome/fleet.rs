//! The outcome of a fleet run (docs/fleet.md): one line per site, and one verdict for the
//! fleet, decided here by the single-site rules.

use super::AuditReport;
use crate::analysis::Severity;
use crate::exit::ExitStatus;
use crate::model::RunStatus;
use chrono::{DateTime, Utc};
use serde::Serialize;

/// A fleet run's summary: what every format of `audit` prints for several sites.
#[derive(Debug, Clone, Serialize)]
pub struct FleetReport {
    pub fleet: String,
    pub fleet_file: Option<String>,
    /// The fleet run's id in the database.
    pub fleet_run_id: Option<i64>,
    pub started_at: DateTime<Utc>,
    pub finished_at: DateTime<Utc>,
    /// In fleet order.
    pub sites: Vec<SiteLine>,
    /// Any site incomplete: 3; else findings at or above `--fail-on` in any site: 1;
    /// else 0 (docs/exit-codes.md).
    pub exit: ExitStatus,
}

/// One site of a fleet run, in numbers.
#[derive(Debug, Clone, Serialize)]
pub struct SiteLine {
    pub site: String,
    pub run_id: Option<i64>,
    pub status: RunStatus,
    pub visits: usize,
    pub visits_observed: usize,
    /// Findings by severity, most severe first (every severity, zeros included).
    pub findings: Vec<(Severity, usize)>,
    /// Findings new or regressed in this run, against the site's history.
    pub new_or_regressed: usize,
    /// Findings at or above `--fail-on`, not acknowledged.
    pub failing: usize,
    /// The site's own time: from its first visit's start to its last visit's end (its run
    /// starts with the fleet's and may wait for a free browser before that).
    pub duration_ms: u64,
    pub exit: ExitStatus,
    /// Where the site's full report was written, when it was.
    pub report_file: Option<String>,
}

impl FleetReport {
    /// The summary of the sites' reports; `report_files` pairs each with where its full
    /// report was written.
    pub fn of(
        fleet: &str,
        fleet_file: Option<&str>,
        fleet_run_id: Option<i64>,
        started_at: DateTime<Utc>,
        finished_at: DateTime<Utc>,
        sites: &[(&AuditReport, u64, Option<String>)],
        invalid: &[(&str, usize)],
    ) -> FleetReport {
        let sites: Vec<SiteLine> = sites
            .iter()
            .map(|(r, ms, f)| SiteLine::of(r, *ms, f.clone()))
            .chain(
                invalid
                    .iter()
                    .map(|(site, errors)| SiteLine::invalid(site, *errors)),
            )
            .collect();
        FleetReport {
            fleet: fleet.to_string(),
            fleet_file: fleet_file.map(str::to_string),
            fleet_run_id,
            started_at,
            finished_at,
            exit: fleet_exit(sites.iter().map(|s| s.exit)),
            sites,
        }
    }

    pub fn duration_ms(&self) -> u64 {
        super::millis_between(self.started_at, self.finished_at)
    }
}

impl SiteLine {
    /// A site whose files are invalid: not audited, so not observed.
    fn invalid(site: &str, errors: usize) -> SiteLine {
        SiteLine {
            site: site.to_string(),
            run_id: None,
            status: RunStatus::Incomplete(format!("not audited: {errors} error(s) in its files")),
            visits: 0,
            visits_observed: 0,
            findings: Severity::all().rev().map(|s| (s, 0)).collect(),
            new_or_regressed: 0,
            failing: 0,
            duration_ms: 0,
            exit: ExitStatus::Incomplete,
            report_file: None,
        }
    }

    fn of(r: &AuditReport, active_ms: u64, report_file: Option<String>) -> SiteLine {
        let counts = r.counts();
        let findings = Severity::all()
            .rev()
            .map(|s| {
                let n = counts.iter().find(|(c, _)| *c == s).map_or(0, |(_, n)| *n);
                (s, n)
            })
            .collect();
        SiteLine {
            site: r.site.clone(),
            run_id: r.run_id,
            status: r.status.clone(),
            visits: r.visits.len(),
            visits_observed: r
                .visits
                .iter()
                .filter(|v| v.not_observed().is_none())
                .count(),
            findings,
            new_or_regressed: r.new_fingerprints.len(),
            failing: r.verdict.failing,
            duration_ms: active_ms,
            exit: r.exit_status(),
            report_file,
        }
    }
}

/// The fleet's exit status from its sites': incomplete beats findings beats ok.
pub fn fleet_exit(sites: impl IntoIterator<Item = ExitStatus>) -> ExitStatus {
    let rank = |e: ExitStatus| match e {
        ExitStatus::Ok => 0,
        ExitStatus::Findings => 1,
        ExitStatus::Incomplete => 2,
        ExitStatus::InvalidInput => 3,
        ExitStatus::Error => 4,
    };
    sites
        .into_iter()
        .max_by_key(|e| rank(*e))
        .unwrap_or(ExitStatus::Incomplete)
}

#[cfg(test)]
mod tests {
    use super::fleet_exit;
    use crate::exit::ExitStatus::*;

    #[test]
    fn an_incomplete_site_makes_the_fleet_incomplete_whatever_the_others_found() {
        assert_eq!(fleet_exit([Ok, Findings, Incomplete, Ok]), Incomplete);
        assert_eq!(fleet_exit([Ok, Findings, Ok]), Findings);
        assert_eq!(fleet_exit([Ok, Ok]), Ok);
        assert_eq!(
            fleet_exit([]),
            Incomplete,
            "a fleet of no site looked at nothing"
        );
    }
}

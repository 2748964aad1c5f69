//! The CI formats: SARIF 2.1.0 (`--format sarif`, for code scanning) and JUnit XML
//! (`--format junit`, for test-report views). Both lay out one view, [`CiView`], built
//! once from the run report: the rules (one per finding code, with the help text of its
//! docs/findings.md section), each finding with where it points (the declared-map line
//! of the vendor or cookie rule concerned, else the scenario file) and whether it fails
//! the run, and the test cases (site × scenario). A drift pack has no CI form.

mod junit;
mod sarif;

pub use junit::JunitReporter;
pub use sarif::SarifReporter;

use crate::ack::{AckRecord, AckStatus};
use crate::analysis::finding::{Code, Finding, Severity};
use crate::outcome::AuditReport;

/// The finding codes' contract, one `## code` section each.
const FINDINGS_DOC: &str = include_str!("../../../docs/findings.md");

/// The docs/findings.md section of `code`, without its heading (empty if missing; a
/// test checks every code has one).
pub fn code_doc(code: Code) -> &'static str {
    let heading = format!("\n## {}\n", code.as_str());
    let Some(start) = FINDINGS_DOC.find(&heading) else {
        return "";
    };
    let body = &FINDINGS_DOC[start + heading.len()..];
    let end = body.find("\n## ").unwrap_or(body.len());
    body[..end].trim()
}

/// One rule: a finding code.
pub struct Rule {
    pub code: Code,
    pub severity: Severity,
    pub summary: &'static str,
    pub help: &'static str,
}

/// Where a finding points.
pub struct Place {
    /// The policy file or the scenario file, as the run named it.
    pub file: String,
    /// 1-based.
    pub line: usize,
}

/// A finding, laid out for CI.
pub struct CiFinding<'a> {
    pub finding: &'a Finding,
    /// Index of its rule in [`CiView::rules`].
    pub rule: usize,
    pub place: Place,
    /// The acknowledgement in force for it, if any.
    pub ack: Option<&'a AckRecord>,
    /// It fails the run (at or above `--fail-on`, counted, not acknowledged).
    pub fails: bool,
    /// What the knowledge bases say of its host or cookie ([`Finding::known`]).
    pub known: Option<&'a crate::knowledge::Known>,
}

/// One test case: a scenario of the site (or the site itself, for site-level findings).
pub struct Case<'a> {
    pub name: &'a str,
    /// Why it was not observed (JUnit `error`: it could not be judged).
    pub not_observed: Option<&'a str>,
    pub duration_ms: u64,
    /// Indexes into [`CiView::findings`] of its findings that fail the run.
    pub failures: Vec<usize>,
    /// How many of its findings do not fail it.
    pub passing_findings: usize,
}

pub struct CiView<'a> {
    pub report: &'a AuditReport,
    pub rules: Vec<Rule>,
    pub findings: Vec<CiFinding<'a>>,
    pub cases: Vec<Case<'a>>,
}

/// The test case name of site-level findings.
pub const SITE_CASE: &str = "(site)";

impl<'a> CiView<'a> {
    pub fn of(report: &'a AuditReport) -> Self {
        let mut codes: Vec<Code> = report.findings.iter().map(|f| f.code).collect();
        codes.sort();
        codes.dedup();
        let rules = codes
            .iter()
            .map(|&code| Rule {
                code,
                severity: code.severity(),
                summary: code.summary(),
                help: code_doc(code),
            })
            .collect();
        let findings: Vec<CiFinding<'a>> = report
            .findings
            .iter()
            .map(|f| {
                let place = match report
                    .declared
                    .as_ref()
                    .and_then(|d| Some((d, d.line_of(f)?)))
                {
                    Some((d, line)) => Place {
                        file: d.policy_file.clone(),
                        line,
                    },
                    None => Place {
                        file: report.scenario_file.clone(),
                        line: 1,
                    },
                };
                CiFinding {
                    finding: f,
                    rule: codes.binary_search(&f.code).unwrap_or(0),
                    place,
                    ack: report
                        .acknowledgement(f)
                        .filter(|a| a.status == AckStatus::Active),
                    fails: report.fails(f),
                    known: f.known(),
                }
            })
            .collect();
        let mut cases: Vec<Case<'a>> = report
            .visits
            .iter()
            .map(|v| Case {
                name: &v.scenario,
                not_observed: v.not_observed(),
                duration_ms: v.duration_ms,
                failures: Vec::new(),
                passing_findings: 0,
            })
            .collect();
        for (i, f) in findings.iter().enumerate() {
            let name = f.finding.scenario.as_deref().unwrap_or(SITE_CASE);
            let at = match cases.iter().position(|c| c.name == name) {
                Some(at) => at,
                None => {
                    cases.push(Case {
                        name: f.finding.scenario.as_deref().unwrap_or(SITE_CASE),
                        not_observed: None,
                        duration_ms: 0,
                        failures: Vec::new(),
                        passing_findings: 0,
                    });
                    cases.len() - 1
                }
            };
            if f.fails {
                cases[at].failures.push(i);
            } else {
                cases[at].passing_findings += 1;
            }
        }
        CiView {
            report,
            rules,
            findings,
            cases,
        }
    }
}

#[cfg(test)]
mod tests;

//! JSON report: a stable, documented shape (docs/findings.md#json-report).
//! Fields are only ever added within a schema version.

use super::{AuditReport, Reporter, VisitSummary};
use crate::ack::{AckRecord, AckStatus};
use crate::analysis::{Finding, Severity};
use crate::model::RunStatus;
use chrono::{DateTime, Utc};
use serde::Serialize;

/// Version of the JSON shape; bumped on any incompatible change.
pub const SCHEMA_VERSION: u32 = 1;

#[derive(Debug, Clone, Copy, Default)]
pub struct JsonReporter;

#[derive(Serialize)]
struct JsonReport<'a> {
    schema_version: u32,
    run_id: Option<i64>,
    site: &'a str,
    scenario_file: &'a str,
    started_at: DateTime<Utc>,
    finished_at: DateTime<Utc>,
    duration_ms: u64,
    status: &'a RunStatus,
    fail_on: Option<Severity>,
    /// `--fail-on new[:SEVERITY]`: only new or regressed findings fail the run.
    fail_on_new: bool,
    db_path: Option<&'a str>,
    /// The data the run ran with (consentry, autoconsent, the bundled CMP profiles): one
    /// set, several when a queued fleet's workers differed, none for a run stored before
    /// consentry recorded it.
    data_versions: &'a [crate::data::DataVersions],
    /// Where the run looked from: label, proxy (scheme://host:port), whether the proxy
    /// had credentials, locale, timezone (docs/scenarios.md#vantage).
    vantage: &'a crate::model::vantage::Vantage,
    summary: Summary<'a>,
    visits: &'a [VisitSummary],
    findings: Vec<JsonFinding<'a>>,
    /// The findings grouped by code and subject (docs/findings.md, `problems[]`).
    problems: Vec<crate::outcome::Problem>,
    acknowledgements: JsonAcks<'a>,
    /// The crawl plan the scenarios followed (only with page discovery).
    #[serde(skip_serializing_if = "Option::is_none")]
    crawl: Option<&'a crate::crawl::CrawlPlan>,
}

/// A finding with the acknowledgement that matched it (null when none).
#[derive(Serialize)]
struct JsonFinding<'a> {
    #[serde(flatten)]
    finding: &'a Finding,
    acknowledgement: Option<&'a AckRecord>,
    /// With page discovery: the template of each evidence's page, in evidence order
    /// (null for a page the plan does not hold).
    #[serde(skip_serializing_if = "Option::is_none")]
    templates: Option<Vec<Option<&'a str>>>,
}

/// The run's acknowledgements by status.
#[derive(Serialize)]
struct JsonAcks<'a> {
    active: Vec<&'a AckRecord>,
    expired: Vec<&'a AckRecord>,
    unused: Vec<&'a AckRecord>,
}

#[derive(Serialize)]
struct Summary<'a> {
    findings: usize,
    by_severity: BySeverity,
    scenarios_not_observed: Vec<&'a str>,
    /// Fingerprints new or regressed in this run (against the site's history).
    new_or_regressed: &'a [String],
    /// Findings with an active acknowledgement (they never fail the run).
    acknowledged: usize,
    verdict: &'static str,
    exit_code: u8,
}

#[derive(Serialize)]
struct BySeverity {
    critical: usize,
    high: usize,
    medium: usize,
    low: usize,
    info: usize,
}

impl Reporter for JsonReporter {
    fn render_drift(&self, report: &crate::drift::DriftReport) -> String {
        super::drift::drift_json(report)
    }

    fn render(&self, r: &AuditReport) -> String {
        let count = |s: Severity| r.findings.iter().filter(|f| f.severity == s).count();
        let exit = r.exit_status();
        let doc = JsonReport {
            schema_version: SCHEMA_VERSION,
            run_id: r.run_id,
            site: &r.site,
            scenario_file: &r.scenario_file,
            started_at: r.started_at,
            finished_at: r.finished_at,
            duration_ms: r.duration_ms(),
            status: &r.status,
            fail_on: r.fail_on,
            fail_on_new: r.fail_on_new,
            db_path: r.db_path.as_deref(),
            data_versions: &r.data_versions,
            vantage: &r.vantage,
            summary: Summary {
                findings: r.findings.len(),
                by_severity: BySeverity {
                    critical: count(Severity::Critical),
                    high: count(Severity::High),
                    medium: count(Severity::Medium),
                    low: count(Severity::Low),
                    info: count(Severity::Info),
                },
                scenarios_not_observed: r.not_observed().into_iter().map(|(s, _)| s).collect(),
                new_or_regressed: &r.new_fingerprints,
                acknowledged: r.findings.iter().filter(|f| r.is_acknowledged(f)).count(),
                verdict: exit.as_str(),
                exit_code: exit.code(),
            },
            visits: &r.visits,
            findings: r
                .findings
                .iter()
                .map(|f| JsonFinding {
                    finding: f,
                    acknowledgement: r.acknowledgement(f),
                    templates: r
                        .crawl
                        .as_ref()
                        .map(|_| f.evidence.iter().map(|e| r.template_of(&e.page)).collect()),
                })
                .collect(),
            problems: crate::outcome::problems(r),
            acknowledgements: JsonAcks {
                active: r.acks_with(AckStatus::Active).collect(),
                expired: r.acks_with(AckStatus::Expired).collect(),
                unused: r.acks_with(AckStatus::Unused).collect(),
            },
            crawl: r.crawl.as_ref(),
        };
        // Serialising plain data with string keys cannot fail; keep a valid document anyway.
        let mut s = serde_json::to_string_pretty(&doc).unwrap_or_else(|e| {
            serde_json::json!({ "schema_version": SCHEMA_VERSION, "error": e.to_string() })
                .to_string()
        });
        s.push('\n');
        s
    }
}

//! SARIF 2.1.0 (OASIS): one run, one rule per finding code present, one result per
//! finding. GitHub code scanning matches results across runs by `partialFingerprints`
//! (the finding's fingerprint), so an alert dismissed there stays dismissed; an active
//! acknowledgement is an `external` suppression, `accepted`, with its reason.

use super::{CiFinding, CiView, Rule};
use crate::analysis::finding::Severity;
use crate::drift::DriftReport;
use crate::outcome::AuditReport;
use serde_json::{json, Value};

/// The schema a SARIF log names.
pub const SARIF_SCHEMA: &str = "https://json.schemastore.org/sarif-2.1.0.json";

/// The key of the finding fingerprint in `partialFingerprints`.
pub const FINGERPRINT_KEY: &str = "consentryFingerprint/v1";

#[derive(Debug, Clone, Copy, Default)]
pub struct SarifReporter;

/// `error` (critical, high), `warning` (medium), `note` (low, info).
fn level(s: Severity) -> &'static str {
    match s {
        Severity::Critical | Severity::High => "error",
        Severity::Medium => "warning",
        Severity::Low | Severity::Info => "note",
    }
}

/// GitHub's `security-severity` (a CVSS-like score) of a severity.
fn security_severity(s: Severity) -> &'static str {
    match s {
        Severity::Critical => "9.5",
        Severity::High => "8.0",
        Severity::Medium => "5.5",
        Severity::Low => "3.0",
        Severity::Info => "1.0",
    }
}

/// `scenarios/shop.toml` as a relative URI (forward slashes); an absolute path as a
/// `file://` URI.
fn uri(path: &str) -> String {
    let path = path.replace('\\', "/");
    let encoded: String = path
        .chars()
        .map(|c| match c {
            ' ' => "%20".to_string(),
            '%' => "%25".to_string(),
            '#' => "%23".to_string(),
            '?' => "%3F".to_string(),
            c => c.to_string(),
        })
        .collect();
    if path.starts_with('/') {
        format!("file://{encoded}")
    } else {
        encoded
    }
}

fn rule(r: &Rule) -> Value {
    let name: String = r
        .code
        .as_str()
        .split('-')
        .map(|w| {
            let mut c = w.chars();
            c.next()
                .map(|f| f.to_ascii_uppercase().to_string() + c.as_str())
                .unwrap_or_default()
        })
        .collect();
    json!({
        "id": r.code.as_str(),
        "name": name,
        "shortDescription": { "text": r.summary },
        "fullDescription": { "text": r.summary },
        "help": { "text": r.help, "markdown": r.help },
        "defaultConfiguration": { "level": level(r.severity) },
        "properties": {
            "tags": ["privacy", "consent"],
            "security-severity": security_severity(r.severity),
        },
    })
}

fn result(f: &CiFinding<'_>) -> Value {
    let finding = f.finding;
    let mut text = finding.message.clone();
    if !finding.rule.is_empty() {
        text.push_str(&format!(" (rule: {})", finding.rule));
    }
    let mut v = json!({
        "ruleId": finding.code.as_str(),
        "ruleIndex": f.rule,
        "level": level(finding.severity),
        "message": { "text": text },
        "locations": [{
            "physicalLocation": {
                "artifactLocation": { "uri": uri(&f.place.file) },
                "region": { "startLine": f.place.line },
            },
        }],
        "partialFingerprints": { FINGERPRINT_KEY: finding.fingerprint },
        "properties": {
            "severity": finding.severity.as_str(),
            "site": finding.site,
            "scenario": finding.scenario,
            "subject": finding.subject,
            "occurrences": finding.occurrences,
            "fails": f.fails,
            "phases": finding.evidence.iter().map(|e| e.phase.as_str()).collect::<Vec<_>>(),
            "pages": finding.evidence.iter().map(|e| e.page.as_str()).collect::<Vec<_>>(),
        },
    });
    // With `audit --repeat N`: in how many repetitions it was seen, and whether it is
    // intermittent (docs/findings.md, "Repetitions").
    if let (Some(seen), Some(props)) = (
        finding.repeat,
        v.get_mut("properties").and_then(|p| p.as_object_mut()),
    ) {
        props.insert("seen".into(), json!(seen.seen));
        props.insert("of".into(), json!(seen.of));
        props.insert("intermittent".into(), json!(seen.intermittent()));
    }
    // What the knowledge bases say of the host or cookie (docs/knowledge.md), apart
    // from the declared vendor: the structured field, and its line in words.
    if let (Some(known), Some(props)) = (
        f.known,
        v.get_mut("properties").and_then(|p| p.as_object_mut()),
    ) {
        props.insert("known".into(), json!(known));
        props.insert("knownText".into(), json!(known.describe()));
    }
    if let (Some(ack), Some(obj)) = (f.ack, v.as_object_mut()) {
        obj.insert(
            "suppressions".into(),
            json!([{
                "kind": "external",
                "status": "accepted",
                "justification": format!("{} (owner {}, until {})", ack.reason, ack.owner, ack.expires.format("%Y-%m-%d")),
            }]),
        );
    }
    v
}

/// The SARIF log of one run.
pub fn sarif(view: &CiView<'_>) -> String {
    let r = view.report;
    let log = json!({
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [{
            "tool": {
                "driver": {
                    "name": "consentry",
                    "version": env!("CARGO_PKG_VERSION"),
                    "rules": view.rules.iter().map(rule).collect::<Vec<_>>(),
                },
            },
            "automationDetails": { "id": format!("consentry/{}/", r.site) },
            "invocations": [{
                "executionSuccessful": !r.verdict.incomplete,
                "startTimeUtc": r.started_at.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string(),
                "endTimeUtc": r.finished_at.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string(),
                "exitCode": r.verdict.exit.code(),
            }],
            "results": view.findings.iter().map(result).collect::<Vec<_>>(),
            "properties": {
                "site": r.site,
                "runId": r.run_id,
                "scenarioFile": r.scenario_file,
                "notObserved": r.verdict.not_observed,
                "vantage": r.vantage,
            },
        }],
    });
    let mut s = serde_json::to_string_pretty(&log).unwrap_or_default();
    s.push('\n');
    s
}

impl super::super::Reporter for SarifReporter {
    fn render(&self, report: &AuditReport) -> String {
        sarif(&CiView::of(report))
    }

    /// A drift pack has no SARIF form (the command refuses it); an empty log.
    fn render_drift(&self, _: &DriftReport) -> String {
        format!("{{\"$schema\": \"{SARIF_SCHEMA}\", \"version\": \"2.1.0\", \"runs\": []}}\n")
    }
}

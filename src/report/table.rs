//! Terminal report: plain text tables (tabled), never ANSI escape codes.

use super::{
    ack_line, ack_marker, any_acknowledged, clip, counts_text, evidence_target, human_ms,
    run_status_text, verdict_text, AuditReport, Reporter,
};
use crate::ack::AckStatus;
use tabled::builder::Builder;
use tabled::settings::Style;

/// Longest text kept in one table cell line (full values are in the JSON report).
pub const CELL_MAX: usize = 60;
/// Longest line kept outside the tables (messages, rules, reasons, warnings).
pub const LINE_MAX: usize = 600;

/// A cell of observed or file-provided text: escaped and clipped.
fn c(s: &str) -> String {
    crate::text::printable_clipped(s, CELL_MAX)
}

/// A line of observed or file-provided text: escaped and clipped.
fn l(s: &str) -> String {
    crate::text::printable_clipped(s, LINE_MAX)
}

#[derive(Debug, Clone, Copy, Default)]
pub struct TableReporter {
    /// Add a fingerprint column to the findings table.
    pub fingerprints: bool,
}

impl TableReporter {
    pub fn with_fingerprints(mut self, yes: bool) -> Self {
        self.fingerprints = yes;
        self
    }
}

impl Reporter for TableReporter {
    fn render(&self, r: &AuditReport) -> String {
        let mut out = String::new();
        let run = match r.run_id {
            Some(id) => format!("run #{id}"),
            None => "not stored".to_string(),
        };
        out.push_str(&format!(
            "consentry audit of {} | {run} | {} | {} | started {}\n",
            c(&r.site),
            l(&run_status_text(&r.status)),
            human_ms(r.duration_ms()),
            r.started_at.format("%Y-%m-%d %H:%M:%S UTC"),
        ));
        out.push_str(&format!("scenario file: {}", l(&r.scenario_file)));
        if let Some(db) = &r.db_path {
            out.push_str(&format!(" | database: {}", l(db)));
        }
        out.push_str("\n\n");

        // Scenarios.
        let mut b = Builder::default();
        b.push_record([
            "scenario",
            "status",
            "requests",
            "third-party",
            "cookies",
            "cookie writes",
            "duration",
        ]);
        for v in &r.visits {
            let status = match v.not_observed() {
                Some(reason) => format!("NOT OBSERVED: {}", clip(reason, 48)),
                None if v.warnings.is_empty() => "complete".to_string(),
                None => format!(
                    "complete ({} warning{})",
                    v.warnings.len(),
                    if v.warnings.len() == 1 { "" } else { "s" }
                ),
            };
            b.push_record([
                c(&v.scenario),
                status,
                v.requests.to_string(),
                v.third_party_requests.to_string(),
                v.cookies_stored.to_string(),
                v.cookie_writes.to_string(),
                human_ms(v.duration_ms),
            ]);
        }
        out.push_str("Scenarios\n");
        if r.visits.is_empty() {
            out.push_str("  (no scenario ran: NOTHING WAS OBSERVED)\n");
        } else {
            out.push_str(&table(b));
        }
        for (scenario, reason) in r.not_observed() {
            out.push_str(&format!("  NOT OBSERVED {}: {}\n", c(scenario), l(reason)));
        }
        for v in &r.visits {
            for w in &v.warnings {
                out.push_str(&format!("  warning {}: {}\n", c(&v.scenario), l(w)));
            }
        }
        for v in &r.visits {
            for a in &v.consent_actions {
                out.push_str(&format!(
                    "  consent {}: {}\n",
                    c(&v.scenario),
                    l(&a.summary())
                ));
            }
        }
        if let Some(line) = crate::screenshots::summary_line(r) {
            out.push_str(&format!("  screenshots: {}\n", l(&line)));
        }
        out.push('\n');

        // Consent signals, per scenario and phase.
        if !r.visits.is_empty() {
            out.push_str("Consent signals\n");
            for v in &r.visits {
                if v.signals.is_empty() {
                    out.push_str(&format!(
                        "  {}: {}\n",
                        c(&v.scenario),
                        super::no_signals_text(v)
                    ));
                }
                for s in &v.signals {
                    out.push_str(&format!(
                        "  {} | {} | {}: {}\n",
                        c(&v.scenario),
                        c(&s.phase),
                        l(&super::signal_source_text(s)),
                        l(&s.summary)
                    ));
                }
            }
            out.push('\n');
        }

        // Findings.
        out.push_str(&format!("Findings ({})\n", r.findings.len()));
        if r.findings.is_empty() {
            out.push_str("  (none)\n");
        } else {
            let mut b = Builder::default();
            let mut header = vec![
                "#",
                "severity",
                "code",
                "scenario",
                "subject",
                "phase",
                "first evidence",
                "time",
                "n",
            ];
            let acks = any_acknowledged(r);
            if acks {
                header.push("ack");
            }
            if self.fingerprints {
                header.push("fingerprint");
            }
            b.push_record(header);
            for (i, f) in r.findings.iter().enumerate() {
                let e = f.evidence.first();
                let target = evidence_target(f).map(|t| clip(&t, CELL_MAX));
                let page = e.map(|e| format!("on {}", clip(&e.page, CELL_MAX - 3)));
                let evidence = [target, page]
                    .into_iter()
                    .flatten()
                    .collect::<Vec<_>>()
                    .join("\n");
                let mut row = vec![
                    (i + 1).to_string(),
                    f.severity.as_str().to_string(),
                    f.code.as_str().to_string(),
                    f.scenario
                        .as_deref()
                        .map(c)
                        .unwrap_or_else(|| "-".to_string()),
                    c(&f.subject),
                    e.map(|e| c(&e.phase)).unwrap_or_default(),
                    evidence,
                    e.map(|e| e.time.format("%H:%M:%S").to_string())
                        .unwrap_or_default(),
                    f.occurrences.to_string(),
                ];
                if acks {
                    row.push(ack_marker(r, f).to_string());
                }
                if self.fingerprints {
                    row.push(f.fingerprint.clone());
                }
                b.push_record(row);
            }
            out.push_str(&table(b));
            out.push('\n');
            for (i, f) in r.findings.iter().enumerate() {
                out.push_str(&format!(
                    "[{}] {}\n    rule: {}\n",
                    i + 1,
                    l(&f.message),
                    l(&f.rule)
                ));
            }
        }
        out.push('\n');

        // Acknowledgements: what covered a finding (or no longer does), what matched nothing.
        if !r.acknowledgements.is_empty() {
            out.push_str("Acknowledgements\n");
            for (i, f) in r.findings.iter().enumerate() {
                if let Some(a) = r.acknowledgement(f) {
                    out.push_str(&format!("  [{}] {}\n", i + 1, l(&ack_line(a))));
                }
            }
            for a in r.acks_with(AckStatus::Unused) {
                out.push_str(&format!(
                    "  unused {}: {}\n",
                    a.fingerprint,
                    l(&ack_line(a))
                ));
            }
            out.push('\n');
        }

        // Footer.
        out.push_str(&format!(
            "Findings: {} ({} total)\n",
            counts_text(r),
            r.findings.len()
        ));
        out.push_str(&l(&verdict_text(r)));
        out.push('\n');
        without_control_chars(&out)
    }
}

/// Last line of defence: whatever reached the text unescaped, no control or bidi
/// character but the table's own line breaks leaves this reporter.
fn without_control_chars(s: &str) -> String {
    s.chars()
        .map(|c| {
            if (c.is_control() && c != '\n') || crate::text::is_bidi_control(c) {
                '\u{fffd}'
            } else {
                c
            }
        })
        .collect()
}

fn table(b: Builder) -> String {
    let mut t = b.build();
    t.with(Style::psql());
    // psql style pads the last column; trailing blanks only make snapshots brittle.
    let mut s = String::new();
    for line in t.to_string().lines() {
        s.push_str(line.trim_end());
        s.push('\n');
    }
    s
}

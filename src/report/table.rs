//! Terminal report: plain text tables (tabled), never ANSI escape codes.

use super::view::{numbers_text, Cell, Matrix, RunView, SignalRow, VisitState, VISIT_COLUMNS};
use super::{clip, Layout};
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

impl Layout for TableReporter {
    fn drift(&self, view: &super::view::DriftView) -> String {
        super::drift::render_text(view, false)
    }

    fn run(&self, v: &RunView) -> String {
        let h = &v.header;
        let mut out = String::new();
        let run = match h.run_id {
            Some(id) => format!("run #{id}"),
            None => "not stored".to_string(),
        };
        out.push_str(&format!(
            "consentry audit of {} | {run} | {} | {} | started {}\n",
            c(h.site),
            l(&h.status),
            h.duration,
            h.started,
        ));
        out.push_str(&format!("scenario file: {}", l(h.scenario_file)));
        if let Some(db) = h.db_path {
            out.push_str(&format!(" | database: {}", l(db)));
        }
        out.push_str(&format!("\ndata: {}\n", l(&h.data)));
        out.push_str(&format!("vantage: {}\n\n", l(&h.vantage)));

        matrix(&mut out, &v.matrix);

        // Scenarios.
        out.push_str("Scenarios\n");
        if v.visits.is_empty() {
            out.push_str("  (no scenario ran: NOTHING WAS OBSERVED)\n");
        } else {
            let mut b = Builder::default();
            b.push_record(VISIT_COLUMNS.iter().map(|col| col.short));
            for row in &v.visits {
                b.push_record(row.cells.iter().map(visit_cell));
            }
            out.push_str(&table(b));
        }
        for (scenario, reason) in &v.not_observed {
            out.push_str(&format!("  NOT OBSERVED {}: {}\n", c(scenario), l(reason)));
        }
        for w in &v.warnings {
            out.push_str(&format!("  warning {}: {}\n", c(w.scenario), l(&w.text)));
        }
        for a in &v.consent_actions {
            out.push_str(&format!("  consent {}: {}\n", c(a.scenario), l(&a.text)));
        }
        if let Some(line) = &v.screenshots.summary {
            out.push_str(&format!("  screenshots: {}\n", l(line)));
        }
        out.push('\n');

        // Consent signals, per scenario and phase.
        if !v.visits.is_empty() {
            out.push_str("Consent signals\n");
            for s in &v.signals {
                match s {
                    SignalRow::None { scenario, text } => {
                        out.push_str(&format!("  {}: {}\n", c(scenario), text));
                    }
                    SignalRow::Read {
                        scenario,
                        phase,
                        source,
                        summary,
                    } => out.push_str(&format!(
                        "  {} | {} | {}: {}\n",
                        c(scenario),
                        c(phase),
                        l(source),
                        l(summary)
                    )),
                }
            }
            out.push('\n');
        }

        if v.grouped {
            self.problems(&mut out, v);
        } else {
            self.findings(&mut out, v);
        }

        // Acknowledgements: what covered a finding (or no longer does), what matched nothing.
        if v.any_acks {
            out.push_str("Acknowledgements\n");
            for f in &v.findings {
                if let Some(a) = &f.ack {
                    // Grouped, the `[P1]` lines are problems: name the finding.
                    let which = if v.grouped {
                        format!("finding #{}", f.number)
                    } else {
                        format!("[{}]", f.number)
                    };
                    out.push_str(&format!("  {which} {}\n", l(&a.line)));
                }
            }
            for a in &v.unused_acks {
                out.push_str(&format!(
                    "  unused {}: {}\n",
                    a.record.fingerprint,
                    l(&a.line)
                ));
            }
            out.push('\n');
        }

        // Footer.
        out.push_str(&format!("Findings: {} ({} total)\n", h.counts, h.findings));
        out.push_str(&l(&h.verdict));
        out.push('\n');
        without_control_chars(&out)
    }
}

/// The vendor × scenario matrix, a letter per cell, and its legend; nothing when no
/// declared vendor was active or named.
fn matrix(out: &mut String, m: &Matrix) {
    if m.rows.is_empty() {
        return;
    }
    out.push_str("Vendors by scenario\n");
    matrix_table(out, m);
    matrix_legend(out, &m.used_marks());
}

/// The matrix's table alone (the drift pack shows two, then one legend).
pub(crate) fn matrix_table(out: &mut String, m: &Matrix) {
    let mut b = Builder::default();
    b.push_record(std::iter::once("vendor".to_string()).chain(m.scenarios.iter().map(|s| c(s))));
    for row in &m.rows {
        b.push_record(
            std::iter::once(c(&row.vendor)).chain(row.cells.iter().map(|cell| cell.letters())),
        );
    }
    out.push_str(&table(b));
}

/// The legend of the marks shown.
pub(crate) fn matrix_legend(out: &mut String, marks: &[crate::report::view::Mark]) {
    let legend: Vec<String> = marks
        .iter()
        .map(|k| format!("{} {}", k.letter(), k.label()))
        .collect();
    out.push_str(&format!("  {}\n\n", legend.join(" | ")));
}

impl TableReporter {
    /// The findings grouped into problems: one row per code and subject with where it
    /// occurred, then each problem's message, rule and finding numbers.
    fn problems(&self, out: &mut String, v: &RunView) {
        out.push_str(&format!(
            "Problems ({} from {} finding{}; --ungrouped lists every finding)\n",
            v.problems.len(),
            v.findings.len(),
            if v.findings.len() == 1 { "" } else { "s" }
        ));
        if v.problems.is_empty() {
            out.push_str("  (none)\n\n");
            return;
        }
        let mut b = Builder::default();
        let mut header = vec![
            "#",
            "severity",
            "code",
            "subject",
            "where",
            "phases",
            "first evidence",
            "n",
        ];
        if v.ack_column {
            header.push("ack");
        }
        b.push_record(header);
        for pv in &v.problems {
            let p = &pv.problem;
            let mut row = vec![
                pv.number.to_string(),
                p.severity.as_str().to_string(),
                p.code.as_str().to_string(),
                c(&p.subject),
                pv.spread.clone(),
                c(&p.phases.join(", ")),
                pv.first_target
                    .as_deref()
                    .map(|t| clip(t, CELL_MAX))
                    .unwrap_or_default(),
                p.occurrences.to_string(),
            ];
            if v.ack_column {
                row.push(pv.ack.marker());
            }
            b.push_record(row);
        }
        out.push_str(&table(b));
        out.push('\n');
        for pv in &v.problems {
            let scenarios = if pv.problem.scenarios.is_empty() {
                "site-level".to_string()
            } else {
                pv.problem.scenarios.join(", ")
            };
            out.push_str(&format!(
                "[P{}] {}\n    rule: {}\n    scenarios: {}\n    findings: {}\n",
                pv.number,
                l(&pv.message),
                l(&pv.rule),
                l(&scenarios),
                numbers_text(&pv.finding_numbers, 12)
            ));
            if let Some(known) = &pv.known_text {
                out.push_str(&format!("    known: {}\n", l(known)));
            }
        }
        out.push('\n');
    }

    fn findings(&self, out: &mut String, v: &RunView) {
        out.push_str(&format!("Findings ({})\n", v.findings.len()));
        if v.findings.is_empty() {
            out.push_str("  (none)\n");
            out.push('\n');
            return;
        }
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
        if v.ack_column {
            header.push("ack");
        }
        if self.fingerprints {
            header.push("fingerprint");
        }
        b.push_record(header);
        for fv in &v.findings {
            let f = fv.finding;
            let e = fv.first;
            let target = fv.first_target.as_deref().map(|t| clip(t, CELL_MAX));
            let page = e.map(|e| match fv.first_template {
                Some(t) => format!("on {} ({})", clip(&e.page, CELL_MAX - 3), clip(t, CELL_MAX)),
                None => format!("on {}", clip(&e.page, CELL_MAX - 3)),
            });
            let evidence = [target, page]
                .into_iter()
                .flatten()
                .collect::<Vec<_>>()
                .join("\n");
            let mut row = vec![
                fv.number.to_string(),
                f.severity.as_str().to_string(),
                f.code.as_str().to_string(),
                f.scenario
                    .as_deref()
                    .map(c)
                    .unwrap_or_else(|| "-".to_string()),
                c(&f.subject),
                fv.first_phase.as_deref().map(c).unwrap_or_default(),
                evidence,
                e.map(|e| e.time.format("%H:%M:%S").to_string())
                    .unwrap_or_default(),
                format!("{}{}", f.occurrences, super::view::seen_suffix(f)),
            ];
            if v.ack_column {
                row.push(fv.ack_marker.to_string());
            }
            if self.fingerprints {
                row.push(f.fingerprint.clone());
            }
            b.push_record(row);
        }
        out.push_str(&table(b));
        out.push('\n');
        for fv in &v.findings {
            out.push_str(&format!(
                "[{}] {}\n    rule: {}\n",
                fv.number,
                l(&fv.finding.message),
                l(&fv.finding.rule)
            ));
            if let Some(known) = &fv.known_text {
                out.push_str(&format!("    known: {}\n", l(known)));
            }
        }
        out.push('\n');
    }
}

/// A scenarios table cell in the terminal.
fn visit_cell(cell: &Cell) -> String {
    match cell {
        Cell::Id(s) => c(s),
        Cell::Number(n) => n.clone(),
        Cell::State(VisitState::NotObserved(reason)) => {
            format!("NOT OBSERVED: {}", clip(reason, 48))
        }
        Cell::State(VisitState::Observed { warnings: 0 }) => "complete".to_string(),
        Cell::State(VisitState::Observed { warnings }) => format!(
            "complete ({warnings} warning{})",
            if *warnings == 1 { "" } else { "s" }
        ),
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

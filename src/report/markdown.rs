//! Markdown report: headings and tables, for pasting into tickets and pull requests.

use super::view::{
    evidence_columns, numbers_text, scenario_list, Cell, Matrix, RunView, SignalRow, VisitState,
    VISIT_COLUMNS,
};
use super::{clip, Layout};
use crate::exit::ExitStatus;
use tabled::builder::Builder;
use tabled::settings::Style;

#[derive(Debug, Clone, Copy, Default)]
pub struct MarkdownReporter;

/// Make text safe as Markdown prose and inside a table cell: no emphasis, links or
/// HTML from the data, no line breaks, no column breaks.
pub(crate) fn cell(s: &str) -> String {
    let s = crate::text::printable_clipped(s, MD_TEXT_MAX);
    let chars: Vec<char> = s.chars().collect();
    let mut out = String::with_capacity(s.len());
    for (i, &c) in chars.iter().enumerate() {
        let alnum = |j: Option<usize>| {
            j.and_then(|j| chars.get(j))
                .is_some_and(|c| c.is_alphanumeric())
        };
        match c {
            // `reject_all`: an underscore inside a word is never emphasis; keep it readable.
            '_' if alnum(i.checked_sub(1)) && alnum(Some(i + 1)) => out.push(c),
            '\\' | '|' | '*' | '_' | '`' | '[' | ']' | '<' => {
                out.push('\\');
                out.push(c);
            }
            '\r' | '\n' => out.push(' '),
            _ => out.push(c),
        }
    }
    out
}

/// Text inside a code span in a table cell: only the column separator and line breaks
/// need care.
fn in_code(s: &str) -> String {
    crate::text::printable_clipped(s, MD_TEXT_MAX).replace('|', "\\|")
}

/// Longest page- or file-provided text kept in one Markdown cell or line (the JSON
/// report keeps full values).
pub const MD_TEXT_MAX: usize = 600;

/// Inline code span that no text can break out of: the fence is one backtick longer
/// than the longest run of backticks inside (CommonMark), padded with spaces when the
/// text starts or ends with a backtick.
pub(crate) fn code(s: &str) -> String {
    if s.is_empty() {
        return String::new();
    }
    let longest = s.split(|c| c != '`').map(str::len).max().unwrap_or(0);
    let fence = "`".repeat(longest + 1);
    let inner = in_code(s);
    if longest > 0 || inner.starts_with(' ') || inner.ends_with(' ') {
        format!("{fence} {inner} {fence}")
    } else {
        format!("{fence}{inner}{fence}")
    }
}

/// A Markdown table (tabled's markdown style); cells must already be escaped.
struct Table {
    builder: Builder,
}

impl Table {
    fn new(header: &[&str]) -> Table {
        let mut builder = Builder::default();
        builder.push_record(header.iter().map(|h| h.to_string()));
        Table { builder }
    }

    fn row(&mut self, cells: Vec<String>) {
        self.builder.push_record(cells);
    }

    fn render(self) -> String {
        let mut t = self.builder.build();
        t.with(Style::markdown());
        let mut out = t.to_string();
        out.push_str("\n\n");
        out
    }
}

impl Layout for MarkdownReporter {
    fn drift(&self, view: &super::view::DriftView) -> String {
        super::drift::render_text(view, true)
    }

    fn run(&self, v: &RunView) -> String {
        let h = &v.header;
        let mut out = format!("# Consent audit: {}\n\n", cell(h.site));

        let mut t = Table::new(&["", ""]);
        t.row(vec![
            "Run".into(),
            h.run_id
                .map(|i| format!("#{i}"))
                .unwrap_or_else(|| "not stored".into()),
        ]);
        t.row(vec![
            "Status".into(),
            if h.complete {
                cell(&h.status)
            } else {
                format!("**{}**", cell(&h.status))
            },
        ]);
        t.row(vec!["Scenario file".into(), code(h.scenario_file)]);
        t.row(vec!["Started".into(), h.started.clone()]);
        t.row(vec!["Duration".into(), h.duration.clone()]);
        t.row(vec![
            "Fail on".into(),
            h.fail_on
                .map(|s| s.to_string())
                .unwrap_or_else(|| "never".into()),
        ]);
        t.row(vec![
            "Findings".into(),
            format!("{} ({})", h.findings, h.counts),
        ]);
        t.row(vec!["Exit".into(), h.exit_text()]);
        t.row(vec!["Data".into(), cell(&h.data)]);
        t.row(vec!["Vantage".into(), cell(&h.vantage)]);
        out.push_str(&t.render());
        if h.exit == ExitStatus::Incomplete {
            out.push_str(&format!("> **Warning:** {}\n\n", cell(&h.verdict)));
        } else {
            out.push_str(&format!("{}\n\n", cell(&h.verdict)));
        }

        matrix(&mut out, &v.matrix);
        scenarios(&mut out, v);
        screenshots(&mut out, v);
        if !v.visits.is_empty() {
            out.push_str("## Consent signals\n\n");
            let mut t = Table::new(&["Scenario", "Phase", "Source", "Signal"]);
            for s in &v.signals {
                t.row(match s {
                    SignalRow::None { scenario, text } => {
                        vec![code(scenario), "-".into(), "-".into(), cell(text)]
                    }
                    SignalRow::Read {
                        scenario,
                        phase,
                        source,
                        summary,
                    } => vec![code(scenario), code(phase), cell(source), cell(summary)],
                });
            }
            out.push_str(&t.render());
        }

        if v.grouped {
            out.push_str(&format!(
                "## Problems ({} from {} finding{})\n\n",
                v.problems.len(),
                v.findings.len(),
                if v.findings.len() == 1 { "" } else { "s" }
            ));
            if v.problems.is_empty() {
                out.push_str("None.\n");
            } else {
                problems(&mut out, v);
            }
        } else {
            out.push_str(&format!("## Findings ({})\n\n", v.findings.len()));
            if v.findings.is_empty() {
                out.push_str("None.\n");
            } else {
                findings(&mut out, v);
            }
        }
        acknowledgements(&mut out, v);
        out
    }
}

/// The vendor × scenario matrix: a letter per cell (bold where something broke the
/// map), then its legend; nothing when no declared vendor was active or named.
fn matrix(out: &mut String, m: &Matrix) {
    if m.rows.is_empty() {
        return;
    }
    out.push_str("## Vendors by scenario\n\n");
    matrix_table(out, m);
    matrix_legend(out, &m.used_marks());
}

/// The matrix's table alone (the drift pack shows two, then one legend).
pub(crate) fn matrix_table(out: &mut String, m: &Matrix) {
    let header: Vec<String> = std::iter::once("Vendor".to_string())
        .chain(m.scenarios.iter().map(|s| code(s)))
        .collect();
    let header: Vec<&str> = header.iter().map(String::as_str).collect();
    let mut t = Table::new(&header);
    for row in &m.rows {
        t.row(
            std::iter::once(code(&row.vendor))
                .chain(row.cells.iter().map(|c| {
                    if c.worst() > crate::report::view::Mark::Fired {
                        format!("**{}**", c.letters())
                    } else {
                        c.letters()
                    }
                }))
                .collect(),
        );
    }
    out.push_str(&t.render());
}

/// The legend of the marks shown.
pub(crate) fn matrix_legend(out: &mut String, marks: &[crate::report::view::Mark]) {
    let legend: Vec<String> = marks
        .iter()
        .map(|k| format!("`{}` {}", k.letter(), k.label()))
        .collect();
    out.push_str(&format!("{}\n\n", legend.join(" · ")));
}

/// The problems table (one row per code and subject), then each problem's message,
/// rule, scenarios and finding numbers.
fn problems(out: &mut String, v: &RunView) {
    let mut header = vec![
        "#",
        "Severity",
        "Code",
        "Subject",
        "Where",
        "Phases",
        "First evidence",
        "Occurrences",
    ];
    if v.ack_column {
        header.push("Ack");
    }
    let mut t = Table::new(&header);
    for pv in &v.problems {
        let p = &pv.problem;
        let mut row = vec![
            pv.number.to_string(),
            p.severity.to_string(),
            code(p.code.as_str()),
            code(&p.subject),
            pv.spread.clone(),
            cell(&p.phases.join(", ")),
            pv.first_target
                .as_deref()
                .map(|t| code(&clip(t, 100)))
                .unwrap_or_default(),
            p.occurrences.to_string(),
        ];
        if v.ack_column {
            row.push(match pv.ack.marker() {
                m if m.is_empty() => m,
                m => format!("**{m}**"),
            });
        }
        t.row(row);
    }
    out.push_str(&t.render());
    for pv in &v.problems {
        let p = &pv.problem;
        out.push_str(&format!(
            "### Problem {}: {} `{}` ({})\n\n",
            pv.number,
            p.severity,
            p.code,
            cell(&p.subject)
        ));
        out.push_str(&format!("{}\n\n", cell(&pv.message)));
        out.push_str(&format!("- **Rule broken:** {}\n", cell(&pv.rule)));
        if let Some(known) = &pv.known_text {
            out.push_str(&format!("- **Known:** {}\n", cell(known)));
        }
        // A site-level problem's spread already says so.
        if p.scenarios.is_empty() {
            out.push_str(&format!("- **Where:** {}\n", pv.spread));
        } else {
            out.push_str(&format!(
                "- **Where:** {} ({})\n",
                pv.spread,
                scenario_list(&p.scenarios, code)
            ));
        }
        if !p.pages.is_empty() {
            out.push_str(&format!(
                "- **Pages:** {}\n",
                p.pages
                    .iter()
                    .map(|s| code(s))
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
        }
        out.push_str(&format!(
            "- **Findings:** {} (`--ungrouped` shows each with its evidence)\n",
            numbers_text(&pv.finding_numbers, 20)
        ));
        if pv.ack != crate::report::view::ProblemAck::None {
            out.push_str(&format!("- **Acknowledgement:** {}\n", pv.ack.text()));
        }
        out.push('\n');
    }
}

/// The scenarios table, then the warnings and the consent actions.
fn scenarios(out: &mut String, v: &RunView) {
    out.push_str("## Scenarios\n\n");
    if v.visits.is_empty() {
        out.push_str("**No scenario ran: nothing was observed.**\n\n");
        return;
    }
    let header: Vec<&str> = VISIT_COLUMNS.iter().map(|c| c.title).collect();
    let mut t = Table::new(&header);
    for row in &v.visits {
        t.row(row.cells.iter().map(visit_cell).collect());
    }
    out.push_str(&t.render());
    if !v.warnings.is_empty() {
        out.push_str("Warnings:\n\n");
        for w in &v.warnings {
            out.push_str(&format!("- {}: {}\n", code(w.scenario), cell(&w.text)));
        }
        out.push('\n');
    }
    if !v.consent_actions.is_empty() {
        out.push_str("Consent actions (how each was performed, what the CMP recorded):\n\n");
        for a in &v.consent_actions {
            out.push_str(&format!("- {}: {}\n", code(a.scenario), cell(&a.text)));
        }
        out.push('\n');
    }
}

/// A scenarios table cell in Markdown.
fn visit_cell(c: &Cell) -> String {
    match c {
        Cell::Id(s) => code(s),
        Cell::Number(n) => n.clone(),
        Cell::State(VisitState::NotObserved(reason)) => {
            format!("**NOT OBSERVED:** {}", cell(reason))
        }
        Cell::State(VisitState::Observed { .. }) => "complete".to_string(),
    }
}

fn screenshots(out: &mut String, v: &RunView) {
    if v.screenshots.groups.is_empty() {
        return;
    }
    out.push_str("## Banner screenshots\n\n");
    for g in &v.screenshots.groups {
        for p in &g.pairs {
            out.push_str(&format!(
                "- {} step {} {}: {} · {}\n",
                code(g.scenario),
                p.step + 1,
                code(p.action.as_str()),
                shot_link(p.before, "before"),
                shot_link(p.after, "after")
            ));
        }
    }
    out.push('\n');
}

/// The findings table, then each finding with its evidence.
fn findings(out: &mut String, v: &RunView) {
    let mut header = vec![
        "#",
        "Severity",
        "Code",
        "Scenario",
        "Subject",
        "Phase",
        "First evidence",
        "Occurrences",
    ];
    if v.ack_column {
        header.push("Ack");
    }
    let mut t = Table::new(&header);
    for fv in &v.findings {
        let f = fv.finding;
        let mut row = vec![
            fv.number.to_string(),
            f.severity.to_string(),
            code(f.code.as_str()),
            f.scenario
                .as_deref()
                .map(code)
                .unwrap_or_else(|| "-".into()),
            code(&f.subject),
            fv.first_phase.as_deref().map(cell).unwrap_or_default(),
            fv.first_target
                .as_deref()
                .map(|t| code(&clip(t, 100)))
                .unwrap_or_default(),
            format!("{}{}", f.occurrences, super::view::seen_suffix(f)),
        ];
        if v.ack_column {
            row.push(match fv.ack_marker {
                "" => String::new(),
                m => format!("**{m}**"),
            });
        }
        t.row(row);
    }
    out.push_str(&t.render());

    let templates = v.templates;
    for fv in &v.findings {
        let f = fv.finding;
        out.push_str(&format!(
            "### Finding {}: {} `{}` ({})\n\n",
            fv.number,
            f.severity,
            f.code,
            cell(&f.subject)
        ));
        out.push_str(&format!("{}\n\n", cell(&f.message)));
        out.push_str(&format!("- **Rule broken:** {}\n", cell(&f.rule)));
        if let Some(known) = &fv.known_text {
            out.push_str(&format!("- **Known:** {}\n", cell(known)));
        }
        out.push_str(&format!(
            "- **Scenario:** {}\n",
            f.scenario
                .as_deref()
                .map(code)
                .unwrap_or_else(|| "all (site-level)".into())
        ));
        out.push_str(&format!("- **Occurrences:** {}\n", fv.occurrences));
        out.push_str(&format!("- **Fingerprint:** `{}`\n", f.fingerprint));
        if let Some(a) = &fv.ack {
            out.push_str(&format!("- **Acknowledgement:** {}\n", cell(&a.line)));
        }
        out.push('\n');
        if !fv.evidence.is_empty() {
            let mut t = Table::new(&evidence_columns(templates));
            for e in &fv.evidence {
                let mut row = vec![
                    e.time.clone(),
                    code(e.scenario),
                    cell(&e.phase),
                    code(e.page),
                    e.target.map(code).unwrap_or_default(),
                    e.detail.as_deref().map(cell).unwrap_or_default(),
                ];
                if templates {
                    row.insert(4, e.template.map(code).unwrap_or_default());
                }
                t.row(row);
            }
            out.push_str(&t.render());
        }
    }
}

/// `[before](path)`, `[after (the action failed)](path)`, `after: not taken`.
fn shot_link(s: Option<&crate::model::Screenshot>, when: &str) -> String {
    let when = match s {
        Some(s) if s.action_failed => format!("{when} (the action failed)"),
        _ => when.to_string(),
    };
    match s.and_then(|s| s.path.as_deref()) {
        Some(path) => format!("[{when}]({})", crate::screenshots::url_ref(path)),
        None => format!("{when}: not taken"),
    }
}

/// The "Acknowledgements" section: each finding's acknowledgement, then the ones that
/// matched nothing. Nothing when the run had none.
fn acknowledgements(out: &mut String, v: &RunView) {
    if !v.any_acks {
        return;
    }
    if !out.ends_with("\n\n") {
        out.push('\n');
    }
    out.push_str("## Acknowledgements\n\n");
    for f in &v.findings {
        if let Some(a) = &f.ack {
            out.push_str(&format!(
                "- Finding {} ({}): {}\n",
                f.number,
                code(&f.finding.fingerprint),
                cell(&a.line)
            ));
        }
    }
    for a in &v.unused_acks {
        out.push_str(&format!(
            "- **Unused** {}: {}\n",
            code(&a.record.fingerprint),
            cell(&a.line)
        ));
    }
}

//! Markdown report: headings and tables, for pasting into tickets and pull requests.

use super::{
    ack_line, ack_marker, any_acknowledged, clip, counts_text, evidence_target, human_ms,
    run_status_text, verdict_text, AuditReport, Reporter,
};
use crate::ack::AckStatus;
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

impl Reporter for MarkdownReporter {
    fn render(&self, r: &AuditReport) -> String {
        let exit = r.exit_status();
        let mut out = format!("# Consent audit: {}\n\n", cell(&r.site));

        let mut t = Table::new(&["", ""]);
        t.row(vec![
            "Run".into(),
            r.run_id
                .map(|i| format!("#{i}"))
                .unwrap_or_else(|| "not stored".into()),
        ]);
        let status = run_status_text(&r.status);
        t.row(vec![
            "Status".into(),
            if matches!(r.status, crate::model::RunStatus::Complete) {
                cell(&status)
            } else {
                format!("**{}**", cell(&status))
            },
        ]);
        t.row(vec!["Scenario file".into(), code(&r.scenario_file)]);
        t.row(vec![
            "Started".into(),
            r.started_at.format("%Y-%m-%d %H:%M:%S UTC").to_string(),
        ]);
        t.row(vec!["Duration".into(), human_ms(r.duration_ms())]);
        t.row(vec![
            "Fail on".into(),
            r.fail_on
                .map(|s| s.to_string())
                .unwrap_or_else(|| "never".into()),
        ]);
        t.row(vec![
            "Findings".into(),
            format!("{} ({})", r.findings.len(), counts_text(r)),
        ]);
        t.row(vec!["Exit".into(), format!("{} ({})", exit.code(), exit)]);
        out.push_str(&t.render());
        if exit == ExitStatus::Incomplete {
            out.push_str(&format!("> **Warning:** {}\n\n", cell(&verdict_text(r))));
        } else {
            out.push_str(&format!("{}\n\n", cell(&verdict_text(r))));
        }

        out.push_str("## Scenarios\n\n");
        if r.visits.is_empty() {
            out.push_str("**No scenario ran: nothing was observed.**\n\n");
        } else {
            let mut t = Table::new(&[
                "Scenario",
                "Status",
                "Requests",
                "Third-party",
                "Cookies stored",
                "Cookie writes",
                "Duration",
            ]);
            for v in &r.visits {
                let status = match v.not_observed() {
                    Some(reason) => format!("**NOT OBSERVED:** {}", cell(reason)),
                    None => "complete".to_string(),
                };
                t.row(vec![
                    code(&v.scenario),
                    status,
                    v.requests.to_string(),
                    v.third_party_requests.to_string(),
                    v.cookies_stored.to_string(),
                    v.cookie_writes.to_string(),
                    human_ms(v.duration_ms),
                ]);
            }
            out.push_str(&t.render());
            let warnings: Vec<String> = r
                .visits
                .iter()
                .flat_map(|v| {
                    v.warnings
                        .iter()
                        .map(move |w| format!("- {}: {}\n", code(&v.scenario), cell(w)))
                })
                .collect();
            if !warnings.is_empty() {
                out.push_str("Warnings:\n\n");
                out.push_str(&warnings.concat());
                out.push('\n');
            }
            let actions: Vec<String> = r
                .visits
                .iter()
                .flat_map(|v| {
                    v.consent_actions
                        .iter()
                        .map(move |a| format!("- {}: {}\n", code(&v.scenario), cell(&a.summary())))
                })
                .collect();
            if !actions.is_empty() {
                out.push_str(
                    "Consent actions (how each was performed, what the CMP recorded):\n\n",
                );
                out.push_str(&actions.concat());
                out.push('\n');
            }
        }

        let shots: Vec<String> = r
            .visits
            .iter()
            .flat_map(|v| {
                crate::screenshots::pairs(&v.screenshots)
                    .into_iter()
                    .map(move |p| {
                        format!(
                            "- {} step {} {}: {} · {}\n",
                            code(&v.scenario),
                            p.step + 1,
                            code(p.action.as_str()),
                            shot_link(p.before, "before"),
                            shot_link(p.after, "after")
                        )
                    })
            })
            .collect();
        if !shots.is_empty() {
            out.push_str("## Banner screenshots\n\n");
            out.push_str(&shots.concat());
            out.push('\n');
        }

        if !r.visits.is_empty() {
            out.push_str("## Consent signals\n\n");
            let mut t = Table::new(&["Scenario", "Phase", "Source", "Signal"]);
            for v in &r.visits {
                if v.signals.is_empty() {
                    t.row(vec![
                        code(&v.scenario),
                        "-".into(),
                        "-".into(),
                        cell(super::no_signals_text(v)),
                    ]);
                }
                for s in &v.signals {
                    t.row(vec![
                        code(&v.scenario),
                        code(&s.phase),
                        cell(&super::signal_source_text(s)),
                        cell(&s.summary),
                    ]);
                }
            }
            out.push_str(&t.render());
        }

        out.push_str(&format!("## Findings ({})\n\n", r.findings.len()));
        if r.findings.is_empty() {
            out.push_str("None.\n");
            acknowledgements(&mut out, r);
            return out;
        }
        let acks = any_acknowledged(r);
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
        if acks {
            header.push("Ack");
        }
        let mut t = Table::new(&header);
        for (i, f) in r.findings.iter().enumerate() {
            let e = f.evidence.first();
            let mut row = vec![
                (i + 1).to_string(),
                f.severity.to_string(),
                code(f.code.as_str()),
                f.scenario
                    .as_deref()
                    .map(code)
                    .unwrap_or_else(|| "-".into()),
                code(&f.subject),
                e.map(|e| cell(&e.phase)).unwrap_or_default(),
                evidence_target(f)
                    .map(|t| code(&clip(&t, 100)))
                    .unwrap_or_default(),
                f.occurrences.to_string(),
            ];
            if acks {
                row.push(match ack_marker(r, f) {
                    "" => String::new(),
                    m => format!("**{m}**"),
                });
            }
            t.row(row);
        }
        out.push_str(&t.render());

        for (i, f) in r.findings.iter().enumerate() {
            out.push_str(&format!(
                "### Finding {}: {} `{}` ({})\n\n",
                i + 1,
                f.severity,
                f.code,
                cell(&f.subject)
            ));
            out.push_str(&format!("{}\n\n", cell(&f.message)));
            out.push_str(&format!("- **Rule broken:** {}\n", cell(&f.rule)));
            out.push_str(&format!(
                "- **Scenario:** {}\n",
                f.scenario
                    .as_deref()
                    .map(code)
                    .unwrap_or_else(|| "all (site-level)".into())
            ));
            out.push_str(&format!(
                "- **Occurrences:** {}{}\n",
                f.occurrences,
                if (f.occurrences as usize) > f.evidence.len() {
                    format!(" (first {} shown)", f.evidence.len())
                } else {
                    String::new()
                }
            ));
            out.push_str(&format!("- **Fingerprint:** `{}`\n", f.fingerprint));
            if let Some(a) = r.acknowledgement(f) {
                out.push_str(&format!("- **Acknowledgement:** {}\n", cell(&ack_line(a))));
            }
            out.push('\n');
            if !f.evidence.is_empty() {
                let mut t = Table::new(&[
                    "Time (UTC)",
                    "Scenario",
                    "Phase",
                    "Page",
                    "Request / cookie",
                    "Detail",
                ]);
                for e in &f.evidence {
                    let target = e
                        .request_url
                        .as_deref()
                        .or(e.cookie.as_deref())
                        .map(code)
                        .unwrap_or_default();
                    t.row(vec![
                        e.time.format("%Y-%m-%d %H:%M:%S%.3f").to_string(),
                        code(&e.scenario),
                        cell(&e.phase),
                        code(&e.page),
                        target,
                        e.detail.as_deref().map(cell).unwrap_or_default(),
                    ]);
                }
                out.push_str(&t.render());
            }
        }
        acknowledgements(&mut out, r);
        out
    }
}

/// The "Acknowledgements" section: each finding's acknowledgement, then the ones that
/// matched nothing. Nothing when the run had none.
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

fn acknowledgements(out: &mut String, r: &AuditReport) {
    if r.acknowledgements.is_empty() {
        return;
    }
    if !out.ends_with("\n\n") {
        out.push('\n');
    }
    out.push_str("## Acknowledgements\n\n");
    for (i, f) in r.findings.iter().enumerate() {
        if let Some(a) = r.acknowledgement(f) {
            out.push_str(&format!(
                "- Finding {} ({}): {}\n",
                i + 1,
                code(&f.fingerprint),
                cell(&ack_line(a))
            ));
        }
    }
    for a in r.acks_with(AckStatus::Unused) {
        out.push_str(&format!(
            "- **Unused** {}: {}\n",
            code(&a.fingerprint),
            cell(&ack_line(a))
        ));
    }
}

//! Markdown report: headings and tables, for pasting into tickets and pull requests.

use super::{
    clip, counts_text, evidence_target, human_ms, run_status_text, verdict_text, AuditReport,
    Reporter,
};
use crate::exit::ExitStatus;

#[derive(Debug, Clone, Copy, Default)]
pub struct MarkdownReporter;

/// Make text safe as Markdown prose and inside a table cell: no emphasis, links or
/// HTML from the data, no line breaks, no column breaks.
fn cell(s: &str) -> String {
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
    s.replace('|', "\\|").replace(['\r', '\n'], " ")
}

/// Inline code span that survives backticks in the text.
fn code(s: &str) -> String {
    if s.is_empty() {
        String::new()
    } else if s.contains('`') {
        format!("`` {} ``", in_code(s))
    } else {
        format!("`{}`", in_code(s))
    }
}

fn row(cells: &[String]) -> String {
    format!("| {} |\n", cells.join(" | "))
}

fn header(cols: &[&str]) -> String {
    let mut s = format!("| {} |\n", cols.join(" | "));
    s.push_str(&format!(
        "|{}|\n",
        cols.iter().map(|_| "---").collect::<Vec<_>>().join("|")
    ));
    s
}

impl Reporter for MarkdownReporter {
    fn render(&self, r: &AuditReport) -> String {
        let exit = r.exit_status();
        let mut out = format!("# Consent audit: {}\n\n", cell(&r.site));

        out.push_str(&header(&["", ""]));
        out.push_str(&row(&[
            "Run".into(),
            r.run_id
                .map(|i| format!("#{i}"))
                .unwrap_or_else(|| "not stored".into()),
        ]));
        let status = run_status_text(&r.status);
        out.push_str(&row(&[
            "Status".into(),
            if matches!(r.status, crate::observe::RunStatus::Complete) {
                cell(&status)
            } else {
                format!("**{}**", cell(&status))
            },
        ]));
        out.push_str(&row(&["Scenario file".into(), code(&r.scenario_file)]));
        out.push_str(&row(&[
            "Started".into(),
            r.started_at.format("%Y-%m-%d %H:%M:%S UTC").to_string(),
        ]));
        out.push_str(&row(&["Duration".into(), human_ms(r.duration_ms())]));
        out.push_str(&row(&[
            "Fail on".into(),
            r.fail_on
                .map(|s| s.to_string())
                .unwrap_or_else(|| "never".into()),
        ]));
        out.push_str(&row(&[
            "Findings".into(),
            format!("{} ({})", r.findings.len(), counts_text(r)),
        ]));
        out.push_str(&row(&[
            "Exit".into(),
            format!("{} ({})", exit.code(), exit),
        ]));
        out.push('\n');
        if exit == ExitStatus::Incomplete {
            out.push_str(&format!("> **Warning:** {}\n\n", cell(&verdict_text(r))));
        } else {
            out.push_str(&format!("{}\n\n", cell(&verdict_text(r))));
        }

        out.push_str("## Scenarios\n\n");
        if r.visits.is_empty() {
            out.push_str("**No scenario ran: nothing was observed.**\n\n");
        } else {
            out.push_str(&header(&[
                "Scenario",
                "Status",
                "Requests",
                "Third-party",
                "Cookies stored",
                "Cookie writes",
                "Duration",
            ]));
            for v in &r.visits {
                let status = match v.not_observed() {
                    Some(reason) => format!("**NOT OBSERVED:** {}", cell(reason)),
                    None => "complete".to_string(),
                };
                out.push_str(&row(&[
                    code(&v.scenario),
                    status,
                    v.requests.to_string(),
                    v.third_party_requests.to_string(),
                    v.cookies_stored.to_string(),
                    v.cookie_writes.to_string(),
                    human_ms(v.duration_ms),
                ]));
            }
            out.push('\n');
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
        }

        out.push_str(&format!("## Findings ({})\n\n", r.findings.len()));
        if r.findings.is_empty() {
            out.push_str("None.\n");
            return out;
        }
        out.push_str(&header(&[
            "#",
            "Severity",
            "Code",
            "Scenario",
            "Subject",
            "Phase",
            "First evidence",
            "Occurrences",
        ]));
        for (i, f) in r.findings.iter().enumerate() {
            let e = f.evidence.first();
            out.push_str(&row(&[
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
            ]));
        }
        out.push('\n');

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
            out.push_str(&format!("- **Fingerprint:** `{}`\n\n", f.fingerprint));
            if !f.evidence.is_empty() {
                out.push_str(&header(&[
                    "Time (UTC)",
                    "Scenario",
                    "Phase",
                    "Page",
                    "Request / cookie",
                    "Detail",
                ]));
                for e in &f.evidence {
                    let target = e
                        .request_url
                        .as_deref()
                        .or(e.cookie.as_deref())
                        .map(code)
                        .unwrap_or_default();
                    out.push_str(&row(&[
                        e.time.format("%Y-%m-%d %H:%M:%S%.3f").to_string(),
                        code(&e.scenario),
                        cell(&e.phase),
                        code(&e.page),
                        target,
                        e.detail.as_deref().map(cell).unwrap_or_default(),
                    ]));
                }
                out.push('\n');
            }
        }
        out
    }
}

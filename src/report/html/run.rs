//! One run as an HTML page: verdict first, then the scenarios (observed or NOT
//! OBSERVED, with the reason), the findings grouped by severity with their evidence,
//! and the warnings.

use super::{code, escape_html, opt, page, severity_badge, text, Table};
use crate::analysis::{Finding, Severity};
use crate::exit::ExitStatus;
use crate::report::{counts_text, human_ms, run_status_text, verdict_text, AuditReport, Reporter};
use std::fmt::Write as _;

#[derive(Debug, Clone, Copy, Default)]
pub struct HtmlReporter;

fn title(r: &AuditReport) -> String {
    format!("Consent audit: {}", r.site)
}

impl Reporter for HtmlReporter {
    fn render(&self, r: &AuditReport) -> String {
        let mut b = String::new();
        let exit = r.exit_status();
        let _ = writeln!(b, "<header><h1>Consent audit: {}</h1>", text(&r.site));
        let _ = writeln!(
            b,
            "<p class=\"sub\">{}</p>",
            match r.run_id {
                Some(id) => format!("Run #{id}"),
                None => "Run not stored".to_string(),
            }
        );
        b.push_str("<dl class=\"meta\">");
        let status = run_status_text(&r.status);
        let status = if matches!(r.status, crate::model::RunStatus::Complete) {
            text(&status)
        } else {
            format!("<span class=\"warn\">{}</span>", text(&status))
        };
        let fail_on = match (r.fail_on, r.fail_on_new) {
            (None, _) => "never".to_string(),
            (Some(s), false) => s.to_string(),
            (Some(s), true) => format!("new or regressed findings at or above {s}"),
        };
        for (k, v) in [
            ("Status", status),
            ("Scenario file", code(&r.scenario_file)),
            (
                "Started",
                r.started_at.format("%Y-%m-%d %H:%M:%S UTC").to_string(),
            ),
            ("Duration", human_ms(r.duration_ms())),
            ("Fail on", escape_html(&fail_on)),
            (
                "Findings",
                format!("{} ({})", r.findings.len(), counts_text(r)),
            ),
            ("Exit", format!("{} ({})", exit.code(), exit)),
            ("Database", opt(r.db_path.as_deref())),
        ] {
            let _ = write!(b, "<dt>{k}</dt><dd>{v}</dd>");
        }
        b.push_str("</dl></header>\n");
        let class = match exit {
            ExitStatus::Ok => "verdict",
            ExitStatus::Incomplete => "verdict incomplete",
            _ => "verdict fail",
        };
        let _ = writeln!(b, "<p class=\"{class}\">{}</p>", text(&verdict_text(r)));

        b.push_str("<h2 id=\"scenarios\">Scenarios</h2>\n");
        if r.visits.is_empty() {
            b.push_str("<p class=\"warn\">No scenario ran: nothing was observed.</p>\n");
        } else {
            // A column linking each scenario's screenshots, when the run has any.
            let shown = |v: &crate::report::VisitSummary| {
                v.screenshots.iter().filter(|s| s.path.is_some()).count()
            };
            let shots = r.visits.iter().any(|v| shown(v) > 0);
            let mut header = vec![
                "Scenario",
                "Status",
                "Requests",
                "Third-party",
                "Cookies stored",
                "Cookie writes",
                "Duration",
            ];
            if shots {
                header.push("Screenshots");
            }
            let mut t = Table::new("scenarios", &header);
            for (i, v) in r.visits.iter().enumerate() {
                let status = match v.not_observed() {
                    Some(reason) => format!(
                        "<span class=\"b b-bad\">NOT OBSERVED</span> {}",
                        text(reason)
                    ),
                    None => "<span class=\"b b-ok\">observed</span>".to_string(),
                };
                let class = if v.not_observed().is_some() { "hl" } else { "" };
                let mut cells = vec![
                    code(&v.scenario),
                    status,
                    v.requests.to_string(),
                    v.third_party_requests.to_string(),
                    v.cookies_stored.to_string(),
                    v.cookie_writes.to_string(),
                    human_ms(v.duration_ms),
                ];
                if shots {
                    cells.push(match shown(v) {
                        0 => "-".to_string(),
                        n => format!(
                            "<a href=\"#{}\">{n}</a>",
                            super::anchor("shots", i, &v.scenario)
                        ),
                    });
                }
                t.row_class(class, &cells);
            }
            b.push_str(&t.finish());
        }

        if !r.visits.is_empty() {
            b.push_str("<h2 id=\"signals\">Consent signals</h2>\n");
            let mut t = Table::new("signals", &["Scenario", "Phase", "Source", "Signal"]);
            for v in &r.visits {
                if v.signals.is_empty() {
                    t.row_class(
                        "",
                        &[
                            code(&v.scenario),
                            "-".into(),
                            "-".into(),
                            text(crate::report::no_signals_text(v)),
                        ],
                    );
                }
                for s in &v.signals {
                    t.row_class(
                        "",
                        &[
                            code(&v.scenario),
                            code(&s.phase),
                            text(&crate::report::signal_source_text(s)),
                            text(&s.summary),
                        ],
                    );
                }
            }
            b.push_str(&t.finish());
        }

        let _ = writeln!(
            b,
            "<h2 id=\"findings\">Findings ({})</h2>",
            r.findings.len()
        );
        if r.findings.is_empty() {
            b.push_str("<p>None.</p>\n");
        }
        let mut n = 0;
        for sev in Severity::all().rev() {
            let group: Vec<&Finding> = r.findings.iter().filter(|f| f.severity == sev).collect();
            if group.is_empty() {
                continue;
            }
            let _ = writeln!(
                b,
                "<h3 id=\"sev-{sev}\">{} {}</h3>",
                severity_badge(sev.as_str()),
                group.len()
            );
            for f in group {
                n += 1;
                finding(&mut b, r, n, f);
            }
        }

        let warnings: Vec<String> = r
            .visits
            .iter()
            .flat_map(|v| {
                v.warnings
                    .iter()
                    .map(move |w| format!("<li>{}: {}</li>", code(&v.scenario), text(w)))
            })
            .collect();
        if !warnings.is_empty() {
            let _ = writeln!(
                b,
                "<h2 id=\"warnings\">Warnings ({})</h2>\n<ul class=\"plain\">{}</ul>",
                warnings.len(),
                warnings.concat()
            );
        }
        let actions: Vec<String> = r
            .visits
            .iter()
            .flat_map(|v| {
                v.consent_actions
                    .iter()
                    .map(move |a| format!("<li>{}: {}</li>", code(&v.scenario), text(&a.summary())))
            })
            .collect();
        if !actions.is_empty() {
            let _ = writeln!(
                b,
                "<h2 id=\"consent-actions\">Consent actions ({})</h2>\n<ul class=\"plain\">{}</ul>",
                actions.len(),
                actions.concat()
            );
        }
        screenshots(&mut b, r);
        b.push_str("<footer><p class=\"note\">Generated by consentry. Page text is shown escaped; URLs are text, not links (only the screenshots link to their own files).</p></footer>\n");
        page(&title(r), &b)
    }
}

/// Per scenario, each consent action's before / after screenshots side by side: a
/// thumbnail that links to the full picture. Paths are the report's own (relative to the
/// report file when written to one), as URL references ([`crate::screenshots::url_ref`]).
fn screenshots(b: &mut String, r: &AuditReport) {
    use crate::screenshots::{pairs, url_ref, Screenshot};
    let total: usize = r
        .visits
        .iter()
        .flat_map(|v| &v.screenshots)
        .filter(|s| s.path.is_some())
        .count();
    if total == 0 {
        return;
    }
    let _ = writeln!(
        b,
        "<h2 id=\"screenshots\">Banner screenshots ({total})</h2>\n<p class=\"note\">The viewport just before each consent action and once it was done (the CMP's record read back, the page settled). Click a picture for full size.</p>"
    );
    let figure = |b: &mut String, s: Option<&Screenshot>, when: &str| {
        let Some((s, path)) = s.and_then(|s| s.path.as_deref().map(|p| (s, p))) else {
            let _ = write!(
                b,
                "<figure class=\"shot missing\"><figcaption><b>{when}</b>: not taken (see the warnings)</figcaption></figure>"
            );
            return;
        };
        let href = url_ref(path);
        let failed = if s.action_failed {
            " <span class=\"warn\">the action failed: what was on screen instead</span>"
        } else {
            ""
        };
        let _ = write!(
            b,
            "<figure class=\"shot\"><a href=\"{href}\"><img src=\"{href}\" width=\"{}\" height=\"{}\" alt=\"{when}: {}\"></a><figcaption><b>{when}</b>{failed} {} · {}x{} · {}</figcaption></figure>",
            s.width,
            s.height,
            escape_html(&s.label()),
            s.time.format("%H:%M:%S%.3f UTC"),
            s.width,
            s.height,
            code(path),
        );
    };
    for (i, v) in r.visits.iter().enumerate() {
        let ps = pairs(&v.screenshots);
        if ps.is_empty() {
            continue;
        }
        let _ = writeln!(
            b,
            "<h3 id=\"{}\">Scenario {}</h3>",
            super::anchor("shots", i, &v.scenario),
            code(&v.scenario)
        );
        for p in ps {
            let page = p.before.or(p.after).map(|s| s.page.as_str()).unwrap_or("");
            let _ = writeln!(
                b,
                "<p>Step {}: {} on {}</p>\n<div class=\"shots\">",
                p.step + 1,
                code(p.action.as_str()),
                code(page)
            );
            figure(b, p.before, "before");
            figure(b, p.after, "after");
            b.push_str("</div>\n");
        }
    }
}

fn finding(b: &mut String, r: &AuditReport, n: usize, f: &Finding) {
    let marker = if r.new_fingerprints.contains(&f.fingerprint) {
        " <span class=\"b b-new\">new or regressed</span>"
    } else {
        ""
    };
    let _ = writeln!(
        b,
        "<div class=\"finding\" id=\"f-{n}\"><h4>Finding {n}: {} {}{marker}</h4>",
        severity_badge(f.severity.as_str()),
        code(f.code.as_str())
    );
    let _ = writeln!(b, "<p>{}</p>", text(&f.message));
    b.push_str("<dl class=\"meta\">");
    let occ = if (f.occurrences as usize) > f.evidence.len() {
        format!("{} (first {} shown)", f.occurrences, f.evidence.len())
    } else {
        f.occurrences.to_string()
    };
    for (k, v) in [
        ("Subject", code(&f.subject)),
        ("Rule broken", text(&f.rule)),
        (
            "Scenario",
            f.scenario
                .as_deref()
                .map(code)
                .unwrap_or_else(|| "all (site-level)".into()),
        ),
        ("Vendor", opt(f.vendor.as_deref())),
        (
            "Acknowledgement",
            match r.acknowledgement(f) {
                Some(a) => format!(
                    "{} by {} until {}: {} ({})",
                    a.status.as_str(),
                    text(&a.owner),
                    a.expires.format("%Y-%m-%d"),
                    text(&a.reason),
                    text(&a.location)
                ),
                None => "none".to_string(),
            },
        ),
        ("Occurrences", occ),
        ("Fingerprint", code(&f.fingerprint)),
    ] {
        let _ = write!(b, "<dt>{k}</dt><dd>{v}</dd>");
    }
    b.push_str("</dl>\n");
    if !f.evidence.is_empty() {
        let mut t = Table::new(
            "evidence",
            &[
                "Time (UTC)",
                "Scenario",
                "Phase",
                "Page",
                "Request / cookie",
                "Detail",
            ],
        );
        for e in &f.evidence {
            let target = e
                .request_url
                .as_deref()
                .or(e.cookie.as_deref())
                .map(code)
                .unwrap_or_default();
            t.row(&[
                e.time.format("%Y-%m-%d %H:%M:%S%.3f").to_string(),
                code(&e.scenario),
                text(&e.phase),
                code(&e.page),
                target,
                opt(e.detail.as_deref()),
            ]);
        }
        b.push_str(&t.finish());
    }
    b.push_str("</div>\n");
}

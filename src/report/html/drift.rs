//! The LIA review pack as one HTML page, in the privacy lead's reading order: header,
//! summary, timeline, one section per vendor (legitimate-interest vendors first), the
//! findings, the site's inventory drift, declaration changes, acknowledgements, runs.

use super::svg::timeline;
use super::vendor::{inventory_table, vendor};
use super::{
    ack_badge, anchor, code, date, datetime, esc_clip, escape_html, id_ranges, opt, page,
    severity_badge, status_badge, text, Table,
};
use crate::drift::{DriftReport, Status, StatusCounts};
use crate::report::view::{
    scenario_list, AckRow, Card, DeclarationRow, DriftProblem, DriftSummary, DriftView,
    LifecycleRow, RunMatrix, RunRow, ACK_PAGE_COLUMNS, DECLARATION_PAGE_COLUMNS,
    LIFECYCLE_PAGE_COLUMNS, PROBLEM_PAGE_COLUMNS, RUN_PAGE_COLUMNS,
};
use std::fmt::Write as _;

fn title(r: &DriftReport) -> String {
    format!("LIA review pack: {}", r.site)
}

pub(super) fn counts_line(c: &StatusCounts) -> String {
    let mut s = format!(
        "{} {} &#160;{} {} &#160;{} {} &#160;{} {} &#160;{} {}",
        c.new,
        status_badge(Status::New),
        c.regressed,
        status_badge(Status::Regressed),
        c.persisting,
        status_badge(Status::Persisting),
        c.unverified,
        status_badge(Status::Unverified),
        c.resolved,
        status_badge(Status::Resolved)
    );
    if c.acknowledged > 0 {
        let _ = write!(s, " &#160;(of which {} acknowledged)", c.acknowledged);
    }
    s
}

fn card(b: &mut String, c: &Card) {
    let _ = writeln!(
        b,
        "<div class=\"card{}\"><div class=\"k\">{}</div><div class=\"v\">{}</div><div class=\"d\">{}</div></div>",
        if c.alert { " alert" } else { "" },
        escape_html(c.key),
        escape_html(&c.value),
        escape_html(&c.detail)
    );
}

fn header(b: &mut String, s: &DriftSummary, r: &DriftReport) {
    let _ = writeln!(
        b,
        "<header><h1>LIA review pack: {}</h1>\n<p class=\"sub\">Consent and legitimate-interest drift, {} to {} (UTC, end exclusive)</p>",
        text(s.site),
        s.since,
        s.until
    );
    let ids: Vec<i64> = r.runs.iter().map(|x| x.id).collect();
    let span = match (r.summary.first_run, r.summary.last_run) {
        (Some(a), Some(z)) => format!("{} → {}", datetime(&a), datetime(&z)),
        _ => "-".to_string(),
    };
    b.push_str("<dl class=\"meta\">");
    for (k, v) in [
        ("Site", text(s.site)),
        (
            "Window",
            format!("{} to {}", datetime(&r.since), datetime(&r.until)),
        ),
        ("Runs", s.runs.clone()),
        ("Vantage", text(&r.vantage)),
        ("First / last run", span),
        ("Generated from runs", id_ranges(&ids)),
        (
            "Schema",
            format!("drift JSON schema_version {}", r.schema_version),
        ),
    ] {
        let _ = write!(b, "<dt>{k}</dt><dd>{v}</dd>");
    }
    b.push_str("</dl></header>\n");
}

fn summary(b: &mut String, s: &DriftSummary, r: &DriftReport) {
    b.push_str("<h2 id=\"summary\">Summary</h2>\n<div class=\"cards\">\n");
    for c in &s.cards {
        card(b, c);
    }
    b.push_str("</div>\n");
    let _ = writeln!(
        b,
        "<p>Findings now: {}</p>",
        counts_line(&r.summary.current)
    );
}

/// The vendor × scenario matrix of the window's first and last run (with
/// `--vs-vantage`: of each vantage's latest run), side by side (the run report's matrix,
/// one per run), then one legend.
fn matrices(b: &mut String, ms: &[RunMatrix], vantages: bool) {
    let legend = RunMatrix::legend(ms);
    if legend.is_empty() {
        return;
    }
    let which = if vantages {
        "in the latest run of each of the two vantages"
    } else {
        "in the window's first and last run"
    };
    let _ = write!(b, "<h2 id=\"matrix\">Vendors by scenario</h2>\n<p class=\"note\">What each declared vendor did in each scenario's consent state, {which}. Every cell carries its letter, so the matrices read in black and white too.</p>\n<div class=\"pair\">");
    for m in ms {
        let _ = write!(b, "<div><h3>{}</h3>", escape_html(&m.title));
        super::run::matrix_table(b, &m.matrix);
        b.push_str("</div>");
    }
    b.push_str("</div>\n");
    super::run::matrix_legend(b, &legend);
}

fn toc(b: &mut String, r: &DriftReport) {
    b.push_str("<nav class=\"toc-nav\"><h2 id=\"contents\">Contents</h2><ol class=\"toc\">");
    b.push_str("<li><a href=\"#summary\">Summary</a></li><li><a href=\"#timeline\">Timeline</a></li><li><a href=\"#vendors\">Vendors</a><ol>");
    for (i, v) in r.vendors.iter().enumerate() {
        let _ = write!(
            b,
            "<li><a href=\"#{}\">{}</a>{}</li>",
            anchor("vendor", i, &v.vendor),
            esc_clip(&v.vendor, 60),
            if v.legitimate_interest {
                " <span class=\"b b-li\">LI</span>"
            } else {
                ""
            }
        );
    }
    b.push_str("</ol></li><li><a href=\"#findings\">Findings</a></li><li><a href=\"#inventory\">Inventory drift</a></li><li><a href=\"#declarations\">Declaration changes</a></li><li><a href=\"#acknowledgements\">Acknowledgements</a></li><li><a href=\"#runs\">Runs</a></li></ol></nav>\n");
}

/// A section's heading with its count, `<h2 id="{id}">{title} ({n})</h2>`, and the
/// `empty` paragraph when it has nothing to show (then `false`).
fn section(b: &mut String, id: &str, title: &str, n: usize, empty: &str) -> bool {
    let _ = writeln!(b, "<h2 id=\"{id}\">{title} ({n})</h2>");
    if n == 0 {
        let _ = writeln!(b, "<p>{empty}</p>");
    }
    n > 0
}

fn findings(b: &mut String, rows: &[LifecycleRow]) {
    if !section(
        b,
        "findings",
        "Findings",
        rows.len(),
        "No findings in the window.",
    ) {
        return;
    }
    let mut t = Table::new("lifecycles", &LIFECYCLE_PAGE_COLUMNS);
    for (i, row) in rows.iter().enumerate() {
        let l = row.lifecycle;
        let mut now = status_badge(l.current);
        if let Some(a) = &l.acknowledgement {
            let _ = write!(now, "<br>ack {}", ack_badge(a.status));
        }
        t.row(&[
            format!(
                "<span id=\"{}\">{}</span>",
                anchor("finding", i, &l.code),
                i + 1
            ),
            now,
            format!(
                "{} {}<br>{} in {}<br><span class=\"note\">{}</span>",
                severity_badge(&l.severity),
                code(&l.code),
                code(&l.subject),
                opt(l.scenario.as_deref()),
                text(&l.message)
            ),
            opt(l.vendor.as_deref()),
            format!("{}<br>{}", datetime(&l.first_seen), datetime(&l.last_seen)),
            format!("{} / {}", l.runs_seen, l.runs_checked),
            row.policy_note
                .map(|n| format!("<span class=\"warn\">{}</span>", escape_html(n)))
                .into_iter()
                .chain(row.known_note.as_deref().map(text))
                .collect::<Vec<_>>()
                .join("<br>"),
        ]);
    }
    b.push_str(&t.finish());
}

/// The window's findings grouped by code and subject. Each row carries the anchors of
/// its findings, so the timeline's and the acknowledgements' links land on it.
fn problems(b: &mut String, problems: &[DriftProblem], rows: &[LifecycleRow]) {
    if !section(
        b,
        "findings",
        "Problems",
        problems.len(),
        "No findings in the window.",
    ) {
        return;
    }
    let _ = writeln!(
        b,
        "<p class=\"note\">{} findings grouped by code and subject; <code>--ungrouped</code> lists each.</p>",
        rows.len()
    );
    let mut t = Table::new("lifecycles", &PROBLEM_PAGE_COLUMNS);
    for (i, p) in problems.iter().enumerate() {
        let anchors: String = p
            .rows
            .iter()
            .filter_map(|&n| rows.get(n).map(|r| (n, r)))
            .map(|(n, r)| {
                format!(
                    "<span id=\"{}\"></span>",
                    anchor("finding", n, &r.lifecycle.code)
                )
            })
            .collect();
        let message = p
            .rows
            .first()
            .and_then(|&n| rows.get(n))
            .map(|r| text(&r.lifecycle.message))
            .unwrap_or_default();
        let scenarios = scenario_list(&p.scenarios, code);
        let now: Vec<String> = p
            .now_counts
            .iter()
            .map(|(s, n)| {
                if p.rows.len() == 1 {
                    status_badge(*s)
                } else {
                    format!("{n} {}", status_badge(*s))
                }
            })
            .collect();
        t.row(&[
            format!("{anchors}{}", i + 1),
            now.join("<br>"),
            format!(
                "{} {}<br>{}<br><span class=\"note\">{message}</span>",
                severity_badge(p.severity),
                code(p.code),
                code(p.subject),
            ),
            opt(p.vendor),
            format!("{}<br>{}", datetime(&p.first_seen), datetime(&p.last_seen)),
            format!(
                "{}<br><span class=\"note\">seen/checked {}</span>",
                scenarios,
                escape_html(&p.seen_checked)
            ),
            if p.notes.is_empty() {
                String::new()
            } else {
                format!("<span class=\"note\">{}</span>", text(&p.notes))
            },
        ]);
    }
    b.push_str(&t.finish());
}

fn declarations(b: &mut String, rows: &[DeclarationRow]) {
    if !section(
        b,
        "declarations",
        "Declaration changes",
        rows.len(),
        "The scenario file and the policy did not change over the window.",
    ) {
        return;
    }
    let mut t = Table::new("declarations", &DECLARATION_PAGE_COLUMNS);
    for row in rows {
        let d = row.change;
        let changes = if d.changes.is_empty() {
            "<span class=\"note\">the files' bytes changed (no declared-map difference recorded)</span>".to_string()
        } else {
            format!(
                "<ul class=\"plain\">{}</ul>",
                d.changes
                    .iter()
                    .map(|c| format!("<li>{}</li>", text(c)))
                    .collect::<String>()
            )
        };
        let resolved = if d.resolved_in_run > 0 && d.policy_changed {
            format!("<span class=\"warn\">{} finding(s) resolved in the run the policy changed: the resolution coincided with a policy change and may be the declaration's doing, not the site's.</span>", d.resolved_in_run)
        } else {
            d.resolved_in_run.to_string()
        };
        t.row(&[
            format!(
                "#{} <span class=\"note\">vs #{}</span><br>{}",
                d.run_id,
                d.previous_run,
                datetime(&d.at)
            ),
            row.files_text(" and "),
            changes,
            resolved,
        ]);
    }
    b.push_str(&t.finish());
}

fn acknowledgements(b: &mut String, rows: &[AckRow]) {
    if !section(
        b,
        "acknowledgements",
        "Acknowledgements",
        rows.len(),
        "None.",
    ) {
        return;
    }
    let mut t = Table::new("acks", &ACK_PAGE_COLUMNS);
    for row in rows {
        let a = row.ack;
        let finding = match row.finding {
            Some((i, finding_code)) => format!(
                "<a href=\"#{}\">{}</a>",
                anchor("finding", i, finding_code),
                code(&a.fingerprint)
            ),
            None => format!(
                "{} <span class=\"note\">(no finding in the window)</span>",
                code(&a.fingerprint)
            ),
        };
        t.row_class(
            if matches!(a.status, crate::drift::AckStatus::Expired) {
                "hl"
            } else {
                ""
            },
            &[
                ack_badge(a.status),
                finding,
                text(&a.owner),
                text(&a.reason),
                a.acknowledged
                    .as_ref()
                    .map(date)
                    .unwrap_or_else(|| "-".into()),
                date(&a.expires),
                opt(a.location.as_deref()),
            ],
        );
    }
    b.push_str(&t.finish());
}

fn runs(b: &mut String, rows: &[RunRow]) {
    if !section(b, "runs", "Runs", rows.len(), "No run in the window.") {
        return;
    }
    let mut t = Table::new("runs", &RUN_PAGE_COLUMNS);
    for row in rows {
        let x = row.run;
        t.row_class(
            if row.complete { "" } else { "hl" },
            &[
                format!("#{}", x.id),
                datetime(&x.started_at),
                run_status(row),
                scenarios(row),
                escape_html(&row.pages),
                row.counts.clone(),
                row.changed.clone(),
            ],
        );
    }
    b.push_str(&t.finish());
}

fn run_status(row: &RunRow) -> String {
    let x = row.run;
    match &x.status_reason {
        Some(why) if !row.complete => {
            format!(
                "<span class=\"warn\">{}</span>: {}",
                text(&x.status),
                text(why)
            )
        }
        _ => text(&x.status),
    }
}

fn scenarios(row: &RunRow) -> String {
    let total = row.run.scenarios.len();
    if row.missing.is_empty() {
        format!("{}/{total}", row.observed)
    } else {
        let missing: Vec<String> = row.missing.iter().map(|s| code(s)).collect();
        format!(
            "{}/{total}; NOT OBSERVED: {}",
            row.observed,
            missing.join(", ")
        )
    }
}

/// The drift report as one self-contained HTML page.
pub fn render_drift_html(r: &DriftReport) -> String {
    layout(&DriftView::of(r))
}

/// The drift pack's view as one self-contained HTML page.
pub(super) fn layout(view: &DriftView) -> String {
    let r = view.report;
    let mut b = String::with_capacity(64 * 1024);
    header(&mut b, &view.summary, r);
    summary(&mut b, &view.summary, r);
    b.push_str("<h2 id=\"timeline\">Timeline</h2>\n");
    match timeline(r) {
        Some(svg) => {
            b.push_str("<p class=\"note\">One column per run, oldest left; hover a cell for the run and status.</p>\n");
            b.push_str(&svg);
        }
        None => b.push_str("<p>No findings in the window: nothing to draw.</p>\n"),
    }
    matrices(&mut b, &view.matrices, !view.report.versus.is_empty());
    toc(&mut b, r);
    section(
        &mut b,
        "vendors",
        "Vendors",
        view.vendors.len(),
        "No vendor was declared or observed in the window.",
    );
    for (i, v) in view.vendors.iter().enumerate() {
        vendor(&mut b, r, i, v);
    }
    if view.grouped {
        problems(&mut b, &view.problems, &view.lifecycles);
    } else {
        findings(&mut b, &view.lifecycles);
    }
    if section(
        &mut b,
        "inventory",
        "Inventory drift",
        r.inventory.len(),
        "No host, vendor or cookie appeared, went or changed lifetime.",
    ) {
        b.push_str("<p class=\"note\">Each scenario of a run against the previous run that observed that scenario.</p>\n");
        inventory_table(&mut b, &r.inventory, true);
    }
    declarations(&mut b, &view.declarations);
    acknowledgements(&mut b, &view.acks);
    runs(&mut b, &view.runs);
    b.push_str("<footer><p class=\"note\">Generated by consentry from the stored runs listed above. Page text is shown escaped; URLs are text, not links. No script, no external resource.</p></footer>\n");
    page(&title(r), &b)
}

//! The fleet summary (docs/fleet.md) in every format: [`FleetView`] is built once from
//! the [`FleetReport`], and each layout only arranges and escapes its texts.

use super::{human_ms, run_status_text};
use crate::outcome::FleetReport;

/// The fleet summary's texts.
pub struct FleetView {
    pub title: String,
    /// `(label, value)` lines above the table.
    pub meta: Vec<(&'static str, String)>,
    pub rows: Vec<[String; COLUMNS.len()]>,
    /// The fleet's verdict, one line.
    pub verdict: String,
}

/// The summary table's columns.
pub const COLUMNS: [&str; 7] = [
    "site",
    "status",
    "observed",
    "findings",
    "new/regressed",
    "duration",
    "report",
];

impl FleetView {
    pub fn of(r: &FleetReport) -> FleetView {
        let mut meta = vec![
            (
                "Fleet run",
                r.fleet_run_id
                    .map(|i| format!("#{i}"))
                    .unwrap_or_else(|| "not stored".into()),
            ),
            ("Sites", r.sites.len().to_string()),
            ("Duration", human_ms(r.duration_ms())),
        ];
        if let Some(f) = &r.fleet_file {
            meta.insert(1, ("Fleet file", f.clone()));
        }
        let rows = r
            .sites
            .iter()
            .map(|s| {
                let findings: Vec<String> = s
                    .findings
                    .iter()
                    .filter(|(_, n)| *n > 0)
                    .map(|(sev, n)| format!("{n} {sev}"))
                    .collect();
                [
                    s.site.clone(),
                    run_status_text(&s.status),
                    format!("{}/{}", s.visits_observed, s.visits),
                    if findings.is_empty() {
                        "none".into()
                    } else {
                        findings.join(", ")
                    },
                    s.new_or_regressed.to_string(),
                    human_ms(s.duration_ms),
                    s.report_file.clone().unwrap_or_else(|| "-".into()),
                ]
            })
            .collect();
        let incomplete = r
            .sites
            .iter()
            .filter(|s| s.exit == crate::exit::ExitStatus::Incomplete)
            .count();
        let failing = r.sites.iter().filter(|s| s.failing > 0).count();
        let verdict = format!(
            "exit {} ({}): {incomplete} site(s) not fully observed, {failing} with findings at or above --fail-on",
            r.exit.code(),
            r.exit.describe()
        );
        FleetView {
            title: format!("Fleet audit: {}", r.fleet),
            meta,
            rows,
            verdict,
        }
    }
}

/// The terminal layout.
pub(super) fn text(v: &FleetView) -> String {
    let mut out = format!("{}\n", super::clip(&v.title, 200));
    for (k, val) in &v.meta {
        out.push_str(&format!("  {k}: {}\n", super::clip(val, 200)));
    }
    let mut b = tabled::builder::Builder::default();
    b.push_record(COLUMNS.iter().map(|c| c.to_string()));
    for row in &v.rows {
        b.push_record(row.iter().map(|c| super::clip(c, 80)));
    }
    let mut t = b.build();
    t.with(tabled::settings::Style::sharp());
    out.push_str(&t.to_string());
    out.push('\n');
    out.push_str(&v.verdict);
    out.push('\n');
    out
}

/// The Markdown layout.
pub(super) fn markdown(v: &FleetView) -> String {
    let cell = super::markdown::cell;
    let mut out = format!("# {}\n\n", cell(&v.title));
    for (k, val) in &v.meta {
        out.push_str(&format!("- **{k}**: {}\n", cell(val)));
    }
    out.push('\n');
    let mut b = tabled::builder::Builder::default();
    b.push_record(COLUMNS.iter().map(|c| c.to_string()));
    for row in &v.rows {
        b.push_record(row.iter().map(|c| cell(c)));
    }
    let mut t = b.build();
    t.with(tabled::settings::Style::markdown());
    out.push_str(&t.to_string());
    out.push_str("\n\n");
    out.push_str(&cell(&v.verdict));
    out.push('\n');
    out
}

/// The HTML layout (one page, the run report's stylesheet).
pub(super) fn html(v: &FleetView) -> String {
    use super::html::{escape_html, page, Table};
    let mut body = format!("<h1>{}</h1>\n<dl class=\"meta\">", escape_html(&v.title));
    for (k, val) in &v.meta {
        body.push_str(&format!(
            "<dt>{}</dt><dd>{}</dd>",
            escape_html(k),
            escape_html(val)
        ));
    }
    body.push_str("</dl>\n<h2>Sites</h2>\n");
    let mut t = Table::new("fleet", &COLUMNS);
    for row in &v.rows {
        let cells: Vec<String> = row.iter().map(|c| escape_html(c)).collect();
        t.row(&cells);
    }
    body.push_str(&t.finish());
    body.push_str(&format!("<p>{}</p>\n", escape_html(&v.verdict)));
    page(&v.title, &body)
}

/// The JSON document: the report model itself, with the schema version.
pub(super) fn json(r: &FleetReport) -> String {
    #[derive(serde::Serialize)]
    struct Doc<'a> {
        schema_version: u32,
        kind: &'static str,
        #[serde(flatten)]
        report: &'a FleetReport,
    }
    let doc = Doc {
        schema_version: super::SCHEMA_VERSION,
        kind: "fleet",
        report: r,
    };
    let mut s = serde_json::to_string_pretty(&doc).unwrap_or_else(|e| {
        format!("{{\"error\": \"the fleet report could not be serialised: {e}\"}}")
    });
    s.push('\n');
    s
}

/// The fleet summary in `format`.
pub fn render_fleet(format: super::Format, r: &FleetReport) -> String {
    match format {
        super::Format::Json => json(r),
        // (The CLI refuses the run-only formats and PDF for a fleet.)
        super::Format::Table | super::Format::Sarif | super::Format::Junit => {
            text(&FleetView::of(r))
        }
        super::Format::Markdown => markdown(&FleetView::of(r)),
        super::Format::Html | super::Format::Pdf => html(&FleetView::of(r)),
    }
}

//! The inline SVG figures: the findings timeline (one column per run, oldest left; one
//! row per finding, or per vendor when there are many) and the per-vendor objection
//! strip. Hover text in `<title>` elements, escaped like everything else; the legend is
//! text as well as color.

use super::{anchor, esc, esc_clip, escape_html};
use crate::drift::{DriftReport, Objection, RunRef, Status, VendorRun};
use std::collections::{BTreeMap, HashMap};
use std::fmt::Write as _;

/// Findings shown one row each up to this many; beyond, one row per vendor.
pub const MAX_FINDING_ROWS: usize = 30;
/// Rows drawn at most; the rest are counted under the figure.
pub const MAX_ROWS: usize = 40;

const LABEL_W: f64 = 260.0;
const PLOT_W: f64 = 940.0;
const ROW_H: f64 = 18.0;
const TOP: f64 = 22.0;
const AXIS_H: f64 = 40.0;
const MIN_LABEL_PX: f64 = 58.0;

pub(crate) fn status_color(s: Status) -> &'static str {
    match s {
        Status::New => "#e8590c",
        Status::Regressed => "#b02525",
        Status::Persisting => "#e0a000",
        Status::Unverified => "#6b7fd7",
        Status::Resolved => "#2b8a3e",
    }
}

const NO_DATA: &str = "#eceff2";
const DECL: &str = "#7b2cbf";

fn objection_color(o: Option<Objection>) -> &'static str {
    match o {
        Some(Objection::Honoured) => "#2b8a3e",
        Some(Objection::NotHonoured) => "#b02525",
        Some(Objection::Unverified) => "#6b7fd7",
        Some(Objection::NotChecked) => "#c9ced4",
        Some(Objection::Absent) | None => NO_DATA,
    }
}

#[derive(Clone, Copy, Default)]
struct Cell {
    status: Option<Status>,
    ack: bool,
}

struct Row {
    label: String,
    title: String,
    link: Option<String>,
    cells: Vec<Cell>,
}

/// `n` with 2 decimals, trailing zeros dropped (deterministic, compact).
fn num(n: f64) -> String {
    let s = format!("{n:.2}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    if s.is_empty() || s == "-0" {
        "0".to_string()
    } else {
        s.to_string()
    }
}

/// Width of one run's column for `n` runs.
fn cell_w(n: usize) -> f64 {
    (PLOT_W / n.max(1) as f64).clamp(2.0, 30.0)
}

fn rows(r: &DriftReport, col: &HashMap<i64, usize>) -> (Vec<Row>, bool) {
    let n = r.runs.len();
    let per_finding = r.lifecycles.len() <= MAX_FINDING_ROWS;
    if per_finding {
        let rows = r
            .lifecycles
            .iter()
            .enumerate()
            .map(|(i, l)| {
                let mut cells = vec![Cell::default(); n];
                for s in &l.timeline {
                    if let Some(&c) = col.get(&s.run_id) {
                        cells[c] = Cell {
                            status: Some(s.status),
                            ack: s.acknowledged,
                        };
                    }
                }
                Row {
                    label: format!("{} · {}", l.subject, l.code),
                    title: format!(
                        "{} {} {} in {}: now {}",
                        l.severity,
                        l.code,
                        l.subject,
                        l.scenario.as_deref().unwrap_or("all scenarios"),
                        l.current.as_str()
                    ),
                    link: Some(anchor("finding", i, &l.code)),
                    cells,
                }
            })
            .collect();
        return (rows, true);
    }
    // One row per vendor: per run, the most urgent status of its findings.
    let mut groups: BTreeMap<(usize, String), Vec<usize>> = BTreeMap::new();
    let order: HashMap<&str, usize> = r
        .vendors
        .iter()
        .enumerate()
        .map(|(i, v)| (v.vendor.as_str(), i))
        .collect();
    for (i, l) in r.lifecycles.iter().enumerate() {
        let key = match l.vendor.as_deref() {
            Some(v) => (
                order.get(v).copied().unwrap_or(usize::MAX - 1),
                v.to_string(),
            ),
            None => (usize::MAX, String::new()),
        };
        groups.entry(key).or_default().push(i);
    }
    let rows = groups
        .into_iter()
        .map(|((vi, vendor), members)| {
            let mut cells = vec![Cell::default(); n];
            let mut open_acked: Vec<(u32, u32)> = vec![(0, 0); n];
            for &i in &members {
                for s in &r.lifecycles[i].timeline {
                    let Some(&c) = col.get(&s.run_id) else {
                        continue;
                    };
                    let cell = &mut cells[c];
                    cell.status = Some(match cell.status {
                        Some(prev) => prev.min(s.status),
                        None => s.status,
                    });
                    if matches!(
                        s.status,
                        Status::New | Status::Regressed | Status::Persisting
                    ) {
                        open_acked[c].0 += 1;
                        if s.acknowledged {
                            open_acked[c].1 += 1;
                        }
                    }
                }
            }
            for (cell, (open, acked)) in cells.iter_mut().zip(open_acked) {
                cell.ack = open > 0 && open == acked;
            }
            let name = if vendor.is_empty() {
                "(no vendor)".to_string()
            } else {
                vendor.clone()
            };
            Row {
                label: format!("{name} ({} findings)", members.len()),
                title: format!("{name}: {} findings, worst status per run", members.len()),
                link: (vi < r.vendors.len()).then(|| anchor("vendor", vi, &vendor)),
                cells,
            }
        })
        .collect();
    (rows, false)
}

/// Which columns carry a date label: every `step`-th, the last one too when it fits.
fn labelled(n: usize, w: f64) -> Vec<usize> {
    let step = (MIN_LABEL_PX / w).ceil().max(1.0) as usize;
    let mut out: Vec<usize> = (0..n).step_by(step).collect();
    if let Some(&last) = out.last() {
        if n > 0 && last != n - 1 && (n - 1 - last) as f64 * w >= MIN_LABEL_PX {
            out.push(n - 1);
        }
    }
    out
}

fn run_label(run: &RunRef) -> String {
    format!("#{} {}", run.id, run.started_at.format("%Y-%m-%d %H:%M"))
}

/// The timeline figure and a note on what it leaves out; `None` without runs.
pub(crate) fn timeline(r: &DriftReport) -> Option<String> {
    let n = r.runs.len();
    if n == 0 || r.lifecycles.is_empty() {
        return None;
    }
    let col: HashMap<i64, usize> = r.runs.iter().enumerate().map(|(i, x)| (x.id, i)).collect();
    let (all_rows, per_finding) = rows(r, &col);
    let hidden = all_rows.len().saturating_sub(MAX_ROWS);
    let shown = &all_rows[..all_rows.len().min(MAX_ROWS)];
    let w = cell_w(n);
    let gap = if w >= 6.0 { 1.0 } else { 0.0 };
    // Narrow cells: the outline would drown the color; the hatch alone marks them.
    let outline = if w >= 6.0 {
        " stroke=\"#343a40\" stroke-width=\"0.8\""
    } else {
        ""
    };
    let plot_h = shown.len() as f64 * ROW_H;
    let width = LABEL_W + n as f64 * w + 16.0;
    let height = TOP + plot_h + AXIS_H;
    let mut s = String::new();
    let _ = write!(
        s,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"timeline\" width=\"{}\" height=\"{}\" viewBox=\"0 0 {} {}\" role=\"img\" aria-labelledby=\"tl-title\">",
        num(width),
        num(height),
        num(width),
        num(height)
    );
    let _ = write!(
        s,
        "<title id=\"tl-title\">Status of {} {} across {} runs, oldest left</title>",
        shown.len(),
        if per_finding { "findings" } else { "vendors" },
        n
    );
    s.push_str("<defs><pattern id=\"hatch\" width=\"4\" height=\"4\" patternUnits=\"userSpaceOnUse\" patternTransform=\"rotate(45)\"><rect width=\"1.6\" height=\"4\" fill=\"#ffffff\" fill-opacity=\"0.85\"/></pattern></defs>");
    // Row labels and cells.
    for (ri, row) in shown.iter().enumerate() {
        let y = TOP + ri as f64 * ROW_H;
        let label = format!(
            "<text x=\"{}\" y=\"{}\" font-size=\"11\" text-anchor=\"end\" fill=\"#1b1f24\">{}<title>{}</title></text>",
            num(LABEL_W - 8.0),
            num(y + ROW_H - 5.5),
            esc_clip(&row.label, 40),
            esc(&row.title)
        );
        match &row.link {
            Some(id) => {
                let _ = write!(s, "<a href=\"#{id}\">{label}</a>");
            }
            None => s.push_str(&label),
        }
        for (ci, cell) in row.cells.iter().enumerate() {
            let x = LABEL_W + ci as f64 * w;
            let run = &r.runs[ci];
            let (fill, word) = match cell.status {
                Some(st) => (status_color(st), st.as_str()),
                None => (NO_DATA, "not seen yet"),
            };
            let class = match cell.status {
                Some(st) => st.as_str(),
                None => "none",
            };
            let _ = write!(
                s,
                "<rect class=\"cell s-{class}\" x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" fill=\"{fill}\"><title>{}: {word}{}</title></rect>",
                num(x),
                num(y + 1.0),
                num((w - gap).max(1.0)),
                num(ROW_H - 2.0),
                escape_html(&run_label(run)),
                if cell.ack { ", acknowledged" } else { "" }
            );
            if cell.ack {
                let _ = write!(
                    s,
                    "<rect class=\"ackmark\" x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" fill=\"url(#hatch)\"{outline}/>",
                    num(x + 0.4),
                    num(y + 1.4),
                    num((w - gap - 0.8).max(0.6)),
                    num(ROW_H - 2.8)
                );
            }
        }
    }
    // Declaration changes: a vertical marker at the left edge of the run's column.
    for (ci, run) in r.runs.iter().enumerate() {
        if !run.declaration_changed {
            continue;
        }
        let x = LABEL_W + ci as f64 * w;
        let _ = write!(
            s,
            "<g class=\"decl\"><title>run {}: declaration changed</title><line x1=\"{x}\" y1=\"{}\" x2=\"{x}\" y2=\"{}\" stroke=\"{DECL}\" stroke-width=\"2\" stroke-dasharray=\"4 2\"/><path d=\"M{} {} l5 -8 h-10 z\" fill=\"{DECL}\"/></g>",
            escape_html(&run_label(run)),
            num(TOP - 4.0),
            num(TOP + plot_h + 2.0),
            num(x),
            num(TOP - 3.0),
            x = num(x)
        );
    }
    // X axis: dates, thinned so that labels never overlap.
    let axis_y = TOP + plot_h;
    let _ = write!(
        s,
        "<line x1=\"{}\" y1=\"{}\" x2=\"{}\" y2=\"{}\" stroke=\"#8c959f\" stroke-width=\"1\"/>",
        num(LABEL_W),
        num(axis_y + 1.0),
        num(LABEL_W + n as f64 * w),
        num(axis_y + 1.0)
    );
    let mut last_year = None;
    for ci in labelled(n, w) {
        let run = &r.runs[ci];
        let cx = LABEL_W + ci as f64 * w + w / 2.0;
        let year = run.started_at.format("%Y").to_string();
        let _ = write!(
            s,
            "<line x1=\"{cx}\" y1=\"{}\" x2=\"{cx}\" y2=\"{}\" stroke=\"#8c959f\"/><text x=\"{cx}\" y=\"{}\" font-size=\"10.5\" text-anchor=\"middle\" fill=\"#1b1f24\">{}</text>",
            num(axis_y + 1.0),
            num(axis_y + 5.0),
            num(axis_y + 16.0),
            run.started_at.format("%b %d"),
            cx = num(cx)
        );
        if last_year.as_ref() != Some(&year) {
            let _ = write!(
                s,
                "<text x=\"{}\" y=\"{}\" font-size=\"10\" text-anchor=\"middle\" fill=\"#5c6670\">{year}</text>",
                num(cx),
                num(axis_y + 29.0)
            );
            last_year = Some(year);
        }
    }
    let _ = write!(
        s,
        "<text x=\"{}\" y=\"{}\" font-size=\"10.5\" text-anchor=\"end\" fill=\"#5c6670\">run date (UTC) →</text>",
        num(LABEL_W - 14.0),
        num(axis_y + 29.0)
    );
    s.push_str("</svg>");

    let mut out = String::from("<div class=\"figure\">");
    out.push_str(&s);
    out.push_str("</div>\n");
    out.push_str(&legend());
    let mut notes = Vec::new();
    if !per_finding {
        notes.push(format!(
            "{} findings: one row per vendor, colored by the most urgent status of its findings in each run.",
            r.lifecycles.len()
        ));
    }
    if hidden > 0 {
        notes.push(format!(
            "{hidden} more row{} not drawn (the tables below list everything).",
            if hidden == 1 { "" } else { "s" }
        ));
    }
    if !notes.is_empty() {
        let _ = writeln!(out, "<p class=\"note\">{}</p>", notes.join(" "));
    }
    Some(out)
}

fn swatch(fill: &str, hatch: bool) -> String {
    let overlay = if hatch {
        "<path d=\"M0 12 L12 0 M-3 3 L3 -3 M9 15 L15 9\" stroke=\"#fff\" stroke-width=\"1.6\"/><rect x=\"0.5\" y=\"0.5\" width=\"11\" height=\"11\" fill=\"none\" stroke=\"#343a40\"/>"
    } else {
        ""
    };
    format!(
        "<svg width=\"12\" height=\"12\" viewBox=\"0 0 12 12\" aria-hidden=\"true\"><rect width=\"12\" height=\"12\" fill=\"{fill}\"/>{overlay}</svg>"
    )
}

fn legend() -> String {
    let mut s = String::from("<p class=\"legend note\">");
    for st in [
        Status::New,
        Status::Persisting,
        Status::Regressed,
        Status::Resolved,
        Status::Unverified,
    ] {
        let _ = write!(
            s,
            "{} {} &#160; ",
            swatch(status_color(st), false),
            st.as_str()
        );
    }
    let _ = write!(s, "{} not seen yet &#160; ", swatch(NO_DATA, false));
    let _ = write!(
        s,
        "{} acknowledged (hatched) &#160; ",
        swatch(status_color(Status::Persisting), true)
    );
    let _ = write!(
        s,
        "<svg width=\"12\" height=\"12\" viewBox=\"0 0 12 12\" aria-hidden=\"true\"><line x1=\"6\" y1=\"0\" x2=\"6\" y2=\"12\" stroke=\"{DECL}\" stroke-width=\"2\" stroke-dasharray=\"3 2\"/></svg> declaration changed"
    );
    s.push_str("</p>\n");
    s
}

/// One vendor's objection outcome per run, as a strip of cells (hover: run and outcome).
pub(crate) fn objection_strip(r: &DriftReport, runs: &[VendorRun]) -> String {
    let n = r.runs.len().max(runs.len());
    if n == 0 {
        return String::new();
    }
    let by_run: HashMap<i64, &VendorRun> = runs.iter().map(|v| (v.run_id, v)).collect();
    let w = cell_w(n);
    let gap = if w >= 6.0 { 1.0 } else { 0.0 };
    let width = n as f64 * w + 2.0;
    let mut s = format!(
        "<div class=\"figure\"><svg xmlns=\"http://www.w3.org/2000/svg\" class=\"strip\" width=\"{}\" height=\"30\" viewBox=\"0 0 {} 30\" role=\"img\"><title>Objection honoured, per run, oldest left</title>",
        num(width),
        num(width)
    );
    for (ci, run) in r.runs.iter().enumerate() {
        let v = by_run.get(&run.id);
        let o = v.and_then(|v| v.objection);
        let word = match (v, o) {
            (None, _) => "no data".to_string(),
            (Some(_), None) => "no legitimate-interest purpose".to_string(),
            (Some(v), Some(o)) => {
                format!(
                    "objection honoured: {}; {} record(s) after the objection",
                    o.as_str(),
                    v.objected
                )
            }
        };
        let _ = write!(
            s,
            "<rect class=\"ocell\" x=\"{}\" y=\"1\" width=\"{}\" height=\"14\" fill=\"{}\"><title>{}: {}</title></rect>",
            num(ci as f64 * w),
            num((w - gap).max(1.0)),
            objection_color(o),
            escape_html(&run_label(run)),
            escape_html(&word)
        );
    }
    if let (Some(first), Some(last)) = (r.runs.first(), r.runs.last()) {
        let _ = write!(
            s,
            "<text x=\"0\" y=\"27\" font-size=\"10\" fill=\"#5c6670\">{}</text><text x=\"{}\" y=\"27\" font-size=\"10\" text-anchor=\"end\" fill=\"#5c6670\">{}</text>",
            first.started_at.format("%Y-%m-%d"),
            num(n as f64 * w),
            last.started_at.format("%Y-%m-%d")
        );
    }
    s.push_str("</svg></div>\n<p class=\"legend note\">");
    for (o, word) in [
        (Objection::Honoured, "honoured (yes)"),
        (Objection::NotHonoured, "NOT honoured (NO)"),
        (Objection::Unverified, "unverified"),
        (Objection::NotChecked, "not checked"),
        (Objection::Absent, "absent / no data"),
    ] {
        let _ = write!(
            s,
            "{} {word} &#160; ",
            swatch(objection_color(Some(o)), false)
        );
    }
    s.push_str("</p>\n");
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn date_labels_never_overlap_and_thin_with_many_runs() {
        for n in [1usize, 2, 30, 90, 365, 1000] {
            let w = cell_w(n);
            let cols = labelled(n, w);
            assert_eq!(cols.first(), Some(&0), "{n}");
            for pair in cols.windows(2) {
                let gap = (pair[1] - pair[0]) as f64 * w;
                assert!(
                    gap >= MIN_LABEL_PX,
                    "{n} runs: labels {pair:?} {gap}px apart"
                );
            }
            // Enough labels to read the axis: at least one per ~150px of plot.
            let plot = n as f64 * w;
            assert!(
                cols.len() as f64 >= (plot / 150.0).floor().min(n as f64),
                "{n}"
            );
        }
        assert!(cell_w(365) * 365.0 <= PLOT_W + 0.001);
        assert_eq!(num(2.0), "2");
        assert_eq!(num(2.5), "2.5");
    }
}

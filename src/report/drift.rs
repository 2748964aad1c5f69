//! The drift pack rendered as terminal tables or Markdown (laying out its view model,
//! [`DriftView`]) or JSON, with the same escaping and clipping rules as the run report.
//! Summary first, then the findings' lifecycles, inventory drift, declaration changes,
//! one section per vendor (legitimate-interest vendors first) and the acknowledgements.

use super::view::{
    known_text, AckRow, DeclarationRow, DriftProblem, DriftView, LifecycleRow, MismatchRow,
    RunMatrix, ACK_COLUMNS, DECLARATION_COLUMNS, INVENTORY_COLUMNS, LIFECYCLE_COLUMNS,
    MISMATCH_COLUMNS, PROBLEM_COLUMNS, RETENTION_COLUMNS,
};
use super::{clip, Format};
use crate::drift::inventory::{lifetime_text, retention_text};
use crate::drift::VendorSection;
pub use crate::drift::{DriftReport, DRIFT_SCHEMA_VERSION};
use tabled::builder::Builder;
use tabled::settings::Style;

use super::view::drift_date as date;

/// A table: the header row, then one row of cells per item.
fn table<T, const N: usize>(
    columns: [&str; N],
    items: impl IntoIterator<Item = T>,
    cells: impl Fn(T) -> [String; N],
) -> Builder {
    let mut b = Builder::default();
    b.push_record(columns);
    for item in items {
        b.push_record(cells(item));
    }
    b
}

fn lifecycle_table(rows: &[LifecycleRow], cell: &dyn Fn(&str) -> String) -> Builder {
    table(LIFECYCLE_COLUMNS, rows, |row| {
        let l = row.lifecycle;
        [
            l.current.as_str().to_string(),
            l.severity.clone(),
            cell(&l.code),
            l.scenario
                .as_deref()
                .map(cell)
                .unwrap_or_else(|| "-".into()),
            cell(&l.subject),
            l.first_seen.format("%Y-%m-%d %H:%M").to_string(),
            l.last_seen.format("%Y-%m-%d %H:%M").to_string(),
            format!("{}/{}", l.runs_seen, l.runs_checked),
            cell(&row.notes()),
        ]
    })
}

fn problem_table(rows: &[DriftProblem], cell: &dyn Fn(&str) -> String) -> Builder {
    table(PROBLEM_COLUMNS, rows, |p| {
        [
            p.now.clone(),
            p.severity.to_string(),
            cell(p.code),
            cell(p.subject),
            cell(&p.scenarios_text()),
            p.first_seen.format("%Y-%m-%d %H:%M").to_string(),
            p.last_seen.format("%Y-%m-%d %H:%M").to_string(),
            p.seen_checked.clone(),
            cell(&p.notes),
        ]
    })
}

fn inventory_table(
    changes: &[crate::drift::InventoryChange],
    cell: &dyn Fn(&str) -> String,
) -> Builder {
    table(INVENTORY_COLUMNS, changes, |c| {
        [
            date(&c.at),
            format!("#{} (vs #{})", c.run_id, c.against_run),
            cell(&c.scenario),
            c.change.as_str().to_string(),
            c.kind.as_str().to_string(),
            cell(&c.item),
            c.vendor.as_deref().map(cell).unwrap_or_else(|| "-".into()),
            c.before.as_deref().map(cell).unwrap_or_default(),
            c.after.as_deref().map(cell).unwrap_or_default(),
            known_text(c).map(cell).unwrap_or_default(),
        ]
    })
}

fn declaration_table(rows: &[DeclarationRow], cell: &dyn Fn(&str) -> String) -> Builder {
    table(DECLARATION_COLUMNS, rows, |row| {
        let d = row.change;
        let changes = if d.changes.is_empty() {
            "(the file changed; no change to the declared vendors and purposes)".to_string()
        } else {
            d.changes.join("; ")
        };
        [
            date(&d.at),
            format!("#{} (vs #{})", d.run_id, d.previous_run),
            row.files_text(", "),
            cell(&changes),
            if d.resolved_in_run > 0 {
                format!("{} (may be the declaration's doing)", d.resolved_in_run)
            } else {
                "0".to_string()
            },
        ]
    })
}

fn retention_table(v: &VendorSection, cell: &dyn Fn(&str) -> String) -> Builder {
    table(RETENTION_COLUMNS, &v.retention, |r| {
        [
            cell(&r.cookie),
            retention_text(r.declared_secs),
            lifetime_text(r.lifetime_secs),
            lifetime_text(Some(r.over_by_secs)),
            format!("{}/{}", r.runs_over, r.runs_seen),
            date(&r.first_over),
            date(&r.last_over),
            if r.still_over { "over" } else { "conforms" }.to_string(),
        ]
    })
}

fn mismatch_table(rows: &[MismatchRow], cell: &dyn Fn(&str) -> String) -> Builder {
    table(MISMATCH_COLUMNS, rows, |row| {
        let m = row.mismatch;
        let evidence = m
            .evidence
            .as_ref()
            .map(|e| {
                format!(
                    "{} at {} on {} ({})",
                    row.target.unwrap_or_default(),
                    e.time.format("%Y-%m-%d %H:%M:%S"),
                    e.page,
                    e.phase
                )
            })
            .unwrap_or_default();
        let event = if row.resolved_with_policy {
            "resolved (policy changed)".to_string()
        } else {
            m.event.as_str().to_string()
        };
        [
            date(&m.at),
            format!("#{}", m.run_id),
            event,
            m.severity.clone(),
            cell(&m.code),
            m.scenario
                .as_deref()
                .map(cell)
                .unwrap_or_else(|| "-".into()),
            cell(&evidence),
            cell(&m.rule),
        ]
    })
}

fn ack_table(rows: &[AckRow], cell: &dyn Fn(&str) -> String) -> Builder {
    table(ACK_COLUMNS, rows, |row| {
        let a = row.ack;
        [
            a.status.as_str().to_string(),
            a.fingerprint.clone(),
            cell(&a.owner),
            date(&a.expires),
            cell(&a.reason),
            a.location.as_deref().map(cell).unwrap_or_default(),
        ]
    })
}

/// A section: a heading and either a table or a "none" line.
struct Out {
    text: String,
    markdown: bool,
}

impl Out {
    fn heading(&mut self, level: usize, s: &str) {
        if self.markdown {
            self.text
                .push_str(&format!("{} {}\n\n", "#".repeat(level), s));
        } else {
            let underline = if level <= 2 { '=' } else { '-' };
            self.text.push_str(&format!(
                "{s}\n{}\n",
                underline.to_string().repeat(s.chars().count().min(100))
            ));
        }
    }

    fn line(&mut self, s: &str) {
        if self.markdown {
            self.text.push_str(&format!("- {s}\n"));
        } else {
            self.text.push_str(&format!("  {s}\n"));
        }
    }

    fn end_lines(&mut self) {
        self.text.push('\n');
    }

    fn table(&mut self, b: Builder, empty: &str) {
        if b.count_records() <= 1 {
            self.text.push_str(&format!("  ({empty})\n\n"));
            return;
        }
        let mut t = b.build();
        if self.markdown {
            t.with(Style::markdown());
            self.text.push_str(&t.to_string());
            self.text.push_str("\n\n");
        } else {
            t.with(Style::psql());
            for line in t.to_string().lines() {
                self.text.push_str(line.trim_end());
                self.text.push('\n');
            }
            self.text.push('\n');
        }
    }
}

pub(super) fn render_text(view: &DriftView, markdown: bool) -> String {
    let r = view.report;
    let md_cell = |s: &str| super::markdown::cell(s);
    let term_cell = |s: &str| clip(s, 60);
    let cell: &dyn Fn(&str) -> String = if markdown { &md_cell } else { &term_cell };
    // Prose lines (headings, the summary, a vendor's facts) are not table cells: longer.
    let term_line = |s: &str| clip(s, 240);
    let line: &dyn Fn(&str) -> String = if markdown { &md_cell } else { &term_line };
    let mut o = Out {
        text: String::new(),
        markdown,
    };
    o.heading(
        1,
        &format!(
            "Drift of {} from {} to {}",
            line(view.summary.site),
            view.summary.since,
            view.summary.until
        ),
    );
    for l in &view.summary.lines {
        o.line(l);
    }
    o.end_lines();
    let legend = RunMatrix::legend(&view.matrices);
    if !legend.is_empty() {
        o.heading(2, "Vendors by scenario");
        for m in &view.matrices {
            o.heading(3, &m.title);
            if markdown {
                super::markdown::matrix_table(&mut o.text, &m.matrix);
            } else {
                super::table::matrix_table(&mut o.text, &m.matrix);
            }
        }
        if markdown {
            super::markdown::matrix_legend(&mut o.text, &legend);
        } else {
            super::table::matrix_legend(&mut o.text, &legend);
        }
    }
    if view.grouped {
        o.heading(
            2,
            &format!(
                "Problems ({} from {} findings; --ungrouped lists every finding)",
                view.problems.len(),
                view.lifecycles.len()
            ),
        );
        o.table(
            problem_table(&view.problems, cell),
            "no findings in the window",
        );
    } else {
        o.heading(2, "Findings");
        o.table(
            lifecycle_table(&view.lifecycles, cell),
            "no findings in the window",
        );
    }
    o.heading(2, "Inventory drift");
    o.table(
        inventory_table(&r.inventory, cell),
        "no vendor, host or cookie appeared, went or changed",
    );
    // The terminal's cells are clipped: what the knowledge bases say, in whole lines.
    if !markdown && !view.known.is_empty() {
        o.line("Known (the knowledge bases' say, apart from the declared map):");
        for (item, known) in &view.known {
            o.line(&format!("  {}: {}", line(item), line(known)));
        }
        o.end_lines();
    }
    o.heading(2, "Declaration changes");
    o.table(
        declaration_table(&view.declarations, cell),
        "the scenario file and policy did not change",
    );
    o.heading(2, "Vendors");
    if view.vendors.is_empty() {
        o.line("(no declared vendor and no vendor activity in the window)");
        o.end_lines();
    }
    for vv in &view.vendors {
        let v = vv.section;
        o.heading(3, &line(&vv.heading));
        for l in &vv.lines {
            o.line(&line(l));
        }
        o.end_lines();
        if !v.retention.is_empty() {
            o.table(retention_table(v, cell), "");
        }
        if !v.mismatches.is_empty() {
            o.table(mismatch_table(&vv.mismatches, cell), "");
        }
        if !v.inventory.is_empty() {
            o.table(inventory_table(&v.inventory, cell), "");
        }
    }
    o.heading(2, "Acknowledgements");
    o.table(
        ack_table(&view.acks, cell),
        "no acknowledgements for this site",
    );
    o.text
}

/// The pack in `format` (see [`super::Reporter::render_drift`]).
pub fn render_drift(format: Format, r: &DriftReport) -> String {
    super::reporter(format).render_drift(r)
}

/// The pack as JSON (`schema_version` [`DRIFT_SCHEMA_VERSION`], docs/drift.md).
pub(super) fn drift_json(r: &DriftReport) -> String {
    let mut s = serde_json::to_string_pretty(r).unwrap_or_else(|e| {
        serde_json::json!({ "schema_version": DRIFT_SCHEMA_VERSION, "error": e.to_string() })
            .to_string()
    });
    s.push('\n');
    s
}

//! One vendor's section of the LIA review pack: declared purposes and bases,
//! declaration history, objection honoured per run, unauthorized fires, retention
//! conformity, mismatches with their evidence, inventory changes.

use super::drift::counts_line;
use super::svg::objection_strip;
use super::{
    anchor, badge, code, date, datetime, escape_html, event_badge, id_ranges, objection_badge, opt,
    severity_badge, text, Table,
};
use crate::drift::inventory::{lifetime_text, retention_text};
use crate::drift::{DriftReport, InventoryChange, Objection, VendorRun};
use crate::model::LegalBasis;
use crate::report::view::{
    inventory_page_columns, known_text, MismatchRow, VendorView, MISMATCH_PAGE_COLUMNS,
    PURPOSE_PAGE_COLUMNS, RETENTION_PAGE_COLUMNS, VENDOR_RUN_PAGE_COLUMNS,
};
use std::fmt::Write as _;

fn evidence_cell(row: &MismatchRow) -> String {
    let Some(e) = &row.mismatch.evidence else {
        return "-".to_string();
    };
    let target = row.target.map(code).unwrap_or_else(|| "-".into());
    let mut s = format!(
        "{} {} at {}<br>page {}<br>{}",
        code(&e.scenario),
        text(&e.phase),
        e.time.format("%Y-%m-%d %H:%M:%S UTC"),
        code(&e.page),
        target
    );
    if let Some(d) = &row.detail {
        let _ = write!(s, "<br>{}", text(d));
    }
    s
}

fn mismatches(b: &mut String, rows: &[MismatchRow]) {
    let mut t = Table::new("mismatches", &MISMATCH_PAGE_COLUMNS);
    for row in rows {
        let m = row.mismatch;
        let mut event = event_badge(m.event);
        if row.resolved_with_policy {
            event.push_str("<br><span class=\"warn\">policy changed in this run: may be the declaration's doing</span>");
        }
        t.row(&[
            event,
            format!("#{}<br>{}", m.run_id, datetime(&m.at)),
            format!(
                "{} {}<br>{} in {}",
                severity_badge(&m.severity),
                code(&m.code),
                code(&m.subject),
                opt(m.scenario.as_deref())
            ),
            format!(
                "{}<br><span class=\"note\">rule: {}</span>",
                text(&m.message),
                text(&m.rule)
            ),
            evidence_cell(row),
        ]);
    }
    b.push_str(&t.finish());
}

pub(super) fn inventory_table(b: &mut String, changes: &[InventoryChange], with_vendor: bool) {
    let mut t = Table::new("inventory", &inventory_page_columns(with_vendor));
    for c in changes {
        let mut row = vec![
            format!(
                "#{} <span class=\"note\">vs #{}</span><br>{}",
                c.run_id,
                c.against_run,
                date(&c.at)
            ),
            code(&c.scenario),
            escape_html(c.kind.as_str()),
            badge(
                match c.change {
                    crate::drift::Change::Added => "new",
                    crate::drift::Change::Removed => "resolved",
                    crate::drift::Change::Changed => "persisting",
                },
                c.change.as_str(),
            ),
            code(&c.item),
        ];
        if with_vendor {
            row.push(opt(c.vendor.as_deref()));
        }
        row.push(match (&c.before, &c.after) {
            (None, None) => "-".to_string(),
            (a, z) => format!("{} → {}", opt(a.as_deref()), opt(z.as_deref())),
        });
        if with_vendor {
            row.push(opt(known_text(c)));
        }
        t.row(&row);
    }
    b.push_str(&t.finish());
}

pub(super) fn vendor(b: &mut String, r: &DriftReport, i: usize, vv: &VendorView) {
    let v = vv.section;
    let _ = write!(
        b,
        "<section class=\"vendor\" id=\"{}\"><h3>{}",
        anchor("vendor", i, &v.vendor),
        code(&v.vendor)
    );
    if let Some(name) = &v.name {
        let _ = write!(b, " {}", text(name));
    }
    if v.legitimate_interest {
        b.push_str(" <span class=\"b b-li\">legitimate interest</span>");
    }
    if !v.declared {
        b.push_str(" <span class=\"b b-bad\">not in the latest declaration</span>");
    }
    b.push_str("</h3>\n<dl class=\"meta\">");
    let suppression = match &v.suppression {
        Some(rate) => {
            let s = escape_html(&rate.describe());
            if rate.rate.is_some_and(|x| x < 1.0) {
                format!("<span class=\"warn\">{s}</span> of the runs that checked it")
            } else {
                format!("{s} of the runs that checked it")
            }
        }
        None => "not applicable (no legitimate-interest purpose)".to_string(),
    };
    for (k, val) in [
        ("Findings now", counts_line(&v.findings)),
        ("Objection honoured", suppression),
        (
            "Unauthorized fires",
            if v.unauthorized_fires > 0 {
                format!(
                    "<span class=\"warn\">{}</span> over the window",
                    v.unauthorized_fires
                )
            } else {
                "0".to_string()
            },
        ),
        (
            "Retention",
            format!(
                "{} cookie(s) over their declared retention, {} still over",
                v.retention.len(),
                vv.retention_still_over
            ),
        ),
    ] {
        let _ = write!(b, "<dt>{k}</dt><dd>{val}</dd>");
    }
    b.push_str("</dl>\n<h4>Declared purposes (latest declaration)</h4>\n");
    if v.purposes.is_empty() {
        b.push_str("<p class=\"note\">None declared.</p>\n");
    } else {
        let mut t = Table::new("purposes", &PURPOSE_PAGE_COLUMNS);
        for p in &v.purposes {
            let basis = if p.basis == LegalBasis::LegitimateInterest {
                format!("<strong>{}</strong>", text(p.basis.as_str()))
            } else {
                text(p.basis.as_str())
            };
            t.row(&[
                text(&p.purpose),
                basis,
                if p.strictly_necessary { "yes" } else { "no" }.to_string(),
                p.tcf_purpose
                    .map(|n| n.to_string())
                    .unwrap_or_else(|| "-".into()),
            ]);
        }
        b.push_str(&t.finish());
    }
    b.push_str("<h4>Declaration history</h4>\n");
    if v.declaration_history.is_empty() {
        b.push_str("<p class=\"note\">Unchanged over the window.</p>\n");
    } else {
        b.push_str("<ul class=\"plain\">");
        for d in &v.declaration_history {
            let _ = write!(
                b,
                "<li>run #{} ({}): {}</li>",
                d.run_id,
                date(&d.at),
                text(&d.change)
            );
        }
        b.push_str("</ul>\n");
    }
    if v.legitimate_interest || v.unauthorized_fires > 0 {
        vendor_runs(b, r, vv);
    }
    if !v.retention.is_empty() {
        b.push_str("<h4>Retention conformity</h4>\n");
        let mut t = Table::new("retention", &RETENTION_PAGE_COLUMNS);
        for x in &v.retention {
            t.row_class(
                if x.still_over { "hl" } else { "" },
                &[
                    code(&x.cookie),
                    escape_html(&retention_text(x.declared_secs)),
                    escape_html(&lifetime_text(x.lifetime_secs)),
                    escape_html(&retention_text(x.over_by_secs)),
                    format!("{} / {}", x.runs_over, x.runs_seen),
                    format!(
                        "{} / {} (run #{})",
                        date(&x.first_over),
                        date(&x.last_over),
                        x.last_run
                    ),
                    if x.still_over {
                        badge("bad", "still over")
                    } else {
                        badge("ok", "conforms now")
                    },
                ],
            );
        }
        b.push_str(&t.finish());
    }
    let _ = writeln!(b, "<h4>Mismatches ({})</h4>", v.mismatches.len());
    if v.mismatches.is_empty() {
        b.push_str("<p class=\"note\">No policy-to-implementation mismatch in the window.</p>\n");
    } else {
        mismatches(b, &vv.mismatches);
    }
    if !v.inventory.is_empty() {
        let _ = writeln!(b, "<h4>Inventory changes ({})</h4>", v.inventory.len());
        inventory_table(b, &v.inventory, false);
    }
    b.push_str("</section>\n");
}

fn vendor_runs(b: &mut String, r: &DriftReport, vv: &VendorView) {
    let v = vv.section;
    b.push_str("<h4>Per run</h4>\n");
    if v.legitimate_interest {
        b.push_str(&objection_strip(r, &v.runs));
        for (o, ids) in &vv.objection_runs {
            let _ = writeln!(
                b,
                "<p{}>Objection honoured {} in {} run(s): {}</p>",
                if *o == Objection::NotHonoured {
                    " class=\"warn\""
                } else {
                    ""
                },
                objection_badge(*o),
                ids.len(),
                id_ranges(ids)
            );
        }
    }
    if vv.fired.is_empty() {
        b.push_str("<p>Unauthorized records: none in any run.</p>\n");
    } else {
        let parts: Vec<String> = vv
            .fired_groups
            .iter()
            .map(|(ids, n)| {
                if ids.len() > 1 {
                    format!("{} ({n} each)", id_ranges(ids))
                } else {
                    format!("{} ({n})", id_ranges(ids))
                }
            })
            .collect();
        let _ = writeln!(
            b,
            "<p class=\"warn\">Unauthorized records in {} of {} runs: {}</p>",
            vv.fired.len(),
            v.runs.len(),
            parts.join("; ")
        );
    }
    if !v.legitimate_interest {
        return;
    }
    // The runs with something to say about the objection, in full.
    let rows: Vec<&VendorRun> = v
        .runs
        .iter()
        .filter(|x| {
            x.unauthorized > 0
                || x.objected > 0
                || matches!(
                    x.objection,
                    Some(Objection::NotHonoured | Objection::Unverified)
                )
        })
        .collect();
    if rows.is_empty() {
        return;
    }
    let mut t = Table::new("vendor-runs", &VENDOR_RUN_PAGE_COLUMNS);
    for x in rows {
        let hl = x.unauthorized > 0 || x.objection == Some(Objection::NotHonoured);
        t.row_class(
            if hl { "hl" } else { "" },
            &[
                format!("#{} {}", x.run_id, date(&x.started_at)),
                x.requests.to_string(),
                x.cookie_writes.to_string(),
                x.storage_writes.to_string(),
                x.unauthorized.to_string(),
                x.objected.to_string(),
                x.objection
                    .map(objection_badge)
                    .unwrap_or_else(|| "-".into()),
            ],
        );
    }
    b.push_str(&t.finish());
}

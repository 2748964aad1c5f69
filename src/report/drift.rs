//! The drift view of a site's history: lifecycle of every finding in a window. Rendered
//! in the three formats of the run report, with the same escaping and clipping rules.

use super::{clip, Format};
use crate::drift::Lifecycle;
pub use crate::drift::{DriftReport, DRIFT_SCHEMA_VERSION};
use tabled::builder::Builder;
use tabled::settings::Style;

trait Counts {
    fn counts(&self) -> String;
}

impl Counts for DriftReport {
    fn counts(&self) -> String {
        let mut parts = Vec::new();
        for s in [
            crate::drift::Status::New,
            crate::drift::Status::Regressed,
            crate::drift::Status::Persisting,
            crate::drift::Status::Unverified,
            crate::drift::Status::Resolved,
        ] {
            let n = self.lifecycles.iter().filter(|l| l.current == s).count();
            parts.push(format!("{n} {}", s.as_str()));
        }
        parts.join(", ")
    }
}

fn note(l: &Lifecycle) -> String {
    match l.timeline.last() {
        Some(s) if s.status == crate::drift::Status::Resolved && s.map_changed => {
            "resolved in a run whose policy changed".to_string()
        }
        _ => String::new(),
    }
}

fn rows(r: &DriftReport, cell: impl Fn(&str) -> String) -> Builder {
    let mut b = Builder::default();
    b.push_record([
        "status",
        "severity",
        "code",
        "scenario",
        "subject",
        "first seen",
        "last seen",
        "seen/checked",
        "note",
    ]);
    for l in &r.lifecycles {
        b.push_record([
            l.current.as_str().to_string(),
            l.severity.clone(),
            cell(&l.code),
            l.scenario
                .as_deref()
                .map(&cell)
                .unwrap_or_else(|| "-".into()),
            cell(&l.subject),
            l.first_seen.format("%Y-%m-%d %H:%M").to_string(),
            l.last_seen.format("%Y-%m-%d %H:%M").to_string(),
            format!("{}/{}", l.runs_seen, l.runs_checked),
            note(l),
        ]);
    }
    b
}

pub fn render_drift(format: Format, r: &DriftReport) -> String {
    let header = format!(
        "Drift of {} from {} to {}: {} run(s); findings now {}",
        clip(&r.site, 60),
        r.since.format("%Y-%m-%d"),
        r.until.format("%Y-%m-%d"),
        r.runs.len(),
        r.counts()
    );
    match format {
        Format::Html => super::html::render_drift_html(r),
        Format::Json => {
            let mut s = serde_json::to_string_pretty(r).unwrap_or_else(|e| {
                serde_json::json!({ "schema_version": DRIFT_SCHEMA_VERSION, "error": e.to_string() })
                    .to_string()
            });
            s.push('\n');
            s
        }
        Format::Table => {
            let mut out = format!("{header}\n\n");
            if r.lifecycles.is_empty() {
                out.push_str("  (no findings in the window)\n");
                return out;
            }
            let mut t = rows(r, |s| clip(s, 60)).build();
            t.with(Style::psql());
            for line in t.to_string().lines() {
                out.push_str(line.trim_end());
                out.push('\n');
            }
            out
        }
        Format::Markdown => {
            let mut out = format!("# {}\n\n", header.replace('|', "\\|"));
            if r.lifecycles.is_empty() {
                out.push_str("No findings in the window.\n");
                return out;
            }
            let mut t = rows(r, super::markdown::code).build();
            t.with(Style::markdown());
            out.push_str(&t.to_string());
            out.push('\n');
            out
        }
    }
}

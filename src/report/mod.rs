//! Reporters: one [`AuditReport`] (or one [`DriftReport`]), four renderings (terminal
//! table, JSON, Markdown, a self-contained HTML page) behind the [`Reporter`] trait. The
//! human formats lay out the run report's view model ([`view`]); JSON serialises the
//! data model itself. Rendering is pure and deterministic: no clock, no
//! terminal detection, never ANSI escape codes. The human formats list the findings
//! grouped into problems ([`Grouping`]; `--ungrouped` for one row per finding) after a
//! vendor × scenario matrix ([`view::Matrix`]); both are derived in the view model.

pub mod ci;
pub mod drift;
pub mod fleet;
pub mod har;
pub mod html;
mod json;
mod markdown;
mod table;
pub mod view;

#[cfg(test)]
mod snapshots;
#[cfg(test)]
pub(crate) mod tests;

pub use fleet::render_fleet;
pub use html::HtmlReporter;
pub use json::{JsonReporter, SCHEMA_VERSION};
pub use markdown::MarkdownReporter;
pub use table::TableReporter;

pub use crate::outcome::{AuditReport, VisitSummary};

use crate::ack::{AckRecord, AckStatus};
use crate::analysis::Finding;
use crate::drift::DriftReport;
use crate::exit::ExitStatus;
use crate::model::RunStatus;
use std::fmt;
use std::str::FromStr;

/// Said where a scenario read no consent signal at all.
pub const NO_SIGNALS: &str =
    "no consent signal read (no __tcfapi, no TC-string cookie or parameter, no Consent Mode parameters, no GPC)";

/// What a scenario's signal view says when it holds no signal.
pub fn no_signals_text(v: &VisitSummary) -> &'static str {
    if v.not_observed().is_some() {
        "none read (the scenario was not observed)"
    } else {
        NO_SIGNALS
    }
}

/// `__tcfapi getTCData (x3, 2 distinct)` / `vendor requests (x12)`.
pub fn signal_source_text(l: &crate::signals::SignalLine) -> String {
    match (l.count, l.distinct) {
        (1, _) => l.source.clone(),
        (n, 1) => format!("{} (x{n})", l.source),
        (n, d) => format!("{} (x{n}, {d} distinct; last shown)", l.source),
    }
}

/// How the human formats list the findings: grouped into problems (one per code and
/// subject, with where it occurred), or one row per finding (`--ungrouped`). JSON,
/// SARIF and JUnit are the same either way (JSON has both `findings[]` and
/// `problems[]`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Grouping {
    #[default]
    Problems,
    Ungrouped,
}

impl Grouping {
    /// `Ungrouped` when `ungrouped` (the CLI's `--ungrouped`).
    pub fn from_flag(ungrouped: bool) -> Grouping {
        if ungrouped {
            Grouping::Ungrouped
        } else {
            Grouping::Problems
        }
    }
}

/// Renders a run report and a drift pack, in one format. An implementation overrides
/// `render` or `render_with` (and `render_drift` or `render_drift_with`); a format
/// without a grouped layout ignores the grouping.
pub trait Reporter {
    fn render(&self, report: &AuditReport) -> String {
        self.render_with(report, Grouping::default())
    }
    fn render_with(&self, report: &AuditReport, _grouping: Grouping) -> String {
        self.render(report)
    }
    fn render_drift(&self, report: &DriftReport) -> String {
        self.render_drift_with(report, Grouping::default())
    }
    fn render_drift_with(&self, report: &DriftReport, _grouping: Grouping) -> String {
        self.render_drift(report)
    }
}

/// Lays out a report in one human format (table, Markdown, HTML): a run report's
/// sections, built once as [`view::RunView`], and a drift pack's, built once as
/// [`view::DriftView`]. The layout only escapes
/// and arranges what it is given. Every layout is a [`Reporter`].
pub trait Layout {
    fn run(&self, view: &view::RunView) -> String;
    fn drift(&self, view: &view::DriftView) -> String;
}

impl<L: Layout> Reporter for L {
    fn render_with(&self, report: &AuditReport, grouping: Grouping) -> String {
        self.run(&view::RunView::with(report, grouping))
    }

    fn render_drift_with(&self, report: &DriftReport, grouping: Grouping) -> String {
        self.drift(&view::DriftView::with(report, grouping))
    }
}

/// Output format of a report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Format {
    /// Terminal tables.
    #[default]
    Table,
    /// Machine-readable JSON (schema_version 1, documented in docs/findings.md).
    Json,
    /// Markdown, for tickets and pull requests (`md` parses too).
    Markdown,
    /// One HTML page (inline CSS, no JavaScript, nothing fetched but the run's screenshot
    /// files), printable.
    Html,
    /// SARIF 2.1.0, for code scanning (a run report only).
    Sarif,
    /// JUnit XML, for CI test views (a run report only).
    Junit,
    /// PDF: the HTML layout, printed by Chromium (the command line does the printing,
    /// `browser::print`; [`reporter`] gives the HTML layout it prints).
    Pdf,
}

impl Format {
    pub fn as_str(self) -> &'static str {
        match self {
            Format::Table => "table",
            Format::Json => "json",
            Format::Markdown => "markdown",
            Format::Html => "html",
            Format::Sarif => "sarif",
            Format::Junit => "junit",
            Format::Pdf => "pdf",
        }
    }

    /// Formats printed by a browser from the HTML layout (binary output).
    pub fn is_printed(self) -> bool {
        self == Format::Pdf
    }

    /// Formats of one run only: no drift pack or fleet summary has them.
    pub fn is_run_only(self) -> bool {
        matches!(self, Format::Sarif | Format::Junit)
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Format {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "table" => Ok(Format::Table),
            "json" => Ok(Format::Json),
            "markdown" | "md" => Ok(Format::Markdown),
            "html" => Ok(Format::Html),
            "sarif" => Ok(Format::Sarif),
            "junit" => Ok(Format::Junit),
            "pdf" => Ok(Format::Pdf),
            other => Err(format!(
                "unknown report format {other:?} (expected table, json, markdown, html, sarif, junit or pdf)"
            )),
        }
    }
}

pub fn reporter(format: Format) -> Box<dyn Reporter> {
    match format {
        Format::Table => Box::new(TableReporter::default()),
        Format::Json => Box::new(JsonReporter),
        Format::Markdown => Box::new(MarkdownReporter),
        // The PDF is the HTML layout, printed (one layout, two media).
        Format::Html | Format::Pdf => Box::new(HtmlReporter),
        Format::Sarif => Box::new(ci::SarifReporter),
        Format::Junit => Box::new(ci::JunitReporter),
    }
}

// ---------------------------------------------------------------------------------------
// shared text helpers

/// `850ms`, `12.4s`, `3m 05s`.
pub fn human_ms(ms: u64) -> String {
    if ms < 1000 {
        format!("{ms}ms")
    } else if ms < 60_000 {
        format!("{}.{}s", ms / 1000, (ms % 1000) / 100)
    } else {
        format!("{}m {:02}s", ms / 60_000, (ms % 60_000) / 1000)
    }
}

/// Run status as shown to humans; anything but complete is upper-case.
pub fn run_status_text(status: &RunStatus) -> String {
    match status {
        RunStatus::Complete => "complete".to_string(),
        RunStatus::Running => "RUNNING (never finished)".to_string(),
        RunStatus::Incomplete(r) => format!("INCOMPLETE: {r}"),
        RunStatus::Interrupted(r) => format!("INTERRUPTED: {r}"),
    }
}

/// `2C 21H 10M 0L 1I` (for one-line listings), or `none`.
pub fn counts_short(report: &AuditReport) -> String {
    if report.findings.is_empty() {
        return "none".to_string();
    }
    let letters = ["C", "H", "M", "L", "I"];
    report
        .counts()
        .iter()
        .zip(letters)
        .map(|((_, n), l)| format!("{n}{l}"))
        .collect::<Vec<_>>()
        .join(" ")
}

/// `1 critical, 2 high, 0 medium, 0 low, 1 info`.
pub(crate) fn counts_text(report: &AuditReport) -> String {
    report
        .counts()
        .iter()
        .map(|(s, n)| format!("{n} {s}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The closing verdict, in words. Never reads as clean unless it is.
pub(crate) fn verdict_text(report: &AuditReport) -> String {
    let exit = report.exit_status();
    let n = report.findings.len();
    let not_observed = report.not_observed();
    let new = if report.fail_on_new { "new " } else { "" };
    let acked = report.verdict.acknowledged;
    let fail_on = match report.fail_on {
        Some(s) => format!("fail-on {new}{s}"),
        None => "no fail-on threshold".to_string(),
    };
    match exit {
        ExitStatus::Incomplete => {
            let why = if not_observed.is_empty() {
                format!("the run is {}", run_status_text(&report.status))
            } else {
                let ids: Vec<&str> = not_observed.iter().map(|(s, _)| *s).collect();
                format!(
                    "{} scenario{} NOT OBSERVED ({})",
                    ids.len(),
                    if ids.len() == 1 { "" } else { "s" },
                    ids.join(", ")
                )
            };
            if n == 0 {
                format!(
                    "AUDIT INCOMPLETE, NOT CLEAN: {why}. No findings in what was observed, but what was not observed is unknown. Exit {} ({}).",
                    exit.code(),
                    exit
                )
            } else {
                format!(
                    "AUDIT INCOMPLETE: {why}. {n} finding{} in what was observed{}. Exit {} ({}).",
                    if n == 1 { "" } else { "s" },
                    if acked > 0 {
                        format!(" ({acked} acknowledged)")
                    } else {
                        String::new()
                    },
                    exit.code(),
                    exit
                )
            }
        }
        ExitStatus::Findings => format!(
            "FAILED: {}findings at or above {}{}. Exit {} ({}).",
            if report.fail_on_new {
                "new or regressed "
            } else {
                ""
            },
            report
                .fail_on
                .map(|s| s.as_str())
                .unwrap_or("the threshold"),
            if acked > 0 {
                format!(" ({})", acked_text(acked))
            } else {
                String::new()
            },
            exit.code(),
            exit
        ),
        _ if n == 0 => format!(
            "Clean: every scenario was observed and nothing broke the declared map. Exit {} ({}).",
            exit.code(),
            exit
        ),
        _ if acked > 0 => format!(
            "Every scenario was observed; {n} finding{}, none counting towards {fail_on}: {}. Exit {} ({}).",
            if n == 1 { "" } else { "s" },
            acked_text(acked),
            exit.code(),
            exit
        ),
        _ => format!(
            "Every scenario was observed; {n} finding{} below the threshold ({fail_on}). Exit {} ({}).",
            if n == 1 { "" } else { "s" },
            exit.code(),
            exit
        ),
    }
}

/// `2 acknowledged findings do not count`.
fn acked_text(n: usize) -> String {
    if n == 1 {
        "1 acknowledged finding does not count".to_string()
    } else {
        format!("{n} acknowledged findings do not count")
    }
}

/// One acknowledgement in words, for the "Acknowledgements" listing: who accepted it,
/// until when, why, and where it is written. Not escaped.
pub(crate) fn ack_line(a: &AckRecord) -> String {
    let what = match a.status {
        AckStatus::Active => format!(
            "acknowledged by {} until {}",
            a.owner,
            crate::ack::show_time(a.expires)
        ),
        AckStatus::Expired => format!(
            "acknowledgement EXPIRED on {} (by {}): the finding counts again",
            crate::ack::show_time(a.expires),
            a.owner
        ),
        AckStatus::Unused => format!(
            "matched no finding of this run (by {}, until {})",
            a.owner,
            crate::ack::show_time(a.expires)
        ),
        // A run's snapshot never holds it (`Acks::for_run`); said plainly all the same.
        AckStatus::Pending => format!(
            "not yet in force (by {}, until {})",
            a.owner,
            crate::ack::show_time(a.expires)
        ),
    };
    format!("{what}; reason: {} ({})", a.reason, a.location)
}

/// Escape `s` for display and cut it to at most `max` characters, marking the cut with
/// `...` (see [`crate::text::printable_clipped`]).
pub fn clip(s: &str, max: usize) -> String {
    crate::text::printable_clipped(s, max)
}

/// What the first evidence points at: the request URL, else the cookie.
pub(crate) fn evidence_target(f: &Finding) -> Option<String> {
    let e = f.evidence.first()?;
    e.request_url
        .clone()
        .or_else(|| e.cookie.clone())
        .or_else(|| e.detail.clone())
}

//! The reports' view models: [`RunView`] for a run report, [`DriftView`] for a drift
//! pack. The run report's view model: every section of a report built once, as typed data,
//! from an [`AuditReport`]. The human formats (table, Markdown, HTML) only escape and
//! arrange it ([`super::Layout`]); the JSON stays the serialisation of the report itself.
//!
//! What the view computes (labels, counts, phrases such as the verdict, the counts line,
//! `3 (first 1 shown)`, an acknowledgement in words) is computed here once; the texts
//! are *not* escaped: each format escapes them its own way (the terminal through
//! [`crate::text::printable`], Markdown as code spans or escaped prose, HTML as
//! entities).

mod drift;
mod findings;
mod matrix;
mod problems;
mod visits;

pub use drift::{
    counts_line, date as drift_date, inventory_page_columns, known_text, AckRow, Card,
    DeclarationRow, DriftProblem, DriftSummary, DriftView, LifecycleRow, MismatchRow, RunMatrix,
    RunRow, VendorView, ACK_COLUMNS, ACK_PAGE_COLUMNS, DECLARATION_COLUMNS,
    DECLARATION_PAGE_COLUMNS, INVENTORY_COLUMNS, LIFECYCLE_COLUMNS, LIFECYCLE_PAGE_COLUMNS,
    MISMATCH_COLUMNS, MISMATCH_PAGE_COLUMNS, OBJECTION_ORDER, PROBLEM_COLUMNS,
    PROBLEM_PAGE_COLUMNS, PURPOSE_PAGE_COLUMNS, RESOLVED_WITH_POLICY, RETENTION_COLUMNS,
    RETENTION_PAGE_COLUMNS, RUN_PAGE_COLUMNS, VENDOR_RUN_PAGE_COLUMNS,
};
pub use findings::{
    evidence_columns, seen_suffix, AckLine, EvidenceRow, FindingView, EVIDENCE_COLUMNS,
};
pub use matrix::{Mark, Matrix, MatrixCell, MatrixRow};
pub use problems::{numbers_text, scenario_list, ProblemAck, ProblemView};
pub use visits::{Cell, Column, VisitRow, VisitState, VISIT_COLUMNS};

use super::{counts_text, human_ms, run_status_text, verdict_text, AuditReport};
use crate::ack::AckStatus;
use crate::analysis::Severity;
use crate::exit::ExitStatus;
use crate::model::{RunStatus, Screenshot};
use crate::screenshots::ShotPair;

/// A whole run report, section by section, in the order the formats show them.
pub struct RunView<'a> {
    pub header: Header<'a>,
    /// What each declared vendor did in each scenario (the report opens with it).
    pub matrix: Matrix,
    /// One row per scenario, its cells given by [`VISIT_COLUMNS`].
    pub visits: Vec<VisitRow<'a>>,
    /// `(scenario, reason)` of each scenario not observed.
    pub not_observed: Vec<(&'a str, &'a str)>,
    /// Each visit's warnings, visit by visit.
    pub warnings: Vec<Note<'a>>,
    /// Each consent action in words (how it was performed, what the CMP recorded).
    pub consent_actions: Vec<Note<'a>>,
    /// The consent signals per scenario and phase (a row saying none when a scenario
    /// read none).
    pub signals: Vec<SignalRow<'a>>,
    pub screenshots: Screenshots<'a>,
    pub findings: Vec<FindingView<'a>>,
    /// The findings grouped by code and subject, each with the numbers of its findings.
    pub problems: Vec<ProblemView>,
    /// Lay out the problems (the default), else the ungrouped finding list
    /// (`--ungrouped`).
    pub grouped: bool,
    /// Some finding has an acknowledgement in force or expired (the finding tables get
    /// an ack column).
    pub ack_column: bool,
    /// The acknowledgements that matched no finding of the run.
    pub unused_acks: Vec<AckLine<'a>>,
    /// The run has acknowledgements at all (the "Acknowledgements" section is shown).
    pub any_acks: bool,
    /// The run discovered its pages (`[site] crawl`): evidence names each page's
    /// template, and the evidence tables get a "Template" column.
    pub templates: bool,
}

/// The report's head: what was audited, how the run went, how it is judged.
pub struct Header<'a> {
    pub site: &'a str,
    pub run_id: Option<i64>,
    /// `complete`, `INCOMPLETE: ...` (see [`run_status_text`]).
    pub status: String,
    pub complete: bool,
    pub scenario_file: &'a str,
    pub db_path: Option<&'a str>,
    /// The data the run ran with: `consentry 0.1.0, autoconsent 16.23.0, CMP profiles
    /// klaro,...@1a2b...`, or `not recorded for this run` for a run stored before consentry
    /// recorded it.
    pub data: String,
    /// Where the run looked from: `eu-de (proxy http://p:3128, locale de-DE, timezone
    /// Europe/Berlin)`, `default (direct, ...)` without `[vantage]`.
    pub vantage: String,
    /// `2026-01-01 10:00:00 UTC`.
    pub started: String,
    /// `12.4s`.
    pub duration: String,
    pub fail_on: Option<Severity>,
    pub fail_on_new: bool,
    pub findings: usize,
    /// `1 critical, 2 high, 0 medium, 0 low, 1 info`.
    pub counts: String,
    pub exit: ExitStatus,
    /// The closing verdict in words ([`verdict_text`]).
    pub verdict: String,
}

impl Header<'_> {
    /// `never`, `high`, or `new or regressed findings at or above high`.
    pub fn fail_on_text(&self) -> String {
        match (self.fail_on, self.fail_on_new) {
            (None, _) => "never".to_string(),
            (Some(s), false) => s.to_string(),
            (Some(s), true) => format!("new or regressed findings at or above {s}"),
        }
    }

    /// `3 (incomplete)`.
    pub fn exit_text(&self) -> String {
        format!("{} ({})", self.exit.code(), self.exit)
    }
}

/// One line about a scenario.
pub struct Note<'a> {
    pub scenario: &'a str,
    pub text: String,
}

/// A row of the consent signals table.
pub enum SignalRow<'a> {
    /// The scenario read no signal: why, in words.
    None {
        scenario: &'a str,
        text: &'static str,
    },
    Read {
        scenario: &'a str,
        phase: &'a str,
        /// `__tcfapi getTCData (x3, 2 distinct; last shown)`.
        source: String,
        summary: &'a str,
    },
}

/// The banner screenshots: a before / after pair per consent action, per scenario.
pub struct Screenshots<'a> {
    /// Pictures with a file.
    pub total: usize,
    /// `8 screenshot(s) of 4 consent action(s) in DIR` (the terminal's one line).
    pub summary: Option<String>,
    /// Scenarios with at least one pair, in visit order.
    pub groups: Vec<ShotGroup<'a>>,
}

pub struct ShotGroup<'a> {
    /// Position of the visit in the run (for anchors).
    pub index: usize,
    pub scenario: &'a str,
    pub pairs: Vec<ShotPair<'a>>,
}

impl<'a> RunView<'a> {
    /// The view with the findings grouped into problems.
    pub fn of(r: &'a AuditReport) -> RunView<'a> {
        RunView::with(r, crate::report::Grouping::Problems)
    }

    pub fn with(r: &'a AuditReport, grouping: crate::report::Grouping) -> RunView<'a> {
        let findings = findings::findings(r);
        RunView {
            header: header(r),
            matrix: Matrix::of(r),
            problems: problems::problems(r, &findings),
            grouped: grouping == crate::report::Grouping::Problems,
            visits: r.visits.iter().enumerate().map(VisitRow::of).collect(),
            not_observed: r.not_observed(),
            warnings: r
                .visits
                .iter()
                .flat_map(|v| {
                    v.warnings.iter().map(|w| Note {
                        scenario: &v.scenario,
                        text: w.clone(),
                    })
                })
                .collect(),
            consent_actions: r
                .visits
                .iter()
                .flat_map(|v| {
                    v.consent_actions.iter().map(|a| Note {
                        scenario: &v.scenario,
                        text: a.summary(),
                    })
                })
                .collect(),
            signals: signals(r),
            screenshots: screenshots(r),
            findings,
            ack_column: r
                .acknowledgements
                .iter()
                .any(|a| matches!(a.status, AckStatus::Active | AckStatus::Expired)),
            unused_acks: r.acks_with(AckStatus::Unused).map(AckLine::of).collect(),
            any_acks: !r.acknowledgements.is_empty(),
            templates: r.crawl.is_some(),
        }
    }
}

fn header(r: &AuditReport) -> Header<'_> {
    Header {
        site: &r.site,
        run_id: r.run_id,
        status: run_status_text(&r.status),
        complete: matches!(r.status, RunStatus::Complete),
        scenario_file: &r.scenario_file,
        db_path: r.db_path.as_deref(),
        data: data_text(&r.data_versions),
        vantage: r.vantage.describe(),
        started: r.started_at.format("%Y-%m-%d %H:%M:%S UTC").to_string(),
        duration: human_ms(r.duration_ms()),
        fail_on: r.fail_on,
        fail_on_new: r.fail_on_new,
        findings: r.findings.len(),
        counts: counts_text(r),
        exit: r.exit_status(),
        verdict: verdict_text(r),
    }
}

/// `consentry 0.1.0, autoconsent 16.23.0, CMP profiles klaro,...@1a2b...` (sets joined
/// by `; then `, when a queued fleet's workers differed), or `not recorded for this run`
/// for a run stored before consentry recorded its data.
fn data_text(sets: &[crate::data::DataVersions]) -> String {
    if sets.is_empty() {
        return "not recorded for this run".to_string();
    }
    sets.iter()
        .map(|d| {
            let knowledge = d
                .knowledge
                .as_deref()
                .map(|k| format!(", knowledge {k}"))
                .unwrap_or_default();
            format!(
                "consentry {}, autoconsent {}, CMP profiles {}{knowledge}",
                d.consentry,
                d.autoconsent.as_deref().unwrap_or("not used"),
                d.cmp_profiles
            )
        })
        .collect::<Vec<_>>()
        .join("; then ")
}

fn signals(r: &AuditReport) -> Vec<SignalRow<'_>> {
    let mut rows = Vec::new();
    for v in &r.visits {
        if v.signals.is_empty() {
            rows.push(SignalRow::None {
                scenario: &v.scenario,
                text: super::no_signals_text(v),
            });
        }
        for s in &v.signals {
            rows.push(SignalRow::Read {
                scenario: &v.scenario,
                phase: &s.phase,
                source: super::signal_source_text(s),
                summary: &s.summary,
            });
        }
    }
    rows
}

fn screenshots(r: &AuditReport) -> Screenshots<'_> {
    let with_file = |s: &&Screenshot| s.path.is_some();
    Screenshots {
        total: r
            .visits
            .iter()
            .flat_map(|v| &v.screenshots)
            .filter(with_file)
            .count(),
        summary: crate::screenshots::summary_line(r),
        groups: r
            .visits
            .iter()
            .enumerate()
            .map(|(index, v)| ShotGroup {
                index,
                scenario: &v.scenario,
                pairs: crate::screenshots::pairs(&v.screenshots),
            })
            .filter(|g| !g.pairs.is_empty())
            .collect(),
    }
}

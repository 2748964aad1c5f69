//! The findings section: each finding with its first evidence, its evidence rows and
//! its acknowledgement, in words.

use crate::ack::{AckRecord, AckStatus};
use crate::analysis::{Evidence, Finding};
use crate::knowledge::Known;
use crate::outcome::AuditReport;
use crate::report::{ack_line, evidence_target};

/// One finding, as every format shows it.
pub struct FindingView<'a> {
    /// 1-based position in the run's findings.
    pub number: usize,
    pub finding: &'a Finding,
    /// New or regressed since the previous run (with `--fail-on new:...`).
    pub new: bool,
    /// `3`, or `3 (first 1 shown)` when not every occurrence has its evidence.
    pub occurrences: String,
    /// The first evidence and what it points at (request URL, else cookie, else detail).
    pub first: Option<&'a Evidence>,
    /// The first evidence's phase, marked when logged in ([`phase_label`]).
    pub first_phase: Option<String>,
    pub first_target: Option<String>,
    /// The template of the first evidence's page (with page discovery).
    pub first_template: Option<&'a str>,
    pub evidence: Vec<EvidenceRow<'a>>,
    pub ack: Option<AckLine<'a>>,
    /// `ack`, `EXPIRED` or empty: the marker of the finding tables' ack column.
    pub ack_marker: &'static str,
    /// What the knowledge bases say of the finding's host or cookie (docs/knowledge.md),
    /// from the first evidence that carries it ([`Finding::known`]). Never the declared
    /// vendor.
    pub known: Option<&'a Known>,
    /// [`FindingView::known`] in words, after a "Known" label ([`Known::summary`]):
    /// `TikTok (ByteDance Ltd), category social, by pattern *.tiktok.com in ...`.
    pub known_text: Option<String>,
    /// Who loaded whom, from the page down to the request (docs/findings.md, "Who loaded
    /// whom"): the hops of the first evidence that shows a chain (`www.googletagmanager.com
    /// (google-analytics, declared)`, `analytics.tiktok.com (TikTok, known)`); empty when
    /// none does.
    pub chain: Vec<&'a str>,
}

/// The headers of a finding's evidence table, one per field of [`EvidenceRow`] but the
/// template (see [`evidence_columns`]).
pub const EVIDENCE_COLUMNS: [&str; 6] = [
    "Time (UTC)",
    "Scenario",
    "Phase",
    "Page",
    "Request / cookie",
    "Detail",
];

/// The evidence table's headers: with a "Template" after the page when the run
/// discovered its pages ([`super::RunView::templates`]).
pub fn evidence_columns(templates: bool) -> Vec<&'static str> {
    let mut c = EVIDENCE_COLUMNS.to_vec();
    if templates {
        c.insert(4, "Template");
    }
    c
}

/// One piece of evidence.
pub struct EvidenceRow<'a> {
    /// `2026-01-01 10:00:05.000`.
    pub time: String,
    pub scenario: &'a str,
    /// The phase, marked when logged in: `before-choice, logged in` ([`phase_label`]).
    pub phase: String,
    pub page: &'a str,
    /// The page's template in the run's crawl plan (docs/crawl.md), when it has one.
    pub template: Option<&'a str>,
    /// The request URL, else the cookie.
    pub target: Option<&'a str>,
    /// The evidence's detail, and what is known of its host or cookie after it
    /// ([`Known::describe`]: `GET Image, status 200; known: Bing Ads, category ad, by
    /// pattern *.bing.com in third-party-web 0.30.0`).
    pub detail: Option<String>,
}

/// An acknowledgement and its line in words ([`ack_line`]).
pub struct AckLine<'a> {
    pub record: &'a AckRecord,
    pub line: String,
}

impl<'a> AckLine<'a> {
    pub(super) fn of(a: &'a AckRecord) -> AckLine<'a> {
        AckLine {
            record: a,
            line: ack_line(a),
        }
    }
}

pub(super) fn findings(r: &AuditReport) -> Vec<FindingView<'_>> {
    r.findings
        .iter()
        .enumerate()
        .map(|(i, f)| {
            let ack = r.acknowledgement(f);
            FindingView {
                number: i + 1,
                finding: f,
                new: r.new_fingerprints.contains(&f.fingerprint),
                occurrences: format!(
                    "{}{}",
                    if (f.occurrences as usize) > f.evidence.len() {
                        format!("{} (first {} shown)", f.occurrences, f.evidence.len())
                    } else {
                        f.occurrences.to_string()
                    },
                    seen_suffix(f)
                ),
                first: f.evidence.first(),
                first_phase: f.evidence.first().map(phase_label),
                first_target: evidence_target(f),
                first_template: f.evidence.first().and_then(|e| r.template_of(&e.page)),
                evidence: f.evidence.iter().map(|e| evidence_row(r, e)).collect(),
                ack_marker: match ack.map(|a| a.status) {
                    Some(AckStatus::Active) => "ack",
                    Some(AckStatus::Expired) => "EXPIRED",
                    _ => "",
                },
                ack: ack.map(AckLine::of),
                known: f.known(),
                known_text: f.known().map(Known::summary),
                chain: f
                    .evidence
                    .iter()
                    .find_map(|e| chain_of(e.detail.as_deref()))
                    .unwrap_or_default(),
            }
        })
        .collect()
}

/// The hops of the `chain: a → b` part of an evidence detail (its parts are separated
/// by `; `).
fn chain_of(detail: Option<&str>) -> Option<Vec<&str>> {
    let d = detail?;
    let start = if d.starts_with("chain: ") {
        0
    } else {
        d.find("; chain: ")? + "; ".len()
    };
    let rest = &d[start + "chain: ".len()..];
    let text = rest.find("; ").map_or(rest, |end| &rest[..end]);
    Some(text.split(" → ").collect())
}

fn evidence_row<'a>(r: &'a AuditReport, e: &'a Evidence) -> EvidenceRow<'a> {
    EvidenceRow {
        template: r.template_of(&e.page),
        time: e.time.format("%Y-%m-%d %H:%M:%S%.3f").to_string(),
        scenario: &e.scenario,
        phase: phase_label(e),
        page: &e.page,
        target: e.request_url.as_deref().or(e.cookie.as_deref()),
        detail: detail_text(e),
    }
}

/// An evidence's detail, then [`Known::describe`] of what it is about, `; `-separated.
pub fn detail_text(e: &Evidence) -> Option<String> {
    let known = e.known.as_ref().map(Known::describe);
    match (e.detail.as_deref().filter(|d| !d.is_empty()), known) {
        (Some(d), Some(k)) => Some(format!("{d}; {k}")),
        (Some(d), None) => Some(d.to_string()),
        (None, k) => k,
    }
}

/// What marks evidence observed after the scenario file's `[login]` completed, in every
/// format but JSON (which has `logged_in: true`).
pub const LOGGED_IN: &str = "logged in";

/// An evidence's phase as the reports show it: `before-choice`, or `before-choice,
/// logged in` when it was observed logged in ([`Evidence::logged_in`]).
pub fn phase_label(e: &Evidence) -> String {
    if e.logged_in {
        format!("{}, {LOGGED_IN}", e.phase)
    } else {
        e.phase.clone()
    }
}

/// `, seen 2/3 repetitions, intermittent` (or `, seen 3/3 repetitions`) after a count,
/// for a finding of a run that visited each scenario several times (`audit --repeat`);
/// empty otherwise.
pub fn seen_suffix(f: &Finding) -> String {
    match f.repeat {
        Some(s) if s.intermittent() => {
            format!(", seen {}/{} repetitions, intermittent", s.seen, s.of)
        }
        Some(s) => format!(", seen {}/{} repetitions", s.seen, s.of),
        None => String::new(),
    }
}

#[cfg(test)]
mod chain_tests {
    use super::chain_of;

    #[test]
    fn the_chain_is_read_from_between_the_detail_parts() {
        let d =
            "GET Image, status 200; chain: a.test (x, declared) → b.test; known: B, category ad";
        assert_eq!(
            chain_of(Some(d)),
            Some(vec!["a.test (x, declared)", "b.test"])
        );
        assert_eq!(
            chain_of(Some("chain: … → a.test → b.test")),
            Some(vec!["…", "a.test", "b.test"])
        );
        assert_eq!(chain_of(Some("GET Image, status 200")), None);
        assert_eq!(chain_of(None), None);
    }
}

//! The problems section: the run's findings grouped by code and subject
//! ([`crate::outcome::problems`], derived once there), each problem with its spread
//! (`6/6 scenarios, 3 pages`), its findings' acknowledgement in words and their numbers
//! in the run. The formats lay it out in place of the finding list unless asked for
//! the ungrouped list (`--ungrouped`).

use super::FindingView;
use crate::ack::AckStatus;
use crate::outcome::{AuditReport, Problem, SITE_LEVEL};

/// One problem, as every human format shows it.
pub struct ProblemView {
    /// 1-based position among the run's problems.
    pub number: usize,
    pub problem: Problem,
    /// `6/6 scenarios, 3 pages` ([`Problem::spread`]).
    pub spread: String,
    /// The 1-based numbers of its findings in the run's finding list.
    pub finding_numbers: Vec<usize>,
    /// The message and rule of its first (most severe, first in run order) finding.
    pub message: String,
    pub rule: String,
    /// The first evidence's request URL, else cookie, else detail, of its first finding.
    pub first_target: Option<String>,
    /// Some of its findings are new or regressed (with `--fail-on new:...`).
    pub new: bool,
    pub ack: ProblemAck,
    /// Who loaded whom, from the first of its findings that shows a chain
    /// ([`super::findings::FindingView::chain`]); empty when none does.
    pub chain: Vec<String>,
    /// [`Problem::known`] in words, after a "Known" label
    /// ([`crate::knowledge::Known::summary`]). Never the declared vendor.
    pub known_text: Option<String>,
}

/// The scenarios a problem (of a run or of a drift pack) was seen in, each marked up by
/// the format (`mark`), `, `-joined; `site-level` for a problem of no scenario. Decided
/// here once, so every format says the same.
pub fn scenario_list<S: AsRef<str>>(scenarios: &[S], mark: impl Fn(&str) -> String) -> String {
    if scenarios.is_empty() {
        return SITE_LEVEL.to_string();
    }
    scenarios
        .iter()
        .map(|s| mark(s.as_ref()))
        .collect::<Vec<_>>()
        .join(", ")
}

/// How far a problem's findings are acknowledged.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProblemAck {
    /// None of its findings has an acknowledgement in force or expired.
    None,
    /// Every finding is acknowledged (in force).
    All,
    /// `acked` of its `of` findings are acknowledged (in force).
    Some { acked: usize, of: usize },
    /// Some acknowledgement of its findings expired (and none is in force for all).
    Expired,
}

impl ProblemAck {
    /// `ack`, `ack 2/6`, `EXPIRED` or empty: the marker of the problem tables' ack column.
    pub fn marker(self) -> String {
        match self {
            ProblemAck::None => String::new(),
            ProblemAck::All => "ack".to_string(),
            ProblemAck::Some { acked, of } => format!("ack {acked}/{of}"),
            ProblemAck::Expired => "EXPIRED".to_string(),
        }
    }

    /// In words, for a problem's details.
    pub fn text(self) -> String {
        match self {
            ProblemAck::None => "none".to_string(),
            ProblemAck::All => "all of its findings are acknowledged".to_string(),
            ProblemAck::Some { acked, of } => {
                format!("{acked} of its {of} findings acknowledged (see each finding)")
            }
            ProblemAck::Expired => {
                "an acknowledgement of its findings EXPIRED: they count again".to_string()
            }
        }
    }
}

use super::findings::LOGGED_IN;

pub(super) fn problems(r: &AuditReport, findings: &[FindingView]) -> Vec<ProblemView> {
    crate::outcome::problems(r)
        .into_iter()
        .enumerate()
        .map(|(i, p)| {
            let first = p.findings.first().and_then(|&n| findings.get(n));
            let statuses: Vec<Option<AckStatus>> = p
                .findings
                .iter()
                .filter_map(|&n| findings.get(n))
                .map(|f| f.ack.as_ref().map(|a| a.record.status))
                .collect();
            let active = statuses
                .iter()
                .filter(|s| **s == Some(AckStatus::Active))
                .count();
            let ack = if active == statuses.len() && active > 0 {
                ProblemAck::All
            } else if statuses.contains(&Some(AckStatus::Expired)) {
                ProblemAck::Expired
            } else if active > 0 {
                ProblemAck::Some {
                    acked: active,
                    of: statuses.len(),
                }
            } else {
                ProblemAck::None
            };
            ProblemView {
                number: i + 1,
                spread: spread_with_repetitions(&p, findings),
                finding_numbers: p.findings.iter().map(|n| n + 1).collect(),
                message: first.map(|f| f.finding.message.clone()).unwrap_or_default(),
                rule: first.map(|f| f.finding.rule.clone()).unwrap_or_default(),
                first_target: first.and_then(|f| f.first_target.clone()),
                new: p
                    .findings
                    .iter()
                    .filter_map(|&n| findings.get(n))
                    .any(|f| f.new),
                ack,
                chain: p
                    .findings
                    .iter()
                    .filter_map(|&n| findings.get(n))
                    .find(|f| !f.chain.is_empty())
                    .map(|f| f.chain.iter().map(|h| (*h).to_string()).collect())
                    .unwrap_or_default(),
                known_text: p.known.as_ref().map(crate::knowledge::Known::summary),
                problem: p,
            }
        })
        .collect()
}

/// `#1, #4, #7` (at most `max` numbers, then `and 3 more`).
pub fn numbers_text(numbers: &[usize], max: usize) -> String {
    let shown: Vec<String> = numbers.iter().take(max).map(|n| format!("#{n}")).collect();
    let mut s = shown.join(", ");
    if numbers.len() > max {
        s.push_str(&format!(" and {} more", numbers.len() - max));
    }
    s
}

/// The problem's spread, and when some of its findings were seen in fewer than all the
/// repetitions of their scenario (`audit --repeat`), how many: `1/3 scenarios, 1 page;
/// intermittent: 2/3 repetitions`.
fn spread_with_repetitions(p: &crate::outcome::Problem, findings: &[FindingView]) -> String {
    let flickering: Vec<String> = p
        .findings
        .iter()
        .filter_map(|&n| findings.get(n))
        .filter_map(|f| f.finding.repeat.filter(|s| s.intermittent()))
        .map(|s| format!("{}/{}", s.seen, s.of))
        .collect();
    let spread = if p.logged_in {
        format!("{}; {LOGGED_IN}", p.spread())
    } else {
        p.spread()
    };
    if flickering.is_empty() {
        spread
    } else {
        format!(
            "{spread}; intermittent: {} repetitions",
            flickering.join(", ")
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::Code;
    use crate::report::tests::{ack_record, finding, fixed_report};

    /// The Meta problem over three scenarios, with these acknowledgement statuses of its
    /// findings (`None`: not acknowledged).
    fn ack_of(statuses: [Option<AckStatus>; 3]) -> ProblemAck {
        let mut r = fixed_report();
        r.findings = ["no_action", "reject_all", "legacy_banner"]
            .into_iter()
            .map(|s| finding(Code::ConsentVendorBeforeChoice, s, "meta"))
            .collect();
        r.acknowledgements = r
            .findings
            .iter()
            .zip(statuses)
            .filter_map(|(f, s)| s.map(|s| ack_record(&f.fingerprint, s)))
            .collect();
        let findings = super::super::findings::findings(&r);
        let p = problems(&r, &findings);
        assert_eq!(p.len(), 1);
        assert_eq!(p[0].finding_numbers, [1, 2, 3]);
        p[0].ack
    }

    #[test]
    fn a_problem_is_acknowledged_when_all_some_or_none_of_its_findings_are() {
        let a = Some(AckStatus::Active);
        let e = Some(AckStatus::Expired);
        assert_eq!(ack_of([a, a, a]), ProblemAck::All);
        assert_eq!(ack_of([a, None, a]), ProblemAck::Some { acked: 2, of: 3 });
        assert_eq!(ack_of([a, None, a]).marker(), "ack 2/3");
        assert_eq!(ack_of([None, None, None]), ProblemAck::None);
        assert_eq!(ack_of([a, e, a]), ProblemAck::Expired, "an expiry is news");
        // An unused acknowledgement matches no finding: not counted.
        assert_eq!(
            ack_of([Some(AckStatus::Unused), None, None]),
            ProblemAck::None
        );
    }

    /// Logged-in evidence is said in words: its phase in the evidence rows and the first
    /// phase, and the problem's spread; nothing is said without it.
    #[test]
    fn logged_in_evidence_is_marked_in_the_view() {
        let mut r = fixed_report();
        r.findings = ["no_action", "reject_all"]
            .into_iter()
            .map(|s| finding(Code::ConsentVendorBeforeChoice, s, "meta"))
            .collect();
        let plain = problems(&r, &super::super::findings::findings(&r));
        assert!(
            !plain[0].spread.contains("logged in"),
            "{}",
            plain[0].spread
        );
        r.findings[1].evidence[0].logged_in = true;
        let findings = super::super::findings::findings(&r);
        assert_eq!(findings[0].evidence[0].phase, "before-choice");
        assert_eq!(findings[1].evidence[0].phase, "before-choice, logged in");
        assert_eq!(
            findings[1].first_phase.as_deref(),
            Some("before-choice, logged in")
        );
        let p = problems(&r, &findings);
        assert!(p[0].spread.ends_with("; logged in"), "{}", p[0].spread);
    }

    #[test]
    fn numbers_are_cut_with_a_count_of_the_rest() {
        assert_eq!(numbers_text(&[1, 4, 7], 5), "#1, #4, #7");
        assert_eq!(numbers_text(&[1, 2, 3, 4], 2), "#1, #2 and 2 more");
    }
}

//! Problems, not rows: the findings of a run grouped by code and subject, each problem
//! with the scenarios, phases and pages where it occurred ("6/6 scenarios, 3 pages").
//! Pure and derived once from the findings; fingerprints, acknowledgements and the
//! verdict stay the findings' own (a problem is a view, never judged).

use super::AuditReport;
use crate::analysis::{Code, Severity};
use serde::Serialize;

/// What a problem (or finding) of no scenario is called, in every format.
pub const SITE_LEVEL: &str = "site-level";

/// Findings that share a code and a subject.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Problem {
    pub code: Code,
    pub subject: String,
    /// The highest severity of its findings.
    pub severity: Severity,
    /// The declared vendor it is about, when its findings name one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub vendor: Option<String>,
    /// Scenarios it occurred in, in run order (empty for a site-level problem).
    pub scenarios: Vec<String>,
    /// How many scenarios the run has (the "of" in "6/6 scenarios").
    pub scenarios_in_run: usize,
    /// Distinct phases of its evidence, in order of appearance.
    pub phases: Vec<String>,
    /// Distinct pages of its evidence, in order of appearance.
    pub pages: Vec<String>,
    /// Observations over all its findings.
    pub occurrences: u64,
    /// Its findings' fingerprints, in finding order.
    pub fingerprints: Vec<String>,
    /// Some of its evidence was observed logged in (after the scenario file's
    /// `[login]`, docs/scenarios.md#login); absent from JSON when none was.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub logged_in: bool,
    /// What the knowledge bases say of its host or cookie: the first of its findings'
    /// evidence that carries it ([`crate::analysis::Evidence::known`]). Apart from
    /// `vendor`, the declared map's; absent from JSON when nothing is known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub known: Option<crate::knowledge::Known>,
    /// Its findings' 0-based positions in the run's findings.
    #[serde(skip)]
    pub findings: Vec<usize>,
}

impl Problem {
    /// `6/6 scenarios, 3 pages`, `1/6 scenarios, 1 page`, or `site-level, 1 page`.
    pub fn spread(&self) -> String {
        let pages = match self.pages.len() {
            1 => "1 page".to_string(),
            n => format!("{n} pages"),
        };
        if self.scenarios.is_empty() {
            return if self.pages.is_empty() {
                SITE_LEVEL.to_string()
            } else {
                format!("{SITE_LEVEL}, {pages}")
            };
        }
        let scenarios = format!(
            "{}/{} scenario{}",
            self.scenarios.len(),
            self.scenarios_in_run,
            if self.scenarios_in_run == 1 { "" } else { "s" }
        );
        if self.pages.is_empty() {
            scenarios
        } else {
            format!("{scenarios}, {pages}")
        }
    }
}

fn push_new(list: &mut Vec<String>, item: &str) {
    if !list.iter().any(|x| x == item) {
        list.push(item.to_string());
    }
}

/// The run's problems, in the order of their first finding (the findings' order:
/// severity first).
pub fn problems(r: &AuditReport) -> Vec<Problem> {
    let order: Vec<&str> = r.visits.iter().map(|v| v.scenario.as_str()).collect();
    let mut out: Vec<Problem> = Vec::new();
    for (i, f) in r.findings.iter().enumerate() {
        let at = match out
            .iter()
            .position(|p| p.code == f.code && p.subject == f.subject)
        {
            Some(at) => at,
            None => {
                out.push(Problem {
                    code: f.code,
                    subject: f.subject.clone(),
                    severity: f.severity,
                    vendor: None,
                    scenarios: Vec::new(),
                    // Distinct scenarios: with `--repeat N`, each has N visits.
                    scenarios_in_run: r
                        .visits
                        .iter()
                        .map(|v| v.scenario.as_str())
                        .collect::<std::collections::BTreeSet<_>>()
                        .len(),
                    phases: Vec::new(),
                    pages: Vec::new(),
                    occurrences: 0,
                    fingerprints: Vec::new(),
                    logged_in: false,
                    known: None,
                    findings: Vec::new(),
                });
                out.len() - 1
            }
        };
        let p = &mut out[at];
        p.severity = p.severity.max(f.severity);
        if p.vendor.is_none() {
            p.vendor = f.vendor.clone();
        }
        if p.known.is_none() {
            p.known = f.known().cloned();
        }
        if let Some(s) = &f.scenario {
            push_new(&mut p.scenarios, s);
        }
        for e in &f.evidence {
            push_new(&mut p.phases, &e.phase);
            push_new(&mut p.pages, &e.page);
            p.logged_in |= e.logged_in;
        }
        p.occurrences += u64::from(f.occurrences);
        p.fingerprints.push(f.fingerprint.clone());
        p.findings.push(i);
    }
    for p in &mut out {
        p.scenarios
            .sort_by_key(|s| order.iter().position(|o| o == s).unwrap_or(usize::MAX));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::tests::{finding, fixed_report, visit};

    #[test]
    fn findings_with_one_code_and_subject_are_one_problem_with_their_spread() {
        let mut r = fixed_report();
        r.visits = ["no_action", "accept_all", "reject_all"]
            .into_iter()
            .map(|s| visit(s, crate::model::VisitStatus::Complete))
            .collect();
        let meta = |s: &str| finding(Code::ConsentVendorBeforeChoice, s, "meta");
        let mut other_page = meta("no_action");
        other_page.evidence[0].page = "https://www.demo-shop.test/cart".into();
        other_page.evidence[0].phase = "after-accept_all".into();
        r.findings = vec![
            meta("reject_all"),
            finding(Code::UndeclaredCookie, "no_action", "ab"),
            meta("accept_all"),
            other_page,
        ];
        let p = problems(&r);
        assert_eq!(p.len(), 2, "{p:#?}");
        let meta = &p[0];
        assert_eq!(
            (meta.code, meta.subject.as_str()),
            (Code::ConsentVendorBeforeChoice, "meta")
        );
        assert_eq!(
            meta.scenarios,
            ["no_action", "accept_all", "reject_all"],
            "run order"
        );
        assert_eq!(meta.phases, ["before-choice", "after-accept_all"]);
        assert_eq!(meta.pages.len(), 2);
        assert_eq!(meta.spread(), "3/3 scenarios, 2 pages");
        assert_eq!(meta.findings, [0, 2, 3]);
        assert_eq!(meta.fingerprints.len(), 3);
        assert_eq!(meta.occurrences, 3);
        assert_eq!(p[1].spread(), "1/3 scenarios, 1 page");
        // Every finding is in exactly one problem.
        let mut all: Vec<usize> = p.iter().flat_map(|p| p.findings.clone()).collect();
        all.sort();
        assert_eq!(all, (0..r.findings.len()).collect::<Vec<_>>());
    }

    #[test]
    fn a_problem_is_known_as_its_first_known_evidence_says_and_its_vendor_stays_empty() {
        let mut r = fixed_report();
        let tiktok = |s: &str| finding(Code::UndeclaredThirdParty, s, "tiktok.com");
        let mut known = tiktok("accept_all");
        known.evidence[0].known = Some(crate::report::html::sample::tiktok_known());
        r.findings = vec![tiktok("no_action"), known, tiktok("reject_all")];
        let p = problems(&r);
        assert_eq!(p.len(), 1, "{p:#?}");
        assert_eq!(
            p[0].known.as_ref().map(|k| k.company.as_str()),
            Some("ByteDance Ltd")
        );
        assert_eq!(p[0].vendor, None, "known is never declared");
        let json = serde_json::to_value(&p[0]).expect("JSON");
        assert_eq!(json["known"]["pattern"], "*.tiktok.com", "{json}");
        // Nothing known: no member.
        r.findings = vec![tiktok("no_action")];
        let json = serde_json::to_value(&problems(&r)[0]).expect("JSON");
        assert!(json.get("known").is_none(), "{json}");
    }

    #[test]
    fn a_site_level_problem_says_so() {
        let mut r = fixed_report();
        let mut f = finding(Code::DeclaredVendorUnobserved, "x", "optimizely");
        f.scenario = None;
        f.evidence.clear();
        r.findings = vec![f];
        let p = problems(&r);
        assert_eq!(p[0].spread(), "site-level");
        assert!(p[0].scenarios.is_empty());
    }
}

//! Aggregation of rule hits into findings.
//!
//! Every rule pushes one [`Hit`] per observation that breaks a declared rule. Hits are
//! grouped per (code, scenario, subject): the finding keeps the first [`MAX_EVIDENCE`]
//! pieces of evidence in time order and counts every hit in `occurrences`.

use super::finding::{fingerprint, Code, Evidence, Finding, MAX_EVIDENCE};
use std::collections::BTreeMap;

/// One observation that breaks a declared rule.
#[derive(Debug, Clone)]
pub(crate) struct Hit {
    pub code: Code,
    pub scenario: Option<String>,
    pub subject: String,
    /// The declared vendor the finding is about, if any.
    pub vendor: Option<String>,
    /// Human sentence about this occurrence (naming vendor/cookie, scenario and phase).
    pub message: String,
    /// The declared rule broken.
    pub rule: String,
    pub evidence: Evidence,
}

type Key = (Code, Option<String>, String);

#[derive(Debug, Default)]
pub(crate) struct Sink {
    /// Hits per key, with their push order (tie-breaker for equal times).
    groups: BTreeMap<Key, Vec<(usize, Hit)>>,
    pushed: usize,
}

impl Sink {
    pub fn push(&mut self, hit: Hit) {
        let key = (hit.code, hit.scenario.clone(), hit.subject.clone());
        let seq = self.pushed;
        self.pushed += 1;
        self.groups.entry(key).or_default().push((seq, hit));
    }

    /// One finding per key. The message and rule are those of the earliest hit; the
    /// other phases the finding was seen in are appended to the message.
    pub fn into_findings(self, site: &str) -> Vec<Finding> {
        let mut out = Vec::with_capacity(self.groups.len());
        for ((code, scenario, subject), mut hits) in self.groups {
            hits.sort_by(|(sa, a), (sb, b)| a.evidence.time.cmp(&b.evidence.time).then(sa.cmp(sb)));
            let Some((_, first)) = hits.first() else {
                continue;
            };
            let mut phases: Vec<&str> = Vec::new();
            for (_, h) in &hits {
                if !phases.contains(&h.evidence.phase.as_str()) {
                    phases.push(h.evidence.phase.as_str());
                }
            }
            let mut message = first.message.clone();
            // Only where evidence is occurrences: a stale declaration's evidence is the
            // scenarios that judged it, a not-observed scenario's is where it stopped.
            let occurrence_evidence = !matches!(
                code,
                Code::DeclaredVendorUnobserved | Code::ScenarioNotObserved
            );
            if occurrence_evidence && phases.len() > 1 {
                message.push_str(&format!(" Also seen in phase {}.", phases[1..].join(", ")));
            }
            let rule = first.rule.clone();
            let vendor = first.vendor.clone();
            let occurrences = u32::try_from(hits.len()).unwrap_or(u32::MAX);
            let evidence: Vec<Evidence> = hits
                .into_iter()
                .take(MAX_EVIDENCE)
                .map(|(_, h)| h.evidence)
                .collect();
            out.push(Finding {
                code,
                severity: code.severity(),
                site: site.to_string(),
                fingerprint: fingerprint(code, site, scenario.as_deref(), &subject),
                scenario,
                subject,
                vendor,
                message,
                rule,
                evidence,
                occurrences,
                repeat: None,
            });
        }
        out
    }
}

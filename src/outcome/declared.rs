//! The declared map a run was judged against, as a report points into it: the policy
//! file and the line of the rule each finding is about (SARIF's locations). The lines
//! are derived once where the policy is loaded ([`crate::policy::DeclaredLines`]).

use crate::analysis::{Code, Finding};
use crate::policy::{glob_match, DeclaredLines, Policy};

/// The declared map a run was judged against, as a report points into it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeclaredAt {
    /// The policy file, as the scenario file named it (relative to where consentry ran).
    pub policy_file: String,
    pub lines: DeclaredLines,
}

/// Codes whose subject is a cookie name (matched against the `[[cookie]]` rules).
fn is_cookie_code(code: Code) -> bool {
    matches!(
        code,
        Code::CookieRetentionExceeded
            | Code::ConsentCookieWithoutConsent
            | Code::LiCookieWithoutConsent
            | Code::ConsentModeCookieWhileDenied
    )
}

impl DeclaredAt {
    pub fn of(policy: &Policy) -> Self {
        DeclaredAt {
            policy_file: policy.path.display().to_string(),
            lines: policy.lines.clone(),
        }
    }

    /// The line of the declaration `finding` is about: the cookie rule that matches a
    /// cookie finding's cookie (of the finding's vendor), else the finding's vendor, else
    /// the vendor or purpose its subject names (map findings). `None`: nothing declared
    /// (an undeclared host or cookie, a scenario's own finding).
    pub fn line_of(&self, finding: &Finding) -> Option<usize> {
        let l = &self.lines;
        if is_cookie_code(finding.code) {
            let name = finding
                .subject
                .split_once('@')
                .map_or(finding.subject.as_str(), |(n, _)| n);
            let rule = l.cookies.iter().find(|(pattern, vendor, _)| {
                glob_match(pattern, name) && finding.vendor.as_deref().is_none_or(|v| v == vendor)
            });
            if let Some((_, _, line)) = rule {
                return Some(*line);
            }
        }
        if finding.code == Code::UndeclaredCookie || finding.code == Code::UndeclaredThirdParty {
            return None;
        }
        let vendor = finding.vendor.as_deref().unwrap_or(&finding.subject);
        l.vendors
            .iter()
            .find(|(id, _)| id == vendor)
            .or_else(|| l.purposes.iter().find(|(id, _)| *id == finding.subject))
            .map(|(_, line)| *line)
    }
}

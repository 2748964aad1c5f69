//! Where each declaration of the policy file is written (1-based lines), derived once
//! as the file is loaded ([`super::load`]), so a report can anchor a finding at the
//! vendor or cookie rule it is about (SARIF's locations, docs/reports.md).

use super::{glob_match, Policy};
use crate::analysis::finding::{Code, Finding};

/// The line of each declaration, in file order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DeclaredLines {
    /// (vendor id, line of its `id`).
    pub vendors: Vec<(String, usize)>,
    /// (name pattern, owning vendor, line of its `name`) of each `[[cookie]]`.
    pub cookies: Vec<(String, String, usize)>,
    /// (purpose id, line of its `id`).
    pub purposes: Vec<(String, usize)>,
}

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

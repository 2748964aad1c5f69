//! Findings: the public contract. Codes are documented in docs/findings.md and never
//! renamed; fingerprints identify *what* is wrong, independent of run, time and query string.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    Info,
    Low,
    Medium,
    High,
    Critical,
}

impl Severity {
    pub const ALL: [Severity; 5] = [
        Severity::Info,
        Severity::Low,
        Severity::Medium,
        Severity::High,
        Severity::Critical,
    ];
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
            Severity::Critical => "critical",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        Severity::ALL.into_iter().find(|v| v.as_str() == s)
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Every finding code. Stable kebab-case names; documented one section each in docs/findings.md.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Code {
    /// A consent-based vendor was contacted before the visitor made any choice.
    ConsentVendorBeforeChoice,
    /// A consent-based vendor was contacted after the visitor rejected.
    ConsentVendorAfterReject,
    /// A legitimate-interest vendor was contacted after the visitor objected.
    LiVendorAfterObjection,
    /// A third party not in the declared map was contacted.
    UndeclaredThirdParty,
    /// A cookie not in the declared map was written.
    UndeclaredCookie,
    /// A cookie lives longer than its declared retention.
    CookieRetentionExceeded,
    /// A cookie of a consent-based purpose was written without consent.
    ConsentCookieWithoutConsent,
    /// A declared vendor never appeared, even after accepting everything.
    DeclaredVendorUnobserved,
    /// A scenario could not be performed; what it should have observed is unknown.
    ScenarioNotObserved,
}

impl Code {
    pub const ALL: [Code; 9] = [
        Code::ConsentVendorBeforeChoice,
        Code::ConsentVendorAfterReject,
        Code::LiVendorAfterObjection,
        Code::UndeclaredThirdParty,
        Code::UndeclaredCookie,
        Code::CookieRetentionExceeded,
        Code::ConsentCookieWithoutConsent,
        Code::DeclaredVendorUnobserved,
        Code::ScenarioNotObserved,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Code::ConsentVendorBeforeChoice => "consent-vendor-before-choice",
            Code::ConsentVendorAfterReject => "consent-vendor-after-reject",
            Code::LiVendorAfterObjection => "li-vendor-after-objection",
            Code::UndeclaredThirdParty => "undeclared-third-party",
            Code::UndeclaredCookie => "undeclared-cookie",
            Code::CookieRetentionExceeded => "cookie-retention-exceeded",
            Code::ConsentCookieWithoutConsent => "consent-cookie-without-consent",
            Code::DeclaredVendorUnobserved => "declared-vendor-unobserved",
            Code::ScenarioNotObserved => "scenario-not-observed",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Code::ALL.into_iter().find(|c| c.as_str() == s)
    }

    /// Default severity of the code.
    pub fn severity(self) -> Severity {
        match self {
            Code::ConsentVendorAfterReject => Severity::Critical,
            Code::ConsentVendorBeforeChoice
            | Code::LiVendorAfterObjection
            | Code::ConsentCookieWithoutConsent
            | Code::ScenarioNotObserved => Severity::High,
            Code::UndeclaredThirdParty | Code::UndeclaredCookie | Code::CookieRetentionExceeded => {
                Severity::Medium
            }
            Code::DeclaredVendorUnobserved => Severity::Info,
        }
    }

    /// One-line description (the heading of its docs/findings.md section).
    pub fn summary(self) -> &'static str {
        match self {
            Code::ConsentVendorBeforeChoice => {
                "a consent-based vendor was contacted before the visitor made a choice"
            }
            Code::ConsentVendorAfterReject => {
                "a consent-based vendor was contacted after the visitor rejected"
            }
            Code::LiVendorAfterObjection => {
                "a legitimate-interest vendor was contacted after the visitor objected"
            }
            Code::UndeclaredThirdParty => "a third party not in the declared map was contacted",
            Code::UndeclaredCookie => "a cookie not in the declared map was written",
            Code::CookieRetentionExceeded => "a cookie lives longer than its declared retention",
            Code::ConsentCookieWithoutConsent => {
                "a cookie of a consent-based purpose was written without consent"
            }
            Code::DeclaredVendorUnobserved => {
                "a declared vendor was never observed, even after accepting everything"
            }
            Code::ScenarioNotObserved => {
                "a scenario could not be performed, so it was not observed"
            }
        }
    }
}

impl fmt::Display for Code {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One piece of evidence a privacy lead can forward.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Evidence {
    pub scenario: String,
    /// Top-level page URL.
    pub page: String,
    pub request_url: Option<String>,
    /// Cookie as `name@domain`.
    pub cookie: Option<String>,
    pub time: DateTime<Utc>,
    /// `before-choice`, `after-accept_all`, ...
    pub phase: String,
    /// Extra facts, e.g. `requested lifetime 730d (document.cookie), stored 400d`.
    pub detail: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Finding {
    pub code: Code,
    pub severity: Severity,
    pub site: String,
    /// `None` for site-level findings (e.g. a stale declaration).
    pub scenario: Option<String>,
    /// What the finding is about: vendor id, host or cookie name.
    pub subject: String,
    pub message: String,
    /// The declared rule it breaks, e.g. `vendor meta: purpose advertising (consent)`.
    pub rule: String,
    /// First occurrences, oldest first (at most [`MAX_EVIDENCE`]).
    pub evidence: Vec<Evidence>,
    /// How many observations support it (may exceed `evidence.len()`).
    pub occurrences: u32,
    pub fingerprint: String,
}

/// Evidence kept per finding; the rest is counted in `occurrences`.
pub const MAX_EVIDENCE: usize = 5;

/// Stable fingerprint: SHA-256 over explicit fields in a fixed order, 16 hex digits.
/// Never includes run id, time, message text or query strings.
pub fn fingerprint(code: Code, site: &str, scenario: Option<&str>, subject: &str) -> String {
    let mut h = Sha256::new();
    for part in [code.as_str(), site, scenario.unwrap_or("-"), subject] {
        h.update(part.as_bytes());
        h.update([0u8]);
    }
    h.finalize()
        .iter()
        .take(8)
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn codes_are_unique_and_round_trip() {
        let names: HashSet<_> = Code::ALL.iter().map(|c| c.as_str()).collect();
        assert_eq!(names.len(), Code::ALL.len());
        for c in Code::ALL {
            assert_eq!(Code::parse(c.as_str()), Some(c));
            let json = serde_json::to_string(&c).unwrap();
            assert_eq!(json, format!("\"{}\"", c.as_str()));
        }
    }

    #[test]
    fn fingerprint_is_field_separated() {
        let a = fingerprint(Code::UndeclaredCookie, "s", Some("ab"), "c");
        let b = fingerprint(Code::UndeclaredCookie, "s", Some("a"), "bc");
        assert_ne!(a, b);
        assert_eq!(a, fingerprint(Code::UndeclaredCookie, "s", Some("ab"), "c"));
    }
}

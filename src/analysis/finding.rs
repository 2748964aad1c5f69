//! Findings: the public contract. Codes are documented in docs/findings.md and never
//! renamed; fingerprints identify *what* is wrong, independent of run, time and query string.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Serialize,
    Deserialize,
    strum::Display,
    strum::EnumString,
    strum::IntoStaticStr,
    strum::EnumIter,
)]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum Severity {
    Info,
    Low,
    Medium,
    High,
    Critical,
}

impl Severity {
    /// Every severity, least severe first.
    pub fn all() -> impl DoubleEndedIterator<Item = Severity> {
        <Severity as strum::IntoEnumIterator>::iter()
    }
    pub fn as_str(self) -> &'static str {
        self.into()
    }
    pub fn parse(s: &str) -> Option<Self> {
        s.parse().ok()
    }
}

/// Every finding code. Stable kebab-case names; documented one section each in docs/findings.md.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Serialize,
    Deserialize,
    strum::Display,
    strum::EnumString,
    strum::IntoStaticStr,
    strum::EnumIter,
)]
#[serde(rename_all = "kebab-case")]
#[strum(serialize_all = "kebab-case")]
pub enum Code {
    /// A consent-based vendor was contacted before the visitor made any choice.
    ConsentVendorBeforeChoice,
    /// A consent-based vendor was contacted after the visitor rejected.
    ConsentVendorAfterReject,
    /// A legitimate-interest vendor was contacted after the visitor objected.
    LiVendorAfterObjection,
    /// A third party not in the declared map was contacted.
    UndeclaredThirdParty,
    /// A third party not in the declared map was loaded by a declared vendor.
    UndeclaredFourthParty,
    /// A cookie not in the declared map was written.
    UndeclaredCookie,
    /// A cookie lives longer than its declared retention.
    CookieRetentionExceeded,
    /// A cookie of a consent-based purpose was written without consent.
    ConsentCookieWithoutConsent,
    /// A legitimate-interest vendor stored a cookie or Web Storage item without consent.
    LiCookieWithoutConsent,
    /// A vendor whose purposes GPC opts out of was contacted although the visit sent GPC.
    VendorIgnoresGpc,
    /// A declared vendor never appeared, even after accepting everything.
    DeclaredVendorUnobserved,
    /// A scenario could not be performed; what it should have observed is unknown.
    ScenarioNotObserved,
    /// After a consent action, the CMP on the page recorded no choice.
    CmpChoiceNotRecorded,
    /// After a consent action, the CMP recorded the opposite (reject clicked, consent stored).
    CmpChoiceOpposite,
    /// Refusing consent took more clicks than accepting, from the first layer.
    RejectMoreStepsThanAccept,
    /// The CMP showed its banner again although it had stored the visitor's choice.
    CmpReprompt,
    /// A declared vendor was contacted on a page where it is not declared to be embedded.
    VendorOutsideDeclaredPages,
    /// A declared vendor's known category contradicts its declared purposes.
    VendorKnownPurposeMismatch,
    /// A declared cookie's typical retention (Open Cookie Database) exceeds its declared one.
    CookieRetentionBelowKnown,
    /// A purpose, vendor or cookie of the policy is marked `draft = true`: drafted by
    /// `consentry init` or an import, not yet confirmed by a person.
    DraftUnconfirmed,
    /// The policy declares legitimate interest for a TCF purpose that does not permit it.
    LiBasisForbiddenTcfPurpose,
    /// A vendor's declared TCF legitimate-interest purposes include one that does not permit it.
    VendorTcfLiForbidden,
    /// A declared TCF vendor id is not (or no longer) in the supplied Global Vendor List.
    GvlVendorMissing,
    /// Legitimate interest declared for a purpose the vendor registered for consent only.
    GvlLiConsentOnly,
    /// A TCF purpose declared for a vendor that the vendor did not register in the GVL.
    GvlPurposeUnregistered,
    /// The CMP's TC string grants consent before the visitor made any choice.
    TcfConsentBeforeChoice,
    /// The CMP's TC string grants consent after the visitor rejected all.
    TcfConsentAfterReject,
    /// The CMP's TC string still asserts legitimate interest after the visitor objected.
    TcfLiAfterObjection,
    /// A TC string asserts legitimate interest for a purpose TCF 2.2 forbids it for.
    TcfLiForbiddenPurpose,
    /// A vendor was sent a TC string other than the CMP's current one.
    TcfStaleString,
    /// A vendor was sent a TC string granting consent the CMP never recorded.
    TcfUnrecordedConsent,
    /// A declared TCF vendor was contacted with no basis in the CMP's TC string.
    TcfVendorWithoutBasis,
    /// The CMP registers a declared vendor on another legal basis than the declared map.
    TcfBasisMismatch,
    /// A Google tag hit of a vendor declared with Consent Mode carried no consent default.
    ConsentModeDefaultMissing,
    /// Consent Mode told a Google tag ad or analytics storage was granted before any choice.
    ConsentModeGrantedBeforeChoice,
    /// Consent Mode told a Google tag ad or analytics storage was granted after reject.
    ConsentModeGrantedAfterReject,
    /// Consent Mode told a Google tag `ad_user_data` / `ad_personalization` was granted without consent.
    ConsentModeAdSignalsWithoutConsent,
    /// A Google identifier cookie was written while Consent Mode said its storage was denied.
    ConsentModeCookieWhileDenied,
    /// With GPC sent or after a reject, the CMP's US section records no opt-out.
    GppOptOutNotRecorded,
    /// A vendor was sent a GPP / US Privacy string granting what the visitor opted out of.
    GppVendorStringGrantsOptOut,
    /// A vendor needing the opted-out basis fired after the CMP recorded a US opt-out.
    GppVendorAfterOptOut,
}

impl Code {
    /// Every code, in declaration order (the order findings of equal severity sort in).
    pub fn all() -> impl Iterator<Item = Code> {
        <Code as strum::IntoEnumIterator>::iter()
    }

    pub fn as_str(self) -> &'static str {
        self.into()
    }

    pub fn parse(s: &str) -> Option<Self> {
        s.parse().ok()
    }

    /// Default severity of the code.
    pub fn severity(self) -> Severity {
        match self {
            Code::ConsentVendorAfterReject | Code::CmpChoiceOpposite => Severity::Critical,
            Code::CmpChoiceNotRecorded => Severity::High,
            Code::ConsentVendorBeforeChoice
            | Code::LiVendorAfterObjection
            | Code::ConsentCookieWithoutConsent
            | Code::VendorIgnoresGpc
            | Code::ScenarioNotObserved => Severity::High,
            Code::LiCookieWithoutConsent => Severity::Medium,
            Code::UndeclaredThirdParty | Code::UndeclaredCookie | Code::CookieRetentionExceeded => {
                Severity::Medium
            }
            Code::UndeclaredFourthParty => Severity::Medium,
            Code::DeclaredVendorUnobserved => Severity::Info,
            Code::LiBasisForbiddenTcfPurpose | Code::VendorTcfLiForbidden => Severity::High,
            Code::GvlLiConsentOnly => Severity::High,
            Code::GvlVendorMissing | Code::GvlPurposeUnregistered => Severity::Medium,
            Code::VendorOutsideDeclaredPages | Code::RejectMoreStepsThanAccept => Severity::Low,
            Code::VendorKnownPurposeMismatch => Severity::Low,
            Code::CookieRetentionBelowKnown | Code::DraftUnconfirmed => Severity::Info,
            Code::CmpReprompt => Severity::Medium,
            Code::TcfConsentBeforeChoice
            | Code::TcfConsentAfterReject
            | Code::TcfLiAfterObjection
            | Code::TcfLiForbiddenPurpose
            | Code::TcfUnrecordedConsent
            | Code::TcfVendorWithoutBasis => Severity::High,
            Code::TcfStaleString | Code::TcfBasisMismatch => Severity::Medium,
            Code::ConsentModeGrantedAfterReject => Severity::Critical,
            Code::ConsentModeDefaultMissing
            | Code::ConsentModeGrantedBeforeChoice
            | Code::ConsentModeAdSignalsWithoutConsent
            | Code::ConsentModeCookieWhileDenied => Severity::High,
            Code::GppOptOutNotRecorded
            | Code::GppVendorStringGrantsOptOut
            | Code::GppVendorAfterOptOut => Severity::High,
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
            Code::UndeclaredFourthParty => {
                "a declared vendor loaded a third party not in the declared map"
            }
            Code::UndeclaredCookie => "a cookie not in the declared map was written",
            Code::CookieRetentionExceeded => "a cookie lives longer than its declared retention",
            Code::ConsentCookieWithoutConsent => {
                "a cookie of a consent-based purpose was written without consent"
            }
            Code::LiCookieWithoutConsent => {
                "a legitimate-interest vendor stored a cookie or storage item without consent"
            }
            Code::VendorIgnoresGpc => {
                "a vendor GPC opts out of was contacted although the visit sent GPC"
            }
            Code::DeclaredVendorUnobserved => {
                "a declared vendor was never observed, even after accepting everything"
            }
            Code::ScenarioNotObserved => {
                "a scenario could not be performed, so it was not observed"
            }
            Code::CmpChoiceNotRecorded => {
                "after a consent action, the CMP recorded no choice"
            }
            Code::CmpChoiceOpposite => {
                "after a consent action, the CMP recorded the opposite choice"
            }
            Code::CmpReprompt => {
                "the CMP showed its banner again although it had stored the choice"
            }
            Code::RejectMoreStepsThanAccept => {
                "refusing consent took more clicks than accepting, from the first layer"
            }
            Code::VendorOutsideDeclaredPages => {
                "a declared vendor was contacted on a page where it is not declared"
            }
            Code::VendorKnownPurposeMismatch => {
                "a declared vendor's known category contradicts its declared purposes"
            }
            Code::CookieRetentionBelowKnown => {
                "a declared cookie typically lives longer than its declared retention"
            }
            Code::DraftUnconfirmed => {
                "a drafted purpose, vendor or cookie of the policy is not yet confirmed"
            }
            Code::LiBasisForbiddenTcfPurpose => {
                "the policy declares legitimate interest for a TCF purpose that forbids it"
            }
            Code::VendorTcfLiForbidden => {
                "a vendor declares TCF legitimate interest for a purpose that forbids it"
            }
            Code::GvlVendorMissing => {
                "a declared TCF vendor id is not in the Global Vendor List"
            }
            Code::GvlLiConsentOnly => {
                "legitimate interest is declared for a purpose the vendor registered for consent only"
            }
            Code::GvlPurposeUnregistered => {
                "a TCF purpose is declared that the vendor did not register in the Global Vendor List"
            }
            Code::TcfConsentBeforeChoice => {
                "the CMP's TC string grants consent before the visitor made any choice"
            }
            Code::TcfConsentAfterReject => {
                "the CMP's TC string grants consent after the visitor rejected all"
            }
            Code::TcfLiAfterObjection => {
                "the CMP's TC string still asserts legitimate interest after the objection"
            }
            Code::TcfLiForbiddenPurpose => {
                "a TC string asserts legitimate interest for a purpose TCF 2.2 forbids it for"
            }
            Code::TcfStaleString => "a vendor was sent a TC string other than the CMP's current one",
            Code::TcfUnrecordedConsent => {
                "a vendor was sent a TC string granting consent the CMP never recorded"
            }
            Code::TcfVendorWithoutBasis => {
                "a declared TCF vendor was contacted with no basis in the CMP's TC string"
            }
            Code::TcfBasisMismatch => {
                "the CMP registers a vendor on another legal basis than the declared map"
            }
            Code::ConsentModeDefaultMissing => {
                "a Google tag hit carried no Consent Mode default before the visitor consented"
            }
            Code::ConsentModeGrantedBeforeChoice => {
                "Consent Mode said ad or analytics storage was granted before the visitor chose"
            }
            Code::ConsentModeGrantedAfterReject => {
                "Consent Mode said ad or analytics storage was granted after the visitor rejected"
            }
            Code::ConsentModeAdSignalsWithoutConsent => {
                "Consent Mode said ad_user_data or ad_personalization was granted without consent"
            }
            Code::ConsentModeCookieWhileDenied => {
                "a Google identifier cookie was written while Consent Mode said storage was denied"
            }
            Code::GppOptOutNotRecorded => {
                "with GPC sent or after a reject, the CMP's US section records no opt-out"
            }
            Code::GppVendorStringGrantsOptOut => {
                "a vendor was sent a GPP or US Privacy string granting what the visitor opted out of"
            }
            Code::GppVendorAfterOptOut => {
                "a vendor needing the opted-out basis fired after the CMP recorded a US opt-out"
            }
        }
    }
}

/// One piece of evidence a privacy lead can forward.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
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
    /// Observed after the scenario file's `[login]` completed in this visit: on a
    /// logged-in page (docs/scenarios.md#login). Not part of the fingerprint; absent
    /// from JSON when false.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub logged_in: bool,
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
    /// The declared vendor it is about (a cookie's vendor for cookie findings); `None`
    /// for undeclared hosts and cookies, scenarios and map issues.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vendor: Option<String>,
    pub message: String,
    /// The declared rule it breaks, e.g. `vendor meta: purpose advertising (consent)`.
    pub rule: String,
    /// First occurrences, oldest first (at most [`MAX_EVIDENCE`]).
    pub evidence: Vec<Evidence>,
    /// How many observations support it (may exceed `evidence.len()`).
    pub occurrences: u32,
    pub fingerprint: String,
    /// In how many of its scenario's repetitions it was seen (`audit --repeat N`, N > 1;
    /// `None` with one repetition and for run-level findings). docs/findings.md,
    /// "Repetitions".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub repeat: Option<Seen>,
}

/// A finding seen in `seen` of `of` repetitions of its scenario (`audit --repeat N`).
/// Fewer than all: intermittent. It still counts toward the exit code and keeps its
/// fingerprint; only drift waits longer before calling it resolved (docs/drift.md).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(into = "SeenJson", from = "SeenJson")]
pub struct Seen {
    pub seen: u32,
    pub of: u32,
}

impl Seen {
    /// Seen in fewer than all the repetitions that counted.
    pub fn intermittent(self) -> bool {
        self.seen < self.of
    }

    /// `2/3`, and ` intermittent` after it when it is.
    pub fn label(self) -> String {
        if self.intermittent() {
            format!("{}/{} intermittent", self.seen, self.of)
        } else {
            format!("{}/{}", self.seen, self.of)
        }
    }
}

/// [`Seen`] as JSON: `{"seen": 2, "of": 3, "intermittent": true}` (the flag derived, for
/// readers; ignored when read back).
#[derive(Serialize, Deserialize)]
struct SeenJson {
    seen: u32,
    of: u32,
    #[serde(default)]
    intermittent: bool,
}

impl From<Seen> for SeenJson {
    fn from(s: Seen) -> Self {
        SeenJson {
            seen: s.seen,
            of: s.of,
            intermittent: s.intermittent(),
        }
    }
}

impl From<SeenJson> for Seen {
    fn from(s: SeenJson) -> Self {
        Seen {
            seen: s.seen,
            of: s.of,
        }
    }
}

/// Evidence kept per finding; the rest is counted in `occurrences`.
pub const MAX_EVIDENCE: usize = 5;

/// Version of the fingerprint recipe; it prefixes every fingerprint (`v1-…`), so a
/// future change of recipe can never be mistaken for a changed finding.
pub const FINGERPRINT_VERSION: u32 = 1;

/// Stable fingerprint: `v1-` and SHA-256 over explicit fields in a fixed order, 16 hex
/// digits. Never includes run id, time, message text or query strings.
pub fn fingerprint(code: Code, site: &str, scenario: Option<&str>, subject: &str) -> String {
    let mut h = Sha256::new();
    for part in [code.as_str(), site, scenario.unwrap_or("-"), subject] {
        h.update(part.as_bytes());
        h.update([0u8]);
    }
    let hex: String = h
        .finalize()
        .iter()
        .take(8)
        .map(|b| format!("{b:02x}"))
        .collect();
    format!("v{FINGERPRINT_VERSION}-{hex}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn codes_are_unique_and_round_trip() {
        let names: HashSet<_> = Code::all().map(|c| c.as_str()).collect();
        assert_eq!(names.len(), Code::all().count());
        for c in Code::all() {
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

#[cfg(test)]
mod contract {
    use super::Code;

    /// docs/findings.md is the contract: one section per code, one family per code.
    #[test]
    fn every_code_is_documented_and_in_exactly_one_family() {
        let doc = include_str!("../../docs/findings.md");
        let families = crate::analysis::code_families();
        for code in Code::all() {
            assert!(
                doc.contains(&format!("\n## {}\n", code.as_str())),
                "docs/findings.md has no section `## {code}`"
            );
            let owners: Vec<&str> = families
                .iter()
                .filter(|(_, c)| *c == code)
                .map(|(f, _)| *f)
                .collect();
            assert_eq!(owners.len(), 1, "{code} belongs to families {owners:?}");
            assert!(
                doc.contains(&format!("| `{code}` | {} |", owners[0])),
                "docs/findings.md's table does not name family {} for {code}",
                owners[0]
            );
        }
        assert_eq!(
            families.len(),
            Code::all().count(),
            "a family lists an unknown code twice"
        );
    }
}

//! The declared map, owned by the privacy team: purposes with their legal basis,
//! vendors with their domains and purposes, cookies with their owner and retention.
//!
//! This module holds the validated model and the lookups the analysis needs
//! (host -> vendor, cookie name -> rule, may this vendor run in this consent state).
//! Loading and validation of the file live in [`load`].

pub mod load;

use crate::observe::{ConsentChoice, ConsentState};
use serde::Serialize;
use std::path::PathBuf;

/// Legal basis of a purpose (GDPR art. 6).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum LegalBasis {
    Consent,
    LegitimateInterest,
    Contract,
    LegalObligation,
}

impl LegalBasis {
    pub const ALL: [&'static str; 4] = [
        "consent",
        "legitimate_interest",
        "contract",
        "legal_obligation",
    ];
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "consent" => Some(LegalBasis::Consent),
            "legitimate_interest" => Some(LegalBasis::LegitimateInterest),
            "contract" => Some(LegalBasis::Contract),
            "legal_obligation" => Some(LegalBasis::LegalObligation),
            _ => None,
        }
    }
    pub fn as_str(self) -> &'static str {
        match self {
            LegalBasis::Consent => "consent",
            LegalBasis::LegitimateInterest => "legitimate_interest",
            LegalBasis::Contract => "contract",
            LegalBasis::LegalObligation => "legal_obligation",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Purpose {
    pub id: String,
    pub name: String,
    pub basis: LegalBasis,
    /// Strictly necessary (consent-exempt): may run in every scenario whatever the basis.
    pub strictly_necessary: bool,
    /// IAB TCF purpose number this purpose corresponds to, if any.
    pub tcf_purpose: Option<u8>,
}

/// A host pattern. `example.com` matches `example.com` and every subdomain;
/// `*.example.com` matches subdomains only.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DomainPattern {
    pub suffix: String,
    pub subdomains_only: bool,
}

impl DomainPattern {
    pub fn parse(s: &str) -> Option<Self> {
        let s = s.trim().trim_end_matches('.').to_ascii_lowercase();
        let (suffix, subdomains_only) = match s.strip_prefix("*.") {
            Some(rest) => (rest.to_string(), true),
            None => (s, false),
        };
        let valid = !suffix.is_empty()
            && suffix.split('.').all(|label| {
                !label.is_empty()
                    && label
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
            });
        valid.then_some(DomainPattern {
            suffix,
            subdomains_only,
        })
    }

    /// Does this pattern match `host` (already lower-case)? Returns the matched suffix
    /// length so the most specific pattern can win.
    pub fn matches(&self, host: &str) -> Option<usize> {
        let host = host.trim_end_matches('.');
        if host == self.suffix {
            return (!self.subdomains_only).then_some(self.suffix.len());
        }
        let dotted = host.strip_suffix(self.suffix.as_str())?;
        dotted.ends_with('.').then_some(self.suffix.len())
    }
}

impl std::fmt::Display for DomainPattern {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.subdomains_only {
            write!(f, "*.{}", self.suffix)
        } else {
            f.write_str(&self.suffix)
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Vendor {
    pub id: String,
    pub name: String,
    pub domains: Vec<DomainPattern>,
    /// Ids of [`Purpose`]s.
    pub purposes: Vec<String>,
}

/// How long a cookie may live.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Retention {
    /// Must not outlive the browser session (no expiry).
    Session,
    /// At most this many seconds.
    MaxSeconds(i64),
}

impl Retention {
    /// Parse `session`, or a number with a unit: `s`, `m` (minutes), `h`, `d`.
    pub fn parse(s: &str) -> Option<Self> {
        let s = s.trim();
        if s == "session" {
            return Some(Retention::Session);
        }
        let unit_at = s.find(|c: char| !c.is_ascii_digit())?;
        let (num, unit) = s.split_at(unit_at);
        let n: i64 = num.parse().ok()?;
        let mult = match unit {
            "s" => 1,
            "m" => 60,
            "h" => 3600,
            "d" => 86_400,
            _ => return None,
        };
        n.checked_mul(mult).map(Retention::MaxSeconds)
    }

    /// Human form: `session`, `390d`, `12h`, ...
    pub fn describe(&self) -> String {
        match self {
            Retention::Session => "session".to_string(),
            Retention::MaxSeconds(s) => describe_secs(*s),
        }
    }
}

/// `390d`, `12h`, `30m`, `45s`: the largest unit that divides evenly.
pub fn describe_secs(s: i64) -> String {
    if s != 0 && s % 86_400 == 0 {
        format!("{}d", s / 86_400)
    } else if s != 0 && s % 3600 == 0 {
        format!("{}h", s / 3600)
    } else if s != 0 && s % 60 == 0 {
        format!("{}m", s / 60)
    } else {
        format!("{s}s")
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CookieRule {
    /// Name pattern; `*` matches any run of characters (`_ga_*`).
    pub name: String,
    /// Id of the owning [`Vendor`].
    pub vendor: String,
    pub max_retention: Retention,
}

impl CookieRule {
    pub fn matches(&self, cookie_name: &str) -> bool {
        glob_match(&self.name, cookie_name)
    }
}

/// `*`-only glob match (no other metacharacters).
pub fn glob_match(pattern: &str, text: &str) -> bool {
    let parts: Vec<&str> = pattern.split('*').collect();
    if parts.len() == 1 {
        return pattern == text;
    }
    let mut rest = text;
    for (i, part) in parts.iter().enumerate() {
        if i == 0 {
            match rest.strip_prefix(part) {
                Some(r) => rest = r,
                None => return false,
            }
        } else if i == parts.len() - 1 {
            return rest.ends_with(part);
        } else {
            match rest.find(part) {
                Some(pos) => rest = &rest[pos + part.len()..],
                None => return false,
            }
        }
    }
    true
}

/// The whole declared map.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Policy {
    pub path: PathBuf,
    pub purposes: Vec<Purpose>,
    pub vendors: Vec<Vendor>,
    pub cookies: Vec<CookieRule>,
}

/// Why a vendor may (or may not) run in a given consent state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Permission {
    /// Allowed, by this purpose.
    Allowed { purpose: String },
    /// Not allowed: consent is needed and was not given (undecided or denied).
    NeedsConsent {
        purposes: Vec<String>,
        choice: ConsentChoice,
    },
    /// Not allowed: every legitimate-interest purpose was objected to, and no other basis applies.
    Objected { purposes: Vec<String> },
}

impl Policy {
    pub fn purpose(&self, id: &str) -> Option<&Purpose> {
        self.purposes.iter().find(|p| p.id == id)
    }

    pub fn vendor(&self, id: &str) -> Option<&Vendor> {
        self.vendors.iter().find(|v| v.id == id)
    }

    /// The vendor whose most specific domain pattern matches `host`.
    pub fn vendor_for_host(&self, host: &str) -> Option<&Vendor> {
        let host = host.to_ascii_lowercase();
        self.vendors
            .iter()
            .filter_map(|v| {
                v.domains
                    .iter()
                    .filter_map(|d| d.matches(&host))
                    .max()
                    .map(|len| (len, v))
            })
            .max_by_key(|(len, _)| *len)
            .map(|(_, v)| v)
    }

    /// The first cookie rule (in file order) whose name pattern matches.
    pub fn cookie_rule(&self, name: &str) -> Option<&CookieRule> {
        self.cookies.iter().find(|c| c.matches(name))
    }

    /// May `vendor` process data in consent state `state`?
    ///
    /// A vendor may serve several purposes and one request cannot tell which; the vendor
    /// is allowed when at least one of its declared purposes allows it (documented in
    /// docs/findings.md). Contract, legal obligation and strictly necessary purposes
    /// always allow; legitimate interest allows until the visitor objects; consent
    /// allows only once granted.
    pub fn permission(&self, vendor: &Vendor, state: &ConsentState) -> Permission {
        let mut consent_purposes = Vec::new();
        let mut li_purposes = Vec::new();
        for pid in &vendor.purposes {
            let Some(p) = self.purpose(pid) else { continue };
            let allowed = p.strictly_necessary
                || match p.basis {
                    LegalBasis::Contract | LegalBasis::LegalObligation => true,
                    LegalBasis::LegitimateInterest => !state.li_objected,
                    LegalBasis::Consent => state.consent == ConsentChoice::Granted,
                };
            if allowed {
                return Permission::Allowed {
                    purpose: p.id.clone(),
                };
            }
            match p.basis {
                LegalBasis::Consent => consent_purposes.push(p.id.clone()),
                _ => li_purposes.push(p.id.clone()),
            }
        }
        if !consent_purposes.is_empty() {
            Permission::NeedsConsent {
                purposes: consent_purposes,
                choice: state.consent,
            }
        } else {
            Permission::Objected {
                purposes: li_purposes,
            }
        }
    }

    /// Bases of the vendor's purposes (deduplicated, in purpose order).
    pub fn bases(&self, vendor: &Vendor) -> Vec<LegalBasis> {
        let mut out = Vec::new();
        for pid in &vendor.purposes {
            if let Some(p) = self.purpose(pid) {
                if !out.contains(&p.basis) {
                    out.push(p.basis);
                }
            }
        }
        out
    }
}

/// Lookups used by attribution (`crate::attribution`).
impl Policy {
    /// Slack allowed on a stored cookie's lifetime before retention is exceeded
    /// (clock rounding).
    pub fn retention_tolerance_secs(&self) -> i64 {
        86_400
    }

    /// The vendor owning a request to `host` at `path`.
    pub fn vendor_for_url(&self, host: &str, _path: &str) -> Option<&Vendor> {
        self.vendor_for_host(host)
    }

    /// The cookie rule for a cookie of this name set on this domain.
    pub fn cookie_rule_for(&self, name: &str, _domain: &str) -> Option<&CookieRule> {
        self.cookie_rule(name)
    }

    /// What a cookie under `rule` may do in consent state `state`: its vendor's permission.
    /// ePrivacy: storing non-essential information needs consent whatever the GDPR basis,
    /// which the cookie checks apply on top of this.
    pub fn cookie_permission(&self, rule: &CookieRule, state: &ConsentState) -> Permission {
        match self.vendor(&rule.vendor) {
            Some(v) => self.permission(v, state),
            None => Permission::Objected {
                purposes: Vec::new(),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::observe::ConsentAction;

    fn policy() -> Policy {
        let purpose = |id: &str, basis, sn| Purpose {
            id: id.into(),
            name: id.into(),
            basis,
            strictly_necessary: sn,
            tcf_purpose: None,
        };
        Policy {
            path: PathBuf::from("p.toml"),
            purposes: vec![
                purpose("ads", LegalBasis::Consent, false),
                purpose("measure", LegalBasis::LegitimateInterest, false),
                purpose("security", LegalBasis::LegitimateInterest, true),
                purpose("payment", LegalBasis::Contract, false),
            ],
            vendors: vec![
                Vendor {
                    id: "fb".into(),
                    name: "Meta".into(),
                    domains: vec![DomainPattern::parse("facebook.net").unwrap()],
                    purposes: vec!["ads".into()],
                },
                Vendor {
                    id: "fbcdn".into(),
                    name: "Meta CDN".into(),
                    domains: vec![DomainPattern::parse("*.connect.facebook.net").unwrap()],
                    purposes: vec!["measure".into()],
                },
                Vendor {
                    id: "sec".into(),
                    name: "Sec".into(),
                    domains: vec![DomainPattern::parse("sec.test").unwrap()],
                    purposes: vec!["security".into()],
                },
            ],
            cookies: vec![CookieRule {
                name: "_ga_*".into(),
                vendor: "fb".into(),
                max_retention: Retention::parse("390d").unwrap(),
            }],
        }
    }

    #[test]
    fn domain_patterns() {
        let p = DomainPattern::parse("Example.COM").unwrap();
        assert!(p.matches("example.com").is_some());
        assert!(p.matches("a.b.example.com").is_some());
        assert!(p.matches("badexample.com").is_none());
        let s = DomainPattern::parse("*.example.com").unwrap();
        assert!(s.matches("example.com").is_none());
        assert!(s.matches("www.example.com").is_some());
        assert!(DomainPattern::parse("bad host").is_none());
        assert!(DomainPattern::parse("").is_none());
    }

    #[test]
    fn most_specific_vendor_wins() {
        let p = policy();
        assert_eq!(p.vendor_for_host("connect.facebook.net").unwrap().id, "fb");
        assert_eq!(
            p.vendor_for_host("x.connect.facebook.net").unwrap().id,
            "fbcdn"
        );
        assert!(p.vendor_for_host("example.org").is_none());
    }

    #[test]
    fn globs_and_retention() {
        assert!(glob_match("_ga_*", "_ga_ABC"));
        assert!(!glob_match("_ga_*", "_ga"));
        assert!(glob_match("*id*", "session_id_x"));
        assert!(glob_match("exact", "exact"));
        assert_eq!(
            Retention::parse("390d"),
            Some(Retention::MaxSeconds(390 * 86_400))
        );
        assert_eq!(Retention::parse("session"), Some(Retention::Session));
        assert_eq!(Retention::parse("13 months"), None);
        assert_eq!(Retention::parse("12x"), None);
        assert_eq!(describe_secs(86_400 * 2), "2d");
    }

    #[test]
    fn permissions_follow_state() {
        let p = policy();
        let s0 = ConsentState::initial();
        let fb = p.vendor("fb").unwrap();
        assert!(matches!(
            p.permission(fb, &s0),
            Permission::NeedsConsent { .. }
        ));
        let accepted = s0.after(ConsentAction::AcceptAll);
        assert!(matches!(
            p.permission(fb, &accepted),
            Permission::Allowed { .. }
        ));
        let li = p.vendor("fbcdn").unwrap();
        assert!(matches!(p.permission(li, &s0), Permission::Allowed { .. }));
        let objected = accepted.after(ConsentAction::ObjectLi);
        assert!(matches!(
            p.permission(li, &objected),
            Permission::Objected { .. }
        ));
        let sec = p.vendor("sec").unwrap();
        assert!(matches!(
            p.permission(sec, &objected),
            Permission::Allowed { .. }
        ));
    }
}

//! The declared map, owned by the privacy team: purposes with their legal basis,
//! vendors with their domains and purposes, cookies with their owner and retention.
//!
//! This module holds the validated model and the lookups the analysis needs
//! (host -> vendor, cookie name -> rule, may this vendor run in this consent state).
//! Loading and validation of the file live in [`load`].

pub mod gvl;
mod index;
mod lines;
pub mod load;
pub(crate) mod load_vendor;
pub mod pattern;
mod permission;
pub mod write;

pub use index::HostIndex;
pub use lines::DeclaredLines;
pub use pattern::{glob_match, DomainPattern, HostPattern};

use crate::model::ConsentChoice;
/// The legal basis of a declared purpose lives on the ground floor (the inventory, the
/// store and drift carry it too).
pub use crate::model::LegalBasis;
use serde::Serialize;
use std::path::PathBuf;

/// Whether a cookie is declared first party or third party (`first`, `third`).
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    Serialize,
    strum::EnumString,
    strum::Display,
    strum::IntoStaticStr,
    strum::EnumIter,
    strum::VariantNames,
)]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum Party {
    First,
    Third,
}

/// How a Google tag implements Consent Mode (`basic`: the tag is not loaded before
/// consent; `advanced`: it loads and sends cookieless pings before consent).
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    Serialize,
    strum::EnumString,
    strum::Display,
    strum::IntoStaticStr,
    strum::EnumIter,
    strum::VariantNames,
)]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum ConsentMode {
    Basic,
    Advanced,
}

/// What a vendor declares in the IAB TCF Global Vendor List. Stored for the analysis
/// and reports; it does not change the verdicts of the purpose model.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct TcfDeclaration {
    /// GVL vendor id.
    pub vendor_id: Option<u32>,
    /// Purposes (1-11) processed on consent.
    pub consent_purposes: Vec<u8>,
    /// Purposes (1-11) processed on legitimate interest.
    pub li_purposes: Vec<u8>,
    /// Special purposes (1-3).
    pub special_purposes: Vec<u8>,
    /// Features (1-3).
    pub features: Vec<u8>,
    /// Special features (1-2).
    pub special_features: Vec<u8>,
    /// Where the declarations are (for the Global Vendor List lint, [`gvl::lint`]).
    #[serde(skip)]
    pub at: TcfAt,
}

/// Positions (`file:line:col`) of a vendor's TCF declarations.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TcfAt {
    pub vendor_id: Option<String>,
    /// (purpose, on legitimate interest, position) of each listed purpose.
    pub purposes: Vec<(u8, bool, String)>,
}

/// A problem of the declared map itself (not of the site). It does not stop the
/// audit: the analysis turns it into a finding, `validate` shows it as a warning.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    Serialize,
    strum::EnumString,
    strum::Display,
    strum::IntoStaticStr,
    strum::EnumIter,
    strum::VariantNames,
)]
#[serde(rename_all = "kebab-case")]
#[strum(serialize_all = "kebab-case")]
pub enum MapIssueCode {
    /// A purpose with `basis = "legitimate_interest"` and TCF purpose 1 or 3-6.
    LiBasisForbiddenTcfPurpose,
    /// A vendor's `tcf_li_purposes` lists purpose 1 or 3-6.
    VendorTcfLiForbidden,
    /// A declared TCF vendor id is not (or no longer) in the Global Vendor List.
    GvlVendorMissing,
    /// Legitimate interest declared for a purpose the vendor registered for consent only.
    GvlLiConsentOnly,
    /// A purpose declared for a vendor that the vendor did not register in the GVL.
    GvlPurposeUnregistered,
}

impl MapIssueCode {
    /// The stable kebab-case code, e.g. `li-basis-forbidden-tcf-purpose`.
    pub fn as_str(self) -> &'static str {
        self.into()
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MapIssue {
    pub code: MapIssueCode,
    /// The purpose or vendor id.
    pub subject: String,
    pub message: String,
    /// The rule it breaks, e.g. "TCF 2.2: legitimate interest is not permitted for purposes 3-6".
    pub rule: String,
    /// `file:line:col` of the declaration.
    pub location: String,
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
    /// Global Privacy Control opts the visitor out of it (advertising, sale, sharing):
    /// `gpc_opt_out`, by default true for TCF purposes 2, 3 and 4
    /// ([`default_gpc_opt_out`]).
    pub gpc_opt_out: bool,
    /// `draft = true`: written by `consentry init` or an import and not yet confirmed by
    /// a person; the audit reports it (`draft-unconfirmed`) until the line is removed.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub draft: bool,
}

/// TCF purposes GPC opts out of when a purpose does not say (`gpc_opt_out`): 2 (use
/// limited data to select advertising), 3 (create profiles for personalised advertising)
/// and 4 (use profiles to select personalised advertising).
pub const GPC_DEFAULT_TCF_PURPOSES: [u8; 3] = [2, 3, 4];

/// The default of `gpc_opt_out`: an advertising TCF purpose that is not strictly necessary.
pub fn default_gpc_opt_out(tcf_purpose: Option<u8>, strictly_necessary: bool) -> bool {
    !strictly_necessary && tcf_purpose.is_some_and(|n| GPC_DEFAULT_TCF_PURPOSES.contains(&n))
}

#[derive(Debug, Clone, PartialEq, Serialize, Default)]
pub struct Vendor {
    pub id: String,
    pub name: String,
    /// Registrable-domain patterns (`example.com` and its subdomains, `*.example.com`).
    pub domains: Vec<DomainPattern>,
    /// Exact hosts, each with an optional path prefix (`www.google.com/recaptcha`).
    pub hosts: Vec<HostPattern>,
    /// Page-path globs where the vendor is declared to be embedded (`/checkout`,
    /// `/product/*`); the loader's default is `["*"]`, and an empty list also means
    /// every page.
    pub pages: Vec<String>,
    /// Ids of [`Purpose`]s.
    pub purposes: Vec<String>,
    /// What the vendor declares in the IAB TCF, when the policy says.
    pub tcf: Option<TcfDeclaration>,
    /// For Google tags: how Consent Mode is implemented, when the policy says.
    pub consent_mode: Option<ConsentMode>,
    /// The CMP's services or categories this vendor is (Klaro service names,
    /// vanilla-cookieconsent categories): its consent and legitimate interest are also
    /// judged by what the CMP's record holds for them.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub cmp_services: Vec<String>,
    /// `draft = true`: not yet confirmed by a person (see [`Purpose::draft`]).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub draft: bool,
}

impl Vendor {
    /// Is the vendor declared to be embedded on the page at `url` (its `pages` globs,
    /// matched against the URL's path)?
    pub fn declared_on_page(&self, url: &url::Url) -> bool {
        self.pages.is_empty() || self.pages.iter().any(|p| glob_match(p, url.path()))
    }
}

/// How long a cookie may live.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Retention {
    /// Must not outlive the browser session (no expiry).
    #[default]
    Session,
    /// At most this many seconds.
    MaxSeconds(i64),
}

impl Retention {
    /// Parse `session`, or a duration (the grammar of [`crate::toml_check::duration`]:
    /// `390d`, `13months`, `2years`, `"1 year 1 month"`, ...), in whole seconds.
    pub fn parse(s: &str) -> Option<Self> {
        if s.trim() == "session" {
            return Some(Retention::Session);
        }
        crate::toml_check::parse_duration_secs(s).map(Retention::MaxSeconds)
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

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct CookieRule {
    /// Name pattern; `*` matches any run of characters (`_ga_*`).
    pub name: String,
    /// Id of the owning [`Vendor`].
    pub vendor: String,
    pub max_retention: Retention,
    /// When set, the rule matches only cookies of this domain (a cookie domain
    /// `example.com` or `.example.com` is matched as the host `example.com`).
    pub domain: Option<DomainPattern>,
    /// Declared first or third party.
    pub party: Option<Party>,
    /// The cookie's own legal basis, when it differs from its vendor's purposes.
    pub basis: Option<LegalBasis>,
    /// The cookie's own strictly-necessary flag, when it differs from its vendor's.
    pub strictly_necessary: Option<bool>,
    /// `draft = true`: not yet confirmed by a person (see [`Purpose::draft`]).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub draft: bool,
}

impl CookieRule {
    pub fn matches(&self, cookie_name: &str) -> bool {
        glob_match(&self.name, cookie_name)
    }

    /// Does the rule's `domain` (if any) match the cookie domain `domain`?
    pub fn matches_domain(&self, domain: &str) -> bool {
        match &self.domain {
            None => true,
            Some(d) => {
                let host = domain.trim().trim_start_matches('.').to_ascii_lowercase();
                d.matches(&host).is_some()
            }
        }
    }
}

/// The whole declared map.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Policy {
    pub path: PathBuf,
    pub purposes: Vec<Purpose>,
    pub vendors: Vec<Vendor>,
    pub cookies: Vec<CookieRule>,
    /// Problems of the map itself (e.g. legitimate interest for TCF purposes 3-6):
    /// they do not stop the audit, the analysis reports them.
    pub map_issues: Vec<MapIssue>,
    /// How much longer than `max_retention` a stored cookie may live before it is a
    /// finding (clock rounding), in seconds: `[settings] retention_tolerance`.
    pub retention_tolerance_secs: i64,
    /// SHA-256 of the file's raw bytes, first 16 hex digits.
    pub digest: String,
    /// Where each declaration is written in the file (reports point at them).
    #[serde(skip)]
    pub lines: DeclaredLines,
    /// Host -> vendor index, built from `vendors` on the first lookup (so `vendors`
    /// must not change after a lookup; build a new `Policy` instead).
    #[serde(skip)]
    pub index: HostIndex,
}

/// The default `retention_tolerance`: one day.
pub const DEFAULT_RETENTION_TOLERANCE_SECS: i64 = 86_400;

impl Default for Policy {
    fn default() -> Self {
        Policy {
            path: PathBuf::new(),
            purposes: Vec::new(),
            vendors: Vec::new(),
            cookies: Vec::new(),
            map_issues: Vec::new(),
            retention_tolerance_secs: DEFAULT_RETENTION_TOLERANCE_SECS,
            digest: String::new(),
            lines: DeclaredLines::default(),
            index: HostIndex::default(),
        }
    }
}

/// Why a vendor may (or may not) run in a given consent state ([`Policy::permission`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Permission {
    /// Allowed, by this purpose.
    Allowed { purpose: String },
    /// Not allowed: consent is needed and was not given (undecided or denied).
    NeedsConsent {
        purposes: Vec<String>,
        choice: ConsentChoice,
        /// Which purpose and which source decided, where that is more than the phase's
        /// summary (a TCF purpose, a CMP service, the action and the record disagreeing).
        why: Vec<String>,
    },
    /// Not allowed: every legitimate-interest purpose was objected to, and no other basis applies.
    Objected {
        purposes: Vec<String>,
        /// As for `NeedsConsent`.
        why: Vec<String>,
    },
}

impl Permission {
    /// `; decided by purpose "x" (TCF purpose 8): …` for evidence, or nothing.
    pub fn why_note(&self) -> Option<String> {
        let why = match self {
            Permission::Allowed { .. } => return None,
            Permission::NeedsConsent { why, .. } | Permission::Objected { why, .. } => why,
        };
        (!why.is_empty()).then(|| format!("decided by {}", why.join("; ")))
    }
}

impl Policy {
    pub fn purpose(&self, id: &str) -> Option<&Purpose> {
        self.purposes.iter().find(|p| p.id == id)
    }

    pub fn vendor(&self, id: &str) -> Option<&Vendor> {
        self.vendors.iter().find(|v| v.id == id)
    }

    /// The vendor owning a request to `host` with URL path `path`: the most specific
    /// pattern wins — an exact host with a longer path prefix, then an exact host, then
    /// the longest domain suffix. Indexed: the cost depends on the host's labels, not
    /// on the number of vendors.
    pub fn vendor_for_url(&self, host: &str, path: &str) -> Option<&Vendor> {
        self.index
            .get(&self.vendors)
            .lookup(host, Some(path))
            .and_then(|i| self.vendors.get(i))
    }

    /// The vendor owning `host`, for callers with no path: an exact-host pattern
    /// matches its host whatever its path prefix, then the longest domain suffix.
    pub fn vendor_for_host(&self, host: &str) -> Option<&Vendor> {
        self.index
            .get(&self.vendors)
            .lookup(host, None)
            .and_then(|i| self.vendors.get(i))
    }

    /// The first cookie rule (in file order) whose name pattern matches, whatever its
    /// `domain` (for callers that do not know the cookie's domain).
    pub fn cookie_rule(&self, name: &str) -> Option<&CookieRule> {
        self.cookies.iter().find(|c| c.matches(name))
    }

    /// The rule for the cookie `name` set on `domain`: the first rule (in file order)
    /// whose name and `domain` both match; failing that, the first rule without a
    /// `domain` whose name matches.
    pub fn cookie_rule_for(&self, name: &str, domain: &str) -> Option<&CookieRule> {
        self.cookies
            .iter()
            .find(|c| c.domain.is_some() && c.matches(name) && c.matches_domain(domain))
            .or_else(|| {
                self.cookies
                    .iter()
                    .find(|c| c.domain.is_none() && c.matches(name))
            })
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::ConsentAction;

    fn policy() -> Policy {
        let purpose = |id: &str, basis, sn| Purpose {
            gpc_opt_out: false,
            draft: false,
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
                    ..Default::default()
                },
                Vendor {
                    id: "fbcdn".into(),
                    name: "Meta CDN".into(),
                    domains: vec![DomainPattern::parse("*.connect.facebook.net").unwrap()],
                    purposes: vec!["measure".into()],
                    ..Default::default()
                },
                Vendor {
                    id: "sec".into(),
                    name: "Sec".into(),
                    domains: vec![DomainPattern::parse("sec.test").unwrap()],
                    hosts: vec![
                        HostPattern::parse_checked("www.facebook.net/captcha").unwrap(),
                        HostPattern::parse_checked("www.facebook.net/captcha/v2").unwrap(),
                    ],
                    purposes: vec!["security".into()],
                    pages: vec!["/checkout".into(), "/product/*".into()],
                    ..Default::default()
                },
                Vendor {
                    id: "maps".into(),
                    name: "Maps".into(),
                    hosts: vec![HostPattern::parse_checked("www.facebook.net").unwrap()],
                    purposes: vec!["payment".into()],
                    ..Default::default()
                },
            ],
            cookies: vec![
                CookieRule {
                    name: "_ga_*".into(),
                    vendor: "fb".into(),
                    max_retention: Retention::parse("390d").unwrap(),
                    ..Default::default()
                },
                CookieRule {
                    name: "_ga_X".into(),
                    vendor: "sec".into(),
                    max_retention: Retention::Session,
                    domain: DomainPattern::parse("sec.test"),
                    ..Default::default()
                },
            ],
            ..Default::default()
        }
    }

    #[test]
    fn exact_hosts_and_paths_beat_suffixes() {
        let p = policy();
        let id = |h: &str, path: &str| p.vendor_for_url(h, path).map(|v| v.id.as_str());
        assert_eq!(id("www.facebook.net", "/captcha/v2/x"), Some("sec"));
        assert_eq!(id("WWW.facebook.net.", "/captcha"), Some("sec"));
        assert_eq!(id("www.facebook.net", "/captcha2"), Some("maps"));
        assert_eq!(id("www.facebook.net", "/"), Some("maps"));
        assert_eq!(id("x.www.facebook.net", "/captcha"), Some("fb"));
        assert_eq!(id("connect.facebook.net", "/"), Some("fb"));
        assert_eq!(id("a.connect.facebook.net", "/"), Some("fbcdn"));
        assert_eq!(id("facebook.org", "/"), None);
        // Without a path: the vendor owning the whole host, else one owning a path of it.
        assert_eq!(p.vendor_for_host("www.facebook.net").unwrap().id, "maps");
        let mut only_paths = policy();
        only_paths.vendors.retain(|v| v.id != "maps");
        assert_eq!(
            only_paths.vendor_for_host("www.facebook.net").unwrap().id,
            "sec"
        );
        assert_eq!(
            only_paths
                .vendor_for_url("www.facebook.net", "/")
                .unwrap()
                .id,
            "fb"
        );
    }

    #[test]
    fn cookie_rules_by_domain() {
        let p = policy();
        assert_eq!(p.cookie_rule("_ga_X").unwrap().vendor, "fb");
        assert_eq!(
            p.cookie_rule_for("_ga_X", ".www.sec.test").unwrap().vendor,
            "sec"
        );
        assert_eq!(
            p.cookie_rule_for("_ga_X", "other.test").unwrap().vendor,
            "fb"
        );
        assert_eq!(p.cookie_rule_for("_ga_Y", "sec.test").unwrap().vendor, "fb");
        assert!(p.cookie_rule_for("nope", "sec.test").is_none());
    }

    #[test]
    fn declared_pages() {
        let p = policy();
        let url = |s: &str| url::Url::parse(s).unwrap();
        let sec = p.vendor("sec").unwrap();
        assert!(sec.declared_on_page(&url("https://s.test/checkout?x=1")));
        assert!(sec.declared_on_page(&url("https://s.test/product/42")));
        assert!(!sec.declared_on_page(&url("https://s.test/")));
        assert!(p
            .vendor("fb")
            .unwrap()
            .declared_on_page(&url("https://s.test/")));
    }

    #[test]
    fn enum_strings() {
        use strum::IntoEnumIterator;
        for b in LegalBasis::iter() {
            assert_eq!(LegalBasis::parse(b.as_str()), Some(b));
            assert!(LegalBasis::ALL.contains(&b.as_str()));
        }
        assert_eq!(
            MapIssueCode::LiBasisForbiddenTcfPurpose.as_str(),
            "li-basis-forbidden-tcf-purpose"
        );
        assert_eq!(
            MapIssueCode::VendorTcfLiForbidden.as_str(),
            "vendor-tcf-li-forbidden"
        );
        assert_eq!(
            "advanced".parse::<ConsentMode>().ok(),
            Some(ConsentMode::Advanced)
        );
        assert_eq!(Party::Third.to_string(), "third");
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
    fn retention() {
        assert_eq!(
            Retention::parse("390d"),
            Some(Retention::MaxSeconds(390 * 86_400))
        );
        assert_eq!(Retention::parse("session"), Some(Retention::Session));
        assert_eq!(
            Retention::parse("13 months"),
            Some(Retention::MaxSeconds(13 * 2_630_016))
        );
        assert_eq!(Retention::parse("12x"), None);
        assert_eq!(describe_secs(86_400 * 2), "2d");
    }

    #[test]
    fn permissions_follow_state() {
        use crate::model::purpose::PhaseConsent;
        use crate::model::ConsentState;
        let p = policy();
        let phase = |s: &ConsentState| PhaseConsent::derive(s, None);
        let s0 = ConsentState::initial();
        let fb = p.vendor("fb").unwrap();
        assert!(matches!(
            p.permission(fb, &phase(&s0)),
            Permission::NeedsConsent { .. }
        ));
        let accepted = s0.after(ConsentAction::AcceptAll);
        assert!(matches!(
            p.permission(fb, &phase(&accepted)),
            Permission::Allowed { .. }
        ));
        let li = p.vendor("fbcdn").unwrap();
        assert!(matches!(
            p.permission(li, &phase(&s0)),
            Permission::Allowed { .. }
        ));
        let objected = accepted.after(ConsentAction::ObjectLi);
        assert!(matches!(
            p.permission(li, &phase(&objected)),
            Permission::Objected { .. }
        ));
        let sec = p.vendor("sec").unwrap();
        assert!(matches!(
            p.permission(sec, &phase(&objected)),
            Permission::Allowed { .. }
        ));
    }
}

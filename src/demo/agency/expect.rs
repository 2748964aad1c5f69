//! The expectation writer: what each site must yield, from the plan alone (`expected.json`).

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};

use super::plan::{Broken, Plant, SitePlan, SCENARIOS};
use super::vendors::{AM_COOKIE, AUDIENCEMETER, HIDDENPIXEL, PARTNERHUB, PAYBOX};

/// What a generation holds and what an audit of it must find (`expected.json`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AgencyManifest {
    pub seed: u64,
    /// The fleet file, relative to the generation's directory.
    pub fleet: String,
    /// The scenarios every client runs, in order.
    pub scenarios: Vec<String>,
    /// The sites no audit can observe (they hang, answer 500, or loop).
    pub not_observed: Vec<String>,
    pub sites: Vec<ExpectedSite>,
}

/// One client site and the findings planted on it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExpectedSite {
    pub name: String,
    pub host: String,
    pub base_url: String,
    /// Its scenario file, relative to the generation's directory.
    pub client: String,
    /// Its policy, relative to the generation's directory.
    pub policy: String,
    /// How the fleet file lists it: `"file"` or `"inline"`.
    pub fleet_entry: String,
    /// `klaro`, `cookieconsent`, `tcf` or `banner`.
    pub cmp: String,
    /// `hang`, `error-500` or `redirect-loop` for a broken site.
    pub broken: Option<String>,
    /// False for a broken site: every scenario is not observed.
    pub observed: bool,
    /// How the sitemaps are published.
    pub sitemaps: String,
    /// The pages the client's scenario file lists.
    pub pages: Vec<String>,
    /// Exactly the findings an audit must report (with `needs_crawl` ones only when
    /// pages are discovered).
    pub findings: Vec<ExpectedFinding>,
    /// Planted on a page robots.txt disallows: an audit must never report these.
    pub never: Vec<ExpectedFinding>,
}

/// One planted finding.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExpectedFinding {
    pub code: String,
    pub subject: String,
    /// The scenarios it is reported in; empty for a site-level finding.
    pub scenarios: Vec<String>,
    /// The page it is planted on (`None`: the site as a whole).
    pub page: Option<String>,
    /// Planted on a page only links reach: found once pages are discovered.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub needs_crawl: bool,
}

impl ExpectedSite {
    /// The findings as (code, scenario or `-`, subject), with or without those that
    /// need page discovery.
    pub fn keys(&self, with_crawl: bool) -> BTreeSet<(String, String, String)> {
        let mut keys = BTreeSet::new();
        for f in self
            .findings
            .iter()
            .filter(|f| with_crawl || !f.needs_crawl)
        {
            if f.scenarios.is_empty() {
                keys.insert((f.code.clone(), "-".into(), f.subject.clone()));
            }
            for s in &f.scenarios {
                keys.insert((f.code.clone(), s.clone(), f.subject.clone()));
            }
        }
        keys
    }
}

fn finding(code: &str, subject: &str, scenarios: &[&str], page: Option<&str>) -> ExpectedFinding {
    ExpectedFinding {
        code: code.into(),
        subject: subject.into(),
        scenarios: scenarios.iter().map(|s| s.to_string()).collect(),
        page: page.map(str::to_string),
        needs_crawl: false,
    }
}

const ALL: &[&str] = &SCENARIOS;
const NO_ACTION: &[&str] = &["no_action"];
const REJECT: &[&str] = &["reject_all"];

/// What `site` must yield, derived from its plan.
pub(super) fn expected_site(site: &SitePlan) -> ExpectedSite {
    let mut findings = Vec::new();
    if site.broken.is_some() {
        for s in SCENARIOS {
            findings.push(finding("scenario-not-observed", s, &[s], Some("/")));
        }
    }
    for plant in &site.plants {
        match plant {
            Plant::UngatedConsentVendor(v) => {
                // Before the choice on the first page of every scenario; after the reject,
                // on the next page.
                findings.push(finding(
                    "consent-vendor-before-choice",
                    v.id,
                    ALL,
                    Some("/"),
                ));
                findings.push(finding(
                    "consent-vendor-after-reject",
                    v.id,
                    REJECT,
                    Some("/"),
                ));
            }
            Plant::ConsentVendorOnPage(v, p) => {
                // The page comes after the consent step: only no_action sees it before a
                // choice; after accept it is allowed.
                findings.push(finding(
                    "consent-vendor-before-choice",
                    v.id,
                    NO_ACTION,
                    Some(p),
                ));
                findings.push(finding(
                    "consent-vendor-after-reject",
                    v.id,
                    REJECT,
                    Some(p),
                ));
            }
            Plant::UndeclaredThirdParty(v, p) => {
                findings.push(finding("undeclared-third-party", v.domain(), ALL, Some(p)));
            }
            Plant::UndeclaredCookie(name, p) => {
                findings.push(finding("undeclared-cookie", name, ALL, Some(p)));
            }
            Plant::RetentionExceeded(name, p) => {
                findings.push(finding("cookie-retention-exceeded", name, ALL, Some(p)));
            }
            Plant::OutsideDeclaredPages(p) => {
                findings.push(finding(
                    "vendor-outside-declared-pages",
                    PAYBOX.id,
                    ALL,
                    Some(p),
                ));
            }
            Plant::LiCookie => {
                // Written before the choice on the first page of every scenario.
                findings.push(finding(
                    "li-cookie-without-consent",
                    AM_COOKIE,
                    ALL,
                    Some("/"),
                ));
            }
            Plant::UngatedLiVendor => {
                findings.push(finding(
                    "li-vendor-after-objection",
                    AUDIENCEMETER.id,
                    REJECT,
                    Some("/"),
                ));
            }
            Plant::UnobservedVendor(v) => {
                findings.push(finding("declared-vendor-unobserved", v.id, &[], None));
            }
        }
    }
    if let Some(p) = &site.link_only_plant {
        let mut f = finding("undeclared-third-party", PARTNERHUB.domain(), ALL, Some(p));
        f.needs_crawl = true;
        findings.push(f);
    }
    let never = site
        .disallowed_plant
        .iter()
        .map(|p| finding("undeclared-third-party", HIDDENPIXEL.domain(), ALL, Some(p)))
        .collect();
    findings.sort_by(|a, b| (&a.code, &a.subject).cmp(&(&b.code, &b.subject)));
    ExpectedSite {
        name: site.name.clone(),
        host: site.host.clone(),
        base_url: format!("https://{}/", site.host),
        client: format!("clients/{}.toml", site.name),
        policy: format!("clients/{}.policy.toml", site.name),
        fleet_entry: if site.inline { "inline" } else { "file" }.into(),
        cmp: site.cmp.name().into(),
        broken: site.broken.map(|b| Broken::name(b).to_string()),
        observed: site.broken.is_none(),
        sitemaps: site.sitemaps.name().into(),
        pages: site.audit_pages(),
        findings,
        never,
    }
}

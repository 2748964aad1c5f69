//! The checks, one module per family, registered in [`FAMILIES`]. Each family exports
//! its codes and its check functions; a check reads attributed records
//! ([`crate::attribution`]) and pushes one [`Hit`] per offending observation.
//! Every code is documented in docs/findings.md (a test holds that true).

pub(crate) mod chains;
pub(crate) mod cmp;
pub(crate) mod consent_mode;
pub(crate) mod cookies;
pub(crate) mod coverage;
pub(crate) mod gpc;
pub(crate) mod gpp;
pub(crate) mod knowledge;
pub(crate) mod map;
pub(crate) mod requests;
pub(crate) mod tcf;

use super::finding::{Code, Evidence};
use super::sink::Sink;
use crate::attribution::{write_stores, AttributedVisit};
use crate::model::{
    ConsentChoice, CookieSource, CookieWrite, RequestObs, StorageWrite, StoredCookie,
    VisitObservation,
};
use crate::policy::{describe_secs, Policy, Vendor};
use crate::scenario::Site;

/// What a per-visit check may look at: one attributed visit.
pub(crate) struct VisitCtx<'c, 'a, 'p> {
    pub site: &'p Site,
    pub policy: &'p Policy,
    pub visit: &'c AttributedVisit<'a, 'p>,
}

impl VisitCtx<'_, '_, '_> {
    pub fn obs(&self) -> &VisitObservation {
        self.visit.obs
    }
}

/// What a run-level check may look at: every attributed visit of the run.
pub(crate) struct RunCtx<'c, 'a, 'p> {
    pub site: &'p Site,
    pub policy: &'p Policy,
    pub visits: &'c [AttributedVisit<'a, 'p>],
}

pub(crate) type VisitCheck = fn(&VisitCtx, &mut Sink);
pub(crate) type RunCheck = fn(&RunCtx, &mut Sink);

/// A family of checks: its codes, and what it checks per visit and per run.
pub(crate) struct Family {
    pub name: &'static str,
    pub codes: &'static [Code],
    /// Judged as soon as a visit is recorded.
    pub visit: &'static [VisitCheck],
    /// Judged once every visit of the run is in.
    pub run: &'static [RunCheck],
}

/// Every family, in the order checks run.
pub(crate) const FAMILIES: &[Family] = &[
    requests::FAMILY,
    chains::FAMILY,
    cookies::FAMILY,
    gpc::FAMILY,
    gpp::FAMILY,
    coverage::FAMILY,
    cmp::FAMILY,
    map::FAMILY,
    tcf::FAMILY,
    consent_mode::FAMILY,
    knowledge::FAMILY,
];

const DAY: i64 = 86_400;
/// Chromium caps cookie lifetimes at 400 days.
const CHROMIUM_MAX_LIFETIME: i64 = crate::model::CHROMIUM_MAX_COOKIE_SECS;

// ---------------------------------------------------------------------------------------
// helpers

fn vendor_label(v: &Vendor) -> String {
    format!("{} (\"{}\")", v.name, v.id)
}

fn quoted_list(items: &[String]) -> String {
    items
        .iter()
        .map(|i| format!("\"{i}\""))
        .collect::<Vec<_>>()
        .join(", ")
}

/// `purpose "advertising" requires consent` / `purposes "a", "b" require consent`.
fn purposes_require(purposes: &[String], what: &str, what_plural: &str) -> String {
    if purposes.len() == 1 {
        format!("purpose {} {what}", quoted_list(purposes))
    } else {
        format!("purposes {} {what_plural}", quoted_list(purposes))
    }
}

fn request_detail(req: &RequestObs) -> String {
    let mut d = format!("{} {}", req.method, req.resource_type);
    match (&req.status, &req.error) {
        (_, Some(e)) if req.cancelled => d.push_str(&format!(", cancelled: {e}")),
        (None, None) if req.cancelled => d.push_str(", cancelled before a response"),
        (_, Some(e)) => d.push_str(&format!(", failed: {e}")),
        (Some(s), None) => d.push_str(&format!(", status {s}")),
        (None, None) => d.push_str(", no response"),
    }
    if let Some(i) = &req.initiator {
        d.push_str(&format!(", initiator {i}"));
    }
    d
}

fn request_evidence(obs: &VisitObservation, req: &RequestObs) -> Evidence {
    Evidence {
        scenario: obs.scenario.clone(),
        page: req.page.clone(),
        request_url: Some(req.url.clone()),
        cookie: None,
        time: req.time,
        phase: req.state.phase(),
        detail: Some(request_detail(req)),
        logged_in: false,
    }
}

/// `e` with what the knowledge bases say of its subject appended to its detail
/// (`...; known: TikTok (ByteDance Ltd), category social, by pattern *.tiktok.com in
/// third-party-web 0.30.0`): shown beside, never merged with, the declared map's say.
fn with_known(mut e: Evidence, known: Option<&crate::knowledge::Known>) -> Evidence {
    if let Some(k) = known {
        e.detail = Some(match e.detail {
            Some(d) => format!("{d}; {}", k.describe()),
            None => k.describe(),
        });
    }
    e
}

fn storage_evidence(obs: &VisitObservation, w: &StorageWrite, detail: String) -> Evidence {
    Evidence {
        scenario: obs.scenario.clone(),
        page: w.page.clone(),
        request_url: None,
        cookie: Some(format!(
            "{}Storage:{}@{}",
            w.area,
            w.key,
            crate::net::url_host(&w.origin).unwrap_or_else(|| w.origin.clone())
        )),
        time: w.time,
        phase: w.state.phase(),
        detail: Some(detail),
        logged_in: false,
    }
}

fn write_evidence(obs: &VisitObservation, w: &CookieWrite, detail: String) -> Evidence {
    Evidence {
        scenario: obs.scenario.clone(),
        page: w.page.clone(),
        request_url: match &w.source {
            CookieSource::Header { request_url } => Some(request_url.clone()),
            CookieSource::Script { .. } => None,
        },
        cookie: Some(format!("{}@{}", w.name, w.domain)),
        time: w.time,
        phase: w.state.phase(),
        detail: Some(detail),
        logged_in: false,
    }
}

fn stored_evidence(
    site: &Site,
    obs: &VisitObservation,
    c: &StoredCookie,
    detail: String,
) -> Evidence {
    Evidence {
        scenario: obs.scenario.clone(),
        page: last_page_or_site(obs, site),
        request_url: None,
        cookie: Some(format!("{}@{}", c.name, c.domain)),
        time: c.observed_at,
        phase: c.state.phase(),
        detail: Some(detail),
        logged_in: false,
    }
}

fn source_phrase(source: &CookieSource) -> &'static str {
    match source {
        CookieSource::Header { .. } => "via Set-Cookie header",
        CookieSource::Script { .. } => "via document.cookie",
    }
}

/// `730d`, `12h`; values that are not a whole number of minutes are rounded (`~400d`).
pub(crate) fn human_secs(s: i64) -> String {
    if s % 60 == 0 || s.abs() < 60 {
        describe_secs(s)
    } else if s.abs() >= DAY {
        format!("~{}d", (s + DAY / 2).div_euclid(DAY))
    } else if s.abs() >= 3600 {
        format!("~{}h", (s + 1800).div_euclid(3600))
    } else {
        format!("~{}m", (s + 30).div_euclid(60))
    }
}

/// The top-level page the visit was last seen on (for findings about the whole visit).
pub(crate) fn last_page(obs: &VisitObservation) -> String {
    let req = obs.requests.iter().map(|r| (r.time, &r.page));
    let writes = obs.cookie_writes.iter().map(|w| (w.time, &w.page));
    req.chain(writes)
        .filter(|(_, p)| !p.is_empty())
        .max_by_key(|(t, _)| *t)
        .map(|(_, p)| p.clone())
        .unwrap_or_default()
}

fn last_page_or_site(obs: &VisitObservation, site: &Site) -> String {
    let p = last_page(obs);
    if p.is_empty() {
        site.pages
            .first()
            .unwrap_or(&site.base_url)
            .as_str()
            .to_string()
    } else {
        p
    }
}

fn choice_phrase(choice: ConsentChoice) -> &'static str {
    match choice {
        ConsentChoice::Undecided => "before the visitor made a consent choice",
        ConsentChoice::Denied => "after the visitor rejected",
        ConsentChoice::Granted => "although consent was granted",
    }
}

fn choice_str(choice: ConsentChoice) -> &'static str {
    match choice {
        ConsentChoice::Undecided => "undecided",
        ConsentChoice::Granted => "granted",
        ConsentChoice::Denied => "denied",
    }
}

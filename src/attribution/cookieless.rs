//! The one exemption rule of the request checks, derived once per request: is it a
//! Consent Mode `advanced` cookieless ping?
//!
//! A vendor declaring `consent_mode = "advanced"` has its Google tag send pings while
//! consent is not given, with every storage type denied: that is what the mode does, and
//! Google stores and reads nothing on the device for them. A request is such a ping when
//! it is the vendor's tag library load, or a Google tag hit whose Consent Mode state says
//! every storage type denied and nothing granted, and no Google identifier cookie was set
//! by its response or was alive where it would be sent or read. Every check that judges
//! whether a vendor may be contacted (consent, legitimate interest, TCF basis, GPC) and
//! the inventory's unauthorized counts read [`super::RequestFacts::cookieless_ping`];
//! none decides it again.

use crate::model::gcm::{ConsentModeSignal, ConsentType};
use crate::model::{CookieSource, CookieWrite, RequestObs};
use crate::policy::{ConsentMode, Vendor};
use crate::signals::gcm;

/// Google identifier cookies and the storage type that governs each (name globs).
const IDENTIFIER_COOKIES: [(&str, ConsentType); 16] = [
    ("_ga", ConsentType::AnalyticsStorage),
    ("_ga_*", ConsentType::AnalyticsStorage),
    ("_gid", ConsentType::AnalyticsStorage),
    ("_gat", ConsentType::AnalyticsStorage),
    ("_gat_*", ConsentType::AnalyticsStorage),
    ("_dc_gtm_*", ConsentType::AnalyticsStorage),
    ("FPID", ConsentType::AnalyticsStorage),
    ("FPLC", ConsentType::AnalyticsStorage),
    ("_gcl_*", ConsentType::AdStorage),
    ("_gac_*", ConsentType::AdStorage),
    ("__gads", ConsentType::AdStorage),
    ("__gpi", ConsentType::AdStorage),
    ("__gsas", ConsentType::AdStorage),
    ("IDE", ConsentType::AdStorage),
    ("DSID", ConsentType::AdStorage),
    ("FPAU", ConsentType::AdStorage),
];

/// The storage type governing a Google identifier cookie, when `name` is one.
pub fn identifier_cookie(name: &str) -> Option<ConsentType> {
    IDENTIFIER_COOKIES
        .iter()
        .find(|(p, _)| crate::policy::glob_match(p, name))
        .map(|(_, t)| *t)
}

/// A write that stores something: accepted by the browser and not a deletion.
pub fn write_stores(w: &CookieWrite) -> bool {
    w.blocked_reasons.is_empty() && w.requested_lifetime_secs.is_none_or(|s| s > 0)
}

fn domain_matches(host: &str, cookie_domain: &str) -> bool {
    let d = cookie_domain.trim_start_matches('.').to_ascii_lowercase();
    !d.is_empty() && (host == d || host.ends_with(&format!(".{d}")))
}

/// Was a Google identifier cookie set by `req`'s response, or already stored (and not
/// deleted) where `req` would send it or its page's scripts could read it?
/// `identifier_writes`: the visit's identifier cookie writes, in time order.
fn identifier_cookie_involved(identifier_writes: &[&CookieWrite], req: &RequestObs) -> bool {
    let host = req.host().unwrap_or_default();
    let page_host = crate::net::url_host(&req.page).unwrap_or_default();
    // (name, domain, still stored) of each identifier cookie written before `req`.
    let mut present: Vec<(&str, &str, bool)> = Vec::new();
    for w in identifier_writes {
        if let CookieSource::Header { request_url } = &w.source {
            if request_url == &req.url && write_stores(w) {
                return true;
            }
        }
        if w.time > req.time {
            continue;
        }
        let stores = write_stores(w);
        match present
            .iter_mut()
            .find(|(n, d, _)| *n == w.name && *d == w.domain)
        {
            Some(p) => p.2 = stores,
            None => present.push((&w.name, &w.domain, stores)),
        }
    }
    present
        .iter()
        .any(|(_, d, alive)| *alive && (domain_matches(&host, d) || domain_matches(&page_host, d)))
}

/// The visit's Google identifier cookie writes, in time order (what
/// [`cookieless_ping`] compares each request with).
pub(super) fn identifier_writes(writes: &[CookieWrite]) -> Vec<&CookieWrite> {
    let mut out: Vec<&CookieWrite> = writes
        .iter()
        .filter(|w| identifier_cookie(&w.name).is_some())
        .collect();
    out.sort_by_key(|w| w.time);
    out
}

/// Is `req` (of `vendor`, carrying `consent_mode`) a cookieless ping of an `advanced`
/// Consent Mode vendor: its Google tag library load, or a hit saying every storage type
/// denied and nothing granted, with no identifier cookie sent or set?
pub(super) fn cookieless_ping(
    identifier_writes: &[&CookieWrite],
    req: &RequestObs,
    vendor: Option<&Vendor>,
    consent_mode: Option<&ConsentModeSignal>,
) -> bool {
    let Some(vendor) = vendor else { return false };
    if vendor.consent_mode != Some(ConsentMode::Advanced) || !gcm::is_google_tag_url(&req.url) {
        return false;
    }
    let quiet = gcm::is_tag_library(&req.url) || consent_mode.is_some_and(|s| s.all_denied());
    quiet && !identifier_cookie_involved(identifier_writes, req)
}

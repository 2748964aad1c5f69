//! Attribution: the one stage that says who each observed record belongs to.
//!
//! Every request, cookie write, stored cookie and storage write of a visit is attributed
//! exactly once, here: its host, registrable domain, first or third party, the declared
//! vendor (by the policy's indexed lookup), and the permission that vendor has in the
//! consent state in force when the record was made. Checks read [`AttributedVisit`]s and
//! never look vendors up again.

use crate::model::{CookieWrite, RequestObs, StorageWrite, StoredCookie, VisitObservation};
use crate::net;
use crate::policy::{CookieRule, Permission, Policy, Vendor};
use crate::scenario::Site;

/// First or third party, by registrable domain against the site's first-party domains.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Party {
    First,
    Third,
    /// Not a network URL (`data:`, `blob:`, an extension): no party.
    None,
}

/// Who a network record belongs to.
#[derive(Debug, Clone)]
pub struct Attribution<'p> {
    /// Lower-case network host; `None` for URLs that never reach the network.
    pub host: Option<String>,
    /// Registrable domain of `host` (the host itself when it has none).
    pub domain: Option<String>,
    pub party: Party,
    /// The declared vendor whose most specific pattern matches.
    pub vendor: Option<&'p Vendor>,
    /// What that vendor may do in the record's consent state.
    pub permission: Option<Permission>,
}

/// Who a cookie belongs to: its declared rule, that rule's vendor, and the permission.
#[derive(Debug, Clone)]
pub struct CookieAttribution<'p> {
    pub rule: Option<&'p CookieRule>,
    pub vendor: Option<&'p Vendor>,
    pub permission: Option<Permission>,
    pub party: Party,
}

/// One visit with every record attributed.
#[derive(Debug)]
pub struct AttributedVisit<'a, 'p> {
    pub obs: &'a VisitObservation,
    pub requests: Vec<(&'a RequestObs, Attribution<'p>)>,
    pub cookie_writes: Vec<(&'a CookieWrite, CookieAttribution<'p>)>,
    pub cookies: Vec<(&'a StoredCookie, CookieAttribution<'p>)>,
    pub storage_writes: Vec<(&'a StorageWrite, Attribution<'p>)>,
}

/// Attributes records against one site and its policy.
pub struct Attributor<'p> {
    site: &'p Site,
    policy: &'p Policy,
}

impl<'p> Attributor<'p> {
    pub fn new(site: &'p Site, policy: &'p Policy) -> Self {
        Attributor { site, policy }
    }

    fn party(&self, host: &str) -> Party {
        if self.site.is_first_party(host) {
            Party::First
        } else {
            Party::Third
        }
    }

    /// Attribute a URL (request, storage origin) in a consent state.
    pub fn url(&self, url: &str, state: &crate::model::ConsentState) -> Attribution<'p> {
        let Some(host) = net::network_host(url) else {
            return Attribution {
                host: None,
                domain: None,
                party: Party::None,
                vendor: None,
                permission: None,
            };
        };
        let path = net::url_path(url).unwrap_or_else(|| "/".to_string());
        let vendor = self.policy.vendor_for_url(&host, &path);
        let permission = vendor.map(|v| self.policy.permission(v, state));
        Attribution {
            domain: Some(net::registrable_domain(&host).unwrap_or_else(|| host.clone())),
            party: self.party(&host),
            host: Some(host),
            vendor,
            permission,
        }
    }

    /// Attribute a cookie by its name and domain in a consent state.
    pub fn cookie(
        &self,
        name: &str,
        domain: &str,
        state: &crate::model::ConsentState,
    ) -> CookieAttribution<'p> {
        let host = net::normalise_host(domain.trim_start_matches('.'));
        let party = self.party(&host);
        // A rule that declares a party covers only cookies of that party: a "first-party
        // `_ga`" set by a third party is not the declared cookie.
        let rule = self
            .policy
            .cookie_rule_for(name, domain)
            .filter(|r| match r.party {
                None => true,
                Some(crate::policy::Party::First) => party == Party::First,
                Some(crate::policy::Party::Third) => party == Party::Third,
            });
        let vendor = rule.and_then(|r| self.policy.vendor(&r.vendor));
        let permission = rule.map(|r| self.policy.cookie_permission(r, state));
        CookieAttribution {
            rule,
            vendor,
            permission,
            party,
        }
    }

    /// Attribute every record of a visit, once.
    pub fn visit<'a>(&self, obs: &'a VisitObservation) -> AttributedVisit<'a, 'p> {
        AttributedVisit {
            obs,
            requests: obs
                .requests
                .iter()
                .map(|r| (r, self.url(&r.url, &r.state)))
                .collect(),
            cookie_writes: obs
                .cookie_writes
                .iter()
                .map(|w| (w, self.cookie(&w.name, &w.domain, &w.state)))
                .collect(),
            cookies: obs
                .cookies
                .iter()
                .map(|c| (c, self.cookie(&c.name, &c.domain, &c.state)))
                .collect(),
            storage_writes: obs
                .storage_writes
                .iter()
                .map(|s| (s, self.url(&s.origin, &s.state)))
                .collect(),
        }
    }
}

impl AttributedVisit<'_, '_> {
    /// Requests to third-party network hosts.
    pub fn third_party_requests(&self) -> usize {
        self.requests
            .iter()
            .filter(|(_, a)| a.party == Party::Third)
            .count()
    }
}

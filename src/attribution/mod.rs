//! Attribution: the one stage that says who each observed record belongs to.
//!
//! Every request, cookie write, stored cookie and storage write of a visit is attributed
//! exactly once, here: its host, registrable domain, first or third party, the declared
//! vendor (by the policy's indexed lookup), and the permission that vendor has in the
//! consent state in force when the record was made. Checks read [`AttributedVisit`]s and
//! never look vendors up again. Facts derived from the records are derived here too, once:
//! each request's decoded signals and whether it is a Consent Mode `advanced` cookieless
//! ping ([`cookieless`]), each declared cookie's retention verdict, and who each
//! third-party host and each cookie is *known* to belong to by the knowledge bases
//! ([`crate::knowledge`]): a separate field, never merged with the declared vendor, and
//! each request's chain of who loaded whom up to the page ([`chain`]).

use crate::knowledge::{KnowledgeBase, Known};
use crate::model::gcm::ConsentModeSignal;
use crate::model::gpp::GppSignal;
use crate::model::purpose::{self, PhaseConsent};
use crate::model::tcf::TcfSignal;
use crate::model::{
    ConsentState, CookieWrite, RequestObs, SignalData, SignalSource, StorageWrite, StoredCookie,
    VisitObservation,
};
use crate::net;
use crate::policy::{CookieRule, Permission, Policy, Retention, Vendor};
use crate::scenario::Site;
use std::collections::HashMap;
use std::sync::Arc;

pub mod chain;
mod cookieless;
pub use chain::{Chain, Hop};
pub use cookieless::{identifier_cookie, write_stores};

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
    /// Third-party hosts: who the knowledge bases say the host belongs to, and by which
    /// rule. Beside `vendor` (the declared map, the authority), never instead of it.
    pub known: Option<Known>,
}

/// Who a cookie belongs to: its declared rule, that rule's vendor, and the permission.
#[derive(Debug, Clone)]
pub struct CookieAttribution<'p> {
    pub rule: Option<&'p CookieRule>,
    pub vendor: Option<&'p Vendor>,
    pub permission: Option<Permission>,
    pub party: Party,
    /// Who the knowledge bases say the cookie's name belongs to (beside `rule`).
    pub known: Option<Known>,
}

/// One visit with every record attributed, and the facts derived from its records.
#[derive(Debug)]
pub struct AttributedVisit<'a, 'p> {
    pub obs: &'a VisitObservation,
    pub requests: Vec<(&'a RequestObs, RequestFacts<'a, 'p>)>,
    pub cookie_writes: Vec<(&'a CookieWrite, CookieAttribution<'p>)>,
    pub cookies: Vec<(&'a StoredCookie, CookieAttribution<'p>)>,
    pub storage_writes: Vec<(&'a StorageWrite, Attribution<'p>)>,
    /// Each declared cookie's lifetime judged against its rule, once: per (cookie name,
    /// rule), in first-seen order. `cookie-retention-exceeded` and the inventory read it.
    pub retention: Vec<RetentionVerdict<'a, 'p>>,
}

/// A request, attributed, with the consent signals its URL carried (decoded once, when the
/// visit was captured, by capture: [`crate::signals::from_requests`]; found here, never decoded
/// again).
#[derive(Debug, Clone)]
pub struct RequestFacts<'a, 'p> {
    pub who: Attribution<'p>,
    /// The TC string the request carried (`gdpr_consent`, ...), decoded.
    pub tcf: Option<&'a TcfSignal>,
    /// The Consent Mode state a Google tag request carried, decoded.
    pub consent_mode: Option<&'a ConsentModeSignal>,
    /// The GPP string (`gpp`, with `gpp_sid`) and the US Privacy string (`us_privacy`)
    /// the request carried, decoded, in that order.
    pub gpp: Vec<&'a GppSignal>,
    /// Who the script that made the request belongs to (its `initiator` URL, attributed
    /// like a request): "Meta's script loads `tr.snapchat.com`".
    pub initiator: Option<Attribution<'p>>,
    /// Who loaded whom, from the page down to this request, and the declared vendor
    /// that loaded it ([`chain`]).
    pub chain: Chain<'p>,
    /// A Consent Mode `advanced` cookieless ping of its vendor (every storage type denied,
    /// no identifier cookie sent or set): the one exemption every check that judges
    /// whether a vendor may be contacted reads ([`cookieless`]).
    pub cookieless_ping: bool,
}

impl<'p> std::ops::Deref for RequestFacts<'_, 'p> {
    type Target = Attribution<'p>;
    fn deref(&self) -> &Attribution<'p> {
        &self.who
    }
}

/// Which lifetime a retention verdict rests on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RetentionBasis {
    /// The lifetime the site asked for (`Max-Age` / `Expires` of an accepted write), judged
    /// with no slack: the site said it.
    Requested,
    /// No accepted write asked for a persistent lifetime: the stored cookie's, judged with
    /// the policy's tolerance (clock rounding).
    Stored,
}

/// One cookie name's lifetime under one cookie rule in one visit, judged once.
///
/// The site's own request wins when seen (every accepted write that asked for a persistent
/// lifetime is judged, with no slack); otherwise each stored copy is judged with the
/// policy's tolerance. A `session` rule is exceeded by any persistent lifetime.
#[derive(Debug, Clone)]
pub struct RetentionVerdict<'a, 'p> {
    pub name: &'a str,
    pub rule: &'p CookieRule,
    pub basis: RetentionBasis,
    /// Accepted writes that asked for a persistent lifetime: (write, lifetime, exceeds).
    pub writes: Vec<(&'a CookieWrite, i64, bool)>,
    /// Stored copies with an expiry: (cookie, lifetime, exceeds with the tolerance).
    pub stored: Vec<(&'a StoredCookie, i64, bool)>,
    /// Stored copies, with or without an expiry.
    pub stored_copies: usize,
    /// An `Expires` the site sent that could not be parsed (then the stored lifetime is used).
    pub unparsed: Option<&'a str>,
    pub tolerance_secs: i64,
}

impl<'a> RetentionVerdict<'a, '_> {
    /// Does the cookie outlive its rule (on the verdict's basis)?
    pub fn exceeds(&self) -> bool {
        match self.basis {
            RetentionBasis::Requested => self.writes.iter().any(|(_, _, x)| *x),
            RetentionBasis::Stored => self.stored.iter().any(|(_, _, x)| *x),
        }
    }

    /// The longest lifetime asked for by an accepted write.
    pub fn max_requested(&self) -> Option<i64> {
        self.writes.iter().map(|(_, l, _)| *l).max()
    }

    /// The longest stored lifetime.
    pub fn max_stored(&self) -> Option<i64> {
        self.stored.iter().map(|(_, l, _)| *l).max()
    }

    /// Does a record of cookie `name@domain` (as the inventory keys it) exceed the rule?
    pub fn exceeded_by(&self, key: &str) -> bool {
        let key_of = |name: &str, domain: &str| crate::net::cookie_key(name, domain) == key;
        match self.basis {
            RetentionBasis::Requested => self
                .writes
                .iter()
                .any(|(w, _, x)| *x && key_of(&w.name, &w.domain)),
            RetentionBasis::Stored => self
                .stored
                .iter()
                .any(|(c, _, x)| *x && key_of(&c.name, &c.domain)),
        }
    }
}

/// A stored cookie's lifetime: its expiry minus when it was read; `None` for a session cookie.
pub fn stored_lifetime(c: &StoredCookie) -> Option<i64> {
    c.expires.map(|e| (e - c.observed_at).num_seconds())
}

/// Attributes records against one site and its policy.
pub struct Attributor<'p> {
    site: &'p Site,
    policy: &'p Policy,
    knowledge: Option<Arc<KnowledgeBase>>,
}

impl<'p> Attributor<'p> {
    /// Without knowledge bases: records carry no `known` fields.
    pub fn new(site: &'p Site, policy: &'p Policy) -> Self {
        Attributor {
            site,
            policy,
            knowledge: None,
        }
    }

    /// Say who third-party hosts and cookies are known to belong to, from `knowledge`.
    pub fn with_knowledge(mut self, knowledge: Arc<KnowledgeBase>) -> Self {
        self.knowledge = Some(knowledge);
        self
    }

    fn party(&self, host: &str) -> Party {
        if self.site.is_first_party(host) {
            Party::First
        } else {
            Party::Third
        }
    }

    /// Attribute a URL (request, storage origin) in a phase's effective consent state.
    pub fn url(&self, url: &str, state: &PhaseConsent) -> Attribution<'p> {
        let Some(host) = net::network_host(url) else {
            return Attribution {
                host: None,
                domain: None,
                party: Party::None,
                vendor: None,
                permission: None,
                known: None,
            };
        };
        let path = net::url_path(url).unwrap_or_else(|| "/".to_string());
        let vendor = self.policy.vendor_for_url(&host, &path);
        let permission = vendor.map(|v| self.policy.permission(v, state));
        let party = self.party(&host);
        let known = match (&self.knowledge, party) {
            (Some(k), Party::Third) => k.host(&host),
            _ => None,
        };
        Attribution {
            domain: Some(net::registrable_domain(&host).unwrap_or_else(|| host.clone())),
            party,
            host: Some(host),
            vendor,
            permission,
            known,
        }
    }

    /// Attribute a cookie by its name and domain in a phase's effective consent state.
    pub fn cookie(&self, name: &str, domain: &str, state: &PhaseConsent) -> CookieAttribution<'p> {
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
            known: self.knowledge.as_ref().and_then(|k| k.cookie(name)),
        }
    }

    /// Attribute every record of a visit, and derive its facts, once.
    pub fn visit<'a>(&self, obs: &'a VisitObservation) -> AttributedVisit<'a, 'p> {
        let signals = request_signals(obs);
        let identifier_writes = cookieless::identifier_writes(&obs.cookie_writes);
        let phases = Phases::of(obs);
        let mut requests: Vec<(&'a RequestObs, RequestFacts<'a, 'p>)> = obs
            .requests
            .iter()
            .map(|r| {
                let carried = signals
                    .get(&(r.url.as_str(), r.time))
                    .cloned()
                    .unwrap_or_default();
                let phase = phases.get(&r.state);
                let who = self.url(&r.url, phase);
                let cookieless_ping = cookieless::cookieless_ping(
                    &identifier_writes,
                    r,
                    who.vendor,
                    carried.consent_mode,
                );
                let facts = RequestFacts {
                    who,
                    tcf: carried.tcf,
                    consent_mode: carried.consent_mode,
                    gpp: carried.gpp,
                    initiator: r.initiator.as_deref().map(|i| self.url(i, phase)),
                    chain: Chain::default(),
                    cookieless_ping,
                };
                (r, facts)
            })
            .collect();
        let chains = {
            let refs: Vec<&RequestObs> = requests.iter().map(|(r, _)| *r).collect();
            let who: Vec<&Attribution<'p>> = requests.iter().map(|(_, f)| &f.who).collect();
            let attribute = |url: &str, i: usize| {
                let state = obs.requests.get(i).map(|r| &r.state);
                self.url(url, state.map_or(&phases.initial, |s| phases.get(s)))
            };
            chain::chains(&refs, &who, &attribute)
        };
        for ((_, facts), c) in requests.iter_mut().zip(chains) {
            facts.chain = c;
        }
        let cookie_writes: Vec<_> = obs
            .cookie_writes
            .iter()
            .map(|w| (w, self.cookie(&w.name, &w.domain, phases.get(&w.state))))
            .collect();
        let cookies: Vec<_> = obs
            .cookies
            .iter()
            .map(|c| (c, self.cookie(&c.name, &c.domain, phases.get(&c.state))))
            .collect();
        let retention = retention(
            &cookie_writes,
            &cookies,
            self.policy.retention_tolerance_secs,
        );
        AttributedVisit {
            obs,
            requests,
            cookie_writes,
            cookies,
            storage_writes: obs
                .storage_writes
                .iter()
                .map(|s| (s, self.url(&s.origin, phases.get(&s.state))))
                .collect(),
            retention,
        }
    }
}

/// The signals one request's URL carried.
#[derive(Debug, Clone, Default)]
struct RequestSignals<'a> {
    tcf: Option<&'a TcfSignal>,
    consent_mode: Option<&'a ConsentModeSignal>,
    gpp: Vec<&'a GppSignal>,
}

/// The effective consent state of each phase of a visit ([`PhaseConsent`]), derived
/// once per phase from the phase's summary state and the consent action that began it.
struct Phases {
    /// By the number of actions performed; the summary state it was derived from.
    by_actions: Vec<(ConsentState, PhaseConsent)>,
    initial: PhaseConsent,
}

impl Phases {
    fn of(obs: &VisitObservation) -> Phases {
        let performed = purpose::performed_actions(&obs.cmp);
        let mut by_actions: Vec<(ConsentState, PhaseConsent)> = Vec::new();
        let states = obs
            .requests
            .iter()
            .map(|r| &r.state)
            .chain(obs.cookie_writes.iter().map(|w| &w.state))
            .chain(obs.cookies.iter().map(|c| &c.state))
            .chain(obs.storage_writes.iter().map(|s| &s.state));
        for state in states {
            if !by_actions.iter().any(|(s, _)| s == state) {
                by_actions.push((state.clone(), purpose::phase_consent(state, &performed)));
            }
        }
        Phases {
            by_actions,
            initial: PhaseConsent::initial(),
        }
    }

    fn get(&self, state: &ConsentState) -> &PhaseConsent {
        self.by_actions
            .iter()
            .find(|(s, _)| s == state)
            .map(|(_, p)| p)
            .unwrap_or(&self.initial)
    }
}

/// The signals decoded from request URLs, by (URL, time) of the request they came from.
fn request_signals(
    obs: &VisitObservation,
) -> HashMap<(&str, chrono::DateTime<chrono::Utc>), RequestSignals<'_>> {
    let mut out: HashMap<_, RequestSignals<'_>> = HashMap::new();
    for s in &obs.signals {
        let SignalSource::Request { url } = &s.source else {
            continue;
        };
        let slot = out.entry((url.as_str(), s.time)).or_default();
        match &s.data {
            SignalData::Tcf(t) => slot.tcf = slot.tcf.or(Some(&**t)),
            SignalData::ConsentMode(g) => slot.consent_mode = slot.consent_mode.or(Some(g)),
            SignalData::Gpp(g) => slot.gpp.push(&**g),
            SignalData::Gpc(_) => {}
        }
    }
    out
}

/// Every declared cookie's retention verdict, per (name, rule) in first-seen order.
fn retention<'a, 'p>(
    writes: &[(&'a CookieWrite, CookieAttribution<'p>)],
    cookies: &[(&'a StoredCookie, CookieAttribution<'p>)],
    tolerance_secs: i64,
) -> Vec<RetentionVerdict<'a, 'p>> {
    let mut keys: Vec<(&'a str, &'p CookieRule)> = Vec::new();
    let names = writes
        .iter()
        .map(|(w, at)| (w.name.as_str(), at.rule))
        .chain(cookies.iter().map(|(c, at)| (c.name.as_str(), at.rule)));
    for (name, rule) in names {
        let Some(rule) = rule else { continue };
        if !keys
            .iter()
            .any(|(n, r)| *n == name && std::ptr::eq(*r, rule))
        {
            keys.push((name, rule));
        }
    }
    let under =
        |at: &CookieAttribution, rule: &CookieRule| at.rule.is_some_and(|r| std::ptr::eq(r, rule));
    keys.into_iter()
        .map(|(name, rule)| {
            let exceeds = |lifetime: i64, slack: i64| match rule.max_retention {
                Retention::Session => true,
                Retention::MaxSeconds(max) => lifetime > max.saturating_add(slack),
            };
            let accepted: Vec<&'a CookieWrite> = writes
                .iter()
                .filter(|(w, at)| w.name == name && under(at, rule) && w.blocked_reasons.is_empty())
                .map(|(w, _)| *w)
                .collect();
            let judged_writes: Vec<_> = accepted
                .iter()
                .filter_map(|w| match w.requested_lifetime_secs {
                    Some(s) if s > 0 => Some((*w, s, exceeds(s, 0))),
                    _ => None,
                })
                .collect();
            let copies: Vec<&'a StoredCookie> = cookies
                .iter()
                .filter(|(c, at)| c.name == name && under(at, rule))
                .map(|(c, _)| *c)
                .collect();
            let stored: Vec<_> = copies
                .iter()
                .filter_map(|c| stored_lifetime(c).map(|l| (*c, l, exceeds(l, tolerance_secs))))
                .collect();
            RetentionVerdict {
                name,
                rule,
                basis: if judged_writes.is_empty() {
                    RetentionBasis::Stored
                } else {
                    RetentionBasis::Requested
                },
                writes: judged_writes,
                stored,
                stored_copies: copies.len(),
                unparsed: accepted.iter().find_map(|w| w.expiry_unparsed.as_deref()),
                tolerance_secs,
            }
        })
        .collect()
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

#[cfg(test)]
mod known_tests;

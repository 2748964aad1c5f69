//! Drafting a declared map from what visits saw (`consentry init URL`, `consentry map
//! draft --run RUN`; docs/scenarios.md#drafting-a-map-from-a-visit).
//!
//! Pure: it reads attributed visits (who every record belongs to, its party, what the
//! knowledge bases know of it: derived once by [`crate::attribution`]) and writes a
//! [`Policy`] whose every purpose, vendor and cookie is marked `draft`, with the reasons
//! for each guess as comments ([`Notes`]). The draft is the visit's behaviour written
//! down, never an excuse for it: what a vendor did before any choice is not turned into
//! a basis that allows it, so auditing with the draft still reports it.
//!
//! - **Vendors**: each third-party host the knowledge bases know is grouped under its
//!   entity (third-party-web), an unknown one under its registrable domain; the site's
//!   own hosts are the first-party vendor. A registrable domain of one vendor is declared
//!   as a domain, a domain several vendors share as exact hosts.
//! - **Purposes**: from the known categories of a vendor's hosts and cookies
//!   ([`Suggestion::of_category`]); a vendor nothing is known of gets `unclassified`, on
//!   consent. A vendor with any consent purpose gets no strictly necessary one (the more
//!   protective reading).
//! - **Cookies**: each stored cookie (a wildcard row's pattern for per-property names such
//!   as `_ga_*`), owned by the vendor its known platform names, else the vendor of its
//!   domain, else the site; `max_retention` is the longer of the observed lifetime and the
//!   Open Cookie Database's typical one (capped at Chromium's 400 days): what the vendor
//!   asks for, which the site may see tomorrow.

use crate::attribution::{stored_lifetime, AttributedVisit, Party};
use crate::knowledge::{typical_retention_secs, Known, MatchKind};
use crate::model::CHROMIUM_MAX_COOKIE_SECS;
use crate::policy::write::Notes;
use crate::policy::{
    glob_match, CookieRule, DomainPattern, HostPattern, Policy, Purpose, Retention, Vendor,
};
use crate::scenario::Site;
use std::collections::{BTreeMap, BTreeSet, HashMap};

mod suggest;
pub use suggest::Suggestion;

const DAY: i64 = 86_400;

/// Where the draft comes from, for its header.
#[derive(Debug, Clone)]
pub struct DraftSource {
    /// The command that wrote it: `consentry init`, `consentry map draft`.
    pub command: String,
    /// `2026-12-07`.
    pub date: String,
    /// What was visited: `a visit of https://www.shop.example/ (run 3: no_action, accept_all)`.
    pub from: String,
    /// The knowledge bases' versions (`third-party-web 0.30.0, …`), when found.
    pub knowledge: Option<String>,
}

/// A drafted map: the policy, the comments on its entries, and the third-party domains
/// the visits contacted (each declared by one of its vendors).
#[derive(Debug, Clone)]
pub struct Draft {
    pub policy: Policy,
    pub notes: Notes,
    /// Registrable domains of the third-party hosts contacted, sorted.
    pub contacted: Vec<String>,
}

impl Draft {
    /// The policy file's text.
    pub fn render(&self) -> String {
        crate::policy::write::render(&self.policy, &self.notes)
    }
}

/// What was seen of one vendor.
#[derive(Debug, Default)]
struct Seen {
    name: String,
    known: Option<Known>,
    /// Every known answer of its records (hosts and cookies), for the purposes.
    categories: BTreeSet<String>,
    hosts: BTreeSet<String>,
    requests: usize,
    before_choice: BTreeSet<String>,
    scenarios: BTreeSet<String>,
    /// Hosts of the scripts that requested it.
    requested_by: BTreeSet<String>,
    first_party: bool,
}

/// What was seen of one cookie rule.
#[derive(Debug, Default)]
struct CookieSeen {
    names: BTreeSet<String>,
    domains: BTreeSet<String>,
    /// The longest stored lifetime; `None` while only session copies were seen.
    lifetime: Option<i64>,
    /// The longest lifetime the site asked for (before Chromium's 400-day cap).
    requested: Option<i64>,
    known: Option<Known>,
    scenarios: BTreeSet<String>,
}

fn slug(s: &str) -> String {
    let mut out = String::new();
    for c in s.chars().flat_map(char::to_lowercase) {
        if c.is_ascii_alphanumeric() {
            out.push(c);
        } else if !out.ends_with('-') && !out.is_empty() {
            out.push('-');
        }
    }
    let out = out.trim_end_matches('-').to_string();
    if out.is_empty() {
        "vendor".to_string()
    } else {
        out
    }
}

fn days_text(secs: i64) -> String {
    let days = (secs + DAY - 1) / DAY;
    format!("{days}d")
}

/// What the visits showed, gathered by vendor and by cookie rule.
struct Observed {
    /// The first-party vendor's key in `vendors`.
    site_key: String,
    /// By key: `known:<entity>`, `domain:<registrable domain>`, or `site_key`.
    vendors: BTreeMap<String, Seen>,
    /// Registrable domains of the third-party hosts contacted.
    contacted: BTreeSet<String>,
    /// Registrable domain -> the vendor keys with a host under it.
    domain_owners: BTreeMap<String, BTreeSet<String>>,
    storage: usize,
    /// By (name pattern, owning vendor key).
    cookies: BTreeMap<(String, String), CookieSeen>,
}

/// Draft the declared map of `site` from `visits` (attributed with the knowledge bases;
/// against any policy: only party and knowledge are read).
pub fn draft(site: &Site, visits: &[AttributedVisit<'_, '_>], source: &DraftSource) -> Draft {
    let mut seen = Observed::new(site);
    seen.requests(visits);
    seen.cookies(visits);
    let ids = seen.ids();

    let mut notes = Notes::default();
    let mut used: BTreeSet<Suggestion> = BTreeSet::new();
    let mut vendors = Vec::new();
    for (key, v) in &seen.vendors {
        let id = ids.get(key).cloned().unwrap_or_default();
        let suggested = suggestions(v);
        used.extend(suggested.iter().copied());
        let (domains, hosts) = seen.patterns(site, v);
        notes
            .vendors
            .insert(id.clone(), vendor_notes(v, &suggested));
        vendors.push(Vendor {
            id,
            name: v.name.clone(),
            domains,
            hosts,
            pages: Vec::new(),
            purposes: suggested.iter().map(|s| s.purpose().id).collect(),
            draft: true,
            ..Vendor::default()
        });
    }
    let mut cookies = Vec::new();
    for ((pattern, owner), c) in &seen.cookies {
        let vendor = ids.get(owner).cloned().unwrap_or_default();
        let (max_retention, lines) = retention(c);
        notes
            .cookies
            .insert((pattern.clone(), vendor.clone()), lines);
        cookies.push(CookieRule {
            name: pattern.clone(),
            vendor,
            max_retention,
            draft: true,
            ..CookieRule::default()
        });
    }
    let purposes: Vec<Purpose> = used.iter().map(|s| s.purpose()).collect();
    for s in &used {
        notes
            .purposes
            .insert(s.purpose().id, vec![format!("Suggested: {}", s.why())]);
    }
    notes.header = header(source, visits, &seen.contacted, seen.storage);
    Draft {
        policy: Policy {
            purposes,
            vendors,
            cookies,
            ..Policy::default()
        },
        notes,
        contacted: seen.contacted.into_iter().collect(),
    }
}

impl Observed {
    fn new(site: &Site) -> Observed {
        let site_key = format!("\u{0}site:{}", site.name);
        let mut vendors = BTreeMap::new();
        vendors.insert(
            site_key.clone(),
            Seen {
                name: site.name.clone(),
                first_party: true,
                ..Seen::default()
            },
        );
        Observed {
            site_key,
            vendors,
            contacted: BTreeSet::new(),
            domain_owners: BTreeMap::new(),
            storage: 0,
            cookies: BTreeMap::new(),
        }
    }

    /// Every request, under the vendor it is: the site, a known entity, or its domain.
    fn requests(&mut self, visits: &[AttributedVisit<'_, '_>]) {
        for visit in visits {
            let scenario = visit.obs.scenario.as_str();
            self.storage += visit.storage_writes.len();
            for (req, at) in &visit.requests {
                let (Some(host), Some(domain)) = (at.host.clone(), at.domain.clone()) else {
                    continue;
                };
                let key = match at.party {
                    Party::None => continue,
                    Party::First => self.site_key.clone(),
                    Party::Third => {
                        self.contacted.insert(domain.clone());
                        match &at.known {
                            Some(k) => format!("known:{}", k.name),
                            None => format!("domain:{domain}"),
                        }
                    }
                };
                let seen = self.vendors.entry(key.clone()).or_default();
                if seen.name.is_empty() {
                    seen.name = at.known.as_ref().map_or(domain.clone(), |k| k.name.clone());
                }
                if let Some(k) = &at.known {
                    seen.categories.insert(k.category.clone());
                    seen.known.get_or_insert_with(|| k.clone());
                }
                if at.party == Party::Third {
                    self.domain_owners.entry(domain).or_default().insert(key);
                }
                seen.hosts.insert(host.clone());
                seen.requests += 1;
                seen.scenarios.insert(scenario.to_string());
                if req.state.actions.is_empty() {
                    seen.before_choice.insert(scenario.to_string());
                }
                if let Some(by) = req
                    .initiator
                    .as_deref()
                    .and_then(crate::net::network_host)
                    .filter(|h| *h != host)
                {
                    seen.requested_by.insert(by);
                }
            }
        }
    }

    /// Every stored cookie, under its rule's name pattern and owner.
    fn cookies(&mut self, visits: &[AttributedVisit<'_, '_>]) {
        // The longest lifetime the site asked for, per cookie name and domain (accepted
        // writes): what `cookie-retention-exceeded` judges first.
        let mut requested: HashMap<(String, String), i64> = HashMap::new();
        for visit in visits {
            for (w, _) in &visit.cookie_writes {
                if let (Some(l), true) = (w.requested_lifetime_secs, w.blocked_reasons.is_empty()) {
                    let key = (
                        w.name.clone(),
                        w.domain.trim_start_matches('.').to_ascii_lowercase(),
                    );
                    let e = requested.entry(key).or_insert(l);
                    *e = (*e).max(l);
                }
            }
        }

        // Cookies, and the vendor owning each.
        for visit in visits {
            for (c, at) in &visit.cookies {
                let host = c.domain.trim_start_matches('.').to_ascii_lowercase();
                let domain = crate::net::registrable_domain(&host).unwrap_or(host.clone());
                let known = at.known.clone();
                let owner = owner_of(
                    &self.vendors,
                    &self.domain_owners,
                    &self.site_key,
                    at.party,
                    &domain,
                    known.as_ref(),
                );
                let owner = match owner {
                    Some(o) => o,
                    None => {
                        // A cookie of a platform or domain no request was attributed to.
                        let key = match &known {
                            Some(k) => format!("known:{}", k.name),
                            None => format!("domain:{domain}"),
                        };
                        let seen = self.vendors.entry(key.clone()).or_default();
                        if seen.name.is_empty() {
                            seen.name = known.as_ref().map_or(domain.clone(), |k| k.name.clone());
                        }
                        if at.party == Party::Third {
                            self.contacted.insert(domain.clone());
                            seen.hosts.insert(host.clone());
                            self.domain_owners
                                .entry(domain.clone())
                                .or_default()
                                .insert(key.clone());
                        }
                        key
                    }
                };
                if let Some(k) = &known {
                    if let Some(seen) = self.vendors.get_mut(&owner) {
                        seen.categories.insert(k.category.clone());
                    }
                }
                let pattern = match &known {
                    Some(k)
                        if k.kind == MatchKind::CookiePrefix && glob_match(&k.pattern, &c.name) =>
                    {
                        k.pattern.clone()
                    }
                    _ => c.name.clone(),
                };
                let seen = self.cookies.entry((pattern, owner)).or_default();
                seen.names.insert(c.name.clone());
                seen.domains.insert(c.domain.clone());
                seen.scenarios.insert(visit.obs.scenario.clone());
                if let Some(l) = stored_lifetime(c) {
                    seen.lifetime = Some(seen.lifetime.map_or(l, |m| m.max(l)));
                }
                if let Some(&l) = requested.get(&(c.name.clone(), host.clone())) {
                    seen.requested = Some(seen.requested.map_or(l, |m| m.max(l)));
                }
                if seen.known.is_none() {
                    seen.known = known;
                }
            }
        }
    }

    /// Vendor ids: a slug of the name, unique.
    fn ids(&self) -> HashMap<String, String> {
        let mut ids: HashMap<String, String> = HashMap::new();
        let mut taken = BTreeSet::new();
        for (key, seen) in &self.vendors {
            let base = slug(&seen.name);
            let mut id = base.clone();
            let mut n = 2;
            while !taken.insert(id.clone()) {
                id = format!("{base}-{n}");
                n += 1;
            }
            ids.insert(key.clone(), id);
        }

        ids
    }

    /// A vendor's `domains` and `hosts`: the site's own domains for the site; else the
    /// registrable domain of each host, or the host itself when vendors share the domain.
    fn patterns(&self, site: &Site, seen: &Seen) -> (Vec<DomainPattern>, Vec<HostPattern>) {
        let (mut domains, mut hosts) = (Vec::new(), Vec::new());
        if seen.first_party {
            let mut own: Vec<String> = site.first_party_domains.clone();
            if let Some(d) = site
                .base_url
                .host_str()
                .and_then(crate::net::registrable_domain)
            {
                if !own.contains(&d) {
                    own.insert(0, d);
                }
            }
            domains.extend(own.iter().filter_map(|d| DomainPattern::parse(d)));
        } else {
            let mut declared_domains = BTreeSet::new();
            for h in &seen.hosts {
                let d = crate::net::registrable_domain(h).unwrap_or(h.clone());
                let shared = self.domain_owners.get(&d).is_some_and(|o| o.len() > 1);
                if shared {
                    if let Ok(p) = HostPattern::parse_checked(h) {
                        hosts.push(p);
                    }
                } else if declared_domains.insert(d.clone()) {
                    if let Some(p) = DomainPattern::parse(&d) {
                        domains.push(p);
                    }
                }
            }
        }
        (domains, hosts)
    }
}

/// The purposes a vendor's known categories suggest (see [`Suggestion::of_category`]):
/// the site's own are necessary; nothing known is unclassified; a vendor with any consent
/// purpose gets no strictly necessary one.
fn suggestions(seen: &Seen) -> BTreeSet<Suggestion> {
    let mut suggested: BTreeSet<Suggestion> = seen
        .categories
        .iter()
        .map(|c| Suggestion::of_category(c))
        .collect();
    if seen.first_party {
        suggested.retain(|s| !s.exempt());
        if suggested.is_empty() {
            suggested.insert(Suggestion::Necessary);
        }
    }
    if suggested.is_empty() {
        suggested.insert(Suggestion::Unclassified);
    }
    if suggested.iter().any(|s| !s.exempt()) {
        suggested.retain(|s| !s.exempt());
    }
    suggested
}

/// A cookie rule's `max_retention`, and the comment lines saying why.
fn retention(seen: &CookieSeen) -> (Retention, Vec<String>) {
    let typical = seen
        .known
        .as_ref()
        .and_then(|k| k.retention.as_deref())
        .and_then(typical_retention_secs)
        .map(|s| s.min(CHROMIUM_MAX_COOKIE_SECS));
    let longest = match (seen.lifetime, seen.requested) {
        (Some(a), Some(b)) => Some(a.max(b)),
        (a, b) => a.or(b),
    };
    let observed = longest.map(|l| ((l + DAY - 1) / DAY) * DAY);
    let max_retention = match (observed, typical) {
        (None, None) => Retention::Session,
        (Some(o), None) => Retention::MaxSeconds(o),
        (None, Some(t)) => Retention::MaxSeconds(t),
        (Some(o), Some(t)) => Retention::MaxSeconds(o.max(t)),
    };
    let asked = match seen.requested {
        Some(r) if seen.lifetime.is_none_or(|l| r > l) => {
            format!(" (the site asked for {})", days_text(r))
        }
        _ => String::new(),
    };
    let mut lines = vec![format!(
        "Seen: {} on {} in {}; observed lifetime {}{asked}.",
        seen.names.iter().cloned().collect::<Vec<_>>().join(", "),
        seen.domains.iter().cloned().collect::<Vec<_>>().join(", "),
        seen.scenarios
            .iter()
            .cloned()
            .collect::<Vec<_>>()
            .join(", "),
        seen.lifetime.map_or("session".to_string(), days_text),
    )];
    match &seen.known {
        Some(k) => lines.push(k.describe()),
        None => lines.push("Not in the Open Cookie Database.".to_string()),
    }
    lines.push(match (observed, typical) {
        (Some(o), Some(t)) if t > o => format!(
            "max_retention: the typical retention (capped at Chromium's 400 days), longer than the {} observed.",
            days_text(o)
        ),
        (None, Some(_)) => "max_retention: the typical retention (capped at Chromium's 400 days); only session copies were observed.".to_string(),
        (Some(_), _) if !asked.is_empty() => "max_retention: the lifetime the site asked for, rounded up to a day.".to_string(),
        (Some(_), _) => "max_retention: the observed lifetime, rounded up to a day.".to_string(),
        (None, None) => "max_retention: session, as observed.".to_string(),
    });
    (max_retention, lines)
}

/// The vendor (key) that owns a cookie: the one its known platform names, else the one
/// of its domain (third party), else the site when nothing marks it as someone else's.
fn owner_of(
    vendors: &BTreeMap<String, Seen>,
    domain_owners: &BTreeMap<String, BTreeSet<String>>,
    site_key: &str,
    party: Party,
    domain: &str,
    known: Option<&Known>,
) -> Option<String> {
    let same = |a: &str, b: &str| !a.is_empty() && a.eq_ignore_ascii_case(b);
    let known_by = |test: &dyn Fn(&Known) -> bool| -> Vec<&String> {
        vendors
            .iter()
            .filter(|(_, s)| s.known.as_ref().is_some_and(test))
            .map(|(key, _)| key)
            .collect()
    };
    // The vendor the cookie's platform names.
    if let Some(k) = known {
        if let Some(key) = known_by(&|v: &Known| same(&v.name, &k.name)).first() {
            return Some((*key).clone());
        }
    }
    // A third-party cookie: the vendor of its domain.
    if party == Party::Third {
        return domain_owners
            .get(domain)
            .and_then(|owners| owners.iter().next().cloned());
    }
    // The one vendor of the platform's company (`Google` owns many).
    if let Some(k) = known {
        if let [key] = known_by(&|v: &Known| same(&v.company, &k.company)).as_slice() {
            return Some((*key).clone());
        }
    }
    match known {
        // A first-party cookie of a known advertising or analytics platform no request
        // was attributed to: its own vendor, judged on consent.
        Some(k) if !Suggestion::of_category(&k.category).exempt() => None,
        _ => Some(site_key.to_string()),
    }
}

fn vendor_notes(seen: &Seen, suggested: &BTreeSet<Suggestion>) -> Vec<String> {
    let mut lines = Vec::new();
    if seen.first_party {
        lines.push(
            "The site itself: its own hosts and the cookies nothing else claims.".to_string(),
        );
    }
    if seen.requests > 0 {
        let when = if seen.before_choice.is_empty() {
            format!(
                "only after a choice (in {})",
                seen.scenarios
                    .iter()
                    .cloned()
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        } else {
            format!(
                "before any choice (in {})",
                seen.before_choice
                    .iter()
                    .cloned()
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        };
        lines.push(format!(
            "Seen: {} request(s) to {}, {when}.",
            seen.requests,
            seen.hosts.iter().cloned().collect::<Vec<_>>().join(", ")
        ));
    } else if !seen.first_party {
        lines.push("Seen: its cookies only (no request to it was attributed).".to_string());
    }
    if !seen.requested_by.is_empty() && !seen.first_party {
        lines.push(format!(
            "Requested by scripts of: {}.",
            seen.requested_by
                .iter()
                .cloned()
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    match &seen.known {
        Some(k) => lines.push(k.describe()),
        None if !seen.first_party => lines.push(
            "Not in the knowledge bases: ask the site owner who this is and what it does."
                .to_string(),
        ),
        None => {}
    }
    if !seen.categories.is_empty() {
        lines.push(format!(
            "Purposes suggested from the known categories {} ({}).",
            seen.categories
                .iter()
                .cloned()
                .collect::<Vec<_>>()
                .join(", "),
            suggested
                .iter()
                .map(|s| s.purpose().id)
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    lines
}

fn header(
    source: &DraftSource,
    visits: &[AttributedVisit<'_, '_>],
    contacted: &BTreeSet<String>,
    storage: usize,
) -> Vec<String> {
    let requests: usize = visits.iter().map(|v| v.requests.len()).sum();
    let cookies: usize = visits.iter().map(|v| v.cookies.len()).sum();
    vec![
        format!(
            "DRAFT of the declared map, written by `{}` on {} from {}.",
            source.command, source.date, source.from
        ),
        format!(
            "Seen: {requests} requests ({} third-party registrable domains), {cookies} stored cookies, {storage} storage writes.",
            contacted.len()
        ),
        format!(
            "Knowledge: {}.",
            source
                .knowledge
                .as_deref()
                .unwrap_or("none found (vendors are named by their domains)")
        ),
        String::new(),
        "Every entry is a guess marked `draft = true`: an audit with this file reports each as".to_string(),
        "draft-unconfirmed (info) until a person checks it with the privacy team and removes that".to_string(),
        "line. The comments above each entry say where its guesses came from. Nothing is".to_string(),
        "declared that the visit did not show; what a vendor did before any choice is not made".to_string(),
        "legal here: the audit still reports it. Format: docs/scenarios.md#the-policy.".to_string(),
        "Local and session storage are not declared in a policy (the inventory lists them).".to_string(),
    ]
}

#[cfg(test)]
mod tests;

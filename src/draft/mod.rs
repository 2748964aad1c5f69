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
    glob_match, CookieRule, DomainPattern, HostPattern, LegalBasis, Policy, Purpose, Retention,
    Vendor,
};
use crate::scenario::Site;
use std::collections::{BTreeMap, BTreeSet, HashMap};

const DAY: i64 = 86_400;

/// A purpose the drafter may suggest, from a known category.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Suggestion {
    Necessary,
    Functional,
    Analytics,
    Advertising,
    SocialMedia,
    EmbeddedMedia,
    Support,
    Personalisation,
    Unclassified,
}

impl Suggestion {
    /// The purpose a known category suggests (third-party-web's and the Open Cookie
    /// Database's spellings, case-insensitive). `other` and anything unlisted is
    /// `unclassified` (consent: the protective guess).
    pub fn of_category(category: &str) -> Suggestion {
        match category.trim().to_ascii_lowercase().as_str() {
            "ad" | "advertising" | "marketing" => Suggestion::Advertising,
            "analytics" => Suggestion::Analytics,
            "social" => Suggestion::SocialMedia,
            "video" => Suggestion::EmbeddedMedia,
            "customer-success" => Suggestion::Support,
            "personalization" | "personalisation" => Suggestion::Personalisation,
            "necessary" | "security" | "consent-provider" => Suggestion::Necessary,
            "cdn" | "hosting" | "utility" | "content" | "tag-manager" | "functional" => {
                Suggestion::Functional
            }
            _ => Suggestion::Unclassified,
        }
    }

    /// Strictly necessary (consent-exempt) suggestions.
    pub fn exempt(self) -> bool {
        matches!(self, Suggestion::Necessary | Suggestion::Functional)
    }

    /// The purpose as the draft declares it.
    pub fn purpose(self) -> Purpose {
        let (id, name, basis) = match self {
            Suggestion::Necessary => (
                "necessary",
                "Strictly necessary (the site itself, security, the consent record)",
                LegalBasis::LegitimateInterest,
            ),
            Suggestion::Functional => (
                "functional",
                "Delivering the site (content delivery, hosting, tag management, utilities)",
                LegalBasis::LegitimateInterest,
            ),
            Suggestion::Analytics => ("analytics", "Audience analytics", LegalBasis::Consent),
            Suggestion::Advertising => (
                "advertising",
                "Advertising and marketing",
                LegalBasis::Consent,
            ),
            Suggestion::SocialMedia => (
                "social_media",
                "Social media plugins and embeds",
                LegalBasis::Consent,
            ),
            Suggestion::EmbeddedMedia => (
                "embedded_media",
                "Embedded video and media",
                LegalBasis::Consent,
            ),
            Suggestion::Support => (
                "customer_support",
                "Chat and customer support widgets",
                LegalBasis::Consent,
            ),
            Suggestion::Personalisation => (
                "personalisation",
                "Personalised content",
                LegalBasis::Consent,
            ),
            Suggestion::Unclassified => (
                "unclassified",
                "Unclassified third parties (what they do is not known)",
                LegalBasis::Consent,
            ),
        };
        Purpose {
            id: id.to_string(),
            name: name.to_string(),
            basis,
            strictly_necessary: self.exempt(),
            tcf_purpose: None,
            // Advertising is a sale or sharing Global Privacy Control opts out of.
            gpc_opt_out: self == Suggestion::Advertising,
            draft: true,
        }
    }

    /// Why the purpose has its basis, for its comment.
    fn why(self) -> &'static str {
        match self {
            Suggestion::Necessary => "the site's own hosts and cookies, consent providers and security services: strictly necessary, so they may run in every scenario. Confirm each vendor below really is; give the basis the site relies on (legal_obligation, contract, legitimate_interest).",
            Suggestion::Functional => "known as a CDN, hosting, a tag manager or a utility: suggested as strictly necessary, so it may run before any choice. Confirm it is needed to deliver what the visitor asked for; if not, move its vendors to a consent purpose.",
            Suggestion::Analytics => "known as analytics: consent (ePrivacy: storing or reading on the device for measurement needs consent). If the site relies on an exemption (a consent-exempt configuration), say so and change the basis.",
            Suggestion::Advertising => "known as advertising or marketing: consent; Global Privacy Control opts the visitor out of it. If the site runs an IAB TCF CMP, add tcf_purpose (e.g. 4).",
            Suggestion::SocialMedia => "known as social media: consent.",
            Suggestion::EmbeddedMedia => "known as embedded video: consent.",
            Suggestion::Support => "known as a chat or customer-success service: consent, unless the visitor opens it.",
            Suggestion::Personalisation => "known as personalisation: consent.",
            Suggestion::Unclassified => "what these vendors do is not known (no knowledge base names them, or only as `other`): consent, the protective guess. Ask the site owner, then give each vendor its real purposes.",
        }
    }
}

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

/// Draft the declared map of `site` from `visits` (attributed with the knowledge bases;
/// against any policy: only party and knowledge are read).
pub fn draft(site: &Site, visits: &[AttributedVisit<'_, '_>], source: &DraftSource) -> Draft {
    let site_key = format!("\u{0}site:{}", site.name);
    let mut vendors: BTreeMap<String, Seen> = BTreeMap::new();
    vendors.insert(
        site_key.clone(),
        Seen {
            name: site.name.clone(),
            first_party: true,
            ..Seen::default()
        },
    );
    let mut contacted = BTreeSet::new();
    let mut domain_owners: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut storage = 0usize;

    for visit in visits {
        let scenario = visit.obs.scenario.as_str();
        storage += visit.storage_writes.len();
        for (req, at) in &visit.requests {
            let (Some(host), Some(domain)) = (at.host.clone(), at.domain.clone()) else {
                continue;
            };
            let key = match at.party {
                Party::None => continue,
                Party::First => site_key.clone(),
                Party::Third => {
                    contacted.insert(domain.clone());
                    match &at.known {
                        Some(k) => format!("known:{}", k.name),
                        None => format!("domain:{domain}"),
                    }
                }
            };
            let seen = vendors.entry(key.clone()).or_default();
            if seen.name.is_empty() {
                seen.name = at.known.as_ref().map_or(domain.clone(), |k| k.name.clone());
            }
            if let Some(k) = &at.known {
                seen.categories.insert(k.category.clone());
                seen.known.get_or_insert_with(|| k.clone());
            }
            if at.party == Party::Third {
                domain_owners.entry(domain).or_default().insert(key);
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

    // Cookies, and the vendor owning each.
    let mut cookies: BTreeMap<(String, String), CookieSeen> = BTreeMap::new();
    for visit in visits {
        for (c, at) in &visit.cookies {
            let host = c.domain.trim_start_matches('.').to_ascii_lowercase();
            let domain = crate::net::registrable_domain(&host).unwrap_or(host.clone());
            let known = at.known.clone();
            let owner = owner_of(
                &vendors,
                &domain_owners,
                &site_key,
                at.party,
                &domain,
                known.as_ref(),
            );
            let owner = match owner {
                Some(o) => o,
                None => {
                    // A cookie of a platform or domain no request was attributed to.
                    let key = match (&known, at.party) {
                        (Some(k), _) => format!("known:{}", k.name),
                        (None, _) => format!("domain:{domain}"),
                    };
                    let seen = vendors.entry(key.clone()).or_default();
                    if seen.name.is_empty() {
                        seen.name = known.as_ref().map_or(domain.clone(), |k| k.name.clone());
                    }
                    if at.party == Party::Third {
                        contacted.insert(domain.clone());
                        seen.hosts.insert(host.clone());
                        domain_owners
                            .entry(domain.clone())
                            .or_default()
                            .insert(key.clone());
                    }
                    key
                }
            };
            if let Some(k) = &known {
                if let Some(seen) = vendors.get_mut(&owner) {
                    seen.categories.insert(k.category.clone());
                }
            }
            let pattern = match &known {
                Some(k) if k.kind == MatchKind::CookiePrefix && glob_match(&k.pattern, &c.name) => {
                    k.pattern.clone()
                }
                _ => c.name.clone(),
            };
            let seen = cookies.entry((pattern, owner)).or_default();
            seen.names.insert(c.name.clone());
            seen.domains.insert(c.domain.clone());
            seen.scenarios.insert(visit.obs.scenario.clone());
            if let Some(l) = stored_lifetime(c) {
                seen.lifetime = Some(seen.lifetime.map_or(l, |m| m.max(l)));
            }
            if seen.known.is_none() {
                seen.known = known;
            }
        }
    }

    // Ids, purposes.
    let mut ids: HashMap<String, String> = HashMap::new();
    let mut taken = BTreeSet::new();
    for (key, seen) in &vendors {
        let base = slug(&seen.name);
        let mut id = base.clone();
        let mut n = 2;
        while !taken.insert(id.clone()) {
            id = format!("{base}-{n}");
            n += 1;
        }
        ids.insert(key.clone(), id);
    }

    let mut notes = Notes::default();
    let mut used: BTreeSet<Suggestion> = BTreeSet::new();
    let mut policy_vendors = Vec::new();
    for (key, seen) in &vendors {
        let id = ids.get(key).cloned().unwrap_or_default();
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
        used.extend(suggested.iter().copied());

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
                let shared = domain_owners.get(&d).is_some_and(|o| o.len() > 1);
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
        let purposes: Vec<String> = suggested.iter().map(|s| s.purpose().id).collect();
        notes
            .vendors
            .insert(id.clone(), vendor_notes(seen, &suggested));
        policy_vendors.push(Vendor {
            id,
            name: seen.name.clone(),
            domains,
            hosts,
            pages: Vec::new(),
            purposes,
            draft: true,
            ..Vendor::default()
        });
    }

    let mut policy_cookies = Vec::new();
    for ((pattern, owner), seen) in &cookies {
        let vendor = ids.get(owner).cloned().unwrap_or_default();
        let typical = seen
            .known
            .as_ref()
            .and_then(|k| k.retention.as_deref())
            .and_then(typical_retention_secs)
            .map(|s| s.min(CHROMIUM_MAX_COOKIE_SECS));
        let observed = seen.lifetime.map(|l| ((l + DAY - 1) / DAY) * DAY);
        let max_retention = match (observed, typical) {
            (None, None) => Retention::Session,
            (Some(o), None) => Retention::MaxSeconds(o),
            (None, Some(t)) => Retention::MaxSeconds(t),
            (Some(o), Some(t)) => Retention::MaxSeconds(o.max(t)),
        };
        let mut lines = vec![format!(
            "Seen: {} on {} in {}; observed lifetime {}.",
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
            (Some(_), _) => "max_retention: the observed lifetime, rounded up to a day.".to_string(),
            (None, None) => "max_retention: session, as observed.".to_string(),
        });
        notes
            .cookies
            .insert((pattern.clone(), vendor.clone()), lines);
        policy_cookies.push(CookieRule {
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

    notes.header = header(source, visits, &contacted, storage);
    Draft {
        policy: Policy {
            purposes,
            vendors: policy_vendors,
            cookies: policy_cookies,
            ..Policy::default()
        },
        notes,
        contacted: contacted.into_iter().collect(),
    }
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
    if let Some(k) = known {
        let same = |a: &str, b: &str| !a.is_empty() && a.eq_ignore_ascii_case(b);
        let by_platform = vendors.iter().find(|(_, s)| {
            s.known
                .as_ref()
                .is_some_and(|v| same(&v.name, &k.name) || same(&v.company, &k.company))
        });
        if let Some((key, _)) = by_platform {
            return Some(key.clone());
        }
    }
    if party == Party::Third {
        if let Some(owners) = domain_owners.get(domain) {
            return owners.iter().next().cloned();
        }
        return None;
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

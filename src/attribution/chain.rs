//! Who loaded whom: each request's chain of hops up to the page, derived once per visit
//! from what DevTools said started it ([`crate::model::RequestCause`]), and the declared
//! vendor responsible for an undeclared one (a *fourth party*).
//!
//! A request's parent is, in this order:
//! - a redirect hop: the hop that redirected to it (`redirected_from`);
//! - a preflight: the request it is for (the initiator's `url`);
//! - a script's request: the request that loaded that script (`script`, the first frame of
//!   the initiator's stack with a URL, looking through its async parents);
//! - a parser's request: the document request of that document (the initiator's `url`),
//!   an iframe's document included;
//! - anything else: the document request of its frame (`frame_id`), unless it is a
//!   document itself.
//!
//! The request a URL names is the latest request of that URL made before, else the first
//! one made after. A URL no request of the visit has (a script served from the cache
//! before capture started, a page string cut to its bound) is a hop of its own with no
//! parent: a missing link ends the chain there. The walk stops after [`MAX_DEPTH`] hops
//! or at a request already on the chain (a cycle): the chain is then marked cut. Nothing
//! here can panic on what the page did.

use super::{Attribution, Party};
use crate::model::RequestObs;
use crate::policy::Vendor;
use std::collections::{HashMap, HashSet};

/// The longest chain followed; a longer one is cut (shown with a leading `…`).
pub const MAX_DEPTH: usize = 16;

/// One hop of a chain: a host, and who it is.
#[derive(Debug, Clone, PartialEq)]
pub struct Hop<'p> {
    pub host: String,
    pub party: Party,
    /// The declared vendor of the hop's URL (host and path).
    pub vendor: Option<&'p Vendor>,
    /// Who the knowledge bases say an undeclared third-party host belongs to (the
    /// entity's name).
    pub known: Option<String>,
}

impl Hop<'_> {
    /// `www.googletagmanager.com (google-analytics, declared)`, `analytics.tiktok.com
    /// (TikTok, known)`, or the host alone.
    pub fn label(&self) -> String {
        // The chain is part of an evidence detail, whose parts `; ` separates.
        let clean = |s: &str| s.replace(';', ",");
        match (self.vendor, &self.known) {
            (Some(v), _) => format!("{} ({}, declared)", self.host, clean(&v.id)),
            (None, Some(k)) => format!("{} ({}, known)", self.host, clean(k)),
            (None, None) => self.host.clone(),
        }
    }
}

/// A request's chain of hops.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Chain<'p> {
    /// From the page down to the request's own host (last). The site's own hops before
    /// the first third party are left out, and consecutive hops of one host are one: a
    /// request the site loaded directly has one hop.
    pub hops: Vec<Hop<'p>>,
    /// The declared vendor nearest above the request on a third-party hop, reached
    /// through undeclared third parties only: who loaded it. `None` when the site's own
    /// page or script loaded it (directly or through undeclared third parties only), or
    /// the chain has no parent.
    pub loader: Option<&'p Vendor>,
    /// The walk stopped at [`MAX_DEPTH`] or a cycle: the first hop is not the root.
    pub cut: bool,
}

impl Chain<'_> {
    /// `chain: www.googletagmanager.com (google-analytics, declared) → analytics.tiktok.com
    /// (TikTok, known)`; `None` for a chain of one hop (the site loaded it).
    pub fn describe(&self) -> Option<String> {
        if self.hops.len() < 2 {
            return None;
        }
        let hops: Vec<String> = self.hops.iter().map(Hop::label).collect();
        let cut = if self.cut { "… → " } else { "" };
        Some(format!("chain: {cut}{}", hops.join(" → ")))
    }
}

/// A link of the walk: a request of the visit, or a URL no request of the visit has.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Link<'a> {
    Request(usize),
    Url(&'a str),
}

/// The requests of one visit, indexed for finding parents.
struct Index<'a> {
    requests: &'a [&'a RequestObs],
    by_url: HashMap<&'a str, Vec<usize>>,
    /// Document requests by frame id.
    documents: HashMap<&'a str, Vec<usize>>,
}

fn is_document(r: &RequestObs) -> bool {
    r.resource_type == "Document"
}

impl<'a> Index<'a> {
    fn new(requests: &'a [&'a RequestObs]) -> Self {
        let mut by_url: HashMap<&str, Vec<usize>> = HashMap::new();
        let mut documents: HashMap<&str, Vec<usize>> = HashMap::new();
        for (i, r) in requests.iter().enumerate() {
            by_url.entry(r.url.as_str()).or_default().push(i);
            if let (true, Some(f)) = (is_document(r), r.frame_id.as_deref()) {
                documents.entry(f).or_default().push(i);
            }
        }
        Index {
            requests,
            by_url,
            documents,
        }
    }

    /// The latest request of `url` before `i` that `fits`, else the first after it.
    fn nearest(&self, url: &str, i: usize, fits: impl Fn(&RequestObs) -> bool) -> Option<usize> {
        let candidates = self.by_url.get(url)?;
        let fits = |j: &&usize| self.requests.get(**j).is_some_and(|r| fits(r));
        candidates
            .iter()
            .rev()
            .filter(|j| **j < i)
            .find(fits)
            .or_else(|| candidates.iter().filter(|j| **j > i).find(fits))
            .copied()
    }

    /// The request of `url`, else the URL as a hop of its own.
    fn named(&self, url: &'a str, i: usize, fits: impl Fn(&RequestObs) -> bool) -> Link<'a> {
        self.nearest(url, i, fits)
            .map_or(Link::Url(url), Link::Request)
    }

    fn parent(&self, i: usize) -> Option<Link<'a>> {
        let r: &'a RequestObs = self.requests.get(i)?;
        if let Some(c) = &r.cause {
            if let Some(u) = &c.redirected_from {
                return Some(self.named(u, i, |_| true));
            }
            if c.kind == "preflight" {
                let actual = c
                    .url
                    .as_deref()
                    .and_then(|u| self.nearest(u, i, |q| q.method != "OPTIONS"));
                if let Some(j) = actual {
                    return Some(Link::Request(j));
                }
            }
            if let Some(s) = &c.script {
                return Some(self.named(s, i, |_| true));
            }
            if c.kind == "parser" {
                if let Some(d) = &c.url {
                    return Some(self.named(d, i, is_document));
                }
            }
        }
        if is_document(r) {
            return None;
        }
        let docs = self.documents.get(r.frame_id.as_deref()?)?;
        docs.iter()
            .rev()
            .find(|j| **j < i)
            .copied()
            .map(Link::Request)
    }

    /// The links from request `i` (first) up to the root (last), and whether the walk
    /// was cut.
    fn walk(&self, i: usize) -> (Vec<Link<'a>>, bool) {
        let mut links = vec![Link::Request(i)];
        let mut seen = HashSet::from([i]);
        let mut cur = i;
        loop {
            let Some(parent) = self.parent(cur) else {
                return (links, false);
            };
            if links.len() >= MAX_DEPTH {
                return (links, true);
            }
            match parent {
                Link::Request(j) if !seen.insert(j) => return (links, true),
                Link::Request(j) => {
                    links.push(parent);
                    cur = j;
                }
                Link::Url(_) => {
                    links.push(parent);
                    return (links, false);
                }
            }
        }
    }
}

/// Every request's chain, in request order. `who[i]` is request `i`'s attribution;
/// `attribute(url, i)` attributes a URL no request has, in request `i`'s consent state.
pub(crate) fn chains<'p>(
    requests: &[&RequestObs],
    who: &[&Attribution<'p>],
    attribute: &dyn Fn(&str, usize) -> Attribution<'p>,
) -> Vec<Chain<'p>> {
    let index = Index::new(requests);
    (0..requests.len())
        .map(|i| {
            let (links, cut) = index.walk(i);
            let attributed: Vec<Attribution<'p>> = links
                .iter()
                .map(|l| match l {
                    Link::Request(j) => who.get(*j).map(|a| (*a).clone()),
                    Link::Url(u) => Some(attribute(u, i)),
                })
                .map(|a| a.unwrap_or_else(nowhere))
                .collect();
            chain_of(&attributed, cut)
        })
        .collect()
}

fn nowhere<'p>() -> Attribution<'p> {
    Attribution {
        host: None,
        domain: None,
        party: Party::None,
        vendor: None,
        permission: None,
        known: None,
    }
}

/// A chain from its links' attributions, the request's own first.
fn chain_of<'p>(links: &[Attribution<'p>], cut: bool) -> Chain<'p> {
    let mut loader = None;
    for a in links.iter().skip(1) {
        if a.host.is_none() {
            continue;
        }
        if a.party != Party::Third {
            break;
        }
        if a.vendor.is_some() {
            loader = a.vendor;
            break;
        }
    }
    let mut hops: Vec<Hop<'p>> = Vec::new();
    for a in links.iter().rev() {
        let Some(host) = &a.host else { continue };
        if hops.is_empty() && a.party != Party::Third && !cut {
            continue;
        }
        if hops.last().is_some_and(|h| &h.host == host) {
            continue;
        }
        hops.push(Hop {
            host: host.clone(),
            party: a.party,
            vendor: a.vendor,
            known: a
                .known
                .as_ref()
                .filter(|_| a.vendor.is_none())
                .map(|k| k.name.clone()),
        });
    }
    // The site's own request, loaded by the site: its one hop.
    if hops.is_empty() {
        if let Some(a) = links.first() {
            if let Some(host) = &a.host {
                hops.push(Hop {
                    host: host.clone(),
                    party: a.party,
                    vendor: a.vendor,
                    known: None,
                });
            }
        }
    }
    Chain { hops, loader, cut }
}

#[cfg(test)]
#[path = "chain_tests.rs"]
mod tests;

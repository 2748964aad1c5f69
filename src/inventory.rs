//! Inventory: the compact summary of what one visit contained, kept for drift after the
//! raw records are purged. Pure: an [`AttributedVisit`] in, a
//! [`VisitInventory`] out; the store keeps it beside the visit (docs/storage.md).
//!
//! It holds, per visit:
//! - per declared vendor, how many requests, cookie writes and storage writes it made,
//!   how many of those its declared basis did not allow in the consent state in force
//!   (`unauthorized`), and how many were made after a recorded objection to legitimate
//!   interest without another basis allowing them (`objected`): the facts of the LIA
//!   review pack;
//! - every third-party host contacted (with its vendor, if declared; if not, who the
//!   knowledge bases say it belongs to, in `detail`);
//! - every cookie written or stored (`name@domain`, its vendor, its lifetime, its
//!   declared retention, and whether it exceeds it; undeclared, who it is known to
//!   belong to, in `detail`);
//! - every third-party host loaded by a third-party script of a *different* declared
//!   vendor (from the request's initiator): "Meta's script now loads `tr.snapchat.com`".

use crate::attribution::{AttributedVisit, Party};
use crate::model::LegalBasis;
use crate::policy::{Permission, Policy, Retention};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// What one declared vendor did in one visit.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct VendorActivity {
    pub vendor: String,
    pub requests: u32,
    pub cookie_writes: u32,
    pub storage_writes: u32,
    /// Records (requests, cookie and storage writes) its declared basis did not allow.
    pub unauthorized: u32,
    /// Records made after a recorded objection to legitimate interest that no other
    /// basis allowed (a subset of `unauthorized`).
    pub objected: u32,
}

/// The kind of an [`InventoryItem`].
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Serialize,
    Deserialize,
    strum::Display,
    strum::EnumString,
    strum::IntoStaticStr,
)]
#[serde(rename_all = "kebab-case")]
#[strum(serialize_all = "kebab-case")]
pub enum ItemKind {
    /// A third-party host contacted.
    Host,
    /// A cookie written or stored, as `name@domain`.
    Cookie,
    /// A third-party host loaded by a script of another declared vendor.
    LoadedBy,
}

impl ItemKind {
    pub fn as_str(self) -> &'static str {
        self.into()
    }
}

/// One host, cookie or loader relation of a visit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InventoryItem {
    pub kind: ItemKind,
    /// Host, or `name@domain` for a cookie.
    pub item: String,
    /// The declared vendor: of the host or cookie; for `loaded-by`, the loading vendor.
    pub vendor: Option<String>,
    /// Cookies: the longest lifetime asked for (`Max-Age` / `Expires`, header or
    /// script), else the longest stored; `None` is a session cookie. Seconds.
    pub lifetime_secs: Option<i64>,
    /// Cookies: the declared retention in seconds (`0` for `session`); `None` when no
    /// cookie rule covers it.
    pub declared_secs: Option<i64>,
    /// Cookies: one of this cookie's records exceeds its declared retention, by the same
    /// verdict `cookie-retention-exceeded` reads ([`crate::attribution::RetentionVerdict`]:
    /// a requested lifetime with no slack, else a stored one with the policy's tolerance).
    pub over_retention: bool,
    /// `loaded-by`: the host of the loading script. `host` and `cookie` with no declared
    /// vendor: what the knowledge bases say of it ([`crate::knowledge::Known::describe`],
    /// `known: Bing Ads, category ad, by pattern *.bing.com in third-party-web 0.30.0`),
    /// a field apart from `vendor`, the declared map's.
    pub detail: Option<String>,
}

/// The whole inventory of one visit, in a stable order.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct VisitInventory {
    pub vendors: Vec<VendorActivity>,
    pub items: Vec<InventoryItem>,
}

fn retention_secs(r: Retention) -> i64 {
    match r {
        Retention::Session => 0,
        Retention::MaxSeconds(s) => s,
    }
}

pub use crate::net::cookie_key;

fn not_allowed(p: &Option<Permission>) -> bool {
    matches!(p, Some(p) if !matches!(p, Permission::Allowed { .. }))
}

/// Counts one record of `vendor` (if declared): `count` bumps its kind; it is
/// unauthorized when its permission does not allow it, and objected when, besides, an
/// objection to legitimate interest was in force.
fn tally(
    vendors: &mut BTreeMap<String, VendorActivity>,
    vendor: Option<&crate::policy::Vendor>,
    permission: &Option<Permission>,
    li_objected: bool,
    count: impl FnOnce(&mut VendorActivity),
) {
    let Some(v) = vendor else { return };
    let a = vendors
        .entry(v.id.clone())
        .or_insert_with(|| VendorActivity {
            vendor: v.id.clone(),
            ..VendorActivity::default()
        });
    count(a);
    let unauthorized = not_allowed(permission);
    a.unauthorized += u32::from(unauthorized);
    // An objection in the summary state, or one of the vendor's own purposes objected in
    // the effective state (the CMP kept a bit the visitor objected to).
    let objected = li_objected
        || matches!(permission, Some(Permission::Objected { purposes, .. }) if !purposes.is_empty());
    a.objected += u32::from(unauthorized && objected);
}

/// What one visit saw of a cookie (`name@domain`). `requested` / `stored`: `None` until
/// a write / a stored copy is seen, then the longest lifetime (`Some(None)`: session).
struct CookieSeen {
    vendor: Option<String>,
    /// Undeclared: what the knowledge bases say of it.
    known: Option<String>,
    requested: Option<Option<i64>>,
    stored: Option<Option<i64>>,
    declared: Option<i64>,
}

impl CookieSeen {
    fn entry<'m>(
        cookies: &'m mut BTreeMap<String, CookieSeen>,
        name: &str,
        domain: &str,
        a: &crate::attribution::CookieAttribution,
    ) -> &'m mut CookieSeen {
        cookies
            .entry(cookie_key(name, domain))
            .or_insert_with(|| CookieSeen {
                vendor: a.vendor.map(|v| v.id.clone()),
                known: match a.rule {
                    None => a.known.as_ref().map(crate::knowledge::Known::describe),
                    Some(_) => None,
                },
                requested: None,
                stored: None,
                declared: a.rule.map(|r| retention_secs(r.max_retention)),
            })
    }
}

/// The inventory of one attributed visit: it reads only the facts attribution derived
/// (vendors, parties, permissions, initiators, retention verdicts).
pub fn of_visit(visit: &AttributedVisit) -> VisitInventory {
    let mut vendors: BTreeMap<String, VendorActivity> = BTreeMap::new();
    // Host -> (declared vendor, what the knowledge bases say when undeclared).
    let mut hosts: BTreeMap<String, (Option<String>, Option<String>)> = BTreeMap::new();
    let mut loaded: BTreeMap<(String, String), String> = BTreeMap::new();
    let mut cookies: BTreeMap<String, CookieSeen> = BTreeMap::new();

    let exempt: Option<Permission> = None;
    for (r, a) in &visit.requests {
        // A Consent Mode `advanced` cookieless ping is what that mode does without
        // consent: counted, never unauthorized (the checks' one exemption).
        tally(
            &mut vendors,
            a.vendor,
            if a.cookieless_ping {
                &exempt
            } else {
                &a.permission
            },
            r.state.li_objected,
            |x| x.requests += 1,
        );
        if a.party != Party::Third {
            continue;
        }
        let Some(host) = a.host.clone() else { continue };
        hosts.entry(host.clone()).or_insert_with(|| match a.vendor {
            Some(v) => (Some(v.id.clone()), None),
            None => (
                None,
                a.known.as_ref().map(crate::knowledge::Known::describe),
            ),
        });
        // Loaded by another (third-party) declared vendor's script? The site's own
        // scripts load every tag: that relation is the inventory itself, not news.
        if let Some(init) = a.initiator.as_ref().filter(|i| i.party == Party::Third) {
            if let (Some(init_host), Some(loader)) = (&init.host, init.vendor) {
                let same = a.vendor.is_some_and(|v| v.id == loader.id);
                if !same && *init_host != host {
                    loaded
                        .entry((host.clone(), loader.id.clone()))
                        .or_insert(init_host.clone());
                }
            }
        }
    }
    for (w, a) in &visit.cookie_writes {
        tally(
            &mut vendors,
            a.vendor,
            &a.permission,
            w.state.li_objected,
            |x| x.cookie_writes += 1,
        );
        let life = w.requested_lifetime_secs.filter(|s| *s > 0);
        let seen = CookieSeen::entry(&mut cookies, &w.name, &w.domain, a);
        seen.requested = Some(seen.requested.map_or(life, |prev| prev.max(life)));
    }
    for (c, a) in &visit.cookies {
        let life = c
            .expires
            .map(|e| (e - c.observed_at).num_seconds())
            .filter(|s| *s > 0);
        let seen = CookieSeen::entry(&mut cookies, &c.name, &c.domain, a);
        seen.stored = Some(seen.stored.map_or(life, |prev| prev.max(life)));
    }
    for (s, a) in &visit.storage_writes {
        tally(
            &mut vendors,
            a.vendor,
            &a.permission,
            s.state.li_objected,
            |x| x.storage_writes += 1,
        );
    }

    let mut items: Vec<InventoryItem> = Vec::new();
    for (host, (vendor, known)) in hosts {
        items.push(InventoryItem {
            kind: ItemKind::Host,
            item: host,
            vendor,
            lifetime_secs: None,
            declared_secs: None,
            over_retention: false,
            detail: known,
        });
    }
    for (key, c) in cookies {
        let lifetime = c.requested.or(c.stored).flatten();
        // The retention verdict of the attribution stage, which `cookie-retention-exceeded`
        // reads too: the item is over when one of its own records exceeds its rule.
        let over = visit.retention.iter().any(|v| v.exceeded_by(&key));
        items.push(InventoryItem {
            kind: ItemKind::Cookie,
            item: key,
            vendor: c.vendor,
            lifetime_secs: lifetime,
            declared_secs: c.declared,
            over_retention: over,
            detail: c.known,
        });
    }
    for ((host, loader), init_host) in loaded {
        items.push(InventoryItem {
            kind: ItemKind::LoadedBy,
            item: host,
            vendor: Some(loader),
            lifetime_secs: None,
            declared_secs: None,
            over_retention: false,
            detail: Some(init_host),
        });
    }
    VisitInventory {
        vendors: vendors.into_values().collect(),
        items,
    }
}

/// One declared (vendor, purpose) pair of the policy a run used: the declaration
/// history of the LIA review pack.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Declaration {
    pub vendor: String,
    pub vendor_name: String,
    pub purpose: String,
    pub basis: LegalBasis,
    pub strictly_necessary: bool,
    pub tcf_purpose: Option<u8>,
}

/// Every (vendor, purpose) pair the policy declares, in policy order. A purpose id that
/// names no purpose is skipped (the loader rejects it).
pub fn declarations(policy: &Policy) -> Vec<Declaration> {
    let mut out = Vec::new();
    for v in &policy.vendors {
        for pid in &v.purposes {
            let Some(p) = policy.purpose(pid) else {
                continue;
            };
            out.push(Declaration {
                vendor: v.id.clone(),
                vendor_name: v.name.clone(),
                purpose: p.id.clone(),
                basis: p.basis,
                strictly_necessary: p.strictly_necessary,
                tcf_purpose: p.tcf_purpose,
            });
        }
    }
    out
}

//! Inventory drift: per scenario, what a run contained that the previous run observing
//! the same scenario did not (and the reverse): declared vendors, third-party hosts,
//! cookies, cookie lifetimes, and hosts loaded by a declared vendor's script.
//!
//! A visit that was not observed, or that carries no inventory (recorded before schema
//! 3), is skipped: it is neither compared nor a baseline, so a scenario that failed one
//! night is compared the next night against the last night it was observed.

use super::model::{Change, InventoryChange, InventoryKind};
use crate::inventory::ItemKind;
use crate::policy::describe_secs;
use crate::store::{InventorySet, RunHistory};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

/// A cookie in a [`Snapshot`]: (declared vendor, lifetime, what is known of it when
/// undeclared).
type CookieSeen = (Option<String>, Option<i64>, Option<String>);

/// The comparable inventory of one visit.
#[derive(Debug, Default, Clone)]
struct Snapshot {
    vendors: BTreeSet<String>,
    /// Host -> (declared vendor, what is known of it when undeclared).
    hosts: BTreeMap<String, (Option<String>, Option<String>)>,
    /// `name@domain` -> (declared vendor, lifetime, what is known of it when undeclared).
    cookies: BTreeMap<String, CookieSeen>,
    loaded: BTreeMap<(String, String), Option<String>>,
}

fn snapshot(set: &InventorySet) -> Snapshot {
    let mut s = Snapshot {
        vendors: set.vendors.iter().cloned().collect(),
        ..Snapshot::default()
    };
    for i in &set.items {
        match i.kind {
            ItemKind::Host => {
                s.hosts.insert(i.item.clone(), (i.vendor.clone(), known(i)));
            }
            ItemKind::Cookie => {
                s.cookies.insert(
                    i.item.clone(),
                    (i.vendor.clone(), i.lifetime_secs, known(i)),
                );
            }
            ItemKind::LoadedBy => {
                if let Some(v) = &i.vendor {
                    s.loaded
                        .insert((i.item.clone(), v.clone()), i.detail.clone());
                }
            }
        }
    }
    s
}

/// What the inventory recorded as known of an undeclared host or cookie (its `detail`,
/// [`crate::inventory::InventoryItem::detail`]); a declared one's is the vendor's alone.
fn known(i: &crate::inventory::InventoryItem) -> Option<String> {
    i.detail.clone().filter(|_| i.vendor.is_none())
}

/// `session`, `395d`, `~12h`.
pub fn lifetime_text(l: Option<i64>) -> String {
    match l {
        None => "session".to_string(),
        Some(s) => crate::analysis::human_secs(s),
    }
}

/// Did a cookie's lifetime change? More than a minute and more than 1% apart (stored
/// expiry dates move with the clock; `Max-Age` does not), or session vs persistent.
fn lifetime_changed(a: Option<i64>, b: Option<i64>) -> bool {
    match (a, b) {
        (None, None) => false,
        (Some(x), Some(y)) => {
            let d = (x - y).abs();
            d > 60 && d * 100 > x.abs().max(y.abs())
        }
        _ => true,
    }
}

/// Every inventory change in `history` (oldest run first), run by run, scenario by
/// scenario in run order.
pub fn changes(history: &[RunHistory]) -> Vec<InventoryChange> {
    let mut out = Vec::new();
    // Per scenario: the run compared against, its set, and that set's snapshot.
    let mut last: BTreeMap<&str, (i64, &Arc<InventorySet>, Snapshot)> = BTreeMap::new();
    for run in history {
        for v in &run.visits {
            let Some(set) = v.inventory.as_ref().filter(|_| v.observed) else {
                continue;
            };
            if let Some(prev) = last.get_mut(v.scenario.as_str()) {
                if Arc::ptr_eq(prev.1, set) {
                    // The same stored set: nothing changed.
                    prev.0 = run.run.id;
                    continue;
                }
            }
            let cur = snapshot(set);
            if let Some((prev_id, _, prev)) = last.get(v.scenario.as_str()) {
                let mk = |kind,
                          change,
                          item: &str,
                          (vendor, known): (Option<String>, Option<String>),
                          before,
                          after| {
                    InventoryChange {
                        run_id: run.run.id,
                        at: run.run.started_at,
                        scenario: v.scenario.clone(),
                        against_run: *prev_id,
                        kind,
                        change,
                        item: item.to_string(),
                        vendor,
                        before,
                        after,
                        known,
                    }
                };
                for x in cur.vendors.difference(&prev.vendors) {
                    out.push(mk(
                        InventoryKind::Vendor,
                        Change::Added,
                        x,
                        (Some(x.clone()), None),
                        None,
                        None,
                    ));
                }
                for x in prev.vendors.difference(&cur.vendors) {
                    out.push(mk(
                        InventoryKind::Vendor,
                        Change::Removed,
                        x,
                        (Some(x.clone()), None),
                        None,
                        None,
                    ));
                }
                for (h, seen) in &cur.hosts {
                    if !prev.hosts.contains_key(h) {
                        out.push(mk(
                            InventoryKind::Host,
                            Change::Added,
                            h,
                            seen.clone(),
                            None,
                            None,
                        ));
                    }
                }
                for (h, seen) in &prev.hosts {
                    if !cur.hosts.contains_key(h) {
                        out.push(mk(
                            InventoryKind::Host,
                            Change::Removed,
                            h,
                            seen.clone(),
                            None,
                            None,
                        ));
                    }
                }
                for (c, (vendor, life, known)) in &cur.cookies {
                    match prev.cookies.get(c) {
                        None => out.push(mk(
                            InventoryKind::Cookie,
                            Change::Added,
                            c,
                            (vendor.clone(), known.clone()),
                            None,
                            Some(lifetime_text(*life)),
                        )),
                        Some((_, before, _)) if lifetime_changed(*before, *life) => out.push(mk(
                            InventoryKind::CookieLifetime,
                            Change::Changed,
                            c,
                            (vendor.clone(), known.clone()),
                            Some(lifetime_text(*before)),
                            Some(lifetime_text(*life)),
                        )),
                        Some(_) => {}
                    }
                }
                for (c, (vendor, life, known)) in &prev.cookies {
                    if !cur.cookies.contains_key(c) {
                        out.push(mk(
                            InventoryKind::Cookie,
                            Change::Removed,
                            c,
                            (vendor.clone(), known.clone()),
                            Some(lifetime_text(*life)),
                            None,
                        ));
                    }
                }
                for ((h, loader), by) in &cur.loaded {
                    if !prev.loaded.contains_key(&(h.clone(), loader.clone())) {
                        out.push(mk(
                            InventoryKind::LoadedBy,
                            Change::Added,
                            h,
                            (Some(loader.clone()), None),
                            None,
                            by.clone(),
                        ));
                    }
                }
                for ((h, loader), by) in &prev.loaded {
                    if !cur.loaded.contains_key(&(h.clone(), loader.clone())) {
                        out.push(mk(
                            InventoryKind::LoadedBy,
                            Change::Removed,
                            h,
                            (Some(loader.clone()), None),
                            by.clone(),
                            None,
                        ));
                    }
                }
            }
            last.insert(v.scenario.as_str(), (run.run.id, set, cur));
        }
    }
    out
}

/// Seconds as the pack shows a declared retention (`0` is `session`).
pub fn retention_text(secs: i64) -> String {
    if secs == 0 {
        "session".to_string()
    } else {
        describe_secs(secs)
    }
}

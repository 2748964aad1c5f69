//! One section per vendor: its latest declaration, what it did in each run of the
//! window, whether it honoured the objection to legitimate interest, its retention
//! issues, its findings' events and its inventory drift. Legitimate-interest vendors
//! first, then the others, by id.

use super::{mismatches, retention, Window};
use crate::drift::lifecycle::Lifecycle;
use crate::drift::model::{
    DeclarationEvent, DeclaredPurpose, InventoryChange, Objection, Rate, StatusCounts, VendorRun,
    VendorSection,
};
use crate::inventory::{Declaration, ItemKind};
use crate::model::LegalBasis;
use crate::store::RunHistory;
use std::collections::{BTreeMap, BTreeSet};

/// Every vendor of the window's latest declaration, activity, findings or inventory.
pub(super) fn vendors(
    w: &Window,
    lcs: &[Lifecycle],
    inventory: &[InventoryChange],
    declarations: &mut BTreeMap<String, Vec<DeclarationEvent>>,
) -> Vec<VendorSection> {
    let latest_decl: &[Declaration] = w
        .runs
        .iter()
        .rev()
        .find(|h| !h.declarations.is_empty())
        .map(|h| h.declarations.as_slice())
        .unwrap_or(&[]);
    // Scenarios that record an objection, in any run of the history.
    let objection_scenarios: BTreeSet<&str> = w
        .history()
        .iter()
        .flat_map(|h| h.visits.iter())
        .filter(|v| v.li_objected)
        .map(|v| v.scenario.as_str())
        .collect();
    let evidence = mismatches::Evidence::of(w.history());
    let mut vendors: Vec<VendorSection> = vendor_ids(w, lcs, latest_decl)
        .iter()
        .map(|vid| {
            let li = legitimate_interest(w, vid);
            let (runs, suppression) = vendor_runs(w, vid, li, &objection_scenarios);
            let purposes = purposes(latest_decl, vid);
            VendorSection {
                vendor: vid.clone(),
                name: latest_decl
                    .iter()
                    .find(|d| &d.vendor == vid)
                    .map(|d| d.vendor_name.clone()),
                declared: !purposes.is_empty(),
                purposes,
                legitimate_interest: li,
                declaration_history: declarations.remove(vid).unwrap_or_default(),
                unauthorized_fires: runs.iter().map(|r| u64::from(r.unauthorized)).sum(),
                runs,
                suppression,
                retention: retention::retention(w, vid),
                findings: findings(lcs, vid),
                mismatches: mismatches::mismatches(lcs, vid, &evidence),
                inventory: inventory
                    .iter()
                    .filter(|c| c.vendor.as_deref() == Some(vid.as_str()))
                    .cloned()
                    .collect(),
            }
        })
        .collect();
    vendors.sort_by(|a, b| {
        b.legitimate_interest
            .cmp(&a.legitimate_interest)
            .then_with(|| a.vendor.cmp(&b.vendor))
    });
    vendors
}

fn vendor_ids(w: &Window, lcs: &[Lifecycle], latest_decl: &[Declaration]) -> BTreeSet<String> {
    let mut ids: BTreeSet<String> = latest_decl.iter().map(|d| d.vendor.clone()).collect();
    for h in &w.runs {
        ids.extend(h.vendors.iter().map(|v| v.activity.vendor.clone()));
    }
    ids.extend(lcs.iter().filter_map(|l| l.vendor.clone()));
    for h in &w.runs {
        let items = h
            .visits
            .iter()
            .filter_map(|v| v.inventory.as_deref())
            .flat_map(|set| &set.items);
        ids.extend(items.filter_map(|i| {
            (i.kind != ItemKind::LoadedBy)
                .then(|| i.vendor.clone())
                .flatten()
        }));
    }
    ids
}

fn purposes(latest_decl: &[Declaration], vid: &str) -> Vec<DeclaredPurpose> {
    latest_decl
        .iter()
        .filter(|d| d.vendor == vid)
        .map(|d| DeclaredPurpose {
            purpose: d.purpose.clone(),
            basis: d.basis,
            strictly_necessary: d.strictly_necessary,
            tcf_purpose: d.tcf_purpose,
        })
        .collect()
}

/// Legitimate interest at any time in the window: a vendor moved to consent in the
/// middle of the quarter still owes the review its objection record.
fn legitimate_interest(w: &Window, vid: &str) -> bool {
    w.runs.iter().any(|h| {
        h.declarations
            .iter()
            .any(|d| d.vendor == vid && d.basis == LegalBasis::LegitimateInterest)
    })
}

/// The vendor's findings by their current status.
fn findings(lcs: &[Lifecycle], vid: &str) -> StatusCounts {
    let mut counts = StatusCounts::default();
    for l in lcs.iter().filter(|l| l.vendor.as_deref() == Some(vid)) {
        counts.add(l.current, l.timeline.last().is_some_and(|s| s.acknowledged));
    }
    counts
}

/// What the vendor did in each run of the window and, for a legitimate-interest
/// vendor, whether it honoured the objection; with the suppression rate over them.
fn vendor_runs(
    w: &Window,
    vid: &str,
    li: bool,
    objection_scenarios: &BTreeSet<&str>,
) -> (Vec<VendorRun>, Option<Rate>) {
    let (mut honoured, mut not_honoured, mut unverified) = (0u32, 0u32, 0u32);
    let mut runs = Vec::new();
    for h in &w.runs {
        let (mut r, objected_in_observed) = activity(h, vid);
        if li {
            let o = objection(h, &r, objected_in_observed, objection_scenarios);
            match o {
                Objection::Honoured => honoured += 1,
                Objection::NotHonoured => not_honoured += 1,
                Objection::Unverified => unverified += 1,
                _ => {}
            }
            r.objection = Some(o);
        }
        runs.push(r);
    }
    let rate = li.then(|| Rate::new(honoured, honoured + not_honoured, unverified));
    (runs, rate)
}

/// The vendor's activity summed over the run's scenarios, and the records made after
/// an objection in observed scenarios (both summed when the run's visits were stored).
fn activity(h: &RunHistory, vid: &str) -> (VendorRun, u32) {
    let v = h.vendors.iter().find(|v| v.activity.vendor == vid);
    let a = v.map(|v| v.activity.clone()).unwrap_or_default();
    let r = VendorRun {
        run_id: h.run.id,
        started_at: h.run.started_at,
        requests: a.requests,
        cookie_writes: a.cookie_writes,
        storage_writes: a.storage_writes,
        unauthorized: a.unauthorized,
        objected: a.objected,
        objection: None,
    };
    (r, v.map_or(0, |v| v.objected_observed))
}

/// Whether the run shows the vendor honouring the objection to legitimate interest.
fn objection(
    h: &RunHistory,
    r: &VendorRun,
    objected_in_observed: u32,
    objection_scenarios: &BTreeSet<&str>,
) -> Objection {
    let obj: Vec<_> = h
        .visits
        .iter()
        .filter(|v| objection_scenarios.contains(v.scenario.as_str()))
        .collect();
    if obj.is_empty() {
        Objection::NotChecked
    } else if objected_in_observed > 0 {
        Objection::NotHonoured
    } else if !obj.iter().any(|v| v.observed && v.has_inventory()) {
        Objection::Unverified
    } else if r.requests + r.cookie_writes + r.storage_writes == 0 {
        Objection::Absent
    } else {
        Objection::Honoured
    }
}

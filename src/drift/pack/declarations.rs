//! How a vendor's declaration changed between two runs' declared maps, in words.

use crate::inventory::Declaration;
use std::collections::{BTreeMap, BTreeSet};

/// `(vendor, purpose) -> declaration` of a declaration list.
fn declared_map(ds: &[Declaration]) -> BTreeMap<(String, String), &Declaration> {
    ds.iter()
        .map(|d| ((d.vendor.clone(), d.purpose.clone()), d))
        .collect()
}

fn purpose_text(d: &Declaration) -> String {
    if d.strictly_necessary {
        format!("{} ({}, strictly necessary)", d.purpose, d.basis)
    } else {
        format!("{} ({})", d.purpose, d.basis)
    }
}

/// Per vendor, the lines that describe how its declaration changed from `a` to `b`.
pub(super) fn declaration_diff(
    a: &[Declaration],
    b: &[Declaration],
) -> BTreeMap<String, Vec<String>> {
    let (ma, mb) = (declared_map(a), declared_map(b));
    let va: BTreeSet<&str> = a.iter().map(|d| d.vendor.as_str()).collect();
    let vb: BTreeSet<&str> = b.iter().map(|d| d.vendor.as_str()).collect();
    let mut out: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for v in vb.difference(&va) {
        let ps: Vec<String> = b
            .iter()
            .filter(|d| d.vendor == *v)
            .map(purpose_text)
            .collect();
        out.entry(v.to_string())
            .or_default()
            .push(format!("declared: {}", ps.join(", ")));
    }
    for v in va.difference(&vb) {
        out.entry(v.to_string())
            .or_default()
            .push("removed from the declared map".to_string());
    }
    for v in va.intersection(&vb) {
        for ((vendor, purpose), d) in &mb {
            if vendor != v {
                continue;
            }
            match ma.get(&(vendor.clone(), purpose.clone())) {
                None => out
                    .entry(v.to_string())
                    .or_default()
                    .push(format!("purpose added: {}", purpose_text(d))),
                Some(old) if old.basis != d.basis => out
                    .entry(v.to_string())
                    .or_default()
                    .push(format!("{purpose}: {} -> {}", old.basis, d.basis)),
                Some(old) if old.strictly_necessary != d.strictly_necessary => {
                    out.entry(v.to_string()).or_default().push(format!(
                        "{purpose}: strictly necessary {} -> {}",
                        old.strictly_necessary, d.strictly_necessary
                    ))
                }
                Some(_) => {}
            }
        }
        for ((vendor, purpose), old) in &ma {
            if vendor == v && !mb.contains_key(&(vendor.clone(), purpose.clone())) {
                out.entry(v.to_string())
                    .or_default()
                    .push(format!("purpose removed: {}", purpose_text(old)));
            }
        }
    }
    out
}

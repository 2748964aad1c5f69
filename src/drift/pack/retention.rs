//! A vendor's cookies kept longer than declared, over the runs of the window.

use super::Window;
use crate::drift::model::RetentionIssue;
use crate::inventory::ItemKind;
use std::collections::{BTreeMap, BTreeSet};

/// Per cookie of the vendor over its declared retention in some run: by how much (the
/// latest run's worst), in how many runs of those that saw it, and whether it still was
/// in the latest run that saw it.
pub(super) fn retention(w: &Window, vid: &str) -> Vec<RetentionIssue> {
    let mut ret: BTreeMap<String, RetentionIssue> = BTreeMap::new();
    let mut seen_runs: BTreeMap<String, BTreeSet<i64>> = BTreeMap::new();
    for h in &w.runs {
        for i in h
            .visits
            .iter()
            .filter_map(|v| v.inventory.as_deref())
            .flat_map(|set| &set.items)
            .filter(|i| i.kind == ItemKind::Cookie && i.vendor.as_deref() == Some(vid))
        {
            seen_runs
                .entry(i.item.clone())
                .or_default()
                .insert(h.run.id);
            if !i.over_retention {
                continue;
            }
            let declared = i.declared_secs.unwrap_or(0);
            let over_by = i.lifetime_secs.unwrap_or(0) - declared;
            let e = ret.entry(i.item.clone()).or_insert(RetentionIssue {
                cookie: i.item.clone(),
                declared_secs: declared,
                lifetime_secs: i.lifetime_secs,
                over_by_secs: over_by,
                runs_over: 0,
                runs_seen: 0,
                first_over: h.run.started_at,
                last_over: h.run.started_at,
                last_run: h.run.id,
                still_over: false,
            });
            if e.last_run != h.run.id || e.runs_over == 0 {
                e.runs_over += 1;
                e.lifetime_secs = i.lifetime_secs;
                e.over_by_secs = over_by;
                e.declared_secs = declared;
            } else if over_by > e.over_by_secs {
                e.lifetime_secs = i.lifetime_secs;
                e.over_by_secs = over_by;
            }
            e.last_over = h.run.started_at;
            e.last_run = h.run.id;
        }
    }
    let last_seen_run: BTreeMap<String, i64> = seen_runs
        .iter()
        .filter_map(|(k, rs)| rs.iter().next_back().map(|r| (k.clone(), *r)))
        .collect();
    ret.into_values()
        .map(|mut r| {
            r.runs_seen = seen_runs
                .get(&r.cookie)
                .map(|s| u32::try_from(s.len()).unwrap_or(u32::MAX))
                .unwrap_or(0);
            r.still_over = last_seen_run.get(&r.cookie) == Some(&r.last_run);
            r
        })
        .collect()
}

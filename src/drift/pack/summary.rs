//! The pack's first screen: totals over the sections built before it.

use super::Window;
use crate::drift::lifecycle::Lifecycle;
use crate::drift::model::{
    AckStatus, AckView, Change, DeclarationChange, InventoryChange, Rate, StatusCounts, Summary,
    VendorSection,
};

/// The sections the summary counts.
pub(super) struct Parts<'a> {
    pub window: &'a Window<'a>,
    pub lifecycles: &'a [Lifecycle],
    pub vendors: &'a [VendorSection],
    pub inventory: &'a [InventoryChange],
    pub declaration_changes: &'a [DeclarationChange],
    pub acknowledgements: &'a [AckView],
}

fn n(count: usize) -> u32 {
    u32::try_from(count).unwrap_or(u32::MAX)
}

pub(super) fn summary(p: Parts) -> Summary {
    let mut current = StatusCounts::default();
    for l in p.lifecycles {
        current.add(l.current, l.timeline.last().is_some_and(|s| s.acknowledged));
    }
    let li_vendors: Vec<&VendorSection> =
        p.vendors.iter().filter(|v| v.legitimate_interest).collect();
    let (h, c, u) = li_vendors
        .iter()
        .filter_map(|v| v.suppression)
        .fold((0, 0, 0), |(h, c, u), r| {
            (h + r.honoured, c + r.checked, u + r.unverified)
        });
    let changed = |kind: Change| n(p.inventory.iter().filter(|c| c.change == kind).count());
    let window = &p.window.runs;
    Summary {
        runs: n(window.len()),
        complete_runs: n(window
            .iter()
            .filter(|h| h.run.status == crate::model::RunStatus::Complete)
            .count()),
        first_run: window.first().map(|h| h.run.started_at),
        last_run: window.last().map(|h| h.run.started_at),
        current,
        li_vendors: n(li_vendors.len()),
        suppression: Rate::new(h, c, u),
        unauthorized_fires: p.vendors.iter().map(|v| v.unauthorized_fires).sum(),
        retention_over: n(p
            .vendors
            .iter()
            .flat_map(|v| v.retention.iter())
            .filter(|r| r.still_over)
            .count()),
        inventory_added: changed(Change::Added),
        inventory_removed: changed(Change::Removed),
        inventory_changed: changed(Change::Changed),
        declaration_changes: n(p.declaration_changes.len()),
        unused_acknowledgements: n(p
            .acknowledgements
            .iter()
            .filter(|a| a.status == AckStatus::Unused)
            .count()),
    }
}

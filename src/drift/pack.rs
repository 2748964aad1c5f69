//! The drift pack: a site's history (and its acknowledgements) in, a [`DriftReport`]
//! out. Pure and deterministic; docs/drift.md describes each rule.
//!
//! The history may start with *context* runs before the window (the store hands the
//! last complete run before `since`): they set the baseline, so a finding that was
//! already there is `persisting`, not `new`, and an inventory is compared against the
//! night before the window. Context runs are never counted or listed.

use super::inventory::changes;
use super::lifecycle::{lifecycles, Lifecycle, Status};
use super::model::*;
use crate::inventory::{Declaration, ItemKind};
use crate::store::RunHistory;
use chrono::{DateTime, Utc};
use std::collections::{BTreeMap, BTreeSet, HashMap};

/// An acknowledgement, as the pack needs it (see `crate::ack` for the file).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AckInput {
    pub fingerprint: String,
    /// `None`: every site.
    pub site: Option<String>,
    pub owner: String,
    pub reason: String,
    /// From when it applies (`None`: always).
    pub acknowledged: Option<DateTime<Utc>>,
    /// It applies up to and including this instant (a date in the file is the end of
    /// that day, UTC).
    pub expires: DateTime<Utc>,
    pub location: Option<String>,
}

impl AckInput {
    fn applies_at(&self, t: DateTime<Utc>) -> bool {
        self.acknowledged.is_none_or(|a| a <= t) && t <= self.expires
    }
}

/// What the pack is built from.
pub struct PackInput<'a> {
    pub site: &'a str,
    pub since: DateTime<Utc>,
    pub until: DateTime<Utc>,
    /// Oldest first; runs before `since` are context only.
    pub history: &'a [RunHistory],
    pub acks: &'a [AckInput],
}

fn in_window(input: &PackInput, t: DateTime<Utc>) -> bool {
    t >= input.since && t < input.until
}

/// `(vendor, purpose) -> basis` of a declaration list.
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
fn declaration_diff(a: &[Declaration], b: &[Declaration]) -> BTreeMap<String, Vec<String>> {
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

/// Trims a lifecycle to the window; `None` when nothing of it happened there (it was
/// resolved before the window and stayed so).
fn windowed(input: &PackInput, mut l: Lifecycle) -> Option<Lifecycle> {
    let before = l
        .timeline
        .iter()
        .take_while(|s| s.started_at < input.since)
        .count();
    let was_open_before = l.timeline[..before]
        .last()
        .is_some_and(|s| s.status != Status::Resolved);
    l.timeline.drain(..before);
    l.timeline.retain(|s| s.started_at < input.until);
    let first = l.timeline.first()?;
    if l.timeline.iter().all(|s| s.status == Status::Resolved)
        && !(was_open_before && first.status == Status::Resolved)
    {
        return None;
    }
    l.runs_seen = l
        .timeline
        .iter()
        .filter(|s| {
            matches!(
                s.status,
                Status::New | Status::Persisting | Status::Regressed
            )
        })
        .count();
    l.runs_checked = l.timeline.iter().filter(|s| s.checked).count();
    l.current = l.timeline.last().map(|s| s.status).unwrap_or(l.current);
    Some(l)
}

fn ack_view(a: &AckInput, status: AckStatus, matched: u32) -> AckView {
    AckView {
        fingerprint: a.fingerprint.clone(),
        owner: a.owner.clone(),
        reason: a.reason.clone(),
        acknowledged: a.acknowledged,
        expires: a.expires,
        status,
        location: a.location.clone(),
        matched,
    }
}

/// Builds the pack.
pub fn build(input: &PackInput) -> DriftReport {
    let history = input.history;
    let window: Vec<&RunHistory> = history
        .iter()
        .filter(|h| in_window(input, h.run.started_at))
        .collect();
    let window_ids: BTreeSet<i64> = window.iter().map(|h| h.run.id).collect();
    let acks: Vec<&AckInput> = input
        .acks
        .iter()
        .filter(|a| a.site.as_deref().is_none_or(|s| s == input.site))
        .collect();

    // Lifecycles, acknowledged per step.
    let mut lcs: Vec<Lifecycle> = lifecycles(history)
        .into_iter()
        .filter_map(|l| windowed(input, l))
        .collect();
    for l in &mut lcs {
        let mine: Vec<&&AckInput> = acks
            .iter()
            .filter(|a| a.fingerprint == l.fingerprint)
            .collect();
        for s in &mut l.timeline {
            s.acknowledged = mine.iter().any(|a| a.applies_at(s.started_at));
        }
        let end = l.timeline.last().map(|s| s.started_at);
        l.acknowledgement = end.and_then(|t| {
            mine.iter()
                .find(|a| a.applies_at(t))
                .map(|a| ack_view(a, AckStatus::Active, 1))
                .or_else(|| {
                    mine.iter()
                        .filter(|a| a.expires < input.until)
                        .max_by_key(|a| a.expires)
                        .map(|a| ack_view(a, AckStatus::Expired, 1))
                })
        });
    }

    // Evidence of each finding per run (for the mismatches).
    let mut evidence: HashMap<(i64, &str), &crate::store::FindingSeen> = HashMap::new();
    for h in history {
        for f in &h.findings {
            evidence
                .entry((h.run.id, f.fingerprint.as_str()))
                .or_insert(f);
        }
    }

    let inventory: Vec<InventoryChange> = changes(history)
        .into_iter()
        .filter(|c| window_ids.contains(&c.run_id))
        .collect();

    // Runs and declaration changes.
    let mut runs: Vec<RunRef> = Vec::new();
    let mut declaration_changes: Vec<DeclarationChange> = Vec::new();
    let mut vendor_decl_events: BTreeMap<String, Vec<DeclarationEvent>> = BTreeMap::new();
    let mut prev: Option<&RunHistory> = None;
    for h in history {
        let in_win = window_ids.contains(&h.run.id);
        if in_win {
            let mut counts = StatusCounts::default();
            let mut behaviour = inventory.iter().any(|c| c.run_id == h.run.id);
            let mut resolved_in_run = 0;
            for l in &lcs {
                if let Some(i) = l.timeline.iter().position(|s| s.run_id == h.run.id) {
                    let s = &l.timeline[i];
                    counts.add(s.status, s.acknowledged);
                    let transition = match s.status {
                        Status::New | Status::Regressed => true,
                        Status::Resolved => {
                            // A first in-window resolution is kept only when the
                            // finding was open just before the window.
                            let was = i == 0 || l.timeline[i - 1].status != Status::Resolved;
                            if was {
                                resolved_in_run += 1;
                            }
                            was
                        }
                        _ => false,
                    };
                    behaviour |= transition;
                }
            }
            let (scenario_changed, policy_changed) = match prev {
                Some(p) => (
                    p.run.scenario_digest != h.run.scenario_digest,
                    p.run.policy_digest != h.run.policy_digest,
                ),
                None => (false, false),
            };
            if let Some(p) = prev.filter(|_| scenario_changed || policy_changed) {
                let mut lines = Vec::new();
                if !p.declarations.is_empty() && !h.declarations.is_empty() {
                    for (vendor, ls) in declaration_diff(&p.declarations, &h.declarations) {
                        for line in ls {
                            lines.push(format!("vendor {vendor}: {line}"));
                            vendor_decl_events.entry(vendor.clone()).or_default().push(
                                DeclarationEvent {
                                    run_id: h.run.id,
                                    at: h.run.started_at,
                                    change: line,
                                },
                            );
                        }
                    }
                }
                declaration_changes.push(DeclarationChange {
                    run_id: h.run.id,
                    at: h.run.started_at,
                    previous_run: p.run.id,
                    scenario_changed,
                    policy_changed,
                    changes: lines,
                    resolved_in_run,
                });
            }
            let (status, reason) = match &h.run.status {
                crate::model::RunStatus::Complete => ("complete", None),
                crate::model::RunStatus::Running => ("running", None),
                crate::model::RunStatus::Incomplete(r) => ("incomplete", Some(r.clone())),
                crate::model::RunStatus::Interrupted(r) => ("interrupted", Some(r.clone())),
            };
            // The first run of the history is the baseline: nothing to change from.
            let behaviour = behaviour && prev.is_some();
            runs.push(RunRef {
                id: h.run.id,
                started_at: h.run.started_at,
                status: status.to_string(),
                status_reason: reason,
                scenarios: h
                    .visits
                    .iter()
                    .map(|v| ScenarioRef {
                        id: v.scenario.clone(),
                        observed: v.observed,
                        li_objected: v.li_objected,
                    })
                    .collect(),
                scenario_digest: h.run.scenario_digest.clone(),
                policy_digest: h.run.policy_digest.clone(),
                declaration_changed: scenario_changed || policy_changed,
                behaviour_changed: behaviour,
                counts,
            });
        }
        prev = Some(h);
    }

    // Vendors.
    let latest_decl: &[Declaration] = window
        .iter()
        .rev()
        .find(|h| !h.declarations.is_empty())
        .map(|h| h.declarations.as_slice())
        .unwrap_or(&[]);
    let mut vendor_ids: BTreeSet<String> = latest_decl.iter().map(|d| d.vendor.clone()).collect();
    for h in &window {
        vendor_ids.extend(h.vendors.iter().map(|(_, a)| a.vendor.clone()));
    }
    vendor_ids.extend(lcs.iter().filter_map(|l| l.vendor.clone()));
    for h in &window {
        vendor_ids.extend(h.inventory.iter().filter_map(|(_, i)| {
            (i.kind != ItemKind::LoadedBy)
                .then(|| i.vendor.clone())
                .flatten()
        }));
    }
    // Scenarios that record an objection, in any run of the history.
    let objection_scenarios: BTreeSet<&str> = history
        .iter()
        .flat_map(|h| h.visits.iter())
        .filter(|v| v.li_objected)
        .map(|v| v.scenario.as_str())
        .collect();

    let mut vendors: Vec<VendorSection> = Vec::new();
    for vid in &vendor_ids {
        let purposes: Vec<DeclaredPurpose> = latest_decl
            .iter()
            .filter(|d| &d.vendor == vid)
            .map(|d| DeclaredPurpose {
                purpose: d.purpose.clone(),
                basis: d.basis.clone(),
                strictly_necessary: d.strictly_necessary,
                tcf_purpose: d.tcf_purpose,
            })
            .collect();
        let declared = !purposes.is_empty();
        let name = latest_decl
            .iter()
            .find(|d| &d.vendor == vid)
            .map(|d| d.vendor_name.clone());
        // Legitimate interest at any time in the window: a vendor moved to consent in
        // the middle of the quarter still owes the review its objection record.
        let li = window.iter().any(|h| {
            h.declarations
                .iter()
                .any(|d| &d.vendor == vid && d.basis == "legitimate_interest")
        });
        let mut vruns = Vec::new();
        let (mut honoured, mut not_honoured, mut unverified) = (0u32, 0u32, 0u32);
        let mut unauthorized_fires = 0u64;
        for h in &window {
            let mut r = VendorRun {
                run_id: h.run.id,
                started_at: h.run.started_at,
                requests: 0,
                cookie_writes: 0,
                storage_writes: 0,
                unauthorized: 0,
                objected: 0,
                objection: None,
            };
            let mut objected_in_observed = 0u32;
            for (sc, a) in h.vendors.iter().filter(|(_, a)| &a.vendor == vid) {
                r.requests += a.requests;
                r.cookie_writes += a.cookie_writes;
                r.storage_writes += a.storage_writes;
                r.unauthorized += a.unauthorized;
                r.objected += a.objected;
                if h.visits.iter().any(|v| &v.scenario == sc && v.observed) {
                    objected_in_observed += a.objected;
                }
            }
            unauthorized_fires += u64::from(r.unauthorized);
            if li {
                let obj: Vec<_> = h
                    .visits
                    .iter()
                    .filter(|v| objection_scenarios.contains(v.scenario.as_str()))
                    .collect();
                let o = if obj.is_empty() {
                    Objection::NotChecked
                } else if objected_in_observed > 0 {
                    Objection::NotHonoured
                } else if !obj.iter().any(|v| v.observed && v.has_inventory) {
                    Objection::Unverified
                } else if r.requests + r.cookie_writes + r.storage_writes == 0 {
                    Objection::Absent
                } else {
                    Objection::Honoured
                };
                match o {
                    Objection::Honoured => honoured += 1,
                    Objection::NotHonoured => not_honoured += 1,
                    Objection::Unverified => unverified += 1,
                    _ => {}
                }
                r.objection = Some(o);
            }
            vruns.push(r);
        }
        // Retention.
        let mut ret: BTreeMap<String, RetentionIssue> = BTreeMap::new();
        let mut seen_runs: BTreeMap<String, BTreeSet<i64>> = BTreeMap::new();
        for h in &window {
            for (_, i) in h.inventory.iter().filter(|(_, i)| {
                i.kind == ItemKind::Cookie && i.vendor.as_deref() == Some(vid.as_str())
            }) {
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
        let retention: Vec<RetentionIssue> = ret
            .into_values()
            .map(|mut r| {
                r.runs_seen = seen_runs
                    .get(&r.cookie)
                    .map(|s| u32::try_from(s.len()).unwrap_or(u32::MAX))
                    .unwrap_or(0);
                r.still_over = last_seen_run.get(&r.cookie) == Some(&r.last_run);
                r
            })
            .collect();
        // Findings and mismatches.
        let mut findings = StatusCounts::default();
        let mut mismatches = Vec::new();
        for l in lcs
            .iter()
            .filter(|l| l.vendor.as_deref() == Some(vid.as_str()))
        {
            findings.add(l.current, l.timeline.last().is_some_and(|s| s.acknowledged));
            let mut prev_step: Option<&super::Step> = None;
            let mut last_present_run: Option<i64> = None;
            for s in &l.timeline {
                let mut events = Vec::new();
                match s.status {
                    Status::New => events.push(MismatchEvent::Opened),
                    Status::Regressed => events.push(MismatchEvent::Regressed),
                    Status::Resolved if prev_step.is_none_or(|p| p.status != Status::Resolved) => {
                        events.push(MismatchEvent::Resolved)
                    }
                    _ => {}
                }
                let open = s.status != Status::Resolved;
                if s.acknowledged && prev_step.is_none_or(|p| !p.acknowledged) {
                    events.push(MismatchEvent::Acknowledged);
                }
                if !s.acknowledged && open && prev_step.is_some_and(|p| p.acknowledged) {
                    events.push(MismatchEvent::Reopened);
                }
                let present = matches!(
                    s.status,
                    Status::New | Status::Persisting | Status::Regressed
                );
                let source_run = if present {
                    Some(s.run_id)
                } else {
                    last_present_run
                };
                let seen = source_run.and_then(|r| evidence.get(&(r, l.fingerprint.as_str())));
                for event in events {
                    mismatches.push(Mismatch {
                        fingerprint: l.fingerprint.clone(),
                        code: l.code.clone(),
                        severity: l.severity.clone(),
                        scenario: l.scenario.clone(),
                        subject: l.subject.clone(),
                        event,
                        run_id: s.run_id,
                        at: s.started_at,
                        message: seen
                            .map(|f| f.message.clone())
                            .unwrap_or_else(|| l.message.clone()),
                        rule: seen
                            .map(|f| f.rule.clone())
                            .unwrap_or_else(|| l.rule.clone()),
                        evidence: seen.and_then(|f| f.evidence.clone()),
                        map_changed: s.map_changed,
                    });
                }
                if present {
                    last_present_run = Some(s.run_id);
                }
                prev_step = Some(s);
            }
        }
        mismatches.sort_by(|a, b| {
            a.at.cmp(&b.at)
                .then_with(|| a.event.cmp(&b.event))
                .then_with(|| a.code.cmp(&b.code))
                .then_with(|| a.subject.cmp(&b.subject))
        });
        vendors.push(VendorSection {
            vendor: vid.clone(),
            name,
            declared,
            purposes,
            legitimate_interest: li,
            declaration_history: vendor_decl_events.remove(vid).unwrap_or_default(),
            runs: vruns,
            suppression: li.then(|| Rate::new(honoured, honoured + not_honoured, unverified)),
            unauthorized_fires,
            retention,
            findings,
            mismatches,
            inventory: inventory
                .iter()
                .filter(|c| c.vendor.as_deref() == Some(vid.as_str()))
                .cloned()
                .collect(),
        });
    }
    vendors.sort_by(|a, b| {
        b.legitimate_interest
            .cmp(&a.legitimate_interest)
            .then_with(|| a.vendor.cmp(&b.vendor))
    });

    // Acknowledgements.
    let acknowledgements: Vec<AckView> = acks
        .iter()
        .map(|a| {
            let matched = lcs
                .iter()
                .filter(|l| l.fingerprint == a.fingerprint)
                .count();
            let matched = u32::try_from(matched).unwrap_or(u32::MAX);
            let status = if a.expires < input.until {
                AckStatus::Expired
            } else if a.acknowledged.is_some_and(|t| t >= input.until) {
                AckStatus::Pending
            } else if matched == 0 {
                AckStatus::Unused
            } else {
                AckStatus::Active
            };
            ack_view(a, status, matched)
        })
        .collect();

    // Summary.
    let mut current = StatusCounts::default();
    for l in &lcs {
        current.add(l.current, l.timeline.last().is_some_and(|s| s.acknowledged));
    }
    let li_vendors: Vec<&VendorSection> =
        vendors.iter().filter(|v| v.legitimate_interest).collect();
    let (h, c, u) = li_vendors
        .iter()
        .filter_map(|v| v.suppression)
        .fold((0, 0, 0), |(h, c, u), r| {
            (h + r.honoured, c + r.checked, u + r.unverified)
        });
    let count = |f: &dyn Fn(&InventoryChange) -> bool| {
        u32::try_from(inventory.iter().filter(|c| f(c)).count()).unwrap_or(u32::MAX)
    };
    let summary = Summary {
        runs: u32::try_from(window.len()).unwrap_or(u32::MAX),
        complete_runs: u32::try_from(
            window
                .iter()
                .filter(|h| h.run.status == crate::model::RunStatus::Complete)
                .count(),
        )
        .unwrap_or(u32::MAX),
        first_run: window.first().map(|h| h.run.started_at),
        last_run: window.last().map(|h| h.run.started_at),
        current,
        li_vendors: u32::try_from(li_vendors.len()).unwrap_or(u32::MAX),
        suppression: Rate::new(h, c, u),
        unauthorized_fires: vendors.iter().map(|v| v.unauthorized_fires).sum(),
        retention_over: u32::try_from(
            vendors
                .iter()
                .flat_map(|v| v.retention.iter())
                .filter(|r| r.still_over)
                .count(),
        )
        .unwrap_or(u32::MAX),
        inventory_added: count(&|c| c.change == Change::Added),
        inventory_removed: count(&|c| c.change == Change::Removed),
        inventory_changed: count(&|c| c.change == Change::Changed),
        declaration_changes: u32::try_from(declaration_changes.len()).unwrap_or(u32::MAX),
        unused_acknowledgements: u32::try_from(
            acknowledgements
                .iter()
                .filter(|a| a.status == AckStatus::Unused)
                .count(),
        )
        .unwrap_or(u32::MAX),
    };

    DriftReport {
        schema_version: DRIFT_SCHEMA_VERSION,
        site: input.site.to_string(),
        since: input.since,
        until: input.until,
        summary,
        runs,
        declaration_changes,
        lifecycles: lcs,
        inventory,
        vendors,
        acknowledgements,
    }
}

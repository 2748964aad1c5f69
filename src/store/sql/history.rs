//! The history side: what the drift pack needs of a site's runs in a time window, in a
//! fixed number of queries (runs, their visits, their findings, the vendors' sums, the
//! inventory sets, the declaration sets), whatever the number of runs. Every query
//! selects the window's runs through the `runs (site, started_at)` index and joins by
//! `run_id` (indexed in each table); a set the window's runs share (schema 16: the
//! inventory of a visit, the declared map of a run) is read once. Plain SQL both SQLite
//! and PostgreSQL run.

use super::decode::decode_run;
use super::row::{get, get_enum};
use super::Db;
use crate::store::codec;
use crate::store::{FindingSeen, InventorySet, RunHistory, RunId, StoreError, VisitSeen};
use chrono::{DateTime, Utc};
use std::collections::HashMap;
use std::sync::Arc;

/// The window's runs, as the subquery every history query shares (binds: site, since,
/// until, then the vantage label twice: NULL for every vantage). A run stored before
/// schema 22 has no label: it is vantage `default`.
macro_rules! window {
    () => {
        "SELECT id FROM runs WHERE site = ? AND started_at >= ? AND started_at < ? \
         AND (? IS NULL OR COALESCE(vantage, 'default') = ?)"
    };
}

impl Db {
    /// Every site with at least one run, by name.
    pub(in crate::store) async fn sites(&self) -> Result<Vec<String>, StoreError> {
        super::query_scalar("SELECT DISTINCT site FROM runs ORDER BY site")
            .fetch_all(&self.pool)
            .await
            .map_err(self.db_err("read sites"))
    }

    /// When the history for a drift window `[since, ..)` should start: at the latest
    /// complete run of `site` before `since` (the baseline the window is compared
    /// against), else at `since`.
    pub(in crate::store) async fn context_start(
        &self,
        site: &str,
        vantage: Option<&str>,
        since: DateTime<Utc>,
    ) -> Result<DateTime<Utc>, StoreError> {
        let t: Option<String> = super::query_scalar(
            "SELECT MAX(started_at) FROM runs WHERE site = ? AND started_at < ? \
             AND status = 'complete' AND (? IS NULL OR COALESCE(vantage, 'default') = ?)",
        )
        .bind(site)
        .bind(codec::ts(&since))
        .bind(vantage)
        .bind(vantage)
        .fetch_one(&self.pool)
        .await
        .map_err(self.db_err("read the run before the window"))?;
        match t {
            Some(t) => self.decode(codec::parse_ts("started_at", &t)),
            None => Ok(since),
        }
    }

    /// The runs of `site` that started in `[since, until)`, oldest first, with their
    /// visits, findings, vendors' activity, inventory and declarations.
    pub(in crate::store) async fn site_history(
        &self,
        site: &str,
        vantage: Option<&str>,
        since: DateTime<Utc>,
        until: DateTime<Utc>,
    ) -> Result<Vec<RunHistory>, StoreError> {
        self.history(site, vantage, since, until, true).await
    }

    /// Like `site_history`, with visits and findings only (what finding
    /// lifecycles need).
    pub(in crate::store) async fn site_findings_history(
        &self,
        site: &str,
        vantage: Option<&str>,
        since: DateTime<Utc>,
        until: DateTime<Utc>,
    ) -> Result<Vec<RunHistory>, StoreError> {
        self.history(site, vantage, since, until, false).await
    }

    /// The vantages of `site`'s runs, by label (`default` for runs without one), with
    /// the start of each one's latest run, latest first.
    pub(in crate::store) async fn site_vantages(
        &self,
        site: &str,
    ) -> Result<Vec<(String, DateTime<Utc>)>, StoreError> {
        let rows = super::query(
            "SELECT COALESCE(vantage, 'default') AS label, MAX(started_at) AS latest \
             FROM runs WHERE site = ? GROUP BY COALESCE(vantage, 'default') \
             ORDER BY latest DESC, label",
        )
        .bind(site)
        .fetch_all(&self.pool)
        .await
        .map_err(self.db_err("read the site's vantages"))?;
        let mut out = Vec::with_capacity(rows.len());
        for r in &rows {
            let latest: String = self.decode(get(r, "latest"))?;
            out.push((
                self.decode(get(r, "label"))?,
                self.decode(codec::parse_ts("latest", &latest))?,
            ));
        }
        Ok(out)
    }

    async fn history(
        &self,
        site: &str,
        vantage: Option<&str>,
        since: DateTime<Utc>,
        until: DateTime<Utc>,
        full: bool,
    ) -> Result<Vec<RunHistory>, StoreError> {
        let (since, until) = (codec::ts(&since), codec::ts(&until));
        let vantage = vantage.map(str::to_string);
        let window = |sql: &'static str| {
            super::query(sql)
                .bind(site.to_string())
                .bind(since.clone())
                .bind(until.clone())
                .bind(vantage.clone())
                .bind(vantage.clone())
        };
        let runs = window(concat!(
            "SELECT * FROM runs WHERE id IN (",
            window!(),
            ") ORDER BY started_at, id"
        ))
        .fetch_all(&self.pool)
        .await
        .map_err(self.db_err("read site history"))?;
        let mut out: Vec<RunHistory> = Vec::with_capacity(runs.len());
        let mut index: HashMap<RunId, usize> = HashMap::new();
        let mut run_sets: Vec<Option<i64>> = Vec::with_capacity(runs.len());
        for r in &runs {
            let run = self.decode(decode_run(r))?;
            run_sets.push(self.decode(get(r, "declaration_set"))?);
            index.insert(run.id, out.len());
            out.push(RunHistory {
                run,
                visits: Vec::new(),
                findings: Vec::new(),
                vendors: Vec::new(),
                declarations: Vec::new(),
            });
        }
        if out.is_empty() {
            return Ok(out);
        }
        let visits = window(concat!(
            "SELECT v.run_id, v.scenario, v.repetition, v.status, v.final_li_objected, \
             v.inventory_set \
             FROM visits v WHERE v.run_id IN (",
            window!(),
            ") ORDER BY v.run_id, v.position, v.id"
        ))
        .fetch_all(&self.pool)
        .await
        .map_err(self.db_err("read history visits"))?;
        let mut visit_sets: Vec<(RunId, Option<i64>)> = Vec::with_capacity(visits.len());
        for v in &visits {
            let run: RunId = self.decode(get(v, "run_id"))?;
            let status: String = self.decode(get(v, "status"))?;
            let set: Option<i64> = self.decode(get(v, "inventory_set"))?;
            let seen = VisitSeen {
                scenario: self.decode(get(v, "scenario"))?,
                repetition: self.decode(super::decode::get_repetition(v, "repetition"))?,
                observed: status == "complete",
                li_objected: self.decode(get(v, "final_li_objected"))?,
                inventory: None,
            };
            if let Some(h) = index.get(&run).and_then(|i| out.get_mut(*i)) {
                h.visits.push(seen);
                visit_sets.push((run, set));
            }
        }
        let findings = window(concat!(
            "SELECT f.run_id, f.fingerprint, f.code, f.severity, f.scenario, f.subject, f.vendor, \
             f.message, f.rule, f.evidence, v.repetition AS visit_repetition \
             FROM finding_view f LEFT JOIN visits v ON v.id = f.visit_id WHERE f.run_id IN (",
            window!(),
            ") ORDER BY f.run_id, f.seq"
        ))
        .fetch_all(&self.pool)
        .await
        .map_err(self.db_err("read history findings"))?;
        for f in &findings {
            let run: RunId = self.decode(get(f, "run_id"))?;
            let evidence = self.decode(super::row::get_evidence(f))?;
            let first = evidence.iter().min_by_key(|e| e.time).cloned();
            let seen = FindingSeen {
                fingerprint: self.decode(get(f, "fingerprint"))?,
                code: self.decode(get_enum(f, "code", "finding code"))?,
                severity: self.decode(get_enum(f, "severity", "severity"))?,
                scenario: self.decode(get(f, "scenario"))?,
                subject: self.decode(get(f, "subject"))?,
                vendor: self.decode(get(f, "vendor"))?,
                message: self.decode(get(f, "message"))?,
                rule: self.decode(get(f, "rule"))?,
                first_evidence: first.as_ref().map(|e| e.time),
                evidence: first,
                repetition: self.decode(visit_repetition(f))?,
            };
            if let Some(h) = index.get(&run).and_then(|i| out.get_mut(*i)) {
                h.findings.push(seen);
            }
        }
        if !full {
            return Ok(out);
        }
        let vendors = window(concat!(
            "SELECT run_id, sums FROM run_vendor_sums WHERE run_id IN (",
            window!(),
            ") ORDER BY run_id"
        ))
        .fetch_all(&self.pool)
        .await
        .map_err(self.db_err("read history vendors"))?;
        for r in &vendors {
            let run: RunId = self.decode(get(r, "run_id"))?;
            let sums: String = self.decode(get(r, "sums"))?;
            let sums = self.decode(codec::parse_vendor_sums("sums", &sums))?;
            if let Some(h) = index.get(&run).and_then(|i| out.get_mut(*i)) {
                h.vendors = sums;
            }
        }
        // Each set once, shared by the visits that stored it.
        let sets = self
            .inventory_sets(site, vantage.as_deref(), &since, &until)
            .await?;
        let mut next_visit: HashMap<RunId, usize> = HashMap::new();
        for (run, set) in visit_sets {
            let Some(h) = index.get(&run).and_then(|i| out.get_mut(*i)) else {
                continue;
            };
            let n = next_visit.entry(run).or_insert(0);
            if let Some(visit) = h.visits.get_mut(*n) {
                visit.inventory = set.and_then(|s| sets.get(&s).cloned());
            }
            *n += 1;
        }
        let decls = self.declaration_sets(site, &since, &until).await?;
        for (h, set) in out.iter_mut().zip(run_sets) {
            if let Some(d) = set.and_then(|s| decls.get(&s)) {
                h.declarations.clone_from(d);
            }
        }
        Ok(out)
    }

    /// The inventory sets the window's visits refer to, by id (a set without items has
    /// no rows, and reads as no inventory, as a visit without rows did before schema 16).
    async fn inventory_sets(
        &self,
        site: &str,
        vantage: Option<&str>,
        since: &str,
        until: &str,
    ) -> Result<HashMap<i64, Arc<InventorySet>>, StoreError> {
        let rows = super::query(concat!(
            "SELECT set_id, kind, item, vendor, lifetime_secs, declared_secs, over_retention, \
             detail FROM inventory_items WHERE set_id IN (SELECT inventory_set FROM visits \
             WHERE run_id IN (",
            window!(),
            ")) ORDER BY set_id, seq"
        ))
        .bind(site)
        .bind(since)
        .bind(until)
        .bind(vantage)
        .bind(vantage)
        .fetch_all(&self.pool)
        .await
        .map_err(self.db_err("read history inventory"))?;
        let mut sets: HashMap<i64, InventorySet> = HashMap::new();
        for r in &rows {
            let set: i64 = self.decode(get(r, "set_id"))?;
            let kind: String = self.decode(get(r, "kind"))?;
            let s = sets.entry(set).or_default();
            if kind == "vendor" {
                s.vendors.push(self.decode(get(r, "item"))?);
                continue;
            }
            s.items.push(crate::inventory::InventoryItem {
                kind: self.decode(get_enum(r, "kind", "kind"))?,
                item: self.decode(get(r, "item"))?,
                vendor: self.decode(get(r, "vendor"))?,
                lifetime_secs: self.decode(get(r, "lifetime_secs"))?,
                declared_secs: self.decode(get(r, "declared_secs"))?,
                over_retention: self.decode(get(r, "over_retention"))?,
                detail: self.decode(get(r, "detail"))?,
            });
        }
        Ok(sets.into_iter().map(|(id, s)| (id, Arc::new(s))).collect())
    }

    /// The declaration sets the window's runs refer to, each in order.
    async fn declaration_sets(
        &self,
        site: &str,
        since: &str,
        until: &str,
    ) -> Result<HashMap<i64, Vec<crate::inventory::Declaration>>, StoreError> {
        let rows = super::query(
            "SELECT set_id, vendor, vendor_name, purpose, basis, strictly_necessary, tcf_purpose \
             FROM declaration_items WHERE set_id IN (SELECT declaration_set FROM runs \
             WHERE site = ? AND started_at >= ? AND started_at < ?) ORDER BY set_id, seq",
        )
        .bind(site)
        .bind(since)
        .bind(until)
        .fetch_all(&self.pool)
        .await
        .map_err(self.db_err("read history declarations"))?;
        let mut sets: HashMap<i64, Vec<crate::inventory::Declaration>> = HashMap::new();
        for r in &rows {
            let set: i64 = self.decode(get(r, "set_id"))?;
            let tcf: Option<i64> = self.decode(get(r, "tcf_purpose"))?;
            sets.entry(set)
                .or_default()
                .push(crate::inventory::Declaration {
                    vendor: self.decode(get(r, "vendor"))?,
                    vendor_name: self.decode(get(r, "vendor_name"))?,
                    purpose: self.decode(get(r, "purpose"))?,
                    basis: self.decode(get_enum(r, "basis", "legal basis"))?,
                    strictly_necessary: self.decode(get(r, "strictly_necessary"))?,
                    tcf_purpose: tcf.and_then(|t| u8::try_from(t).ok()),
                });
        }
        Ok(sets)
    }
}

/// The repetition of the visit a finding row belongs to (`visit_repetition`, NULL for a
/// run-level finding).
pub(super) fn visit_repetition(r: &super::DbRow) -> codec::DecodeResult<Option<u32>> {
    let n: Option<i64> = get(r, "visit_repetition")?;
    n.map(|n| {
        u32::try_from(n)
            .ok()
            .filter(|n| *n >= 1)
            .ok_or_else(|| format!("column repetition: {n} is out of range"))
    })
    .transpose()
}

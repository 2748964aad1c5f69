//! The history side: what the drift pack needs of a site's runs in a time window, in
//! six queries (runs, their visits, their findings, the vendors' activity, the
//! inventory, the declarations), whatever the number of runs. Every query selects the
//! window's runs through the `runs (site, started_at)` index and joins by `run_id`
//! (indexed in each table). Plain SQL both SQLite and PostgreSQL run.

use super::decode::decode_run;
use super::row::{get, get_enum};
use super::Db;
use crate::store::codec;
use crate::store::{FindingSeen, RunHistory, RunId, StoreError, VisitSeen};
use chrono::{DateTime, Utc};
use std::collections::HashMap;

/// The window's runs, as the subquery every history query shares (binds: site, since,
/// until).
macro_rules! window {
    () => {
        "SELECT id FROM runs WHERE site = ? AND started_at >= ? AND started_at < ?"
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
        since: DateTime<Utc>,
    ) -> Result<DateTime<Utc>, StoreError> {
        let t: Option<String> = super::query_scalar(
            "SELECT MAX(started_at) FROM runs WHERE site = ? AND started_at < ? \
             AND status = 'complete'",
        )
        .bind(site)
        .bind(codec::ts(&since))
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
        since: DateTime<Utc>,
        until: DateTime<Utc>,
    ) -> Result<Vec<RunHistory>, StoreError> {
        self.history(site, since, until, true).await
    }

    /// Like `site_history`, with visits and findings only (what finding
    /// lifecycles need).
    pub(in crate::store) async fn site_findings_history(
        &self,
        site: &str,
        since: DateTime<Utc>,
        until: DateTime<Utc>,
    ) -> Result<Vec<RunHistory>, StoreError> {
        self.history(site, since, until, false).await
    }

    async fn history(
        &self,
        site: &str,
        since: DateTime<Utc>,
        until: DateTime<Utc>,
        full: bool,
    ) -> Result<Vec<RunHistory>, StoreError> {
        let (since, until) = (codec::ts(&since), codec::ts(&until));
        let runs = super::query(
            "SELECT * FROM runs WHERE site = ? AND started_at >= ? AND started_at < ? \
             ORDER BY started_at, id",
        )
        .bind(site)
        .bind(&since)
        .bind(&until)
        .fetch_all(&self.pool)
        .await
        .map_err(self.db_err("read site history"))?;
        let mut out: Vec<RunHistory> = Vec::with_capacity(runs.len());
        let mut index: HashMap<RunId, usize> = HashMap::new();
        for r in &runs {
            let run = self.decode(decode_run(r))?;
            index.insert(run.id, out.len());
            out.push(RunHistory {
                run,
                visits: Vec::new(),
                findings: Vec::new(),
                vendors: Vec::new(),
                inventory: Vec::new(),
                declarations: Vec::new(),
            });
        }
        if out.is_empty() {
            return Ok(out);
        }
        let visits = super::query(concat!(
            "SELECT v.run_id, v.scenario, v.status, v.final_li_objected, \
             EXISTS (SELECT 1 FROM visit_vendors x WHERE x.visit_id = v.id) \
             OR EXISTS (SELECT 1 FROM visit_inventory y WHERE y.visit_id = v.id) AS has_inventory \
             FROM visits v WHERE v.run_id IN (",
            window!(),
            ") ORDER BY v.run_id, v.position, v.id"
        ))
        .bind(site)
        .bind(&since)
        .bind(&until)
        .fetch_all(&self.pool)
        .await
        .map_err(self.db_err("read history visits"))?;
        for v in &visits {
            let run: RunId = self.decode(get(v, "run_id"))?;
            let status: String = self.decode(get(v, "status"))?;
            let seen = VisitSeen {
                scenario: self.decode(get(v, "scenario"))?,
                observed: status == "complete",
                li_objected: self.decode(get(v, "final_li_objected"))?,
                has_inventory: self.decode(get(v, "has_inventory"))?,
            };
            if let Some(h) = index.get(&run).and_then(|i| out.get_mut(*i)) {
                h.visits.push(seen);
            }
        }
        let findings = super::query(concat!(
            "SELECT run_id, fingerprint, code, severity, scenario, subject, vendor, message, \
             rule, evidence FROM findings WHERE run_id IN (",
            window!(),
            ") ORDER BY run_id, seq"
        ))
        .bind(site)
        .bind(&since)
        .bind(&until)
        .fetch_all(&self.pool)
        .await
        .map_err(self.db_err("read history findings"))?;
        for f in &findings {
            let run: RunId = self.decode(get(f, "run_id"))?;
            let evidence: Vec<crate::analysis::Evidence> =
                self.decode(super::row::get_json(f, "evidence"))?;
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
            };
            if let Some(h) = index.get(&run).and_then(|i| out.get_mut(*i)) {
                h.findings.push(seen);
            }
        }
        if !full {
            return Ok(out);
        }
        let vendors = super::query(concat!(
            "SELECT x.run_id, v.scenario, x.vendor, x.requests, x.cookie_writes, \
             x.storage_writes, x.unauthorized, x.objected \
             FROM visit_vendors x JOIN visits v ON v.id = x.visit_id \
             WHERE x.run_id IN (",
            window!(),
            ") ORDER BY x.run_id, v.position, x.vendor"
        ))
        .bind(site)
        .bind(&since)
        .bind(&until)
        .fetch_all(&self.pool)
        .await
        .map_err(self.db_err("read history vendors"))?;
        let count = |r: &super::DbRow, col: &str| -> Result<u32, StoreError> {
            let n: i64 = self.decode(get(r, col))?;
            Ok(u32::try_from(n.max(0)).unwrap_or(u32::MAX))
        };
        for r in &vendors {
            let run: RunId = self.decode(get(r, "run_id"))?;
            let scenario: String = self.decode(get(r, "scenario"))?;
            let a = crate::inventory::VendorActivity {
                vendor: self.decode(get(r, "vendor"))?,
                requests: count(r, "requests")?,
                cookie_writes: count(r, "cookie_writes")?,
                storage_writes: count(r, "storage_writes")?,
                unauthorized: count(r, "unauthorized")?,
                objected: count(r, "objected")?,
            };
            if let Some(h) = index.get(&run).and_then(|i| out.get_mut(*i)) {
                h.vendors.push((scenario, a));
            }
        }
        let items = super::query(concat!(
            "SELECT i.run_id, v.scenario, i.kind, i.item, i.vendor, i.lifetime_secs, \
             i.declared_secs, i.over_retention, i.detail \
             FROM visit_inventory i JOIN visits v ON v.id = i.visit_id \
             WHERE i.run_id IN (",
            window!(),
            ") ORDER BY i.run_id, v.position, i.id"
        ))
        .bind(site)
        .bind(&since)
        .bind(&until)
        .fetch_all(&self.pool)
        .await
        .map_err(self.db_err("read history inventory"))?;
        for r in &items {
            let run: RunId = self.decode(get(r, "run_id"))?;
            let scenario: String = self.decode(get(r, "scenario"))?;
            let item = crate::inventory::InventoryItem {
                kind: self.decode(get_enum(r, "kind", "kind"))?,
                item: self.decode(get(r, "item"))?,
                vendor: self.decode(get(r, "vendor"))?,
                lifetime_secs: self.decode(get(r, "lifetime_secs"))?,
                declared_secs: self.decode(get(r, "declared_secs"))?,
                over_retention: self.decode(get(r, "over_retention"))?,
                detail: self.decode(get(r, "detail"))?,
            };
            if let Some(h) = index.get(&run).and_then(|i| out.get_mut(*i)) {
                h.inventory.push((scenario, item));
            }
        }
        let decls =
            super::query(concat!(
            "SELECT run_id, vendor, vendor_name, purpose, basis, strictly_necessary, tcf_purpose \
             FROM run_declarations WHERE run_id IN (", window!(), ") ORDER BY run_id, id"
        ))
            .bind(site)
            .bind(&since)
            .bind(&until)
            .fetch_all(&self.pool)
            .await
            .map_err(self.db_err("read history declarations"))?;
        for r in &decls {
            let run: RunId = self.decode(get(r, "run_id"))?;
            let tcf: Option<i64> = self.decode(get(r, "tcf_purpose"))?;
            let d = crate::inventory::Declaration {
                vendor: self.decode(get(r, "vendor"))?,
                vendor_name: self.decode(get(r, "vendor_name"))?,
                purpose: self.decode(get(r, "purpose"))?,
                basis: self.decode(get_enum(r, "basis", "legal basis"))?,
                strictly_necessary: self.decode(get(r, "strictly_necessary"))?,
                tcf_purpose: tcf.and_then(|t| u8::try_from(t).ok()),
            };
            if let Some(h) = index.get(&run).and_then(|i| out.get_mut(*i)) {
                h.declarations.push(d);
            }
        }
        Ok(out)
    }
}

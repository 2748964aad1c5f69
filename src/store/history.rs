//! The history side: what the drift view needs of a site's runs in a time window, in
//! three queries (runs, their visits' statuses, their findings' identities), whatever
//! the number of runs. Indexed by `runs (site, started_at)` and `findings (run_id, ...)`.

use super::codec::{self, get};
use super::decode::decode_run;
use super::{RunId, RunRecord, Store, StoreError};
use chrono::{DateTime, Utc};
use std::collections::HashMap;

/// One run of a site, as drift sees it.
#[derive(Debug, Clone)]
pub struct RunHistory {
    pub run: RunRecord,
    /// Scenario id and whether that visit was observed completely.
    pub visits: Vec<(String, bool)>,
    pub findings: Vec<FindingSeen>,
}

/// The identity of a finding in one run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FindingSeen {
    pub fingerprint: String,
    pub code: String,
    pub severity: String,
    pub scenario: Option<String>,
    pub subject: String,
    pub message: String,
    /// Time of its first evidence (when it was first seen in that run).
    pub first_evidence: Option<DateTime<Utc>>,
}

impl Store {
    /// Every site with at least one run, by name.
    pub async fn sites(&self) -> Result<Vec<String>, StoreError> {
        sqlx::query_scalar("SELECT DISTINCT site FROM runs ORDER BY site")
            .fetch_all(&self.pool)
            .await
            .map_err(self.db_err("read sites"))
    }

    /// The runs of `site` that started in `[since, until)`, oldest first, with their
    /// visits' statuses and their findings.
    pub async fn site_history(
        &self,
        site: &str,
        since: DateTime<Utc>,
        until: DateTime<Utc>,
    ) -> Result<Vec<RunHistory>, StoreError> {
        let (since, until) = (codec::ts(&since), codec::ts(&until));
        let runs = sqlx::query(
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
            });
        }
        let visits = sqlx::query(
            "SELECT v.run_id, v.scenario, v.status FROM visits v JOIN runs r ON r.id = v.run_id \
             WHERE r.site = ? AND r.started_at >= ? AND r.started_at < ? \
             ORDER BY v.run_id, v.position, v.id",
        )
        .bind(site)
        .bind(&since)
        .bind(&until)
        .fetch_all(&self.pool)
        .await
        .map_err(self.db_err("read history visits"))?;
        for v in &visits {
            let run: RunId = self.decode(get(v, "run_id"))?;
            let status: String = self.decode(get(v, "status"))?;
            if let Some(h) = index.get(&run).and_then(|i| out.get_mut(*i)) {
                h.visits
                    .push((self.decode(get(v, "scenario"))?, status == "complete"));
            }
        }
        let findings = sqlx::query(
            "SELECT f.run_id, f.fingerprint, f.code, f.severity, f.scenario, f.subject, \
             f.message, f.evidence FROM findings f JOIN runs r ON r.id = f.run_id \
             WHERE r.site = ? AND r.started_at >= ? AND r.started_at < ? ORDER BY f.run_id, f.seq",
        )
        .bind(site)
        .bind(&since)
        .bind(&until)
        .fetch_all(&self.pool)
        .await
        .map_err(self.db_err("read history findings"))?;
        for f in &findings {
            let run: RunId = self.decode(get(f, "run_id"))?;
            let evidence: Vec<crate::analysis::Evidence> =
                self.decode(codec::get_json(f, "evidence"))?;
            let seen = FindingSeen {
                fingerprint: self.decode(get(f, "fingerprint"))?,
                code: self.decode(get(f, "code"))?,
                severity: self.decode(get(f, "severity"))?,
                scenario: self.decode(get(f, "scenario"))?,
                subject: self.decode(get(f, "subject"))?,
                message: self.decode(get(f, "message"))?,
                first_evidence: evidence.iter().map(|e| e.time).min(),
            };
            if let Some(h) = index.get(&run).and_then(|i| out.get_mut(*i)) {
                h.findings.push(seen);
            }
        }
        Ok(out)
    }
}

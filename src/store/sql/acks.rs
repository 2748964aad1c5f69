//! Acknowledgements as they stood in runs (`run_acks`, written by
//! [`crate::store::RunWriter::finish_run_with_acks`]), and the lookups `consentry ack` needs.

use super::decode::{decode_finding, decode_run};
use super::row::{get, get_opt_ts, get_ts};
use super::Db;
use super::DbRow;
use crate::ack::{AckRecord, AckStatus};
use crate::analysis::finding::Finding;
use crate::store::codec::DecodeResult;
use crate::store::{RunId, RunRecord, StoreError};
use std::collections::HashMap;

impl Db {
    /// The acknowledgement snapshots of `runs`, each in its recorded order, in one query.
    /// A run with none (or that does not exist) has no entry.
    pub(in crate::store) async fn run_acks(
        &self,
        runs: &[RunId],
    ) -> Result<HashMap<RunId, Vec<AckRecord>>, StoreError> {
        let ids = self.invalid(crate::store::codec::json("run ids", runs))?;
        let sql = format!(
            "SELECT * FROM run_acks WHERE run_id IN ({}) ORDER BY run_id, seq",
            super::IDS_FROM_JSON
        );
        let rows = super::query(sqlx::AssertSqlSafe(sql))
            .bind(ids)
            .fetch_all(&self.pool)
            .await
            .map_err(self.db_err("read acknowledgements"))?;
        let mut out: HashMap<RunId, Vec<AckRecord>> = HashMap::new();
        for r in &rows {
            let run: RunId = self.decode(get(r, "run_id"))?;
            let ack = self.decode(decode_ack(r))?;
            out.entry(run).or_default().push(ack);
        }
        Ok(out)
    }

    /// The newest run (by start) with a finding of this fingerprint, and that finding.
    pub(in crate::store) async fn latest_finding(
        &self,
        fingerprint: &str,
    ) -> Result<Option<(RunRecord, Finding)>, StoreError> {
        let row = super::query(
            // Through the site's runs, newest first (a fingerprint belongs to one site):
            // the findings of other sites' runs are never unpacked.
            "SELECT f.run_id FROM runs r JOIN finding_view f ON f.run_id = r.id \
             WHERE r.site IN (SELECT site FROM finding_keys WHERE fingerprint = ?) \
             AND f.fingerprint = ? ORDER BY r.started_at DESC, r.id DESC LIMIT 1",
        )
        .bind(fingerprint)
        .bind(fingerprint)
        .fetch_optional(&self.pool)
        .await
        .map_err(self.db_err("find finding"))?;
        let Some(row) = row else {
            return Ok(None);
        };
        let run: RunId = self.decode(get(&row, "run_id"))?;
        let run_row = super::query("SELECT * FROM runs WHERE id = ?")
            .bind(run)
            .fetch_one(&self.pool)
            .await
            .map_err(self.db_err("read run"))?;
        let finding_row = super::query(
            "SELECT * FROM finding_view WHERE run_id = ? AND fingerprint = ? ORDER BY seq",
        )
        .bind(run)
        .bind(fingerprint)
        .fetch_one(&self.pool)
        .await
        .map_err(self.db_err("read finding"))?;
        Ok(Some((
            self.decode(decode_run(&run_row))?,
            self.decode(decode_finding(&finding_row))?,
        )))
    }
}

fn decode_ack(r: &DbRow) -> DecodeResult<AckRecord> {
    let status: String = get(r, "status")?;
    // `pending` is a drift window's status, never a run's (docs/storage.md).
    let status = AckStatus::parse(&status)
        .filter(|s| *s != AckStatus::Pending)
        .ok_or_else(|| format!("column status: unknown acknowledgement status {status:?}"))?;
    Ok(AckRecord {
        fingerprint: get(r, "fingerprint")?,
        site: get(r, "site")?,
        owner: get(r, "owner")?,
        reason: get(r, "reason")?,
        expires: get_ts(r, "expires")?,
        acknowledged: get_opt_ts(r, "acknowledged_at")?,
        status,
        location: get(r, "location")?,
    })
}

//! The writes of a run (for [`crate::store::RunWriter`] and the bulk import of
//! [`crate::store::Admin`]): each call is one transaction ([`Db::write`]).

use super::rows::ACKS;
use super::Conn;
use super::{insert_rows, Db};
use crate::ack::AckRecord;
use crate::analysis::finding::Finding;
use crate::inventory::Declaration;
use crate::model::RunStatus;
use crate::store::codec::{self, Col};
use crate::store::{FleetRunId, JudgedVisit, RunId, RunImport, RunStart, StoreError};
use chrono::{DateTime, Utc};

impl Db {
    pub(in crate::store) async fn start_run(
        &self,
        run: &RunStart<'_>,
    ) -> Result<RunId, StoreError> {
        self.write("begin run", move || {
            async move |tx| self.insert_run(tx, run).await
        })
        .await
    }

    pub(in crate::store) async fn start_fleet_run(
        &self,
        name: &str,
        fleet_file: Option<&str>,
        started_at: DateTime<Utc>,
    ) -> Result<FleetRunId, StoreError> {
        self.write("begin fleet run", move || {
            async move |tx| {
                super::query_scalar(
                    "INSERT INTO fleet_runs (name, fleet_file, started_at, status) \
                     VALUES (?, ?, ?, 'running') RETURNING id",
                )
                .bind(name)
                .bind(fleet_file)
                .bind(codec::ts(&started_at))
                .fetch_one(&mut *tx)
                .await
                .map_err(self.db_err("begin fleet run"))
            }
        })
        .await
    }

    pub(in crate::store) async fn finish_fleet_run(
        &self,
        id: FleetRunId,
        status: &RunStatus,
        finished_at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        self.write("finish fleet run", move || {
            async move |tx| self.finish_fleet_in(tx, id, status, finished_at).await
        })
        .await
    }

    pub(in crate::store) async fn record_crawl_plan(
        &self,
        run: RunId,
        json: &str,
    ) -> Result<(), StoreError> {
        self.write("store crawl plan", move || {
            async move |tx| {
                let done = super::query("UPDATE runs SET crawl = ? WHERE id = ?")
                    .bind(json)
                    .bind(run)
                    .execute(&mut *tx)
                    .await
                    .map_err(self.db_err("store crawl plan"))?;
                if done.rows_affected() == 0 {
                    return Err(self.unknown_run(run));
                }
                Ok(())
            }
        })
        .await
    }

    pub(in crate::store) async fn record_judged_visit(
        &self,
        run: RunId,
        v: &JudgedVisit<'_>,
    ) -> Result<i64, StoreError> {
        self.write("commit visit", move || {
            async move |tx| {
                let id = self.insert_judged_visit(tx, run, v).await?;
                self.add_run_vendors(tx, run, std::slice::from_ref(v))
                    .await?;
                Ok(id)
            }
        })
        .await
    }

    pub(in crate::store) async fn import_runs(
        &self,
        runs: &[RunImport<'_>],
    ) -> Result<Vec<RunId>, StoreError> {
        self.write("commit import", move || {
            async move |tx| {
                let mut ids = Vec::with_capacity(runs.len());
                for r in runs {
                    let run = self.insert_run(tx, &r.start).await?;
                    self.insert_declarations(tx, run, r.declarations).await?;
                    for v in &r.visits {
                        self.insert_judged_visit(tx, run, v).await?;
                    }
                    self.add_run_vendors(tx, run, &r.visits).await?;
                    self.insert_findings(tx, run, None, r.findings).await?;
                    self.update_finish(tx, run, &r.status, r.finished_at)
                        .await?;
                    ids.push(run);
                }
                Ok(ids)
            }
        })
        .await
    }

    pub(in crate::store) async fn record_declarations(
        &self,
        run: RunId,
        declarations: &[Declaration],
    ) -> Result<(), StoreError> {
        self.write("commit declarations", move || {
            async move |tx| self.insert_declarations(tx, run, declarations).await
        })
        .await
    }

    pub(in crate::store) async fn record_findings(
        &self,
        run: RunId,
        findings: &[Finding],
    ) -> Result<(), StoreError> {
        self.write("commit findings", move || {
            async move |tx| self.insert_findings(tx, run, None, findings).await
        })
        .await
    }

    pub(in crate::store) async fn finish_run_with_acks(
        &self,
        run: RunId,
        status: &RunStatus,
        finished_at: DateTime<Utc>,
        acks: &[AckRecord],
    ) -> Result<(), StoreError> {
        let rows = self.ack_rows(run, acks)?;
        let rows = &rows;
        self.write("commit run end", move || {
            async move |tx| {
                self.insert_finish_with_acks(tx, run, status, finished_at, rows)
                    .await
            }
        })
        .await
    }

    /// A run's acknowledgement snapshot as rows of `run_acks`.
    pub(super) fn ack_rows<'a>(
        &self,
        run: RunId,
        acks: &'a [AckRecord],
    ) -> Result<Vec<Vec<Col<'a>>>, StoreError> {
        self.invalid(
            acks.iter()
                .enumerate()
                .map(|(seq, a)| {
                    Ok(vec![
                        run.into(),
                        codec::to_i64("acknowledgement index", seq as u64)?.into(),
                        a.fingerprint.as_str().into(),
                        a.site.as_deref().into(),
                        a.owner.as_str().into(),
                        a.reason.as_str().into(),
                        codec::ts(&a.expires).into(),
                        a.acknowledged.as_ref().map(codec::ts).into(),
                        a.status.as_str().into(),
                        a.location.as_str().into(),
                    ])
                })
                .collect::<Result<Vec<Vec<Col>>, String>>(),
        )
    }

    /// A run's end and its acknowledgement snapshot (`rows`, [`Db::ack_rows`]), replacing
    /// any it had.
    pub(super) async fn insert_finish_with_acks(
        &self,
        tx: &mut Conn,
        run: RunId,
        status: &RunStatus,
        finished_at: DateTime<Utc>,
        rows: &[Vec<Col<'_>>],
    ) -> Result<(), StoreError> {
        self.update_finish(tx, run, status, finished_at).await?;
        super::query("DELETE FROM run_acks WHERE run_id = ?")
            .bind(run)
            .execute(&mut *tx)
            .await
            .map_err(self.db_err("replace acknowledgements"))?;
        insert_rows(tx, &ACKS, rows)
            .await
            .map_err(|e| self.fk_err(e, run, "record acknowledgements"))
    }

    /// A fleet run's end, inside a transaction.
    pub(super) async fn finish_fleet_in(
        &self,
        tx: &mut Conn,
        id: FleetRunId,
        status: &RunStatus,
        finished_at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        self.set_finished(tx, Finished::FleetRun, id, status, finished_at)
            .await
    }

    async fn insert_run(&self, tx: &mut Conn, run: &RunStart<'_>) -> Result<RunId, StoreError> {
        self.insert_run_of(tx, run, Some(i64::from(std::process::id())))
            .await
    }

    /// Insert a run owned by the process `pid` on this host (`None`: a queued run, which
    /// no process owns; its jobs' leases say who holds it, docs/queue.md).
    pub(super) async fn insert_run_of(
        &self,
        tx: &mut Conn,
        run: &RunStart<'_>,
        pid: Option<i64>,
    ) -> Result<RunId, StoreError> {
        super::query_scalar(
            "INSERT INTO runs (site, scenario_file, started_at, finished_at, status, status_reason, \
             fail_on, scenario_digest, policy_digest, pid, host, fleet_run_id, data_versions, \
             vantage, vantage_settings) \
             VALUES (?, ?, ?, NULL, 'running', NULL, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
        )
        .bind(run.site)
        .bind(run.scenario_file)
        .bind(codec::ts(&run.started_at))
        .bind(codec::fail_on_str(run.fail_on))
        .bind(run.scenario_digest)
        .bind(run.policy_digest)
        .bind(pid)
        .bind(pid.map(|_| crate::store::this_host()))
        .bind(run.fleet_run)
        .bind(run.data_versions)
        .bind(run.vantage.map(|v| v.label.as_str()))
        .bind(run.vantage.and_then(|v| serde_json::to_string(v).ok()))
        .fetch_one(&mut *tx)
        .await
        .map_err(self.db_err("begin run"))
    }

    /// The run's declared map, as a declaration set (`sets.rs`) the run refers to. The
    /// first map recorded for a run stays (a retried write records the same one).
    pub(super) async fn insert_declarations(
        &self,
        tx: &mut Conn,
        run: RunId,
        declarations: &[Declaration],
    ) -> Result<(), StoreError> {
        let set = self.declaration_set(tx, declarations).await?;
        let found: Option<i64> = super::query_scalar("SELECT id FROM runs WHERE id = ?")
            .bind(run)
            .fetch_optional(&mut *tx)
            .await
            .map_err(self.db_err("record declarations"))?;
        if found.is_none() {
            return Err(self.unknown_run(run));
        }
        super::query(
            "UPDATE runs SET declaration_set = ? WHERE id = ? AND declaration_set IS NULL",
        )
        .bind(set)
        .bind(run)
        .execute(&mut *tx)
        .await
        .map_err(self.db_err("record declarations"))?;
        Ok(())
    }

    async fn update_finish(
        &self,
        tx: &mut Conn,
        run: RunId,
        status: &RunStatus,
        finished_at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        self.set_finished(tx, Finished::Run, run, status, finished_at)
            .await
    }

    /// The end of a run or of a fleet run: its status, the status's reason, the time.
    async fn set_finished(
        &self,
        tx: &mut Conn,
        what: Finished,
        id: i64,
        status: &RunStatus,
        finished_at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let reason = match status {
            RunStatus::Running | RunStatus::Complete => None,
            RunStatus::Incomplete(r) | RunStatus::Interrupted(r) => Some(r.as_str()),
        };
        let (sql, doing) = match what {
            Finished::Run => (
                "UPDATE runs SET status = ?, status_reason = ?, finished_at = ? WHERE id = ?",
                "finish run",
            ),
            Finished::FleetRun => (
                "UPDATE fleet_runs SET status = ?, status_reason = ?, finished_at = ? \
                 WHERE id = ?",
                "finish fleet run",
            ),
        };
        let done = super::query(sql)
            .bind(status.as_str())
            .bind(reason)
            .bind(codec::ts(&finished_at))
            .bind(id)
            .execute(&mut *tx)
            .await
            .map_err(self.db_err(doing))?;
        if done.rows_affected() == 0 {
            return Err(self.unknown_run(id));
        }
        Ok(())
    }
}

/// Which kind of row [`Db::set_finished`] ends.
#[derive(Clone, Copy)]
enum Finished {
    Run,
    FleetRun,
}

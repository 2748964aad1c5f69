//! The work queue of fleet runs (for [`crate::store::Queue`], docs/queue.md): enqueue a
//! fleet run whole, lease one job, renew leases, complete a job exactly once (its result
//! and its `done` mark in one transaction, only while its worker still holds it), and
//! read a fleet's progress.
//!
//! Lease times are milliseconds since the epoch by the database's clock ([`NOW_MS`]),
//! never a worker's: workers on machines whose clocks disagree still agree on expiry.
//! Leasing a page job (discover, visit) locks its site's `queue_sites` row (PostgreSQL:
//! `FOR UPDATE … SKIP LOCKED`, so workers never wait on each other; SQLite: its write
//! transactions are serialised anyway), which is what keeps a site's `per_site` bound
//! across workers; completing one locks the same row, so exactly one completion sees a
//! site's last page job done and queues its finish.

use super::row::{get, get_opt_u64};
use super::{Conn, Db, DbRow};
use crate::store::codec::{self, DecodeResult};
use crate::store::queue::{
    Completion, FleetEnqueue, JobId, JobKind, JobRecord, LeasedJob, QueuedFleet, QueuedVisit,
    SiteFinish,
};
use crate::store::{FleetRunId, RunId, StoreError};
use chrono::{DateTime, Utc};

/// A job a worker may lease: queued, or leased by a worker whose lease ran out.
fn leasable(alias: &str) -> String {
    format!(
        "({alias}.state = 'queued' OR ({alias}.state = 'leased' AND {alias}.lease_until_ms < {}))",
        super::NOW_MS
    )
}

const PAGE_KINDS: &str = "('discover', 'visit')";
const FINISH_KINDS: &str = "('finish-site', 'finish-fleet')";
const RETURNING: &str = "RETURNING id, fleet_run_id, run_id, kind, scenario, position, attempts";

impl Db {
    pub(in crate::store) async fn enqueue_fleet(
        &self,
        fleet: &FleetEnqueue<'_>,
    ) -> Result<(FleetRunId, Vec<RunId>), StoreError> {
        let per_site = self.invalid(codec::to_i64("per_site", fleet.per_site as u64))?;
        let delay = self.invalid(codec::to_i64("page_delay", fleet.page_delay_ms))?;
        self.write("commit enqueue", move || {
            async move |tx| {
                let fleet_run: FleetRunId = super::query_scalar(
                    "INSERT INTO fleet_runs (name, fleet_file, started_at, status) \
                     VALUES (?, ?, ?, 'running') RETURNING id",
                )
                .bind(fleet.name)
                .bind(fleet.fleet_file)
                .bind(codec::ts(&fleet.started_at))
                .fetch_one(&mut *tx)
                .await
                .map_err(self.db_err("enqueue fleet run"))?;
                super::query(
                    "INSERT INTO queue_fleets (fleet_run_id, inputs, per_site, page_delay_ms, \
                     enqueued_at) VALUES (?, ?, ?, ?, ?)",
                )
                .bind(fleet_run)
                .bind(fleet.inputs)
                .bind(per_site)
                .bind(delay)
                .bind(codec::ts(&fleet.started_at))
                .execute(&mut *tx)
                .await
                .map_err(self.db_err("enqueue fleet"))?;
                let mut runs = Vec::with_capacity(fleet.sites.len());
                for site in &fleet.sites {
                    let mut start = site.start.clone();
                    start.fleet_run = Some(fleet_run);
                    // A queued run belongs to no process: no pid, so no sweep of dead
                    // processes ever marks it (its jobs' leases say who holds it).
                    let run = self.insert_run_of(tx, &start, None).await?;
                    self.insert_declarations(tx, run, site.declarations).await?;
                    super::query("INSERT INTO queue_sites (run_id, fleet_run_id) VALUES (?, ?)")
                        .bind(run)
                        .bind(fleet_run)
                        .execute(&mut *tx)
                        .await
                        .map_err(self.db_err("enqueue site"))?;
                    runs.push(run);
                }
                // The first jobs, interleaved by site as a fleet run in one process
                // orders them (each site's first, then each one's second…): job ids are
                // the queue's order.
                let longest = fleet
                    .sites
                    .iter()
                    .map(|s| if s.discover { 1 } else { s.scenarios.len() })
                    .max()
                    .unwrap_or(0);
                for position in 0..longest {
                    for (site, run) in fleet.sites.iter().zip(&runs) {
                        if site.discover {
                            if position == 0 {
                                self.insert_job(tx, fleet_run, Some(*run), JobKind::Discover, None)
                                    .await?;
                            }
                        } else if let Some(scenario) = site.scenarios.get(position) {
                            let visit = Some((*scenario, position));
                            self.insert_job(tx, fleet_run, Some(*run), JobKind::Visit, visit)
                                .await?;
                        }
                    }
                }
                // A site with nothing to visit (none of `--scenario` is its) is finished
                // at once; a fleet without sites too.
                for (site, run) in fleet.sites.iter().zip(&runs) {
                    if !site.discover && site.scenarios.is_empty() {
                        self.insert_job(tx, fleet_run, Some(*run), JobKind::FinishSite, None)
                            .await?;
                    }
                }
                if fleet.sites.is_empty() {
                    self.insert_job(tx, fleet_run, None, JobKind::FinishFleet, None)
                        .await?;
                }
                Ok((fleet_run, runs))
            }
        })
        .await
    }

    async fn insert_job(
        &self,
        tx: &mut Conn,
        fleet_run: FleetRunId,
        run: Option<RunId>,
        kind: JobKind,
        visit: Option<(&str, usize)>,
    ) -> Result<(), StoreError> {
        let position = visit
            .map(|(_, p)| self.invalid(codec::to_i64("position", p as u64)))
            .transpose()?;
        super::query(
            "INSERT INTO queue_jobs (fleet_run_id, run_id, kind, scenario, position, state) \
             VALUES (?, ?, ?, ?, ?, 'queued')",
        )
        .bind(fleet_run)
        .bind(run)
        .bind(kind.as_str())
        .bind(visit.map(|(s, _)| s))
        .bind(position)
        .execute(&mut *tx)
        .await
        .map_err(self.db_err("enqueue job"))?;
        Ok(())
    }

    /// Lease the next job for `owner` for `lease_ms`: a finishing job first (no browser
    /// needed, and it ends what others wait for), else the first page job of the first
    /// site below its `per_site` bound and past its `page_delay`. `None`: nothing to take
    /// now.
    pub(in crate::store) async fn lease(
        &self,
        owner: &str,
        lease_ms: u64,
    ) -> Result<Option<LeasedJob>, StoreError> {
        let lease_ms = self.invalid(codec::to_i64("lease", lease_ms))?;
        self.write("commit lease", move || {
            async move |tx| {
                let finish = format!(
                    "UPDATE queue_jobs SET state = 'leased', owner = ?, \
                     lease_until_ms = {now} + ?, attempts = attempts + 1 \
                     WHERE id = (SELECT j.id FROM queue_jobs j WHERE j.kind IN {FINISH_KINDS} \
                     AND {leasable} ORDER BY j.id LIMIT 1{skip}) {RETURNING}",
                    now = super::NOW_MS,
                    leasable = leasable("j"),
                    skip = super::SKIP_LOCKED,
                );
                let row = super::query(sqlx::AssertSqlSafe(finish))
                    .bind(owner)
                    .bind(lease_ms)
                    .fetch_optional(&mut *tx)
                    .await
                    .map_err(self.db_err("lease a finishing job"))?;
                if let Some(r) = row {
                    return self.decode(decode_leased(&r)).map(Some);
                }
                let pick_site = format!(
                    "SELECT s.run_id, f.per_site FROM queue_sites s \
                     JOIN queue_fleets f ON f.fleet_run_id = s.fleet_run_id \
                     WHERE EXISTS (SELECT 1 FROM queue_jobs j WHERE j.run_id = s.run_id \
                       AND j.kind IN {PAGE_KINDS} AND {leasable}) \
                     AND (s.last_leased_ms IS NULL OR s.last_leased_ms + f.page_delay_ms <= {now}) \
                     AND (SELECT COUNT(*) FROM queue_jobs j WHERE j.run_id = s.run_id \
                       AND j.kind IN {PAGE_KINDS} AND j.state = 'leased' \
                       AND j.lease_until_ms >= {now}) < f.per_site \
                     ORDER BY (SELECT MIN(j.id) FROM queue_jobs j WHERE j.run_id = s.run_id \
                       AND j.kind IN {PAGE_KINDS} AND {leasable}) \
                     LIMIT 1{skip}",
                    now = super::NOW_MS,
                    leasable = leasable("j"),
                    skip = super::SITE_SKIP_LOCKED,
                );
                let site: Option<(RunId, i64)> = super::query_as(sqlx::AssertSqlSafe(pick_site))
                    .fetch_optional(&mut *tx)
                    .await
                    .map_err(self.db_err("pick a site to lease"))?;
                let Some((run, per_site)) = site else {
                    return Ok(None);
                };
                // Checked again now that the site's row is ours: a lease another worker
                // committed meanwhile counts (PostgreSQL's statement snapshot is new).
                let take = format!(
                    "UPDATE queue_jobs SET state = 'leased', owner = ?, \
                     lease_until_ms = {now} + ?, attempts = attempts + 1 \
                     WHERE id = (SELECT MIN(j.id) FROM queue_jobs j WHERE j.run_id = ? \
                       AND j.kind IN {PAGE_KINDS} AND {leasable}) \
                     AND (SELECT COUNT(*) FROM queue_jobs j WHERE j.run_id = ? \
                       AND j.kind IN {PAGE_KINDS} AND j.state = 'leased' \
                       AND j.lease_until_ms >= {now}) < ? {RETURNING}",
                    now = super::NOW_MS,
                    leasable = leasable("j"),
                );
                let row = super::query(sqlx::AssertSqlSafe(take))
                    .bind(owner)
                    .bind(lease_ms)
                    .bind(run)
                    .bind(run)
                    .bind(per_site)
                    .fetch_optional(&mut *tx)
                    .await
                    .map_err(self.db_err("lease a page job"))?;
                let Some(r) = row else {
                    return Ok(None);
                };
                let stamp = format!(
                    "UPDATE queue_sites SET last_leased_ms = {} WHERE run_id = ?",
                    super::NOW_MS
                );
                super::query(sqlx::AssertSqlSafe(stamp))
                    .bind(run)
                    .execute(&mut *tx)
                    .await
                    .map_err(self.db_err("stamp the site's lease"))?;
                self.decode(decode_leased(&r)).map(Some)
            }
        })
        .await
    }

    /// Renew every lease `owner` holds for another `lease_ms`; how many it holds.
    pub(in crate::store) async fn heartbeat(
        &self,
        owner: &str,
        lease_ms: u64,
    ) -> Result<u64, StoreError> {
        let lease_ms = self.invalid(codec::to_i64("lease", lease_ms))?;
        let sql = format!(
            "UPDATE queue_jobs SET lease_until_ms = {} + ? WHERE owner = ? AND state = 'leased'",
            super::NOW_MS
        );
        self.write("commit heartbeat", move || {
            let sql = sql.clone();
            async move |tx| {
                super::query(sqlx::AssertSqlSafe(sql))
                    .bind(lease_ms)
                    .bind(owner)
                    .execute(&mut *tx)
                    .await
                    .map(|d| d.rows_affected())
                    .map_err(self.db_err("renew leases"))
            }
        })
        .await
    }

    /// Give a job back to the queue (its worker could not do it; `why` is kept).
    pub(in crate::store) async fn release(
        &self,
        job: JobId,
        owner: &str,
        why: &str,
    ) -> Result<Completion, StoreError> {
        self.write("commit release", move || {
            async move |tx| {
                let done = super::query(
                    "UPDATE queue_jobs SET state = 'queued', owner = NULL, lease_until_ms = NULL, \
                     last_error = ? WHERE id = ? AND owner = ? AND state = 'leased'",
                )
                .bind(why)
                .bind(job)
                .bind(owner)
                .execute(&mut *tx)
                .await
                .map_err(self.db_err("release job"))?;
                Ok(if done.rows_affected() == 0 {
                    Completion::LeaseLost
                } else {
                    Completion::Done
                })
            }
        })
        .await
    }

    /// Mark `job` done while `owner` still holds it; `Ok(false)`: the lease is lost
    /// (another worker took it after it ran out), and the caller's transaction must write
    /// nothing.
    async fn mark_done(
        &self,
        tx: &mut Conn,
        job: JobId,
        owner: &str,
        observation: Option<&str>,
        data_versions: Option<&str>,
    ) -> Result<bool, StoreError> {
        let done = super::query(
            "UPDATE queue_jobs SET state = 'done', lease_until_ms = NULL, observation = ?, \
             data_versions = ?, done_at = ? WHERE id = ? AND owner = ? AND state = 'leased'",
        )
        .bind(observation)
        .bind(data_versions)
        .bind(codec::ts(&Utc::now()))
        .bind(job)
        .bind(owner)
        .execute(&mut *tx)
        .await
        .map_err(self.db_err("mark job done"))?;
        Ok(done.rows_affected() == 1)
    }

    /// Lock a site's queue row for the rest of the transaction (PostgreSQL; SQLite's write
    /// transactions are serialised already).
    async fn lock_site(&self, tx: &mut Conn, run: RunId) -> Result<(), StoreError> {
        let sql = format!(
            "SELECT run_id FROM queue_sites WHERE run_id = ?{}",
            super::FOR_UPDATE
        );
        super::query(sqlx::AssertSqlSafe(sql))
            .bind(run)
            .fetch_optional(&mut *tx)
            .await
            .map_err(self.db_err("lock site"))?;
        Ok(())
    }

    /// After a page job of `run` is done: when none is left, queue the site's finish.
    async fn finish_site_when_visited(
        &self,
        tx: &mut Conn,
        fleet_run: FleetRunId,
        run: RunId,
    ) -> Result<(), StoreError> {
        let open: i64 = super::query_scalar(sqlx::AssertSqlSafe(format!(
            "SELECT COUNT(*) FROM queue_jobs WHERE run_id = ? AND state <> 'done' \
             AND kind IN {PAGE_KINDS}"
        )))
        .bind(run)
        .fetch_one(&mut *tx)
        .await
        .map_err(self.db_err("count open jobs"))?;
        if open == 0 {
            self.insert_job(tx, fleet_run, Some(run), JobKind::FinishSite, None)
                .await?;
        }
        Ok(())
    }

    /// A visit job's result: the judged visit stored (with its findings and inventory)
    /// and its observation kept for the run-level checks, the job done, the site's
    /// finish queued after its last visit: one transaction, only while `owner` holds it.
    pub(in crate::store) async fn complete_visit(
        &self,
        job: &LeasedJob,
        owner: &str,
        visit: &QueuedVisit<'_>,
    ) -> Result<Completion, StoreError> {
        let Some(run) = job.run else {
            return self.invalid(Err("a visit job without a run".to_string()));
        };
        self.write("commit queued visit", move || {
            async move |tx| {
                self.lock_site(tx, run).await?;
                if !self
                    .mark_done(
                        tx,
                        job.id,
                        owner,
                        Some(visit.observation),
                        visit.data_versions,
                    )
                    .await?
                {
                    return Ok(Completion::LeaseLost);
                }
                self.insert_judged_visit(tx, run, &visit.judged).await?;
                self.add_run_vendors(tx, run, std::slice::from_ref(&visit.judged))
                    .await?;
                self.finish_site_when_visited(tx, job.fleet_run, run)
                    .await?;
                Ok(Completion::Done)
            }
        })
        .await
    }

    /// A discover job's result: the site's crawl plan stored and its visit jobs queued
    /// (in `scenarios` order), the job done: one transaction, only while `owner` holds it.
    pub(in crate::store) async fn complete_discover(
        &self,
        job: &LeasedJob,
        owner: &str,
        plan_json: Option<&str>,
        scenarios: &[&str],
    ) -> Result<Completion, StoreError> {
        let Some(run) = job.run else {
            return self.invalid(Err("a discover job without a run".to_string()));
        };
        self.write("commit discovery", move || {
            async move |tx| {
                self.lock_site(tx, run).await?;
                if !self.mark_done(tx, job.id, owner, None, None).await? {
                    return Ok(Completion::LeaseLost);
                }
                if let Some(json) = plan_json {
                    super::query("UPDATE runs SET crawl = ? WHERE id = ?")
                        .bind(json)
                        .bind(run)
                        .execute(&mut *tx)
                        .await
                        .map_err(self.db_err("store crawl plan"))?;
                }
                for (position, scenario) in scenarios.iter().enumerate() {
                    let visit = Some((*scenario, position));
                    self.insert_job(tx, job.fleet_run, Some(run), JobKind::Visit, visit)
                        .await?;
                }
                self.finish_site_when_visited(tx, job.fleet_run, run)
                    .await?;
                Ok(Completion::Done)
            }
        })
        .await
    }

    /// A site's finish: its run-level findings, its end and acknowledgements, its data
    /// versions; the observations its visits kept cleared; the fleet's finish queued after
    /// its last site: one transaction, only while `owner` holds the job.
    pub(in crate::store) async fn complete_site(
        &self,
        job: &LeasedJob,
        owner: &str,
        finish: &SiteFinish<'_>,
    ) -> Result<Completion, StoreError> {
        let Some(run) = job.run else {
            return self.invalid(Err("a finish job without a run".to_string()));
        };
        let acks = self.ack_rows(run, finish.acks)?;
        let acks = &acks;
        self.write("commit site finish", move || {
            async move |tx| {
                self.lock_fleet(tx, job.fleet_run).await?;
                if !self.mark_done(tx, job.id, owner, None, None).await? {
                    return Ok(Completion::LeaseLost);
                }
                self.insert_findings(tx, run, None, finish.findings).await?;
                self.insert_finish_with_acks(tx, run, &finish.status, finish.finished_at, acks)
                    .await?;
                super::query("UPDATE runs SET data_versions = ? WHERE id = ?")
                    .bind(finish.data_versions)
                    .bind(run)
                    .execute(&mut *tx)
                    .await
                    .map_err(self.db_err("store data versions"))?;
                super::query("UPDATE queue_jobs SET observation = NULL WHERE run_id = ?")
                    .bind(run)
                    .execute(&mut *tx)
                    .await
                    .map_err(self.db_err("clear observations"))?;
                let open: i64 = super::query_scalar(
                    "SELECT COUNT(*) FROM queue_jobs WHERE fleet_run_id = ? AND state <> 'done'",
                )
                .bind(job.fleet_run)
                .fetch_one(&mut *tx)
                .await
                .map_err(self.db_err("count open jobs"))?;
                if open == 0 {
                    self.insert_job(tx, job.fleet_run, None, JobKind::FinishFleet, None)
                        .await?;
                }
                Ok(Completion::Done)
            }
        })
        .await
    }

    async fn lock_fleet(&self, tx: &mut Conn, fleet_run: FleetRunId) -> Result<(), StoreError> {
        let sql = format!(
            "SELECT fleet_run_id FROM queue_fleets WHERE fleet_run_id = ?{}",
            super::FOR_UPDATE
        );
        super::query(sqlx::AssertSqlSafe(sql))
            .bind(fleet_run)
            .fetch_optional(&mut *tx)
            .await
            .map_err(self.db_err("lock fleet"))?;
        Ok(())
    }

    /// The fleet's finish: its status and end, the job done: one transaction, only while
    /// `owner` holds it.
    pub(in crate::store) async fn complete_fleet(
        &self,
        job: &LeasedJob,
        owner: &str,
        status: &crate::model::RunStatus,
        finished_at: DateTime<Utc>,
    ) -> Result<Completion, StoreError> {
        self.write("commit fleet finish", move || {
            async move |tx| {
                self.lock_fleet(tx, job.fleet_run).await?;
                if !self.mark_done(tx, job.id, owner, None, None).await? {
                    return Ok(Completion::LeaseLost);
                }
                self.finish_fleet_in(tx, job.fleet_run, status, finished_at)
                    .await?;
                Ok(Completion::Done)
            }
        })
        .await
    }

    /// A queued fleet run: what its workers load.
    pub(in crate::store) async fn queued_fleet(
        &self,
        fleet_run: FleetRunId,
    ) -> Result<Option<QueuedFleet>, StoreError> {
        let row = super::query("SELECT * FROM queue_fleets WHERE fleet_run_id = ?")
            .bind(fleet_run)
            .fetch_optional(&self.pool)
            .await
            .map_err(self.db_err("read queued fleet"))?;
        row.map(|r| self.decode(decode_fleet(&r))).transpose()
    }

    /// The newest queued fleet run.
    pub(in crate::store) async fn latest_queued_fleet(
        &self,
    ) -> Result<Option<FleetRunId>, StoreError> {
        super::query_scalar("SELECT MAX(fleet_run_id) FROM queue_fleets")
            .fetch_one(&self.pool)
            .await
            .map_err(self.db_err("read queued fleets"))
    }

    /// The observations the visits of `run` kept, in run order (position, JSON), with
    /// the data versions each ran with.
    pub(in crate::store) async fn queued_observations(
        &self,
        run: RunId,
    ) -> Result<Vec<(usize, String, Option<String>)>, StoreError> {
        let rows: Vec<(i64, String, Option<String>)> = super::query_as(
            "SELECT position, observation, data_versions FROM queue_jobs \
             WHERE run_id = ? AND kind = 'visit' AND state = 'done' \
             AND observation IS NOT NULL ORDER BY position, id",
        )
        .bind(run)
        .fetch_all(&self.pool)
        .await
        .map_err(self.db_err("read queued observations"))?;
        rows.into_iter()
            .map(|(p, o, d)| {
                let p = self.invalid(
                    usize::try_from(p).map_err(|_| format!("column position: negative {p}")),
                )?;
                Ok((p, o, d))
            })
            .collect()
    }

    /// Every job of a fleet run, in queue order, with the database's clock now (ms).
    pub(in crate::store) async fn fleet_jobs(
        &self,
        fleet_run: FleetRunId,
    ) -> Result<(Vec<JobRecord>, i64), StoreError> {
        let rows = super::query(
            "SELECT id, fleet_run_id, run_id, kind, scenario, position, state, attempts, owner, \
             lease_until_ms, last_error FROM queue_jobs WHERE fleet_run_id = ? ORDER BY id",
        )
        .bind(fleet_run)
        .fetch_all(&self.pool)
        .await
        .map_err(self.db_err("read queued jobs"))?;
        let jobs = rows
            .iter()
            .map(|r| self.decode(decode_job(r)))
            .collect::<Result<Vec<_>, _>>()?;
        let now: i64 =
            super::query_scalar(sqlx::AssertSqlSafe(format!("SELECT {}", super::NOW_MS)))
                .fetch_one(&self.pool)
                .await
                .map_err(self.db_err("read the database's clock"))?;
        Ok((jobs, now))
    }

    /// Jobs not done yet, over every queued fleet run.
    pub(in crate::store) async fn open_jobs(&self) -> Result<u64, StoreError> {
        let n: i64 = super::query_scalar("SELECT COUNT(*) FROM queue_jobs WHERE state <> 'done'")
            .fetch_one(&self.pool)
            .await
            .map_err(self.db_err("count open jobs"))?;
        Ok(u64::try_from(n).unwrap_or(0))
    }
}

fn decode_leased(r: &DbRow) -> DecodeResult<LeasedJob> {
    let kind: String = get(r, "kind")?;
    Ok(LeasedJob {
        id: get(r, "id")?,
        fleet_run: get(r, "fleet_run_id")?,
        run: get(r, "run_id")?,
        kind: JobKind::parse(&kind).ok_or_else(|| format!("column kind: unknown {kind:?}"))?,
        scenario: get(r, "scenario")?,
        position: get_opt_u64(r, "position")?.map(|p| p as usize),
        attempts: get_opt_u64(r, "attempts")?.unwrap_or(0) as u32,
    })
}

fn decode_job(r: &DbRow) -> DecodeResult<JobRecord> {
    let state: String = get(r, "state")?;
    Ok(JobRecord {
        job: decode_leased(r)?,
        state,
        owner: get(r, "owner")?,
        lease_until_ms: get(r, "lease_until_ms")?,
        last_error: get(r, "last_error")?,
    })
}

fn decode_fleet(r: &DbRow) -> DecodeResult<QueuedFleet> {
    Ok(QueuedFleet {
        fleet_run: get(r, "fleet_run_id")?,
        inputs: get(r, "inputs")?,
        per_site: get_opt_u64(r, "per_site")?.unwrap_or(1) as usize,
        page_delay_ms: get_opt_u64(r, "page_delay_ms")?.unwrap_or(0),
    })
}

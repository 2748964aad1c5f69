//! The rows of one visit: the visit itself, then its steps, requests, cookie writes,
//! stored cookies, storage writes, page errors, consent signals, screenshots, findings
//! and inventory, each table in batched `INSERT`s ([`insert_rows`]). Called inside the
//! write transactions of `write.rs`, never on their own.

use super::Conn;
use super::{insert_rows, Db};
use crate::analysis::finding::Finding;
use crate::model::{ConsentState, CookieSource, StepStatus, VisitObservation, VisitStatus};
use crate::store::codec::Insert;
use crate::store::codec::{self, Col};
use crate::store::{JudgedVisit, RunId, RunVendor, StoreError};

/// The consent-state columns every observed record carries, last in each row.
macro_rules! with_state {
    ($($col:literal),* $(,)?) => {
        &[$($col,)* "phase", "consent", "li_objected", "actions"]
    };
}

const STEPS: Insert = Insert {
    into: "INSERT INTO steps",
    columns: &[
        "visit_id",
        "step_index",
        "description",
        "status",
        "detail",
        "started_at",
        "duration_ms",
        "failure_kind",
    ],
};
const REQUESTS: Insert = Insert {
    into: "INSERT INTO requests",
    columns: with_state!(
        "visit_id",
        "seq",
        "url",
        "host",
        "method",
        "resource_type",
        "initiator",
        "frame_id",
        "target",
        "http_status",
        "error",
        "time",
        "page",
        "cancelled",
        "frames_sent",
        "frames_received",
        "http",
    ),
};
const COOKIE_WRITES: Insert = Insert {
    into: "INSERT INTO cookie_writes",
    columns: with_state!(
        "visit_id",
        "seq",
        "name",
        "domain",
        "path",
        "value_hash",
        "requested_lifetime_secs",
        "source_kind",
        "source_url",
        "blocked_reasons",
        "time",
        "page",
        "expiry_unparsed",
    ),
};
const COOKIES: Insert = Insert {
    into: "INSERT INTO cookies",
    columns: with_state!(
        "visit_id",
        "seq",
        "name",
        "domain",
        "path",
        "value_hash",
        "expires",
        "secure",
        "http_only",
        "same_site",
        "partition_key",
        "observed_at",
    ),
};
const STORAGE_WRITES: Insert = Insert {
    into: "INSERT INTO storage_writes",
    columns: with_state!(
        "visit_id",
        "seq",
        "area",
        "origin",
        "storage_key",
        "value_hash",
        "time",
        "page",
    ),
};
const PAGE_ERRORS: Insert = Insert {
    into: "INSERT INTO page_errors",
    columns: &["visit_id", "seq", "message", "source", "time", "page"],
};
const SIGNALS: Insert = Insert {
    into: "INSERT INTO visit_signals",
    columns: with_state!("visit_id", "seq", "kind", "source", "time", "page", "data"),
};
const SCREENSHOTS: Insert = Insert {
    into: "INSERT INTO visit_screenshots",
    columns: &[
        "visit_id",
        "seq",
        "step_index",
        "action",
        "phase_when",
        "taken_at",
        "page",
        "path",
        "width",
        "height",
        "bytes",
        "capture_ms",
        "action_failed",
    ],
};
const FINDING_BATCHES: Insert = Insert {
    into: "INSERT INTO finding_batches",
    columns: &["run_id", "seq", "visit_id", "items"],
};
pub(super) const ACKS: Insert = Insert {
    into: "INSERT INTO run_acks",
    columns: &[
        "run_id",
        "seq",
        "fingerprint",
        "site",
        "owner",
        "reason",
        "expires",
        "acknowledged_at",
        "status",
        "location",
    ],
};

/// A row per item, `seq` its index (checked to fit an INTEGER, named `what` if not).
fn each<'a, T>(
    what: &str,
    items: impl IntoIterator<Item = &'a T>,
    row: impl Fn(i64, &'a T) -> Result<Vec<Col<'a>>, String>,
) -> Result<Vec<Vec<Col<'a>>>, String>
where
    T: 'a,
{
    items
        .into_iter()
        .enumerate()
        .map(|(i, item)| row(codec::to_i64(what, i as u64)?, item))
        .collect()
}

/// `row` followed by the consent-state columns of `state`.
fn with_state<'a>(mut row: Vec<Col<'a>>, state: &ConsentState) -> Result<Vec<Col<'a>>, String> {
    row.extend([
        Col::from(state.phase()),
        Col::from(codec::consent_str(state.consent)),
        Col::from(state.li_objected),
        Col::from(codec::actions_json(&state.actions)?),
    ]);
    Ok(row)
}

impl Db {
    /// A visit with everything it carries, inside the caller's transaction; returns the
    /// visit id.
    pub(super) async fn insert_judged_visit(
        &self,
        tx: &mut Conn,
        run: RunId,
        v: &JudgedVisit<'_>,
    ) -> Result<i64, StoreError> {
        let visit = self.insert_visit(tx, run, v).await?;
        let obs = v.obs;
        for (insert, rows) in [
            (&PAGE_ERRORS, self.invalid(page_error_rows(visit, obs))?),
            (&REQUESTS, self.invalid(request_rows(visit, obs))?),
            (&COOKIE_WRITES, self.invalid(cookie_write_rows(visit, obs))?),
            (&COOKIES, self.invalid(cookie_rows(visit, obs))?),
            (&STORAGE_WRITES, self.invalid(storage_rows(visit, obs))?),
            (&STEPS, self.invalid(step_rows(visit, obs))?),
            (&SIGNALS, self.invalid(signal_rows(visit, obs))?),
            (&SCREENSHOTS, self.invalid(screenshot_rows(visit, obs))?),
        ] {
            insert_rows(tx, insert, &rows)
                .await
                .map_err(self.db_err(insert.into))?;
        }
        self.insert_findings(tx, run, Some(visit), v.findings)
            .await?;
        Ok(visit)
    }

    /// Adds the vendor activity of `visits` (of run `run`) to the run's per-vendor sums
    /// (`run_vendor_sums`, one row per run since schema 17); the records after an
    /// objection count as observed only in a visit observed completely. Called once per
    /// visit write (the run's lock held, the row read, added to and written back), or
    /// once for all the visits of an imported run (then the row is only inserted:
    /// PostgreSQL keeps no dead row versions of a bulk import).
    pub(super) async fn add_run_vendors(
        &self,
        tx: &mut Conn,
        run: RunId,
        visits: &[JudgedVisit<'_>],
    ) -> Result<(), StoreError> {
        let mut sums: std::collections::BTreeMap<String, RunVendor> =
            std::collections::BTreeMap::new();
        for v in visits {
            let observed = v.obs.status == VisitStatus::Complete;
            for a in v.inventory.iter().flat_map(|i| &i.vendors) {
                let objected_observed = if observed { a.objected } else { 0 };
                add_vendor_sums(&mut sums, a, objected_observed);
            }
        }
        if sums.is_empty() {
            return Ok(());
        }
        // Writers of one run's visits take turns (the same lock as findings' numbers).
        super::lock_run_numbering(tx, run)
            .await
            .map_err(self.db_err("lock the run's vendor sums"))?;
        let stored: Option<String> =
            super::query_scalar("SELECT sums FROM run_vendor_sums WHERE run_id = ?")
                .bind(run)
                .fetch_optional(&mut *tx)
                .await
                .map_err(self.db_err("read vendor sums"))?;
        if let Some(stored) = stored {
            for v in self.decode(codec::parse_vendor_sums("sums", &stored))? {
                add_vendor_sums(&mut sums, &v.activity, v.objected_observed);
            }
        }
        let sums: Vec<RunVendor> = sums.into_values().collect();
        super::query(
            "INSERT INTO run_vendor_sums (run_id, sums) VALUES (?, ?) \
             ON CONFLICT (run_id) DO UPDATE SET sums = excluded.sums",
        )
        .bind(run)
        .bind(codec::vendor_sums_json(&sums))
        .execute(&mut *tx)
        .await
        .map_err(|e| self.fk_err(e, run, "record vendor activity"))?;
        Ok(())
    }

    async fn insert_visit(
        &self,
        tx: &mut Conn,
        run: RunId,
        v: &JudgedVisit<'_>,
    ) -> Result<i64, StoreError> {
        let obs = v.obs;
        let (status, reason, kind) = match &obs.status {
            VisitStatus::Complete => ("complete", None, None),
            VisitStatus::Incomplete(f) => {
                ("incomplete", Some(f.reason.as_str()), Some(f.kind.as_str()))
            }
        };
        let count = |what, n: Option<usize>| {
            n.map(|n| self.invalid(codec::to_i64(what, n as u64)))
                .transpose()
        };
        let t = &obs.timings;
        let ms = |what, v| self.invalid(codec::to_i64(what, v));
        let inventory = match v.inventory {
            Some(inv) => Some(self.inventory_set(tx, inv).await?),
            None => None,
        };
        super::query_scalar(
            "INSERT INTO visits (run_id, scenario, status, reason, started_at, finished_at, \
             final_consent, final_li_objected, final_actions, session_start_ms, load_ms, \
             settle_ms, capture_ms, close_ms, warnings, position, failure_kind, \
             third_party_requests, cmp_actions, steps_ms, settles, screenshot_ms, inventory_set, \
             repetition, login) \
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) \
             RETURNING id",
        )
        .bind(run)
        .bind(&obs.scenario)
        .bind(status)
        .bind(reason)
        .bind(codec::ts(&obs.started_at))
        .bind(codec::ts(&obs.finished_at))
        .bind(codec::consent_str(obs.final_state.consent))
        .bind(obs.final_state.li_objected)
        .bind(self.invalid(codec::actions_json(&obs.final_state.actions))?)
        .bind(ms("session start time", t.session_start_ms)?)
        .bind(ms("load time", t.load_ms)?)
        .bind(ms("settle time", t.settle_ms)?)
        .bind(ms("capture time", t.capture_ms)?)
        .bind(ms("close time", t.close_ms)?)
        .bind(self.invalid(codec::json("warnings", &obs.warnings))?)
        .bind(count("visit position", v.position)?)
        .bind(kind)
        .bind(count("third-party requests", v.third_party_requests)?)
        .bind(self.invalid(codec::json("cmp actions", &obs.cmp))?)
        .bind(ms("steps time", t.steps_ms)?)
        .bind(self.invalid(codec::json("settles", &t.settles))?)
        .bind(ms("screenshot time", t.screenshot_ms)?)
        .bind(inventory)
        .bind(i64::from(v.repetition))
        .bind(match &obs.login {
            Some(l) => Some(self.invalid(codec::json("login", l))?),
            None => None,
        })
        .fetch_one(&mut *tx)
        .await
        .map_err(|e| match &e {
            sqlx::Error::Database(d) if d.is_unique_violation() => StoreError::DuplicateVisit {
                path: self.path_buf(),
                run,
                scenario: obs.scenario.clone(),
            },
            _ => self.fk_err(e, run, "record visit"),
        })
    }

    /// Appends findings to a run after those it has (`seq` continues), in order: one
    /// `finding_batches` row (schema 17) whose items are numbered from its `seq`.
    pub(super) async fn insert_findings(
        &self,
        tx: &mut Conn,
        run: RunId,
        visit: Option<i64>,
        findings: &[Finding],
    ) -> Result<(), StoreError> {
        if findings.is_empty() {
            return Ok(());
        }
        // Findings are numbered per run: writers of one run's visits take turns here.
        super::lock_run_numbering(tx, run)
            .await
            .map_err(self.db_err("lock the run's findings"))?;
        let next: i64 = super::query_scalar(
            "SELECT COALESCE(MAX(seq) + 1, 0) FROM finding_view WHERE run_id = ?",
        )
        .bind(run)
        .fetch_one(&mut *tx)
        .await
        .map_err(self.db_err("read findings"))?;
        let mut items = Vec::with_capacity(findings.len());
        for f in findings {
            let key = self.finding_key(tx, f).await?;
            // The key holds the message it was first stored with; an item repeats it only
            // when it differs (a count in it changed).
            let message =
                (key.message.as_deref() != Some(f.message.as_str())).then_some(f.message.as_str());
            let evidence =
                self.invalid(codec::stored_evidence(&f.evidence, f.scenario.as_deref()))?;
            items.push(serde_json::json!([
                key.id,
                message,
                f.occurrences,
                evidence
            ]));
        }
        let items = self.invalid(codec::json("findings", &items))?;
        let row = vec![run.into(), next.into(), visit.into(), items.into()];
        insert_rows(tx, &FINDING_BATCHES, &[row])
            .await
            .map_err(|e| self.fk_err(e, run, "record findings"))
    }
}

fn step_rows(visit: i64, obs: &VisitObservation) -> Result<Vec<Vec<Col<'_>>>, String> {
    obs.steps
        .iter()
        .map(|s| {
            let (status, detail, kind) = match &s.status {
                StepStatus::Done => ("done", None, None),
                StepStatus::Failed(f) => ("failed", Some(f.reason.as_str()), Some(f.kind.as_str())),
                StepStatus::Skipped => ("skipped", None, None),
            };
            Ok(vec![
                visit.into(),
                codec::to_i64("step index", s.index as u64)?.into(),
                s.description.as_str().into(),
                status.into(),
                detail.into(),
                codec::ts(&s.started_at).into(),
                codec::to_i64("step duration", s.duration_ms)?.into(),
                kind.into(),
            ])
        })
        .collect()
}

fn request_rows(visit: i64, obs: &VisitObservation) -> Result<Vec<Vec<Col<'_>>>, String> {
    each("request index", &obs.requests, |seq, r| {
        let row = vec![
            visit.into(),
            seq.into(),
            r.url.as_str().into(),
            r.host().into(),
            r.method.as_str().into(),
            r.resource_type.as_str().into(),
            r.initiator.as_deref().into(),
            r.frame_id.as_deref().into(),
            codec::target_str(r.target).into(),
            r.status.map(i64::from).into(),
            r.error.as_deref().into(),
            codec::ts(&r.time).into(),
            r.page.as_str().into(),
            r.cancelled.into(),
            r.frames.map(|f| i64::from(f.sent)).into(),
            r.frames.map(|f| i64::from(f.received)).into(),
            r.http
                .as_deref()
                .map(|h| codec::json("request headers", h))
                .transpose()?
                .into(),
        ];
        with_state(row, &r.state)
    })
}

fn cookie_write_rows(visit: i64, obs: &VisitObservation) -> Result<Vec<Vec<Col<'_>>>, String> {
    each("cookie write index", &obs.cookie_writes, |seq, w| {
        let (kind, url) = match &w.source {
            CookieSource::Header { request_url } => ("header", request_url),
            CookieSource::Script { document_url } => ("script", document_url),
        };
        let row = vec![
            visit.into(),
            seq.into(),
            w.name.as_str().into(),
            w.domain.as_str().into(),
            w.path.as_deref().into(),
            w.value_hash.as_str().into(),
            w.requested_lifetime_secs.into(),
            kind.into(),
            url.as_str().into(),
            codec::json("blocked reasons", &w.blocked_reasons)?.into(),
            codec::ts(&w.time).into(),
            w.page.as_str().into(),
            w.expiry_unparsed.as_deref().into(),
        ];
        with_state(row, &w.state)
    })
}

fn cookie_rows(visit: i64, obs: &VisitObservation) -> Result<Vec<Vec<Col<'_>>>, String> {
    each("cookie index", &obs.cookies, |seq, c| {
        let row = vec![
            visit.into(),
            seq.into(),
            c.name.as_str().into(),
            c.domain.as_str().into(),
            c.path.as_str().into(),
            c.value_hash.as_str().into(),
            c.expires.as_ref().map(codec::ts).into(),
            c.secure.into(),
            c.http_only.into(),
            c.same_site.as_deref().into(),
            c.partition_key.as_deref().into(),
            codec::ts(&c.observed_at).into(),
        ];
        with_state(row, &c.state)
    })
}

fn storage_rows(visit: i64, obs: &VisitObservation) -> Result<Vec<Vec<Col<'_>>>, String> {
    each("storage write index", &obs.storage_writes, |seq, s| {
        let row = vec![
            visit.into(),
            seq.into(),
            s.area.as_str().into(),
            s.origin.as_str().into(),
            s.key.as_str().into(),
            s.value_hash.as_str().into(),
            codec::ts(&s.time).into(),
            s.page.as_str().into(),
        ];
        with_state(row, &s.state)
    })
}

fn page_error_rows(visit: i64, obs: &VisitObservation) -> Result<Vec<Vec<Col<'_>>>, String> {
    each("page error index", &obs.page_errors, |seq, e| {
        Ok(vec![
            visit.into(),
            seq.into(),
            e.message.as_str().into(),
            e.source.as_deref().into(),
            codec::ts(&e.time).into(),
            e.page.as_str().into(),
        ])
    })
}

fn signal_rows(visit: i64, obs: &VisitObservation) -> Result<Vec<Vec<Col<'_>>>, String> {
    each("signal index", &obs.signals, |seq, sig| {
        let row = vec![
            visit.into(),
            seq.into(),
            sig.data.kind().into(),
            codec::json("signal source", &sig.source)?.into(),
            codec::ts(&sig.time).into(),
            sig.page.as_str().into(),
            codec::json("signal", &sig.data)?.into(),
        ];
        with_state(row, &sig.state)
    })
}

/// Only screenshots whose file was written (the file is the evidence).
fn screenshot_rows(visit: i64, obs: &VisitObservation) -> Result<Vec<Vec<Col<'_>>>, String> {
    let saved = obs.screenshots.iter().filter(|s| s.path.is_some());
    each("screenshot index", saved, |seq, shot| {
        Ok(vec![
            visit.into(),
            seq.into(),
            codec::to_i64("screenshot step", shot.step as u64)?.into(),
            shot.action.as_str().into(),
            shot.when.as_str().into(),
            codec::ts(&shot.time).into(),
            shot.page.as_str().into(),
            shot.path.as_deref().unwrap_or_default().into(),
            shot.width.into(),
            shot.height.into(),
            codec::to_i64("screenshot size", shot.bytes)?.into(),
            codec::to_i64("screenshot time", shot.capture_ms)?.into(),
            shot.action_failed.into(),
        ])
    })
}

/// Adds one vendor's activity to a run's sums (saturating: a count never wraps).
fn add_vendor_sums(
    sums: &mut std::collections::BTreeMap<String, RunVendor>,
    a: &crate::inventory::VendorActivity,
    objected_observed: u32,
) {
    let s = sums.entry(a.vendor.clone()).or_default();
    s.activity.vendor.clone_from(&a.vendor);
    s.activity.requests = s.activity.requests.saturating_add(a.requests);
    s.activity.cookie_writes = s.activity.cookie_writes.saturating_add(a.cookie_writes);
    s.activity.storage_writes = s.activity.storage_writes.saturating_add(a.storage_writes);
    s.activity.unauthorized = s.activity.unauthorized.saturating_add(a.unauthorized);
    s.activity.objected = s.activity.objected.saturating_add(a.objected);
    s.objected_observed = s.objected_observed.saturating_add(objected_observed);
}

//! The rows of one visit: the visit itself, its steps, requests, cookie writes, stored
//! cookies, storage writes, page errors, consent signals and screenshots. Called inside the
//! write side's transactions (`write.rs`), never on their own.

use super::{codec, JudgedVisit, RunId, Store, StoreError};
use crate::model::{
    CookieSource, CookieWrite, PageError, RequestObs, StepOutcome, StepStatus, StorageWrite,
    StoredCookie, VisitStatus,
};
use crate::signals::SignalObs;
use sqlx::sqlite::SqliteConnection;

impl Store {
    pub(super) async fn insert_visit(
        &self,
        tx: &mut SqliteConnection,
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
        sqlx::query_scalar(
            "INSERT INTO visits (run_id, scenario, status, reason, started_at, finished_at, \
             final_consent, final_li_objected, final_actions, session_start_ms, load_ms, \
             settle_ms, capture_ms, close_ms, warnings, position, failure_kind, \
             third_party_requests, cmp_actions, steps_ms, settles, screenshot_ms) \
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
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

    pub(super) async fn insert_step(
        &self,
        tx: &mut SqliteConnection,
        visit: i64,
        s: &StepOutcome,
    ) -> Result<(), StoreError> {
        let (status, detail, kind) = match &s.status {
            StepStatus::Done => ("done", None, None),
            StepStatus::Failed(f) => ("failed", Some(f.reason.as_str()), Some(f.kind.as_str())),
            StepStatus::Skipped => ("skipped", None, None),
        };
        sqlx::query(
            "INSERT INTO steps (visit_id, step_index, description, status, detail, started_at, \
             duration_ms, failure_kind) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(visit)
        .bind(self.invalid(codec::to_i64("step index", s.index as u64))?)
        .bind(&s.description)
        .bind(status)
        .bind(detail)
        .bind(codec::ts(&s.started_at))
        .bind(self.invalid(codec::to_i64("step duration", s.duration_ms))?)
        .bind(kind)
        .execute(&mut *tx)
        .await
        .map_err(self.db_err("record step"))?;
        Ok(())
    }

    pub(super) async fn insert_request(
        &self,
        tx: &mut SqliteConnection,
        visit: i64,
        seq: usize,
        r: &RequestObs,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO requests (visit_id, seq, url, host, method, resource_type, initiator, \
             frame_id, target, http_status, error, time, page, phase, consent, li_objected, \
             actions, cancelled) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(visit)
        .bind(self.invalid(codec::to_i64("request index", seq as u64))?)
        .bind(&r.url)
        .bind(r.host())
        .bind(&r.method)
        .bind(&r.resource_type)
        .bind(r.initiator.as_deref())
        .bind(r.frame_id.as_deref())
        .bind(codec::target_str(r.target))
        .bind(r.status.map(i64::from))
        .bind(r.error.as_deref())
        .bind(codec::ts(&r.time))
        .bind(&r.page)
        .bind(r.state.phase())
        .bind(codec::consent_str(r.state.consent))
        .bind(r.state.li_objected)
        .bind(self.invalid(codec::actions_json(&r.state.actions))?)
        .bind(r.cancelled)
        .execute(&mut *tx)
        .await
        .map_err(self.db_err("record request"))?;
        Ok(())
    }

    pub(super) async fn insert_cookie_write(
        &self,
        tx: &mut SqliteConnection,
        visit: i64,
        seq: usize,
        w: &CookieWrite,
    ) -> Result<(), StoreError> {
        let (kind, url) = match &w.source {
            CookieSource::Header { request_url } => ("header", request_url),
            CookieSource::Script { document_url } => ("script", document_url),
        };
        sqlx::query(
            "INSERT INTO cookie_writes (visit_id, seq, name, domain, path, value_hash, \
             requested_lifetime_secs, source_kind, source_url, blocked_reasons, time, page, \
             phase, consent, li_objected, actions, expiry_unparsed) \
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(visit)
        .bind(self.invalid(codec::to_i64("cookie write index", seq as u64))?)
        .bind(&w.name)
        .bind(&w.domain)
        .bind(w.path.as_deref())
        .bind(&w.value_hash)
        .bind(w.requested_lifetime_secs)
        .bind(kind)
        .bind(url)
        .bind(self.invalid(codec::json("blocked reasons", &w.blocked_reasons))?)
        .bind(codec::ts(&w.time))
        .bind(&w.page)
        .bind(w.state.phase())
        .bind(codec::consent_str(w.state.consent))
        .bind(w.state.li_objected)
        .bind(self.invalid(codec::actions_json(&w.state.actions))?)
        .bind(w.expiry_unparsed.as_deref())
        .execute(&mut *tx)
        .await
        .map_err(self.db_err("record cookie write"))?;
        Ok(())
    }

    pub(super) async fn insert_cookie(
        &self,
        tx: &mut SqliteConnection,
        visit: i64,
        seq: usize,
        c: &StoredCookie,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO cookies (visit_id, seq, name, domain, path, value_hash, expires, secure, \
             http_only, same_site, partition_key, observed_at, phase, consent, li_objected, \
             actions) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(visit)
        .bind(self.invalid(codec::to_i64("cookie index", seq as u64))?)
        .bind(&c.name)
        .bind(&c.domain)
        .bind(&c.path)
        .bind(&c.value_hash)
        .bind(c.expires.as_ref().map(codec::ts))
        .bind(c.secure)
        .bind(c.http_only)
        .bind(c.same_site.as_deref())
        .bind(c.partition_key.as_deref())
        .bind(codec::ts(&c.observed_at))
        .bind(c.state.phase())
        .bind(codec::consent_str(c.state.consent))
        .bind(c.state.li_objected)
        .bind(self.invalid(codec::actions_json(&c.state.actions))?)
        .execute(&mut *tx)
        .await
        .map_err(self.db_err("record cookie"))?;
        Ok(())
    }

    pub(super) async fn insert_storage_write(
        &self,
        tx: &mut SqliteConnection,
        visit: i64,
        seq: usize,
        s: &StorageWrite,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO storage_writes (visit_id, seq, area, origin, storage_key, value_hash, \
             time, page, phase, consent, li_objected, actions) \
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(visit)
        .bind(self.invalid(codec::to_i64("storage write index", seq as u64))?)
        .bind(&s.area)
        .bind(&s.origin)
        .bind(&s.key)
        .bind(&s.value_hash)
        .bind(codec::ts(&s.time))
        .bind(&s.page)
        .bind(s.state.phase())
        .bind(codec::consent_str(s.state.consent))
        .bind(s.state.li_objected)
        .bind(self.invalid(codec::actions_json(&s.state.actions))?)
        .execute(&mut *tx)
        .await
        .map_err(self.db_err("record storage write"))?;
        Ok(())
    }

    pub(super) async fn insert_page_error(
        &self,
        tx: &mut SqliteConnection,
        visit: i64,
        seq: usize,
        e: &PageError,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO page_errors (visit_id, seq, message, source, time, page) \
             VALUES (?, ?, ?, ?, ?, ?)",
        )
        .bind(visit)
        .bind(self.invalid(codec::to_i64("page error index", seq as u64))?)
        .bind(&e.message)
        .bind(e.source.as_deref())
        .bind(codec::ts(&e.time))
        .bind(&e.page)
        .execute(&mut *tx)
        .await
        .map_err(self.db_err("record page error"))?;
        Ok(())
    }

    pub(super) async fn insert_signal(
        &self,
        tx: &mut SqliteConnection,
        visit: i64,
        seq: usize,
        sig: &SignalObs,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO visit_signals (visit_id, seq, kind, source, time, page, phase, consent, \
             li_objected, actions, data) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(visit)
        .bind(self.invalid(codec::to_i64("signal index", seq as u64))?)
        .bind(sig.data.kind())
        .bind(self.invalid(codec::json("signal source", &sig.source))?)
        .bind(codec::ts(&sig.time))
        .bind(&sig.page)
        .bind(sig.state.phase())
        .bind(codec::consent_str(sig.state.consent))
        .bind(sig.state.li_objected)
        .bind(self.invalid(codec::actions_json(&sig.state.actions))?)
        .bind(self.invalid(codec::json("signal", &sig.data))?)
        .execute(&mut *tx)
        .await
        .map_err(self.db_err("record signal"))?;
        Ok(())
    }

    pub(super) async fn insert_screenshot(
        &self,
        tx: &mut SqliteConnection,
        visit: i64,
        seq: usize,
        shot: &crate::model::Screenshot,
    ) -> Result<(), StoreError> {
        let n = |what, v: u64| self.invalid(codec::to_i64(what, v));
        sqlx::query(
            "INSERT INTO visit_screenshots (visit_id, seq, step_index, action, phase_when, \
             taken_at, page, path, width, height, bytes, capture_ms, action_failed) \
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(visit)
        .bind(n("screenshot index", seq as u64)?)
        .bind(n("screenshot step", shot.step as u64)?)
        .bind(shot.action.as_str())
        .bind(shot.when.as_str())
        .bind(codec::ts(&shot.time))
        .bind(&shot.page)
        .bind(shot.path.as_deref().unwrap_or_default())
        .bind(i64::from(shot.width))
        .bind(i64::from(shot.height))
        .bind(n("screenshot size", shot.bytes)?)
        .bind(n("screenshot time", shot.capture_ms)?)
        .bind(shot.action_failed)
        .execute(&mut *tx)
        .await
        .map_err(self.db_err("record screenshot"))?;
        Ok(())
    }
}

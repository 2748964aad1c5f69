//! Rows to model types. Every decoder names the column it could not read.

use super::row::{
    get, get_enum, get_fail_on, get_failure, get_json, get_opt_ts, get_opt_u64, get_state, get_ts,
    get_u64,
};
use super::DbRow;
use crate::analysis::finding::{Code, Finding, Severity};
use crate::model::{
    CookieSource, CookieWrite, FrameCounts, PageError, RequestObs, RunStatus, RunStatusKind,
    StepOutcome, StepStatus, StorageWrite, StoredCookie, VisitStatus, VisitTimings,
};
use crate::store::codec::{self, DecodeResult};
use crate::store::{RunRecord, VisitCounts, VisitRecord};

/// `status` and `status_reason`, of a run or a fleet run.
fn decode_status(r: &DbRow) -> DecodeResult<RunStatus> {
    let kind: RunStatusKind = get_enum(r, "status", "run status")?;
    let reason: Option<String> = get(r, "status_reason")?;
    let reason = || reason.clone().unwrap_or_default();
    Ok(match kind {
        RunStatusKind::Running => RunStatus::Running,
        RunStatusKind::Complete => RunStatus::Complete,
        RunStatusKind::Incomplete => RunStatus::Incomplete(reason()),
        RunStatusKind::Interrupted => RunStatus::Interrupted(reason()),
    })
}

pub(super) fn decode_fleet_run(r: &DbRow) -> DecodeResult<crate::store::FleetRunRecord> {
    Ok(crate::store::FleetRunRecord {
        id: get(r, "id")?,
        name: get(r, "name")?,
        fleet_file: get(r, "fleet_file")?,
        started_at: get_ts(r, "started_at")?,
        finished_at: get_opt_ts(r, "finished_at")?,
        status: decode_status(r)?,
    })
}

pub(super) fn decode_run(r: &DbRow) -> DecodeResult<RunRecord> {
    let status = decode_status(r)?;
    Ok(RunRecord {
        id: get(r, "id")?,
        site: get(r, "site")?,
        scenario_file: get(r, "scenario_file")?,
        started_at: get_ts(r, "started_at")?,
        finished_at: get_opt_ts(r, "finished_at")?,
        status,
        fail_on: get_fail_on(r, "fail_on")?,
        scenario_digest: get(r, "scenario_digest")?,
        policy_digest: get(r, "policy_digest")?,
        // A database opened read-only at a schema before v14 has no such column.
        data_versions: sqlx::Row::try_get::<Option<String>, _>(r, "data_versions")
            .ok()
            .flatten(),
        // A database opened read-only at a schema before v10 has no such column.
        fleet_run: sqlx::Row::try_get::<Option<i64>, _>(r, "fleet_run_id")
            .ok()
            .flatten(),
        crawl: get::<Option<String>>(r, "crawl")?
            .map(|json| codec::parse_json("crawl", &json))
            .transpose()?,
        vantage: decode_vantage(r),
    })
}

/// A run's vantage: its stored settings, else its label alone, else `default` (a run
/// stored before schema 22, or a database opened read-only at an older schema).
fn decode_vantage(r: &DbRow) -> crate::model::vantage::Vantage {
    use crate::model::vantage::Vantage;
    let text = |col| {
        sqlx::Row::try_get::<Option<String>, _>(r, col)
            .ok()
            .flatten()
    };
    let label = text("vantage");
    text("vantage_settings")
        .and_then(|json| serde_json::from_str::<Vantage>(&json).ok())
        .filter(|v| label.as_deref().is_none_or(|l| l == v.label))
        .or_else(|| label.as_deref().map(Vantage::labelled))
        .unwrap_or_default()
}

pub(super) fn decode_visit(r: &DbRow) -> DecodeResult<VisitRecord> {
    let status: String = get(r, "status")?;
    let status = match status.as_str() {
        "complete" => VisitStatus::Complete,
        "incomplete" => VisitStatus::Incomplete(get_failure(r, "failure_kind", "reason")?),
        other => return Err(format!("column status: unknown visit status {other:?}")),
    };
    Ok(VisitRecord {
        id: get(r, "id")?,
        run_id: get(r, "run_id")?,
        scenario: get(r, "scenario")?,
        status,
        started_at: get_ts(r, "started_at")?,
        finished_at: get_ts(r, "finished_at")?,
        final_state: get_state(r, "final_")?,
        timings: VisitTimings {
            session_start_ms: get_u64(r, "session_start_ms")?,
            load_ms: get_u64(r, "load_ms")?,
            steps_ms: get_u64(r, "steps_ms")?,
            settle_ms: get_u64(r, "settle_ms")?,
            capture_ms: get_u64(r, "capture_ms")?,
            close_ms: get_u64(r, "close_ms")?,
            screenshot_ms: get_u64(r, "screenshot_ms")?,
            settles: get_json(r, "settles")?,
        },
        warnings: get_json(r, "warnings")?,
        counts: VisitCounts {
            steps: get_u64(r, "n_steps")?,
            requests: get_u64(r, "n_requests")?,
            cookie_writes: get_u64(r, "n_cookie_writes")?,
            cookies: get_u64(r, "n_cookies")?,
            storage_writes: get_u64(r, "n_storage_writes")?,
            page_errors: get_u64(r, "n_page_errors")?,
        },
        position: get_opt_u64(r, "position")?,
        third_party_requests: get_opt_u64(r, "third_party_requests")?,
        cmp: get_json(r, "cmp_actions")?,
        repetition: get_repetition(r, "repetition")?,
        login: get::<Option<String>>(r, "login")?
            .map(|json| codec::parse_json("login", &json))
            .transpose()?,
    })
}

pub(super) fn decode_step(r: &DbRow) -> DecodeResult<StepOutcome> {
    let status: String = get(r, "status")?;
    let status = match status.as_str() {
        "done" => StepStatus::Done,
        "failed" => StepStatus::Failed(get_failure(r, "failure_kind", "detail")?),
        "skipped" => StepStatus::Skipped,
        other => return Err(format!("column status: unknown step status {other:?}")),
    };
    let index = get_u64(r, "step_index")?;
    Ok(StepOutcome {
        index: usize::try_from(index)
            .map_err(|_| format!("column step_index: {index} is out of range"))?,
        description: get(r, "description")?,
        status,
        started_at: get_ts(r, "started_at")?,
        duration_ms: get_u64(r, "duration_ms")?,
    })
}

pub(super) fn decode_request(r: &DbRow) -> DecodeResult<RequestObs> {
    let status = get::<Option<i64>>(r, "http_status")?
        .map(|s| u16::try_from(s).map_err(|_| format!("column http_status: {s} is out of range")))
        .transpose()?;
    let count = |column: &str| -> DecodeResult<Option<u32>> {
        get::<Option<i64>>(r, column)?
            .map(|n| u32::try_from(n).map_err(|_| format!("column {column}: {n} is out of range")))
            .transpose()
    };
    let frames = match (count("frames_sent")?, count("frames_received")?) {
        (None, None) => None,
        (sent, received) => Some(FrameCounts {
            sent: sent.unwrap_or_default(),
            received: received.unwrap_or_default(),
        }),
    };
    Ok(RequestObs {
        url: get(r, "url")?,
        method: get(r, "method")?,
        resource_type: get(r, "resource_type")?,
        initiator: get(r, "initiator")?,
        frame_id: get(r, "frame_id")?,
        target: get_enum(r, "target", "target kind")?,
        status,
        error: get(r, "error")?,
        cancelled: get(r, "cancelled")?,
        frames,
        cause: None,
        time: get_ts(r, "time")?,
        page: get(r, "page")?,
        state: get_state(r, "")?,
        http: get::<Option<String>>(r, "http")?
            .map(|s| codec::parse_json("http", &s).map(Box::new))
            .transpose()?,
    })
}

pub(super) fn decode_cookie_write(r: &DbRow) -> DecodeResult<CookieWrite> {
    let kind: String = get(r, "source_kind")?;
    let url: String = get(r, "source_url")?;
    let source = match kind.as_str() {
        "header" => CookieSource::Header { request_url: url },
        "script" => CookieSource::Script { document_url: url },
        other => {
            return Err(format!(
                "column source_kind: unknown cookie source {other:?}"
            ))
        }
    };
    Ok(CookieWrite {
        name: get(r, "name")?,
        domain: get(r, "domain")?,
        path: get(r, "path")?,
        value_hash: get(r, "value_hash")?,
        requested_lifetime_secs: get(r, "requested_lifetime_secs")?,
        expiry_unparsed: get(r, "expiry_unparsed")?,
        source,
        blocked_reasons: get_json(r, "blocked_reasons")?,
        time: get_ts(r, "time")?,
        page: get(r, "page")?,
        state: get_state(r, "")?,
    })
}

pub(super) fn decode_cookie(r: &DbRow) -> DecodeResult<StoredCookie> {
    Ok(StoredCookie {
        name: get(r, "name")?,
        domain: get(r, "domain")?,
        path: get(r, "path")?,
        value_hash: get(r, "value_hash")?,
        expires: get_opt_ts(r, "expires")?,
        secure: get(r, "secure")?,
        http_only: get(r, "http_only")?,
        same_site: get(r, "same_site")?,
        partition_key: get(r, "partition_key")?,
        observed_at: get_ts(r, "observed_at")?,
        state: get_state(r, "")?,
    })
}

pub(super) fn decode_storage_write(r: &DbRow) -> DecodeResult<StorageWrite> {
    Ok(StorageWrite {
        area: get_enum(r, "area", "storage area")?,
        origin: get(r, "origin")?,
        key: get(r, "storage_key")?,
        value_hash: get(r, "value_hash")?,
        time: get_ts(r, "time")?,
        page: get(r, "page")?,
        state: get_state(r, "")?,
    })
}

pub(super) fn decode_signal(r: &DbRow) -> DecodeResult<crate::signals::SignalObs> {
    Ok(crate::signals::SignalObs {
        time: get_ts(r, "time")?,
        page: get(r, "page")?,
        state: get_state(r, "")?,
        source: get_json(r, "source")?,
        data: get_json(r, "data")?,
    })
}

pub(super) fn decode_screenshot(r: &DbRow) -> DecodeResult<crate::model::Screenshot> {
    use crate::model::screenshot::ShotWhen;
    use crate::model::ConsentAction;
    let action: String = get(r, "action")?;
    let when: String = get(r, "phase_when")?;
    let u32_of = |col: &str| -> DecodeResult<u32> {
        u32::try_from(get_u64(r, col)?).map_err(|_| format!("column {col}: out of range"))
    };
    Ok(crate::model::Screenshot {
        step: usize::try_from(get_u64(r, "step_index")?)
            .map_err(|_| "column step_index: out of range".to_string())?,
        action: ConsentAction::parse(&action)
            .ok_or_else(|| format!("column action: unknown consent action {action:?}"))?,
        when: ShotWhen::parse(&when)
            .ok_or_else(|| format!("column phase_when: unknown value {when:?}"))?,
        time: get_ts(r, "taken_at")?,
        page: get(r, "page")?,
        width: u32_of("width")?,
        height: u32_of("height")?,
        bytes: get_u64(r, "bytes")?,
        capture_ms: get_u64(r, "capture_ms")?,
        action_failed: get(r, "action_failed")?,
        path: Some(get(r, "path")?),
        png: Vec::new(),
    })
}

pub(super) fn decode_finding(r: &DbRow) -> DecodeResult<Finding> {
    let code: String = get(r, "code")?;
    let severity: String = get(r, "severity")?;
    let occurrences: i64 = get(r, "occurrences")?;
    Ok(Finding {
        code: Code::parse(&code).ok_or_else(|| format!("column code: unknown code {code:?}"))?,
        severity: Severity::parse(&severity)
            .ok_or_else(|| format!("column severity: unknown severity {severity:?}"))?,
        site: get(r, "site")?,
        scenario: get(r, "scenario")?,
        subject: get(r, "subject")?,
        vendor: get(r, "vendor")?,
        message: get(r, "message")?,
        rule: get(r, "rule")?,
        evidence: super::row::get_evidence(r)?,
        occurrences: u32::try_from(occurrences)
            .map_err(|_| format!("column occurrences: {occurrences} is out of range"))?,
        repeat: None,
        fingerprint: get(r, "fingerprint")?,
    })
}

pub(super) fn decode_page_error(r: &DbRow) -> DecodeResult<PageError> {
    Ok(PageError {
        message: get(r, "message")?,
        source: get(r, "source")?,
        time: get_ts(r, "time")?,
        page: get(r, "page")?,
    })
}

/// A visit's repetition (1 to N): a value out of range is corrupt.
pub(super) fn get_repetition(r: &DbRow, column: &str) -> DecodeResult<u32> {
    let n: i64 = get(r, column)?;
    u32::try_from(n)
        .ok()
        .filter(|n| *n >= 1)
        .ok_or_else(|| format!("column {column}: repetition {n} is out of range"))
}

//! Column values out of the back end's rows, each error naming its column.

use super::{DbKind, DbRow};
use crate::model::{ConsentState, Failure, FailureKind};
use crate::outcome::FailOn;
use crate::store::codec::{self, DecodeResult};
use chrono::{DateTime, Utc};
use sqlx::Row;

/// A column value, with the column named in the error.
pub(super) fn get<'r, T>(row: &'r DbRow, col: &str) -> DecodeResult<T>
where
    T: sqlx::Decode<'r, DbKind> + sqlx::Type<DbKind>,
{
    row.try_get(col).map_err(|e| format!("column {col}: {e}"))
}

pub(super) fn get_ts(row: &DbRow, col: &str) -> DecodeResult<DateTime<Utc>> {
    let s: String = get(row, col)?;
    codec::parse_ts(col, &s)
}

pub(super) fn get_opt_ts(row: &DbRow, col: &str) -> DecodeResult<Option<DateTime<Utc>>> {
    let s: Option<String> = get(row, col)?;
    s.map(|s| codec::parse_ts(col, &s)).transpose()
}

/// An unsigned count or duration stored as INTEGER.
pub(super) fn get_u64(row: &DbRow, col: &str) -> DecodeResult<u64> {
    let v: i64 = get(row, col)?;
    u64::try_from(v).map_err(|_| format!("column {col}: negative value {v}"))
}

/// An optional unsigned count.
pub(super) fn get_opt_u64(row: &DbRow, col: &str) -> DecodeResult<Option<u64>> {
    let v: Option<i64> = get(row, col)?;
    v.map(|v| u64::try_from(v).map_err(|_| format!("column {col}: negative value {v}")))
        .transpose()
}

pub(super) fn get_json<T: serde::de::DeserializeOwned>(row: &DbRow, col: &str) -> DecodeResult<T> {
    let s: String = get(row, col)?;
    codec::parse_json(col, &s)
}

/// A `finding_view` row's evidence, each item's scenario restored (schema 17 leaves out
/// the finding's own; `codec::stored_evidence`).
pub(super) fn get_evidence(row: &DbRow) -> DecodeResult<Vec<crate::analysis::Evidence>> {
    let s: String = get(row, "evidence")?;
    let scenario: Option<String> = get(row, "scenario")?;
    codec::parse_evidence("evidence", &s, scenario.as_deref())
}

/// An enumeration stored by its stable name; `what` names it in the error.
pub(super) fn get_enum<T: std::str::FromStr>(
    row: &DbRow,
    col: &str,
    what: &str,
) -> DecodeResult<T> {
    let s: String = get(row, col)?;
    codec::parse_enum(col, what, &s)
}

pub(super) fn get_fail_on(row: &DbRow, col: &str) -> DecodeResult<FailOn> {
    codec::parse_fail_on(col, get::<Option<String>>(row, col)?.as_deref())
}

/// A failure: its kind (NULL before schema v2 reads as `other`) and reason.
pub(super) fn get_failure(row: &DbRow, kind_col: &str, reason_col: &str) -> DecodeResult<Failure> {
    let kind = match get::<Option<String>>(row, kind_col)? {
        None => FailureKind::Other,
        Some(k) => codec::parse_enum(kind_col, "failure kind", &k)?,
    };
    let reason = get::<Option<String>>(row, reason_col)?.unwrap_or_default();
    Ok(Failure { kind, reason })
}

/// A consent state from `<prefix>consent`, `<prefix>li_objected`, `<prefix>actions`.
pub(super) fn get_state(row: &DbRow, prefix: &str) -> DecodeResult<ConsentState> {
    let actions_col = format!("{prefix}actions");
    let actions: String = get(row, &actions_col)?;
    Ok(ConsentState {
        consent: get_enum(row, &format!("{prefix}consent"), "consent choice")?,
        li_objected: get(row, &format!("{prefix}li_objected"))?,
        actions: codec::parse_actions(&actions_col, &actions)?,
    })
}

//! Conversions between the model and column values. Encoding is infallible except for
//! range checks; decoding returns a description of what is wrong, which the caller
//! turns into [`super::StoreError::Corrupt`] naming the database.

use crate::model::{ConsentAction, ConsentChoice, ConsentState, Failure, FailureKind, TargetKind};
use crate::outcome::FailOn;
use chrono::{DateTime, SecondsFormat, Utc};
use sqlx::sqlite::{Sqlite, SqliteRow};
use sqlx::Row;

/// Why a stored value could not be read back.
pub(super) type DecodeResult<T> = Result<T, String>;

/// RFC 3339, UTC, exactly nine fractional digits and `Z`: fixed width, so text order
/// is time order, and nanosecond-exact round trips.
pub(super) fn ts(t: &DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Nanos, true)
}

pub(super) fn parse_ts(col: &str, s: &str) -> DecodeResult<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(s)
        .map(|d| d.with_timezone(&Utc))
        .map_err(|e| format!("column {col}: invalid timestamp {s:?}: {e}"))
}

/// A column value, with the column named in the error.
pub(super) fn get<'r, T>(row: &'r SqliteRow, col: &str) -> DecodeResult<T>
where
    T: sqlx::Decode<'r, Sqlite> + sqlx::Type<Sqlite>,
{
    row.try_get(col).map_err(|e| format!("column {col}: {e}"))
}

pub(super) fn get_ts(row: &SqliteRow, col: &str) -> DecodeResult<DateTime<Utc>> {
    let s: String = get(row, col)?;
    parse_ts(col, &s)
}

pub(super) fn get_opt_ts(row: &SqliteRow, col: &str) -> DecodeResult<Option<DateTime<Utc>>> {
    let s: Option<String> = get(row, col)?;
    s.map(|s| parse_ts(col, &s)).transpose()
}

/// An unsigned count or duration stored as INTEGER.
pub(super) fn get_u64(row: &SqliteRow, col: &str) -> DecodeResult<u64> {
    let v: i64 = get(row, col)?;
    u64::try_from(v).map_err(|_| format!("column {col}: negative value {v}"))
}

pub(super) fn get_json<T: serde::de::DeserializeOwned>(
    row: &SqliteRow,
    col: &str,
) -> DecodeResult<T> {
    let s: String = get(row, col)?;
    serde_json::from_str(&s).map_err(|e| format!("column {col}: invalid JSON {s:?}: {e}"))
}

pub(super) fn json<T: serde::Serialize + ?Sized>(what: &str, v: &T) -> Result<String, String> {
    serde_json::to_string(v).map_err(|e| format!("{what}: cannot serialise to JSON: {e}"))
}

/// `--fail-on` as stored: `never`, a severity, or `new:SEVERITY`.
pub(super) fn fail_on_str(f: FailOn) -> String {
    f.as_string()
}

/// `fail_on` read back; NULL (runs stored before schema v2) reads as the default `high`.
pub(super) fn get_fail_on(row: &SqliteRow, col: &str) -> DecodeResult<FailOn> {
    match get::<Option<String>>(row, col)?.as_deref() {
        None => Ok(FailOn::DEFAULT),
        Some(s) => FailOn::parse(s).map_err(|e| format!("column {col}: {e}")),
    }
}

/// A failure: its kind (NULL before schema v2 reads as `other`) and reason.
pub(super) fn get_failure(
    row: &SqliteRow,
    kind_col: &str,
    reason_col: &str,
) -> DecodeResult<Failure> {
    let kind = match get::<Option<String>>(row, kind_col)? {
        None => FailureKind::Other,
        Some(k) => k
            .parse::<FailureKind>()
            .map_err(|_| format!("column {kind_col}: unknown failure kind {k:?}"))?,
    };
    let reason = get::<Option<String>>(row, reason_col)?.unwrap_or_default();
    Ok(Failure { kind, reason })
}

/// An optional unsigned count.
pub(super) fn get_opt_u64(row: &SqliteRow, col: &str) -> DecodeResult<Option<u64>> {
    let v: Option<i64> = get(row, col)?;
    v.map(|v| u64::try_from(v).map_err(|_| format!("column {col}: negative value {v}")))
        .transpose()
}

pub(super) fn consent_str(c: ConsentChoice) -> &'static str {
    match c {
        ConsentChoice::Undecided => "undecided",
        ConsentChoice::Granted => "granted",
        ConsentChoice::Denied => "denied",
    }
}

fn parse_consent(col: &str, s: &str) -> DecodeResult<ConsentChoice> {
    match s {
        "undecided" => Ok(ConsentChoice::Undecided),
        "granted" => Ok(ConsentChoice::Granted),
        "denied" => Ok(ConsentChoice::Denied),
        _ => Err(format!("column {col}: unknown consent choice {s:?}")),
    }
}

/// The actions column: a JSON array of action names (`["accept_all","object_li"]`).
pub(super) fn actions_json(actions: &[ConsentAction]) -> Result<String, String> {
    let names: Vec<&str> = actions.iter().map(|a| a.as_str()).collect();
    json("consent actions", &names)
}

/// A consent state from `<prefix>consent`, `<prefix>li_objected`, `<prefix>actions`.
pub(super) fn get_state(row: &SqliteRow, prefix: &str) -> DecodeResult<ConsentState> {
    let consent_col = format!("{prefix}consent");
    let li_col = format!("{prefix}li_objected");
    let actions_col = format!("{prefix}actions");
    let consent: String = get(row, &consent_col)?;
    let names: Vec<String> = get_json(row, &actions_col)?;
    let actions = names
        .iter()
        .map(|n| {
            ConsentAction::parse(n)
                .ok_or_else(|| format!("column {actions_col}: unknown consent action {n:?}"))
        })
        .collect::<DecodeResult<Vec<_>>>()?;
    Ok(ConsentState {
        consent: parse_consent(&consent_col, &consent)?,
        li_objected: get(row, &li_col)?,
        actions,
    })
}

pub(super) fn target_str(t: TargetKind) -> &'static str {
    match t {
        TargetKind::Page => "page",
        TargetKind::Iframe => "iframe",
        TargetKind::Worker => "worker",
        TargetKind::ServiceWorker => "service_worker",
        TargetKind::SharedWorker => "shared_worker",
        TargetKind::Browser => "browser",
        TargetKind::Other => "other",
    }
}

pub(super) fn parse_target(s: &str) -> DecodeResult<TargetKind> {
    Ok(match s {
        "page" => TargetKind::Page,
        "iframe" => TargetKind::Iframe,
        "worker" => TargetKind::Worker,
        "service_worker" => TargetKind::ServiceWorker,
        "shared_worker" => TargetKind::SharedWorker,
        "browser" => TargetKind::Browser,
        "other" => TargetKind::Other,
        _ => return Err(format!("column target: unknown target kind {s:?}")),
    })
}

/// Converts an unsigned model value to INTEGER, or says which value is out of range.
pub(super) fn to_i64(what: &str, v: u64) -> Result<i64, String> {
    i64::try_from(v).map_err(|_| format!("{what} {v} does not fit a 64-bit signed integer"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn timestamps_are_fixed_width_and_exact() {
        let a = Utc.with_ymd_and_hms(2025, 1, 31, 9, 15, 2).unwrap();
        let b = a + chrono::Duration::nanoseconds(123_456_789);
        assert_eq!(ts(&a), "2025-01-31T09:15:02.000000000Z");
        assert_eq!(ts(&b), "2025-01-31T09:15:02.123456789Z");
        assert!(ts(&a) < ts(&b));
        assert_eq!(parse_ts("t", &ts(&b)).unwrap(), b);
        assert!(parse_ts("t", "yesterday").is_err());
    }

    #[test]
    fn enum_names_match_serde() {
        for t in [
            TargetKind::Page,
            TargetKind::Iframe,
            TargetKind::Worker,
            TargetKind::ServiceWorker,
            TargetKind::SharedWorker,
            TargetKind::Browser,
            TargetKind::Other,
        ] {
            assert_eq!(
                serde_json::to_string(&t).unwrap(),
                format!("\"{}\"", target_str(t))
            );
            assert_eq!(parse_target(target_str(t)).unwrap(), t);
        }
        for c in [
            ConsentChoice::Undecided,
            ConsentChoice::Granted,
            ConsentChoice::Denied,
        ] {
            assert_eq!(
                serde_json::to_string(&c).unwrap(),
                format!("\"{}\"", consent_str(c))
            );
            assert_eq!(parse_consent("c", consent_str(c)).unwrap(), c);
        }
    }

    #[test]
    fn out_of_range_is_reported() {
        assert_eq!(to_i64("x", 5), Ok(5));
        assert!(to_i64("duration", u64::MAX)
            .unwrap_err()
            .contains("duration"));
    }
}

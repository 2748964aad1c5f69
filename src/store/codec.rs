//! Conversions between the model and column values that every back end shares:
//! timestamps as fixed-width text, lists as JSON, unsigned values range-checked into
//! INTEGER, enumerations by their stable names ([`Col`] is one value to bind). Encoding
//! is infallible except for range checks; decoding returns a description of what is
//! wrong, which the back end turns into [`super::StoreError::Corrupt`] naming the
//! database.

use crate::model::{ConsentAction, ConsentChoice, TargetKind};
use crate::outcome::FailOn;
use chrono::{DateTime, SecondsFormat, Utc};
use std::borrow::Cow;

/// Why a stored value could not be read back.
pub(super) type DecodeResult<T> = Result<T, String>;

/// One value of a row to insert: INTEGER, BOOLEAN or TEXT, each possibly NULL.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Col<'a> {
    Int(Option<i64>),
    Bool(bool),
    Text(Option<Cow<'a, str>>),
}

impl From<i64> for Col<'_> {
    fn from(v: i64) -> Self {
        Col::Int(Some(v))
    }
}
impl From<Option<i64>> for Col<'_> {
    fn from(v: Option<i64>) -> Self {
        Col::Int(v)
    }
}
impl From<u32> for Col<'_> {
    fn from(v: u32) -> Self {
        Col::Int(Some(i64::from(v)))
    }
}
impl From<bool> for Col<'_> {
    fn from(v: bool) -> Self {
        Col::Bool(v)
    }
}
impl<'a> From<&'a str> for Col<'a> {
    fn from(v: &'a str) -> Self {
        Col::Text(Some(Cow::Borrowed(v)))
    }
}
impl<'a> From<Option<&'a str>> for Col<'a> {
    fn from(v: Option<&'a str>) -> Self {
        Col::Text(v.map(Cow::Borrowed))
    }
}
impl From<String> for Col<'_> {
    fn from(v: String) -> Self {
        Col::Text(Some(Cow::Owned(v)))
    }
}
impl From<Option<String>> for Col<'_> {
    fn from(v: Option<String>) -> Self {
        Col::Text(v.map(Cow::Owned))
    }
}

/// Where and what an back end's `insert_rows` writes: the statement up to the column list, and
/// the columns, in the order each row gives its values.
pub(super) struct Insert {
    /// `INSERT INTO table` (or `INSERT OR IGNORE INTO table`).
    pub into: &'static str,
    pub columns: &'static [&'static str],
}

/// A fresh value-hashing key: 32 bytes from the OS's random source, as lowercase hex
/// (how `meta.hash_key` stores it).
pub(super) fn random_key_hex() -> std::io::Result<String> {
    use std::io::Read;
    let mut bytes = [0u8; 32];
    std::fs::File::open("/dev/urandom").and_then(|mut f| f.read_exact(&mut bytes))?;
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
}

/// `meta.hash_key` read back.
pub(super) fn parse_key_hex(hex: &str) -> DecodeResult<Vec<u8>> {
    (0..hex.len() / 2)
        .map(|i| u8::from_str_radix(hex.get(2 * i..2 * i + 2).unwrap_or("zz"), 16))
        .collect::<Result<Vec<u8>, _>>()
        .map_err(|_| "meta.hash_key is not hex".to_string())
}

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

pub(super) fn json<T: serde::Serialize + ?Sized>(what: &str, v: &T) -> Result<String, String> {
    serde_json::to_string(v).map_err(|e| format!("{what}: cannot serialise to JSON: {e}"))
}

/// A finding's evidence as stored: without the members that are `null` (an absent
/// optional field reads back as `None`), and without `scenario` where it is the
/// finding's own (schema 17; [`parse_evidence`] puts it back). Same value, fewer bytes.
pub(super) fn stored_evidence(
    evidence: &[crate::analysis::Evidence],
    scenario: Option<&str>,
) -> Result<serde_json::Value, String> {
    fn strip(v: &mut serde_json::Value) {
        match v {
            serde_json::Value::Object(m) => {
                m.retain(|_, x| !x.is_null());
                m.values_mut().for_each(strip);
            }
            serde_json::Value::Array(xs) => xs.iter_mut().for_each(strip),
            _ => {}
        }
    }
    let mut value = serde_json::to_value(evidence)
        .map_err(|e| format!("finding evidence: cannot serialise to JSON: {e}"))?;
    strip(&mut value);
    if let (Some(own), serde_json::Value::Array(items)) = (scenario, &mut value) {
        for item in items.iter_mut().filter_map(|i| i.as_object_mut()) {
            if item.get("scenario").and_then(|s| s.as_str()) == Some(own) {
                item.remove("scenario");
            }
        }
    }
    Ok(value)
}

/// Evidence stored by [`stored_evidence`] (or before schema 17, with every `scenario`),
/// read back: an item without `scenario` is of the finding's own `scenario`.
pub(super) fn parse_evidence(
    col: &str,
    s: &str,
    scenario: Option<&str>,
) -> DecodeResult<Vec<crate::analysis::Evidence>> {
    let mut value: serde_json::Value = parse_json(col, s)?;
    if let serde_json::Value::Array(items) = &mut value {
        for item in items.iter_mut().filter_map(|i| i.as_object_mut()) {
            if !item.contains_key("scenario") {
                let own = scenario.ok_or_else(|| {
                    format!("column {col}: an item without a scenario, of a finding without one")
                })?;
                item.insert("scenario".into(), own.into());
            }
        }
    }
    serde_json::from_value(value).map_err(|e| format!("column {col}: invalid evidence {s:?}: {e}"))
}

/// A run's vendor sums as stored (`run_vendor_sums.sums`, schema 17): a JSON array of
/// `[vendor, requests, cookie_writes, storage_writes, unauthorized, objected,
/// objected_observed]`, in the order given (the writer's: by vendor).
pub(super) fn vendor_sums_json(sums: &[crate::store::RunVendor]) -> String {
    let rows: Vec<serde_json::Value> = sums
        .iter()
        .map(|v| {
            let a = &v.activity;
            serde_json::json!([
                a.vendor,
                a.requests,
                a.cookie_writes,
                a.storage_writes,
                a.unauthorized,
                a.objected,
                v.objected_observed
            ])
        })
        .collect();
    serde_json::Value::Array(rows).to_string()
}

/// [`vendor_sums_json`] read back, sorted by vendor.
pub(super) fn parse_vendor_sums(col: &str, s: &str) -> DecodeResult<Vec<crate::store::RunVendor>> {
    type Row = (String, u32, u32, u32, u32, u32, u32);
    let rows: Vec<Row> = parse_json(col, s)?;
    let mut out: Vec<crate::store::RunVendor> = rows
        .into_iter()
        .map(
            |(
                vendor,
                requests,
                cookie_writes,
                storage_writes,
                unauthorized,
                objected,
                objected_observed,
            )| {
                crate::store::RunVendor {
                    activity: crate::inventory::VendorActivity {
                        vendor,
                        requests,
                        cookie_writes,
                        storage_writes,
                        unauthorized,
                        objected,
                    },
                    objected_observed,
                }
            },
        )
        .collect();
    out.sort_by(|a, b| a.activity.vendor.cmp(&b.activity.vendor));
    Ok(out)
}

pub(super) fn parse_json<T: serde::de::DeserializeOwned>(col: &str, s: &str) -> DecodeResult<T> {
    serde_json::from_str(s).map_err(|e| format!("column {col}: invalid JSON {s:?}: {e}"))
}

/// `--fail-on` as stored: `never`, a severity, or `new:SEVERITY`.
pub(super) fn fail_on_str(f: FailOn) -> String {
    f.as_string()
}

/// `fail_on` read back; NULL (runs stored before schema v2) reads as the default `high`.
pub(super) fn parse_fail_on(col: &str, s: Option<&str>) -> DecodeResult<FailOn> {
    match s {
        None => Ok(FailOn::DEFAULT),
        Some(s) => FailOn::parse(s).map_err(|e| format!("column {col}: {e}")),
    }
}

/// An enumeration by its stable name (`EnumString`), or what is wrong naming the column.
pub(super) fn parse_enum<T: std::str::FromStr>(col: &str, what: &str, s: &str) -> DecodeResult<T> {
    s.parse()
        .map_err(|_| format!("column {col}: unknown {what} {s:?}"))
}

pub(super) fn consent_str(c: ConsentChoice) -> &'static str {
    c.into()
}

pub(super) fn target_str(t: TargetKind) -> &'static str {
    t.into()
}

/// The actions column: a JSON array of action names (`["accept_all","object_li"]`).
pub(super) fn actions_json(actions: &[ConsentAction]) -> Result<String, String> {
    let names: Vec<&str> = actions.iter().map(|a| a.as_str()).collect();
    json("consent actions", &names)
}

/// The actions column read back.
pub(super) fn parse_actions(col: &str, s: &str) -> DecodeResult<Vec<ConsentAction>> {
    let names: Vec<String> = parse_json(col, s)?;
    names
        .iter()
        .map(|n| {
            ConsentAction::parse(n)
                .ok_or_else(|| format!("column {col}: unknown consent action {n:?}"))
        })
        .collect()
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
    fn stored_evidence_reads_back_the_same() {
        let e = |scenario: &str| crate::analysis::Evidence {
            scenario: scenario.into(),
            page: "https://shop.example/".into(),
            request_url: None,
            cookie: Some("_ga@shop.example".into()),
            time: Utc.with_ymd_and_hms(2025, 1, 31, 9, 15, 2).unwrap(),
            phase: "after-accept_all".into(),
            detail: None,
            logged_in: false,
            known: None,
        };
        let items = vec![e("accept_all"), e("reject_all")];
        let full = json("e", &items).unwrap();
        assert!(full.contains("\"request_url\":null"), "{full}");
        // A visit's finding: its own scenario is left out, another one's kept.
        let own = stored_evidence(&items, Some("accept_all"))
            .unwrap()
            .to_string();
        assert!(!own.contains("null") && own.len() < full.len(), "{own}");
        assert_eq!(own.matches("\"scenario\"").count(), 1, "{own}");
        let back = parse_evidence("evidence", &own, Some("accept_all")).unwrap();
        assert_eq!(back, items);
        // A run's finding (no scenario of its own) keeps every item's.
        let run = stored_evidence(&items, None).unwrap().to_string();
        assert_eq!(run.matches("\"scenario\"").count(), 2, "{run}");
        assert_eq!(parse_evidence("evidence", &run, None).unwrap(), items);
        // Stored before schema 17: every item has its scenario.
        assert_eq!(parse_evidence("evidence", &full, Some("x")).unwrap(), items);
        // An item without one, in a finding without one: an error naming the column.
        let e = parse_evidence("evidence", &own, None).unwrap_err();
        assert!(e.contains("column evidence"), "{e}");
    }

    #[test]
    fn evidence_reads_back_with_and_without_what_is_known() {
        // Evidence stored before `known` existed: the knowledge's text in the detail,
        // no `known` member. It reads back, with nothing known.
        let old = r#"[{"page":"https://shop.example/","request_url":"https://bat.bing.com/action/0","time":"2025-01-31T09:15:02Z","phase":"before-choice","detail":"GET Image, status 200; known: Bing Ads, category ad, by pattern *.bing.com in third-party-web 0.30.0"}]"#;
        let back = parse_evidence("evidence", old, Some("reject_all")).unwrap();
        assert_eq!(back.len(), 1);
        assert_eq!(back[0].scenario, "reject_all");
        assert_eq!(back[0].known, None);
        assert!(back[0]
            .detail
            .as_deref()
            .is_some_and(|d| d.ends_with("0.30.0")));
        // Stored now: the field, structured; a retention of `None` left out, read back.
        let known = crate::knowledge::Known {
            name: "Bing Ads".into(),
            company: "Microsoft".into(),
            category: "ad".into(),
            kind: crate::knowledge::MatchKind::Pattern,
            pattern: "*.bing.com".into(),
            source: "third-party-web 0.30.0".into(),
            retention: None,
        };
        let mut items = back.clone();
        items[0].known = Some(known.clone());
        items[0].detail = Some("GET Image, status 200".into());
        let stored = stored_evidence(&items, Some("reject_all")).unwrap();
        let member = &stored[0]["known"];
        assert_eq!(member["kind"], "pattern", "{stored}");
        assert_eq!(member["company"], "Microsoft", "{stored}");
        assert!(member.get("retention").is_none(), "{stored}");
        let again = parse_evidence("evidence", &stored.to_string(), Some("reject_all")).unwrap();
        assert_eq!(again, items);
        assert_eq!(again[0].known.as_ref(), Some(&known));
        // Unknown: no member at all.
        let plain = stored_evidence(&back, Some("reject_all")).unwrap();
        assert!(plain[0].get("known").is_none(), "{plain}");
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
            assert_eq!(
                parse_enum::<TargetKind>("c", "target", target_str(t)),
                Ok(t)
            );
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
            assert_eq!(
                parse_enum::<ConsentChoice>("c", "choice", consent_str(c)),
                Ok(c)
            );
        }
        assert_eq!(
            parse_enum::<TargetKind>("target", "target kind", "tab"),
            Err("column target: unknown target kind \"tab\"".to_string())
        );
    }

    #[test]
    fn out_of_range_is_reported() {
        assert_eq!(to_i64("x", 5), Ok(5));
        assert!(to_i64("duration", u64::MAX)
            .unwrap_err()
            .contains("duration"));
    }
}

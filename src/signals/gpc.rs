//! Global Privacy Control: what the visit sent and what the site says about it
//! (docs/signals.md#global-privacy-control).
//!
//! - [`GpcSignal::Sent`] (source [`super::SignalSource::Visit`]): a scenario with
//!   `gpc = true` ran with Chromium's own GPC switched on; the capture counted the
//!   requests that carried `Sec-GPC: 1` (from the browser-wide interception, which sees
//!   every frame's and worker's requests) and read `navigator.globalPrivacyControl` in
//!   every document, before its scripts (not in workers: see `capture::recorder::GpcTally`).
//! - [`GpcSignal::WellKnown`] (source [`super::SignalSource::WellKnown`]): the site's
//!   `/.well-known/gpc.json`, fetched through the browser at the end of a GPC visit.

use super::contain::{contained, too_long};

/// The well-known resource (GPC specification, section 3.4).
pub const WELL_KNOWN_PATH: &str = "/.well-known/gpc.json";

pub use crate::model::gpc::*;

/// Read a `/.well-known/gpc.json` response (GPC specification, section 3.4): a JSON
/// object whose `gpc` member is a boolean, and an optional `lastUpdate` string (a date,
/// `YYYY-MM-DD`). A status other than 2xx is absent; anything else is malformed, with
/// the reason (a JSON syntax error names its line and column).
pub fn parse_well_known(url: &str, status: Option<u16>, body: &str) -> GpcWellKnown {
    let outcome = match status {
        Some(s) if !(200..300).contains(&s) => WellKnownOutcome::Absent,
        None => WellKnownOutcome::Unreachable {
            error: "no response".into(),
        },
        Some(_) => read_body(body),
    };
    GpcWellKnown {
        url: url.to_string(),
        status,
        outcome,
    }
}

/// Largest `gpc.json` body read, in bytes (larger: malformed, "too long").
/// Why 16 KiB: the resource is one small object (`{"gpc": true, "lastUpdate":
/// "2026-11-01"}`, 40 bytes); 16 KiB is hundreds of times that and still a trivial parse.
/// serde_json's own recursion limit (128) bounds nesting.
pub const MAX_WELL_KNOWN_BODY: usize = 16 * 1024;

fn read_body(body: &str) -> WellKnownOutcome {
    let malformed = |error: String| WellKnownOutcome::Malformed { error };
    if body.len() > MAX_WELL_KNOWN_BODY {
        return malformed(too_long(body.len(), MAX_WELL_KNOWN_BODY));
    }
    // serde_json is not known to panic; contained all the same, as every decoder is.
    contained("gpc.json reader", || read_object(body)).unwrap_or_else(malformed)
}

fn read_object(body: &str) -> WellKnownOutcome {
    let malformed = |error: String| WellKnownOutcome::Malformed { error };
    let value: serde_json::Value = match serde_json::from_str(body) {
        Ok(v) => v,
        Err(e) => return malformed(format!("not JSON: {e}")),
    };
    let Some(obj) = value.as_object() else {
        return malformed("not a JSON object".into());
    };
    let gpc = match obj.get("gpc") {
        Some(serde_json::Value::Bool(b)) => *b,
        Some(other) => return malformed(format!("`gpc` is {other}, not a boolean")),
        None => return malformed("no `gpc` member".into()),
    };
    let last_update = match obj.get("lastUpdate") {
        None => None,
        Some(serde_json::Value::String(s)) if is_date(s) => Some(s.clone()),
        Some(other) => {
            return malformed(format!(
                "`lastUpdate` is {}, not a date (YYYY-MM-DD)",
                crate::text::clip_for_evidence(&other.to_string())
            ))
        }
    };
    WellKnownOutcome::Present { gpc, last_update }
}

/// `YYYY-MM-DD`, or a full ISO 8601 date-time starting with one.
fn is_date(s: &str) -> bool {
    crate::text::starts_with_iso_date(s)
        && s.get(..10)
            .is_some_and(|d| chrono::NaiveDate::parse_from_str(d, "%Y-%m-%d").is_ok())
        && (s.len() == 10 || s.as_bytes().get(10) == Some(&b'T'))
}

#[cfg(test)]
mod tests {
    use super::*;

    const URL: &str = "https://www.example.test/.well-known/gpc.json";

    #[test]
    fn well_known_present_absent_malformed() {
        let w = parse_well_known(
            URL,
            Some(200),
            r#"{"gpc": true, "lastUpdate": "2026-11-01"}"#,
        );
        assert_eq!(
            w.outcome,
            WellKnownOutcome::Present {
                gpc: true,
                last_update: Some("2026-11-01".into())
            }
        );
        let w = parse_well_known(URL, Some(200), r#"{"gpc": false}"#);
        assert_eq!(
            w.outcome,
            WellKnownOutcome::Present {
                gpc: false,
                last_update: None
            }
        );
        assert_eq!(
            parse_well_known(URL, Some(404), "not found").outcome,
            WellKnownOutcome::Absent
        );
        let bad = |body: &str| match parse_well_known(URL, Some(200), body).outcome {
            WellKnownOutcome::Malformed { error } => error,
            other => panic!("{body}: {other:?}"),
        };
        assert!(
            bad("{\"gpc\": tru}").contains("line 1 column"),
            "{}",
            bad("{\"gpc\": tru}")
        );
        assert!(bad("[true]").contains("not a JSON object"));
        assert!(bad("{\"gpc\": \"true\"}").contains("not a boolean"));
        assert!(bad("{}").contains("no `gpc`"));
        assert!(bad(r#"{"gpc": true, "lastUpdate": "yesterday"}"#).contains("not a date"));
        assert!(matches!(
            parse_well_known(URL, None, "").outcome,
            WellKnownOutcome::Unreachable { .. }
        ));
    }

    #[test]
    fn huge_or_deep_bodies_are_malformed_not_a_crash() {
        let body = format!(
            r#"{{"gpc": true, "pad": "{}"}}"#,
            "x".repeat(MAX_WELL_KNOWN_BODY)
        );
        assert_eq!(
            parse_well_known(URL, Some(200), &body).outcome,
            WellKnownOutcome::Malformed {
                error: format!("too long ({} bytes, the limit is 16384)", body.len())
            }
        );
        // Nesting past serde_json's recursion limit, within the size limit.
        let deep = format!("{}{}", "[".repeat(5000), "]".repeat(5000));
        match parse_well_known(URL, Some(200), &deep).outcome {
            WellKnownOutcome::Malformed { error } => {
                assert!(error.contains("recursion limit"), "{error}")
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn sent_counts_and_summary() {
        let s = GpcSent {
            mechanism: "x".into(),
            requests: 3,
            with_header: 3,
            without_header: vec![],
            navigator: vec![
                NavigatorGpc {
                    context: "document".into(),
                    url: "https://a.test/".into(),
                    value: "true".into(),
                },
                NavigatorGpc {
                    context: "worker".into(),
                    url: "https://a.test/w.js".into(),
                    value: "undefined".into(),
                },
            ],
        };
        assert!(s.header_on_every_request());
        assert_eq!(s.navigator_true(), (1, 2));
        assert!(GpcSignal::Sent(s).summary().contains("3 of 3 requests"));
        assert!(!GpcSent::default().header_on_every_request());
    }

    #[test]
    fn urls_in_gpc_signals_are_redacted_before_storage() {
        let secrets =
            crate::secrets::Secrets::new([("TOKEN".to_string(), "tok_0123456789".to_string())]);
        let mut obs = crate::analysis::tests::scenario("gpc").build();
        let sig = |data| super::super::SignalObs {
            time: chrono::Utc::now(),
            page: "https://a.test/".into(),
            state: crate::model::ConsentState::initial(),
            source: super::super::SignalSource::Visit,
            data: super::super::SignalData::Gpc(data),
        };
        obs.signals.push(sig(GpcSignal::Sent(GpcSent {
            without_header: vec!["https://a.test/x?t=tok_0123456789".into()],
            ..GpcSent::default()
        })));
        obs.signals.push(sig(GpcSignal::WellKnown(GpcWellKnown {
            url: "https://a.test/.well-known/gpc.json".into(),
            status: None,
            outcome: WellKnownOutcome::Unreachable {
                error: "failed for tok_0123456789".into(),
            },
        })));
        secrets.redact_visit(&mut obs).expect("redact");
        let text = serde_json::to_string(&obs.signals).unwrap_or_default();
        assert!(!text.contains("tok_0123456789"), "{text}");
        assert!(text.contains("[secret:TOKEN]"), "{text}");
    }
}

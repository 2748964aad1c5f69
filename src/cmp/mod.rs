//! Real consent management platforms: how a consent action was performed
//! ([`autoconsent`] or the scenario's selectors) and what the CMP recorded afterwards.
//!
//! After every consent action the engine reads the CMP's own record back through a
//! [`Reader`] (one per CMP, listed in [`READERS`]): Klaro's `klaro` cookie, vanilla
//! cookieconsent's `cc_cookie`, ... The record, when readable and decisive, decides the
//! consent state of the following phase ([`CmpRecord::effects`]); the scenario's declared
//! `records` are the fallback. Adding a CMP is one file with a [`Reader`] and one line
//! in [`READERS`].

pub mod autoconsent;
pub mod cookieconsent;
pub mod heuristic;
pub mod klaro;
pub mod tcf;

use serde_json::Value;

/// Every CMP record reader, in the order they are tried.
pub const READERS: &[&dyn Reader] = &[&klaro::Klaro, &cookieconsent::CookieConsent, &tcf::Tcf];

/// Reads one CMP's record of the visitor's choice.
pub trait Reader: Sync {
    /// Short stable name (`klaro`), stored with the record.
    fn name(&self) -> &'static str;
    /// Names autoconsent gives this CMP (`cmpDetected`), e.g. `Klaro`.
    fn autoconsent_names(&self) -> &'static [&'static str];
    /// Body of an `async` JavaScript function run in the page's main world. It returns
    /// `{present: bool, record: <anything JSON> | null}`: is the CMP on the page, and its
    /// record of the choice (`null`: nothing recorded yet). It may `await` (a CMP API
    /// with a callback).
    fn script(&self) -> &'static str;
    /// The record the script returned (never `null`), interpreted.
    fn interpret(&self, record: &Value) -> Result<CmpRecord, String>;
}

pub use crate::model::cmp::*;

/// The JavaScript run (WebDriver execute-async) to read every reader's record at once:
/// returns `{<reader name>: {present, record} | {error}}`.
pub fn readback_script() -> String {
    let mut s = String::from(
        "const done = arguments[arguments.length - 1];\n(async () => {\n  const out = {};\n",
    );
    for r in READERS {
        s.push_str(&format!(
            "  try {{ out[{name:?}] = await (async () => {{ {body} }})(); }} catch (e) {{ out[{name:?}] = {{ error: String(e) }}; }}\n",
            name = r.name(),
            body = r.script()
        ));
    }
    s.push_str("  return out;\n})().then(done, (e) => done({ error: String(e) }));");
    s
}

/// Largest CMP record interpreted, in bytes of JSON (larger: unreadable, "too long").
/// Why 256 KiB: a record is a cookie (browsers cap one at 4 KiB) or a `localStorage`
/// entry, plus the CMP's list of services or categories, which is what the page's own
/// configuration says; the fixtures' records are under 2 KiB, and a CMP with a thousand
/// services stays under 100 KiB. Above the limit the page is not telling us a choice.
pub const MAX_RECORD_BYTES: usize = 256 * 1024;

/// Bytes of a value's JSON text, counted without building it; counting stops once past
/// `limit` (the result is then only known to be over it).
fn json_len(v: &Value, limit: usize) -> usize {
    struct Count(usize, usize);
    impl std::io::Write for Count {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0 += buf.len();
            if self.0 > self.1 {
                return Err(std::io::Error::other("over the limit"));
            }
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let mut c = Count(0, limit);
    let _ = serde_json::to_writer(&mut c, v);
    c.0
}

/// Interpret the readback script's result. `detected` (autoconsent's CMP name) picks
/// that CMP's reader first.
///
/// Never panics on what the page returned: a record over [`MAX_RECORD_BYTES`] is
/// unreadable ("too long"), and each reader's `interpret` runs inside
/// [`crate::signals::contain::contained`], so a panic is an unreadable record with its
/// message.
pub fn interpret_readback(result: &Value, detected: Option<&str>) -> Readback {
    let mut order: Vec<&dyn Reader> = READERS.to_vec();
    if let Some(d) = detected {
        order.sort_by_key(|r| !r.autoconsent_names().contains(&d));
    }
    let mut not_recorded = None;
    let mut unreadable = None;
    for r in order {
        let Some(v) = result.get(r.name()) else {
            continue;
        };
        if let Some(e) = v.get("error").and_then(Value::as_str) {
            // Another reader may still have a record.
            unreadable.get_or_insert_with(|| Readback::Unreadable {
                reader: r.name().to_string(),
                error: e.to_string(),
            });
            continue;
        }
        let present = v.get("present").and_then(Value::as_bool).unwrap_or(false);
        match v.get("record") {
            Some(rec) if !rec.is_null() => {
                let len = json_len(rec, MAX_RECORD_BYTES);
                let read = if len > MAX_RECORD_BYTES {
                    Err(format!(
                        "record too long (over {MAX_RECORD_BYTES} bytes of JSON)"
                    ))
                } else {
                    crate::signals::contain::contained(r.name(), || r.interpret(rec))
                        .and_then(|read| read)
                };
                return match read {
                    Ok(record) => Readback::Recorded { record },
                    Err(error) => Readback::Unreadable {
                        reader: r.name().to_string(),
                        error,
                    },
                };
            }
            _ if present => {
                not_recorded.get_or_insert_with(|| r.name().to_string());
            }
            _ => {}
        }
    }
    match (not_recorded, unreadable) {
        (Some(reader), _) => Readback::NotRecorded { reader },
        (None, Some(u)) => u,
        (None, None) => Readback::NoReader,
    }
}

/// A cookie's value from `document.cookie` text, URL-decoded when it is (CMPs differ).
pub(crate) fn json_of(raw: &Value) -> Result<Value, String> {
    let Some(text) = raw.as_str() else {
        return Ok(raw.clone());
    };
    serde_json::from_str(text).map_err(|e| format!("not JSON ({e}): {}", clip(text)))
}

fn clip(s: &str) -> String {
    let short: String = s.chars().take(80).collect();
    if short.len() < s.len() {
        format!("{short}...")
    } else {
        short
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::ConsentEffect;
    use serde_json::json;

    #[test]
    fn klaro_reject_means_refused_and_li_objected() {
        let res = json!({"klaro": {"present": true, "record": {
            "source": "cookie klaro",
            "raw": "{\"google-analytics\":false,\"facebook-pixel\":false,\"fraud-shield\":false,\"site-core\":true}",
            "services": [
                {"name": "google-analytics", "optOut": false, "required": false},
                {"name": "facebook-pixel", "optOut": false, "required": false},
                {"name": "fraud-shield", "optOut": true, "required": false},
                {"name": "site-core", "optOut": false, "required": true}
            ]}}, "cookieconsent": {"present": false, "record": null}});
        let Readback::Recorded { record } = interpret_readback(&res, Some("Klaro")) else {
            panic!("not recorded")
        };
        assert_eq!(record.consent, RecordedConsent::Refused);
        assert_eq!(record.li_objected, Some(true));
        assert_eq!(
            record.effects(),
            vec![ConsentEffect::RefuseConsent, ConsentEffect::ObjectLi]
        );
        assert!(record.summary().contains("fraud-shield=off (LI)"));
    }

    #[test]
    fn cookieconsent_categories() {
        let res = json!({"klaro": {"present": false, "record": null}, "cookieconsent": {"present": true, "record": {
            "source": "cookie cc_cookie",
            "raw": "{\"categories\":[\"necessary\",\"analytics\"],\"revision\":0}",
            "categories": {"necessary": {"readOnly": true}, "analytics": {}, "marketing": {}}}}});
        let Readback::Recorded { record } = interpret_readback(&res, None) else {
            panic!("not recorded")
        };
        assert_eq!(record.consent, RecordedConsent::Partial);
        assert_eq!(record.li_objected, None);
        assert!(record.effects().is_empty());
    }

    #[test]
    fn present_without_record_is_not_recorded_and_absent_is_no_reader() {
        let res = json!({"klaro": {"present": true, "record": null}});
        assert_eq!(
            interpret_readback(&res, None),
            Readback::NotRecorded {
                reader: "klaro".into()
            }
        );
        assert_eq!(interpret_readback(&json!({}), None), Readback::NoReader);
        let threw = json!({"klaro": {"error": "TypeError"}, "cookieconsent": {"present": true,
            "record": {"source": "cookie cc_cookie", "raw": "{\"categories\":[\"necessary\"]}"}}});
        assert!(matches!(
            interpret_readback(&threw, None),
            Readback::Recorded { .. }
        ));
        let bad = json!({"klaro": {"present": true, "record": {"source": "cookie klaro", "raw": "{nope"}}});
        assert!(matches!(
            interpret_readback(&bad, None),
            Readback::Unreadable { .. }
        ));
    }

    #[test]
    fn oversized_record_is_unreadable() {
        let services: Vec<Value> = (0..20_000)
            .map(|i| json!({"name": format!("service-{i}"), "optOut": false}))
            .collect();
        let res = json!({"klaro": {"present": true, "record": {"source": "cookie klaro",
            "raw": "{}", "services": services}}});
        assert_eq!(
            interpret_readback(&res, Some("Klaro")),
            Readback::Unreadable {
                reader: "klaro".into(),
                error: "record too long (over 262144 bytes of JSON)".into()
            }
        );
        assert_eq!(json_len(&json!({"a": [1, 2]}), 100), 11);
    }

    #[test]
    fn readback_script_runs_every_reader() {
        let s = readback_script();
        for r in READERS {
            assert!(s.contains(&format!("out[{:?}]", r.name())));
        }
    }
}

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
pub mod klaro;
pub mod tcf;

use crate::observe::{ConsentAction, ConsentEffect};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
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

/// Consent to consent-based purposes or services, as the CMP recorded it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RecordedConsent {
    /// Every consent-based item granted.
    Granted,
    /// Every consent-based item refused.
    Refused,
    /// Some granted, some refused.
    Partial,
    /// The record lists no consent-based item.
    Unknown,
}

/// One item of a CMP record: a service or category and whether it is allowed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecordItem {
    pub name: String,
    pub allowed: bool,
    /// `consent`, `legitimate_interest` (Klaro's `optOut: true` services: on until the
    /// visitor declines) or `necessary`.
    pub basis: String,
}

/// What the CMP recorded, interpreted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CmpRecord {
    /// The reader's name (`klaro`).
    pub reader: String,
    /// Where it was read (`cookie klaro`, `cookie cc_cookie`, `localStorage klaro`).
    pub source: String,
    pub consent: RecordedConsent,
    /// Legitimate-interest items switched off (`Some(true)`), all left on (`Some(false)`),
    /// or none in the record (`None`).
    pub li_objected: Option<bool>,
    pub items: Vec<RecordItem>,
}

impl CmpRecord {
    /// The consent effects this record means: granted / refused consent when every
    /// consent-based item agrees, an objection when a legitimate-interest item is off.
    pub fn effects(&self) -> Vec<ConsentEffect> {
        let mut out = Vec::new();
        match self.consent {
            RecordedConsent::Granted => out.push(ConsentEffect::GrantConsent),
            RecordedConsent::Refused => out.push(ConsentEffect::RefuseConsent),
            RecordedConsent::Partial | RecordedConsent::Unknown => {}
        }
        if self.li_objected == Some(true) {
            out.push(ConsentEffect::ObjectLi);
        }
        out
    }

    /// One line: `klaro (cookie klaro): google-analytics=off, hotjar=off (LI), ...`.
    pub fn summary(&self) -> String {
        let items: Vec<String> = self
            .items
            .iter()
            .map(|i| {
                let li = if i.basis == "legitimate_interest" {
                    " (LI)"
                } else {
                    ""
                };
                format!("{}={}{li}", i.name, if i.allowed { "on" } else { "off" })
            })
            .collect();
        format!("{} ({}): {}", self.reader, self.source, items.join(", "))
    }

    /// Build a record from its items: consent and LI summarised.
    pub fn from_items(reader: &str, source: String, items: Vec<RecordItem>) -> CmpRecord {
        let consent: Vec<bool> = items
            .iter()
            .filter(|i| i.basis == "consent")
            .map(|i| i.allowed)
            .collect();
        let li: Vec<bool> = items
            .iter()
            .filter(|i| i.basis == "legitimate_interest")
            .map(|i| i.allowed)
            .collect();
        let consent = if consent.is_empty() {
            RecordedConsent::Unknown
        } else if consent.iter().all(|a| *a) {
            RecordedConsent::Granted
        } else if consent.iter().all(|a| !*a) {
            RecordedConsent::Refused
        } else {
            RecordedConsent::Partial
        };
        let li_objected = (!li.is_empty()).then(|| li.iter().any(|a| !*a));
        CmpRecord {
            reader: reader.to_string(),
            source,
            consent,
            li_objected,
            items,
        }
    }
}

/// How a consent action was performed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind", content = "after")]
pub enum Method {
    /// autoconsent's `optIn` / `optOut` on the detected CMP.
    Autoconsent,
    /// The scenario's selectors (no autoconsent).
    Selectors,
    /// The scenario's selectors, after autoconsent could not do it (why).
    Fallback(String),
    /// The steps of a CMP profile's flow (the profile's name and file).
    Profile(String),
}

/// What reading the CMP's record back gave.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "status")]
pub enum Readback {
    /// No reader applies: no known CMP is on the page.
    NoReader,
    /// A known CMP is on the page, and recorded nothing after the action.
    NotRecorded {
        reader: String,
    },
    /// The record could not be read or understood.
    Unreadable {
        reader: String,
        error: String,
    },
    Recorded {
        record: CmpRecord,
    },
}

/// One consent action of a visit: how it was performed and what the CMP recorded.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CmpAction {
    pub action: ConsentAction,
    /// Index of the scenario step.
    pub step: usize,
    pub page: String,
    /// When the action was performed (its record read back).
    pub time: DateTime<Utc>,
    pub method: Method,
    /// Did the method report success (autoconsent's result; all selector steps done)?
    pub success: bool,
    /// The CMP autoconsent detected (`cmpDetected`), when it ran.
    #[serde(default)]
    pub detected: Option<String>,
    /// autoconsent saw its popup open (`popupFound`).
    #[serde(default)]
    pub popup_found: bool,
    /// Navigation start of the page to autoconsent's `popupFound`, in ms.
    #[serde(default)]
    pub detect_ms: Option<u64>,
    /// `optIn` / `optOut` sent to `autoconsentDone`, in ms.
    #[serde(default)]
    pub done_ms: Option<u64>,
    /// Wall time the engine spent in autoconsent for this action (waiting for detection,
    /// then the action), in ms: what autoconsent adds to the scenario.
    #[serde(default)]
    pub added_ms: Option<u64>,
    pub readback: Readback,
    /// What the scenario declared the action records (`records`, or the defaults).
    pub declared: Vec<ConsentEffect>,
    /// The effects applied to the following phase.
    pub applied: Vec<ConsentEffect>,
    /// `cmp-record` or `declared`: where `applied` came from.
    pub effects_from: String,
    /// Pages loaded after this action on which the CMP's banner was on screen again
    /// (the consent banner's selector visible, or autoconsent finding its popup open).
    #[serde(default)]
    pub banner_again: Vec<BannerSeen>,
}

/// The CMP's banner seen on a page loaded after a consent action.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BannerSeen {
    pub page: String,
    pub time: DateTime<Utc>,
    /// How it was seen: `banner ".klaro .cookie-notice" visible`, `autoconsent popupFound (Klaro)`.
    pub how: String,
}

impl Method {
    /// `autoconsent optOut`, `selectors`, `selectors (fallback after autoconsent: ...)`.
    pub fn describe(&self, action: ConsentAction) -> String {
        match self {
            Method::Autoconsent => format!("autoconsent {}", autoconsent::verb(action)),
            Method::Selectors => "selectors".to_string(),
            Method::Fallback(why) => format!("selectors (fallback after autoconsent: {why})"),
            Method::Profile(name) => format!("CMP profile {name}"),
        }
    }
}

impl CmpAction {
    /// One line for reports: `reject_all: autoconsent optOut on Klaro, ok, popup found
    /// 985 ms after navigation, done 42 ms after the action; record klaro (cookie klaro):
    /// ...; next phase: refuse_consent, object_li (from cmp-record)`.
    pub fn summary(&self) -> String {
        let mut s = format!(
            "{}: {}",
            self.action.as_str(),
            self.method.describe(self.action)
        );
        if let Some(cmp) = &self.detected {
            s.push_str(&format!(" on {cmp}"));
        }
        s.push_str(if self.success { ", ok" } else { ", failed" });
        if let Some(ms) = self.detect_ms {
            s.push_str(&format!(", popup found {ms} ms after navigation"));
        }
        if let Some(ms) = self.done_ms {
            s.push_str(&format!(", done {ms} ms after the action"));
        }
        match &self.readback {
            Readback::NoReader => s.push_str("; no CMP record reader applies"),
            Readback::NotRecorded { reader } => s.push_str(&format!("; {reader} recorded nothing")),
            Readback::Unreadable { reader, error } => {
                s.push_str(&format!("; {reader} record unreadable: {error}"))
            }
            Readback::Recorded { record } => s.push_str(&format!("; record {}", record.summary())),
        }
        let effects: Vec<&str> = self.applied.iter().map(|e| e.as_str()).collect();
        s.push_str(&format!(
            "; next phase: {} (from {})",
            effects.join(", "),
            self.effects_from
        ));
        if !self.banner_again.is_empty() {
            let pages: Vec<&str> = self.banner_again.iter().map(|b| b.page.as_str()).collect();
            s.push_str(&format!("; banner on screen again on {}", pages.join(", ")));
        }
        s
    }
}

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

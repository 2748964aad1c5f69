//! Klaro (klaro.org, BSD-3): the record is the cookie (or `localStorage` entry) named by
//! the config's `storageName` (default `klaro`), a JSON object of service name -> bool.
//! Services with `optOut: true` run until the visitor declines them: legitimate
//! interest with an objection; `required: true` ones are necessary. Klaro's "Reject all"
//! switches the `optOut` services off too, so its record says the objection was made.

use super::{json_of, CmpRecord, Reader, RecordBasis, RecordItem};
use serde_json::Value;

pub struct Klaro;

const SCRIPT: &str = r#"
const m = (window.klaro && typeof window.klaro.getManager === 'function') ? window.klaro.getManager() : null;
const cfg = m ? (m.config || {}) : {};
const services = m ? (cfg.services || cfg.apps || []).map((s) => ({ name: String(s.name), optOut: !!s.optOut, required: !!s.required })) : null;
const name = cfg.storageName || cfg.cookieName || 'klaro';
let raw = null, source = null;
const c = document.cookie.split('; ').find((x) => x.startsWith(name + '='));
if (c) {
  raw = c.slice(name.length + 1);
  try { raw = decodeURIComponent(raw); } catch (e) {}
  source = 'cookie ' + name;
} else {
  try { raw = localStorage.getItem(name); source = 'localStorage ' + name; } catch (e) {}
}
return { present: !!m || raw !== null, record: raw === null ? null : { source, raw, services } };
"#;

impl Reader for Klaro {
    fn name(&self) -> &'static str {
        "klaro"
    }
    fn autoconsent_names(&self) -> &'static [&'static str] {
        &["Klaro"]
    }
    fn script(&self) -> &'static str {
        SCRIPT
    }
    fn interpret(&self, record: &Value) -> Result<CmpRecord, String> {
        let raw = record.get("raw").ok_or("no `raw` in the record")?;
        let consents = json_of(raw)?;
        let Some(map) = consents.as_object() else {
            return Err(format!(
                "expected a JSON object of service -> bool, got {consents}"
            ));
        };
        let services = record.get("services").and_then(Value::as_array);
        let meta = |name: &str, key: &str| {
            services
                .into_iter()
                .flatten()
                .find(|s| s.get("name").and_then(Value::as_str) == Some(name))
                .and_then(|s| s.get(key))
                .and_then(Value::as_bool)
                .unwrap_or(false)
        };
        let items = map
            .iter()
            .map(|(name, v)| RecordItem {
                name: name.clone(),
                allowed: v.as_bool().unwrap_or(false),
                basis: if meta(name, "required") {
                    RecordBasis::Necessary
                } else if meta(name, "optOut") {
                    RecordBasis::LegitimateInterest
                } else {
                    RecordBasis::Consent
                },
                tcf_purpose: None,
            })
            .collect();
        let source = record
            .get("source")
            .and_then(Value::as_str)
            .unwrap_or("cookie klaro")
            .to_string();
        Ok(CmpRecord::from_items(self.name(), source, items))
    }
}

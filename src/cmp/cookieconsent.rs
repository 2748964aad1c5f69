//! vanilla-cookieconsent 3 (orestbida/cookieconsent, MIT): the record is the `cc_cookie`
//! cookie, JSON with `categories` (the accepted ones) and `services`. Which categories
//! exist and which are read-only (necessary) comes from the page's
//! `CookieConsent.getConfig('categories')`; without it, `necessary` is taken as the
//! read-only one. The library has no legitimate-interest notion: its record says
//! nothing about an objection.

use super::{json_of, CmpRecord, Reader, RecordBasis, RecordItem};
use serde_json::Value;

pub struct CookieConsent;

const SCRIPT: &str = r#"
const api = window.CookieConsent;
let categories = null;
try { categories = api && typeof api.getConfig === 'function' ? api.getConfig('categories') : null; } catch (e) {}
if (categories) {
  const c = {};
  for (const k of Object.keys(categories)) c[k] = { readOnly: !!(categories[k] && categories[k].readOnly) };
  categories = c;
}
const name = 'cc_cookie';
let raw = null, source = null;
const c = document.cookie.split('; ').find((x) => x.startsWith(name + '='));
if (c) {
  raw = c.slice(name.length + 1);
  try { raw = decodeURIComponent(raw); } catch (e) {}
  source = 'cookie ' + name;
} else {
  try { raw = localStorage.getItem(name); if (raw !== null) source = 'localStorage ' + name; } catch (e) {}
}
const present = !!api || !!document.getElementById('cc-main') || raw !== null;
return { present, record: raw === null ? null : { source, raw, categories } };
"#;

impl Reader for CookieConsent {
    fn name(&self) -> &'static str {
        "cookieconsent"
    }
    fn autoconsent_names(&self) -> &'static [&'static str] {
        &["cookieconsent3", "cookieconsent2"]
    }
    fn script(&self) -> &'static str {
        SCRIPT
    }
    fn interpret(&self, record: &Value) -> Result<CmpRecord, String> {
        let raw = record.get("raw").ok_or("no `raw` in the record")?;
        let cookie = json_of(raw)?;
        let accepted: Vec<String> = cookie
            .get("categories")
            .and_then(Value::as_array)
            .ok_or_else(|| format!("no `categories` list in {cookie}"))?
            .iter()
            .filter_map(|c| c.as_str().map(String::from))
            .collect();
        // Every category the site configured, else those the record names.
        let known: Vec<(String, bool)> = match record.get("categories").and_then(Value::as_object) {
            Some(cfg) => cfg
                .iter()
                .map(|(k, v)| {
                    let ro = v.get("readOnly").and_then(Value::as_bool).unwrap_or(false);
                    (k.clone(), ro)
                })
                .collect(),
            None => accepted
                .iter()
                .map(|k| (k.clone(), k == "necessary"))
                .collect(),
        };
        let items = known
            .into_iter()
            .map(|(name, read_only)| RecordItem {
                allowed: accepted.contains(&name),
                basis: if read_only {
                    RecordBasis::Necessary
                } else {
                    RecordBasis::Consent
                },
                name,
                tcf_purpose: None,
            })
            .collect();
        let source = record
            .get("source")
            .and_then(Value::as_str)
            .unwrap_or("cookie cc_cookie")
            .to_string();
        Ok(CmpRecord::from_items(self.name(), source, items))
    }
}

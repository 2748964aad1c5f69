//! What the page itself reports: uncaught exceptions (`Runtime.exceptionThrown`) and the
//! hook's messages (script cookie writes, Web Storage writes, `navigator.globalPrivacyControl`
//! reads), turned into observations in the current page and consent phase.

use super::super::cookies;
use super::super::events;
use super::super::{is_web_url, secs_to_utc};
use super::{host_of, Recorder, MAX_PAGE_ERRORS};
use crate::model::{hash_value, CookieSource, CookieWrite, PageError, StorageWrite};
use crate::net::strip_query;
use chrono::Utc;
use serde_json::Value;

impl Recorder {
    pub(super) fn on_exception(&mut self, x: events::ExceptionThrown) {
        if self.page_errors.len() >= MAX_PAGE_ERRORS {
            self.page_errors_dropped = self.page_errors_dropped.saturating_add(1);
            return;
        }
        let d = x.exception_details;
        let message = d
            .exception
            .as_ref()
            .and_then(|e| {
                e.description.clone().or_else(|| {
                    e.value.as_ref().map(|v| match v {
                        Value::String(s) => s.clone(),
                        other => other.to_string(),
                    })
                })
            })
            .filter(|m| !m.is_empty())
            .unwrap_or(d.text);
        let source = d
            .url
            .filter(|u| !u.is_empty())
            .or_else(|| d.stack_trace.as_ref().and_then(|s| s.top_url()));
        let time = x
            .timestamp
            .and_then(|ms| secs_to_utc(ms / 1000.0))
            .unwrap_or_else(Utc::now);
        self.page_errors.push(PageError {
            message,
            source,
            time,
            page: self.page.clone(),
        });
    }

    pub(super) fn on_hook_report(&mut self, msg: &Value) {
        let now = Utc::now();
        let value = msg.get("v").and_then(Value::as_str).unwrap_or_default();
        let text = |k: &str| {
            msg.get(k)
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string()
        };
        match msg.get("k").and_then(Value::as_str) {
            Some("cookie") => {
                let href = text("href");
                let Some(c) = cookies::parse_cookie_line(value, now) else {
                    return;
                };
                let write = CookieWrite {
                    name: c.name,
                    domain: c.domain.unwrap_or_else(|| host_of(&href)),
                    path: c.path,
                    value_hash: c.value_hash,
                    requested_lifetime_secs: c.requested_lifetime_secs,
                    expiry_unparsed: c.expiry_unparsed,
                    source: CookieSource::Script {
                        document_url: strip_query(&href),
                    },
                    blocked_reasons: Vec::new(),
                    time: now,
                    page: self.page.clone(),
                    state: self.consent(),
                };
                self.cookie_writes.push(write);
            }
            Some("storage") => {
                let area = msg.get("area").and_then(Value::as_str).unwrap_or("local");
                let write = StorageWrite {
                    area: area.to_string(),
                    origin: text("origin"),
                    key: text("key"),
                    value_hash: hash_value(value),
                    time: now,
                    page: self.page.clone(),
                    state: self.consent(),
                };
                self.storage_writes.push(write);
            }
            Some("gpc") if is_web_url(&text("href")) => {
                self.gpc.navigator.push(crate::signals::gpc::NavigatorGpc {
                    context: "document".into(),
                    url: strip_query(&text("href")),
                    value: crate::text::clip_for_evidence(value),
                })
            }
            _ => {}
        }
    }
}

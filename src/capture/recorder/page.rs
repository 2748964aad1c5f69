//! What the page itself reports: uncaught exceptions (`Runtime.exceptionThrown`) and the
//! hook's messages (script cookie writes: `document.cookie` and the Cookie Store API;
//! `navigator.globalPrivacyControl` reads), turned into observations in the current page
//! and consent phase.

use super::super::cookies;
use super::super::events;
use super::super::{is_web_url, secs_to_utc};
use super::{host_of, Recorder, MAX_PAGE_ERRORS};
use crate::model::{CookieSource, CookieWrite, PageError};
use crate::net::strip_query;
use chrono::Utc;
use serde_json::Value;
use std::collections::HashMap;

/// Most reports one document's hook may make; beyond, they are counted, not kept (a page
/// that loops on `document.cookie` must not fill the memory or a database row).
pub const MAX_HOOK_REPORTS_PER_DOCUMENT: u32 = 20_000;

/// What authenticates the hook's reports and says where they come from.
///
/// The hook carries a secret fresh for each capture, inlined in its source. It takes the
/// binding when it is installed, before any page script runs (a page could once reach it
/// through a fresh same-origin iframe, before that iframe's hook had taken it); should a
/// page call it anyway, it cannot read the hook's closure, so a report without the secret
/// is forged: counted, never recorded. The document of a cookie write comes from the
/// execution context that called the binding (`Runtime.executionContextCreated`) and its
/// frame's committed URL, never from the payload when those are known.
#[derive(Default)]
pub struct HookAuth {
    pub(crate) secret: String,
    /// (session, execution context id) -> its frame id (a cookie write's document is that
    /// frame's committed URL).
    pub(crate) contexts: HashMap<(String, i64), Option<String>>,
    /// Frame id -> the URL of the document committed in it.
    pub(crate) frame_urls: HashMap<String, String>,
    per_context: HashMap<(String, i64), u32>,
    pub(crate) tally: crate::capture::HookTally,
}

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

    pub(super) fn on_hook_report(&mut self, session: Option<&str>, context: i64, msg: &Value) {
        let now = Utc::now();
        if msg.get("s").and_then(Value::as_str) != Some(self.hook.secret.as_str()) {
            self.hook.tally.forged = self.hook.tally.forged.saturating_add(1);
            return;
        }
        let key = (session.unwrap_or_default().to_string(), context);
        let count = self.hook.per_context.entry(key.clone()).or_default();
        *count = count.saturating_add(1);
        if *count > MAX_HOOK_REPORTS_PER_DOCUMENT {
            self.hook.tally.dropped = self.hook.tally.dropped.saturating_add(1);
            return;
        }
        let value = msg.get("v").and_then(Value::as_str).unwrap_or_default();
        let context_url = self
            .hook
            .contexts
            .get(&key)
            .and_then(Option::as_ref)
            .and_then(|f| self.hook.frame_urls.get(f))
            .cloned();
        let text = |k: &str| {
            let from_context = match k {
                "href" => context_url.clone(),
                _ => None,
            };
            from_context.unwrap_or_else(|| {
                msg.get(k)
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_string()
            })
        };
        // The document a cookie write names: its context's committed URL; one that is no
        // web URL (an about:blank iframe's realm, whose setters a page can call on its own
        // document) by the origin the hook read at install.
        let document = || {
            let href = text("href");
            if is_web_url(&href) {
                return href;
            }
            match msg.get("o").and_then(Value::as_str) {
                Some(o) if is_web_url(o) => o.to_string(),
                _ => href,
            }
        };
        match msg.get("k").and_then(Value::as_str) {
            Some("cookiestore") => {
                let href = document();
                let write = self.cookie_store_write(msg, &href, now);
                self.cookie_writes.extend(write);
            }
            Some("cookie") => {
                let href = document();
                let Some(c) = cookies::parse_cookie_line(value, now, &self.hasher) else {
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
            // Web Storage writes come from the browser's `DOMStorage` events
            // ([`super::storage`]); the hook reports none.
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

impl Recorder {
    /// A Cookie Store API write the browser accepted (`cookieStore.set` or `delete` whose
    /// promise resolved, [`hook.js`](super::super::HOOK)), made by the document `href`:
    /// the lifetime it asked for from its `expires` (none: a session cookie; a deletion:
    /// 0), its `domain` or the document's host, its `path` (the API's default `/`).
    fn cookie_store_write(
        &self,
        msg: &Value,
        href: &str,
        now: chrono::DateTime<Utc>,
    ) -> Option<CookieWrite> {
        let field = |k: &str| msg.get(k).and_then(Value::as_str);
        let name = field("name").filter(|n| !n.is_empty())?;
        let deletion = msg.get("del").and_then(Value::as_bool) == Some(true);
        let requested_lifetime_secs = if deletion {
            Some(0)
        } else {
            match msg.get("exp").and_then(Value::as_f64) {
                Some(ms) => Some(cookies::lifetime_until_ms(ms, now)?),
                None => None,
            }
        };
        let domain = field("domain")
            .map(|d| d.trim_start_matches('.').to_ascii_lowercase())
            .filter(|d| !d.is_empty())
            .unwrap_or_else(|| host_of(href));
        Some(CookieWrite {
            name: name.to_string(),
            domain,
            path: Some(field("path").unwrap_or("/").to_string()),
            value_hash: self.hasher.hash(field("v").unwrap_or_default()),
            requested_lifetime_secs,
            expiry_unparsed: None,
            source: CookieSource::Script {
                document_url: strip_query(href),
            },
            blocked_reasons: Vec::new(),
            time: now,
            page: self.page.clone(),
            state: self.consent(),
        })
    }
}

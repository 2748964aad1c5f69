//! Capture of what a page does, through a DevTools side channel (facts: ../shared/CAPTURE.md).
//!
//! - Every target is auto-attached (pages, cross-site iframes, dedicated/shared/service
//!   workers), each paused until `Network.enable` and our hooks are in place.
//! - A browser-wide `Fetch` interception sees what the per-target network events miss
//!   (a beacon sent while the page unloads); it is merged by request id.
//! - `Set-Cookie` attempts come from `Network.responseReceivedExtraInfo`, blocked ones
//!   with their reasons; `document.cookie` and Web Storage writes come from a hook
//!   installed before any page script runs; the stored jar from `Storage.getCookies`.
//! - Each observation is stamped with the page and consent state the engine has set.

pub mod cdp;
pub mod cookies;

use crate::observe::{
    hash_value, ConsentState, CookieSource, CookieWrite, DocumentOutcome, PageError, RequestObs,
    StorageWrite, StoredCookie, TargetKind,
};
use anyhow::{Context, Result};
use cdp::{Cdp, Event};
use chrono::{DateTime, TimeZone, Utc};
use serde_json::{json, Value};
use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

/// Name of the binding our page hook reports through.
const BINDING: &str = "__consentryReport";

/// Installed in every document before its scripts: reports `document.cookie` and
/// Web Storage writes. Values are hashed on our side and never stored.
/// The binding is installed after new-document scripts run, so it is looked up at the
/// first write (then removed from the page's view).
const HOOK: &str = r#"(() => {
  let report = null;
  const send = (o) => {
    try {
      if (!report) {
        report = globalThis.__consentryReport;
        try { delete globalThis.__consentryReport; } catch (e) {}
      }
      if (typeof report === 'function') report(JSON.stringify(o));
    } catch (e) {}
  };
  const desc = Object.getOwnPropertyDescriptor(Document.prototype, 'cookie');
  if (desc && desc.set) {
    Object.defineProperty(Document.prototype, 'cookie', {
      configurable: true, enumerable: desc.enumerable,
      get() { return desc.get.call(this); },
      set(v) { send({ k: 'cookie', v: String(v), href: String(location.href) }); return desc.set.call(this, v); }
    });
  }
  const setItem = Storage.prototype.setItem;
  Storage.prototype.setItem = function (key, value) {
    let area = 'local';
    try { area = (this === sessionStorage) ? 'session' : 'local'; } catch (e) {}
    send({ k: 'storage', area, key: String(key), v: String(value), origin: String(location.origin) });
    return setItem.apply(this, arguments);
  };
})();"#;

#[derive(Debug, Clone)]
struct SessionInfo {
    kind: TargetKind,
    target_id: String,
}

/// A `Set-Cookie`-bearing response, resolved to its request URL at the end.
#[derive(Debug, Clone)]
struct ExtraInfo {
    request_id: String,
    hop: usize,
    lines: Vec<(String, Vec<String>)>,
    time: DateTime<Utc>,
    page: String,
    state: ConsentState,
}

#[derive(Default)]
struct State {
    page: String,
    consent: Option<ConsentState>,
    sessions: HashMap<String, SessionInfo>,
    known_frames: HashSet<String>,
    page_targets: HashSet<String>,
    requests: Vec<RequestObs>,
    by_key: HashMap<(String, String), usize>,
    hops: HashMap<String, Vec<usize>>,
    extra_count: HashMap<String, usize>,
    extras: Vec<ExtraInfo>,
    fetch_seen: Vec<(String, RequestObs)>,
    cookie_writes: Vec<CookieWrite>,
    storage_writes: Vec<StorageWrite>,
    inflight: HashMap<String, String>,
    last_activity: Option<Instant>,
    crashed: Option<String>,
    /// Page targets whose hooks are installed.
    pages_ready: usize,
}

impl State {
    fn consent(&self) -> ConsentState {
        self.consent.clone().unwrap_or_else(ConsentState::initial)
    }
    fn touch(&mut self) {
        self.last_activity = Some(Instant::now());
    }
}

/// What a capture collected, handed over when the scenario ends.
#[derive(Debug, Default)]
pub struct Captured {
    pub requests: Vec<RequestObs>,
    pub cookie_writes: Vec<CookieWrite>,
    pub storage_writes: Vec<StorageWrite>,
    /// Uncaught exceptions in pages, frames and workers.
    pub page_errors: Vec<PageError>,
    /// Top-level navigations and how their main document ended, in order.
    pub documents: Vec<DocumentOutcome>,
}

/// A running capture on one browser.
pub struct Capture {
    cdp: Cdp,
    state: Arc<Mutex<State>>,
    task: JoinHandle<()>,
}

fn lock(state: &Arc<Mutex<State>>) -> MutexGuard<'_, State> {
    // A panic while holding the lock cannot leave the data half-written in a way that
    // matters more than losing the capture; recover the guard.
    state.lock().unwrap_or_else(|e| e.into_inner())
}

impl Capture {
    /// Connect to the browser-level DevTools websocket and start capturing.
    pub async fn start(ws_url: &str) -> Result<Capture> {
        let (cdp, events) = Cdp::connect(ws_url).await?;
        let state = Arc::new(Mutex::new(State::default()));
        let task = tokio::spawn(event_loop(cdp.clone(), state.clone(), events));
        cdp.send(
            "Target.setDiscoverTargets",
            json!({ "discover": true }),
            None,
        )
        .await
        .context("cannot enable target discovery")?;
        cdp.send(
            "Fetch.enable",
            json!({ "patterns": [{ "urlPattern": "*", "requestStage": "Request" }] }),
            None,
        )
        .await
        .context("cannot enable browser-wide request interception")?;
        cdp.send(
            "Target.setAutoAttach",
            json!({ "autoAttach": true, "waitForDebuggerOnStart": true, "flatten": true }),
            None,
        )
        .await
        .context("cannot auto-attach to browser targets")?;
        // The tab WebDriver opened exists already: wait until our hooks are in it, or the
        // first navigation would race them.
        let deadline = Instant::now() + Duration::from_secs(10);
        while lock(&state).pages_ready == 0 {
            if Instant::now() > deadline {
                anyhow::bail!("the browser tab could not be instrumented within 10 s");
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        Ok(Capture { cdp, state, task })
    }

    /// Attribute what happens from now on to this top-level page.
    pub fn set_page(&self, page: &str) {
        lock(&self.state).page = page.to_string();
    }

    /// The page what happens now is attributed to.
    pub fn page(&self) -> String {
        lock(&self.state).page.clone()
    }

    /// Attribute what happens from now on to this consent state.
    pub fn set_state(&self, consent: &ConsentState) {
        lock(&self.state).consent = Some(consent.clone());
    }

    /// Has a page target crashed, or the whole browser gone away?
    pub fn crashed(&self) -> Option<String> {
        lock(&self.state).crashed.clone()
    }

    /// Wait until no request has been waiting for its response for `quiet`.
    /// On `timeout`, returns the URLs still pending.
    pub async fn wait_idle(&self, quiet: Duration, timeout: Duration) -> Result<(), Vec<String>> {
        let start = Instant::now();
        {
            // Waiting starts a quiet window even if nothing happened yet.
            let mut s = lock(&self.state);
            if s.last_activity.is_none_or(|t| t < start) {
                s.last_activity = Some(start);
            }
        }
        loop {
            let (idle_since, pending) = {
                let s = lock(&self.state);
                (s.last_activity, s.inflight.len())
            };
            let now = Instant::now();
            if pending == 0 {
                let quiet_for = idle_since.map(|t| now.duration_since(t)).unwrap_or(quiet);
                if quiet_for >= quiet {
                    return Ok(());
                }
            }
            if now.duration_since(start) >= timeout {
                let s = lock(&self.state);
                let mut urls: Vec<String> = s.inflight.values().cloned().collect();
                urls.sort();
                return Err(urls);
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
    }

    /// Read every cookie the browser stored (all domains, partitioned ones too).
    pub async fn stored_cookies(&self) -> Result<Vec<StoredCookie>> {
        let res = self
            .cdp
            .send("Storage.getCookies", json!({}), None)
            .await
            .context("cannot read the cookie jar")?;
        let now = Utc::now();
        let state = lock(&self.state).consent();
        let mut out = Vec::new();
        for c in res
            .get("cookies")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let s = |k: &str| c.get(k).and_then(Value::as_str).map(String::from);
            let Some(name) = s("name") else { continue };
            let expires = c
                .get("expires")
                .and_then(Value::as_f64)
                .filter(|e| *e > 0.0 && !c.get("session").and_then(Value::as_bool).unwrap_or(false))
                .and_then(secs_to_utc);
            let partition_key = match c.get("partitionKey") {
                Some(Value::String(k)) => Some(k.clone()),
                Some(Value::Object(o)) => o
                    .get("topLevelSite")
                    .and_then(Value::as_str)
                    .map(String::from),
                _ => None,
            };
            out.push(StoredCookie {
                name,
                domain: s("domain")
                    .unwrap_or_default()
                    .trim_start_matches('.')
                    .to_string(),
                path: s("path").unwrap_or_else(|| "/".into()),
                value_hash: hash_value(&s("value").unwrap_or_default()),
                expires,
                secure: c.get("secure").and_then(Value::as_bool).unwrap_or(false),
                http_only: c.get("httpOnly").and_then(Value::as_bool).unwrap_or(false),
                same_site: s("sameSite"),
                partition_key,
                observed_at: now,
                state: state.clone(),
            });
        }
        out.sort_by(|a, b| (&a.domain, &a.name).cmp(&(&b.domain, &b.name)));
        Ok(out)
    }

    /// Stop capturing and hand over what was collected.
    pub fn finish(self) -> Captured {
        self.task.abort();
        let mut s = lock(&self.state);
        let network = std::mem::take(&mut s.requests);
        // Resolve each Set-Cookie response to its hop's URL (the n-th extra-info event of a
        // request id belongs to the n-th hop of its redirect chain).
        let mut cookie_writes = std::mem::take(&mut s.cookie_writes);
        for extra in std::mem::take(&mut s.extras) {
            let url = s
                .hops
                .get(&extra.request_id)
                .and_then(|h| h.get(extra.hop).or(h.last()))
                .and_then(|i| network.get(*i))
                .map(|r| r.url.clone());
            let Some(request_url) = url else { continue };
            let host = host_of(&request_url);
            for (line, reasons) in extra.lines {
                if let Some(c) = cookies::parse_cookie_line(&line, extra.time) {
                    cookie_writes.push(CookieWrite {
                        name: c.name,
                        domain: c.domain.unwrap_or_else(|| host.clone()),
                        path: c.path,
                        value_hash: c.value_hash,
                        requested_lifetime_secs: c.requested_lifetime_secs,
                        expiry_unparsed: None,
                        source: CookieSource::Header {
                            request_url: strip_query(&request_url),
                        },
                        blocked_reasons: reasons,
                        time: extra.time,
                        page: extra.page.clone(),
                        state: extra.state.clone(),
                    });
                }
            }
        }
        cookie_writes.sort_by_key(|c| c.time);
        // Requests only the browser-wide interception saw (e.g. a beacon during unload):
        // keep those from a frame of ours, drop the browser's own background traffic.
        let mut requests = network;
        let mut seen_fetch = HashSet::new();
        for (network_id, req) in std::mem::take(&mut s.fetch_seen) {
            let key = (network_id, req.url.clone());
            if s.by_key.contains_key(&key) || !seen_fetch.insert(key) {
                continue;
            }
            if req
                .frame_id
                .as_ref()
                .is_some_and(|f| s.known_frames.contains(f))
            {
                requests.push(req);
            }
        }
        requests.sort_by_key(|r| r.time);
        Captured {
            requests,
            cookie_writes,
            storage_writes: std::mem::take(&mut s.storage_writes),
            page_errors: Vec::new(),
            documents: Vec::new(),
        }
    }
}

fn secs_to_utc(secs: f64) -> Option<DateTime<Utc>> {
    let ms = (secs * 1000.0) as i64;
    Utc.timestamp_millis_opt(ms).single()
}

fn host_of(url: &str) -> String {
    url::Url::parse(url)
        .ok()
        .and_then(|u| u.host_str().map(|h| h.to_ascii_lowercase()))
        .unwrap_or_default()
}

/// Cookie evidence never needs the query string (it may carry identifiers).
fn strip_query(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut u) => {
            u.set_query(None);
            u.set_fragment(None);
            u.to_string()
        }
        Err(_) => url.to_string(),
    }
}

fn is_web_url(url: &str) -> bool {
    url.starts_with("http://") || url.starts_with("https://")
}

fn str_field(v: &Value, path: &[&str]) -> Option<String> {
    let mut cur = v;
    for p in path {
        cur = cur.get(p)?;
    }
    cur.as_str().map(String::from)
}

async fn event_loop(
    cdp: Cdp,
    state: Arc<Mutex<State>>,
    mut events: mpsc::UnboundedReceiver<Event>,
) {
    while let Some(ev) = events.recv().await {
        handle_event(&cdp, &state, ev);
    }
    // The DevTools connection closed under us: the browser is gone (crashed or killed).
    let mut s = lock(&state);
    if s.crashed.is_none() {
        s.crashed = Some(
            "the browser went away during the visit (its process ended or crashed; DevTools connection closed)"
                .into(),
        );
    }
}

fn handle_event(cdp: &Cdp, state: &Arc<Mutex<State>>, ev: Event) {
    let p = &ev.params;
    match ev.method.as_str() {
        "Fetch.requestPaused" => {
            // Let it go at once: the browser waits for us.
            if let Some(id) = p.get("requestId").and_then(Value::as_str) {
                cdp.fire("Fetch.continueRequest", json!({ "requestId": id }), None);
            }
            let url = str_field(p, &["request", "url"]).unwrap_or_default();
            if !is_web_url(&url) {
                return;
            }
            let mut s = lock(state);
            s.touch();
            let req = RequestObs {
                url,
                method: str_field(p, &["request", "method"]).unwrap_or_else(|| "GET".into()),
                resource_type: str_field(p, &["resourceType"]).unwrap_or_else(|| "Other".into()),
                initiator: None,
                frame_id: str_field(p, &["frameId"]).filter(|f| !f.is_empty()),
                target: TargetKind::Browser,
                status: None,
                error: None,
                cancelled: false,
                time: Utc::now(),
                page: s.page.clone(),
                state: s.consent(),
            };
            // The network id links it to the per-target events; requests sent while a page
            // unloads may have none, so each interception then stands for itself.
            let id = match str_field(p, &["networkId"]).filter(|n| !n.is_empty()) {
                Some(n) => n,
                None => format!("fetch:{}", str_field(p, &["requestId"]).unwrap_or_default()),
            };
            s.fetch_seen.push((id, req));
        }
        "Target.attachedToTarget" => {
            let Some(session) = str_field(p, &["sessionId"]) else {
                return;
            };
            let ty = str_field(p, &["targetInfo", "type"]).unwrap_or_default();
            let target_id = str_field(p, &["targetInfo", "targetId"]).unwrap_or_default();
            let kind = match ty.as_str() {
                "page" => TargetKind::Page,
                "iframe" => TargetKind::Iframe,
                "worker" => TargetKind::Worker,
                "service_worker" => TargetKind::ServiceWorker,
                "shared_worker" => TargetKind::SharedWorker,
                _ => TargetKind::Other,
            };
            {
                let mut s = lock(state);
                if matches!(kind, TargetKind::Page | TargetKind::Iframe) {
                    s.known_frames.insert(target_id.clone());
                }
                if kind == TargetKind::Page {
                    s.page_targets.insert(target_id.clone());
                }
                s.sessions
                    .insert(session.clone(), SessionInfo { kind, target_id });
            }
            let cdp = cdp.clone();
            let state = state.clone();
            tokio::spawn(async move {
                let sid = Some(session.as_str());
                let is_doc = matches!(kind, TargetKind::Page | TargetKind::Iframe);
                if kind != TargetKind::Other {
                    let _ = cdp.send("Network.enable", json!({}), sid).await;
                }
                if is_doc {
                    let _ = cdp.send("Page.enable", json!({}), sid).await;
                    let _ = cdp.send("Runtime.enable", json!({}), sid).await;
                    let _ = cdp
                        .send("Runtime.addBinding", json!({ "name": BINDING }), sid)
                        .await;
                    let _ = cdp
                        .send(
                            "Page.addScriptToEvaluateOnNewDocument",
                            json!({ "source": HOOK }),
                            sid,
                        )
                        .await;
                }
                if kind != TargetKind::Other {
                    let _ = cdp
                        .send(
                            "Target.setAutoAttach",
                            json!({ "autoAttach": true, "waitForDebuggerOnStart": true, "flatten": true }),
                            sid,
                        )
                        .await;
                }
                let _ = cdp
                    .send("Runtime.runIfWaitingForDebugger", json!({}), sid)
                    .await;
                if kind == TargetKind::Page {
                    lock(&state).pages_ready += 1;
                }
            });
        }
        "Target.detachedFromTarget" => {
            if let Some(session) = str_field(p, &["sessionId"]) {
                lock(state).sessions.remove(&session);
            }
        }
        "Target.targetCrashed" => {
            let target = str_field(p, &["targetId"]).unwrap_or_default();
            let mut s = lock(state);
            if s.page_targets.contains(&target) {
                let status = str_field(p, &["status"]).unwrap_or_else(|| "crashed".into());
                s.crashed = Some(format!("the page's renderer process ended ({status})"));
            }
        }
        "Network.requestWillBeSent" => on_request(state, &ev),
        "Network.responseReceived" => {
            let Some(id) = str_field(p, &["requestId"]) else {
                return;
            };
            let url = str_field(p, &["response", "url"]).unwrap_or_default();
            let status = p.pointer("/response/status").and_then(Value::as_u64);
            let mut s = lock(state);
            s.touch();
            s.inflight.remove(&id);
            let idx = s
                .by_key
                .get(&(id.clone(), url))
                .copied()
                .or_else(|| s.hops.get(&id).and_then(|h| h.last().copied()));
            if let (Some(i), Some(st)) = (idx, status) {
                if let Some(r) = s.requests.get_mut(i) {
                    r.status = u16::try_from(st).ok();
                }
            }
        }
        "Network.loadingFinished" => {
            if let Some(id) = str_field(p, &["requestId"]) {
                let mut s = lock(state);
                s.touch();
                s.inflight.remove(&id);
            }
        }
        "Network.loadingFailed" => {
            let Some(id) = str_field(p, &["requestId"]) else {
                return;
            };
            let mut s = lock(state);
            s.touch();
            s.inflight.remove(&id);
            let err = str_field(p, &["errorText"]).unwrap_or_default();
            let blocked = str_field(p, &["blockedReason"]);
            if let Some(i) = s.hops.get(&id).and_then(|h| h.last().copied()) {
                if let Some(r) = s.requests.get_mut(i) {
                    r.error = Some(match blocked {
                        Some(b) => format!("{err} (blocked: {b})"),
                        None => err,
                    });
                }
            }
        }
        "Network.responseReceivedExtraInfo" => on_extra_info(state, p),
        "Runtime.bindingCalled" => {
            if str_field(p, &["name"]).as_deref() != Some(BINDING) {
                return;
            }
            let Some(payload) = str_field(p, &["payload"]) else {
                return;
            };
            let Ok(msg) = serde_json::from_str::<Value>(&payload) else {
                return;
            };
            on_hook_report(state, &msg);
        }
        _ => {}
    }
}

fn on_request(state: &Arc<Mutex<State>>, ev: &Event) {
    let p = &ev.params;
    let Some(id) = str_field(p, &["requestId"]) else {
        return;
    };
    let url = str_field(p, &["request", "url"]).unwrap_or_default();
    if !is_web_url(&url) {
        return;
    }
    let mut s = lock(state);
    s.touch();
    // A redirect: the previous hop's response arrives here.
    if let Some(status) = p
        .pointer("/redirectResponse/status")
        .and_then(Value::as_u64)
    {
        if let Some(i) = s.hops.get(&id).and_then(|h| h.last().copied()) {
            if let Some(r) = s.requests.get_mut(i) {
                r.status = u16::try_from(status).ok();
            }
        }
    }
    let key = (id.clone(), url.clone());
    if s.by_key.contains_key(&key) {
        // The same request reported twice (e.g. a service worker attached twice).
        return;
    }
    s.inflight.insert(id.clone(), url.clone());
    let session = ev
        .session_id
        .as_ref()
        .and_then(|sid| s.sessions.get(sid))
        .cloned();
    let frame_id = str_field(p, &["frameId"]);
    if let Some(f) = &frame_id {
        s.known_frames.insert(f.clone());
    }
    let target = match &session {
        Some(info) if info.kind == TargetKind::Page => {
            if frame_id.as_deref().is_some_and(|f| f != info.target_id) {
                TargetKind::Iframe
            } else {
                TargetKind::Page
            }
        }
        Some(info) => info.kind,
        None => TargetKind::Other,
    };
    let initiator = str_field(p, &["initiator", "url"])
        .filter(|u| !u.is_empty())
        .or_else(|| {
            p.pointer("/initiator/stack/callFrames/0/url")
                .and_then(Value::as_str)
                .filter(|u| !u.is_empty())
                .map(String::from)
        })
        .or_else(|| str_field(p, &["initiator", "type"]));
    let time = p
        .get("wallTime")
        .and_then(Value::as_f64)
        .and_then(secs_to_utc)
        .unwrap_or_else(Utc::now);
    let req = RequestObs {
        url,
        method: str_field(p, &["request", "method"]).unwrap_or_else(|| "GET".into()),
        resource_type: str_field(p, &["type"]).unwrap_or_else(|| "Other".into()),
        initiator,
        frame_id,
        target,
        status: None,
        error: None,
        cancelled: false,
        time,
        page: s.page.clone(),
        state: s.consent(),
    };
    let idx = s.requests.len();
    s.requests.push(req);
    s.by_key.insert(key, idx);
    s.hops.entry(id).or_default().push(idx);
}

fn on_extra_info(state: &Arc<Mutex<State>>, p: &Value) {
    let Some(id) = str_field(p, &["requestId"]) else {
        return;
    };
    let mut s = lock(state);
    let hop = {
        let n = s.extra_count.entry(id.clone()).or_insert(0);
        *n += 1;
        *n - 1
    };
    let mut lines: Vec<(String, Vec<String>)> = Vec::new();
    if let Some(headers) = p.get("headers").and_then(Value::as_object) {
        for (k, v) in headers {
            if k.eq_ignore_ascii_case("set-cookie") {
                if let Some(text) = v.as_str() {
                    for line in text.split('\n').filter(|l| !l.trim().is_empty()) {
                        lines.push((line.to_string(), Vec::new()));
                    }
                }
            }
        }
    }
    for b in p
        .get("blockedCookies")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let Some(line) = b.get("cookieLine").and_then(Value::as_str) else {
            continue;
        };
        let reasons: Vec<String> = b
            .get("blockedReasons")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(|r| r.as_str().map(String::from))
            .collect();
        match lines.iter_mut().find(|(l, _)| l == line) {
            Some((_, rs)) => rs.extend(reasons),
            None => lines.push((line.to_string(), reasons)),
        }
    }
    if lines.is_empty() {
        return;
    }
    let extra = ExtraInfo {
        request_id: id,
        hop,
        lines,
        time: Utc::now(),
        page: s.page.clone(),
        state: s.consent(),
    };
    s.extras.push(extra);
}

fn on_hook_report(state: &Arc<Mutex<State>>, msg: &Value) {
    let mut s = lock(state);
    let now = Utc::now();
    let value = msg.get("v").and_then(Value::as_str).unwrap_or_default();
    match msg.get("k").and_then(Value::as_str) {
        Some("cookie") => {
            let href = msg
                .get("href")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string();
            let Some(c) = cookies::parse_cookie_line(value, now) else {
                return;
            };
            let write = CookieWrite {
                name: c.name,
                domain: c.domain.unwrap_or_else(|| host_of(&href)),
                path: c.path,
                value_hash: c.value_hash,
                requested_lifetime_secs: c.requested_lifetime_secs,
                expiry_unparsed: None,
                source: CookieSource::Script {
                    document_url: strip_query(&href),
                },
                blocked_reasons: Vec::new(),
                time: now,
                page: s.page.clone(),
                state: s.consent(),
            };
            s.cookie_writes.push(write);
        }
        Some("storage") => {
            let write = StorageWrite {
                area: msg
                    .get("area")
                    .and_then(Value::as_str)
                    .unwrap_or("local")
                    .to_string(),
                origin: msg
                    .get("origin")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_string(),
                key: msg
                    .get("key")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_string(),
                value_hash: hash_value(value),
                time: now,
                page: s.page.clone(),
                state: s.consent(),
            };
            s.storage_writes.push(write);
        }
        _ => {}
    }
}

//! The capture state machine: DevTools events in, observations out, no I/O.
//!
//! [`Recorder::handle`] takes one event and returns the commands the browser must be sent
//! in reply ([`Command`]: instrument a new target, answer a dialog; a paused request is let go
//! by the DevTools client as it arrives, `cdp.rs`). The live
//! capture executes them over the websocket; tests replay recorded transcripts
//! (`tests/fixtures/cdp/*.jsonl`) and inspect the commands and [`Recorder::take_captured`].
//!
//! Pending requests (waiting for their response) are what `wait_idle` waits for. A request
//! stops being pending when its response arrives, when it fails, or when it can no longer
//! complete: its document was replaced in its frame (`Page.frameNavigated` with another
//! loader), its frame was detached (`Page.frameDetached`), or its target went away
//! (`Target.detachedFromTarget`, `Target.targetDestroyed`, `Target.targetCrashed`). Chromium
//! does not always send `loadingFailed` for those; they are kept with `cancelled = true`.

use super::cookies;
use super::events::CdpEvent;
use super::{Captured, BINDING};
use crate::net::strip_query;

/// Lower-case host of a URL, empty when it has none.
fn host_of(url: &str) -> String {
    crate::net::url_host(url).unwrap_or_default()
}
use crate::model::{
    ConsentState, CookieSource, CookieWrite, DocumentOutcome, PageError, RequestObs, SignalObs,
    StorageWrite, TargetKind, ValueHasher,
};
use chrono::{DateTime, Utc};
use serde_json::Value;
use std::collections::{HashMap, HashSet};
use std::time::Instant;

/// Most page errors kept per capture; the rest are only counted.
pub const MAX_PAGE_ERRORS: usize = 200;

/// What the recorder needs sent to the browser.
#[derive(Debug, Clone, PartialEq)]
pub enum Command {
    /// Send a command, not waiting for its answer.
    Fire {
        method: &'static str,
        params: Value,
        session: Option<String>,
    },
    /// Instrument a target that was just attached (and paused): enable its domains,
    /// install the hooks, auto-attach to its children, then let it run.
    Instrument { session: String, kind: TargetKind },
    /// A target of another browser context: let it run and detach from it.
    Release { session: String },
    /// Answer autoconsent's request to evaluate a snippet in the page's main world
    /// ([`autoconsent::EvalRequest`]).
    AutoconsentEval(autoconsent::EvalRequest),
}

#[derive(Debug, Clone)]
pub(super) struct SessionInfo {
    pub kind: TargetKind,
    pub target_id: String,
}

/// A request still waiting for its response.
#[derive(Debug, Clone)]
struct Pending {
    url: String,
    session: Option<String>,
    frame_id: Option<String>,
    loader_id: Option<String>,
    resource_type: String,
}

/// One hop of a request id's redirect chain.
#[derive(Debug, Clone)]
struct Hop {
    /// Index into `requests`.
    idx: usize,
    /// Did this hop get a `responseReceivedExtraInfo`? `None` until its response is known.
    has_extra: Option<bool>,
}

/// A `Set-Cookie`-bearing response, resolved to its hop's URL at the end.
#[derive(Debug, Clone)]
struct ExtraInfo {
    request_id: String,
    /// 0-based position among this request id's extra-info events.
    nth: usize,
    lines: Vec<(String, Vec<String>)>,
    /// Its response headers as sent, bounded and redacted, and how many were left out.
    headers: (Vec<crate::model::http::Header>, u32),
    time: DateTime<Utc>,
    page: String,
}

/// A hop's request headers as sent (`requestWillBeSentExtraInfo`), resolved to its hop
/// at the end as [`ExtraInfo`] is.
#[derive(Debug, Clone)]
struct RequestExtra {
    request_id: String,
    nth: usize,
    headers: (Vec<crate::model::http::Header>, u32),
}

/// Everything capture has seen so far.
pub struct Recorder {
    /// Hashes cookie and storage values: the audited database's key
    /// ([`crate::model::ValueHasher`], given by whoever opens the capture).
    pub(super) hasher: ValueHasher,
    pub(super) page: String,
    /// Authentication and origins of the page hook's reports.
    pub(super) hook: page::HookAuth,
    pub(super) crashed: Option<String>,
    /// Page targets whose hooks are installed.
    pub(super) pages_ready: usize,
    pub(super) last_activity: Option<Instant>,
    /// Capture only this browser context's targets (a reused browser); `None`: all.
    pub(super) context: Option<String>,
    sessions: HashMap<String, SessionInfo>,
    /// Session that first reported each request id (a duplicate report comes from another).
    request_session: HashMap<String, Option<String>>,
    known_frames: HashSet<String>,
    page_targets: HashSet<String>,
    requests: Vec<RequestObs>,
    by_key: HashMap<(String, String), usize>,
    hops: HashMap<String, Vec<Hop>>,
    extra_count: HashMap<String, usize>,
    extras: Vec<ExtraInfo>,
    request_extra_count: HashMap<String, usize>,
    request_extras: Vec<RequestExtra>,
    /// Request id -> (index into `requests`, when its headers arrived on DevTools'
    /// monotonic clock, seconds): `loadingFinished` measures HAR's `receive` from it.
    headers_end: HashMap<String, (usize, f64)>,
    /// What the browser-wide interception saw: (network id, the request, the signals its
    /// URL carried when it was too long to be kept whole, [`bound`]).
    fetch_seen: Vec<(String, RequestObs, Option<Vec<SignalObs>>)>,
    /// The consent signals the URLs too long to be kept whole carried, decoded from each
    /// whole URL as its request was recorded ([`bound`]), and those requests' indices.
    request_signals: Vec<SignalObs>,
    decoded: HashSet<usize>,
    /// The site's secrets: what a clipped URL's kept start and hash are of ([`bound`]).
    pub(super) secrets: crate::secrets::Secrets,
    cookie_writes: Vec<CookieWrite>,
    storage_writes: Vec<StorageWrite>,
    /// (session, origin) -> storage writes seen ([`storage`]).
    storage_counts: HashMap<(String, String), u32>,
    inflight: HashMap<String, Pending>,
    documents: Vec<DocumentOutcome>,
    /// Request id of a top-level navigation -> index into `documents`.
    document_ids: HashMap<String, usize>,
    /// Page target id -> index of its latest top-level navigation in `documents`.
    latest_document: HashMap<String, usize>,
    page_errors: Vec<PageError>,
    page_errors_dropped: usize,
    gpc: GpcTally,
    /// Messages autoconsent sent from top-level documents, in arrival order.
    pub(super) autoconsent: Vec<crate::cmp::autoconsent::Message>,
    /// Which execution contexts are autoconsent's isolated world.
    pub(super) autoconsent_worlds: autoconsent::Worlds,
    /// JavaScript dialogs answered ([`super::dialogs`]).
    dialogs: super::dialogs::DialogTally,
    /// (session, request id) of a WebSocket -> index into `requests` ([`websocket`]).
    websockets: HashMap<(Option<String>, String), usize>,
}

/// What Global Privacy Control looked like on the wire and in scripts: every web request
/// the browser-wide interception saw (documents, frames and workers alike), with or
/// without `Sec-GPC: 1`, and `navigator.globalPrivacyControl` in each document, read by
/// the hook before the document's scripts. Workers are not evaluated: a
/// `Runtime.evaluate` in a just-started worker crashed Chromium 156's renderer in 2 of 5
/// runs (docs/signals.md#global-privacy-control).
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct GpcTally {
    pub requests: u32,
    pub with_header: u32,
    pub without_header: Vec<String>,
    pub navigator: Vec<crate::signals::gpc::NavigatorGpc>,
}

impl Recorder {
    /// A recorder whose page hook authenticates with `secret` ([`page::HookAuth`]) and
    /// which hashes the values it sees with `hasher`.
    pub fn new(secret: String, hasher: ValueHasher) -> Self {
        let mut r = Recorder {
            hasher,
            page: Default::default(),
            hook: Default::default(),
            crashed: Default::default(),
            pages_ready: Default::default(),
            last_activity: Default::default(),
            context: Default::default(),
            sessions: Default::default(),
            request_session: Default::default(),
            known_frames: Default::default(),
            page_targets: Default::default(),
            requests: Default::default(),
            by_key: Default::default(),
            hops: Default::default(),
            extra_count: Default::default(),
            extras: Default::default(),
            request_extra_count: Default::default(),
            request_extras: Default::default(),
            headers_end: Default::default(),
            fetch_seen: Default::default(),
            request_signals: Default::default(),
            decoded: Default::default(),
            secrets: Default::default(),
            cookie_writes: Default::default(),
            storage_writes: Default::default(),
            storage_counts: Default::default(),
            inflight: Default::default(),
            documents: Default::default(),
            document_ids: Default::default(),
            latest_document: Default::default(),
            page_errors: Default::default(),
            page_errors_dropped: Default::default(),
            gpc: Default::default(),
            autoconsent: Default::default(),
            autoconsent_worlds: Default::default(),
            dialogs: Default::default(),
            websockets: Default::default(),
        };
        r.hook.secret = secret;
        r
    }

    /// The consent state records are created with: a placeholder. Capture knows nothing
    /// of consent; the engine gives every record its phase from its timeline of consent
    /// transitions when the visit ends (`engine::Visit::into_observation`).
    pub(super) fn consent(&self) -> ConsentState {
        ConsentState::initial()
    }

    fn touch(&mut self) {
        self.last_activity = Some(Instant::now());
    }

    /// URLs of the requests still waiting for their response, sorted.
    pub fn pending(&self) -> Vec<String> {
        let mut urls: Vec<String> = self.inflight.values().map(|p| p.url.clone()).collect();
        urls.sort();
        urls
    }

    /// The page and iframe targets' sessions, page targets first.
    pub(super) fn document_sessions(&self) -> Vec<(String, TargetKind)> {
        let mut out: Vec<(String, TargetKind)> = self
            .sessions
            .iter()
            .filter(|(_, i)| matches!(i.kind, TargetKind::Page | TargetKind::Iframe))
            .map(|(s, i)| (s.clone(), i.kind))
            .collect();
        out.sort_by_key(|(s, k)| (*k != TargetKind::Page, s.clone()));
        out
    }

    pub(super) fn pending_count(&self) -> usize {
        self.inflight.len()
    }

    /// The latest top-level navigation of any page target so far.
    pub fn last_document(&self) -> Option<DocumentOutcome> {
        self.documents.last().cloned()
    }

    /// Feed one event; returns what must be sent to the browser in reply.
    pub fn handle(&mut self, session: Option<&str>, ev: CdpEvent) -> Vec<Command> {
        let mut out = Vec::new();
        match ev {
            // The DevTools client let it go as it arrived (`cdp.rs`): the browser waits.
            CdpEvent::RequestPaused(p) => self.on_paused(p),
            CdpEvent::AttachedToTarget(a) => {
                if let Some(ctx) = &self.context {
                    if a.target_info.browser_context_id.as_deref() != Some(ctx.as_str()) {
                        out.push(Command::Release {
                            session: a.session_id,
                        });
                        return out;
                    }
                }
                let kind = match a.target_info.kind.as_str() {
                    "page" => TargetKind::Page,
                    "iframe" => TargetKind::Iframe,
                    "worker" => TargetKind::Worker,
                    "service_worker" => TargetKind::ServiceWorker,
                    "shared_worker" => TargetKind::SharedWorker,
                    _ => TargetKind::Other,
                };
                let target_id = a.target_info.target_id;
                if matches!(kind, TargetKind::Page | TargetKind::Iframe) {
                    self.known_frames.insert(target_id.clone());
                }
                if kind == TargetKind::Page {
                    self.page_targets.insert(target_id.clone());
                }
                self.sessions
                    .insert(a.session_id.clone(), SessionInfo { kind, target_id });
                out.push(Command::Instrument {
                    session: a.session_id,
                    kind,
                });
            }
            CdpEvent::DetachedFromTarget(d) => {
                self.cancel_where(|p| p.session.as_deref() == Some(d.session_id.as_str()));
                self.sessions.remove(&d.session_id);
            }
            CdpEvent::TargetDestroyed(t) => self.cancel_target(&t.target_id),
            CdpEvent::TargetCrashed(t) => {
                if self.page_targets.contains(&t.target_id) {
                    let status = t.status.unwrap_or_else(|| "crashed".into());
                    self.crashed = Some(format!("the page's renderer process ended ({status})"));
                }
                self.cancel_target(&t.target_id);
            }
            CdpEvent::FrameNavigated(n) => self.on_frame_navigated(session, n.frame),
            CdpEvent::FrameDetached(d) => {
                self.cancel_where(|p| p.frame_id.as_deref() == Some(d.frame_id.as_str()));
            }
            CdpEvent::RequestWillBeSent(r) => self.on_request(session, r),
            CdpEvent::ResponseReceived(r) => self.on_response(r),
            CdpEvent::LoadingFinished(f) => self.on_finished(f),
            CdpEvent::LoadingFailed(f) => self.on_failed(f),
            CdpEvent::ResponseReceivedExtraInfo(x) => self.on_extra_info(x),
            CdpEvent::RequestWillBeSentExtraInfo(x) => self.on_request_extra_info(x),
            CdpEvent::ExceptionThrown(x) => self.on_exception(x),
            CdpEvent::DomStorageItemWritten(w) => self.on_storage_written(session, w),
            CdpEvent::WebSocketCreated(w) => self.on_websocket_created(session, w),
            CdpEvent::WebSocketHandshake(h) => self.on_websocket_handshake(session, h),
            CdpEvent::WebSocketHandshakeResponse(r) => {
                self.on_websocket_status(session, &r.request_id, r.response.status_code())
            }
            CdpEvent::WebSocketFrameSent(f) => {
                self.on_websocket_frame(session, f, websocket::Direction::Sent)
            }
            CdpEvent::WebSocketFrameReceived(f) => {
                self.on_websocket_frame(session, f, websocket::Direction::Received)
            }
            CdpEvent::WebSocketFrameError(f) => self.on_websocket_error(session, f),
            CdpEvent::JavascriptDialogOpening(d) => {
                out.extend(self.dialogs.opened(session, &d.kind))
            }
            CdpEvent::ExecutionContextCreated(c) => {
                self.on_context_created(session, &c.context);
                let key = (session.unwrap_or_default().to_string(), c.context.id);
                let frame = c.context.aux_data.and_then(|a| a.frame_id);
                self.hook.contexts.insert(key, frame);
            }
            CdpEvent::BindingCalled(b) => {
                if b.name == crate::cmp::autoconsent::BINDING {
                    out.extend(self.on_autoconsent_message(session, &b));
                    return out;
                }
                if b.name != BINDING {
                    return out;
                }
                if let Ok(msg) = serde_json::from_str::<Value>(&b.payload) {
                    self.on_hook_report(session, b.execution_context_id, &msg);
                }
            }
        }
        out
    }

    /// Hand over everything recorded (the recorder is left empty of observations).
    pub fn take_captured(&mut self) -> Captured {
        let network = std::mem::take(&mut self.requests);
        // Their indices pointed into what was just taken.
        self.websockets.clear();
        self.headers_end.clear();
        // Resolve each Set-Cookie response to its hop's URL: the n-th extra-info event of
        // a request id belongs to the n-th hop that reached the network (hops served
        // without one, e.g. an internal HSTS redirect, say so and are skipped).
        let mut network = network;
        let mut cookie_writes = std::mem::take(&mut self.cookie_writes);
        // The request headers as sent replace those `requestWillBeSent` gave.
        for extra in std::mem::take(&mut self.request_extras) {
            let hop = self.hop_of_extra(&extra.request_id, extra.nth);
            if let Some(r) = hop.and_then(|i| network.get_mut(i)) {
                let h = r.http.get_or_insert_with(Default::default);
                (h.request_headers, h.request_dropped) = extra.headers;
                h.request_wire = true;
            }
        }
        for extra in std::mem::take(&mut self.extras) {
            let hop = self.hop_of_extra(&extra.request_id, extra.nth);
            if let Some(r) = hop.and_then(|i| network.get_mut(i)) {
                let h = r.http.get_or_insert_with(Default::default);
                (h.response_headers, h.response_dropped) = extra.headers;
                h.response_wire = true;
            }
            let url = hop.and_then(|i| network.get(i)).map(|r| r.url.clone());
            let Some(request_url) = url else { continue };
            let host = host_of(&request_url);
            for (line, reasons) in extra.lines {
                if let Some(c) = cookies::parse_cookie_line(&line, extra.time, &self.hasher) {
                    cookie_writes.push(CookieWrite {
                        name: c.name,
                        domain: c.domain.unwrap_or_else(|| host.clone()),
                        path: c.path,
                        value_hash: c.value_hash,
                        requested_lifetime_secs: c.requested_lifetime_secs,
                        expiry_unparsed: c.expiry_unparsed,
                        source: CookieSource::Header {
                            request_url: strip_query(&request_url),
                        },
                        blocked_reasons: reasons,
                        time: extra.time,
                        page: extra.page.clone(),
                        state: self.consent(),
                    });
                }
            }
        }
        cookie_writes.sort_by_key(|c| c.time);
        // Requests only the browser-wide interception saw (e.g. a beacon during unload):
        // keep those from a frame of ours, drop the browser's own background traffic.
        let mut requests = network;
        let mut seen_fetch = HashSet::new();
        // The signals of the URLs kept whole, decoded now (the others' were, on arrival).
        let mut signals = std::mem::take(&mut self.request_signals);
        let decoded = std::mem::take(&mut self.decoded);
        for (i, r) in requests.iter().enumerate() {
            if !decoded.contains(&i) {
                signals.extend(crate::signals::from_requests(
                    std::slice::from_ref(r),
                    &self.hasher,
                ));
            }
        }
        for (network_id, req, carried) in std::mem::take(&mut self.fetch_seen) {
            let key = (network_id, req.url.clone());
            if self.by_key.contains_key(&key) || !seen_fetch.insert(key) {
                continue;
            }
            if req
                .frame_id
                .as_ref()
                .is_some_and(|f| self.known_frames.contains(f))
            {
                signals.extend(carried.unwrap_or_else(|| {
                    crate::signals::from_requests(std::slice::from_ref(&req), &self.hasher)
                }));
                requests.push(req);
            }
        }
        signals.sort_by_key(|s| s.time);
        requests.sort_by_key(|r| r.time);
        let mut page_errors = std::mem::take(&mut self.page_errors);
        page_errors.sort_by_key(|e| e.time);
        Captured {
            requests,
            signals,
            cookie_writes,
            storage_writes: std::mem::take(&mut self.storage_writes),
            hook: std::mem::take(&mut self.hook.tally),
            page_errors,
            page_errors_dropped: std::mem::take(&mut self.page_errors_dropped),
            documents: std::mem::take(&mut self.documents),
            gpc: std::mem::take(&mut self.gpc),
            dialogs: std::mem::take(&mut self.dialogs),
        }
    }
}

pub(crate) mod autoconsent;
pub(crate) mod bound;
mod network;
pub(crate) mod page;
pub(crate) mod storage;
#[cfg(test)]
mod tests;
pub(crate) mod websocket;

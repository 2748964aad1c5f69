//! Network requests through their lifecycle: paused by the browser-wide interception,
//! sent (with their redirect hops), answered, failed, or cancelled when the document,
//! frame or target they belonged to went away (see the module doc of `recorder.rs` on
//! what "pending" means), and the raw `Set-Cookie` lines of their responses.

use super::super::events;
use super::super::{is_web_url, secs_to_utc};
use super::{ExtraInfo, Hop, Pending, Recorder, RequestExtra};
use crate::model::http::{round3, HttpExchange, HttpTiming, MAX_HEADER_VALUE};
use crate::model::{DocumentOutcome, RequestCause, RequestObs, TargetKind};
use chrono::Utc;
use std::collections::HashSet;

impl Recorder {
    pub(super) fn on_paused(&mut self, p: events::RequestPaused) {
        if is_web_url(&p.request.url) {
            self.gpc.requests = self.gpc.requests.saturating_add(1);
            if p.request.sec_gpc() {
                self.gpc.with_header = self.gpc.with_header.saturating_add(1);
            } else if self.gpc.without_header.len() < crate::signals::gpc::MAX_LISTED {
                self.gpc
                    .without_header
                    .push(self.bound(p.request.url.clone()));
            }
        }
        let whole = p.request.url.clone();
        if !is_web_url(&whole) {
            return;
        }
        self.touch();
        let url = self.bound(whole.clone());
        let (request_headers, request_dropped) = self.headers_of(&p.request.headers);
        let mut req = RequestObs {
            url: whole,
            method: p.request.method.unwrap_or_else(|| "GET".into()),
            resource_type: p.resource_type.unwrap_or_else(|| "Other".into()),
            initiator: None,
            frame_id: p.frame_id.filter(|f| !f.is_empty()),
            target: TargetKind::Browser,
            status: None,
            error: None,
            cancelled: false,
            frames: None,
            cause: None,
            time: Utc::now(),
            page: self.page.clone(),
            state: self.consent(),
            http: Some(Box::new(HttpExchange {
                request_headers,
                request_dropped,
                ..Default::default()
            })),
        };
        // The network id links it to the per-target events; requests sent while a page
        // unloads may have none, so each interception then stands for itself. It is never
        // pending: only the per-target events say when a request ends.
        let id = match p.network_id.filter(|n| !n.is_empty()) {
            Some(n) => n,
            None => format!("fetch:{}", p.request_id),
        };
        let signals = self.signals_of(&req, &url);
        req.url = url;
        self.fetch_seen.push((id, req, signals));
    }

    pub(super) fn on_request(&mut self, session: Option<&str>, r: events::RequestWillBeSent) {
        let id = r.request_id;
        let whole = r.request.url.clone();
        if !is_web_url(&whole) {
            return;
        }
        let url = self.bound(whole.clone());
        let session = session.map(String::from);
        if let Some(first) = self.request_session.get(&id) {
            // The same request reported by a second session (e.g. a service worker
            // attached twice): the first session's report stands.
            if *first != session {
                return;
            }
            // The same event twice (a redirect to the same URL is a new hop).
            if r.redirect_response.is_none() && self.by_key.contains_key(&(id.clone(), url.clone()))
            {
                return;
            }
        }
        self.touch();
        self.request_session.insert(id.clone(), session.clone());
        // A redirect: the previous hop's response arrives here.
        let mut redirected_from = None;
        if let Some(rr) = &r.redirect_response {
            let mut answered = None;
            if let Some(hop) = self.hops.get_mut(&id).and_then(|h| h.last_mut()) {
                hop.has_extra = r.redirect_has_extra_info;
                answered = Some(hop.idx);
                if let Some(req) = self.requests.get_mut(hop.idx) {
                    req.status = rr.status_code();
                    redirected_from = Some(req.url.clone());
                }
            }
            if let Some(idx) = answered {
                self.keep_response(idx, rr, None);
            }
            if let Some(doc) = self.document_mut(&id) {
                doc.status = None;
            }
        }
        let resource_type = r.resource_type.unwrap_or_else(|| "Other".into());
        self.inflight.insert(
            id.clone(),
            Pending {
                url: url.clone(),
                session: session.clone(),
                frame_id: r.frame_id.clone(),
                loader_id: r.loader_id.clone(),
                resource_type: resource_type.clone(),
            },
        );
        let info = session
            .as_ref()
            .and_then(|sid| self.sessions.get(sid))
            .cloned();
        let frame_id = r.frame_id.filter(|f| !f.is_empty());
        if let Some(f) = &frame_id {
            self.known_frames.insert(f.clone());
        }
        let target = match &info {
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
        let cause = self.cause(r.initiator.as_ref(), redirected_from);
        let initiator = r.initiator.and_then(|i| {
            i.url
                .filter(|u| !u.is_empty())
                .or_else(|| i.stack.as_ref().and_then(|s| s.top_url()))
                .or(i.kind)
        });
        let time = r.wall_time.and_then(secs_to_utc).unwrap_or_else(Utc::now);
        let (request_headers, request_dropped) = self.headers_of(&r.request.headers);
        // A top-level navigation: the main frame's document request starts a loader of
        // the same id (redirect hops keep it).
        let top_level = resource_type == "Document"
            && info.as_ref().is_some_and(|i| {
                i.kind == TargetKind::Page && frame_id.as_deref() == Some(i.target_id.as_str())
            })
            && r.loader_id.as_deref() == Some(id.as_str());
        if top_level && !self.document_ids.contains_key(&id) {
            let n = self.documents.len();
            self.documents.push(DocumentOutcome {
                url: url.clone(),
                status: None,
                error: None,
                time,
            });
            self.document_ids.insert(id.clone(), n);
            if let Some(i) = &info {
                self.latest_document.insert(i.target_id.clone(), n);
            }
        }
        let mut req = RequestObs {
            url: whole,
            method: r.request.method.unwrap_or_else(|| "GET".into()),
            resource_type,
            initiator,
            frame_id,
            target,
            status: None,
            error: None,
            cancelled: false,
            frames: None,
            cause,
            time,
            page: self.page.clone(),
            state: self.consent(),
            http: Some(Box::new(HttpExchange {
                request_headers,
                request_dropped,
                ..Default::default()
            })),
        };
        let idx = self.requests.len();
        if let Some(signals) = self.signals_of(&req, &url) {
            self.request_signals.extend(signals);
            self.decoded.insert(idx);
        }
        req.url = url.clone();
        self.requests.push(req);
        self.by_key.insert((id.clone(), url), idx);
        self.hops.entry(id).or_default().push(Hop {
            idx,
            has_extra: None,
        });
    }

    /// What DevTools' initiator says started a request, in parts, and the hop it was
    /// redirected from; every string bounded as it arrives. `None` when there is nothing.
    pub(super) fn cause(
        &self,
        initiator: Option<&events::Initiator>,
        redirected_from: Option<String>,
    ) -> Option<RequestCause> {
        let nonempty = |s: Option<&String>| s.filter(|u| !u.is_empty()).cloned();
        let cause = RequestCause {
            kind: initiator
                .and_then(|i| i.kind.clone())
                .map(|k| self.bound(k))
                .unwrap_or_default(),
            url: initiator
                .and_then(|i| nonempty(i.url.as_ref()))
                .map(|u| self.bound(u)),
            script: initiator
                .and_then(|i| i.stack.as_ref())
                .and_then(|s| s.top_url())
                .map(|u| self.bound(u)),
            redirected_from,
        };
        (cause != RequestCause::default()).then_some(cause)
    }

    pub(super) fn document_mut(&mut self, request_id: &str) -> Option<&mut DocumentOutcome> {
        let i = *self.document_ids.get(request_id)?;
        self.documents.get_mut(i)
    }

    pub(super) fn on_response(&mut self, mut r: events::ResponseReceived) {
        let id = r.request_id;
        self.touch();
        self.inflight.remove(&id);
        let status = r.response.status_code();
        // Which hop answered: found by its URL; a URL too long to be kept whole is not
        // looked up (bounding it again costs a hash of the whole), its hop is the last.
        let by_url = Some(std::mem::take(&mut r.response.url))
            .filter(|u| u.len() <= crate::text::PAGE_STRING_MAX)
            .and_then(|u| self.by_key.get(&(id.clone(), u)).copied());
        let hop = self.hops.get_mut(&id).and_then(|hops| {
            let pos = by_url
                .and_then(|i| hops.iter().position(|h| h.idx == i))
                .unwrap_or(hops.len().saturating_sub(1));
            hops.get_mut(pos)
        });
        if let Some(hop) = hop {
            hop.has_extra = r.has_extra_info;
            let idx = hop.idx;
            if let Some(req) = self.requests.get_mut(idx) {
                if status.is_some() {
                    req.status = status;
                }
                // A response did arrive: whatever stopped us waiting, it was not lost.
                req.cancelled = false;
            }
            self.keep_response(idx, &r.response, Some(&id));
        }
        if let Some(doc) = self.document_mut(&id) {
            doc.status = status;
        }
    }

    pub(super) fn on_failed(&mut self, f: events::LoadingFailed) {
        let id = f.request_id;
        self.touch();
        self.inflight.remove(&id);
        self.headers_end.remove(&id);
        let cancelled = f.canceled == Some(true) || f.error_text == "net::ERR_ABORTED";
        let error = match f.blocked_reason {
            Some(b) => format!("{} (blocked: {b})", f.error_text),
            None => f.error_text,
        };
        // The first failure is the cause: a later one (e.g. the error page Chromium shows
        // being cancelled in turn) does not replace it.
        if let Some(i) = self.hops.get(&id).and_then(|h| h.last()).map(|h| h.idx) {
            if let Some(req) = self.requests.get_mut(i) {
                if req.error.is_none() {
                    req.error = Some(error.clone());
                    req.cancelled = cancelled;
                }
            }
        }
        if let Some(doc) = self.document_mut(&id) {
            doc.error.get_or_insert(error);
        }
    }

    /// A document committed in a frame: the requests of the document it replaced (and of
    /// that document's subframes) can no longer complete.
    pub(super) fn on_frame_navigated(&mut self, session: Option<&str>, frame: events::Frame) {
        self.touch();
        self.hook
            .frame_urls
            .insert(frame.id.clone(), frame.url.clone());
        let info = session.and_then(|s| self.sessions.get(s)).cloned();
        let root =
            frame.parent_id.is_none() || info.as_ref().is_some_and(|i| i.target_id == frame.id);
        let loader = frame.loader_id.clone();
        let frame_id = frame.id.clone();
        self.cancel_where(|p| {
            let in_scope = if root {
                p.session.as_deref() == session
            } else {
                p.frame_id.as_deref() == Some(frame_id.as_str())
            };
            // Beacons (sendBeacon: type Ping) outlive their document by design.
            in_scope && p.loader_id.as_deref() != Some(loader.as_str()) && p.resource_type != "Ping"
        });
        // Chromium's error page: the navigation failed, whatever status it may have seen.
        if frame.url.starts_with("chrome-error://") {
            let Some(info) = info.filter(|i| i.kind == TargetKind::Page && i.target_id == frame.id)
            else {
                return;
            };
            let unreachable = frame.unreachable_url.unwrap_or_default();
            let error = format!("Chromium showed its error page ({})", frame.url);
            match self.latest_document.get(&info.target_id).copied() {
                Some(i) => {
                    if let Some(doc) = self.documents.get_mut(i) {
                        if doc.error.is_none() {
                            doc.error = Some(error);
                        }
                    }
                }
                None => {
                    let n = self.documents.len();
                    self.documents.push(DocumentOutcome {
                        url: unreachable,
                        status: None,
                        error: Some(error),
                        time: Utc::now(),
                    });
                    self.latest_document.insert(info.target_id, n);
                }
            }
        }
    }

    pub(super) fn cancel_target(&mut self, target_id: &str) {
        let sessions: HashSet<String> = self
            .sessions
            .iter()
            .filter(|(_, i)| i.target_id == target_id)
            .map(|(s, _)| s.clone())
            .collect();
        self.cancel_where(|p| p.session.as_ref().is_some_and(|s| sessions.contains(s)));
    }

    /// Stop waiting for the pending requests matching `pred`; they are kept, marked cancelled.
    pub(super) fn cancel_where(&mut self, pred: impl Fn(&Pending) -> bool) {
        let ids: Vec<String> = self
            .inflight
            .iter()
            .filter(|(_, p)| pred(p))
            .map(|(id, _)| id.clone())
            .collect();
        if ids.is_empty() {
            return;
        }
        self.touch();
        for id in ids {
            self.inflight.remove(&id);
            if let Some(i) = self.hops.get(&id).and_then(|h| h.last()).map(|h| h.idx) {
                if let Some(req) = self.requests.get_mut(i) {
                    req.cancelled = true;
                }
            }
            if let Some(doc) = self.document_mut(&id) {
                if doc.error.is_none() && doc.status.is_none() {
                    doc.error =
                        Some("net::ERR_ABORTED (replaced or closed before a response)".into());
                }
            }
        }
    }

    pub(super) fn on_extra_info(&mut self, x: events::ResponseReceivedExtraInfo) {
        let id = x.request_id;
        let nth = {
            let n = self.extra_count.entry(id.clone()).or_insert(0);
            *n = n.saturating_add(1);
            n.saturating_sub(1)
        };
        let mut lines: Vec<(String, Vec<String>)> = Vec::new();
        for (k, v) in &x.headers {
            if k.eq_ignore_ascii_case("set-cookie") {
                if let Some(text) = v.as_str() {
                    for line in text.split('\n').filter(|l| !l.trim().is_empty()) {
                        lines.push((line.to_string(), Vec::new()));
                    }
                }
            }
        }
        for b in x.blocked_cookies {
            if b.cookie_line.is_empty() {
                continue;
            }
            match lines.iter_mut().find(|(l, _)| *l == b.cookie_line) {
                Some((_, rs)) => rs.extend(b.blocked_reasons),
                None => lines.push((b.cookie_line, b.blocked_reasons)),
            }
        }
        let extra = ExtraInfo {
            request_id: id,
            nth,
            lines,
            headers: self.headers_of(&x.headers),
            time: Utc::now(),
            page: self.page.clone(),
        };
        self.extras.push(extra);
    }

    /// The request headers as sent (with `Cookie`), kept for the n-th hop of the request
    /// id that reached the network (resolved in `take_captured`).
    pub(super) fn on_request_extra_info(&mut self, x: events::RequestWillBeSentExtraInfo) {
        let nth = {
            let n = self
                .request_extra_count
                .entry(x.request_id.clone())
                .or_insert(0);
            *n = n.saturating_add(1);
            n.saturating_sub(1)
        };
        let headers = self.headers_of(&x.headers);
        self.request_extras.push(RequestExtra {
            request_id: x.request_id,
            nth,
            headers,
        });
    }

    /// The index into the requests of the n-th hop of `request_id` that reached the
    /// network (that had, or may have had, ExtraInfo events); the last such hop when
    /// there are fewer, else the last hop.
    pub(super) fn hop_of_extra(&self, request_id: &str, nth: usize) -> Option<usize> {
        let hops = self.hops.get(request_id)?;
        let with_extra: Vec<&Hop> = hops.iter().filter(|h| h.has_extra != Some(false)).collect();
        with_extra
            .get(nth)
            .or(with_extra.last())
            .map(|h| h.idx)
            .or(hops.last().map(|h| h.idx))
    }

    /// What a response says of its hop `idx`: status text, MIME type, protocol, timing,
    /// and its headers unless the wire ones arrive (`responseReceivedExtraInfo`, applied
    /// last). With `id`, `loadingFinished` of that request id will add HAR's `receive`.
    pub(super) fn keep_response(&mut self, idx: usize, resp: &events::Response, id: Option<&str>) {
        let (headers, dropped) = self.headers_of(&resp.headers);
        let bound = |s: &Option<String>| {
            s.as_ref().filter(|t| !t.is_empty()).map(|t| {
                let mut t = self.secrets.redact(t).into_owned();
                crate::model::clip::clip_to(
                    &mut t,
                    MAX_HEADER_VALUE,
                    &self.hasher,
                    &crate::model::clip::as_is,
                );
                t
            })
        };
        let status_text = bound(&resp.status_text);
        let mime_type = bound(&resp.mime_type);
        let protocol = bound(&resp.protocol);
        let timing = resp.timing.map(|t| HttpTiming::from_devtools(&t.model()));
        if let (Some(id), Some(t)) = (id, resp.timing) {
            let end = t.request_time + t.receive_headers_end / 1000.0;
            if t.request_time > 0.0 && t.receive_headers_end >= 0.0 && end.is_finite() {
                self.headers_end.insert(id.to_string(), (idx, end));
            }
        }
        let Some(req) = self.requests.get_mut(idx) else {
            return;
        };
        let h = req.http.get_or_insert_with(Default::default);
        if !h.response_wire {
            h.response_headers = headers;
            h.response_dropped = dropped;
        }
        h.status_text = status_text;
        h.mime_type = mime_type;
        h.protocol = protocol;
        h.timing = timing;
    }

    /// A request finished loading: HAR's `receive` of its last hop, from its headers to
    /// now.
    pub(super) fn on_finished(&mut self, f: events::LoadingFinished) {
        self.touch();
        self.inflight.remove(&f.request_id);
        let Some((idx, end)) = self.headers_end.remove(&f.request_id) else {
            return;
        };
        let Some(at) = f.timestamp.filter(|t| t.is_finite() && *t >= end) else {
            return;
        };
        if let Some(t) = self
            .requests
            .get_mut(idx)
            .and_then(|r| r.http.as_mut())
            .and_then(|h| h.timing.as_mut())
        {
            t.receive = round3((at - end) * 1000.0);
        }
    }
}

//! WebSocket connections as the browser saw them (`Network.webSocketCreated` and the
//! handshake and frame events of the target's session): each one is a request of resource
//! type `WebSocket` (its URL, its handshake's time and status), attributed and judged like
//! any other request; its frames are counted, never read. Fetch interception and
//! `requestWillBeSent` never see a WebSocket, so there is nothing to merge.
//!
//! A WebSocket is never pending: an open connection would hold every settle until its
//! timeout; it is a request made, not one waiting for its answer.

use super::super::events::{WebSocketCreated, WebSocketFrame, WebSocketHandshake};
use super::super::{is_web_url, secs_to_utc};
use super::Recorder;
use crate::model::{FrameCounts, RequestObs, TargetKind};
use chrono::Utc;

/// The resource type WebSocket requests are stored with (DevTools' own name for it).
pub const WEBSOCKET: &str = "WebSocket";

/// Which frame count an event adds to.
#[derive(Debug, Clone, Copy)]
pub(super) enum Direction {
    Sent,
    Received,
}

impl Recorder {
    /// Which request a WebSocket event of `session` is about.
    fn websocket_mut(&mut self, session: Option<&str>, id: &str) -> Option<&mut RequestObs> {
        let key = (session.map(String::from), id.to_string());
        let i = *self.websockets.get(&key)?;
        self.requests.get_mut(i)
    }

    pub(super) fn on_websocket_created(&mut self, session: Option<&str>, w: WebSocketCreated) {
        // `ws:` / `wss:` (DevTools reports them as written); anything else is not the web.
        let web = w
            .url
            .strip_prefix("ws")
            .map(|rest| format!("http{rest}"))
            .is_some_and(|u| is_web_url(&u));
        if !web {
            return;
        }
        self.touch();
        let target = session
            .and_then(|s| self.sessions.get(s))
            .map_or(TargetKind::Other, |i| i.kind);
        let cause = self.cause(w.initiator.as_ref(), None);
        let initiator = w.initiator.and_then(|i| {
            i.url
                .filter(|u| !u.is_empty())
                .or_else(|| i.stack.as_ref().and_then(|s| s.top_url()))
                .or(i.kind)
        });
        let req = RequestObs {
            url: w.url,
            method: "GET".into(),
            resource_type: WEBSOCKET.into(),
            initiator,
            frame_id: None,
            target,
            status: None,
            error: None,
            cancelled: false,
            frames: Some(FrameCounts::default()),
            cause,
            time: Utc::now(),
            page: self.page.clone(),
            state: self.consent(),
            http: None,
        };
        let i = self.requests.len();
        self.requests.push(req);
        self.websockets
            .insert((session.map(String::from), w.request_id), i);
    }

    /// The handshake is sent: the request's time is the browser's wall time for it.
    pub(super) fn on_websocket_handshake(&mut self, session: Option<&str>, h: WebSocketHandshake) {
        let time = h.wall_time.and_then(secs_to_utc);
        if let (Some(req), Some(t)) = (self.websocket_mut(session, &h.request_id), time) {
            req.time = t;
        }
    }

    pub(super) fn on_websocket_status(
        &mut self,
        session: Option<&str>,
        id: &str,
        status: Option<u16>,
    ) {
        self.touch();
        if let Some(req) = self.websocket_mut(session, id) {
            req.status = status.or(req.status);
        }
    }

    pub(super) fn on_websocket_frame(
        &mut self,
        session: Option<&str>,
        f: WebSocketFrame,
        d: Direction,
    ) {
        self.touch();
        let Some(req) = self.websocket_mut(session, &f.request_id) else {
            return;
        };
        let counts = req.frames.get_or_insert_with(FrameCounts::default);
        match d {
            Direction::Sent => counts.sent = counts.sent.saturating_add(1),
            Direction::Received => counts.received = counts.received.saturating_add(1),
        }
    }

    /// A frame error (a failed handshake among them): the first one is the request's error.
    pub(super) fn on_websocket_error(&mut self, session: Option<&str>, f: WebSocketFrame) {
        self.touch();
        if let Some(req) = self.websocket_mut(session, &f.request_id) {
            if req.error.is_none() {
                req.error = Some(f.error_message.unwrap_or_else(|| "WebSocket error".into()));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::Recorder;
    use crate::capture::cdp::Event;
    use crate::capture::events::CdpEvent;
    use crate::model::{FrameCounts, TargetKind, ValueHasher};
    use serde_json::{json, Value};

    fn feed(rec: &mut Recorder, session: &str, method: &str, params: Value) {
        let ev = Event {
            session_id: Some(session.into()),
            method: method.into(),
            params,
        };
        let typed = CdpEvent::parse(&ev).unwrap_or_else(|| panic!("{method} did not parse"));
        rec.handle(Some(session), typed);
    }

    /// A WebSocket is a request of type `WebSocket`: created with its URL and the session's
    /// target kind, timed by its handshake, its status from the handshake's answer, its
    /// frames counted per direction (the same request id in another session is another
    /// socket), its first error kept; never pending. A non-web URL is no request.
    #[test]
    fn websocket_events_make_one_request_with_its_frames_counted() {
        let mut rec = Recorder::new("s".into(), ValueHasher::unkeyed());
        rec.page = "https://www.shop.test/".into();
        feed(
            &mut rec,
            "W",
            "Target.attachedToTarget",
            json!({ "sessionId": "W", "targetInfo": { "targetId": "T2", "type": "worker" } }),
        );
        let created = |url: &str| {
            json!({ "requestId": "9.1", "url": url,
            "initiator": { "type": "script", "url": "https://www.shop.test/app.js" } })
        };
        feed(
            &mut rec,
            "P",
            "Network.webSocketCreated",
            created("wss://ws.tracker.test/s"),
        );
        feed(
            &mut rec,
            "W",
            "Network.webSocketCreated",
            created("ws://w.tracker.test/s"),
        );
        feed(
            &mut rec,
            "P",
            "Network.webSocketCreated",
            json!({ "requestId": "9.2", "url": "chrome://x" }),
        );
        feed(
            &mut rec,
            "P",
            "Network.webSocketWillSendHandshakeRequest",
            json!({ "requestId": "9.1", "timestamp": 1.0, "wallTime": 1_800_000_000.0, "request": { "headers": {} } }),
        );
        feed(
            &mut rec,
            "P",
            "Network.webSocketHandshakeResponseReceived",
            json!({ "requestId": "9.1", "timestamp": 1.1, "response": { "status": 101, "statusText": "", "headers": {} } }),
        );
        for _ in 0..3 {
            feed(
                &mut rec,
                "P",
                "Network.webSocketFrameSent",
                json!({ "requestId": "9.1", "timestamp": 2.0, "response": { "opcode": 1, "mask": true, "payloadData": "secret" } }),
            );
        }
        feed(
            &mut rec,
            "P",
            "Network.webSocketFrameReceived",
            json!({ "requestId": "9.1", "timestamp": 2.0, "response": { "opcode": 1, "mask": false, "payloadData": "x" } }),
        );
        feed(
            &mut rec,
            "W",
            "Network.webSocketFrameError",
            json!({ "requestId": "9.1", "timestamp": 3.0, "errorMessage": "Error during WebSocket handshake: Unexpected response code: 403" }),
        );
        feed(
            &mut rec,
            "W",
            "Network.webSocketFrameError",
            json!({ "requestId": "9.1", "timestamp": 3.0, "errorMessage": "later" }),
        );
        assert!(rec.pending().is_empty());
        let c = rec.take_captured();
        let got: Vec<_> = c
            .requests
            .iter()
            .map(|r| {
                (
                    r.url.as_str(),
                    r.resource_type.as_str(),
                    r.target,
                    r.status,
                    r.error.as_deref(),
                    r.frames,
                    r.initiator.as_deref(),
                )
            })
            .collect();
        assert_eq!(
            got,
            [
                (
                    "wss://ws.tracker.test/s",
                    "WebSocket",
                    TargetKind::Other,
                    Some(101),
                    None,
                    Some(FrameCounts {
                        sent: 3,
                        received: 1
                    }),
                    Some("https://www.shop.test/app.js"),
                ),
                (
                    "ws://w.tracker.test/s",
                    "WebSocket",
                    TargetKind::Worker,
                    None,
                    Some("Error during WebSocket handshake: Unexpected response code: 403"),
                    Some(FrameCounts::default()),
                    Some("https://www.shop.test/app.js"),
                ),
            ]
            .into_iter()
            .rev()
            .collect::<Vec<_>>()
        );
        assert_eq!(
            c.requests[1].time,
            crate::capture::secs_to_utc(1_800_000_000.0).unwrap()
        );
        // Nothing of a frame's payload is kept anywhere.
        assert!(!format!("{c:?}").contains("secret"));
    }
}

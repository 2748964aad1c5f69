//! The DevTools events capture uses, as typed structs deserialised from `Event.params`.
//!
//! Only the fields we read are declared; everything else in a message is ignored, and an
//! event we do not know (or whose params do not fit) is [`CdpEvent::parse`]d to `None`.

use super::cdp::Event;
use serde::Deserialize;

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Request {
    pub url: String,
    #[serde(default)]
    pub method: Option<String>,
    /// Request headers (only `Sec-GPC` is read, from `Fetch.requestPaused`).
    #[serde(default)]
    pub headers: serde_json::Map<String, serde_json::Value>,
}

impl Request {
    /// Did the request carry `Sec-GPC: 1`?
    pub fn sec_gpc(&self) -> bool {
        self.headers.iter().any(|(k, v)| {
            k.eq_ignore_ascii_case("sec-gpc") && v.as_str().map(str::trim) == Some("1")
        })
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Response {
    #[serde(default)]
    pub url: String,
    #[serde(default)]
    pub status: Option<f64>,
    #[serde(default)]
    pub status_text: Option<String>,
    /// Response headers as DevTools parsed them (the wire ones, with `Set-Cookie`, come
    /// in `responseReceivedExtraInfo`).
    #[serde(default)]
    pub headers: serde_json::Map<String, serde_json::Value>,
    #[serde(default)]
    pub mime_type: Option<String>,
    #[serde(default)]
    pub protocol: Option<String>,
    #[serde(default)]
    pub timing: Option<ResourceTiming>,
}

fn unknown() -> f64 {
    -1.0
}

/// DevTools' `Network.ResourceTiming`: `requestTime` in seconds (monotonic), the others
/// in milliseconds after it, -1 when a phase did not happen.
#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ResourceTiming {
    #[serde(default = "unknown")]
    pub request_time: f64,
    #[serde(default = "unknown")]
    pub dns_start: f64,
    #[serde(default = "unknown")]
    pub dns_end: f64,
    #[serde(default = "unknown")]
    pub connect_start: f64,
    #[serde(default = "unknown")]
    pub connect_end: f64,
    #[serde(default = "unknown")]
    pub ssl_start: f64,
    #[serde(default = "unknown")]
    pub ssl_end: f64,
    #[serde(default = "unknown")]
    pub send_start: f64,
    #[serde(default = "unknown")]
    pub send_end: f64,
    #[serde(default = "unknown")]
    pub receive_headers_end: f64,
}

impl ResourceTiming {
    pub fn model(&self) -> crate::model::http::DevtoolsTiming {
        crate::model::http::DevtoolsTiming {
            request_time: self.request_time,
            dns_start: self.dns_start,
            dns_end: self.dns_end,
            connect_start: self.connect_start,
            connect_end: self.connect_end,
            ssl_start: self.ssl_start,
            ssl_end: self.ssl_end,
            send_start: self.send_start,
            send_end: self.send_end,
            receive_headers_end: self.receive_headers_end,
        }
    }
}

impl Response {
    pub fn status_code(&self) -> Option<u16> {
        self.status
            .filter(|s| s.is_finite() && *s >= 0.0 && *s <= f64::from(u16::MAX))
            .map(|s| s as u16)
    }
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CallFrame {
    #[serde(default)]
    pub url: String,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StackTrace {
    #[serde(default)]
    pub call_frames: Vec<CallFrame>,
    #[serde(default)]
    pub parent: Option<Box<StackTrace>>,
}

impl StackTrace {
    /// The innermost script URL, looking through async parents.
    pub fn top_url(&self) -> Option<String> {
        let mut cur = Some(self);
        while let Some(st) = cur {
            if let Some(f) = st.call_frames.iter().find(|f| !f.url.is_empty()) {
                return Some(f.url.clone());
            }
            cur = st.parent.as_deref();
        }
        None
    }
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Initiator {
    #[serde(rename = "type", default)]
    pub kind: Option<String>,
    #[serde(default)]
    pub url: Option<String>,
    #[serde(default)]
    pub stack: Option<StackTrace>,
}

/// `Network.requestWillBeSent`
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RequestWillBeSent {
    pub request_id: String,
    #[serde(default)]
    pub loader_id: Option<String>,
    pub request: Request,
    #[serde(rename = "type", default)]
    pub resource_type: Option<String>,
    #[serde(default)]
    pub frame_id: Option<String>,
    #[serde(default)]
    pub initiator: Option<Initiator>,
    #[serde(default)]
    pub wall_time: Option<f64>,
    /// Set when this event is the next hop of a redirect: the previous hop's response.
    #[serde(default)]
    pub redirect_response: Option<Box<Response>>,
    /// Whether the previous hop got a `responseReceivedExtraInfo`.
    #[serde(default)]
    pub redirect_has_extra_info: Option<bool>,
}

/// `Network.responseReceived`
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ResponseReceived {
    pub request_id: String,
    pub response: Response,
    #[serde(default)]
    pub has_extra_info: Option<bool>,
}

/// `Network.loadingFinished`
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LoadingFinished {
    pub request_id: String,
    /// Seconds, on the clock of `ResourceTiming::request_time`.
    #[serde(default)]
    pub timestamp: Option<f64>,
}

/// `Network.requestWillBeSentExtraInfo`: the request headers as sent (with `Cookie`),
/// one per hop that reached the network.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RequestWillBeSentExtraInfo {
    pub request_id: String,
    #[serde(default)]
    pub headers: serde_json::Map<String, serde_json::Value>,
}

/// `Network.loadingFailed`
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LoadingFailed {
    pub request_id: String,
    #[serde(default)]
    pub error_text: String,
    #[serde(default)]
    pub canceled: Option<bool>,
    #[serde(default)]
    pub blocked_reason: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BlockedSetCookie {
    #[serde(default)]
    pub cookie_line: String,
    #[serde(default)]
    pub blocked_reasons: Vec<String>,
}

/// `Network.responseReceivedExtraInfo`: one per hop that reached the network.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ResponseReceivedExtraInfo {
    pub request_id: String,
    #[serde(default)]
    pub headers: serde_json::Map<String, serde_json::Value>,
    #[serde(default)]
    pub blocked_cookies: Vec<BlockedSetCookie>,
    #[serde(default)]
    pub status_code: Option<f64>,
}

/// `Fetch.requestPaused` (browser-wide interception, Request stage).
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RequestPaused {
    pub request_id: String,
    pub request: Request,
    #[serde(default)]
    pub resource_type: Option<String>,
    #[serde(default)]
    pub frame_id: Option<String>,
    #[serde(default)]
    pub network_id: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TargetInfo {
    pub target_id: String,
    #[serde(rename = "type", default)]
    pub kind: String,
    #[serde(default)]
    pub url: String,
    #[serde(default)]
    pub browser_context_id: Option<String>,
}

/// `Target.attachedToTarget`
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AttachedToTarget {
    pub session_id: String,
    pub target_info: TargetInfo,
}

/// `Target.detachedFromTarget`
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DetachedFromTarget {
    pub session_id: String,
}

/// `Target.targetDestroyed`
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TargetDestroyed {
    pub target_id: String,
}

/// `Target.targetCrashed`
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TargetCrashed {
    pub target_id: String,
    #[serde(default)]
    pub status: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Frame {
    pub id: String,
    #[serde(default)]
    pub parent_id: Option<String>,
    #[serde(default)]
    pub loader_id: String,
    #[serde(default)]
    pub url: String,
    #[serde(default)]
    pub unreachable_url: Option<String>,
}

/// `Page.frameNavigated`: a document committed in a frame.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FrameNavigated {
    pub frame: Frame,
}

/// `Page.frameDetached`
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FrameDetached {
    pub frame_id: String,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RemoteObject {
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub value: Option<serde_json::Value>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ExceptionDetails {
    #[serde(default)]
    pub text: String,
    #[serde(default)]
    pub url: Option<String>,
    #[serde(default)]
    pub exception: Option<RemoteObject>,
    #[serde(default)]
    pub stack_trace: Option<StackTrace>,
}

/// `Runtime.exceptionThrown`
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ExceptionThrown {
    /// Milliseconds since the epoch.
    #[serde(default)]
    pub timestamp: Option<f64>,
    pub exception_details: ExceptionDetails,
}

/// `Runtime.bindingCalled`
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BindingCalled {
    pub name: String,
    pub payload: String,
    /// The execution context (document or world) that called the binding.
    #[serde(default)]
    pub execution_context_id: i64,
}

/// `Runtime.executionContextCreated`: a document's (or world's) execution context.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ExecutionContextCreated {
    pub context: ExecutionContext,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ExecutionContext {
    pub id: i64,
    /// The world's name: empty for a document's main world, the `worldName` of an
    /// isolated world (`Page.addScriptToEvaluateOnNewDocument`).
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub aux_data: Option<ContextAux>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ContextAux {
    #[serde(default)]
    pub frame_id: Option<String>,
    #[serde(default)]
    pub is_default: bool,
}

/// `Page.javascriptDialogOpening`: an `alert`, `confirm`, `prompt` or `beforeunload`
/// dialog opened in a document of the target (its script waits until it is answered).
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct JavascriptDialogOpening {
    #[serde(rename = "type", default)]
    pub kind: String,
}

/// Which Web Storage area a `DOMStorage` event is about.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StorageId {
    /// The origin of the document that wrote (absent in newer Chromium, which says
    /// `storage_key` instead).
    #[serde(default)]
    pub security_origin: Option<String>,
    /// The storage key: the origin, then `^` and the top-level site for a partitioned
    /// (third-party) area, e.g. `https://www.facebook.com/^0https://demo-shop.test`.
    #[serde(default)]
    pub storage_key: Option<String>,
    pub is_local_storage: bool,
}

/// `DOMStorage.domStorageItemAdded` and `DOMStorage.domStorageItemUpdated`: the browser
/// stored `new_value` under `key` (a write it refused, over its quota, sends none). The
/// events carry no timestamp.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DomStorageItemWritten {
    pub storage_id: StorageId,
    pub key: String,
    #[serde(default)]
    pub new_value: String,
}

/// `Network.webSocketCreated`: a page, frame or worker opened a WebSocket (no frame id:
/// the target's session says whose it is).
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WebSocketCreated {
    pub request_id: String,
    pub url: String,
    #[serde(default)]
    pub initiator: Option<Initiator>,
}

/// `Network.webSocketWillSendHandshakeRequest`: the opening handshake is sent.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WebSocketHandshake {
    pub request_id: String,
    #[serde(default)]
    pub wall_time: Option<f64>,
}

/// `Network.webSocketHandshakeResponseReceived`: the server's answer (101 when it agreed).
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WebSocketHandshakeResponse {
    pub request_id: String,
    pub response: Response,
}

/// `Network.webSocketFrameSent` / `webSocketFrameReceived` (only the existence of a
/// frame is read, never its payload), `webSocketFrameError` (its message).
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WebSocketFrame {
    pub request_id: String,
    #[serde(default)]
    pub error_message: Option<String>,
}

/// One cookie of a `Storage.getCookies` result (a command's answer, not an event).
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Cookie {
    pub name: String,
    #[serde(default)]
    pub value: String,
    #[serde(default)]
    pub domain: String,
    #[serde(default)]
    pub path: Option<String>,
    /// Seconds since the epoch; -1 (or `session`) for a session cookie.
    #[serde(default)]
    pub expires: f64,
    #[serde(default)]
    pub session: bool,
    #[serde(default)]
    pub secure: bool,
    #[serde(default)]
    pub http_only: bool,
    #[serde(default)]
    pub same_site: Option<String>,
    /// A string in older Chromium, `{topLevelSite, hasCrossSiteAncestor}` in newer.
    #[serde(default)]
    pub partition_key: Option<serde_json::Value>,
}

/// The events capture reacts to.
#[derive(Debug, Clone)]
pub enum CdpEvent {
    RequestWillBeSent(RequestWillBeSent),
    ResponseReceived(ResponseReceived),
    LoadingFinished(LoadingFinished),
    LoadingFailed(LoadingFailed),
    ResponseReceivedExtraInfo(ResponseReceivedExtraInfo),
    RequestWillBeSentExtraInfo(RequestWillBeSentExtraInfo),
    RequestPaused(RequestPaused),
    AttachedToTarget(AttachedToTarget),
    DetachedFromTarget(DetachedFromTarget),
    TargetDestroyed(TargetDestroyed),
    TargetCrashed(TargetCrashed),
    FrameNavigated(FrameNavigated),
    FrameDetached(FrameDetached),
    ExceptionThrown(ExceptionThrown),
    BindingCalled(BindingCalled),
    ExecutionContextCreated(ExecutionContextCreated),
    JavascriptDialogOpening(JavascriptDialogOpening),
    /// `DOMStorage.domStorageItemAdded` or `domStorageItemUpdated`.
    DomStorageItemWritten(DomStorageItemWritten),
    WebSocketCreated(WebSocketCreated),
    WebSocketHandshake(WebSocketHandshake),
    WebSocketHandshakeResponse(WebSocketHandshakeResponse),
    WebSocketFrameSent(WebSocketFrame),
    WebSocketFrameReceived(WebSocketFrame),
    WebSocketFrameError(WebSocketFrame),
}

impl CdpEvent {
    /// The typed form of `ev`; `None` for events we do not use or params that do not fit.
    pub fn parse(ev: &Event) -> Option<CdpEvent> {
        fn de<T: serde::de::DeserializeOwned>(ev: &Event) -> Option<T> {
            T::deserialize(&ev.params).ok()
        }
        Some(match ev.method.as_str() {
            "Network.requestWillBeSent" => CdpEvent::RequestWillBeSent(de(ev)?),
            "Network.responseReceived" => CdpEvent::ResponseReceived(de(ev)?),
            "Network.loadingFinished" => CdpEvent::LoadingFinished(de(ev)?),
            "Network.loadingFailed" => CdpEvent::LoadingFailed(de(ev)?),
            "Network.responseReceivedExtraInfo" => CdpEvent::ResponseReceivedExtraInfo(de(ev)?),
            "Network.requestWillBeSentExtraInfo" => CdpEvent::RequestWillBeSentExtraInfo(de(ev)?),
            "Fetch.requestPaused" => CdpEvent::RequestPaused(de(ev)?),
            "Target.attachedToTarget" => CdpEvent::AttachedToTarget(de(ev)?),
            "Target.detachedFromTarget" => CdpEvent::DetachedFromTarget(de(ev)?),
            "Target.targetDestroyed" => CdpEvent::TargetDestroyed(de(ev)?),
            "Target.targetCrashed" => CdpEvent::TargetCrashed(de(ev)?),
            "Page.frameNavigated" => CdpEvent::FrameNavigated(de(ev)?),
            "Page.frameDetached" => CdpEvent::FrameDetached(de(ev)?),
            "Runtime.exceptionThrown" => CdpEvent::ExceptionThrown(de(ev)?),
            "Runtime.bindingCalled" => CdpEvent::BindingCalled(de(ev)?),
            "Runtime.executionContextCreated" => CdpEvent::ExecutionContextCreated(de(ev)?),
            "Page.javascriptDialogOpening" => CdpEvent::JavascriptDialogOpening(de(ev)?),
            "DOMStorage.domStorageItemAdded" | "DOMStorage.domStorageItemUpdated" => {
                CdpEvent::DomStorageItemWritten(de(ev)?)
            }
            "Network.webSocketCreated" => CdpEvent::WebSocketCreated(de(ev)?),
            "Network.webSocketWillSendHandshakeRequest" => CdpEvent::WebSocketHandshake(de(ev)?),
            "Network.webSocketHandshakeResponseReceived" => {
                CdpEvent::WebSocketHandshakeResponse(de(ev)?)
            }
            "Network.webSocketFrameSent" => CdpEvent::WebSocketFrameSent(de(ev)?),
            "Network.webSocketFrameReceived" => CdpEvent::WebSocketFrameReceived(de(ev)?),
            "Network.webSocketFrameError" => CdpEvent::WebSocketFrameError(de(ev)?),
            _ => return None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn ev(method: &str, params: serde_json::Value) -> Event {
        Event {
            session_id: Some("S".into()),
            method: method.into(),
            params,
        }
    }

    #[test]
    fn unknown_and_malformed_events_are_ignored() {
        assert!(CdpEvent::parse(&ev("Page.lifecycleEvent", json!({}))).is_none());
        assert!(CdpEvent::parse(&ev("Network.requestWillBeSent", json!({"x": 1}))).is_none());
        assert!(CdpEvent::parse(&ev("Network.loadingFinished", json!(null))).is_none());
    }

    #[test]
    fn request_fields_are_read() {
        let e = CdpEvent::parse(&ev(
            "Network.requestWillBeSent",
            json!({"requestId": "1.2", "loaderId": "L", "type": "Script", "frameId": "F",
                   "request": {"url": "https://a.test/x.js", "method": "GET", "headers": {}},
                   "initiator": {"type": "script", "stack": {"callFrames": [],
                       "parent": {"callFrames": [{"url": "https://a.test/tag.js"}]}}},
                   "redirectResponse": {"url": "https://a.test/r", "status": 302},
                   "redirectHasExtraInfo": true, "wallTime": 1.5, "unknown": [1, 2]}),
        ));
        let Some(CdpEvent::RequestWillBeSent(r)) = e else {
            panic!("{e:?}")
        };
        assert_eq!(r.request.url, "https://a.test/x.js");
        assert_eq!(r.redirect_response.unwrap().status_code(), Some(302));
        assert_eq!(
            r.initiator.unwrap().stack.unwrap().top_url().as_deref(),
            Some("https://a.test/tag.js")
        );
    }
}

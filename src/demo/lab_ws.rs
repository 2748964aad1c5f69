//! `/lab/ws`: a WebSocket endpoint on every demo host (for `/lab/websocket`). It greets
//! with one text frame, echoes each frame it is sent, and closes; bounded: at most
//! [`MAX_MESSAGES`] echoed, [`LIFETIME`] at most per connection.

use std::time::Duration;

use futures_util::{SinkExt as _, StreamExt as _};
use http_body_util::Full;
use hyper::body::{Bytes, Incoming};
use hyper::header::{HeaderValue, CONNECTION, SEC_WEBSOCKET_ACCEPT, SEC_WEBSOCKET_KEY, UPGRADE};
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use tokio_tungstenite::tungstenite::handshake::derive_accept_key;
use tokio_tungstenite::tungstenite::protocol::Role;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::WebSocketStream;

/// Most frames a connection echoes before the server closes it.
const MAX_MESSAGES: usize = 32;
/// Longest a connection stays open.
const LIFETIME: Duration = Duration::from_secs(10);

/// Is this a WebSocket opening handshake for `/lab/ws`?
pub(super) fn is_upgrade(req: &Request<Incoming>) -> bool {
    req.uri().path() == "/lab/ws"
        && req
            .headers()
            .get(UPGRADE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.eq_ignore_ascii_case("websocket"))
        && req.headers().contains_key(SEC_WEBSOCKET_KEY)
}

/// Answers the handshake (101) and serves the connection once hyper hands it over.
pub(super) fn upgrade(mut req: Request<Incoming>) -> Response<Full<Bytes>> {
    let accept = req
        .headers()
        .get(SEC_WEBSOCKET_KEY)
        .map(|k| derive_accept_key(k.as_bytes()))
        .and_then(|a| HeaderValue::from_str(&a).ok());
    let Some(accept) = accept else {
        let mut r = Response::new(Full::new(Bytes::new()));
        *r.status_mut() = StatusCode::BAD_REQUEST;
        return r;
    };
    let upgraded = hyper::upgrade::on(&mut req);
    tokio::spawn(async move {
        let Ok(io) = upgraded.await else { return };
        let ws = WebSocketStream::from_raw_socket(TokioIo::new(io), Role::Server, None).await;
        let _ = tokio::time::timeout(LIFETIME, echo(ws)).await;
    });
    let mut r = Response::new(Full::new(Bytes::new()));
    *r.status_mut() = StatusCode::SWITCHING_PROTOCOLS;
    let h = r.headers_mut();
    h.insert(UPGRADE, HeaderValue::from_static("websocket"));
    h.insert(CONNECTION, HeaderValue::from_static("Upgrade"));
    h.insert(SEC_WEBSOCKET_ACCEPT, accept);
    r
}

async fn echo<S>(mut ws: WebSocketStream<S>)
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
{
    if ws.send(Message::text("hello")).await.is_err() {
        return;
    }
    let mut echoed = 0;
    while let Some(Ok(msg)) = ws.next().await {
        match msg {
            Message::Text(_) | Message::Binary(_) if echoed < MAX_MESSAGES => {
                echoed += 1;
                if ws.send(msg).await.is_err() {
                    return;
                }
            }
            Message::Close(_) => break,
            _ => {}
        }
    }
    let _ = ws.close(None).await;
}

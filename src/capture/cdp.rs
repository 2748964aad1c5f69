//! A minimal Chrome DevTools Protocol client over one websocket, with flattened
//! target sessions (`sessionId` on every message).
//!
//! Commands get their response through a oneshot; events go to one unbounded channel
//! in arrival order, so nothing is dropped while the consumer is busy.

use anyhow::{anyhow, Context, Result};
use futures_util::{SinkExt, StreamExt};
use serde_json::{json, Value};
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::{mpsc, oneshot};
use tokio_tungstenite::tungstenite::Message;

/// One DevTools event.
#[derive(Debug, Clone)]
pub struct Event {
    pub session_id: Option<String>,
    pub method: String,
    pub params: Value,
}

type Pending = Arc<Mutex<HashMap<u64, oneshot::Sender<Result<Value>>>>>;

/// A cheap-to-clone handle for sending commands.
#[derive(Clone)]
pub struct Cdp {
    out: mpsc::UnboundedSender<String>,
    pending: Pending,
    next_id: Arc<AtomicU64>,
    timeout: Duration,
    /// Events put on the event stream so far.
    received: Arc<AtomicU64>,
}

impl Cdp {
    /// Connect to a DevTools websocket URL; returns the handle and the event stream.
    pub async fn connect(ws_url: &str) -> Result<(Cdp, mpsc::UnboundedReceiver<Event>)> {
        let config = tokio_tungstenite::tungstenite::protocol::WebSocketConfig::default()
            .max_message_size(Some(256 << 20))
            .max_frame_size(Some(256 << 20));
        // `wss://` (a Selenium Grid behind TLS): the same roots as its WebDriver URL
        // (crate::tls); `ws://`: no TLS at all.
        let tls = if ws_url.starts_with("wss://") {
            let config = crate::tls::client_config()
                .map_err(|e| anyhow!("cannot connect to DevTools at {ws_url}: {e}"))?;
            Some(tokio_tungstenite::Connector::Rustls(config))
        } else {
            None
        };
        let (ws, _) =
            tokio_tungstenite::connect_async_tls_with_config(ws_url, Some(config), false, tls)
                .await
                .with_context(|| format!("cannot connect to DevTools at {ws_url}"))?;
        let (mut sink, mut stream) = ws.split();
        let (out_tx, mut out_rx) = mpsc::unbounded_channel::<String>();
        let (ev_tx, ev_rx) = mpsc::unbounded_channel::<Event>();
        let pending: Pending = Arc::new(Mutex::new(HashMap::new()));

        tokio::spawn(async move {
            while let Some(text) = out_rx.recv().await {
                if sink.send(Message::text(text)).await.is_err() {
                    break;
                }
            }
            let _ = sink.close().await;
        });

        let reader_pending = pending.clone();
        // Weak: the connection closes once every `Cdp` handle is gone (the writer ends when
        // no strong sender is left), whatever the reader still holds.
        let reader_out = out_tx.downgrade();
        let received = Arc::new(AtomicU64::new(0));
        let reader_received = received.clone();
        tokio::spawn(async move {
            while let Some(msg) = stream.next().await {
                let text = match msg {
                    Ok(Message::Text(t)) => t.as_str().to_owned(),
                    Ok(Message::Binary(b)) => String::from_utf8_lossy(&b).into_owned(),
                    Ok(Message::Close(_)) | Err(_) => break,
                    Ok(_) => continue,
                };
                let Ok(mut v) = serde_json::from_str::<Value>(&text) else {
                    continue;
                };
                if let Some(id) = v.get("id").and_then(Value::as_u64) {
                    let waiter = reader_pending.lock().ok().and_then(|mut p| p.remove(&id));
                    if let Some(tx) = waiter {
                        let res = match v.get_mut("error") {
                            Some(err) => Err(anyhow!("DevTools error: {err}")),
                            None => Ok(v.get_mut("result").map(Value::take).unwrap_or(Value::Null)),
                        };
                        let _ = tx.send(res);
                    }
                } else if let Some(method) = v.get("method").and_then(Value::as_str) {
                    // A paused request waits for us: let it go at once, here, not once the
                    // event loop reaches its event (a heavy page's events queue up there,
                    // and every request of the page would wait behind them).
                    if method == "Fetch.requestPaused" {
                        if let Some(id) = v.pointer("/params/requestId").and_then(Value::as_str) {
                            let mut msg = json!({ "id": 0, "method": "Fetch.continueRequest",
                                                  "params": { "requestId": id } });
                            if let Some(s) = v.get("sessionId") {
                                msg["sessionId"] = s.clone();
                            }
                            if let Some(out) = reader_out.upgrade() {
                                let _ = out.send(msg.to_string());
                            }
                        }
                    }
                    let ev = Event {
                        session_id: v.get("sessionId").and_then(Value::as_str).map(String::from),
                        method: method.to_string(),
                        params: v.get_mut("params").map(Value::take).unwrap_or(Value::Null),
                    };
                    if ev_tx.send(ev).is_err() {
                        break;
                    }
                    reader_received.fetch_add(1, Ordering::Relaxed);
                }
            }
            // Connection gone: fail every waiting command rather than leaving it hanging.
            if let Ok(mut p) = reader_pending.lock() {
                for (_, tx) in p.drain() {
                    let _ = tx.send(Err(anyhow!("DevTools connection closed")));
                }
            }
        });

        Ok((
            Cdp {
                out: out_tx,
                pending,
                next_id: Arc::new(AtomicU64::new(1)),
                timeout: Duration::from_secs(15),
                received,
            },
            ev_rx,
        ))
    }

    /// How many events were put on the event stream so far.
    pub fn events_received(&self) -> u64 {
        self.received.load(Ordering::Relaxed)
    }

    /// Send a command and wait for its result.
    pub async fn send(&self, method: &str, params: Value, session: Option<&str>) -> Result<Value> {
        let rx = self.dispatch(method, params, session)?;
        match tokio::time::timeout(self.timeout, rx).await {
            Ok(Ok(res)) => res.with_context(|| format!("{method} failed")),
            Ok(Err(_)) => Err(anyhow!("{method}: DevTools connection closed")),
            Err(_) => Err(anyhow!(
                "{method}: no answer from DevTools within {:?}",
                self.timeout
            )),
        }
    }

    /// Send a command without waiting for its result (errors are ignored).
    pub fn fire(&self, method: &str, params: Value, session: Option<&str>) {
        let _ = self.dispatch(method, params, session);
    }

    fn dispatch(
        &self,
        method: &str,
        params: Value,
        session: Option<&str>,
    ) -> Result<oneshot::Receiver<Result<Value>>> {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let mut msg = json!({ "id": id, "method": method, "params": params });
        if let Some(s) = session {
            msg["sessionId"] = Value::String(s.to_string());
        }
        let (tx, rx) = oneshot::channel();
        self.pending
            .lock()
            .map_err(|_| anyhow!("DevTools client state poisoned"))?
            .insert(id, tx);
        self.out
            .send(msg.to_string())
            .map_err(|_| anyhow!("{method}: DevTools connection closed"))?;
        Ok(rx)
    }
}

//! A small HTTP forward proxy on loopback for the vantage tests: it records every
//! request it is asked to carry (an absolute-URI request or a `CONNECT`) and forwards it
//! to the demo server, mapping every host name to `127.0.0.1:<demo port>` as the demo
//! scenario files' `--host-resolver-rules` do for the browser (behind a proxy the browser
//! resolves nothing: the proxy does). With credentials, a request without the right
//! `Proxy-Authorization: Basic` is answered `407` with `Proxy-Authenticate`.
//!
//! One request per client connection (each answer ends with `Connection: close`), so
//! every request is parsed here and none hides in a reused connection.

use std::sync::{Arc, Mutex};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// A request the proxy was asked to carry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Proxied {
    pub method: String,
    /// The host asked for (`www.demo-shop.test`), lower-case, without port.
    pub host: String,
    /// Path and query (`/lab/vantage`); empty for a `CONNECT`.
    pub path: String,
    pub accept_language: Option<String>,
    /// It carried the right credentials (always true without credentials).
    pub authorized: bool,
}

pub struct ForwardProxy {
    pub port: u16,
    log: Arc<Mutex<Vec<Proxied>>>,
    task: tokio::task::JoinHandle<()>,
}

impl ForwardProxy {
    /// A proxy on an ephemeral loopback port forwarding to `127.0.0.1:upstream`;
    /// with `credentials` (user, password), only requests carrying them are carried.
    pub async fn start(upstream: u16, credentials: Option<(String, String)>) -> ForwardProxy {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind proxy");
        let port = listener.local_addr().expect("proxy address").port();
        let log: Arc<Mutex<Vec<Proxied>>> = Arc::default();
        let expected = credentials.map(|(u, p)| {
            use base64::Engine as _;
            format!(
                "Basic {}",
                base64::engine::general_purpose::STANDARD.encode(format!("{u}:{p}"))
            )
        });
        let log2 = log.clone();
        let task = tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let (log, expected) = (log2.clone(), expected.clone());
                tokio::spawn(async move {
                    let _ = serve(stream, upstream, &log, expected.as_deref()).await;
                });
            }
        });
        ForwardProxy { port, log, task }
    }

    /// Every request asked for so far, in order.
    pub fn log(&self) -> Vec<Proxied> {
        self.log.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }
}

impl Drop for ForwardProxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// The request head (up to the blank line) and whatever of the body came with it.
async fn read_head(stream: &mut TcpStream) -> std::io::Result<Option<(String, Vec<u8>)>> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&buf[..end]).into_owned();
            return Ok(Some((head, buf[end + 4..].to_vec())));
        }
        if buf.len() > 64 * 1024 {
            return Ok(None);
        }
        let n = stream.read(&mut chunk).await?;
        if n == 0 {
            return Ok(None);
        }
        buf.extend_from_slice(&chunk[..n]);
    }
}

async fn serve(
    mut client: TcpStream,
    upstream: u16,
    log: &Mutex<Vec<Proxied>>,
    expected: Option<&str>,
) -> std::io::Result<()> {
    let Some((head, early_body)) = read_head(&mut client).await? else {
        return Ok(());
    };
    let mut lines = head.split("\r\n");
    let request_line = lines.next().unwrap_or_default().to_string();
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    let header = |name: &str| {
        headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
    };
    let mut parts = request_line.split_whitespace();
    let (method, target) = (
        parts.next().unwrap_or_default().to_string(),
        parts.next().unwrap_or_default().to_string(),
    );
    let authorized = expected.is_none_or(|e| header("proxy-authorization").as_deref() == Some(e));
    let (host, path) = if method == "CONNECT" {
        (
            target
                .rsplit_once(':')
                .map_or(target.as_str(), |(h, _)| h)
                .to_string(),
            String::new(),
        )
    } else {
        let rest = target.strip_prefix("http://").unwrap_or(target.as_str());
        let (authority, path) = rest
            .find('/')
            .map_or((rest, "/"), |i| (&rest[..i], &rest[i..]));
        let host = authority
            .rsplit_once(':')
            .map_or(authority, |(h, _)| h)
            .to_string();
        (host, path.to_string())
    };
    log.lock().unwrap_or_else(|e| e.into_inner()).push(Proxied {
        method: method.clone(),
        host: host.to_ascii_lowercase(),
        path: path.clone(),
        accept_language: header("accept-language"),
        authorized,
    });
    if !authorized {
        client
            .write_all(
                b"HTTP/1.1 407 Proxy Authentication Required\r\n\
                  Proxy-Authenticate: Basic realm=\"vantage\"\r\n\
                  Content-Length: 0\r\nConnection: close\r\n\r\n",
            )
            .await?;
        return client.shutdown().await;
    }
    let mut server = TcpStream::connect(("127.0.0.1", upstream)).await?;
    if method == "CONNECT" {
        client
            .write_all(b"HTTP/1.1 200 Connection established\r\n\r\n")
            .await?;
        server.write_all(&early_body).await?;
        let _ = tokio::io::copy_bidirectional(&mut client, &mut server).await;
        return Ok(());
    }
    // Origin form upstream; the proxy's own headers dropped; one request per connection.
    let mut out = format!("{method} {path} HTTP/1.1\r\n");
    for (k, v) in &headers {
        if !matches!(
            k.as_str(),
            "proxy-authorization" | "proxy-connection" | "connection" | "keep-alive"
        ) {
            out.push_str(&format!("{k}: {v}\r\n"));
        }
    }
    out.push_str("connection: close\r\n\r\n");
    server.write_all(out.as_bytes()).await?;
    let length: usize = header("content-length")
        .and_then(|l| l.parse().ok())
        .unwrap_or(0);
    server.write_all(&early_body).await?;
    let mut left = length.saturating_sub(early_body.len());
    let mut chunk = [0u8; 8192];
    while left > 0 {
        let n = client.read(&mut chunk[..left.min(8192)]).await?;
        if n == 0 {
            break;
        }
        server.write_all(&chunk[..n]).await?;
        left -= n;
    }
    // The answer as the server gives it, up to its end (it closes: `connection: close`).
    let (mut from_server, _keep) = server.into_split();
    let mut response = Vec::new();
    from_server.read_to_end(&mut response).await?;
    client.write_all(&response).await?;
    client.shutdown().await
}

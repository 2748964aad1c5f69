//! The transport: TLS and plain HTTP/1.1 on one port, request logging, keep-alive.

use std::convert::Infallible;
use std::fs::File;
use std::io::Write as _;
use std::path::Path;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use anyhow::Context as _;
use http_body_util::{BodyExt as _, Full, Limited};
use hyper::body::{Bytes, Incoming};
use hyper::header::{COOKIE, HOST, USER_AGENT};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::oneshot;
use tokio::task::JoinSet;
use tokio_rustls::TlsAcceptor;

use super::{files, lab, lab_login, lab_ws, site, LoggedRequest, Served, DEMO_HOSTS};

/// Most connections served at once; further ones wait in the listen backlog.
/// The Global Privacy Control request header (logged so GPC tests can see what was sent).
const SEC_GPC: hyper::header::HeaderName = hyper::header::HeaderName::from_static("sec-gpc");

const MAX_CONNECTIONS: usize = 512;
/// Time allowed for the first byte and for the TLS handshake.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);
/// Time allowed to read a request's head (also closes idle keep-alive connections).
const HEADER_TIMEOUT: Duration = Duration::from_secs(30);
/// Request bodies (beacons) are read and dropped, up to this size and time.
const MAX_BODY: usize = 64 * 1024;
const BODY_TIMEOUT: Duration = Duration::from_secs(10);

/// Where logged requests go: kept in memory (for [`super::DemoServer::log`]) and/or appended to
/// a JSON-lines file.
pub(super) struct RequestLog {
    keep: bool,
    entries: Mutex<Vec<LoggedRequest>>,
    file: Option<Mutex<File>>,
}

impl RequestLog {
    pub(super) fn in_memory() -> Self {
        RequestLog {
            keep: true,
            entries: Mutex::new(Vec::new()),
            file: None,
        }
    }

    /// For a long-running server: nothing kept in memory.
    pub(super) fn discard() -> Self {
        RequestLog {
            keep: false,
            ..Self::in_memory()
        }
    }

    pub(super) fn to_file(path: &Path) -> anyhow::Result<Self> {
        let file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .with_context(|| format!("opening the request log {}", path.display()))?;
        Ok(RequestLog {
            file: Some(Mutex::new(file)),
            ..Self::discard()
        })
    }

    fn record(&self, entry: LoggedRequest) {
        if let Some(file) = &self.file {
            if let Ok(mut line) = serde_json::to_vec(&entry) {
                line.push(b'\n');
                // One write per line, so lines from concurrent requests never interleave.
                if let Err(e) = lock(file).write_all(&line) {
                    crate::stderr::line(format_args!(
                        "demo site: cannot write the request log: {e}"
                    ));
                }
            }
        }
        if self.keep {
            lock(&self.entries).push(entry);
        }
    }

    pub(super) fn snapshot(&self) -> Vec<LoggedRequest> {
        lock(&self.entries).clone()
    }

    pub(super) fn clear(&self) {
        lock(&self.entries).clear();
    }
}

/// Locks a mutex, recovering from poisoning (the data stays usable: a log of plain records).
fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// A TLS acceptor with a fresh self-signed certificate for every demo host; also returns the
/// certificate (DER).
pub(super) fn tls_acceptor() -> anyhow::Result<(TlsAcceptor, Vec<u8>)> {
    let mut names: Vec<String> = DEMO_HOSTS.iter().map(|h| h.to_string()).collect();
    names.push("localhost".to_string());
    let certified = rcgen::generate_simple_self_signed(names)
        .context("generating the demo site's certificate")?;
    let cert = certified.cert.der().clone();
    let cert_der = cert.to_vec();
    let key = rustls::pki_types::PrivatePkcs8KeyDer::from(certified.signing_key.serialize_der());
    let mut config = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .context("TLS protocol versions")?
    .with_no_client_auth()
    .with_single_cert(vec![cert], key.into())
    .context("TLS server certificate")?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok((TlsAcceptor::from(Arc::new(config)), cert_der))
}

/// Accepts connections until `stop` fires (or its sender is dropped), then closes them all.
pub(super) async fn accept_loop(
    listener: TcpListener,
    tls: TlsAcceptor,
    log: Arc<RequestLog>,
    served: Arc<Served>,
    mut stop: oneshot::Receiver<()>,
) {
    let mut connections = JoinSet::new();
    loop {
        tokio::select! {
            _ = &mut stop => break,
            accepted = listener.accept(), if connections.len() < MAX_CONNECTIONS => match accepted {
                Ok((stream, _)) => {
                    connections.spawn(serve_connection(stream, tls.clone(), log.clone(), served.clone()));
                }
                // E.g. out of file descriptors: back off instead of spinning.
                Err(_) => tokio::time::sleep(Duration::from_millis(50)).await,
            },
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
        }
    }
    connections.shutdown().await;
}

async fn serve_connection(
    stream: TcpStream,
    tls: TlsAcceptor,
    log: Arc<RequestLog>,
    served: Arc<Served>,
) {
    let _ = stream.set_nodelay(true);
    let mut first = [0u8; 1];
    match tokio::time::timeout(HANDSHAKE_TIMEOUT, stream.peek(&mut first)).await {
        Ok(Ok(n)) if n > 0 => {}
        _ => return,
    }
    if first[0] == 0x16 {
        let Ok(Ok(stream)) = tokio::time::timeout(HANDSHAKE_TIMEOUT, tls.accept(stream)).await
        else {
            return;
        };
        let sni = stream.get_ref().1.server_name().map(normalize_host);
        serve_http(stream, "https", sni, log, served).await;
    } else {
        serve_http(stream, "http", None, log, served).await;
    }
}

async fn serve_http<S>(
    io: S,
    scheme: &'static str,
    sni: Option<String>,
    log: Arc<RequestLog>,
    served: Arc<Served>,
) where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let sni: Arc<str> = sni.unwrap_or_default().into();
    let service = service_fn(move |req| {
        let log = log.clone();
        let sni = sni.clone();
        let served = served.clone();
        async move { Ok::<_, Infallible>(handle(req, scheme, &sni, &log, &served).await) }
    });
    let _ = http1::Builder::new()
        .timer(TokioTimer::new())
        .header_read_timeout(HEADER_TIMEOUT)
        .keep_alive(true)
        .serve_connection(TokioIo::new(io), service)
        .with_upgrades()
        .await;
}

async fn handle(
    req: Request<Incoming>,
    scheme: &str,
    sni: &str,
    log: &RequestLog,
    served: &Served,
) -> Response<Full<Bytes>> {
    let time = chrono::Utc::now();
    let host = req
        .headers()
        .get(HOST)
        .and_then(|h| h.to_str().ok())
        .map(normalize_host)
        .filter(|h| !h.is_empty())
        .or_else(|| req.uri().authority().map(|a| normalize_host(a.as_str())))
        .unwrap_or_else(|| sni.to_string());
    let path_and_query = req
        .uri()
        .path_and_query()
        .map(|p| p.as_str().to_string())
        .unwrap_or_else(|| "/".to_string());
    let header_text = |name| {
        req.headers()
            .get(name)
            .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
    };
    let cookies = header_text(COOKIE);
    log.record(LoggedRequest {
        time,
        method: req.method().as_str().to_string(),
        scheme: scheme.to_string(),
        host: host.clone(),
        path_and_query,
        user_agent: header_text(USER_AGENT),
        sec_gpc: header_text(SEC_GPC),
        accept_language: header_text(hyper::header::ACCEPT_LANGUAGE),
    });
    // `/lab/ws`: a WebSocket handshake (logged above like any request).
    if lab_ws::is_upgrade(&req) {
        return lab_ws::upgrade(req);
    }
    let (parts, body) = req.into_parts();

    // Read any body, so the connection can be reused for the next request; only the
    // lab's login form looks at it.
    let body =
        match tokio::time::timeout(BODY_TIMEOUT, Limited::new(body, MAX_BODY).collect()).await {
            Ok(Ok(collected)) => collected.to_bytes(),
            _ => Bytes::new(),
        };

    if let Some(d) = lab::delay(parts.uri.path(), parts.uri.query()) {
        tokio::time::sleep(d).await;
    }
    let mut resp = match served {
        Served::Demo(variant) => lab_login::respond(
            parts.method.as_str(),
            parts.uri.path(),
            cookies.as_deref(),
            &body,
        )
        .unwrap_or_else(|| site::respond(*variant, &host, parts.uri.path(), cookies.as_deref())),
        Served::Files(dir) => match files::respond(dir, &host, parts.uri.path()) {
            files::Answer::Now(resp) => resp,
            // Never answers: the connection is held until the client gives up or the
            // server stops (which drops this future).
            files::Answer::Hang => std::future::pending().await,
        },
    };
    // Every page view reaches the server, unless the response chose its own caching
    // (the lab's cacheable script, for the isolation test).
    if !resp.headers().contains_key(hyper::header::CACHE_CONTROL) {
        site::no_store(&mut resp);
    }
    resp
}

/// Lower-case, without port or trailing dot. `[::1]:8443` -> `[::1]`.
fn normalize_host(raw: &str) -> String {
    let raw = raw.trim();
    let host = if raw.starts_with('[') {
        raw.find(']').map_or(raw, |end| &raw[..=end])
    } else {
        match raw.rsplit_once(':') {
            Some((h, port)) if port.bytes().all(|b| b.is_ascii_digit()) => h,
            _ => raw,
        }
    };
    host.trim_end_matches('.').to_ascii_lowercase()
}

#[cfg(test)]
mod tests {
    use super::normalize_host;

    #[test]
    fn hosts_are_normalized() {
        assert_eq!(
            normalize_host("WWW.Demo-Shop.test:8443"),
            "www.demo-shop.test"
        );
        assert_eq!(normalize_host("www.facebook.com."), "www.facebook.com");
        assert_eq!(normalize_host("[::1]:443"), "[::1]");
        assert_eq!(normalize_host("example.org:"), "example.org");
        assert_eq!(normalize_host(""), "");
    }
}

//! Posting a notification: one HTTP/1.1 POST per target and attempt (a fresh connection
//! each, TLS by rustls for `https://`), generic bodies signed, retried with exponential
//! backoff within a bound on attempts and on total time. The outcome of each target is a
//! [`Delivery`]; nothing here fails the audit.
//!
//! Retried: connection and TLS errors, time-outs, HTTP 408, 429 and 5xx (a 429's or
//! 503's `Retry-After` in seconds is honoured while it fits in the time left). Not
//! retried: any other status (a 4xx says the request itself is wrong, a 3xx is not
//! followed). Proxies (`HTTPS_PROXY`) are not supported.

use super::message::Notification;
use super::{render, Format, Target};
use chrono::{DateTime, Utc};
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Bytes;
use hyper_util::rt::TokioIo;
use std::sync::Arc;
use std::time::Duration;
use tokio::time::Instant;

/// How hard a delivery is tried.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SendPolicy {
    /// At most this many attempts per target.
    pub attempts: u32,
    /// The wait after the first failed attempt; each next wait doubles.
    pub first_backoff: Duration,
    /// One attempt (connect, TLS, request, response head) at most this long.
    pub attempt_timeout: Duration,
    /// All attempts to one target, waits included, at most this long.
    pub total: Duration,
}

impl SendPolicy {
    /// 4 attempts, waits of 0.5 s, 1 s, 2 s, 10 s per attempt, 30 s in all.
    pub const DEFAULT: SendPolicy = SendPolicy {
        attempts: 4,
        first_backoff: Duration::from_millis(500),
        attempt_timeout: Duration::from_secs(10),
        total: Duration::from_secs(30),
    };

    /// After a run was interrupted (Ctrl-C, a scheduler's SIGTERM, whose SIGKILL follows):
    /// 2 attempts, 5 s each, 10 s in all.
    pub const INTERRUPTED: SendPolicy = SendPolicy {
        attempts: 2,
        first_backoff: Duration::from_millis(500),
        attempt_timeout: Duration::from_secs(5),
        total: Duration::from_secs(10),
    };
}

/// Header with the signature of a generic message.
pub const SIGNATURE_HEADER: &str = "x-consentry-signature";
/// Header with the Unix time (seconds) the signature covers.
pub const TIMESTAMP_HEADER: &str = "x-consentry-timestamp";
/// Header with the notification's id (`run-12`, `fleet-run-3`): the same on retries.
pub const EVENT_HEADER: &str = "x-consentry-event";

/// Signs generic messages: HMAC-SHA-256 over `<timestamp>.<body>` with the shared
/// secret, sent as `X-Consentry-Signature: sha256=<hex>` beside `X-Consentry-Timestamp`.
#[derive(Clone)]
pub struct Signer {
    key: Vec<u8>,
}

impl std::fmt::Debug for Signer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Signer(…)")
    }
}

impl Signer {
    pub fn new(key: &[u8]) -> Signer {
        Signer { key: key.to_vec() }
    }

    /// `sha256=<hex of HMAC-SHA-256(key, "<timestamp>.<body>")>`.
    pub fn sign(&self, timestamp: i64, body: &[u8]) -> String {
        use hmac::{Hmac, Mac};
        use sha2::Sha256;
        let mut mac = match <Hmac<Sha256> as Mac>::new_from_slice(&self.key) {
            Ok(mac) => mac,
            // HMAC takes a key of any length.
            Err(_) => return String::new(),
        };
        mac.update(timestamp.to_string().as_bytes());
        mac.update(b".");
        mac.update(body);
        let hex: String = mac
            .finalize()
            .into_bytes()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        format!("sha256={hex}")
    }
}

/// How one target's delivery ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delivery {
    /// [`Target::label`]: never the whole URL.
    pub target: String,
    pub format: Format,
    pub delivered: bool,
    pub attempts: u32,
    /// The last HTTP status received.
    pub http_status: Option<u16>,
    /// Why the last attempt failed.
    pub error: Option<String>,
    pub finished_at: DateTime<Utc>,
}

/// Post `n` to every target at once, each in its shape; generic ones signed by
/// `signer` (a generic target without one is not sent to: its delivery fails).
pub async fn deliver(
    targets: &[Target],
    n: &Notification,
    signer: Option<&Signer>,
    policy: &SendPolicy,
    roots: &crate::tls::Roots,
) -> Vec<Delivery> {
    let tls = if targets.iter().any(|t| t.url.scheme() == "https") {
        Some(crate::tls::config_for(roots))
    } else {
        None
    };
    let slack = render::slack(n);
    let generic = render::generic(n);
    let jobs = targets.iter().map(|t| {
        let body = match t.format {
            Format::Slack => &slack,
            Format::Generic => &generic,
        };
        deliver_one(t, &n.id, body, signer, policy, tls.as_ref())
    });
    futures_util::future::join_all(jobs).await
}

/// Why one attempt failed, and whether another may succeed.
struct AttemptError {
    retry: bool,
    status: Option<u16>,
    message: String,
    retry_after: Option<Duration>,
}

impl AttemptError {
    fn transient(message: String) -> AttemptError {
        AttemptError {
            retry: true,
            status: None,
            message,
            retry_after: None,
        }
    }
}

async fn deliver_one(
    target: &Target,
    event: &str,
    body: &str,
    signer: Option<&Signer>,
    policy: &SendPolicy,
    tls: Option<&Result<Arc<rustls::ClientConfig>, String>>,
) -> Delivery {
    let start = Instant::now();
    let deadline = start + policy.total;
    let mut attempts = 0;
    let mut last: Option<AttemptError> = None;
    let mut http_status = None;
    let fail = |attempts, status, error: String| Delivery {
        target: target.label(),
        format: target.format,
        delivered: false,
        attempts,
        http_status: status,
        error: Some(error),
        finished_at: Utc::now(),
    };
    let signer = match (target.format, signer) {
        (Format::Generic, None) => {
            return fail(
                0,
                None,
                "no signing secret: generic messages are never sent unsigned".into(),
            )
        }
        (Format::Generic, Some(s)) => Some(s),
        (Format::Slack, _) => None,
    };
    let tls = match (target.url.scheme(), tls) {
        ("https", Some(Ok(cfg))) => Some(cfg.clone()),
        ("https", Some(Err(e))) => return fail(0, None, e.clone()),
        ("https", None) => return fail(0, None, "no TLS configuration".into()),
        _ => None,
    };
    while attempts < policy.attempts {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            break;
        }
        attempts += 1;
        let timestamp = Utc::now().timestamp();
        let mut headers: Vec<(&str, String)> = vec![(EVENT_HEADER, event.to_string())];
        if let Some(s) = signer {
            headers.push((TIMESTAMP_HEADER, timestamp.to_string()));
            headers.push((SIGNATURE_HEADER, s.sign(timestamp, body.as_bytes())));
        }
        let attempt = post_once(target, &headers, body, tls.as_ref());
        let outcome = match tokio::time::timeout(policy.attempt_timeout.min(left), attempt).await {
            Ok(outcome) => outcome,
            Err(_) => Err(AttemptError::transient(format!(
                "no answer within {} ms",
                policy.attempt_timeout.min(left).as_millis()
            ))),
        };
        match outcome {
            Ok(status) => {
                return Delivery {
                    target: target.label(),
                    format: target.format,
                    delivered: true,
                    attempts,
                    http_status: Some(status),
                    error: None,
                    finished_at: Utc::now(),
                }
            }
            Err(e) => {
                http_status = e.status.or(http_status);
                let retry = e.retry;
                let wait = e.retry_after.unwrap_or_else(|| {
                    policy
                        .first_backoff
                        .saturating_mul(2u32.saturating_pow(attempts.saturating_sub(1)))
                });
                last = Some(e);
                if !retry || attempts >= policy.attempts {
                    break;
                }
                if Instant::now() + wait >= deadline {
                    break;
                }
                tokio::time::sleep(wait).await;
            }
        }
    }
    let error = match last {
        Some(e) => e.message,
        None => "no attempt could be made within the time bound".into(),
    };
    let error = format!(
        "{error} (gave up after {attempts} attempt{} in {} ms)",
        if attempts == 1 { "" } else { "s" },
        start.elapsed().as_millis()
    );
    fail(attempts, http_status, error)
}

/// One POST on a fresh connection: `Ok(status)` for a 2xx answer.
async fn post_once(
    target: &Target,
    headers: &[(&str, String)],
    body: &str,
    tls: Option<&Arc<rustls::ClientConfig>>,
) -> Result<u16, AttemptError> {
    let url = &target.url;
    let host = url.host_str().unwrap_or_default();
    let port = url.port_or_known_default().unwrap_or(80);
    let tcp = tokio::net::TcpStream::connect((host.trim_matches(['[', ']']), port))
        .await
        .map_err(|e| AttemptError::transient(format!("cannot connect: {e}")))?;
    let _ = tcp.set_nodelay(true);
    let authority = match url.port() {
        Some(p) => format!("{host}:{p}"),
        None => host.to_string(),
    };
    let path = match url.query() {
        Some(q) => format!("{}?{q}", url.path()),
        None => url.path().to_string(),
    };
    let mut req = hyper::Request::post(path)
        .header(hyper::header::HOST, &authority)
        .header(hyper::header::CONTENT_TYPE, "application/json")
        .header(
            hyper::header::USER_AGENT,
            concat!("consentry/", env!("CARGO_PKG_VERSION")),
        );
    for (name, value) in headers {
        req = req.header(*name, value);
    }
    let req = req
        .body(Full::new(Bytes::copy_from_slice(body.as_bytes())))
        .map_err(|e| AttemptError {
            retry: false,
            status: None,
            message: format!("cannot build the request: {e}"),
            retry_after: None,
        })?;
    let response = match tls {
        Some(cfg) => {
            let name = server_name(url)?;
            let stream = tokio_rustls::TlsConnector::from(cfg.clone())
                .connect(name, tcp)
                .await
                .map_err(|e| AttemptError::transient(format!("TLS: {e}")))?;
            send(TokioIo::new(stream), req).await?
        }
        None => send(TokioIo::new(tcp), req).await?,
    };
    let status = response.status().as_u16();
    if (200..300).contains(&status) {
        return Ok(status);
    }
    let retry_after = response
        .headers()
        .get(hyper::header::RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok())
        .map(Duration::from_secs);
    let text = match Limited::new(response.into_body(), 1024).collect().await {
        Ok(b) => String::from_utf8_lossy(&b.to_bytes()).into_owned(),
        Err(_) => String::new(),
    };
    let text = crate::text::printable_clipped(text.trim(), 200);
    Err(AttemptError {
        retry: matches!(status, 408 | 429 | 500..=599),
        status: Some(status),
        message: if text.is_empty() {
            format!("HTTP {status}")
        } else {
            format!("HTTP {status}: {text}")
        },
        retry_after: retry_after.filter(|_| matches!(status, 429 | 503)),
    })
}

async fn send<IO>(
    io: IO,
    req: hyper::Request<Full<Bytes>>,
) -> Result<hyper::Response<hyper::body::Incoming>, AttemptError>
where
    IO: hyper::rt::Read + hyper::rt::Write + Unpin + Send + 'static,
{
    let (mut sender, conn) = hyper::client::conn::http1::handshake(io)
        .await
        .map_err(|e| AttemptError::transient(format!("HTTP: {e}")))?;
    tokio::spawn(async move {
        let _ = conn.await;
    });
    sender
        .send_request(req)
        .await
        .map_err(|e| AttemptError::transient(format!("HTTP: {e}")))
}

fn server_name(url: &url::Url) -> Result<rustls::pki_types::ServerName<'static>, AttemptError> {
    let name = match url.host() {
        Some(url::Host::Domain(d)) => rustls::pki_types::ServerName::try_from(d.to_string())
            .map_err(|e| AttemptError::transient(format!("TLS: bad server name: {e}")))?,
        Some(url::Host::Ipv4(ip)) => rustls::pki_types::ServerName::from(std::net::IpAddr::V4(ip)),
        Some(url::Host::Ipv6(ip)) => rustls::pki_types::ServerName::from(std::net::IpAddr::V6(ip)),
        None => return Err(AttemptError::transient("the URL has no host".into())),
    };
    Ok(name)
}

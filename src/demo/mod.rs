//! The bundled demo site (`consentry demo-site`): a local shop with fake "vendor" hosts, planted
//! consent violations and compliant vendors, described in `docs/demo.md`.
//!
//! One port on 127.0.0.1 answers both TLS and plain HTTP (the first byte decides: 0x16 starts a
//! TLS handshake). Chromium reaches it for every hostname through
//! `--host-resolver-rules=MAP * 127.0.0.1:PORT`, so requests are routed by their `Host` header
//! (falling back to the TLS SNI). Every request the server receives, for any host, is logged: the
//! log is the server-side ground truth that capture-completeness tests compare against.

pub mod agency;
mod files;
pub use files::FileSite;
mod lab;
mod lab_login;
mod lab_ws;
pub use lab::{FLOOD_COOKIES, FLOOD_REQUESTS, LONG_URL_BYTES, LONG_URL_REQUESTS, STORAGE_MAX_FILL};
pub use lab_login::{LAB_PASSWORD, LAB_USER, MEMBERS_TAG_HOST};
mod server;
mod site;

use std::path::Path;
use std::sync::Arc;

use anyhow::Context as _;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use server::RequestLog;

/// The shop's main host (pages and first-party scripts).
pub(crate) const SHOP_HOST: &str = "www.demo-shop.test";
/// The shop's first-party static host.
pub(crate) const STATIC_HOST: &str = "static.demo-shop.test";

/// Every hostname the demo serves (first party and vendors).
///
/// `cdn.optimizely.com` is deliberately absent: the declared map lists Optimizely, but the site
/// never requests it (so a request to it would be answered 404, logged, and be a bug).
pub const DEMO_HOSTS: &[&str] = &[
    SHOP_HOST,
    STATIC_HOST,
    "www.googletagmanager.com",
    "www.google-analytics.com",
    "connect.facebook.net",
    "www.facebook.com",
    "static.hotjar.com",
    "sb.scorecardresearch.com",
    "static.chartbeat.com",
    "js.stripe.com",
    "www.recaptcha.net",
    "www.gstatic.com",
    "analytics.tiktok.com",
    // Served by the `next` variant only (in the default one it answers 404 like any unknown path).
    BING_HOST,
];

/// Microsoft Advertising's UET tag host: the vendor the [`Variant::Next`] site gained.
pub(crate) const BING_HOST: &str = "bat.bing.com";

/// Which behaviour the demo site serves, chosen when it starts (docs/demo.md, "Variants").
/// Two audits of the same site, one per variant, are a known drift: one planted violation
/// fixed, one vendor added.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Variant {
    /// The shop as documented, with every planted violation.
    #[default]
    Default,
    /// The shop after a release: the CMP no longer starts Hotjar on reject (it loads it with
    /// consent), and a new, undeclared Microsoft Ads tag (bat.bing.com) fires before the choice.
    Next,
}

impl Variant {
    /// The name used by `--variant` and `CONSENTRY_DEMO_VARIANT`.
    pub fn as_str(self) -> &'static str {
        match self {
            Variant::Default => "default",
            Variant::Next => "next",
        }
    }
}

impl std::fmt::Display for Variant {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Hostnames that are third parties to the shop: every demo host outside `demo-shop.test`.
/// Hosts the demo does not serve (e.g. Chromium's own background requests) are not counted.
pub fn is_demo_third_party(host: &str) -> bool {
    let host = host.trim_end_matches('.').to_ascii_lowercase();
    DEMO_HOSTS.contains(&host.as_str()) && !is_first_party(&host)
}

fn is_first_party(host: &str) -> bool {
    host == "demo-shop.test" || host.ends_with(".demo-shop.test")
}

/// One request as the server received it.
#[derive(Debug, Clone, serde::Serialize)]
pub struct LoggedRequest {
    /// When the request's head had been read.
    pub time: chrono::DateTime<chrono::Utc>,
    pub method: String,
    /// `"https"` or `"http"`.
    pub scheme: String,
    /// Lower-case, without port: the `Host` header, else the request-target's authority, else
    /// the TLS SNI, else empty.
    pub host: String,
    pub path_and_query: String,
    pub user_agent: Option<String>,
    /// The `Sec-GPC` request header, when sent.
    pub sec_gpc: Option<String>,
    /// The `Accept-Language` request header, when sent (a vantage's locale).
    pub accept_language: Option<String>,
}

/// What a server answers with: the demo shop, or a fixture site of files.
#[derive(Debug, Clone)]
pub enum Served {
    Demo(Variant),
    Files(FileSite),
}

/// A running demo server. Dropping it stops the server too; [`DemoServer::shutdown`] also waits
/// until every connection is closed.
pub struct DemoServer {
    port: u16,
    variant: Variant,
    log: Arc<RequestLog>,
    cert_der: Vec<u8>,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<()>>,
}

impl DemoServer {
    /// Starts serving the default variant on `127.0.0.1:port` (0 = an ephemeral port).
    pub async fn start(port: u16) -> anyhow::Result<DemoServer> {
        Self::start_variant(port, Variant::Default).await
    }

    /// Starts serving `variant` on `127.0.0.1:port` (0 = an ephemeral port).
    pub async fn start_variant(port: u16, variant: Variant) -> anyhow::Result<DemoServer> {
        Self::start_with_log(port, Served::Demo(variant), RequestLog::in_memory()).await
    }

    /// Starts serving a fixture site of files (see [`FileSite`]) on `127.0.0.1:port`.
    pub async fn start_files(port: u16, site: FileSite) -> anyhow::Result<DemoServer> {
        Self::start_with_log(port, Served::Files(site), RequestLog::in_memory()).await
    }

    async fn start_with_log(
        port: u16,
        served: Served,
        log: RequestLog,
    ) -> anyhow::Result<DemoServer> {
        let variant = match &served {
            Served::Demo(v) => *v,
            Served::Files(_) => Variant::Default,
        };
        let (tls, cert_der) = server::tls_acceptor()?;
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", port))
            .await
            .with_context(|| format!("binding the demo site to 127.0.0.1:{port}"))?;
        let port = listener.local_addr()?.port();
        let log = Arc::new(log);
        let (stop_tx, stop_rx) = oneshot::channel();
        let task = tokio::spawn(server::accept_loop(
            listener,
            tls,
            log.clone(),
            Arc::new(served),
            stop_rx,
        ));
        Ok(DemoServer {
            port,
            variant,
            log,
            cert_der,
            stop: Some(stop_tx),
            task: Some(task),
        })
    }

    /// The port it listens on (127.0.0.1).
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The behaviour it serves.
    pub fn variant(&self) -> Variant {
        self.variant
    }

    /// A copy of every request received so far (since the last [`DemoServer::clear_log`]), in
    /// arrival order.
    pub fn log(&self) -> Vec<LoggedRequest> {
        self.log.snapshot()
    }

    /// Forgets the requests logged so far.
    pub fn clear_log(&self) {
        self.log.clear();
    }

    /// The self-signed certificate (DER) served for every demo host, generated at start-up: a
    /// client may trust it as a root.
    pub fn certificate_der(&self) -> &[u8] {
        &self.cert_der
    }

    /// Stops accepting, closes every connection and waits for the server task to end.
    pub async fn shutdown(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }
}

impl Drop for DemoServer {
    fn drop(&mut self) {
        // Dropping the sender ends the accept loop; abort in case it is blocked elsewhere.
        self.stop.take();
        if let Some(task) = self.task.take() {
            task.abort();
        }
    }
}

/// Serve `variant` until Ctrl-C. Prints "demo site listening on https://127.0.0.1:PORT" to
/// stderr; with `log_path`, appends each request as a JSON line.
pub async fn serve_forever(
    port: u16,
    served: Served,
    log_path: Option<&Path>,
) -> anyhow::Result<()> {
    let log = match log_path {
        Some(path) => RequestLog::to_file(path)?,
        None => RequestLog::discard(),
    };
    let server = DemoServer::start_with_log(port, served, log).await?;
    crate::stderr::line(format_args!(
        "demo site listening on https://127.0.0.1:{}",
        server.port()
    ));
    let result = tokio::signal::ctrl_c().await.context("waiting for Ctrl-C");
    server.shutdown().await;
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn third_parties() {
        assert!(!is_demo_third_party("www.demo-shop.test"));
        assert!(!is_demo_third_party("static.demo-shop.test"));
        assert!(is_demo_third_party("connect.facebook.net"));
        assert!(is_demo_third_party("Analytics.TikTok.com."));
        assert!(is_demo_third_party("bat.bing.com"));
        assert!(!is_demo_third_party("cdn.optimizely.com"));
        assert!(!is_demo_third_party("accounts.google.com"));
        let vendors = DEMO_HOSTS.iter().filter(|h| is_demo_third_party(h)).count();
        assert_eq!(vendors, DEMO_HOSTS.len() - 2);
    }
}

//! A remote WebDriver (Selenium Grid 4, docs/grid.md): opening a session over `http://` or
//! `https://`, the DevTools websocket the Grid advertises (`se:cdp`) mapped onto the URL
//! the user gave, and the check at start that the Grid answers at all.

use anyhow::{anyhow, bail, Context, Result};
use fantoccini::{Client, ClientBuilder};
use http_body_util::Empty;
use hyper::body::Bytes;
use hyper_util::client::legacy::connect::{Connect, HttpConnector};
use serde_json::{Map, Value};
use std::time::Duration;
use url::Url;

/// How long opening a session may take (a Grid queues requests while its nodes are busy
/// or still starting, e.g. scaled from zero by KEDA).
const SESSION_TIMEOUT: Duration = Duration::from_secs(60);
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// The TCP connector every WebDriver connection starts from.
fn tcp() -> HttpConnector {
    let mut connector = HttpConnector::new();
    connector.set_connect_timeout(Some(CONNECT_TIMEOUT));
    connector
}

/// `https://` through rustls with the roots of [`crate::tls`].
fn https(url: &Url) -> Result<hyper_rustls::HttpsConnector<HttpConnector>> {
    let config = crate::tls::client_config().map_err(|e| anyhow!("WebDriver at {url}: {e}"))?;
    let mut tcp = tcp();
    tcp.enforce_http(false);
    Ok(hyper_rustls::HttpsConnectorBuilder::new()
        .with_tls_config((*config).clone())
        .https_only()
        .enable_http1()
        .wrap_connector(tcp))
}

/// A WebDriver URL consentry can talk to: `http` or `https`.
pub fn check_scheme(url: &Url) -> Result<()> {
    match url.scheme() {
        "http" | "https" => Ok(()),
        other => {
            bail!("WebDriver URL {url}: unsupported scheme `{other}` (use http:// or https://)")
        }
    }
}

/// Open a WebDriver session with these capabilities.
pub async fn open_session(url: &Url, caps: Map<String, Value>) -> Result<Client> {
    check_scheme(url)?;
    if url.scheme() == "https" {
        open_with(ClientBuilder::new(https(url)?), url, caps).await
    } else {
        open_with(ClientBuilder::new(tcp()), url, caps).await
    }
}

async fn open_with<C>(
    mut builder: ClientBuilder<C>,
    url: &Url,
    caps: Map<String, Value>,
) -> Result<Client>
where
    C: Connect + Clone + Send + Sync + Unpin + 'static,
{
    builder.capabilities(caps);
    tokio::time::timeout(SESSION_TIMEOUT, builder.connect(url.as_str()))
        .await
        .map_err(|_| {
            anyhow!(
                "WebDriver at {url} did not open a session within {} s",
                SESSION_TIMEOUT.as_secs()
            )
        })?
        .map_err(|e| anyhow!("WebDriver at {url} refused a session: {e}"))
}

/// Does the WebDriver server at `url` answer `GET /status` with HTTP at all (a gateway's
/// 502 or 504 does not count)? A Grid that answers "not ready" passes: with KEDA it has
/// no node until a session is asked for.
/// The error names the URL and says what failed (connection, TLS, timeout).
pub async fn check_reachable(url: &Url) -> Result<()> {
    check_scheme(url)?;
    let status = url
        .join("status")
        .with_context(|| format!("WebDriver URL {url}: cannot form its /status URL"))?;
    let uri: hyper::Uri = status
        .as_str()
        .parse()
        .with_context(|| format!("WebDriver URL {url} is not a valid URI"))?;
    let res = if url.scheme() == "https" {
        get(https(url)?, uri).await
    } else {
        get(tcp(), uri).await
    };
    res.map_err(|e| anyhow!("WebDriver at {url} is unreachable: {e}"))
}

async fn get<C>(connector: C, uri: hyper::Uri) -> Result<()>
where
    C: Connect + Clone + Send + Sync + 'static,
{
    let client = hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
        .build::<_, Empty<Bytes>>(connector);
    match tokio::time::timeout(CONNECT_TIMEOUT + Duration::from_secs(5), client.get(uri)).await {
        Err(_) => bail!(
            "no answer within {} s",
            (CONNECT_TIMEOUT + Duration::from_secs(5)).as_secs()
        ),
        Ok(Err(e)) => Err(anyhow!(chain(&e))),
        // A gateway's own errors (an ingress or a proxy whose Grid is down); a Grid
        // itself never answers these.
        Ok(Ok(res)) if matches!(res.status().as_u16(), 502 | 504) => {
            bail!(
                "answered HTTP {} (a proxy or ingress without its Grid?)",
                res.status()
            )
        }
        Ok(Ok(_)) => Ok(()),
    }
}

/// An error with its causes (hyper's outer error says only "client error (Connect)").
fn chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut parts = vec![e.to_string()];
    let mut cur = e.source();
    while let Some(c) = cur {
        let s = c.to_string();
        if !parts.iter().any(|p| p.contains(&s)) {
            parts.push(s);
        }
        cur = c.source();
    }
    parts.join(": ")
}

/// The DevTools websocket of a Grid session, reached the way the user reaches the Grid.
///
/// A Grid advertises `se:cdp` with the address it knows itself by: behind an ingress,
/// a load balancer or a TLS proxy that is an internal one (`ws://selenium-hub:4444/…`)
/// the auditing machine often cannot reach, or reaches around the TLS. So the scheme,
/// host and port are replaced by the WebDriver URL's (`http` → `ws`, `https` → `wss`);
/// the path is kept, under the WebDriver URL's own path when the Grid's does not already
/// start with it (an ingress that strips a prefix).
pub fn devtools_url(se_cdp: &str, webdriver: &Url) -> Result<String> {
    let cdp = Url::parse(se_cdp)
        .with_context(|| format!("WebDriver at {webdriver}: se:cdp is not a URL: {se_cdp:?}"))?;
    let scheme = if webdriver.scheme() == "https" {
        "wss"
    } else {
        "ws"
    };
    let base = webdriver.path().trim_end_matches('/');
    let path = if base.is_empty() || cdp.path().starts_with(&format!("{base}/")) {
        cdp.path().to_string()
    } else {
        format!("{base}{}", cdp.path())
    };
    let mut out = webdriver.clone();
    out.set_scheme(scheme)
        .map_err(|()| anyhow!("WebDriver URL {webdriver}: cannot form a {scheme}:// URL"))?;
    out.set_path(&path);
    out.set_query(cdp.query());
    out.set_fragment(None);
    Ok(out.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn u(s: &str) -> Url {
        Url::parse(s).unwrap()
    }

    #[test]
    fn se_cdp_is_mapped_onto_the_url_the_user_gave() {
        let cdp = "ws://10.0.3.7:4444/session/abc/se/cdp";
        assert_eq!(
            devtools_url(cdp, &u("http://127.0.0.1:4444/")).unwrap(),
            "ws://127.0.0.1:4444/session/abc/se/cdp"
        );
        assert_eq!(
            devtools_url(cdp, &u("https://grid.example.com/")).unwrap(),
            "wss://grid.example.com/session/abc/se/cdp"
        );
        // An ingress that strips a prefix: the prefix is put back.
        assert_eq!(
            devtools_url(cdp, &u("https://ci.example.com:8443/grid/")).unwrap(),
            "wss://ci.example.com:8443/grid/session/abc/se/cdp"
        );
        // A Grid started with --sub-path already says it.
        assert_eq!(
            devtools_url(
                "ws://hub:4444/grid/session/abc/se/cdp?x=1",
                &u("https://ci.example.com/grid")
            )
            .unwrap(),
            "wss://ci.example.com/grid/session/abc/se/cdp?x=1"
        );
        assert!(devtools_url("not a url", &u("http://h/")).is_err());
    }

    #[test]
    fn only_http_and_https_webdriver_urls() {
        assert!(check_scheme(&u("http://h:4444/")).is_ok());
        assert!(check_scheme(&u("https://h/")).is_ok());
        let e = check_scheme(&u("ws://h:4444/")).unwrap_err().to_string();
        assert!(
            e.contains("ws://h:4444/") && e.contains("http:// or https://"),
            "{e}"
        );
    }
}

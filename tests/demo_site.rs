//! The demo site over real sockets: TLS (trusting the generated certificate) and plain HTTP on
//! one port, routing by Host, keep-alive, and the server-side request log.
//! Needs the `demo` feature (the demo site).
#![cfg(feature = "demo")]

use std::sync::Arc;

use consentry::demo::{is_demo_third_party, DemoServer, LoggedRequest, DEMO_HOSTS};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;

#[derive(Debug)]
struct Reply {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Reply {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    fn headers_named(&self, name: &str) -> Vec<&str> {
        self.headers
            .iter()
            .filter(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
            .collect()
    }

    fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// A client connection to the demo server, TLS or plain, kept alive across requests.
struct Conn<S> {
    stream: S,
    buf: Vec<u8>,
}

impl<S: AsyncRead + AsyncWrite + Unpin> Conn<S> {
    async fn request(&mut self, method: &str, host: &str, path: &str, body: &str) -> Reply {
        let head = format!(
            "{method} {path} HTTP/1.1\r\nHost: {host}\r\nUser-Agent: demo-test/1\r\n\
             Content-Length: {}\r\n\r\n{body}",
            body.len()
        );
        self.stream.write_all(head.as_bytes()).await.unwrap();
        self.read_reply(method == "HEAD").await
    }

    async fn read_reply(&mut self, head_only: bool) -> Reply {
        let end = loop {
            if let Some(i) = self.buf.windows(4).position(|w| w == b"\r\n\r\n") {
                break i + 4;
            }
            self.fill().await;
        };
        let head = String::from_utf8(self.buf[..end].to_vec()).unwrap();
        let mut lines = head.split("\r\n");
        let status = lines
            .next()
            .unwrap()
            .split(' ')
            .nth(1)
            .unwrap()
            .parse()
            .unwrap();
        let headers: Vec<(String, String)> = lines
            .filter_map(|l| l.split_once(':'))
            .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
            .collect();
        let len: usize = if head_only {
            0
        } else {
            headers
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case("content-length"))
                .map_or(0, |(_, v)| v.parse().unwrap())
        };
        while self.buf.len() < end + len {
            self.fill().await;
        }
        let body = self.buf[end..end + len].to_vec();
        self.buf.drain(..end + len);
        Reply {
            status,
            headers,
            body,
        }
    }

    async fn fill(&mut self) {
        let mut chunk = [0u8; 8192];
        let n = self.stream.read(&mut chunk).await.unwrap();
        assert!(n > 0, "connection closed early");
        self.buf.extend_from_slice(&chunk[..n]);
    }
}

async fn plain(server: &DemoServer) -> Conn<TcpStream> {
    let stream = TcpStream::connect(("127.0.0.1", server.port()))
        .await
        .unwrap();
    Conn {
        stream,
        buf: Vec::new(),
    }
}

async fn tls(server: &DemoServer, sni: &str) -> Conn<tokio_rustls::client::TlsStream<TcpStream>> {
    let mut roots = rustls::RootCertStore::empty();
    roots.add(server.certificate_der().to_vec().into()).unwrap();
    let config = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_root_certificates(roots)
    .with_no_client_auth();
    let connector = TlsConnector::from(Arc::new(config));
    let tcp = TcpStream::connect(("127.0.0.1", server.port()))
        .await
        .unwrap();
    let name = rustls::pki_types::ServerName::try_from(sni.to_string()).unwrap();
    let stream = connector.connect(name, tcp).await.unwrap();
    let alpn = stream.get_ref().1.alpn_protocol().map(<[u8]>::to_vec);
    assert!(alpn.is_none() || alpn.as_deref() == Some(b"http/1.1".as_slice()));
    Conn {
        stream,
        buf: Vec::new(),
    }
}

fn find<'a>(log: &'a [LoggedRequest], host: &str, path: &str) -> Vec<&'a LoggedRequest> {
    log.iter()
        .filter(|r| r.host == host && r.path_and_query == path)
        .collect()
}

#[tokio::test]
async fn shop_over_tls_with_keep_alive_and_log() {
    let server = DemoServer::start(0).await.unwrap();
    let mut conn = tls(&server, "www.demo-shop.test").await;

    let page = conn.request("GET", "www.demo-shop.test", "/", "").await;
    assert_eq!(page.status, 200);
    assert!(page
        .header("content-type")
        .unwrap()
        .starts_with("text/html"));
    assert_eq!(page.header("cache-control"), Some("no-store"));
    let text = page.text();
    for id in [
        "consent-banner",
        "cb-accept",
        "cb-reject",
        "cb-settings",
        "cb-object-li",
        "cb-save",
        "cb-reopen",
    ] {
        assert!(text.contains(&format!("id=\"{id}\"")), "missing #{id}");
    }
    assert!(text.contains("src=\"/site.js\"") && text.contains("src=\"/cmp.js\""));
    assert!(text.contains("https://www.recaptcha.net/recaptcha/api2/anchor?k=demo"));
    let sid = page.header("set-cookie").unwrap();
    assert!(sid.starts_with("sid="), "{sid}");
    for attr in ["Path=/", "HttpOnly", "Secure", "SameSite=Lax"] {
        assert!(sid.contains(attr), "{sid}");
    }
    assert!(
        !sid.contains("Max-Age") && !sid.contains("Expires"),
        "session cookie: {sid}"
    );

    // Same connection (keep-alive), other hosts: routing is by Host header, not SNI.
    let checkout = conn
        .request("GET", "www.demo-shop.test", "/checkout", "")
        .await;
    assert_eq!(checkout.status, 200);
    assert!(checkout.text().contains("https://js.stripe.com/v3/"));
    assert!(checkout.header("set-cookie").is_none());

    let fb = conn
        .request("GET", "connect.facebook.net", "/en_US/fbevents.js", "")
        .await;
    assert_eq!(fb.status, 200);
    assert!(fb.header("content-type").unwrap().contains("javascript"));
    assert!(fb
        .text()
        .contains("https://www.facebook.com/tr?id=123&ev=PageView"));
    assert!(fb.text().contains("_fbp="));

    let tr = conn
        .request("GET", "www.facebook.com", "/tr?id=123&ev=PageView", "")
        .await;
    assert_eq!(tr.status, 200);
    assert_eq!(tr.header("content-type"), Some("image/gif"));
    assert!(tr.body.starts_with(b"GIF89a"));
    let fr = tr.header("set-cookie").unwrap();
    assert!(
        fr.starts_with("fr=") && fr.contains("Max-Age=7776000") && fr.contains("SameSite=None")
    );

    let anchor = conn
        .request(
            "GET",
            "www.recaptcha.net",
            "/recaptcha/api2/anchor?k=demo",
            "",
        )
        .await;
    assert_eq!(anchor.status, 200);
    let grecaptcha = anchor.headers_named("set-cookie");
    assert_eq!(grecaptcha.len(), 1);
    assert!(grecaptcha[0].starts_with("_GRECAPTCHA=") && grecaptcha[0].contains("Path=/recaptcha"));
    assert!(anchor
        .text()
        .contains("https://www.gstatic.com/recaptcha/releases/demo/recaptcha__en.js"));

    let beacon = conn
        .request("POST", "sb.scorecardresearch.com", "/b?ev=leave", "x")
        .await;
    assert_eq!(beacon.status, 204);

    let worker = conn
        .request("GET", "www.demo-shop.test", "/metrics-worker.js", "")
        .await;
    assert!(worker
        .text()
        .contains("https://sb.scorecardresearch.com/p?c1=2&c2=demo"));

    let log = server.log();
    assert_eq!(log.len(), 7, "{log:#?}");
    assert!(log.iter().all(|r| r.scheme == "https"));
    assert!(log
        .iter()
        .all(|r| r.user_agent.as_deref() == Some("demo-test/1")));
    assert!(log.windows(2).all(|w| w[0].time <= w[1].time));
    assert_eq!(find(&log, "www.demo-shop.test", "/").len(), 1);
    assert_eq!(
        find(&log, "connect.facebook.net", "/en_US/fbevents.js").len(),
        1
    );
    let beacon = find(&log, "sb.scorecardresearch.com", "/b?ev=leave");
    assert_eq!(beacon.len(), 1);
    assert_eq!(beacon[0].method, "POST");
    assert_eq!(
        find(&log, "www.facebook.com", "/tr?id=123&ev=PageView")[0].method,
        "GET"
    );

    server.clear_log();
    assert!(server.log().is_empty());
    server.shutdown().await;
}

#[tokio::test]
async fn plain_http_unknown_hosts_and_bad_input() {
    let server = DemoServer::start(0).await.unwrap();
    let mut conn = plain(&server).await;

    // Host with port and upper case is normalised.
    let page = conn
        .request("GET", "WWW.Demo-Shop.test:8443", "/", "")
        .await;
    assert_eq!(page.status, 200);
    assert!(page.text().contains("id=\"consent-banner\""));

    let gtag = conn
        .request("GET", "www.googletagmanager.com", "/gtag/js?id=G-DEMO", "")
        .await;
    assert_eq!(gtag.status, 200);
    assert!(gtag
        .text()
        .contains("https://analytics.tiktok.com/i18n/pixel/events.js"));
    assert!(gtag.text().contains("730"));

    let background = conn
        .request("GET", "update.googleapis.com", "/service/update2", "")
        .await;
    assert_eq!(background.status, 404);
    assert_eq!(background.header("cache-control"), Some("no-store"));
    let favicon = conn
        .request("GET", "www.demo-shop.test", "/favicon.ico", "")
        .await;
    assert_eq!(favicon.status, 204);
    let head = conn
        .request("HEAD", "static.demo-shop.test", "/style.css", "")
        .await;
    assert_eq!(head.status, 200);

    let log = server.log();
    let hosts: Vec<&str> = log.iter().map(|r| r.host.as_str()).collect();
    assert_eq!(
        hosts,
        [
            "www.demo-shop.test",
            "www.googletagmanager.com",
            "update.googleapis.com",
            "www.demo-shop.test",
            "static.demo-shop.test",
        ]
    );
    assert!(log.iter().all(|r| r.scheme == "http"));
    assert_eq!(log[1].path_and_query, "/gtag/js?id=G-DEMO");
    assert_eq!(log[4].method, "HEAD");
    let ours: Vec<_> = log
        .iter()
        .filter(|r| DEMO_HOSTS.contains(&r.host.as_str()))
        .collect();
    assert_eq!(ours.len(), 4);
    assert!(is_demo_third_party(&log[1].host));
    assert!(!is_demo_third_party(&log[2].host));

    // Garbage instead of HTTP: the connection is dropped, the server keeps serving.
    let mut junk = TcpStream::connect(("127.0.0.1", server.port()))
        .await
        .unwrap();
    junk.write_all(b"\x00\x01 not http at all\r\n\r\n")
        .await
        .unwrap();
    let mut sink = Vec::new();
    let _ = junk.read_to_end(&mut sink).await;
    // A TLS record header followed by nonsense: the handshake fails, nothing is logged.
    let mut bad_tls = TcpStream::connect(("127.0.0.1", server.port()))
        .await
        .unwrap();
    bad_tls
        .write_all(b"\x16\x03\x01\x00\x05hello")
        .await
        .unwrap();
    let _ = bad_tls.read_to_end(&mut sink).await;

    let mut again = plain(&server).await;
    let ok = again
        .request("GET", "www.demo-shop.test", "/cmp.js", "")
        .await;
    assert_eq!(ok.status, 200);
    assert!(ok.text().contains("demo_consent"));

    server.shutdown().await;
}

#[tokio::test]
async fn tls_without_host_header_falls_back_to_sni() {
    let server = DemoServer::start(0).await.unwrap();
    let mut conn = tls(&server, "js.stripe.com").await;
    conn.stream
        .write_all(b"GET /v3/ HTTP/1.0\r\n\r\n")
        .await
        .unwrap();
    let reply = conn.read_reply(false).await;
    assert_eq!(reply.status, 200);
    assert!(reply.text().contains("window.Stripe"));
    let log = server.log();
    assert_eq!(log.len(), 1);
    assert_eq!(log[0].host, "js.stripe.com");
    assert_eq!(log[0].path_and_query, "/v3/");
    assert_eq!(log[0].user_agent, None);
    server.shutdown().await;
}

#[tokio::test]
async fn every_demo_host_is_in_the_certificate() {
    let server = DemoServer::start(0).await.unwrap();
    for host in DEMO_HOSTS {
        // The handshake verifies the name against the certificate's SANs.
        let mut conn = tls(&server, host).await;
        let reply = conn.request("GET", host, "/nothing-here", "").await;
        assert_eq!(reply.status, 404);
    }
    assert_eq!(server.log().len(), DEMO_HOSTS.len());
    let second = DemoServer::start(0).await.unwrap();
    assert_ne!(second.port(), server.port());
    assert_ne!(second.certificate_der(), server.certificate_der());
    second.shutdown().await;
    server.shutdown().await;
}

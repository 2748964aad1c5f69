//! Alerts (docs/alerts.md) against a local receiver that records every request: the demo
//! audited night after night into one database by the real binary with a Slack and a
//! generic target; the sender's retries, its bound and TLS with a test CA.
//! Needs the `demo` feature (the demo site; hyper's server for the receiver).
#![cfg(feature = "demo")]

mod common;

use consentry::demo::DemoServer;
use consentry::notify::message::{Change, ChangedFinding, Notification, SiteChange};
use consentry::notify::{deliver, Format, SendPolicy, Signer, Target};
use consentry::store::Store;
use consentry::tls::Roots;
use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

const SECRET: &str = "test-secret-0123456789abcdef";

/// One browser test at a time (the machines have two cores; each audit runs its own
/// browsers).
static ONE_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// One request the receiver got.
#[derive(Debug, Clone)]
struct Received {
    path: String,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Received {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&self.body)))
    }

    /// The signature checked as docs/alerts.md tells a receiver to.
    fn signature_verifies(&self, secret: &[u8]) -> bool {
        use hmac::{Hmac, Mac};
        let (Some(ts), Some(sig)) = (
            self.header("x-consentry-timestamp"),
            self.header("x-consentry-signature"),
        ) else {
            return false;
        };
        let Ok(t) = ts.parse::<i64>() else {
            return false;
        };
        if (chrono::Utc::now().timestamp() - t).abs() > 300 {
            return false;
        }
        let mut mac = <Hmac<sha2::Sha256> as Mac>::new_from_slice(secret).unwrap();
        mac.update(ts.as_bytes());
        mac.update(b".");
        mac.update(&self.body);
        let hex: String = mac
            .finalize()
            .into_bytes()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        sig == format!("sha256={hex}")
    }
}

/// A local receiver: answers each request with the next status of `statuses` (200 once
/// they run out) and records it.
struct Receiver {
    port: u16,
    got: Arc<Mutex<Vec<Received>>>,
    task: tokio::task::JoinHandle<()>,
}

impl Receiver {
    async fn start(statuses: Vec<u16>, tls: Option<tokio_rustls::TlsAcceptor>) -> Receiver {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let got: Arc<Mutex<Vec<Received>>> = Arc::default();
        let statuses = Arc::new(Mutex::new(statuses.into_iter()));
        let log = got.clone();
        let task = tokio::spawn(async move {
            loop {
                let Ok((tcp, _)) = listener.accept().await else {
                    return;
                };
                let (log, statuses, tls) = (log.clone(), statuses.clone(), tls.clone());
                tokio::spawn(async move {
                    let service = hyper::service::service_fn(
                        move |req: hyper::Request<hyper::body::Incoming>| {
                            let (log, statuses) = (log.clone(), statuses.clone());
                            async move {
                                let path = req.uri().path().to_string();
                                let headers = req
                                    .headers()
                                    .iter()
                                    .map(|(n, v)| {
                                        (n.to_string(), v.to_str().unwrap_or_default().to_string())
                                    })
                                    .collect();
                                let body = req.into_body().collect().await?.to_bytes().to_vec();
                                log.lock().unwrap().push(Received {
                                    path,
                                    headers,
                                    body,
                                });
                                let status = statuses.lock().unwrap().next().unwrap_or(200);
                                Ok::<_, hyper::Error>(
                                    hyper::Response::builder()
                                        .status(status)
                                        .body(Full::new(Bytes::from_static(b"ok")))
                                        .unwrap(),
                                )
                            }
                        },
                    );
                    let http = hyper::server::conn::http1::Builder::new();
                    match tls {
                        Some(tls) => {
                            if let Ok(stream) = tls.accept(tcp).await {
                                let _ = http
                                    .serve_connection(hyper_util::rt::TokioIo::new(stream), service)
                                    .await;
                            }
                        }
                        None => {
                            let _ = http
                                .serve_connection(hyper_util::rt::TokioIo::new(tcp), service)
                                .await;
                        }
                    }
                });
            }
        });
        Receiver { port, got, task }
    }

    fn take(&self) -> Vec<Received> {
        std::mem::take(&mut *self.got.lock().unwrap())
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// A port nothing listens on.
fn dead_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// The demo's scenario file and policy copied to `dir`; `retention` is the declared
/// retention of the CMP's own `demo_consent` cookie (the demo writes it for 180 days).
fn demo_files(dir: &Path, retention: &str) -> PathBuf {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios");
    std::fs::copy(root.join("demo-shop.toml"), dir.join("demo-shop.toml")).unwrap();
    let policy = std::fs::read_to_string(root.join("demo-shop.policy.toml")).unwrap();
    let declared = "name = \"demo_consent\"\nvendor = \"demo-shop\"\nmax_retention = \"180d\"";
    assert!(policy.contains(declared), "the demo policy changed");
    let policy = policy.replace(
        declared,
        &format!(
            "name = \"demo_consent\"\nvendor = \"demo-shop\"\nmax_retention = \"{retention}\""
        ),
    );
    std::fs::write(dir.join("demo-shop.policy.toml"), policy).unwrap();
    dir.join("demo-shop.toml")
}

/// One night: the demo's `accept_all` into `db`, with these `--notify` targets.
fn night(file: &Path, port: u16, db: &Path, notify: &[String]) -> common::Run {
    let mut extra: Vec<&str> = vec!["--scenario", "accept_all", "--no-screenshots"];
    for n in notify {
        extra.extend(["--notify", n.as_str()]);
    }
    common::run_json(
        common::consentry()
            .arg("audit")
            .arg(file)
            .args(["--format", "json", "--no-progress", "--db"])
            .arg(db)
            .args(&extra)
            .env("CONSENTRY_DEMO_PORT", port.to_string())
            .env("CONSENTRY_NOTIFY_SECRET", SECRET)
            .env_remove("CONSENTRY_AUTOCONSENT"),
    )
}

fn targets(port: u16) -> Vec<String> {
    vec![
        format!("slack+http://127.0.0.1:{port}/slack"),
        format!("http://127.0.0.1:{port}/generic"),
    ]
}

/// The one request to `path`.
fn one<'a>(got: &'a [Received], path: &str) -> &'a Received {
    let at: Vec<&Received> = got.iter().filter(|r| r.path == path).collect();
    assert_eq!(at.len(), 1, "requests to {path}: {got:#?}");
    at[0]
}

/// The done-when of issue 19's alerts: night 1 posts (everything is new), night 2 with one
/// new finding posts exactly one Slack-shaped and one signed generic message naming
/// exactly that finding, night 3 (nothing new) posts nothing, and with the receiver down
/// the exit code is the run's without `--notify`, the failure warned about and stored.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    not(feature = "browser-tests"),
    ignore = "needs Chromium and chromedriver: run `make test` or `cargo test --features browser-tests`"
)]
async fn a_new_finding_posts_once_per_target_a_persisting_one_nothing_a_dead_receiver_changes_no_exit_code(
) {
    let _slot = ONE_AT_A_TIME.lock().await;
    let demo = DemoServer::start(0).await.expect("demo server");
    let port = demo.port();
    let receiver = Receiver::start(Vec::new(), None).await;
    let dir = tempfile::tempdir().unwrap();
    let (night1_dir, night2_dir) = (dir.path().join("n1"), dir.path().join("n2"));
    std::fs::create_dir_all(&night1_dir).unwrap();
    std::fs::create_dir_all(&night2_dir).unwrap();
    let before = demo_files(&night1_dir, "180d");
    // Night 2: the privacy team shortened the consent cookie's declared retention.
    let after = demo_files(&night2_dir, "30d");
    let db = dir.path().join("nights.db");
    let to = targets(receiver.port);

    // Night 1: the site's first run: every finding is new, and says so.
    let (f, d, t) = (before.clone(), db.clone(), to.clone());
    let run1 = tokio::task::spawn_blocking(move || night(&f, port, &d, &t))
        .await
        .unwrap();
    assert!(matches!(run1.code, 0 | 1), "night 1: {}", run1.stderr);
    let got = receiver.take();
    assert_eq!(got.len(), 2, "{got:#?}");
    let generic = one(&got, "/generic").json();
    let findings = run1.json["findings"].as_array().unwrap().len();
    assert!(findings > 0);
    assert_eq!(generic["sites"][0]["new"], findings, "{generic}");
    assert!(one(&got, "/slack").json()["blocks"].is_array());

    // Copies of the database as night 1 left it, for the runs without a receiver.
    let (db_plain, db_down) = (dir.path().join("plain.db"), dir.path().join("down.db"));
    std::fs::copy(&db, &db_plain).unwrap();
    std::fs::copy(&db, &db_down).unwrap();

    // Night 2: exactly one new finding.
    let (f, d, t) = (after.clone(), db.clone(), to.clone());
    let run2 = tokio::task::spawn_blocking(move || night(&f, port, &d, &t))
        .await
        .unwrap();
    let new: Vec<&Value> = run2.json["summary"]["new_or_regressed"]
        .as_array()
        .unwrap()
        .iter()
        .collect();
    assert_eq!(new.len(), 1, "{}", run2.json["summary"]);
    let got = receiver.take();
    assert_eq!(got.len(), 2, "one message per target: {got:#?}");
    let run_id = run2.json["run_id"].as_i64().unwrap();

    let slack_req = one(&got, "/slack");
    let slack = slack_req.json();
    assert_eq!(
        slack["text"], "consentry: demo-shop: 1 new finding",
        "{slack}"
    );
    let blocks = slack["blocks"].to_string();
    assert!(
        blocks.contains("cookie-retention-exceeded")
            && blocks.contains("demo_consent")
            && blocks.contains("accept_all"),
        "{blocks}"
    );
    assert_eq!(
        slack_req.header("x-consentry-signature"),
        None,
        "Slack: unsigned"
    );

    let generic_req = one(&got, "/generic");
    assert!(
        generic_req.signature_verifies(SECRET.as_bytes()),
        "{generic_req:#?}"
    );
    assert!(!generic_req.signature_verifies(b"another-secret-0123456789"));
    assert_eq!(
        generic_req.header("x-consentry-event"),
        Some(format!("run-{run_id}").as_str())
    );
    assert_eq!(generic_req.header("content-type"), Some("application/json"));
    let generic = generic_req.json();
    assert_eq!(generic["schema"], "consentry.notification");
    assert_eq!(generic["version"], 1);
    assert_eq!(generic["id"], format!("run-{run_id}"));
    let sites = generic["sites"].as_array().unwrap();
    assert_eq!(sites.len(), 1, "{generic}");
    assert_eq!(sites[0]["site"], "demo-shop");
    assert_eq!(sites[0]["run_id"], run_id);
    assert_eq!(
        (sites[0]["new"].as_u64(), sites[0]["regressed"].as_u64()),
        (Some(1), Some(0))
    );
    let listed = sites[0]["findings"].as_array().unwrap();
    assert_eq!(listed.len(), 1, "{generic}");
    let f = &listed[0];
    assert_eq!(
        (&f["change"], &f["code"], &f["subject"], &f["scenario"]),
        (
            &Value::from("new"),
            &Value::from("cookie-retention-exceeded"),
            &Value::from("demo_consent"),
            &Value::from("accept_all")
        ),
        "{f}"
    );
    assert_eq!(&f["fingerprint"], new[0]);
    assert!(
        f["page"]
            .as_str()
            .is_some_and(|p| p.starts_with('/') && !p.contains('?')),
        "{f}"
    );

    // Both deliveries are stored, about the run, the targets without their paths' tokens.
    let store = Store::open_read_only(&db).await.unwrap();
    let stored = store
        .history()
        .notifications(Some(run_id), None)
        .await
        .unwrap();
    store.close().await;
    let rows: Vec<(String, String, bool, u32)> = stored
        .iter()
        .map(|r| (r.format.clone(), r.target.clone(), r.delivered, r.attempts))
        .collect();
    assert_eq!(
        rows,
        vec![
            (
                "slack".into(),
                format!("http://127.0.0.1:{}/slack", receiver.port),
                true,
                1
            ),
            (
                "generic".into(),
                format!("http://127.0.0.1:{}/generic", receiver.port),
                true,
                1
            ),
        ]
    );

    // Night 3: the finding persists; nothing is new: nothing is posted.
    let (f, d, t) = (after.clone(), db.clone(), to.clone());
    let run3 = tokio::task::spawn_blocking(move || night(&f, port, &d, &t))
        .await
        .unwrap();
    assert_eq!(
        run3.json["summary"]["new_or_regressed"],
        Value::Array(Vec::new()),
        "{}",
        run3.json["summary"]
    );
    assert_eq!(
        receiver.take().len(),
        0,
        "a persisting finding posts nothing"
    );

    // Night 2 again on copies of night 1's database: without --notify, and with the
    // receiver down. Same exit code; the failure warned about and stored.
    let (f, d) = (after.clone(), db_plain.clone());
    let plain = tokio::task::spawn_blocking(move || night(&f, port, &d, &[]))
        .await
        .unwrap();
    let down_targets = targets(dead_port());
    let (f, d) = (after.clone(), db_down.clone());
    let down = tokio::task::spawn_blocking(move || night(&f, port, &d, &down_targets))
        .await
        .unwrap();
    demo.shutdown().await;
    assert_eq!(plain.code, run2.code, "{}", plain.stderr);
    assert_eq!(
        down.code, plain.code,
        "the receiver being down changes no exit code: {}",
        down.stderr
    );
    assert_eq!(
        down.stderr.matches("not delivered").count(),
        2,
        "{}",
        down.stderr
    );
    assert!(!down.stderr.contains(SECRET));
    let down_id = down.json["run_id"].as_i64().unwrap();
    let store = Store::open_read_only(&db_down).await.unwrap();
    let stored = store
        .history()
        .notifications(Some(down_id), None)
        .await
        .unwrap();
    store.close().await;
    assert_eq!(stored.len(), 2, "{stored:#?}");
    for r in &stored {
        assert!(!r.delivered, "{r:?}");
        assert_eq!(r.attempts, SendPolicy::DEFAULT.attempts, "{r:?}");
        assert_eq!(r.http_status, None);
        assert!(
            r.error
                .as_deref()
                .is_some_and(|e| e.contains("cannot connect")),
            "{r:?}"
        );
    }
    assert_eq!(receiver.take().len(), 0);
}

fn sample() -> Notification {
    Notification {
        id: "run-7".into(),
        fleet: None,
        started_at: chrono::Utc::now(),
        sites: vec![SiteChange {
            site: "shop".into(),
            run_id: Some(7),
            report: None,
            status: "complete",
            incomplete: None,
            new: 1,
            regressed: 0,
            findings: vec![ChangedFinding {
                change: Change::New,
                code: consentry::analysis::Code::UndeclaredCookie,
                severity: consentry::analysis::Severity::Medium,
                title: consentry::analysis::Code::UndeclaredCookie.summary(),
                subject: "promo".into(),
                scenario: Some("no_action".into()),
                page: Some("/".into()),
                fingerprint: "v1-0000000000000000".into(),
            }],
        }],
    }
}

const QUICK: SendPolicy = SendPolicy {
    attempts: 3,
    first_backoff: std::time::Duration::from_millis(20),
    attempt_timeout: std::time::Duration::from_secs(5),
    total: std::time::Duration::from_secs(10),
};

/// 5xx and 429 are retried with backoff until one succeeds; a 4xx is not; the bound on
/// attempts holds.
#[tokio::test]
async fn transient_answers_are_retried_within_the_bound_and_a_4xx_is_not() {
    let signer = Signer::new(SECRET.as_bytes());
    let n = sample();

    let flaky = Receiver::start(vec![503, 429], None).await;
    let t = Target::parse(&format!("http://127.0.0.1:{}/in", flaky.port)).unwrap();
    let d = deliver(&[t], &n, Some(&signer), &QUICK, &Roots::System).await;
    assert_eq!(
        (d[0].delivered, d[0].attempts, d[0].http_status),
        (true, 3, Some(200))
    );
    let got = flaky.take();
    assert_eq!(got.len(), 3);
    assert!(got.iter().all(|r| r.signature_verifies(SECRET.as_bytes())));
    assert!(
        got.windows(2).all(|w| w[0].body == w[1].body),
        "the same body each time"
    );

    let wrong = Receiver::start(vec![400], None).await;
    let t = Target::parse(&format!("http://127.0.0.1:{}/in", wrong.port)).unwrap();
    let d = deliver(&[t], &n, Some(&signer), &QUICK, &Roots::System).await;
    assert_eq!(
        (d[0].delivered, d[0].attempts, d[0].http_status),
        (false, 1, Some(400))
    );
    assert!(
        d[0].error
            .as_deref()
            .is_some_and(|e| e.contains("HTTP 400: ok")),
        "{d:?}"
    );

    let down = Receiver::start(vec![500, 500, 500, 500], None).await;
    let t = Target::parse(&format!("http://127.0.0.1:{}/in", down.port)).unwrap();
    let d = deliver(&[t], &n, Some(&signer), &QUICK, &Roots::System).await;
    assert_eq!(
        (d[0].delivered, d[0].attempts, d[0].http_status),
        (false, 3, Some(500))
    );
    assert_eq!(down.take().len(), 3);
}

/// `https://` targets: delivered to a receiver whose certificate chains to the trusted
/// CA, refused (never sent) when it does not.
#[tokio::test]
async fn https_targets_are_verified_against_the_trusted_roots() {
    let (ca_der, acceptor) = test_ca_and_acceptor();
    let receiver = Receiver::start(Vec::new(), Some(acceptor)).await;
    let slack = Target::parse(&format!("slack+https://localhost:{}/hook", receiver.port)).unwrap();
    let generic = Target::parse(&format!("https://localhost:{}/in", receiver.port)).unwrap();
    assert_eq!(
        (slack.format, generic.format),
        (Format::Slack, Format::Generic)
    );
    let signer = Signer::new(SECRET.as_bytes());
    let d = deliver(
        &[slack.clone(), generic.clone()],
        &sample(),
        Some(&signer),
        &QUICK,
        &Roots::Only(vec![ca_der]),
    )
    .await;
    assert!(d.iter().all(|d| d.delivered && d.attempts == 1), "{d:#?}");
    let got = receiver.take();
    assert!(one(&got, "/in").signature_verifies(SECRET.as_bytes()));
    assert!(one(&got, "/hook").json()["blocks"].is_array());

    // Another CA: the handshake fails, nothing is sent.
    let (other_ca, _) = test_ca_and_acceptor();
    let d = deliver(
        &[generic],
        &sample(),
        Some(&signer),
        &QUICK,
        &Roots::Only(vec![other_ca]),
    )
    .await;
    assert!(!d[0].delivered, "{d:?}");
    assert!(
        d[0].error.as_deref().is_some_and(|e| e.contains("TLS")),
        "{d:?}"
    );
    assert_eq!(receiver.take().len(), 0);
}

/// A CA (its certificate, DER) and a TLS acceptor for `localhost` with a certificate it
/// signed.
fn test_ca_and_acceptor() -> (
    rustls::pki_types::CertificateDer<'static>,
    tokio_rustls::TlsAcceptor,
) {
    let ca_key = rcgen::KeyPair::generate().unwrap();
    let mut ca_params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    let ca = rcgen::CertifiedIssuer::self_signed(ca_params, ca_key).unwrap();
    let key = rcgen::KeyPair::generate().unwrap();
    let cert = rcgen::CertificateParams::new(vec!["localhost".to_string()])
        .unwrap()
        .signed_by(&key, &ca)
        .unwrap();
    let key_der = rustls::pki_types::PrivatePkcs8KeyDer::from(key.serialize_der());
    let config = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_no_client_auth()
    .with_single_cert(vec![cert.der().clone()], key_der.into())
    .unwrap();
    (
        ca.der().clone(),
        tokio_rustls::TlsAcceptor::from(Arc::new(config)),
    )
}

/// A fleet file's `notify` (one Slack target written in the file, one generic from
/// `${VAR}`): a fleet run posts one message per target about the fleet run, naming the
/// site, and the deliveries are stored with the fleet run. `--notify` replaces the
/// file's targets; a generic target without the secret refuses to start (exit 2), and a
/// bad URL in the file is reported at its line by `validate` without repeating it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    not(feature = "browser-tests"),
    ignore = "needs Chromium and chromedriver: run `make test` or `cargo test --features browser-tests`"
)]
async fn a_fleet_files_targets_get_one_message_about_the_fleet_run() {
    let _slot = ONE_AT_A_TIME.lock().await;
    let demo = DemoServer::start(0).await.expect("demo server");
    let port = demo.port();
    let receiver = Receiver::start(Vec::new(), None).await;
    let other = Receiver::start(Vec::new(), None).await;
    let dir = tempfile::tempdir().unwrap();
    demo_files(dir.path(), "180d");
    let fleet = dir.path().join("fleet.toml");
    std::fs::write(
        &fleet,
        format!(
            "[fleet]\nname = \"nightly\"\nreports = \"out\"\nnotify = [\n  \"slack+http://127.0.0.1:{}/slack\",\n  \"${{GENERIC_HOOK}}\",\n]\n\n[[site]]\nfile = \"demo-shop.toml\"\n",
            receiver.port
        ),
    )
    .unwrap();
    let db = dir.path().join("fleet.db");
    let cmd = |extra: &[&str], secret: Option<&str>| {
        let mut c = common::consentry();
        c.arg("audit")
            .arg(&fleet)
            .args([
                "--format",
                "json",
                "--no-progress",
                "--no-screenshots",
                "--scenario",
                "accept_all",
                "--db",
            ])
            .arg(&db)
            .args(extra)
            .env("CONSENTRY_DEMO_PORT", port.to_string())
            .env(
                "GENERIC_HOOK",
                format!("http://127.0.0.1:{}/generic", receiver.port),
            )
            .env_remove("CONSENTRY_NOTIFY_SECRET")
            .env_remove("CONSENTRY_AUTOCONSENT");
        if let Some(s) = secret {
            c.env("CONSENTRY_NOTIFY_SECRET", s);
        }
        c
    };

    // No secret for the generic target: nothing runs.
    let out = cmd(&[], None).output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("CONSENTRY_NOTIFY_SECRET") && stderr.contains("nothing was audited"),
        "{stderr}"
    );
    assert!(!db.exists(), "nothing was recorded");

    let mut c = cmd(&[], Some(SECRET));
    let run = tokio::task::spawn_blocking(move || common::run_json(&mut c))
        .await
        .unwrap();
    assert!(matches!(run.code, 0 | 1), "{}", run.stderr);
    let fleet_run = run.json["fleet_run_id"].as_i64().expect("fleet run id");
    let got = receiver.take();
    assert_eq!(got.len(), 2, "{got:#?}");
    let generic_req = one(&got, "/generic");
    assert!(generic_req.signature_verifies(SECRET.as_bytes()));
    let generic = generic_req.json();
    assert_eq!(generic["id"], format!("fleet-run-{fleet_run}"));
    assert_eq!(generic["fleet"]["name"], "nightly");
    assert_eq!(generic["fleet"]["run_id"], fleet_run);
    assert_eq!(generic["sites"][0]["site"], "demo-shop");
    let report = generic["sites"][0]["report"].as_str().unwrap_or_default();
    assert!(report.ends_with("out/demo-shop/report.json"), "{generic}");
    let slack = one(&got, "/slack").json();
    assert!(
        slack["text"].as_str().is_some_and(
            |t| t.starts_with("consentry: fleet nightly: ") && t.contains("new finding")
        ),
        "{slack}"
    );
    let store = Store::open_read_only(&db).await.unwrap();
    let stored = store
        .history()
        .notifications(None, Some(fleet_run))
        .await
        .unwrap();
    store.close().await;
    assert_eq!(stored.len(), 2, "{stored:#?}");
    assert!(stored.iter().all(|r| r.delivered && r.run.is_none()));

    // --notify replaces the file's targets (a Slack one: no secret needed). Nothing is
    // new, so nothing is posted anywhere.
    let to = format!("slack+http://127.0.0.1:{}/slack", other.port);
    let mut c = cmd(&["--notify", &to], None);
    let again = tokio::task::spawn_blocking(move || common::run_json(&mut c))
        .await
        .unwrap();
    demo.shutdown().await;
    assert_eq!(again.code, run.code, "{}", again.stderr);
    assert_eq!(receiver.take().len(), 0);
    assert_eq!(other.take().len(), 0);

    // A bad target in the file: `validate` names its line, never the URL.
    let text = std::fs::read_to_string(&fleet).unwrap();
    std::fs::write(
        &fleet,
        text.replace("${GENERIC_HOOK}", "ftp://u:s3cr3t@files.example/x"),
    )
    .unwrap();
    let out = common::consentry()
        .arg("validate")
        .arg(&fleet)
        .output()
        .unwrap();
    let stderr =
        String::from_utf8_lossy(&out.stderr).to_string() + &String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("fleet.toml:6:3") && stderr.contains("`notify`: scheme `ftp`"),
        "{stderr}"
    );
    assert!(!stderr.contains("s3cr3t"), "{stderr}");
}

/// A `--notify` URL consentry cannot post to is invalid input: exit 2 before anything
/// runs, the flag named by its place and the URL never repeated.
#[test]
fn a_bad_notify_flag_is_exit_2_and_never_repeats_the_url() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("never.db");
    let file = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/demo-shop.toml");
    for (args, said) in [
        (
            vec!["slack+https://x.test/h", "ftp://u:s3cr3t@files.test/x"],
            "--notify (#2): scheme `ftp` is not supported",
        ),
        (
            vec!["https://u:s3cr3t@alerts.test/in"],
            "--notify (#1): credentials in the URL are not supported",
        ),
    ] {
        let mut cmd = common::consentry();
        cmd.arg("audit").arg(&file).arg("--db").arg(&db);
        for a in &args {
            cmd.args(["--notify", a]);
        }
        let out = cmd.env("CONSENTRY_NOTIFY_SECRET", SECRET).output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{stderr}");
        assert!(stderr.contains(said), "{stderr}");
        assert!(!stderr.contains("s3cr3t"), "{stderr}");
        assert!(!db.exists());
    }
}

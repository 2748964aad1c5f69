//! Vantage (`[vantage]`, docs/scenarios.md#vantage) on a real Chromium (Debian's, through
//! chromedriver): the vantage lab (`/lab/vantage` on the demo server) audited by the real
//! binary through a forward proxy on loopback that needs credentials
//! (tests/common/proxy.rs), in German, on Berlin time. Needs the `demo` feature.
#![cfg(feature = "demo")]

mod common;

use common::proxy::ForwardProxy;
use consentry::demo::DemoServer;
use std::collections::BTreeSet;
use std::path::Path;

const SCENARIO: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/vantage.toml");
const USER: &str = "vantage-user-7f3a";
const PASSWORD: &str = "pr0xy-secret-9c41e";

/// The query of each `/lab/vantage-report` the demo server got, by its `from`.
fn reports(served: &[consentry::demo::LoggedRequest]) -> Vec<(String, Vec<(String, String)>)> {
    served
        .iter()
        .filter_map(|r| r.path_and_query.strip_prefix("/lab/vantage-report?"))
        .map(|q| {
            let pairs: Vec<(String, String)> = url::form_urlencoded::parse(q.as_bytes())
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .collect();
            let from = pairs
                .iter()
                .find(|(k, _)| k == "from")
                .map(|(_, v)| v.clone())
                .unwrap_or_default();
            (from, pairs)
        })
        .collect()
}

fn value<'a>(pairs: &'a [(String, String)], key: &str) -> &'a str {
    pairs
        .iter()
        .find(|(k, _)| k == key)
        .map_or("", |(_, v)| v.as_str())
}

/// Every file of the database directory, as bytes (the database, its WAL).
fn db_bytes(dir: &Path) -> Vec<u8> {
    let mut all = Vec::new();
    for e in std::fs::read_dir(dir).expect("db dir").flatten() {
        if e.path().is_file() {
            all.extend(std::fs::read(e.path()).expect("read db file"));
        }
    }
    all
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    not(feature = "browser-tests"),
    ignore = "needs Chromium and chromedriver: run `make test` or `cargo test --features browser-tests`"
)]
async fn a_vantage_run_goes_through_its_proxy_in_its_locale_and_timezone() {
    let server = DemoServer::start(0).await.expect("demo server");
    let proxy = ForwardProxy::start(
        server.port(),
        Some((USER.to_string(), PASSWORD.to_string())),
    )
    .await;
    let dir = tempfile::tempdir().expect("temp dir");
    let db = dir.path().join("vantage.db");
    let (db2, proxy_port) = (db.clone(), proxy.port);
    let run = tokio::task::spawn_blocking(move || {
        common::run_json(
            common::consentry()
                .arg("audit")
                .arg(SCENARIO)
                .args(["--format", "json", "--no-progress", "--jobs", "1", "--db"])
                .arg(&db2)
                .env("CONSENTRY_TEST_PROXY_PORT", proxy_port.to_string())
                .env("CONSENTRY_TEST_PROXY_USER", USER)
                .env("CONSENTRY_TEST_PROXY_PASSWORD", PASSWORD)
                .env_remove("CONSENTRY_AUTOCONSENT"),
        )
    })
    .await
    .expect("audit");
    let served = server.log();
    server.shutdown().await;
    let ctx = format!("stderr:\n{}\nreport:\n{}", run.stderr, run.stdout);
    assert_eq!(run.json["status"]["status"], "complete", "{ctx}");

    // The vantage is in the JSON report, without its credentials.
    let v = &run.json["vantage"];
    assert_eq!(v["label"], "eu-de", "{ctx}");
    assert_eq!(v["proxy"], format!("http://127.0.0.1:{proxy_port}"));
    assert_eq!(v["proxy_auth"], true);
    assert_eq!(v["locale"], "de-DE");
    assert_eq!(v["timezone"], "Europe/Berlin");

    // The proxy carried every request the run stored, with the credentials (after its
    // 407 asked for them).
    let log = proxy.log();
    assert!(
        log.iter().any(|p| !p.authorized),
        "the proxy never had to ask for credentials: {log:#?}"
    );
    let carried: BTreeSet<(String, String)> = log
        .iter()
        .filter(|p| p.authorized)
        .map(|p| (p.host.clone(), p.path.clone()))
        .collect();
    let run_id = run.json["run_id"].as_i64().expect("run id");
    let stored = common::texts(
        &db,
        "SELECT r.url FROM requests r JOIN visits v ON v.id = r.visit_id WHERE v.run_id = ?",
        run_id,
    );
    let navigations = common::texts(
        &db,
        "SELECT r.url FROM requests r JOIN visits v ON v.id = r.visit_id \
         WHERE v.run_id = ? AND r.resource_type = 'Document'",
        run_id,
    );
    for page in ["/lab/vantage", "/lab/next", "/lab/vantage-frame"] {
        assert!(
            navigations.iter().any(|u| u.ends_with(page)),
            "no stored navigation to {page}: {navigations:?}"
        );
    }
    let web: Vec<url::Url> = stored
        .iter()
        .filter_map(|u| url::Url::parse(u).ok())
        .filter(|u| u.scheme() == "http")
        .collect();
    assert!(web.len() >= 6, "{stored:?}");
    for u in &web {
        let path = match u.query() {
            Some(q) => format!("{}?{q}", u.path()),
            None => u.path().to_string(),
        };
        let key = (u.host_str().unwrap_or_default().to_string(), path);
        assert!(
            carried.contains(&key),
            "the proxy did not carry {u} (carried: {carried:#?})"
        );
    }
    // The page's own requests asked for German.
    for p in log.iter().filter(|p| p.authorized && p.method != "CONNECT") {
        assert!(
            p.accept_language
                .as_deref()
                .is_some_and(|l| l.starts_with("de-DE")),
            "{p:?}"
        );
    }

    // The page, its cross-site frame and its worker saw German and Berlin time; the
    // server got `Accept-Language: de-DE,...` for the page.
    let page_request = served
        .iter()
        .find(|r| r.path_and_query == "/lab/vantage")
        .expect("the lab page was served");
    assert!(
        page_request
            .accept_language
            .as_deref()
            .is_some_and(|l| l.starts_with("de-DE")),
        "{page_request:?}"
    );
    let seen = reports(&served);
    for from in ["page", "frame", "worker"] {
        let (_, q) = seen
            .iter()
            .find(|(f, _)| f == from)
            .unwrap_or_else(|| panic!("no report from the {from}: {seen:?}"));
        assert_eq!(value(q, "tz"), "Europe/Berlin", "{from}: {q:?}");
        assert_eq!(value(q, "lang"), "de-DE", "{from}: {q:?}");
        assert!(value(q, "langs").starts_with("de-DE"), "{from}: {q:?}");
    }

    // The credentials are nowhere: not in the report, its stderr or the database files.
    let bytes = db_bytes(dir.path());
    for secret in [USER, PASSWORD] {
        assert!(!run.stdout.contains(secret) && !run.stderr.contains(secret));
        assert!(
            !bytes.windows(secret.len()).any(|w| w == secret.as_bytes()),
            "{secret} is in the database"
        );
    }
    // The stored run has the vantage; every report format shows it.
    let labels = common::texts(
        &db,
        "SELECT vantage || ' ' || vantage_settings FROM runs WHERE id = ?",
        run_id,
    );
    assert!(labels[0].starts_with("eu-de {"), "{labels:?}");
    for format in ["table", "markdown", "html", "sarif", "junit"] {
        let out = common::consentry()
            .args(["report", &run_id.to_string(), "--format", format, "--db"])
            .arg(&db)
            .output()
            .expect("report");
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(text.contains("eu-de"), "{format}: {text}");
        assert!(text.contains("Europe/Berlin"), "{format}: {text}");
        assert!(!text.contains(PASSWORD) && !text.contains(USER), "{format}");
    }
}

//! Faults that must never read as "clean": broken sites, throwing CMP scripts, unsafe
//! ports. Real Chromium against the demo site's lab pages; each audit runs the real
//! binary with `--fail-on info`, so only an honest "not observed" can make it exit 3.
//! Needs the `demo` feature (the demo site).
#![cfg(feature = "demo")]

mod common;

use common::consentry;
use common::lab::{audit_lab, LabRun, LAB};
use consentry::demo::DemoServer;
use serde_json::Value;
use std::path::Path;

static ONE_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

fn audit(port: u16, db: &Path, scenario: &str) -> (i32, Value, String) {
    audit_file(port, Path::new(LAB), db, scenario)
}

/// A redirect loop and an HTTP 500 "load" fine for WebDriver; the main document's own
/// outcome makes them not observed, with a typed reason, exit 3, and the database intact.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    not(feature = "browser-tests"),
    ignore = "needs Chromium and chromedriver: run `make test` or `cargo test --features browser-tests`"
)]
async fn broken_pages_are_not_observed_never_clean() {
    let _slot = ONE_AT_A_TIME.lock().await;
    let server = DemoServer::start(0).await.expect("demo server");
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("faults.db");
    let port = server.port();
    for (scenario, kind, says) in [
        (
            "redirect_loop",
            "navigation-failed",
            "ERR_TOO_MANY_REDIRECTS",
        ),
        ("http_500", "http-error", "HTTP 500"),
    ] {
        let db2 = db.clone();
        let (code, json, stderr) = tokio::task::spawn_blocking(move || audit(port, &db2, scenario))
            .await
            .unwrap();
        assert_eq!(code, 3, "{scenario}: stderr:\n{stderr}");
        let status = &json["visits"][0]["status"];
        assert_eq!(status["status"], "incomplete", "{scenario}: {json}");
        assert_eq!(status["kind"], kind, "{scenario}: {status}");
        let reason = status["reason"].as_str().unwrap_or_default();
        assert!(reason.contains(says), "{scenario}: {reason}");
        assert_eq!(json["summary"]["verdict"], "incomplete");
    }
    server.shutdown().await;
    assert_eq!(consentry::store::integrity_check(&db).await.unwrap(), "ok");
}

/// A CMP script that throws: the visit is observed, and the exception is a warning in
/// the report and stored with the visit.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    not(feature = "browser-tests"),
    ignore = "needs Chromium and chromedriver: run `make test` or `cargo test --features browser-tests`"
)]
async fn a_throwing_cmp_script_is_evidence() {
    let _slot = ONE_AT_A_TIME.lock().await;
    let LabRun {
        _dir,
        db,
        json,
        stderr,
        ..
    } = audit_lab("page_error").await;
    let warnings = json["visits"][0]["warnings"].to_string();
    assert!(
        warnings.contains("uncaught page error") && warnings.contains("cmp failed to start"),
        "{warnings}\nstderr:\n{stderr}"
    );
    let store = consentry::store::Store::open(&db).await.unwrap();
    let run = json["run_id"].as_i64().unwrap();
    // The message carries an OSC title sequence and a bidi override: the table report
    // shows them escaped, never raw.
    let table = consentry()
        .args(["report", &run.to_string(), "--format", "table", "--db"])
        .arg(&db)
        .output()
        .unwrap();
    let table = String::from_utf8_lossy(&table.stdout);
    assert!(table.contains("cmp failed to start"), "{table}");
    assert!(
        !table.contains('\u{1b}') && !table.contains('\u{202e}'),
        "{table}"
    );
    assert!(
        !stderr.contains('\u{1b}') && !stderr.contains('\u{202e}'),
        "{stderr}"
    );
    let errors = store.history().page_errors(run, None).await.unwrap();
    assert!(
        errors
            .iter()
            .any(|e| e.message.contains("cmp failed to start")),
        "{errors:#?}"
    );
}

/// A policy that declares legitimate interest for TCF purpose 4 used to stop the audit;
/// now the audit runs to completion and reports a map finding with the declaration's
/// file:line:col.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    not(feature = "browser-tests"),
    ignore = "needs Chromium and chromedriver: run `make test` or `cargo test --features browser-tests`"
)]
async fn an_illegal_declaration_is_audited_and_reported() {
    let _slot = ONE_AT_A_TIME.lock().await;
    let root = env!("CARGO_MANIFEST_DIR");
    let dir = tempfile::tempdir().unwrap();
    let policy = dir.path().join("wrong.policy.toml");
    let mut text =
        std::fs::read_to_string(format!("{root}/scenarios/demo-shop.policy.toml")).unwrap();
    text.push_str(
        "\n[[purpose]]\nid = \"profiling\"\nname = \"Ad profiles\"\nbasis = \"legitimate_interest\"\ntcf_purpose = 4\n",
    );
    std::fs::write(&policy, &text).unwrap();
    // 1-based line of the offending declaration, `basis = "legitimate_interest"` of the
    // purpose just appended (the line before its `tcf_purpose = 4`).
    let line = text.lines().count() - 1;
    let scenario = dir.path().join("wrong.toml");
    let s = std::fs::read_to_string(format!("{root}/scenarios/demo-shop.toml"))
        .unwrap()
        .replace(
            "policy = \"demo-shop.policy.toml\"",
            "policy = \"wrong.policy.toml\"",
        );
    std::fs::write(&scenario, s).unwrap();

    let server = DemoServer::start(0).await.expect("demo server");
    let port = server.port();
    let db = dir.path().join("map.db");
    let out = tokio::task::spawn_blocking(move || {
        consentry()
            .arg("audit")
            .arg(&scenario)
            .args([
                "--format",
                "json",
                "--no-progress",
                "-s",
                "no_action",
                "--db",
            ])
            .arg(&db)
            .env("CONSENTRY_DEMO_PORT", port.to_string())
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    server.shutdown().await;
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(
        out.status.code(),
        Some(1),
        "audited to completion, with findings:\n{stderr}"
    );
    let json: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["status"]["status"], "complete");
    let map = json["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["code"] == "li-basis-forbidden-tcf-purpose")
        .unwrap_or_else(|| panic!("no map finding: {json}"));
    assert_eq!(map["subject"], "profiling");
    let detail = map["evidence"][0]["detail"].as_str().unwrap_or_default();
    let at = format!("wrong.policy.toml:{line}:");
    assert!(detail.contains(&at), "{detail} (expected {at})");
}

/// A copy of the lab scenario file with `edit` applied, its policy path made absolute.
fn lab_variant(dir: &Path, name: &str, edit: impl Fn(String) -> String) -> std::path::PathBuf {
    let root = env!("CARGO_MANIFEST_DIR");
    let text = std::fs::read_to_string(LAB).unwrap().replace(
        "policy = \"../../scenarios/demo-shop.policy.toml\"",
        &format!("policy = \"{root}/scenarios/demo-shop.policy.toml\""),
    );
    let path = dir.join(name);
    std::fs::write(&path, edit(text)).unwrap();
    path
}

fn audit_file(port: u16, file: &Path, db: &Path, scenario: &str) -> (i32, Value, String) {
    let run = common::audit(
        file,
        port,
        db,
        &["--fail-on", "info", "--scenario", scenario],
    );
    (run.code, run.json, run.stderr)
}

/// A host that does not resolve, and a page that never finishes loading: not observed,
/// each with its own kind, exit 3.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    not(feature = "browser-tests"),
    ignore = "needs Chromium and chromedriver: run `make test` or `cargo test --features browser-tests`"
)]
async fn dns_miss_and_a_page_that_never_loads_are_not_observed() {
    let _slot = ONE_AT_A_TIME.lock().await;
    let server = DemoServer::start(0).await.expect("demo server");
    let port = server.port();
    let dir = tempfile::tempdir().unwrap();
    let nx = lab_variant(dir.path(), "nx.toml", |t| {
        t.replace(
            "args = [\"--host-resolver-rules=MAP * 127.0.0.1:${CONSENTRY_DEMO_PORT:-8443}, EXCLUDE localhost\"]",
            "args = [\"--host-resolver-rules=MAP * ~NOTFOUND\"]",
        )
    });
    let slow = lab_variant(dir.path(), "slow.toml", |t| {
        t.replace("step_timeout = \"5s\"", "step_timeout = \"5s\"\npage_load_timeout = \"2s\"")
            + "\n[[scenario]]\nid = \"never_loads\"\ndescription = \"A document held back longer than the page-load timeout.\"\nsteps = [{ navigate = \"/lab/slow.js?delay=10000\" }]\n"
    });
    let db = dir.path().join("f.db");
    let cases = [
        (
            nx,
            "page_error",
            "navigation-failed",
            "ERR_NAME_NOT_RESOLVED",
        ),
        (slow, "never_loads", "page-load-timeout", "/lab/slow.js"),
    ];
    for (file, scenario, kind, says) in cases {
        let db2 = db.clone();
        let (code, json, stderr) =
            tokio::task::spawn_blocking(move || audit_file(port, &file, &db2, scenario))
                .await
                .unwrap();
        assert_eq!(code, 3, "{scenario}: stderr:\n{stderr}");
        let status = &json["visits"][0]["status"];
        assert_eq!(status["kind"], kind, "{scenario}: {status}");
        let reason = status["reason"].as_str().unwrap_or_default();
        assert!(reason.contains(says), "{scenario}: {reason}");
    }
    server.shutdown().await;
    assert_eq!(consentry::store::integrity_check(&db).await.unwrap(), "ok");
}

/// `[site] secrets`: a token used in a page URL, a step and a script never reaches the
/// database, any report format, stderr, or a `validate` message.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    not(feature = "browser-tests"),
    ignore = "needs Chromium and chromedriver: run `make test` or `cargo test --features browser-tests`"
)]
async fn secrets_are_never_written_anywhere() {
    const TOKEN: &str = "tok-Zq7Xv3N9pLw2";
    let _slot = ONE_AT_A_TIME.lock().await;
    let server = DemoServer::start(0).await.expect("demo server");
    let port = server.port();
    let dir = tempfile::tempdir().unwrap();
    let file = lab_variant(dir.path(), "secret.toml", |t| {
        t.replace(
            "first_party_domains = [\"demo-shop.test\"]",
            "first_party_domains = [\"demo-shop.test\"]\nsecrets = [\"LAB_TOKEN\"]",
        ) + "\n[[scenario]]\nid = \"login\"\ndescription = \"Uses a token.\"\nsteps = [\n  { navigate = \"/lab/next?token=${LAB_TOKEN}\" },\n  { script = \"document.cookie = 'session=' + '${LAB_TOKEN}'; throw new Error('bad ${LAB_TOKEN}')\" },\n]\n"
    });
    let db = dir.path().join("secret.db");
    let mut outputs = Vec::new();
    for format in ["json", "table", "markdown"] {
        let out = consentry()
            .arg("audit")
            .arg(&file)
            .args(["--format", format, "--no-progress", "-s", "login", "--db"])
            .arg(&db)
            .env("CONSENTRY_DEMO_PORT", port.to_string())
            .env("LAB_TOKEN", TOKEN)
            .output()
            .unwrap();
        outputs.push((format, String::from_utf8_lossy(&out.stdout).to_string()));
        outputs.push(("stderr", String::from_utf8_lossy(&out.stderr).to_string()));
    }
    server.shutdown().await;
    let json = &outputs[0].1;
    assert!(
        json.contains("[secret:LAB_TOKEN]"),
        "the redaction is visible: {json}"
    );
    for (what, text) in &outputs {
        assert!(!text.contains(TOKEN), "{what} leaks the secret:\n{text}");
    }
    for entry in std::fs::read_dir(dir.path()).unwrap().flatten() {
        let name = entry.file_name().to_string_lossy().to_string();
        if name.starts_with("secret.db") {
            let bytes = std::fs::read(entry.path()).unwrap();
            assert!(
                !bytes.windows(TOKEN.len()).any(|w| w == TOKEN.as_bytes()),
                "{name} holds the secret"
            );
        }
    }
    // A validate message that would quote it (an invalid URL) does not either.
    let bad = lab_variant(dir.path(), "bad.toml", |t| {
        t.replace(
            "first_party_domains = [\"demo-shop.test\"]",
            "first_party_domains = [\"demo-shop.test\"]\nsecrets = [\"LAB_TOKEN\"]",
        ) + "\n[[scenario]]\nid = \"x\"\nsteps = [{ navigate = \"ftp://h/${LAB_TOKEN}\" }]\n"
    });
    let out = consentry()
        .arg("validate")
        .arg(&bad)
        .env("LAB_TOKEN", TOKEN)
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(out.status.code(), Some(2), "{text}");
    assert!(!text.contains(TOKEN), "validate leaks the secret:\n{text}");
}

/// A bounded flood on loopback (400 requests at once), 150 cookies with 3 KB names and a
/// `Max-Age` at i64::MAX: every request captured, every cookie write recorded with a sane
/// lifetime, and the human report stays small (cells clipped).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    not(feature = "browser-tests"),
    ignore = "needs Chromium and chromedriver: run `make test` or `cargo test --features browser-tests`"
)]
async fn a_request_flood_and_huge_cookies_are_captured_and_bounded() {
    let _slot = ONE_AT_A_TIME.lock().await;
    let server = DemoServer::start(0).await.expect("demo server");
    let port = server.port();
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("flood.db");
    let db2 = db.clone();
    let (code, json, stderr) = tokio::task::spawn_blocking(move || audit(port, &db2, "flood"))
        .await
        .unwrap();
    let logged = server
        .log()
        .iter()
        .filter(|r| r.path_and_query.contains("flood="))
        .count();
    server.shutdown().await;
    assert_eq!(code, 1, "complete, with findings: {stderr}");
    assert_eq!(json["status"]["status"], "complete", "{stderr}");
    assert_eq!(
        logged,
        consentry::demo::FLOOD_REQUESTS,
        "the page made its requests"
    );

    let run = json["run_id"].as_i64().unwrap();
    let store = consentry::store::Store::open(&db).await.unwrap();
    let captured = store
        .history()
        .requests(run, None)
        .await
        .unwrap()
        .iter()
        .filter(|r| r.url.contains("flood="))
        .count();
    assert_eq!(captured, logged, "every flood request captured");
    let writes = store.history().cookie_writes(run, None).await.unwrap();
    let floods = writes
        .iter()
        .filter(|w| w.name.starts_with("flood_"))
        .count();
    assert!(
        floods >= consentry::demo::FLOOD_COOKIES,
        "{floods} flood cookie writes"
    );
    let forever = writes
        .iter()
        .find(|w| w.name == "forever")
        .expect("the i64::MAX cookie is recorded");
    assert_eq!(
        forever.requested_lifetime_secs,
        Some(consentry::capture::cookies::MAX_LIFETIME_SECS)
    );
    store.close().await;

    let table = consentry()
        .args(["report", &run.to_string(), "--format", "table", "--db"])
        .arg(&db)
        .output()
        .unwrap();
    let size = table.stdout.len();
    assert!(size < 1_000_000, "table report of {size} bytes");
    let text = String::from_utf8_lossy(&table.stdout);
    let longest = text.lines().map(|l| l.chars().count()).max().unwrap_or(0);
    // Table cells are clipped at 60 characters, message lines at 600 (src/report/table.rs).
    assert!(longest < 1_000, "a line of {longest} characters");
    assert_eq!(consentry::store::integrity_check(&db).await.unwrap(), "ok");
}

/// A site whose TLS handshake fails (the server answers plain text on the HTTPS port):
/// not observed, kind `navigation-failed`, never clean. The fake server is bounded: it
/// answers at most 50 connections and stops with the test.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    not(feature = "browser-tests"),
    ignore = "needs Chromium and chromedriver: run `make test` or `cargo test --features browser-tests`"
)]
async fn a_tls_failure_is_not_observed() {
    use tokio::io::AsyncWriteExt;
    let _slot = ONE_AT_A_TIME.lock().await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let garbage = tokio::spawn(async move {
        for _ in 0..50 {
            let Ok((mut conn, _)) = listener.accept().await else {
                return;
            };
            let _ = conn
                .write_all(b"HTTP/1.1 400 Bad Request\r\n\r\nnot TLS\r\n")
                .await;
        }
    });
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("tls.db");
    let db2 = db.clone();
    let (code, json, stderr) = tokio::task::spawn_blocking(move || audit(port, &db2, "page_error"))
        .await
        .unwrap();
    garbage.abort();
    assert_eq!(code, 3, "stderr:\n{stderr}");
    let status = &json["visits"][0]["status"];
    assert_eq!(status["kind"], "navigation-failed", "{status}");
    let reason = status["reason"].as_str().unwrap_or_default();
    assert!(reason.contains("ERR_"), "{reason}");
    assert_eq!(consentry::store::integrity_check(&db).await.unwrap(), "ok");
}

/// A page that tries to take a fresh iframe's capture binding and call it with invented
/// cookie and storage writes in another site's name changes no stored record: the iframe's
/// hook took its binding when it was installed (before, the page got it and its 100 calls
/// were counted as forged, the reports lacking the capture's secret; that check is held by
/// `capture::recorder::tests::forged_hook_reports_record_nothing_and_origins_come_from_the_context`);
/// the page's real writes, made after it swapped `JSON.stringify` and `String`, are
/// recorded with the origin of their own document.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    not(feature = "browser-tests"),
    ignore = "needs Chromium and chromedriver: run `make test` or `cargo test --features browser-tests`"
)]
async fn forged_capture_reports_change_no_stored_record() {
    let _slot = ONE_AT_A_TIME.lock().await;
    let LabRun {
        _dir,
        db,
        json,
        stderr,
        ..
    } = audit_lab("forge").await;
    assert_eq!(
        json["visits"][0]["status"]["status"], "complete",
        "{stderr}"
    );
    let warnings = json["visits"][0]["warnings"].to_string();
    assert!(
        !warnings.contains("without the capture's secret"),
        "the page reached the iframe's binding: {warnings}\nstderr:\n{stderr}"
    );
    let run = json["run_id"].as_i64().unwrap();
    let cookies = common::texts(
        &db,
        "SELECT c.name FROM cookie_writes c JOIN visits v ON v.id = c.visit_id WHERE v.run_id = ?",
        run,
    );
    assert!(
        cookies.iter().any(|c| c == "real_after_swap"),
        "{cookies:?}"
    );
    assert!(
        !cookies.iter().any(|c| c.starts_with("forged")),
        "{cookies:?}"
    );
    let storage = common::texts(
        &db,
        "SELECT s.storage_key || ' ' || s.origin FROM storage_writes s JOIN visits v ON v.id = s.visit_id WHERE v.run_id = ?",
        run,
    );
    assert_eq!(
        storage,
        vec!["real_key https://www.demo-shop.test"],
        "{storage:?}"
    );
}

/// A page with no CMP that forges autoconsent's messages through every door the main
/// world offers (`autoconsentSendMessage`, the binding in its own document and in a fresh
/// iframe, a replaced `autoconsentReceiveMessage` answering `optIn` / `optOut`) performs
/// no consent action: autoconsent runs in an isolated world the page cannot reach, so
/// both consent scenarios are not observed (autoconsent detected no CMP), exit 3.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    not(feature = "browser-tests"),
    ignore = "needs Chromium and chromedriver: run `make test` or `cargo test --features browser-tests`"
)]
async fn forged_autoconsent_performs_no_consent_action() {
    let _slot = ONE_AT_A_TIME.lock().await;
    let root = env!("CARGO_MANIFEST_DIR");
    assert!(
        Path::new(root)
            .join("fixtures/build/autoconsent/autoconsent.playwright.js")
            .is_file(),
        "run `make fixtures` first (installs autoconsent)"
    );
    let server = DemoServer::start(0).await.expect("demo server");
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("forge-ac.db");
    let port = server.port();
    let file = Path::new(root).join("tests/fixtures/lab-autoconsent.toml");
    let db2 = db.clone();
    let run = tokio::task::spawn_blocking(move || {
        common::audit(&file, port, &db2, &["--fail-on", "info"])
    })
    .await
    .unwrap();
    server.shutdown().await;
    let (code, json, stderr) = (run.code, run.json, run.stderr);
    for s in ["accept_all", "reject_all"] {
        let v = json["visits"]
            .as_array()
            .and_then(|vs| vs.iter().find(|v| v["scenario"] == s))
            .unwrap_or_else(|| panic!("no {s} visit: {json}\nstderr:\n{stderr}"));
        let a = &v["consent_actions"][0];
        assert_ne!(
            a["detected"], "FakeCMP",
            "{s}: the page's forgery was believed: {a}"
        );
        assert_eq!(a["success"], false, "{s}: {a}");
        assert_eq!(a["effects_from"], "not performed", "{s}: {a}");
        assert_eq!(v["status"]["status"], "incomplete", "{s}: {v}");
        assert_eq!(v["status"]["kind"], "cmp-not-detected", "{s}: {v}");
        let reason = v["status"]["reason"].as_str().unwrap_or_default();
        assert!(
            reason.contains("no CMP detected by autoconsent"),
            "{s}: {reason}"
        );
    }
    assert_eq!(json["summary"]["verdict"], "incomplete", "{json}");
    assert_eq!(code, 3, "not observed is never clean; stderr:\n{stderr}");
}

/// A page that replaces the capture hook's binding (`__consentryReport`) with a function
/// that drops what it is given, and pins it, in its own window (first script) and in a
/// fresh same-origin iframe (whose hook has made no report yet), cannot silence the hook:
/// the hook takes the binding when it is installed, before any page script can reach it,
/// so the cookies and storage items the page writes next are recorded.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    not(feature = "browser-tests"),
    ignore = "needs Chromium and chromedriver: run `make test` or `cargo test --features browser-tests`"
)]
async fn a_page_that_replaces_the_hook_binding_cannot_silence_it() {
    let _slot = ONE_AT_A_TIME.lock().await;
    let LabRun {
        _dir,
        db,
        json,
        stderr,
        ..
    } = audit_lab("silence").await;
    assert_eq!(
        json["visits"][0]["status"]["status"], "complete",
        "{stderr}"
    );
    let run = json["run_id"].as_i64().unwrap();
    let cookies = common::texts(
        &db,
        "SELECT c.name FROM cookie_writes c JOIN visits v ON v.id = c.visit_id WHERE v.run_id = ?",
        run,
    );
    for name in ["after_silence", "after_silence_frame"] {
        assert!(cookies.iter().any(|c| c == name), "{name}: {cookies:?}");
    }
    let storage = common::texts(
        &db,
        "SELECT s.storage_key FROM storage_writes s JOIN visits v ON v.id = s.visit_id WHERE v.run_id = ?",
        run,
    );
    assert_eq!(
        storage,
        vec!["after_silence_key", "after_silence_frame_key"],
        "{storage:?}"
    );
}

/// Web Storage writes come from the browser (`DOMStorage` events), however the page made
/// them: a property assignment, a bracket assignment, `Object.assign`, a fresh iframe's
/// `Storage.prototype.setItem` called on the page's `localStorage`, `sessionStorage`,
/// same-site and cross-site iframes writing while they load, and the tab's next two
/// documents (same origin, then another site) writing while they load. Each is recorded
/// exactly once with its document's origin, its area, key and value hash; an item written
/// again with its current value is no write (the browser sends no event), an update is
/// one. The page then fills `localStorage` past the quota: the items the browser refused
/// (the one that hit the quota, and `refused_key`) are not recorded. Before, the hook
/// wrapping `setItem` saw only calls through a realm's own `setItem` (here `realm_key`) and
/// reported the refused `refused_key` as written.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    not(feature = "browser-tests"),
    ignore = "needs Chromium and chromedriver: run `make test` or `cargo test --features browser-tests`"
)]
async fn storage_writes_come_from_the_browser_and_refused_ones_are_none() {
    use consentry::model::StorageArea::{Local, Session};
    let _slot = ONE_AT_A_TIME.lock().await;
    let LabRun {
        _dir,
        db,
        json,
        stderr,
        ..
    } = audit_lab("storage").await;
    assert_eq!(
        json["visits"][0]["status"]["status"], "complete",
        "{stderr}"
    );
    let run = json["run_id"].as_i64().unwrap();
    let store = consentry::store::Store::open(&db).await.unwrap();
    let key = store.hasher().await.unwrap();
    let history = store.history();
    // What the page says it managed to store.
    let report = history
        .requests(run, None)
        .await
        .unwrap()
        .into_iter()
        .find(|r| r.url.contains("/lab/iso-report?filled="))
        .unwrap_or_else(|| panic!("the page did not report its fill\nstderr:\n{stderr}"));
    let query = report.url.split_once('?').map(|(_, q)| q).unwrap_or("");
    let filled: usize = query
        .split('&')
        .find_map(|p| p.strip_prefix("filled="))
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("{}", report.url));
    assert!(
        query.contains("refused=1") && filled < consentry::demo::STORAGE_MAX_FILL,
        "the browser refused no write: {}",
        report.url
    );
    let shop = "https://www.demo-shop.test";
    let mut want = vec![
        (Local, shop.to_string(), "prop_key".to_string(), "p1"),
        (Local, shop.into(), "bracket_key".into(), "b1"),
        (Local, shop.into(), "bracket_key".into(), "b2"),
        (Local, shop.into(), "assign_key".into(), "a1"),
        (Session, shop.into(), "session_key".into(), "s1"),
        (Local, shop.into(), "realm_key".into(), "r1"),
        (
            Local,
            "https://static.demo-shop.test".into(),
            "frame_static.demo-shop.test".into(),
            "f1",
        ),
        (
            Local,
            "https://www.facebook.com".into(),
            "frame_www.facebook.com".into(),
            "f1",
        ),
        // The next documents of the tab, same origin and another site (a new renderer).
        (Local, shop.into(), "frame_www.demo-shop.test".into(), "f1"),
        (
            Local,
            "https://static.hotjar.com".into(),
            "frame_static.hotjar.com".into(),
            "f1",
        ),
    ];
    let chunk = "q".repeat(1024 * 1024);
    for i in 0..filled {
        want.push((Local, shop.into(), format!("fill_{i}"), chunk.as_str()));
    }
    let mut want: Vec<(String, String, String, String)> = want
        .into_iter()
        .map(|(area, origin, k, v)| (area.as_str().to_string(), origin, k, key.hash(v)))
        .collect();
    want.sort();
    let mut got: Vec<(String, String, String, String)> = history
        .storage_writes(run, None)
        .await
        .unwrap()
        .into_iter()
        .map(|w| (w.area.as_str().to_string(), w.origin, w.key, w.value_hash))
        .collect();
    got.sort();
    let keys = |v: &[(String, String, String, String)]| -> Vec<String> {
        v.iter()
            .map(|w| format!("{} {} {}", w.0, w.1, w.2))
            .collect()
    };
    assert_eq!(keys(&got), keys(&want), "stderr:\n{stderr}");
    assert_eq!(got, want, "value hashes");
    store.close().await;
}

//! Issue 23, item 4: behind a login. Real Chromium against the demo site's lab login
//! (src/demo/lab_login.rs; `tests/fixtures/login.toml`): `/lab/account` loads a tag of an
//! undeclared vendor (`px.members-lab.test`) for a logged-in visitor only. The scenario
//! `member` runs the file's `[login]` first, `guest` opts out (`login = false`).
//! Needs the `demo` feature (the demo server).
#![cfg(feature = "demo")]

mod common;

use consentry::demo::{DemoServer, LAB_PASSWORD, LAB_USER};
use serde_json::Value;
use std::path::{Path, PathBuf};

const LOGIN: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/login.toml");
const MEMBERS: &str = "members-lab.test";

/// The undeclared-third-party finding of `scenario` for the members' tag, if any.
fn members_tag<'a>(json: &'a Value, scenario: &str) -> Option<&'a Value> {
    json["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .find(|f| {
            f["code"] == "undeclared-third-party"
                && f["scenario"] == scenario
                && f["subject"].as_str().is_some_and(|s| s.contains(MEMBERS))
        })
}

/// The visit of `scenario` in a JSON report.
fn visit<'a>(json: &'a Value, scenario: &str) -> &'a Value {
    json["visits"]
        .as_array()
        .expect("visits")
        .iter()
        .find(|v| v["scenario"] == scenario)
        .unwrap_or_else(|| panic!("no visit {scenario}: {json:#}"))
}

/// Every file under `dir`, recursively.
fn files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("read dir").flatten() {
        let path = entry.path();
        if path.is_dir() {
            files(&path, out);
        } else {
            out.push(path);
        }
    }
}

/// `consentry ARGS --db DB` with the lab's user and `password` in the environment: exit
/// code, stdout, stderr.
fn consentry(db: &Path, port: u16, password: &str, args: &[&str]) -> (i32, String, String) {
    let out = common::consentry()
        .args(args)
        .arg("--db")
        .arg(db)
        .env("CONSENTRY_DEMO_PORT", port.to_string())
        .env("LAB_USER", LAB_USER)
        .env("LAB_PASSWORD", password)
        .env_remove("CONSENTRY_AUTOCONSENT")
        .output()
        .expect("run consentry");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn audit(db: &Path, port: u16, password: &str, extra: &[&str]) -> (i32, Value, String) {
    audit_file(LOGIN, db, port, password, extra)
}

fn audit_file(
    file: &str,
    db: &Path,
    port: u16,
    password: &str,
    extra: &[&str],
) -> (i32, Value, String) {
    let mut args = vec!["audit", file, "--format", "json", "--no-progress"];
    args.extend_from_slice(extra);
    let (code, stdout, stderr) = consentry(db, port, password, &args);
    let json = serde_json::from_str(&stdout)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {stdout}\nstderr:\n{stderr}"));
    (code, json, stderr)
}

/// The right credentials: `member` logs in and sees the members' tag, its finding's
/// evidence marked logged in (JSON, Markdown, the table, the stored visit); `guest`, the
/// same pages without the login, does not. The password is nowhere in the database
/// files or the reports. The mark leaves the fingerprint alone.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    not(feature = "browser-tests"),
    ignore = "needs Chromium and chromedriver: run `make test` or `cargo test --features browser-tests`"
)]
async fn the_logged_in_tag_is_found_only_with_the_login_and_marked() {
    let server = DemoServer::start(0).await.expect("demo server");
    let port = server.port();
    let dir = tempfile::tempdir().expect("temp dir");
    let db = dir.path().join("login.db");
    let db2 = db.clone();
    let (code, json, stderr) = tokio::task::spawn_blocking(move || {
        audit(&db2, port, LAB_PASSWORD, &["--fail-on", "never"])
    })
    .await
    .expect("audit task");
    let served: Vec<String> = server
        .log()
        .into_iter()
        .map(|r| format!("{} {} {}", r.method, r.host, r.path_and_query))
        .collect();
    server.shutdown().await;
    assert_eq!(code, 0, "{stderr}\n{json:#}");
    for scenario in ["member", "guest"] {
        assert_eq!(
            visit(&json, scenario)["status"]["status"],
            "complete",
            "{scenario}: {json:#}"
        );
    }
    // The login posted its form.
    assert!(
        served
            .iter()
            .any(|r| r.starts_with("POST ") && r.ends_with("/lab/login")),
        "{served:#?}"
    );

    // (a) With the login: found, every piece of evidence marked logged in.
    let found = members_tag(&json, "member").unwrap_or_else(|| panic!("{json:#}"));
    let evidence = found["evidence"].as_array().expect("evidence");
    assert!(!evidence.is_empty());
    for e in evidence {
        assert_eq!(e["logged_in"], true, "{e:#}");
        assert!(e["page"]
            .as_str()
            .unwrap_or_default()
            .ends_with("/lab/account"));
    }
    let problem = json["problems"]
        .as_array()
        .expect("problems")
        .iter()
        .find(|p| p["subject"] == found["subject"])
        .expect("its problem");
    assert_eq!(problem["logged_in"], true, "{problem:#}");
    // Evidence of `guest` is never marked.
    for f in json["findings"].as_array().expect("findings") {
        for e in f["evidence"].as_array().into_iter().flatten() {
            if e["scenario"] == "guest" {
                assert!(e.get("logged_in").is_none(), "{f:#}");
            }
        }
    }
    // (b) Without the login: the same pages, no members' tag.
    assert!(members_tag(&json, "guest").is_none(), "{json:#}");

    // The mark is no part of the fingerprint.
    assert_eq!(
        found["fingerprint"],
        consentry::analysis::fingerprint(
            consentry::analysis::Code::UndeclaredThirdParty,
            "demo-login",
            Some("member"),
            found["subject"].as_str().expect("subject"),
        )
    );

    // The report's visits say it: `member` logged in, `guest` ran no login.
    assert!(
        visit(&json, "member")["login"]["completed_at"].is_string(),
        "{json:#}"
    );
    assert!(visit(&json, "guest").get("login").is_none(), "{json:#}");
    // The stored visit: the login completed, its steps and its check done.
    let logins = common::texts(
        &db,
        "SELECT v.scenario || ' ' || COALESCE(v.login, '-') FROM visits v WHERE v.run_id = ? ORDER BY v.scenario",
        json["run_id"].as_i64().expect("run id"),
    );
    assert_eq!(logins.len(), 2, "{logins:#?}");
    assert_eq!(logins[0], "guest -");
    let member: Value = serde_json::from_str(
        logins[1]
            .strip_prefix("member ")
            .unwrap_or_else(|| panic!("{logins:#?}")),
    )
    .expect("login JSON");
    assert!(member["completed_at"].is_string(), "{member:#}");
    let steps = member["steps"].as_array().expect("login steps");
    assert_eq!(steps.len(), 4, "three steps and the check: {member:#}");
    assert!(
        steps.iter().all(|s| s["status"]["status"] == "done"),
        "{member:#}"
    );
    assert!(
        steps[3]["description"]
            .as_str()
            .is_some_and(|d| d.starts_with("wait for \"#account-name\"")),
        "the check is the last: {member:#}"
    );

    // The reports say it in words; re-rendered from the database.
    let (code, markdown, stderr) = consentry(
        &db,
        port,
        LAB_PASSWORD,
        &["report", "latest", "--format", "markdown", "--ungrouped"],
    );
    assert_eq!(code, 0, "{stderr}");
    assert!(markdown.contains("before-choice, logged in"), "{markdown}");
    let (_, table, _) = consentry(&db, port, LAB_PASSWORD, &["report", "latest"]);
    assert!(table.contains("; logged in"), "{table}");
    let (_, html, _) = consentry(
        &db,
        port,
        LAB_PASSWORD,
        &["report", "latest", "--format", "html", "--ungrouped"],
    );
    assert!(html.contains("before-choice, logged in"), "{html}");
    let (_, rendered, _) = consentry(
        &db,
        port,
        LAB_PASSWORD,
        &["report", "latest", "--format", "json"],
    );
    let rendered: Value = serde_json::from_str(&rendered).expect("JSON");
    assert_eq!(rendered["findings"], json["findings"]);
    assert_eq!(rendered["visits"], json["visits"]);

    // The password, in clear or URL-encoded, is nowhere consentry wrote.
    let mut written = Vec::new();
    files(dir.path(), &mut written);
    let mut outputs: Vec<(String, Vec<u8>)> = written
        .iter()
        .map(|p| {
            (
                p.display().to_string(),
                std::fs::read(p).expect("read a written file"),
            )
        })
        .collect();
    outputs.push(("json".into(), json.to_string().into_bytes()));
    outputs.push(("markdown".into(), markdown.into_bytes()));
    outputs.push(("table".into(), table.into_bytes()));
    outputs.push(("html".into(), html.into_bytes()));
    outputs.push(("stderr".into(), stderr.into_bytes()));
    let needles = [
        LAB_PASSWORD.to_string(),
        url::form_urlencoded::byte_serialize(LAB_PASSWORD.as_bytes()).collect(),
    ];
    for (what, bytes) in &outputs {
        for needle in &needles {
            assert!(
                !bytes.windows(needle.len()).any(|w| w == needle.as_bytes()),
                "the password is in {what}"
            );
        }
    }
    assert!(written.iter().any(|p| p == &db), "{written:#?}");
}

/// A wrong password: the login's check is not there, so `member` is not observed with
/// the login's reason (exit 3), its own steps skipped; nothing reads as clean, and the
/// members' tag was never loaded.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    not(feature = "browser-tests"),
    ignore = "needs Chromium and chromedriver: run `make test` or `cargo test --features browser-tests`"
)]
async fn a_wrong_password_makes_the_scenario_not_observed() {
    let server = DemoServer::start(0).await.expect("demo server");
    let port = server.port();
    let dir = tempfile::tempdir().expect("temp dir");
    let db = dir.path().join("wrong.db");
    let db2 = db.clone();
    let (code, json, stderr) = tokio::task::spawn_blocking(move || {
        audit(
            &db2,
            port,
            "not-the-password-9",
            &["--fail-on", "never", "--scenario", "member"],
        )
    })
    .await
    .expect("audit task");
    let served: Vec<String> = server
        .log()
        .into_iter()
        .map(|r| format!("{} {}", r.host, r.path_and_query))
        .collect();
    server.shutdown().await;
    assert_eq!(code, 3, "{stderr}\n{json:#}");
    assert_ne!(json["status"]["status"], "complete", "{json:#}");
    let member = visit(&json, "member");
    assert_eq!(member["status"]["status"], "incomplete", "{member:#}");
    assert_eq!(member["status"]["kind"], "login-failed", "{member:#}");
    let reason = member["status"]["reason"].as_str().expect("reason");
    assert!(
        reason.starts_with(
            "login check `#account-name` not present after the login's steps ([login] at "
        ) && reason.contains("login.toml:24:1"),
        "{reason}"
    );
    // Its login: three steps done, the check failed, never completed.
    let login = &member["login"];
    assert!(login["completed_at"].is_null(), "{login:#}");
    let statuses: Vec<&str> = login["steps"]
        .as_array()
        .expect("login steps")
        .iter()
        .map(|s| s["status"]["status"].as_str().unwrap_or("?"))
        .collect();
    assert_eq!(statuses, ["done", "done", "done", "failed"], "{login:#}");
    let not_observed = common::finding(&json, "scenario-not-observed", "member", "member");
    assert!(
        not_observed["evidence"][0]["detail"]
            .as_str()
            .is_some_and(|d| d.contains("login check")),
        "{not_observed:#}"
    );
    assert!(members_tag(&json, "member").is_none(), "{json:#}");
    assert!(
        !served.iter().any(|r| r.contains(MEMBERS)),
        "the members' tag was loaded: {served:#?}"
    );
    // Nothing is marked logged in.
    assert!(!json.to_string().contains("\"logged_in\""), "{json:#}");
}

/// A login step that fails (its button is not there): not observed with the step and
/// where it is written, the rest of the login and the scenario's own steps skipped.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    not(feature = "browser-tests"),
    ignore = "needs Chromium and chromedriver: run `make test` or `cargo test --features browser-tests`"
)]
async fn a_failed_login_step_makes_the_scenario_not_observed_with_its_place() {
    let server = DemoServer::start(0).await.expect("demo server");
    let port = server.port();
    let dir = tempfile::tempdir().expect("temp dir");
    let db = dir.path().join("broken.db");
    let db2 = db.clone();
    let file = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/login-broken.toml"
    );
    let (code, json, stderr) = tokio::task::spawn_blocking(move || {
        audit_file(file, &db2, port, LAB_PASSWORD, &["--fail-on", "never"])
    })
    .await
    .expect("audit task");
    server.shutdown().await;
    assert_eq!(code, 3, "{stderr}\n{json:#}");
    let member = visit(&json, "member");
    assert_eq!(member["status"]["kind"], "login-failed", "{member:#}");
    let reason = member["status"]["reason"].as_str().expect("reason");
    assert!(
        reason.starts_with("login failed: step 3 at ")
            && reason.contains("login-broken.toml:25:3: ")
            && reason.contains("#no-such-button"),
        "{reason}"
    );
    let statuses: Vec<&str> = member["login"]["steps"]
        .as_array()
        .expect("login steps")
        .iter()
        .map(|s| s["status"]["status"].as_str().unwrap_or("?"))
        .collect();
    assert_eq!(
        statuses,
        ["done", "done", "failed", "skipped"],
        "{member:#}"
    );
    // The scenario's own step was skipped, never run.
    let steps = common::texts(
        &db,
        "SELECT s.status FROM steps s JOIN visits v ON v.id = s.visit_id WHERE v.run_id = ?",
        json["run_id"].as_i64().expect("run id"),
    );
    assert_eq!(steps, ["skipped"]);
}

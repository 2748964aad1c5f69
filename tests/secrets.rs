//! `[site] secrets` through every door (docs/reliability.md): two secrets, one plain and
//! one holding a space, `!`, `"` and `\`, planted in the site's name, its page URLs, a
//! custom step's URL, a script (cut where the step is described), a failing selector, and
//! carried by the built-in scenarios, autoconsent and a CMP profile on the Klaro fixture.
//! Every report format of `audit`, `report` and `drift`, stderr with progress lines, every
//! database byte and every file under the test's directory (report files, screenshot
//! files and their names) is scanned for every form of both values.

// Needs the demo site (the `demo` feature; `browser-tests` turns it on).
#![cfg(feature = "demo")]

mod common;

use common::consentry;
use consentry::demo::{DemoServer, FileSite};
use std::path::{Path, PathBuf};

const ROOT: &str = env!("CARGO_MANIFEST_DIR");
const TOKEN: &str = "tok-Zq7Xv3N9pLw2";
const NASTY: &str = "Sp ace!\"q\\z-9Kw";

static ONE_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// Every text a secret's value would be recognisable by, once written somewhere.
fn telltales() -> Vec<String> {
    let mut out = Vec::new();
    for value in [TOKEN, NASTY] {
        out.push(value.to_string());
        out.push(format!("{value:?}").trim_matches('"').to_string());
        out.push(
            serde_json::to_string(value)
                .expect("json")
                .trim_matches('"')
                .to_string(),
        );
        out.push(url::form_urlencoded::byte_serialize(value.as_bytes()).collect());
        if let Ok(u) = url::Url::parse(&format!("https://h.invalid/{value}?{value}")) {
            out.extend(u.query().map(str::to_string));
            out.push(u.path().trim_start_matches('/').to_string());
        }
    }
    // Parts that survive a cut or another encoding.
    for part in [
        "Zq7Xv3",
        "v3N9pLw2",
        "tok-zq7xv3",
        "Sp ace",
        "Sp%20ace",
        "Sp+ace",
        "z-9Kw",
    ] {
        out.push(part.to_string());
    }
    out.sort();
    out.dedup();
    out
}

/// Each telltale found in `bytes`, with some context around its first place.
fn leaks(what: &str, bytes: &[u8]) -> Vec<String> {
    telltales()
        .into_iter()
        .filter_map(|t| {
            let at = bytes.windows(t.len()).position(|w| w == t.as_bytes())?;
            let context = &bytes[at.saturating_sub(60)..(at + t.len() + 20).min(bytes.len())];
            Some(format!(
                "{what} holds {t:?}: ...{}...",
                String::from_utf8_lossy(context)
            ))
        })
        .collect()
}

/// Every file under `dir`, recursively.
fn files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("read dir").flatten() {
        let p = entry.path();
        if p.is_dir() {
            files(&p, out);
        } else {
            out.push(p);
        }
    }
}

fn with_secrets(cmd: &mut std::process::Command, port: u16) -> &mut std::process::Command {
    cmd.env("CONSENTRY_DEMO_PORT", port.to_string())
        .env("LAB_TOKEN", TOKEN)
        .env("LAB_NASTY", NASTY)
        .env_remove("CONSENTRY_AUTOCONSENT")
}

/// The demo shop with the secrets in its name, its first page's URL and custom steps.
fn demo_file(dir: &Path) -> PathBuf {
    let text = std::fs::read_to_string(format!("{ROOT}/scenarios/demo-shop.toml"))
        .expect("demo scenario file")
        .replace("name = \"demo-shop\"", "name = \"demo-shop ${LAB_TOKEN}\"")
        .replace(
            "pages = [\"/\", \"/checkout\"]",
            "pages = [\"/?t=${LAB_TOKEN}&n=${LAB_NASTY}\", \"/checkout\"]",
        )
        .replace(
            "first_party_domains = [\"demo-shop.test\"]",
            "first_party_domains = [\"demo-shop.test\"]\nsecrets = [\"LAB_TOKEN\", \"LAB_NASTY\"]",
        )
        .replace(
            "policy = \"demo-shop.policy.toml\"",
            &format!("policy = \"{ROOT}/scenarios/demo-shop.policy.toml\""),
        )
        .replace(
            "scenarios = [\"no_action\", \"accept_all\", \"reject_all\", \"object_li\", \"accept_then_object\", \"legacy_banner\"]",
            "scenarios = [\"accept_all\", \"reject_all\", \"login\", \"failing\"]",
        )
        + r##"
[[scenario]]
id = "login"
description = "A token in a URL and in a script; the script throws with it."
steps = [
  { navigate = "/lab/next?token=${LAB_TOKEN}&n=${LAB_NASTY}" },
  { script = "var padding = 'abcdefghijklmnopqrstuv'; var t = '${LAB_TOKEN}'; document.cookie = 'session=' + t; localStorage.setItem('k_' + t, t); throw new Error('bad ' + t)" },
]

[[scenario]]
id = "failing"
description = "A selector holding the token that matches nothing."
steps = [{ click = "#missing-${LAB_TOKEN}" }]
"##;
    let path = dir.join("secret-shop.toml");
    std::fs::write(&path, text).expect("write scenario file");
    path
}

/// The Klaro fixture (autoconsent, the klaro CMP profile) with the token in its name and
/// page URL.
fn klaro_file(dir: &Path) -> PathBuf {
    let text = std::fs::read_to_string(format!("{ROOT}/tests/fixtures/klaro/klaro.toml"))
        .expect("klaro scenario file")
        .replace("name = \"klaro-shop\"", "name = \"klaro ${LAB_TOKEN}\"")
        .replace(
            "pages = [\"/\", \"/about\"]",
            "pages = [\"/?t=${LAB_TOKEN}\", \"/about?n=${LAB_NASTY}\"]",
        )
        .replace(
            "first_party_domains = [\"klaro-shop.test\"]",
            "first_party_domains = [\"klaro-shop.test\"]\nsecrets = [\"LAB_TOKEN\", \"LAB_NASTY\"]",
        )
        .replace(
            "policy = \"klaro.policy.toml\"",
            &format!("policy = \"{ROOT}/tests/fixtures/klaro/klaro.policy.toml\""),
        )
        .replace(
            "scenarios = [\"no_action\", \"accept_all\", \"reject_all\", \"object_li\", \"reject_then_reload\", \"accept_then_withdraw\", \"dismiss_banner\"]",
            "scenarios = [\"accept_all\", \"object_li\", \"accept_then_withdraw\"]",
        );
    let path = dir.join("secret-klaro.toml");
    std::fs::write(&path, text).expect("write scenario file");
    path
}

/// Runs `consentry ARGS` with the secrets in the environment; (what, stdout + stderr).
fn run(port: u16, args: &[&str], what: &str) -> (String, Vec<u8>) {
    let out = with_secrets(consentry().args(args), port)
        .output()
        .expect("run consentry");
    let mut bytes = out.stdout;
    bytes.extend_from_slice(b"\n--- stderr ---\n");
    bytes.extend_from_slice(&out.stderr);
    (what.to_string(), bytes)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    not(feature = "browser-tests"),
    ignore = "needs Chromium and chromedriver: run `make test` or `cargo test --features browser-tests`"
)]
async fn secrets_reach_no_output_in_any_form_through_any_scenario_kind() {
    let _slot = ONE_AT_A_TIME.lock().await;
    let dir = tempfile::tempdir().expect("temp dir");
    let db = dir.path().join("secrets.db");
    let db_arg = db.display().to_string();
    let mut outputs: Vec<(String, Vec<u8>)> = Vec::new();

    let demo = DemoServer::start(0).await.expect("demo server");
    let port = demo.port();
    let file = demo_file(dir.path());
    let file_arg = file.display().to_string();
    let json = {
        let (a, f, d) = (file_arg.clone(), db_arg.clone(), port);
        tokio::task::spawn_blocking(move || {
            // Without --no-progress: the progress lines go to stderr.
            run(
                d,
                &["audit", &a, "--format", "json", "--db", &f],
                "audit json",
            )
        })
        .await
        .expect("audit")
    };
    outputs.push(json.clone());
    for (format, what) in [("table", "audit table"), ("markdown", "audit markdown")] {
        let (a, f, d) = (file_arg.clone(), db_arg.clone(), port);
        let scenario = if format == "table" {
            "login"
        } else {
            "failing"
        };
        outputs.push(
            tokio::task::spawn_blocking(move || {
                run(
                    d,
                    &["audit", &a, "--format", format, "--db", &f, "-s", scenario],
                    what,
                )
            })
            .await
            .expect("audit"),
        );
    }
    demo.shutdown().await;

    let klaro = DemoServer::start_files(0, FileSite::named(Path::new(ROOT), "klaro"))
        .await
        .expect("klaro fixture");
    let kport = klaro.port();
    let kfile = klaro_file(dir.path());
    let html_out = dir.path().join("klaro-audit.html");
    {
        let (a, f, d, h) = (
            kfile.display().to_string(),
            db_arg.clone(),
            kport,
            html_out.display().to_string(),
        );
        outputs.push(
            tokio::task::spawn_blocking(move || {
                run(
                    d,
                    &["audit", &a, "--format", "html", "--output", &h, "--db", &f],
                    "audit html (klaro)",
                )
            })
            .await
            .expect("audit"),
        );
    }
    klaro.shutdown().await;

    // The JSON report shows the redaction, and what the run did with the secret.
    let text = String::from_utf8_lossy(&json.1).to_string();
    let report_json = text.split("\n--- stderr ---\n").next().unwrap_or_default();
    let report: serde_json::Value =
        serde_json::from_str(report_json).unwrap_or_else(|e| panic!("audit json ({e}):\n{text}"));
    assert_eq!(report["site"], "demo-shop [secret:LAB_TOKEN]", "{text}");
    assert!(
        report_json.contains("[secret:LAB_NASTY]"),
        "the page URL's secret is shown redacted: {report_json}"
    );
    let failing = report["visits"]
        .as_array()
        .and_then(|v| v.iter().find(|v| v["scenario"] == "failing"))
        .expect("the failing scenario");
    assert_eq!(failing["status"]["kind"], "element-not-found", "{failing}");

    // Every stored run, re-rendered in every format, and the drift pack.
    for id in ["1", "2", "3", "4"] {
        for format in ["json", "table", "markdown", "html", "sarif", "junit"] {
            let out = dir.path().join(format!("report-{id}.{format}"));
            let out_arg = out.display().to_string();
            outputs.push(run(
                port,
                &[
                    "report", id, "--format", format, "--output", &out_arg, "--db", &db_arg,
                ],
                &format!("report {id} {format}"),
            ));
        }
    }
    for site in ["demo-shop [secret:LAB_TOKEN]", "klaro [secret:LAB_TOKEN]"] {
        for format in ["json", "markdown", "html"] {
            let out = dir.path().join(format!("drift-{}.{format}", site.len()));
            let out_arg = out.display().to_string();
            outputs.push(run(
                port,
                &[
                    "drift", "--site", site, "--format", format, "--output", &out_arg, "--db",
                    &db_arg,
                ],
                &format!("drift {format} {site}"),
            ));
        }
    }
    outputs.push(run(port, &["runs", "--db", &db_arg], "runs"));

    let mut found = Vec::new();
    for (what, bytes) in &outputs {
        found.extend(leaks(what, bytes));
    }
    let mut all = Vec::new();
    files(dir.path(), &mut all);
    assert!(
        all.iter()
            .any(|p| p.extension().is_some_and(|e| e == "png")),
        "screenshots were taken: {all:?}"
    );
    for path in &all {
        if path == &file || path == &kfile {
            continue; // the scenario files hold `${LAB_TOKEN}`, never the value
        }
        let name = path.display().to_string();
        found.extend(leaks(&format!("the file name {name}"), name.as_bytes()));
        found.extend(leaks(&name, &std::fs::read(path).expect("read file")));
    }
    assert!(found.is_empty(), "{found:#?}");
}

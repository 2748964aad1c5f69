//! A fleet run (docs/fleet.md) in real Chromium: several sites in one run, each judged
//! exactly as its own single-site audit, a site that cannot be reached not observed and
//! never holding the others up.
#![cfg(feature = "browser-tests")]

mod common;

use common::{consentry, finding_keys, run_json, Key};
use consentry::demo::{DemoServer, FileSite};
use serde_json::Value;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

const ROOT: &str = env!("CARGO_MANIFEST_DIR");

/// The no-CMP fixture site's files, copied to `dir` with its hosts mapped to `port`.
fn plain_shop(dir: &Path, port: u16) -> PathBuf {
    let src = Path::new(ROOT).join("tests/fixtures/no-cmp");
    std::fs::copy(
        src.join("no-cmp.policy.toml"),
        dir.join("no-cmp.policy.toml"),
    )
    .unwrap();
    let text = std::fs::read_to_string(src.join("no-cmp.toml"))
        .unwrap()
        .replace("${CONSENTRY_DEMO_PORT:-8443}", &port.to_string());
    let file = dir.join("plain-shop.toml");
    std::fs::write(&file, text).unwrap();
    file
}

/// A port nothing listens on.
fn closed_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap().port()
}

/// Findings with their fingerprints, as (code, scenario, subject, fingerprint).
fn fingerprinted(json: &Value) -> BTreeSet<(Key, String)> {
    let keys = finding_keys(json);
    let fps: Vec<String> = json["findings"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|f| f["fingerprint"].as_str().unwrap_or_default().to_string())
                .collect()
        })
        .unwrap_or_default();
    assert_eq!(keys.len(), fps.len(), "findings are distinct");
    let mut out = BTreeSet::new();
    for f in json["findings"].as_array().into_iter().flatten() {
        out.insert((
            (
                f["code"].as_str().unwrap_or_default().to_string(),
                f["scenario"].as_str().unwrap_or("-").to_string(),
                f["subject"].as_str().unwrap_or_default().to_string(),
            ),
            f["fingerprint"].as_str().unwrap_or_default().to_string(),
        ));
    }
    out
}

fn audit_cmd(db: &Path, demo_port: u16) -> std::process::Command {
    let mut cmd = consentry();
    cmd.arg("audit")
        .args(["--format", "json", "--no-progress", "--db"])
        .arg(db)
        .args(["-s", "no_action", "-s", "accept_all", "-s", "reject_all"])
        .arg("--autoconsent")
        .arg(Path::new(ROOT).join("fixtures/build/autoconsent"))
        .env("CONSENTRY_DEMO_PORT", demo_port.to_string())
        .env_remove("CONSENTRY_REPORTS_DIR");
    cmd
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fleet_judges_each_site_as_its_own_audit_and_a_dead_site_holds_nobody_up() {
    let demo = DemoServer::start(0).await.expect("demo server");
    let files = DemoServer::start_files(0, FileSite::named(Path::new(ROOT), "no-cmp"))
        .await
        .expect("fixture server");
    let dir = tempfile::tempdir().unwrap();
    let plain = plain_shop(dir.path(), files.port());
    let shop = Path::new(ROOT).join("scenarios/demo-shop.toml");
    let gone = closed_port();
    let fleet = dir.path().join("fleet.toml");
    std::fs::write(
        &fleet,
        format!(
            r#"[fleet]
name = "test-agency"
reports = "out"
per_site = 1

[[site]]
file = "{shop}"

[[site]]
file = "plain-shop.toml"

[[site]]
name = "gone"
base_url = "https://www.gone.test/"
policy = "no-cmp.policy.toml"
browser = {{ args = ["--host-resolver-rules=MAP * 127.0.0.1:{gone}, EXCLUDE localhost"], page_load_timeout = "5s" }}
run = {{ scenarios = ["no_action"] }}

[[site]]
file = "broken.toml"
"#,
            shop = shop.display()
        ),
    )
    .unwrap();

    // A client whose file is broken: left out, never holding the others up.
    std::fs::write(
        dir.path().join("broken.toml"),
        "[site]\nname = \"broken\"\nbase_url = \"not a url\"\npolicy = \"no-cmp.policy.toml\"\n",
    )
    .unwrap();

    // Each site alone, into its own database.
    let mut alone = Vec::new();
    for (i, file) in [&shop, &plain].into_iter().enumerate() {
        let db = dir.path().join(format!("alone-{i}.db"));
        let run = run_json(audit_cmd(&db, demo.port()).arg(file));
        alone.push(run);
    }

    // The fleet, into one database.
    let db = dir.path().join("fleet.db");
    let out = run_json(
        audit_cmd(&db, demo.port())
            .arg(&fleet)
            .args(["--jobs", "2"]),
    );
    assert_eq!(out.json["kind"], "fleet", "{}", out.stdout);
    assert_eq!(
        out.code, 3,
        "a site not observed makes the fleet incomplete\n{}",
        out.stderr
    );
    let sites = out.json["sites"].as_array().expect("sites");
    let names: Vec<&str> = sites.iter().filter_map(|s| s["site"].as_str()).collect();
    assert_eq!(names, ["demo-shop", "plain-shop", "gone", "broken.toml"]);
    assert_eq!(sites[3]["visits_observed"], 0);
    assert!(
        sites[3]["status"]["reason"]
            .as_str()
            .is_some_and(|r| r.starts_with("not audited: 1 error(s)")),
        "{}",
        sites[3]
    );
    assert!(
        out.stderr.contains("broken.toml:3:12"),
        "its error is shown: {}",
        out.stderr
    );
    let gone_line = &sites[2];
    assert_eq!(gone_line["status"]["status"], "incomplete", "{gone_line}");
    assert_eq!(gone_line["visits_observed"], 0);
    assert_eq!(sites[0]["status"]["status"], "complete", "{}", sites[0]);
    assert_eq!(sites[0]["visits_observed"], 3);

    // Each site's report, written under <reports>/<site>/, equals its audit alone.
    for (i, site) in ["demo-shop", "plain-shop"].iter().enumerate() {
        let path = dir.path().join("out").join(site).join("report.json");
        assert_eq!(sites[i]["report_file"], path.display().to_string());
        let report: Value =
            serde_json::from_str(&std::fs::read_to_string(&path).expect("site report")).unwrap();
        let alone = &alone[i];
        assert_eq!(
            fingerprinted(&report),
            fingerprinted(&alone.json),
            "{site}: the fleet's findings are the site's own"
        );
        assert_eq!(report["status"], alone.json["status"], "{site}");
        assert!(!fingerprinted(&report).is_empty() || *site == "plain-shop");
    }

    // Each site has its own run, tied to one fleet run.
    let conn = rusqlite_free_read(&db);
    assert_eq!(conn.0, 3, "three runs");
    assert_eq!(conn.1, 1, "one fleet run, naming all three: {:?}", conn);

    // `runs` and `report` work per site as for a lone audit.
    let listed = consentry()
        .args(["runs", "--db"])
        .arg(&db)
        .output()
        .expect("runs");
    let listed = String::from_utf8_lossy(&listed.stdout);
    for site in ["demo-shop", "plain-shop", "gone"] {
        assert!(listed.contains(site), "{listed}");
    }
    let fleet_id = out.json["fleet_run_id"].as_i64().expect("a fleet run id");
    let of_fleet = consentry()
        .args(["runs", "--fleet", &fleet_id.to_string(), "--db"])
        .arg(&db)
        .output()
        .expect("runs --fleet");
    let of_fleet = String::from_utf8_lossy(&of_fleet.stdout);
    assert_eq!(
        ["demo-shop", "plain-shop", "gone"]
            .iter()
            .filter(|s| of_fleet.contains(*s))
            .count(),
        3,
        "{of_fleet}"
    );
    let other = consentry()
        .args(["runs", "--fleet", &(fleet_id + 1).to_string(), "--db"])
        .arg(&db)
        .output()
        .expect("runs --fleet");
    assert!(String::from_utf8_lossy(&other.stdout).starts_with("no runs"));
    demo.shutdown().await;
    files.shutdown().await;
}

/// (runs, distinct fleet runs among them), read with the store's own reader.
fn rusqlite_free_read(db: &Path) -> (usize, usize) {
    let rt = tokio::runtime::Handle::current();
    let db = db.to_path_buf();
    std::thread::spawn(move || {
        rt.block_on(async move {
            let store = consentry::store::Store::open_read_only(&db)
                .await
                .expect("open");
            let runs = store.history().runs(None, 100).await.expect("runs");
            let fleets: BTreeSet<Option<i64>> = runs.iter().map(|r| r.fleet_run).collect();
            (runs.len(), fleets.iter().filter(|f| f.is_some()).count())
        })
    })
    .join()
    .expect("reader")
}

/// Ctrl-C in the middle of a fleet: the site that finished keeps its complete run, the
/// site cut short is interrupted, the fleet run too, and the summary says so (exit 3).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ctrl_c_keeps_every_finished_site_and_marks_the_rest_interrupted() {
    let demo = DemoServer::start(0).await.expect("demo server");
    let dir = tempfile::tempdir().unwrap();
    let policy = Path::new(ROOT).join("scenarios/demo-shop.policy.toml");
    // A second shop whose only scenario waits a minute for a banner that never comes.
    std::fs::write(
        dir.path().join("slow.toml"),
        format!(
            r##"[site]
name = "slow-shop"
base_url = "https://www.demo-shop.test/"
policy = "{policy}"
[browser]
args = ["--host-resolver-rules=MAP * 127.0.0.1:{port}, EXCLUDE localhost"]
[run]
scenarios = ["wait"]
[[scenario]]
id = "wait"
steps = [{{ wait_for = "#never-there", timeout = "60s" }}]
"##,
            policy = policy.display(),
            port = demo.port()
        ),
    )
    .unwrap();
    std::fs::write(
        dir.path().join("fleet.toml"),
        format!(
            "[fleet]\nname = \"ctrl-c\"\n\
             [[site]]\nfile = \"{}\"\n[[site]]\nfile = \"slow.toml\"\n",
            Path::new(ROOT).join("scenarios/demo-shop.toml").display()
        ),
    )
    .unwrap();
    let db = dir.path().join("f.db");
    let child = tokio::process::Command::new(env!("CARGO_BIN_EXE_consentry"))
        .arg("audit")
        .arg(dir.path().join("fleet.toml"))
        .args(["--jobs", "2", "-s", "no_action", "-s", "wait"])
        .args(["--format", "json", "--no-progress", "--db"])
        .arg(&db)
        .env("CONSENTRY_DEMO_PORT", demo.port().to_string())
        .env("CONSENTRY_REPORTS_DIR", dir.path().join("reports"))
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // Wait until the demo shop's run is finished, the slow shop's still running.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(90);
    loop {
        assert!(
            std::time::Instant::now() < deadline,
            "the demo shop never finished"
        );
        if let Ok(store) = consentry::store::Store::open_read_only(&db).await {
            let runs = store.history().runs(None, 10).await.unwrap_or_default();
            store.close().await;
            if runs
                .iter()
                .any(|r| r.site == "demo-shop" && r.status.as_str() == "complete")
            {
                break;
            }
        }
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    let pid = child.id().unwrap() as i32;
    // SAFETY: signalling our own child process.
    unsafe {
        libc::kill(pid, libc::SIGINT);
    }
    let out = tokio::time::timeout(std::time::Duration::from_secs(60), child.wait_with_output())
        .await
        .expect("consentry stops after Ctrl-C")
        .unwrap();
    demo.shutdown().await;
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "stderr:\n{stderr}");
    let summary: Value = serde_json::from_slice(&out.stdout).unwrap();
    let status = |site: &str| {
        summary["sites"]
            .as_array()
            .and_then(|s| s.iter().find(|l| l["site"] == site))
            .map(|l| l["status"]["status"].clone())
    };
    assert_eq!(status("demo-shop"), Some("complete".into()), "{summary}");
    assert_eq!(status("slow-shop"), Some("interrupted".into()), "{summary}");

    let store = consentry::store::Store::open_read_only(&db).await.unwrap();
    let runs = store.history().runs(None, 10).await.unwrap();
    let of = |site: &str| {
        runs.iter()
            .find(|r| r.site == site)
            .map(|r| r.status.as_str().to_string())
    };
    assert_eq!(of("demo-shop").as_deref(), Some("complete"));
    assert_eq!(of("slow-shop").as_deref(), Some("interrupted"));
    let fleet = runs.first().and_then(|r| r.fleet_run);
    assert!(fleet.is_some() && runs.iter().all(|r| r.fleet_run == fleet));
    let fleet_status = store
        .history()
        .fleet_run(fleet.unwrap_or_default())
        .await
        .unwrap()
        .map(|f| f.status.as_str().to_string());
    assert_eq!(fleet_status.as_deref(), Some("interrupted"));
    store.close().await;
}

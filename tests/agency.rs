//! The agency fixture (docs/fixtures.md, "agency"): a seeded generator of client sites.
//! Same seed, same bytes; the three broken sites behave as promised over loopback; and a
//! real-Chromium single-site audit of one site per CMP kind finds exactly the findings the
//! generator planted (expected.json, without those that need page discovery).
#![cfg(feature = "demo")]

mod common;

use consentry::demo::agency::{self, AgencyManifest, ExpectedSite};
use consentry::demo::{DemoServer, FileSite};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

const ROOT: &str = env!("CARGO_MANIFEST_DIR");
const SEED: u64 = 2026;
const SITES: usize = 20;

/// Every file under `dir`, by relative path, with its bytes.
fn tree(dir: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    let mut files = BTreeMap::new();
    let mut todo = vec![dir.to_path_buf()];
    while let Some(d) = todo.pop() {
        for entry in std::fs::read_dir(&d).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                todo.push(path);
            } else {
                let bytes = std::fs::read(&path).unwrap();
                files.insert(path.strip_prefix(dir).unwrap().to_path_buf(), bytes);
            }
        }
    }
    files
}

fn generate(seed: u64) -> (tempfile::TempDir, PathBuf, AgencyManifest) {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("agency");
    let m = agency::generate(seed, SITES, &out).expect("generate");
    (dir, out, m)
}

#[test]
fn same_seed_same_bytes() {
    let (_a, a, ma) = generate(SEED);
    let (_b, b, mb) = generate(SEED);
    let (ta, tb) = (tree(&a), tree(&b));
    assert_eq!(ma, mb);
    assert_eq!(ta.keys().collect::<Vec<_>>(), tb.keys().collect::<Vec<_>>());
    for (path, bytes) in &ta {
        assert!(bytes == &tb[path], "{} differs", path.display());
    }
    // The manifest written is the one returned, and reads back.
    assert_eq!(agency::load(&a).unwrap(), ma);
    // Small: a few KB per site.
    let total: usize = ta.values().map(Vec::len).sum();
    assert!(total < SITES * 40 * 1024, "{total} bytes");
    eprintln!("{} files, {total} bytes for {SITES} sites", ta.len());
    // Another seed, another fleet.
    let (_c, c, _) = generate(SEED + 1);
    assert_ne!(tree(&c), ta);
}

/// Sends one plain-HTTP GET for `host` to the fixture server and returns what came back
/// within `wait` (`None`: nothing at all, the connection still open).
async fn get(port: u16, host: &str, path: &str, wait: Duration) -> Option<String> {
    let mut conn = tokio::net::TcpStream::connect(("127.0.0.1", port))
        .await
        .unwrap();
    conn.write_all(
        format!("GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n").as_bytes(),
    )
    .await
    .unwrap();
    let mut buf = Vec::new();
    match tokio::time::timeout(wait, conn.read_to_end(&mut buf)).await {
        Ok(Ok(_)) => Some(String::from_utf8_lossy(&buf).into_owned()),
        Ok(Err(e)) => panic!("read: {e}"),
        Err(_) => {
            assert!(
                buf.is_empty(),
                "partial answer: {}",
                String::from_utf8_lossy(&buf)
            );
            None
        }
    }
}

fn site(m: &AgencyManifest, pick: impl Fn(&ExpectedSite) -> bool) -> &ExpectedSite {
    m.sites.iter().find(|s| pick(s)).expect("such a site")
}

#[tokio::test]
async fn broken_sites_behave_as_promised_over_loopback() {
    let (_dir, out, m) = generate(SEED);
    let server = DemoServer::start_files(0, FileSite::agency(Path::new(ROOT), &out))
        .await
        .unwrap();
    let port = server.port();
    let broken = |kind: &str| site(&m, |s| s.broken.as_deref() == Some(kind)).host.clone();

    // Hangs: the request is read (logged), nothing ever comes back.
    let hang = broken("hang");
    for path in ["/", "/robots.txt"] {
        let started = std::time::Instant::now();
        assert_eq!(get(port, &hang, path, Duration::from_secs(2)).await, None);
        assert!(started.elapsed() >= Duration::from_secs(2));
    }
    assert!(server.log().iter().any(|r| r.host == hang));

    let fail = broken("error-500");
    for path in ["/", "/product/1", "/robots.txt"] {
        let answer = get(port, &fail, path, Duration::from_secs(5))
            .await
            .unwrap();
        assert!(answer.starts_with("HTTP/1.1 500"), "{path}: {answer}");
    }
    let looping = broken("redirect-loop");
    for path in ["/", "/about"] {
        let answer = get(port, &looping, path, Duration::from_secs(5))
            .await
            .unwrap()
            .to_ascii_lowercase();
        assert!(answer.starts_with("http/1.1 302"), "{path}: {answer}");
        assert!(answer.contains("\r\nlocation: /\r\n"), "{answer}");
    }

    // A working site answers its pages, robots.txt and sitemaps.
    let ok = site(&m, |s| s.observed && s.sitemaps.contains("gzip"));
    for path in [
        "/",
        "/robots.txt",
        "/sitemap_index.xml",
        "/sitemap-products.xml.gz",
    ] {
        let answer = get(port, &ok.host, path, Duration::from_secs(5))
            .await
            .unwrap();
        assert!(answer.starts_with("HTTP/1.1 200"), "{path}: {answer}");
    }
    let answer = get(port, &ok.host, "/sitemap.xml", Duration::from_secs(5))
        .await
        .unwrap();
    assert!(answer.starts_with("HTTP/1.1 404"), "{answer}");
    server.shutdown().await;
}

/// `consentry demo-site --agency DIR` generates into an empty DIR and serves it; a second
/// start serves the same generation as it is.
#[tokio::test]
async fn demo_site_generates_then_serves() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("agency");
    for round in 0..2 {
        let ready = dir.path().join(format!("ready{round}"));
        let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_consentry"))
            .args([
                "demo-site",
                "--port",
                "0",
                "--seed",
                "9",
                "--sites",
                "20",
                "--project",
                ROOT,
            ])
            .arg("--agency")
            .arg(&out)
            .arg("--ready-file")
            .arg(&ready)
            .kill_on_drop(true)
            .spawn()
            .unwrap();
        let port: u16 = loop {
            if let Ok(text) = std::fs::read_to_string(&ready) {
                if let Ok(port) = text.trim().parse() {
                    break port;
                }
            }
            assert!(child.try_wait().unwrap().is_none(), "demo-site exited");
            tokio::time::sleep(Duration::from_millis(50)).await;
        };
        let m = agency::load(&out).unwrap();
        assert_eq!(m.seed, 9);
        let host = &site(&m, |s| s.observed).host;
        let answer = get(port, host, "/", Duration::from_secs(5)).await.unwrap();
        assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
        child.kill().await.unwrap();
    }
    // A directory holding something else is refused.
    let other = tempfile::tempdir().unwrap();
    std::fs::write(other.path().join("notes.txt"), "x").unwrap();
    let status = std::process::Command::new(env!("CARGO_BIN_EXE_consentry"))
        .args(["demo-site", "--port", "0", "--agency"])
        .arg(other.path())
        .output()
        .unwrap();
    assert_eq!(status.status.code(), Some(4), "{status:?}");
    assert!(String::from_utf8_lossy(&status.stderr).contains("neither empty nor an agency"));
}

/// One site of each CMP kind, audited alone in Chromium: exactly the planted findings.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    not(feature = "browser-tests"),
    ignore = "needs Chromium and chromedriver: run `make test` or `cargo test --features browser-tests`"
)]
async fn single_site_audits_find_exactly_the_plants() {
    assert!(
        Path::new(ROOT)
            .join("fixtures/build/autoconsent/autoconsent.playwright.js")
            .is_file(),
        "run `make fixtures` first (installs autoconsent, klaro, vanilla-cookieconsent)"
    );
    let (dir, out, m) = generate(SEED);
    let server = DemoServer::start_files(0, FileSite::agency(Path::new(ROOT), &out))
        .await
        .unwrap();
    let port = server.port();
    let mut failures = Vec::new();
    for cmp in ["klaro", "cookieconsent", "tcf", "banner"] {
        let s = site(&m, |s| s.observed && s.cmp == cmp).clone();
        let file = out.join(&s.client);
        let db = dir.path().join(format!("{}.db", s.name));
        let run = tokio::task::spawn_blocking(move || common::audit(&file, port, &db, &[]))
            .await
            .unwrap();
        let got = common::finding_keys(&run.json);
        let want = s.keys(false);
        if got != want {
            failures.push(format!(
                "{} ({cmp}): missing {:#?}\nunexpected {:#?}\nstderr:\n{}",
                s.name,
                want.difference(&got).collect::<Vec<_>>(),
                got.difference(&want).collect::<Vec<_>>(),
                run.stderr
            ));
        }
    }
    server.shutdown().await;
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

/// The whole agency in one fleet run (docs/fleet.md) with page discovery: every site
/// finds exactly what was planted in it (the plant only links reach included, the one
/// robots.txt disallows never), the three broken sites are not observed and the others
/// complete, and the fleet's exit is 3 (some site could not be looked at).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    not(feature = "browser-tests"),
    ignore = "needs Chromium and chromedriver: run `make test` or `cargo test --features browser-tests`"
)]
async fn a_fleet_run_finds_exactly_the_plants_of_every_site() {
    let (dir, out, m) = generate(SEED);
    let server = DemoServer::start_files(0, FileSite::agency(Path::new(ROOT), &out))
        .await
        .unwrap();
    let port = server.port();
    // Page discovery is on for every site (the fleet's [crawl]): the plants only links
    // reach are found, the one robots.txt disallows is not.
    let file = out.join("fleet.toml");
    let db = dir.path().join("agency.db");
    let run = tokio::task::spawn_blocking(move || {
        common::run_json(
            common::consentry()
                .arg("audit")
                .arg(&file)
                .args(["--jobs", "2", "--format", "json", "--no-progress", "--db"])
                .arg(&db)
                .arg("--autoconsent")
                .arg(Path::new(ROOT).join("fixtures/build/autoconsent"))
                .env("CONSENTRY_DEMO_PORT", port.to_string())
                .env_remove("CONSENTRY_REPORTS_DIR"),
        )
    })
    .await
    .unwrap();
    server.shutdown().await;
    assert_eq!(run.code, 3, "{}", run.stderr);
    let lines = run.json["sites"].as_array().expect("sites");
    assert_eq!(lines.len(), m.sites.len());
    let mut failures = Vec::new();
    for s in &m.sites {
        let line = lines
            .iter()
            .find(|l| l["site"] == s.name.as_str())
            .unwrap_or_else(|| panic!("{} not in the summary", s.name));
        let status = line["status"]["status"].as_str().unwrap_or_default();
        let want_status = if s.observed { "complete" } else { "incomplete" };
        if status != want_status {
            failures.push(format!("{}: {status}, expected {want_status}", s.name));
        }
        let report = out.join("reports").join(&s.name).join("report.json");
        let report: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&report).unwrap()).unwrap();
        let got = common::finding_keys(&report);
        let want = s.keys(true);
        if got != want {
            failures.push(format!(
                "{} ({}): missing {:#?}\nunexpected {:#?}",
                s.name,
                s.cmp,
                want.difference(&got).collect::<Vec<_>>(),
                got.difference(&want).collect::<Vec<_>>()
            ));
        }
        // The plan is in the report, and a plant only links reach names its page's
        // template in its evidence (docs/crawl.md).
        if s.observed
            && report["crawl"]["pages"]
                .as_array()
                .is_none_or(Vec::is_empty)
        {
            failures.push(format!("{}: no crawl plan in the report", s.name));
        }
        for plant in s.findings.iter().filter(|f| f.needs_crawl) {
            let Some(page) = &plant.page else { continue };
            let found = report["findings"]
                .as_array()
                .into_iter()
                .flatten()
                .find(|f| {
                    f["code"] == plant.code.as_str() && f["subject"] == plant.subject.as_str()
                });
            let named = found.is_some_and(|f| {
                let pages = f["evidence"].as_array().into_iter().flatten();
                pages
                    .zip(f["templates"].as_array().into_iter().flatten())
                    .any(|(e, t)| {
                        e["page"]
                            .as_str()
                            .is_some_and(|p| p.ends_with(page.as_str()))
                            && t.is_string()
                    })
            });
            if !named {
                failures.push(format!(
                    "{}: {} {} on {page}: its evidence names no template: {found:#?}",
                    s.name, plant.code, plant.subject
                ));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{}\nstderr:\n{}",
        failures.join("\n\n"),
        run.stderr
    );
}

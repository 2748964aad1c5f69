//! A fixture site of `fixtures/sites/` (real CMPs, built by `make fixtures`) audited by
//! the real binary on a fresh file server into a fresh database: the prologue the CMP,
//! heuristic and partial-choice tests share.

use super::Run;
use consentry::demo::{DemoServer, FileSite};
use std::path::{Path, PathBuf};

const ROOT: &str = env!("CARGO_MANIFEST_DIR");

/// What a fixture audit left: its report, its database (in a directory held as long as
/// this is), and the hosts the file server was asked for, in order.
pub struct FixtureRun {
    pub run: Run,
    pub dir: tempfile::TempDir,
    pub db: PathBuf,
    pub hosts: Vec<String>,
}

/// `consentry audit ROOT/file` against fixture site `site` (a directory of
/// `fixtures/sites/`), after checking `make fixtures` ran (autoconsent's bundle is there).
pub async fn audit_fixture_site(site: &str, file: &str) -> FixtureRun {
    assert!(
        Path::new(ROOT)
            .join("fixtures/build/autoconsent/autoconsent.playwright.js")
            .is_file(),
        "run `make fixtures` first (installs autoconsent, klaro, vanilla-cookieconsent)"
    );
    let server = DemoServer::start_files(0, FileSite::named(Path::new(ROOT), site))
        .await
        .expect("fixture server");
    let dir = tempfile::tempdir().expect("temp dir");
    let db = dir.path().join("audit.db");
    let port = server.port();
    let file = format!("{ROOT}/{file}");
    let db2 = db.clone();
    let run = tokio::task::spawn_blocking(move || super::audit(&file, port, &db2, &[]))
        .await
        .expect("audit");
    let hosts: Vec<String> = server.log().into_iter().map(|r| r.host).collect();
    server.shutdown().await;
    FixtureRun {
        run,
        dir,
        db,
        hosts,
    }
}

/// The demo shop (`scenarios/demo-shop.toml`) audited by the real binary on a fresh demo
/// server into a fresh database, with `extra` flags: the report, the directory that holds
/// the database, and the database.
pub async fn audit_demo(extra: &'static [&'static str]) -> (Run, tempfile::TempDir, PathBuf) {
    let server = DemoServer::start(0).await.expect("demo server");
    let dir = tempfile::tempdir().expect("temp dir");
    let db = dir.path().join("audit.db");
    let port = server.port();
    let db2 = db.clone();
    let file = format!("{ROOT}/scenarios/demo-shop.toml");
    let run = tokio::task::spawn_blocking(move || super::audit(&file, port, &db2, extra))
        .await
        .expect("audit");
    server.shutdown().await;
    (run, dir, db)
}

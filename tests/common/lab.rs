//! One scenario of the lab file (`tests/fixtures/lab.toml`, the demo site's `/lab/*`
//! pages) audited by the real binary on a fresh demo server into a fresh database, with
//! `--fail-on info` (so only an honest "not observed" exits 3).

use consentry::demo::DemoServer;
use serde_json::Value;
use std::path::{Path, PathBuf};

pub const LAB: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/lab.toml");

/// What a lab audit left: its database (in a directory held as long as the run is),
/// report, stderr and exit code, and what the demo server was asked for.
pub struct LabRun {
    pub _dir: tempfile::TempDir,
    pub db: PathBuf,
    pub json: Value,
    pub stderr: String,
    pub code: i32,
    /// `host path?query` of each request the demo server answered.
    pub served: Vec<String>,
}

pub async fn audit_lab(scenario: &'static str) -> LabRun {
    let server = DemoServer::start(0).await.expect("demo server");
    let dir = tempfile::tempdir().expect("temp dir");
    let db = dir.path().join(format!("{scenario}.db"));
    let port = server.port();
    let db2 = db.clone();
    let run = tokio::task::spawn_blocking(move || {
        super::audit(
            Path::new(LAB),
            port,
            &db2,
            &["--fail-on", "info", "--scenario", scenario],
        )
    })
    .await
    .expect("audit task");
    let served = server
        .log()
        .into_iter()
        .map(|r| format!("{} {}", r.host, r.path_and_query))
        .collect();
    server.shutdown().await;
    LabRun {
        _dir: dir,
        db,
        json: run.json,
        stderr: run.stderr,
        code: run.code,
        served,
    }
}

//! `--db` on the command line: PostgreSQL URLs (a real server, tests/common/pg.rs),
//! URLs of schemes consentry does not support (exit 2), an unreachable server (exit 4,
//! naming the host, never the password), and a demo audit stored in PostgreSQL that
//! reads back as the same audit stored in SQLite.

mod common;

use common::consentry;
use std::path::Path;

fn dead_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

/// Nothing was created in `dir` (no directory named after the URL's scheme, no file).
fn assert_empty(dir: &Path) {
    let left: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert!(left.is_empty(), "created {left:?}");
}

#[test]
fn a_url_of_an_unsupported_scheme_is_invalid_input_naming_the_supported_ones() {
    let dir = tempfile::tempdir().unwrap();
    let scenario = concat!(env!("CARGO_MANIFEST_DIR"), "/scenarios/demo-shop.toml");
    for args in [
        vec!["runs", "--db", "ftp://x"],
        vec!["report", "latest", "--db", "mysql://root@db/audits"],
        vec!["drift", "--db", "ftp://x"],
        vec!["purge", "--db", "ftp://x"],
        vec!["migrate", "--db", "ftp://x"],
        vec!["audit", scenario, "--no-progress", "--db", "ftp://x"],
    ] {
        let out = consentry()
            .args(&args)
            .current_dir(dir.path())
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(
            stderr.contains("--db") && stderr.contains("postgres://") && stderr.contains("://"),
            "{args:?}: {stderr}"
        );
    }
    // The same from $CONSENTRY_DB.
    let out = consentry()
        .args(["runs"])
        .env("CONSENTRY_DB", "ftp://x")
        .current_dir(dir.path())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("$CONSENTRY_DB") && stderr.contains("ftp://"),
        "{stderr}"
    );
    assert_empty(dir.path());
}

/// `--db postgres://…` is a server, never a file path: with the server down, every
/// command fails with exit 4 naming host and port, without the password, and nothing
/// (no `postgres:` directory) is created.
#[test]
fn an_unreachable_postgres_is_exit_4_naming_the_host_never_the_password() {
    let dir = tempfile::tempdir().unwrap();
    let port = dead_port();
    let url = format!("postgres://alice:s3cret@127.0.0.1:{port}/audits");
    for args in [
        vec!["runs", "--db", &url],
        vec!["report", "latest", "--db", &url],
        vec!["drift", "--db", &url],
        vec!["purge", "--db", &url],
        vec!["migrate", "--db", &url],
    ] {
        let out = consentry()
            .args(&args)
            .current_dir(dir.path())
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert_eq!(out.status.code(), Some(4), "{args:?}: {stderr}");
        assert!(
            stderr.contains(&format!("127.0.0.1:{port}")),
            "{args:?}: {stderr}"
        );
        assert!(
            !stderr.contains("s3cret") && !stdout.contains("s3cret"),
            "{args:?}"
        );
    }
    assert_empty(dir.path());
}

/// The demo audit stored in PostgreSQL: the same findings as stored in SQLite, and
/// `runs` / `report latest` read it back from PostgreSQL as the audit printed it.
#[cfg(feature = "demo")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    not(feature = "browser-tests"),
    ignore = "needs Chromium and chromedriver: run `make test` or `cargo test --features browser-tests`"
)]
async fn demo_audit_in_postgres_reads_back_as_in_sqlite() {
    use consentry::demo::DemoServer;
    const SCENARIOS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/scenarios/demo-shop.toml");
    let pg = common::pg::TestDb::postgres().await;
    let sqlite = common::pg::TestDb::sqlite().await;
    let server = DemoServer::start(0).await.expect("demo server");
    let port = server.port();
    let (pg_arg, sqlite_arg) = (pg.arg(), sqlite.arg());
    let reports = pg.dir.path().to_path_buf();
    let (in_pg, in_sqlite) = tokio::task::spawn_blocking(move || {
        let audit = |db: &std::ffi::OsStr| {
            common::run_json(
                consentry()
                    .arg("audit")
                    .arg(SCENARIOS)
                    .args(["--format", "json", "--no-progress", "--db"])
                    .arg(db)
                    .env("CONSENTRY_DEMO_PORT", port.to_string())
                    .env("CONSENTRY_REPORTS_DIR", &reports)
                    .env_remove("CONSENTRY_AUTOCONSENT"),
            )
        };
        (audit(&pg_arg), audit(&sqlite_arg))
    })
    .await
    .unwrap();
    server.shutdown().await;
    assert_eq!(in_pg.code, in_sqlite.code, "{}", in_pg.stderr);
    let found = common::finding_keys(&in_pg.json);
    assert!(!found.is_empty());
    assert_eq!(found, common::finding_keys(&in_sqlite.json));
    assert_eq!(pg.count("runs").await, 1);
    assert!(pg.count("requests").await > 0);

    let again = consentry()
        .args([
            "report", "latest", "--format", "json", "--output", "-", "--db",
        ])
        .arg(pg.arg())
        .output()
        .unwrap();
    assert_eq!(
        String::from_utf8_lossy(&again.stdout),
        in_pg.stdout,
        "report latest differs from what audit printed; stderr:\n{}",
        String::from_utf8_lossy(&again.stderr)
    );
    assert_eq!(again.status.code(), Some(in_pg.code));
    let listed = consentry()
        .args(["runs", "--db"])
        .arg(pg.arg())
        .output()
        .unwrap();
    let listed = String::from_utf8_lossy(&listed.stdout);
    assert!(
        listed.contains("demo-shop") && listed.contains("5/6 observed"),
        "{listed}"
    );
}

//! A real PostgreSQL server for the store tests, from Debian's `postgresql` package
//! (`make setup` installs it): one per test binary, started on first use in a temporary
//! directory on a free loopback port, each test given its own fresh database.
//!
//! - `initdb` refuses to run as root, so as root (CI) `initdb` and `postgres` run as
//!   `nobody:nogroup` (credentials dropped in the child before `exec`), in a directory
//!   owned by that user.
//! - The server dies with the test process: it is spawned by a thread that lives as long
//!   as the process, with `PR_SET_PDEATHSIG` = SIGKILL (which fires when the *thread*
//!   that spawned the child ends, hence the dedicated thread); its backends exit when
//!   their postmaster dies. Directories of servers whose test process is gone are removed
//!   by the next start.
//! - Without PostgreSQL installed, every PostgreSQL test fails saying `make test`
//!   installs it (no silent skip).
#![allow(dead_code)]

use consentry::store::{DbLocation, Store};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// Where this test binary's server listens, and what restarts it.
struct Server {
    port: u16,
    bin: PathBuf,
    dir: PathBuf,
    data: PathBuf,
    user: Option<(libc::uid_t, libc::gid_t)>,
}

static SERVER: OnceLock<Result<Server, String>> = OnceLock::new();
static NEXT_DB: AtomicU32 = AtomicU32::new(0);

const DIR_PREFIX: &str = "consentry-pg-";

/// A fresh, empty database on this binary's server, as a `postgres://` location.
pub async fn fresh_database() -> DbLocation {
    let server = match SERVER.get_or_init(start) {
        Ok(s) => s,
        Err(e) => panic!("{e}"),
    };
    let n = NEXT_DB.fetch_add(1, Ordering::SeqCst);
    let name = format!("t_{n}");
    let admin = format!("postgres://postgres@127.0.0.1:{}/postgres", server.port);
    use sqlx::{Connection, Executor};
    let mut conn = sqlx::PgConnection::connect(&admin)
        .await
        .unwrap_or_else(|e| panic!("connect to the test PostgreSQL server: {e}"));
    conn.execute(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
        .await
        .unwrap_or_else(|e| panic!("create database {name}: {e}"));
    let _ = conn.close().await;
    let url = format!("postgres://postgres@127.0.0.1:{}/{name}", server.port);
    DbLocation::parse(url.as_ref()).expect("a postgres URL")
}

/// The newest Debian PostgreSQL's binaries (`/usr/lib/postgresql/<major>/bin`).
fn bin_dir() -> Result<PathBuf, String> {
    let mut found: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| {
            let major = e.file_name().to_str()?.parse::<u32>().ok()?;
            let bin = e.path().join("bin");
            (bin.join("initdb").is_file() && bin.join("postgres").is_file()).then_some((major, bin))
        })
        .collect();
    found.sort();
    found.pop().map(|(_, b)| b).ok_or_else(|| {
        "PostgreSQL is not installed (no /usr/lib/postgresql/*/bin/initdb): the store tests \
         run against a real PostgreSQL server; `make test` (its `setup` step) installs \
         Debian's `postgresql` package, or run `apt-get install -y postgresql`"
            .to_string()
    })
}

/// The user the server runs as: `nobody:nogroup` when we are root, else ourselves.
fn run_as() -> Option<(libc::uid_t, libc::gid_t)> {
    // SAFETY: getuid has no preconditions.
    (unsafe { libc::getuid() } == 0).then_some((65534, 65534))
}

/// A command that, when we are root, drops to `user` in the child before exec; with
/// `die_with_thread`, gets SIGKILL when the thread that spawned it ends.
fn command(
    program: &Path,
    user: Option<(libc::uid_t, libc::gid_t)>,
    die_with_thread: bool,
) -> Command {
    let mut cmd = Command::new(program);
    // SAFETY: only async-signal-safe calls between fork and exec.
    unsafe {
        cmd.pre_exec(move || {
            if let Some((uid, gid)) = user {
                if libc::setgroups(0, std::ptr::null()) != 0
                    || libc::setgid(gid) != 0
                    || libc::setuid(uid) != 0
                {
                    return Err(std::io::Error::last_os_error());
                }
            }
            // After the credentials change, which clears it.
            if die_with_thread && libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    cmd
}

/// Removes the directories of servers whose test process has exited.
fn sweep_old_dirs() {
    for e in std::fs::read_dir(std::env::temp_dir())
        .into_iter()
        .flatten()
        .flatten()
    {
        let name = e.file_name();
        let Some(rest) = name.to_str().and_then(|n| n.strip_prefix(DIR_PREFIX)) else {
            continue;
        };
        let Some(pid) = rest.split('-').next().and_then(|p| p.parse::<i32>().ok()) else {
            continue;
        };
        // SAFETY: kill with signal 0 only checks whether the process exists.
        let alive = unsafe { libc::kill(pid, 0) } == 0
            || std::io::Error::last_os_error().raw_os_error() == Some(libc::EPERM);
        if !alive {
            let _ = std::fs::remove_dir_all(e.path());
        }
    }
}

fn start() -> Result<Server, String> {
    let bin = bin_dir()?;
    sweep_old_dirs();
    let user = run_as();
    let dir = tempfile::Builder::new()
        .prefix(&format!("{DIR_PREFIX}{}-", std::process::id()))
        .tempdir()
        .map_err(|e| format!("temporary directory for PostgreSQL: {e}"))?
        .keep();
    if let Some((uid, gid)) = user {
        let c = std::ffi::CString::new(dir.as_os_str().as_encoded_bytes())
            .map_err(|e| e.to_string())?;
        // SAFETY: c is a valid NUL-terminated path.
        if unsafe { libc::chown(c.as_ptr(), uid, gid) } != 0 {
            return Err(format!(
                "chown {} to nobody: {}",
                dir.display(),
                std::io::Error::last_os_error()
            ));
        }
    }
    let data = dir.join("data");
    let out = command(&bin.join("initdb"), user, false)
        .args(["-D"])
        .arg(&data)
        .args([
            "-U",
            "postgres",
            "--auth=trust",
            "--no-sync",
            "-E",
            "UTF8",
            "--locale=C.UTF-8",
        ])
        .current_dir(&dir)
        .output()
        .map_err(|e| format!("run {}: {e}", bin.join("initdb").display()))?;
    if !out.status.success() {
        return Err(format!(
            "initdb failed ({}): {}{}",
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    let mut last = String::new();
    for _ in 0..3 {
        let port = free_port()?;
        match run_server(&bin, &dir, &data, port, user) {
            Ok(()) => {
                return Ok(Server {
                    port,
                    bin,
                    dir,
                    data,
                    user,
                })
            }
            Err(e) => last = e,
        }
    }
    Err(last)
}

/// Restart this binary's server (a fault test: every connection is cut): a fast shutdown
/// (SIGINT to the postmaster), `down` without a server, then the same server on the same
/// port. Only for a test binary whose tests all expect it.
pub fn restart_server(down: Duration) {
    let server = match SERVER.get() {
        Some(Ok(s)) => s,
        _ => panic!("no test PostgreSQL server to restart"),
    };
    let pid_file = server.data.join("postmaster.pid");
    let pid: i32 = std::fs::read_to_string(&pid_file)
        .ok()
        .and_then(|t| t.lines().next().and_then(|l| l.trim().parse().ok()))
        .unwrap_or_else(|| panic!("no pid in {}", pid_file.display()));
    // SAFETY: signalling the server this test binary started.
    unsafe {
        libc::kill(pid, libc::SIGINT);
    }
    let deadline = Instant::now() + Duration::from_secs(60);
    // SAFETY: signal 0 only asks whether the process exists.
    while unsafe { libc::kill(pid, 0) } == 0 || pid_file.exists() {
        assert!(Instant::now() < deadline, "PostgreSQL did not stop");
        std::thread::sleep(Duration::from_millis(50));
    }
    std::thread::sleep(down);
    run_server(
        &server.bin,
        &server.dir,
        &server.data,
        server.port,
        server.user,
    )
    .unwrap_or_else(|e| panic!("{e}"));
}

fn free_port() -> Result<u16, String> {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .map_err(|e| format!("no free loopback port: {e}"))
}

/// Starts `postgres` from a thread that lives as long as the process (so the parent-death
/// signal fires only when the process ends), and waits until it accepts connections.
fn run_server(
    bin: &Path,
    dir: &Path,
    data: &Path,
    port: u16,
    user: Option<(libc::uid_t, libc::gid_t)>,
) -> Result<(), String> {
    let log = dir.join(format!("postgres-{port}.log"));
    let log_file = std::fs::File::create(&log).map_err(|e| format!("{}: {e}", log.display()))?;
    let (tx, rx) = std::sync::mpsc::channel::<Result<(), String>>();
    let mut cmd = command(&bin.join("postgres"), user, true);
    cmd.arg("-D")
        .arg(data)
        .arg("-k")
        .arg(dir)
        .args(["-h", "127.0.0.1", "-p", &port.to_string()])
        .args(["-c", "fsync=off", "-c", "synchronous_commit=off"])
        .args(["-c", "full_page_writes=off", "-c", "max_connections=200"])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(log_file);
    std::thread::Builder::new()
        .name(format!("postgres-{port}"))
        .spawn(move || match cmd.spawn() {
            Ok(mut child) => {
                let _ = tx.send(Ok(()));
                // This thread stays until the server exits (with the process, normally).
                let _ = child.wait();
                loop {
                    std::thread::park();
                }
            }
            Err(e) => {
                let _ = tx.send(Err(format!("start postgres: {e}")));
            }
        })
        .map_err(|e| format!("spawn the PostgreSQL thread: {e}"))?;
    rx.recv().map_err(|e| e.to_string())??;
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let text = std::fs::read_to_string(&log).unwrap_or_default();
        if text.contains("ready to accept connections") {
            return Ok(());
        }
        if text.contains("FATAL") || Instant::now() > deadline {
            return Err(format!("PostgreSQL did not start on port {port}:\n{text}"));
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// A database of either back end for one test: a SQLite file in a temporary directory,
/// or a fresh database on the test PostgreSQL server.
pub struct TestDb {
    pub location: DbLocation,
    /// The temporary directory (SQLite's file, or scratch files of a PostgreSQL test).
    pub dir: tempfile::TempDir,
}

impl TestDb {
    pub async fn sqlite() -> TestDb {
        let dir = tempfile::tempdir().expect("tempdir");
        TestDb {
            location: DbLocation::Sqlite(dir.path().join("consentry.db")),
            dir,
        }
    }

    pub async fn postgres() -> TestDb {
        TestDb {
            location: fresh_database().await,
            dir: tempfile::tempdir().expect("tempdir"),
        }
    }

    /// The value to give `consentry --db` (the URL with its password, if any).
    pub fn arg(&self) -> std::ffi::OsString {
        match &self.location {
            DbLocation::Sqlite(p) => p.clone().into_os_string(),
            DbLocation::Postgres(u) => u.secret().into(),
        }
    }

    pub fn is_postgres(&self) -> bool {
        self.location.sqlite_path().is_none()
    }

    pub async fn open(&self) -> Store {
        Store::open(&self.location).await.expect("open")
    }

    pub async fn open_read_only(&self) -> Store {
        Store::open_read_only(&self.location)
            .await
            .expect("open read-only")
    }

    /// Rows in `table`, counted directly (not through the store).
    pub async fn count(&self, table: &str) -> i64 {
        let sql = sqlx::AssertSqlSafe(format!("SELECT COUNT(*) FROM {table}"));
        match &self.location {
            DbLocation::Sqlite(path) => {
                let opts = sqlx::sqlite::SqliteConnectOptions::new().filename(path);
                let pool = sqlx::SqlitePool::connect_with(opts).await.expect("connect");
                let n = sqlx::query_scalar(sql)
                    .fetch_one(&pool)
                    .await
                    .expect("count");
                pool.close().await;
                n
            }
            DbLocation::Postgres(url) => {
                let pool = sqlx::PgPool::connect(url.secret()).await.expect("connect");
                let n = sqlx::query_scalar(sql)
                    .fetch_one(&pool)
                    .await
                    .expect("count");
                pool.close().await;
                n
            }
        }
    }

    /// Runs one statement directly on the database (to put it in a state no normal
    /// run produces).
    pub async fn execute(&self, sql: &str) {
        let sql = sqlx::AssertSqlSafe(sql.to_string());
        match &self.location {
            DbLocation::Sqlite(path) => {
                let opts = sqlx::sqlite::SqliteConnectOptions::new().filename(path);
                let pool = sqlx::SqlitePool::connect_with(opts).await.expect("connect");
                sqlx::query(sql).execute(&pool).await.expect("execute");
                pool.close().await;
            }
            DbLocation::Postgres(url) => {
                let pool = sqlx::PgPool::connect(url.secret()).await.expect("connect");
                sqlx::query(sql).execute(&pool).await.expect("execute");
                pool.close().await;
            }
        }
    }
}

/// Generates, for each `async fn name(db: TestDb)` listed, `sqlite::name` and
/// `postgres::name` tests running it on each back end.
#[macro_export]
macro_rules! on_both_back_ends {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $name() {
                    super::$name($crate::common::pg::TestDb::sqlite().await).await
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $name() {
                    super::$name($crate::common::pg::TestDb::postgres().await).await
                }
            )*
        }
    };
}

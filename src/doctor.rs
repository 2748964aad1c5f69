//! `consentry doctor`: can an audit run on this machine? Checks Chromium and chromedriver
//! (found, same major version, a headless session starts), the data (autoconsent and its
//! version, the bundled CMP profiles), the database (a file path SQLite can use, writable,
//! schema version) and the reports directory. Every problem comes with the command that
//! fixes it (docs/packaging.md#doctor). The CLI prints the [`Check`]s and exits 0 only
//! when none is a [`Status::Problem`] (docs/exit-codes.md).

use crate::browser::{find_chromedriver, find_chromium, BrowserConfig, Chromedriver, Session};
use crate::data::Lookup;
use crate::scenario::BrowserOptions;
use crate::store::{DbLocation, Store, StoreError};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// How one check came out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    Ok,
    /// Worth knowing; an audit still runs.
    Note,
    /// An audit cannot run (or a `[cmp] auto = true` scenario cannot) until it is fixed.
    Problem,
}

/// One line of the doctor's report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Check {
    /// What was checked: `chromium`, `chromedriver`, `browser`, `data`, `autoconsent`,
    /// `cmp-profiles`, `database`, `reports`.
    pub name: &'static str,
    pub status: Status,
    pub detail: String,
    /// The command (or step) that fixes a problem.
    pub fix: Option<String>,
}

impl Check {
    fn ok(name: &'static str, detail: impl Into<String>) -> Check {
        Check {
            name,
            status: Status::Ok,
            detail: detail.into(),
            fix: None,
        }
    }
    fn note(name: &'static str, detail: impl Into<String>) -> Check {
        Check {
            name,
            status: Status::Note,
            detail: detail.into(),
            fix: None,
        }
    }
    fn problem(name: &'static str, detail: impl Into<String>, fix: impl Into<String>) -> Check {
        Check {
            name,
            status: Status::Problem,
            detail: detail.into(),
            fix: Some(fix.into()),
        }
    }
}

/// What to check: the same flags and environment an audit would use.
#[derive(Debug, Clone)]
pub struct Inputs {
    pub chromium: Option<PathBuf>,
    pub chromedriver: Option<PathBuf>,
    /// A remote WebDriver: the local browser checks are skipped, a session is tried there.
    pub webdriver: Option<url::Url>,
    pub autoconsent: Option<PathBuf>,
    pub data_dir: Option<PathBuf>,
    /// The database as given (`--db`, `$CONSENTRY_DB`, else `consentry.db`), or why what
    /// was given names no database consentry can use.
    pub db: Result<DbLocation, String>,
    pub reports_dir: PathBuf,
}

/// Every check, in order.
pub async fn run(inputs: &Inputs) -> Vec<Check> {
    let mut out = browser_checks(inputs).await;
    out.extend(data_checks(inputs));
    out.push(match &inputs.db {
        Ok(db) => database_check(db).await,
        Err(e) => Check::problem(
            "database",
            e.clone(),
            "pass --db PATH (a SQLite file) or --db postgres://USER@HOST/DB (or set CONSENTRY_DB)",
        ),
    });
    out.push(directory_check("reports", &inputs.reports_dir));
    out
}

/// True when an audit can run: no problem.
pub fn audit_can_run(checks: &[Check]) -> bool {
    checks.iter().all(|c| c.status != Status::Problem)
}

/// The major version in `--version` output (`Chromium 156.0.8078.129` -> 156).
pub fn major_version(text: &str) -> Option<u32> {
    text.split_whitespace()
        .find(|w| w.contains('.') && w.starts_with(|c: char| c.is_ascii_digit()))
        .and_then(|w| w.split('.').next())
        .and_then(|m| m.parse().ok())
}

/// `program --version`, its first line; an error names the program.
async fn version_of(program: &Path) -> Result<String, String> {
    let run = tokio::process::Command::new(program)
        .arg("--version")
        .stdin(std::process::Stdio::null())
        .kill_on_drop(true)
        .output();
    let out = tokio::time::timeout(Duration::from_secs(30), run)
        .await
        .map_err(|_| format!("{} --version did not answer within 30 s", program.display()))?
        .map_err(|e| format!("cannot run {} --version: {e}", program.display()))?;
    let text = String::from_utf8_lossy(&out.stdout);
    let line = text.lines().find(|l| !l.trim().is_empty()).unwrap_or("");
    if !out.status.success() || line.is_empty() {
        return Err(format!(
            "{} --version failed ({}): {}",
            program.display(),
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        ));
    }
    Ok(line.trim().to_owned())
}

const APT_FIX: &str =
    "apt-get install -y chromium chromium-driver (Debian; `make setup` in a checkout)";

async fn browser_checks(inputs: &Inputs) -> Vec<Check> {
    let mut out = Vec::new();
    if let Some(url) = &inputs.webdriver {
        out.push(Check::note(
            "chromium",
            format!("not checked: the browsers are the WebDriver's at {url}"),
        ));
        out.push(session_check(BrowserConfig::new(url.clone(), false, None)).await);
        return out;
    }
    let chromium = match find_chromium(inputs.chromium.as_deref()) {
        Ok(path) => match version_of(&path).await {
            Ok(v) => {
                out.push(Check::ok("chromium", format!("{} ({v})", path.display())));
                Some((path, major_version(&v)))
            }
            Err(e) => {
                out.push(Check::problem("chromium", e, APT_FIX));
                None
            }
        },
        Err(e) => {
            let fix = match &inputs.chromium {
                Some(_) => {
                    "pass --chromium PATH (or set CONSENTRY_CHROMIUM) naming Chromium's executable"
                        .to_owned()
                }
                None => format!("{APT_FIX}, or pass --chromium PATH"),
            };
            out.push(Check::problem("chromium", e.to_string(), fix));
            None
        }
    };
    let driver = match find_chromedriver(inputs.chromedriver.as_deref()) {
        Ok(path) => match version_of(&path).await {
            Ok(v) => Some((path, v)),
            Err(e) => {
                out.push(Check::problem("chromedriver", e, APT_FIX));
                None
            }
        },
        Err(e) => {
            out.push(Check::problem(
                "chromedriver",
                e.to_string(),
                format!("{APT_FIX}, or pass --chromedriver PATH"),
            ));
            None
        }
    };
    let Some((driver, driver_version)) = driver else {
        return out;
    };
    let driver_major = major_version(&driver_version);
    match (&chromium, driver_major) {
        (Some((_, Some(browser))), Some(d)) if *browser != d => {
            out.push(Check::problem(
                "chromedriver",
                format!(
                    "{} ({driver_version}) is major version {d}, Chromium is {browser}: chromedriver drives its own major version only",
                    driver.display()
                ),
                format!(
                    "apt-get install -y --only-upgrade chromium chromium-driver (Debian ships them at one version), \
                     or pass --chromedriver PATH naming a chromedriver {browser}"
                ),
            ));
            return out;
        }
        _ => out.push(Check::ok(
            "chromedriver",
            format!("{} ({driver_version})", driver.display()),
        )),
    }
    let Some((chromium, _)) = chromium else {
        return out;
    };
    match Chromedriver::spawn(Some(driver.as_path())).await {
        Ok(d) => {
            let cfg = BrowserConfig::new(d.url.clone(), true, Some(chromium));
            out.push(session_check(cfg.clone()).await);
            d.shutdown().await;
            crate::browser::sweep_profiles(&cfg);
        }
        Err(e) => out.push(Check::problem(
            "browser",
            format!("chromedriver did not start: {e:#}"),
            format!("run `{} --port=9515` to see why", driver.display()),
        )),
    }
    out
}

/// A headless session opens a page and closes.
async fn session_check(cfg: BrowserConfig) -> Check {
    let started = tokio::time::timeout(
        Duration::from_secs(90),
        Session::start(&cfg, &BrowserOptions::default()),
    )
    .await;
    let fix = match &cfg.chromium {
        Some(c) => format!(
            "run `{} --headless=new --no-sandbox --dump-dom about:blank` to see why it does not start",
            c.display()
        ),
        None => format!("check the WebDriver server at {}", cfg.webdriver),
    };
    match started {
        Ok(Ok(session)) => {
            let page = session.client.goto("about:blank").await;
            let closed = session.close().await;
            match (page, closed) {
                (Ok(()), Ok(())) => Check::ok("browser", "a headless session starts"),
                (Err(e), _) => Check::problem("browser", format!("cannot open a page: {e}"), fix),
                (_, Err(e)) => Check::problem("browser", format!("cannot close: {e:#}"), fix),
            }
        }
        Ok(Err(e)) => Check::problem("browser", format!("no headless session: {e:#}"), fix),
        Err(_) => Check::problem("browser", "no headless session within 90 s", fix),
    }
}

fn data_checks(inputs: &Inputs) -> Vec<Check> {
    let mut out = Vec::new();
    let found = Lookup::from_process(inputs.data_dir.as_deref()).locate();
    let data_dir = match &found {
        Some(c) if c.dir.is_dir() => {
            out.push(Check::ok(
                "data",
                format!("{} (from {})", c.dir.display(), c.source.describe()),
            ));
            Some(c.dir.clone())
        }
        Some(c) => {
            out.push(Check::problem(
                "data",
                format!(
                    "{} (from {}) does not exist",
                    c.dir.display(),
                    c.source.describe()
                ),
                "name the directory consentry was installed with (PREFIX/share/consentry), or reinstall: `make install` (docs/packaging.md)",
            ));
            None
        }
        None => {
            out.push(Check::note(
                "data",
                "no data directory (none of --data-dir, $CONSENTRY_DATA_DIR, PREFIX/share/consentry, the XDG data directories)",
            ));
            None
        }
    };
    // Where an audit started here would look (a scenario file in the current directory).
    let here = std::env::current_dir()
        .unwrap_or_else(|_| PathBuf::from("."))
        .join("scenario.toml");
    match crate::cmp::autoconsent::locate(inputs.autoconsent.as_deref(), data_dir.as_deref(), &here)
    {
        Ok(b) => {
            let version = b
                .version
                .as_deref()
                .unwrap_or("version unknown: no package.json");
            out.push(Check::ok(
                "autoconsent",
                format!("{version} ({})", b.dir.display()),
            ));
        }
        Err(e) => {
            let detail = e
                .split_once("; ")
                .map_or(e.as_str(), |(what, _)| what)
                .replace(
                    "the scenario uses `[cmp] auto = true`, but autoconsent",
                    "autoconsent",
                );
            out.push(Check::problem(
                "autoconsent",
                format!("{detail}: scenarios with `[cmp] auto = true` cannot run"),
                "install the data: `make install PREFIX=...` in a checkout, or unpack the release tarball (docs/packaging.md); \
                 or pass --data-dir DIR / --autoconsent DIR",
            ));
        }
    }
    let (profiles, diags) = crate::scenario::load::profile::bundled_profiles();
    if diags.is_empty() {
        let names: Vec<&str> = profiles.iter().map(|p| p.name.as_str()).collect();
        out.push(Check::ok(
            "cmp-profiles",
            format!("{} bundled: {}", names.len(), names.join(", ")),
        ));
    } else {
        out.push(Check::problem(
            "cmp-profiles",
            format!("{} problem(s) in the bundled profiles", diags.len()),
            "reinstall consentry (the profiles are compiled in)",
        ));
    }
    out
}

/// The database: a file path (SQLite; no URL scheme), writable, schema this version reads.
/// The database an audit would use: a SQLite file whose directory can be written, or a
/// PostgreSQL server that answers; either at this consentry's schema (or older: an audit
/// migrates it). Never migrates, never creates.
async fn database_check(location: &DbLocation) -> Check {
    let db = match location {
        DbLocation::Sqlite(path) => path.as_path(),
        DbLocation::Postgres(_) => return schema_check(location, location.to_string()).await,
    };
    if db.is_dir() {
        return Check::problem(
            "database",
            format!("{} is a directory", db.display()),
            format!("pass --db {}/consentry.db", db.display()),
        );
    }
    let dir_fix = |dir: &Path| {
        format!(
            "pass --db PATH (or set CONSENTRY_DB) in a writable directory, or make {} one",
            dir.display()
        )
    };
    let dir = match db.parent().filter(|p| !p.as_os_str().is_empty()) {
        Some(p) => p.to_path_buf(),
        None => PathBuf::from("."),
    };
    if let Err(e) = writable_dir(&dir) {
        return Check::problem(
            "database",
            format!("{}: cannot be written: {e}", db.display()),
            dir_fix(&dir),
        );
    }
    if !db.exists() {
        return Check::ok(
            "database",
            format!("{} (created on the first audit)", db.display()),
        );
    }
    if let Err(e) = std::fs::OpenOptions::new().append(true).open(db) {
        return Check::problem(
            "database",
            format!("{}: cannot be written: {e}", db.display()),
            format!("chmod u+w {}, or pass --db PATH", db.display()),
        );
    }
    schema_check(location, db.display().to_string()).await
}

/// Opens the database read-only and compares its schema with this consentry's.
async fn schema_check(db: &DbLocation, shown: String) -> Check {
    let is_file = matches!(db, DbLocation::Sqlite(_));
    match Store::open_read_only(db).await {
        Ok(store) => {
            store.close().await;
            Check::ok("database", format!("{shown} (schema current)"))
        }
        Err(StoreError::NeedsMigration {
            version, current, ..
        }) => Check::note(
            "database",
            format!(
                "{shown}: schema version {version}, this consentry's is {current}; an audit \
                 migrates it, or run `consentry migrate --db {shown}`"
            ),
        ),
        Err(e @ StoreError::NewerSchema { .. }) => Check::problem(
            "database",
            e.to_string(),
            "upgrade consentry (docs/packaging.md#upgrade), or pass --db PATH naming another database",
        ),
        Err(e) if is_file => Check::problem(
            "database",
            e.to_string(),
            format!("check the file (`sqlite3 {shown} 'PRAGMA integrity_check'`), or pass --db PATH"),
        ),
        Err(e) => Check::problem(
            "database",
            e.to_string(),
            "start the PostgreSQL server or fix the URL (user, host, port, database), or pass --db PATH",
        ),
    }
}

/// A directory consentry writes into (created when missing): it, or the nearest existing
/// ancestor, must be a directory a file can be created in.
fn directory_check(name: &'static str, dir: &Path) -> Check {
    match writable_dir(dir) {
        Ok(()) => Check::ok(name, format!("{} (writable)", dir.display())),
        Err(e) => Check::problem(
            name,
            format!("{}: cannot be written: {e}", dir.display()),
            format!(
                "set CONSENTRY_REPORTS_DIR to a writable directory, or make {} one",
                dir.display()
            ),
        ),
    }
}

/// `dir` exists and a file can be created in it, or it does not exist and its nearest
/// existing ancestor is such a directory (consentry creates what is missing). Tried for
/// real (a temporary file, removed at once): permissions alone do not stop root, a parent
/// that is a regular file or a read-only file system do.
fn writable_dir(dir: &Path) -> Result<(), String> {
    let mut at = dir.to_path_buf();
    loop {
        match std::fs::metadata(&at) {
            Ok(m) if m.is_dir() => break,
            Ok(_) => return Err(format!("{} is not a directory", at.display())),
            // Missing, or under a regular file (ENOTDIR): the ancestor that exists says which.
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::NotFound | std::io::ErrorKind::NotADirectory
                ) =>
            {
                match at.parent() {
                    Some(p) if !p.as_os_str().is_empty() => at = p.to_path_buf(),
                    _ => {
                        at = PathBuf::from(".");
                        break;
                    }
                }
            }
            Err(e) => return Err(format!("{}: {e}", at.display())),
        }
    }
    tempfile::Builder::new()
        .prefix(".consentry-doctor-")
        .tempfile_in(&at)
        .map(drop)
        .map_err(|e| format!("cannot create a file in {}: {e}", at.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn major_versions_of_chromium_and_chromedriver() {
        assert_eq!(major_version("Chromium 156.0.8078.129 "), Some(156));
        assert_eq!(
            major_version("ChromeDriver 155.0.1.2 (1a2e4e6f-refs/branch-heads/8078@{#2497})"),
            Some(155)
        );
        assert_eq!(major_version("Google Chrome 120.0.6099.71"), Some(120));
        assert_eq!(major_version("nothing here"), None);
    }

    #[test]
    fn a_directory_under_a_regular_file_cannot_be_written_even_by_root() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("file");
        std::fs::write(&file, "").unwrap();
        let err = writable_dir(&file.join("db")).unwrap_err();
        assert!(err.contains("is not a directory"), "{err}");
        assert!(writable_dir(&dir.path().join("new/deeper")).is_ok());
    }

    #[tokio::test]
    async fn an_unreachable_postgres_server_is_named_with_its_fix_and_no_password() {
        // A loopback port nothing listens on (bound, then released).
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map(|a| a.port())
            .expect("port");
        let url = format!("postgres://alice:s3cret@127.0.0.1:{port}/audit");
        let db = DbLocation::parse(std::ffi::OsStr::new(&url)).expect("url");
        let c = database_check(&db).await;
        assert_eq!(c.status, Status::Problem);
        assert!(
            c.detail.contains(&format!("127.0.0.1:{port}")),
            "{}",
            c.detail
        );
        assert!(!c.detail.contains("s3cret"), "{}", c.detail);
        assert!(
            c.fix.as_deref().is_some_and(|f| f.contains("PostgreSQL")),
            "{c:?}"
        );
    }
}

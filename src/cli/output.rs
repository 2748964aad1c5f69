//! Where reports go (docs/reports.md, "Where a report goes"): every command that renders a
//! report writes it to **stdout**, in every format, unless `--output FILE` names a file
//! (`--output -` is stdout again). `consentry report` and `consentry drift` also take
//! `--output-dir [DIR]`: the file goes under DIR (the reports directory,
//! `$CONSENTRY_REPORTS_DIR`, else `./reports`, when DIR is left out) by the naming scheme
//! below, one file per site for several drift packs. A fleet audit writes each site's
//! report as a file under its reports directory and prints the fleet summary by the same
//! rule.
//!
//! | what | file |
//! |---|---|
//! | one run | `reports/<site>/run-<id>.<ext>` |
//! | drift pack | `reports/<site>/drift-<since>_<until>.<ext>` (dates `YYYY-MM-DD`, `until` exclusive) |
//! | a run's banner screenshots | `reports/<site>/run-<id>/*.png`, written by `consentry audit` ([`evidence_dir`]: `reports/` beside the database unless `$CONSENTRY_REPORTS_DIR`; docs/reports.md) |
//!
//! `<site>` is the site name as a slug (lower-case ASCII letters, digits and `-`), `<ext>`
//! is `html`, `md`, `json`, `txt` (the terminal table), `sarif`, `xml` (JUnit) or `pdf`.

use chrono::{DateTime, Utc};
use consentry::exit::ExitStatus;
use consentry::report::Format;
use std::path::{Path, PathBuf};

/// The reports directory: `$CONSENTRY_REPORTS_DIR`, else `./reports`.
pub fn reports_dir() -> PathBuf {
    std::env::var_os("CONSENTRY_REPORTS_DIR")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("reports"))
}

/// Where an audit writes its screenshots (under `<dir>/<site>/run-<id>/`):
/// `$CONSENTRY_REPORTS_DIR` when set, else `reports/` beside the database. Run ids are
/// unique per database only, so evidence lives with its database: two databases in one
/// directory tree never write into each other's `run-<id>/` (with the default
/// `./consentry.db` this is `./reports`, where `consentry report` writes too).
pub fn evidence_dir(db: &consentry::store::DbLocation) -> PathBuf {
    match std::env::var_os("CONSENTRY_REPORTS_DIR").filter(|v| !v.is_empty()) {
        Some(dir) => PathBuf::from(dir),
        None => db
            .sqlite_path()
            .and_then(Path::parent)
            .map(|d| d.join("reports"))
            .unwrap_or_else(|| PathBuf::from("reports")),
    }
}

pub use consentry::text::slug;

/// Writes `text` to standard output and flushes it. A write that fails (a full disk, a
/// closed pipe, `/dev/full`) is exit 4 with the reason on stderr, never a panic (`print!`
/// panics on such errors). Every command's stdout goes through here.
pub fn to_stdout(text: &str) -> Result<(), ExitStatus> {
    to_stdout_bytes(text.as_bytes())
}

/// [`to_stdout`] of any bytes (a PDF).
pub fn to_stdout_bytes(bytes: &[u8]) -> Result<(), ExitStatus> {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    out.write_all(bytes)
        .and_then(|()| out.flush())
        .map_err(|e| {
            consentry::stderr::line(format_args!("error: cannot write to standard output: {e}"));
            ExitStatus::Error
        })
}

/// [`to_stdout`] with a newline after `text`.
pub fn line_to_stdout(text: &str) -> Result<(), ExitStatus> {
    to_stdout(&format!("{text}\n"))
}

/// The file name extension of a report file in `format`.
pub fn ext(format: Format) -> &'static str {
    match format {
        Format::Table => "txt",
        Format::Json => "json",
        Format::Markdown => "md",
        Format::Html => "html",
        Format::Sarif => "sarif",
        Format::Junit => "xml",
        Format::Pdf => "pdf",
    }
}

/// Where a command's report goes, as its flags say: `--output FILE` (`-`: stdout), or
/// `--output-dir [DIR]` (a file by the naming scheme under DIR, the reports directory
/// when DIR is left out), else stdout.
#[derive(Debug, Clone, Copy, Default)]
pub struct Destination<'a> {
    pub output: Option<&'a Path>,
    /// `Some(None)`: `--output-dir` without a directory.
    pub output_dir: Option<Option<&'a Path>>,
}

impl<'a> Destination<'a> {
    pub fn new(output: Option<&'a Path>, output_dir: Option<&'a Option<PathBuf>>) -> Self {
        Destination {
            output,
            output_dir: output_dir.map(|d| d.as_deref()),
        }
    }

    /// Several reports to one place: only stdout or a directory can hold them.
    pub fn names_one_file(&self) -> bool {
        self.output.is_some_and(|o| o != Path::new("-"))
    }
}

/// Where a run's report goes: `None` is stdout.
pub fn run_report_path(to: Destination, format: Format, site: &str, run: i64) -> Option<PathBuf> {
    resolve(to, format, || format!("{}/run-{run}", slug(site)))
}

/// Where a drift pack goes: `None` is stdout.
pub fn drift_path(
    to: Destination,
    format: Format,
    site: &str,
    since: DateTime<Utc>,
    until: DateTime<Utc>,
) -> Option<PathBuf> {
    resolve(to, format, || {
        format!(
            "{}/drift-{}_{}",
            slug(site),
            since.format("%Y-%m-%d"),
            until.format("%Y-%m-%d")
        )
    })
}

fn resolve(to: Destination, format: Format, stem: impl FnOnce() -> String) -> Option<PathBuf> {
    match (to.output, to.output_dir) {
        (Some(p), _) if p == Path::new("-") => None,
        (Some(p), _) => Some(p.to_path_buf()),
        (None, Some(dir)) => {
            let dir = dir.map(Path::to_path_buf).unwrap_or_else(reports_dir);
            Some(dir.join(format!("{}.{}", stem(), ext(format))))
        }
        (None, None) => None,
    }
}

/// Print a rendered report, or write it to a file.
pub(crate) fn emit(output: Option<&std::path::Path>, text: &str) -> Result<(), ExitStatus> {
    match output.filter(|p| *p != std::path::Path::new("-")) {
        Some(path) => {
            if let Err(e) = write_report(path, text) {
                consentry::stderr::line(format_args!(
                    "error: cannot write {}: {e}",
                    path.display()
                ));
                return Err(ExitStatus::Error);
            }
            consentry::stderr::line(format_args!("report written to {}", path.display()));
        }
        None => to_stdout(text)?,
    }
    Ok(())
}

/// Writes a report file whole or not at all: into a new temporary file in the same
/// directory, then renamed over `path`. A reader never sees half a report, and a symlink
/// planted at `path` (say in a shared `reports/`) is replaced, never written through.
/// The file gets the usual mode (0666 less the umask), as a plain create would.
pub(crate) fn write_report(path: &std::path::Path, text: &str) -> std::io::Result<()> {
    write_report_bytes(path, text.as_bytes())
}

/// [`write_report`] of any bytes (a PDF).
pub(crate) fn write_report_bytes(path: &std::path::Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::PermissionsExt;
    let dir = match path.parent().filter(|d| !d.as_os_str().is_empty()) {
        Some(dir) => {
            std::fs::create_dir_all(dir)?;
            dir
        }
        None => std::path::Path::new("."),
    };
    let mut tmp = tempfile::Builder::new()
        .prefix(".consentry-report-")
        .permissions(std::fs::Permissions::from_mode(0o666))
        .tempfile_in(dir)?;
    tmp.write_all(bytes)?;
    tmp.as_file().sync_all()?;
    tmp.persist(path).map(|_| ()).map_err(|e| e.error)
}

/// An audit that could not run at all: its error on stderr, `redact`ed and made printable,
/// and the exit status it means (invalid input 2, else 4).
pub(crate) fn audit_failed(
    e: &consentry::pipeline::AuditError,
    redact: impl Fn(&str) -> String,
) -> ExitStatus {
    let message = redact(&e.to_string());
    consentry::stderr::line(format_args!(
        "error: {}",
        consentry::text::printable(&message)
    ));
    if e.is_invalid_input() {
        ExitStatus::InvalidInput
    } else {
        ExitStatus::Error
    }
}

/// One warning per browser profile directory an audit could not delete.
pub(crate) fn warn_leftover_profiles(dirs: &[String]) {
    for dir in dirs {
        consentry::stderr::line(format_args!(
            "warning: could not delete browser profile {}",
            consentry::text::printable(dir)
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs_are_file_safe() {
        assert_eq!(slug("Shop & Co. (FR)"), "shop-co-fr");
        assert_eq!(slug("demo-shop"), "demo-shop");
        assert_eq!(slug("../../etc"), "etc");
        assert_eq!(slug(".."), "site");
        assert_eq!(slug("é"), "site");
        assert!(slug(&"a".repeat(200)).len() <= 60);
    }

    #[test]
    fn naming_scheme() {
        let t = |s: &str| {
            DateTime::parse_from_rfc3339(s)
                .map(|t| t.with_timezone(&Utc))
                .expect("time")
        };
        let dir = Destination {
            output: None,
            output_dir: Some(None),
        };
        let p = drift_path(
            dir,
            Format::Json,
            "Demo Shop",
            t("2026-09-02T00:00:00Z"),
            t("2026-12-01T00:00:00Z"),
        )
        .expect("a file");
        assert!(
            p.ends_with("demo-shop/drift-2026-09-02_2026-12-01.json"),
            "{p:?}"
        );
        // Without --output or --output-dir, every format goes to stdout.
        for format in [Format::Table, Format::Json, Format::Markdown, Format::Html] {
            assert_eq!(
                run_report_path(Destination::default(), format, "x", 3),
                None
            );
        }
        let stdout = Destination {
            output: Some(Path::new("-")),
            output_dir: None,
        };
        assert_eq!(run_report_path(stdout, Format::Json, "x", 3), None);
        assert!(run_report_path(dir, Format::Markdown, "x", 3)
            .expect("file")
            .ends_with("x/run-3.md"));
        assert!(run_report_path(dir, Format::Table, "x", 3)
            .expect("file")
            .ends_with("x/run-3.txt"));
        let named = Destination {
            output: None,
            output_dir: Some(Some(Path::new("/tmp/out"))),
        };
        assert_eq!(
            run_report_path(named, Format::Html, "Demo Shop", 7),
            Some(PathBuf::from("/tmp/out/demo-shop/run-7.html"))
        );
    }
}

//! `consentry purge`: consentry's own retention for what it recorded.

use chrono::Utc;
use clap::Args;
use consentry::exit::ExitStatus;
use std::path::PathBuf;

/// Raw observations are kept this long unless `--older-than` says otherwise.
pub const DEFAULT_RETENTION: &str = "90d";

#[derive(Debug, Args)]
pub struct PurgeArgs {
    /// Delete raw observations of runs older than this (`90d`, `12w`, `48h`).
    #[arg(long, default_value = DEFAULT_RETENTION, value_parser = parse_age)]
    pub older_than: chrono::Duration,
    /// The database: a SQLite file path, or a PostgreSQL URL (postgres://USER@HOST/DB)
    /// [default: $CONSENTRY_DB, else ./consentry.db]. Other URL schemes are refused.
    #[arg(long, value_name = "PATH|URL")]
    pub db: Option<PathBuf>,
}

/// `<n>d`, `<n>w` or `<n>h`, n > 0.
fn parse_age(s: &str) -> Result<chrono::Duration, String> {
    let s = s.trim();
    let split = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
    let (n, unit) = s.split_at(split);
    let n: i64 = n
        .parse()
        .map_err(|_| format!("expected a number and a unit (d, w or h), got {s:?}"))?;
    if n <= 0 {
        return Err(format!("{s:?}: must be longer than zero"));
    }
    let hours = match unit {
        "h" => Some(n),
        "d" => n.checked_mul(24),
        "w" => n.checked_mul(24 * 7),
        _ => return Err(format!("{s:?}: the unit must be d, w or h")),
    };
    hours
        .filter(|h| *h <= 24 * 365 * 100)
        .map(chrono::Duration::hours)
        .ok_or_else(|| format!("{s:?}: at most 100 years"))
}

pub async fn run(args: PurgeArgs) -> ExitStatus {
    let path = match super::db_location(args.db.as_deref()) {
        Ok(l) => l,
        Err(status) => return status,
    };
    let store = match super::open_existing(&path).await {
        Ok(s) => s,
        Err(status) => return status,
    };
    let before = Utc::now() - args.older_than;
    // Screenshots are raw evidence too: their rows go with the rest, their files after.
    let files = store.admin().screenshot_files_before(before).await;
    let result = match files {
        Ok(files) => store.admin().purge_raw(before).await.map(|c| (c, files)),
        Err(e) => Err(e),
    };
    store.close().await;
    match result {
        Ok((counts, files)) => {
            let parts: Vec<String> = counts.iter().map(|(t, n)| format!("{n} {t}")).collect();
            let (deleted, failed) = delete_files(&files);
            let printed = crate::cli::output::line_to_stdout(&format!(
                "purged runs started before {}: {}; {deleted} screenshot file(s) deleted; runs, visits and findings kept",
                before.format("%Y-%m-%d %H:%M UTC"),
                parts.join(", ")
            ));
            if !failed.is_empty() {
                for f in &failed {
                    consentry::stderr::line(format_args!(
                        "error: {}",
                        consentry::text::printable(f)
                    ));
                }
                return ExitStatus::Error;
            }
            match printed {
                Ok(()) => ExitStatus::Ok,
                Err(status) => status,
            }
        }
        Err(e) => {
            consentry::stderr::line(format_args!("error: {e}"));
            ExitStatus::Error
        }
    }
}

/// Delete the screenshot files of purged runs, and their run directories once empty. A
/// file already gone counts as deleted. Returns how many were deleted and what failed.
fn delete_files(files: &[String]) -> (usize, Vec<String>) {
    let mut deleted = 0;
    let mut failed = Vec::new();
    let mut dirs = std::collections::BTreeSet::new();
    for f in files {
        let path = std::path::Path::new(f);
        match std::fs::remove_file(path) {
            Ok(()) => deleted += 1,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => deleted += 1,
            Err(e) => failed.push(format!("could not delete screenshot {f}: {e}")),
        }
        if let Some(dir) = path.parent() {
            dirs.insert(dir.to_path_buf());
        }
    }
    for d in dirs {
        // Only empty directories go (remove_dir refuses others): a report beside is kept.
        let _ = std::fs::remove_dir(d);
    }
    (deleted, failed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ages() {
        assert_eq!(parse_age("90d"), Ok(chrono::Duration::days(90)));
        assert_eq!(parse_age("2w"), Ok(chrono::Duration::days(14)));
        assert_eq!(parse_age("36h"), Ok(chrono::Duration::hours(36)));
        assert!(parse_age("0d").is_err());
        assert!(parse_age("9999999999999999d").is_err());
        assert!(parse_age("3 months").is_err());
    }
}

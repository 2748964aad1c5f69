//! `consentry drift`: what happened to each finding of a site across its runs.

use crate::exit::ExitStatus;
use crate::report::drift::render_drift;
use crate::report::Format;
use crate::store::default_db_path;
use chrono::{DateTime, NaiveDate, Utc};
use clap::Args;
use std::path::PathBuf;

/// The window when `--since` is not given.
pub const DEFAULT_WINDOW_DAYS: i64 = 90;

#[derive(Debug, Args)]
pub struct DriftArgs {
    /// The site (its `[site] name`); may be left out when the database holds one site.
    #[arg(long, value_name = "NAME")]
    pub site: Option<String>,
    /// Start of the window: `YYYY-MM-DD` or RFC 3339 [default: 90 days before --until].
    #[arg(long, value_parser = parse_time, value_name = "TIME")]
    pub since: Option<DateTime<Utc>>,
    /// End of the window (exclusive) [default: now].
    #[arg(long, value_parser = parse_time, value_name = "TIME")]
    pub until: Option<DateTime<Utc>>,
    /// SQLite database file [default: $CONSENTRY_DB, else ./consentry.db].
    #[arg(long, value_name = "PATH")]
    pub db: Option<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
    /// Write the report to this file instead of stdout.
    #[arg(long, short = 'o', value_name = "FILE")]
    pub output: Option<PathBuf>,
}

fn parse_time(s: &str) -> Result<DateTime<Utc>, String> {
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Ok(t.with_timezone(&Utc));
    }
    NaiveDate::parse_from_str(s, "%Y-%m-%d")
        .ok()
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .map(|t| t.and_utc())
        .ok_or_else(|| format!("expected YYYY-MM-DD or an RFC 3339 time, got {s:?}"))
}

pub async fn run(args: DriftArgs) -> ExitStatus {
    let path = args.db.unwrap_or_else(default_db_path);
    let store = match super::open_existing(&path).await {
        Ok(s) => s,
        Err(status) => return status,
    };
    let site = match args.site {
        Some(s) => s,
        None => match store.sites().await {
            Ok(sites) if sites.len() == 1 => sites.into_iter().next().unwrap_or_default(),
            Ok(sites) => {
                eprintln!(
                    "error: {} holds {} sites; name one with --site ({})",
                    path.display(),
                    sites.len(),
                    crate::text::printable(&sites.join(", "))
                );
                return ExitStatus::InvalidInput;
            }
            Err(e) => {
                eprintln!("error: {e}");
                return ExitStatus::Error;
            }
        },
    };
    let until = args.until.unwrap_or_else(Utc::now);
    let since = args
        .since
        .unwrap_or(until - chrono::Duration::days(DEFAULT_WINDOW_DAYS));
    let from = match store.context_start(&site, since).await {
        Ok(t) => t,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitStatus::Error;
        }
    };
    let history = match store.site_history(&site, from, until).await {
        Ok(h) => h,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitStatus::Error;
        }
    };
    store.close().await;
    let report = crate::drift::pack::build(&crate::drift::pack::PackInput {
        site: &site,
        since,
        until,
        history: &history,
        acks: &[],
    });
    let text = render_drift(args.format, &report);
    match super::audit::emit(args.output.as_deref(), &text) {
        Ok(()) => ExitStatus::Ok,
        Err(status) => status,
    }
}

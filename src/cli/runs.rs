//! `consentry runs`: the stored runs, newest first.

use crate::cli::output::line_to_stdout;
use clap::Args;
use consentry::exit::ExitStatus;
use consentry::pipeline::stored_report;
use consentry::report::{clip, human_ms, run_status_text};
use std::path::PathBuf;
use tabled::settings::Style;

#[derive(Debug, Args)]
pub struct RunsArgs {
    /// The database: a SQLite file path, or a PostgreSQL URL (postgres://USER@HOST/DB)
    /// [default: $CONSENTRY_DB, else ./consentry.db]. Other URL schemes are refused.
    #[arg(long, value_name = "PATH|URL")]
    pub db: Option<PathBuf>,
    /// Only runs of this site.
    #[arg(long, value_name = "NAME")]
    pub site: Option<String>,
    /// At most this many runs.
    #[arg(long, short = 'n', default_value_t = 20, value_name = "N")]
    pub limit: u32,
    /// Only the runs of the sites of this fleet run (the `fleet` column; docs/fleet.md).
    #[arg(long, value_name = "ID")]
    pub fleet: Option<i64>,
}

pub async fn run(args: RunsArgs) -> ExitStatus {
    let (path, store) = match super::read_only_db(args.db.as_deref()).await {
        Ok(opened) => opened,
        Err(status) => return status,
    };
    let runs = match args.fleet {
        Some(id) => store.history().fleet_run_sites(id).await.map(|runs| {
            runs.into_iter()
                .filter(|r| args.site.as_ref().is_none_or(|s| *s == r.site))
                .take(args.limit as usize)
                .collect()
        }),
        None => store.history().runs(args.site.as_deref(), args.limit).await,
    };
    let runs = match runs {
        Ok(r) => r,
        Err(e) => {
            consentry::stderr::line(format_args!("error: {e}"));
            return ExitStatus::Error;
        }
    };
    let mut b = tabled::builder::Builder::default();
    b.push_record([
        "run",
        "fleet",
        "site",
        "vantage",
        "started (UTC)",
        "duration",
        "status",
        "visits",
        "findings",
        "verdict",
    ]);
    let mut rows = 0;
    for r in &runs {
        let report = match stored_report(&store, r.id, None).await {
            Ok(Some(rep)) => rep,
            Ok(None) => continue,
            Err(e) => {
                consentry::stderr::line(format_args!("error: {e}"));
                return ExitStatus::Error;
            }
        };
        let observed = report.visits.len() - report.not_observed().len();
        b.push_record([
            r.id.to_string(),
            r.fleet_run
                .map_or_else(|| "-".to_string(), |f| f.to_string()),
            clip(&r.site, 40),
            clip(&r.vantage.label, 24),
            r.started_at.format("%Y-%m-%d %H:%M:%S").to_string(),
            match r.finished_at {
                Some(_) => human_ms(report.duration_ms()),
                None => "-".to_string(),
            },
            clip(&run_status_text(&r.status), 60),
            format!("{observed}/{} observed", report.visits.len()),
            consentry::report::counts_short(&report),
            report.verdict.exit.to_string(),
        ]);
        rows += 1;
    }
    store.close().await;
    if rows == 0 {
        return match line_to_stdout(&format!("no runs in {}", path)) {
            Ok(()) => ExitStatus::Ok,
            Err(status) => status,
        };
    }
    let mut table = b.build();
    table.with(Style::sharp());
    match line_to_stdout(&table.to_string()) {
        Ok(()) => ExitStatus::Ok,
        Err(status) => status,
    }
}

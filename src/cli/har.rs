//! `consentry har RUN`: the HAR 1.2 of a stored run's visits (docs/reports.md#har), for
//! Chromium DevTools' Network panel (Import HAR) or any HAR viewer. One visit on stdout
//! (or `--output FILE`); several visits as one file each in `--output-dir DIR`.

use crate::cli::output::{emit, write_report};
use clap::Args;
use consentry::exit::ExitStatus;
use consentry::pipeline::{stored_hars, HarOutcome};
use std::path::PathBuf;

#[derive(Debug, Args)]
pub struct HarArgs {
    /// The run id (see `consentry runs`), or `latest`.
    #[arg(value_name = "RUN")]
    pub run: String,
    /// The database: a SQLite file path, or a PostgreSQL URL (postgres://USER@HOST/DB)
    /// [default: $CONSENTRY_DB, else ./consentry.db]. Other URL schemes are refused.
    #[arg(long, value_name = "PATH|URL")]
    pub db: Option<PathBuf>,
    /// Only this scenario's visit(s).
    #[arg(long, value_name = "ID")]
    pub scenario: Option<String>,
    /// Only this repetition of each scenario (`audit --repeat N`: 1 to N).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    pub repetition: Option<u32>,
    /// Write the HAR of the one visit asked for to this file instead of stdout (`-`:
    /// stdout).
    #[arg(long, short = 'o', value_name = "FILE", conflicts_with = "output_dir")]
    pub output: Option<PathBuf>,
    /// Write one file per visit, DIR/<site>-<scenario>[-r<N>].har (N: the repetition,
    /// after the first). Needed when more than one visit is asked for.
    #[arg(long, value_name = "DIR")]
    pub output_dir: Option<PathBuf>,
}

pub async fn run(args: HarArgs) -> ExitStatus {
    let (path, store) = match super::read_only_db(args.db.as_deref()).await {
        Ok(opened) => opened,
        Err(status) => return status,
    };
    let id = match super::report::resolve_run(&store, &path, &args.run).await {
        Ok(id) => id,
        Err(status) => return status,
    };
    let visits = store.history().visits(id).await;
    let scenario = args.scenario.as_deref();
    let outcome = stored_hars(&store, id, |v| {
        scenario.is_none_or(|s| v.scenario == s)
            && args.repetition.is_none_or(|r| v.repetition == r)
    })
    .await;
    let record = store.history().run(id).await;
    store.close().await;
    let (hars, site) = match (outcome, record, visits) {
        (Ok(HarOutcome::NoRun), _, _) | (_, Ok(None), _) => {
            consentry::stderr::line(format_args!(
                "error: {path}: no run {id} (see `consentry runs`)"
            ));
            return ExitStatus::InvalidInput;
        }
        (Ok(HarOutcome::Purged { visits }), _, _) => {
            consentry::stderr::line(format_args!(
                "error: run {id}: the requests of its {visits} visit(s) are no longer stored (`consentry purge` removed the run's raw records; its findings and reports remain, `consentry report {id}`), so there is no HAR to make"
            ));
            return ExitStatus::InvalidInput;
        }
        (Ok(HarOutcome::Hars(h)), Ok(Some(rec)), Ok(visits)) => {
            if h.is_empty() {
                let mut names: Vec<String> = visits
                    .iter()
                    .map(|v| match v.repetition {
                        1 => v.scenario.clone(),
                        n => format!("{} (repetition {n})", v.scenario),
                    })
                    .collect();
                names.dedup();
                consentry::stderr::line(format_args!(
                    "error: run {id} has no visit{}{}; its visits: {}",
                    scenario
                        .map(|s| format!(" of scenario {}", consentry::text::printable(s)))
                        .unwrap_or_default(),
                    args.repetition
                        .map(|r| format!(" with repetition {r}"))
                        .unwrap_or_default(),
                    if names.is_empty() {
                        "none".to_string()
                    } else {
                        consentry::text::printable(&names.join(", ")).into_owned()
                    }
                ));
                return ExitStatus::InvalidInput;
            }
            (h, rec.site)
        }
        (Err(e), _, _) | (_, Err(e), _) | (_, _, Err(e)) => {
            consentry::stderr::line(format_args!("error: {e}"));
            return ExitStatus::Error;
        }
    };
    match &args.output_dir {
        None => {
            let [one] = hars.as_slice() else {
                let names: Vec<String> = hars
                    .iter()
                    .map(|h| match h.repetition {
                        1 => h.scenario.clone(),
                        n => format!("{} (repetition {n})", h.scenario),
                    })
                    .collect();
                consentry::stderr::line(format_args!(
                    "error: run {id} has {} visits ({}); a HAR is one visit: give --scenario ID (and --repetition N) for one on stdout, or --output-dir DIR for one file per visit",
                    hars.len(),
                    consentry::text::printable(&names.join(", "))
                ));
                return ExitStatus::InvalidInput;
            };
            match emit(args.output.as_deref(), &one.text) {
                Ok(()) => ExitStatus::Ok,
                Err(status) => status,
            }
        }
        Some(dir) => {
            let prefix = format!("{}-", consentry::text::slug(&site));
            let names = consentry::pipeline::har_file_names(&hars, &prefix);
            for (h, name) in hars.iter().zip(names) {
                let file = dir.join(name);
                if let Err(e) = write_report(&file, &h.text) {
                    consentry::stderr::line(format_args!(
                        "error: cannot write {}: {e}",
                        file.display()
                    ));
                    return ExitStatus::Error;
                }
                consentry::stderr::line(format_args!(
                    "HAR of {} ({} entries) written to {}",
                    consentry::text::printable(&h.scenario),
                    h.entries,
                    file.display()
                ));
            }
            ExitStatus::Ok
        }
    }
}

//! `consentry report RUN`: re-render a stored run exactly as its audit printed it.

use crate::cli::audit::parse_fail_on;
use crate::cli::output::emit;
use clap::Args;
use consentry::exit::ExitStatus;
use consentry::outcome::FailOn;
use consentry::pipeline::stored_report;
use consentry::report::{reporter, Format};
use std::path::PathBuf;

#[derive(Debug, Args)]
pub struct ReportArgs {
    /// The run id (see `consentry runs`), or `latest`.
    #[arg(value_name = "RUN")]
    pub run: String,
    /// The database: a SQLite file path, or a PostgreSQL URL (postgres://USER@HOST/DB)
    /// [default: $CONSENTRY_DB, else ./consentry.db]. Other URL schemes are refused.
    #[arg(long, value_name = "PATH|URL")]
    pub db: Option<PathBuf>,
    /// Output format, on stdout unless --output or --output-dir.
    #[arg(long, value_parser = super::values::format(), default_value_t = Format::Table)]
    pub format: Format,
    /// List every finding as its own row (with its evidence) instead of grouping the
    /// findings that share a code and subject into one problem (table, Markdown, HTML;
    /// JSON always has both `findings` and `problems`).
    #[arg(long)]
    pub ungrouped: bool,
    /// Judge the findings against this severity instead of the run's own --fail-on.
    #[arg(long, value_parser = parse_fail_on)]
    pub fail_on: Option<FailOn>,
    /// Write the report to this file instead of stdout (`-`: stdout).
    #[arg(long, short = 'o', value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Write the report to DIR/<site>/run-<id>.<ext> (html, md, json, txt, sarif, xml, pdf) instead of
    /// stdout; DIR left out: the reports directory ($CONSENTRY_REPORTS_DIR, else
    /// ./reports). Give RUN before it, or write `--output-dir=DIR`.
    #[arg(long, value_name = "DIR", num_args = 0..=1, conflicts_with = "output")]
    pub output_dir: Option<Option<PathBuf>>,
    #[command(flatten)]
    pub print: super::pdf::PrintArgs,
}

/// Exit status: the stored run's verdict, as the audit returned it.
pub async fn run(args: ReportArgs) -> ExitStatus {
    if args.format.is_printed() && args.output_dir.is_none() {
        if let Err(status) = super::pdf::refuse_terminal(args.output.as_deref()) {
            return status;
        }
    }
    let (path, store) = match super::read_only_db(args.db.as_deref()).await {
        Ok(opened) => opened,
        Err(status) => return status,
    };
    let id = match resolve_run(&store, &path, &args.run).await {
        Ok(id) => id,
        Err(status) => return status,
    };
    let mut report = match stored_report(&store, id, args.fail_on).await {
        Ok(Some(r)) => r,
        Ok(None) => {
            consentry::stderr::line(format_args!(
                "error: {}: no run {id} (see `consentry runs`)",
                path
            ));
            return ExitStatus::InvalidInput;
        }
        Err(e) => {
            consentry::stderr::line(format_args!("error: {e}"));
            return ExitStatus::Error;
        }
    };
    store.close().await;
    if args.format.is_run_only() {
        report.declared = declared_now(&report.scenario_file);
    }
    let to = crate::cli::output::Destination::new(args.output.as_deref(), args.output_dir.as_ref());
    let target = crate::cli::output::run_report_path(to, args.format, &report.site, id);
    if let Some(file) = &target {
        consentry::screenshots::paths_relative_to(&mut report, file);
    }
    let text = reporter(args.format).render_with(
        &report,
        consentry::report::Grouping::from_flag(args.ungrouped),
    );
    let written = if args.format.is_printed() {
        let mut printer = super::pdf::PdfPrinter::new(args.print.browser());
        let written = printer.emit(target.as_deref(), &text).await;
        printer.close().await;
        written
    } else {
        emit(target.as_deref(), &text)
    };
    if let Err(status) = written {
        return status;
    }
    report.verdict.exit
}

/// The declared map of a stored run's scenario file as it is on disk now, for SARIF's
/// locations. A file that cannot be loaded any more is a warning: the findings then
/// point at the scenario file.
fn declared_now(scenario_file: &str) -> Option<consentry::outcome::DeclaredAt> {
    let env = |name: &str| std::env::var(name).ok();
    match consentry::scenario::load::load_audit_file_with_env(
        std::path::Path::new(scenario_file),
        &env,
    ) {
        Ok(spec) => Some(consentry::outcome::DeclaredAt::of(&spec.policy)),
        Err(diags) => {
            consentry::stderr::line(format_args!(
                "warning: {}: cannot load it now ({} error(s)); findings point at the scenario file, not at the declared map's lines",
                consentry::text::printable(scenario_file),
                diags.errors()
            ));
            None
        }
    }
}

/// `RUN` as the user wrote it (an id, or `latest`) to a run id of the database at `path`.
pub(crate) async fn resolve_run(
    store: &consentry::store::Store,
    path: &impl std::fmt::Display,
    run: &str,
) -> Result<i64, ExitStatus> {
    if run == "latest" {
        return match store.history().runs(None, 1).await {
            Ok(runs) => match runs.first() {
                Some(r) => Ok(r.id),
                None => {
                    consentry::stderr::line(format_args!("error: no runs in {path}"));
                    Err(ExitStatus::InvalidInput)
                }
            },
            Err(e) => {
                consentry::stderr::line(format_args!("error: {e}"));
                Err(ExitStatus::Error)
            }
        };
    }
    run.parse::<i64>().map_err(|_| {
        consentry::stderr::line(format_args!(
            "error: RUN must be a run id or `latest`, got {run:?}"
        ));
        ExitStatus::InvalidInput
    })
}

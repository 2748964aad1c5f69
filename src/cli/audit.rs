//! `consentry audit SCENARIO_FILE...`: parse the flags, run [`consentry::pipeline::audit`]
//! for one scenario file, print the report, return its verdict. Several files, a folder
//! or a fleet file go to [`super::fleet`] instead ([`super::fleet::is_fleet_run`]).

use super::progress::Progress;
use clap::Args;
use consentry::engine::EngineConfig;
use consentry::exit::ExitStatus;
use consentry::outcome::FailOn;
use consentry::pipeline::{self, AuditConfig};
use consentry::report::{reporter, Format};
use std::path::PathBuf;

#[derive(Debug, Args)]
pub struct AuditArgs {
    /// The scenario file (TOML; see docs/scenarios.md); several, a folder of them, or a
    /// fleet file audit many sites in one run (docs/fleet.md).
    #[arg(value_name = "SCENARIO_FILE", required = true, num_args = 1..)]
    pub files: Vec<PathBuf>,
    /// The database: a SQLite file path, or a PostgreSQL URL (postgres://USER@HOST/DB)
    /// [default: $CONSENTRY_DB, else the fleet file's `database`, else ./consentry.db].
    /// Other URL schemes are refused.
    #[arg(long, value_name = "PATH|URL")]
    pub db: Option<PathBuf>,
    /// Output format, on stdout unless --output (pdf: printed by a local Chromium, to a
    /// file or a pipe).
    #[arg(long, value_parser = super::values::format(), default_value_t = Format::Table)]
    pub format: Format,
    /// List every finding as its own row (with its evidence) instead of grouping the
    /// findings that share a code and subject into one problem (table, Markdown, HTML;
    /// JSON always has both `findings` and `problems`).
    #[arg(long)]
    pub ungrouped: bool,
    /// Exit 1 when a finding is at or above this severity (info, low, medium, high, critical,
    /// never); `new` or `new:SEVERITY`: only findings new or regressed in this run count.
    #[arg(long, default_value = "high", value_parser = parse_fail_on)]
    pub fail_on: FailOn,
    /// With several sites: at most N visits of one site at once [default: the fleet
    /// file's `per_site`, else 1].
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..=16))]
    pub per_site: Option<u16>,
    /// Visit each scenario N times, each in a fresh browser context [default: the fleet
    /// file's `repeat`, else 1]. Each finding then says in how many of the N visits it
    /// was seen (k/N); one seen in fewer is marked intermittent, still counts toward the
    /// exit code, and drift resolves it only after `drift --resolve-after` absences
    /// (docs/findings.md, "Repetitions").
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=10))]
    pub repeat: Option<u32>,
    #[command(flatten)]
    pub browser: super::browser::BrowserArgs,
    /// Run only these scenarios (repeatable); default: the file's [run] list.
    #[arg(long = "scenario", short = 's', value_name = "ID")]
    pub scenarios: Vec<String>,
    /// Write the report (with several sites: the fleet summary) to this file instead of
    /// stdout (`-`: stdout, as without it).
    #[arg(long, short = 'o', value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Never draw a progress bar (one line per scenario on stderr instead).
    #[arg(long)]
    pub no_progress: bool,
    /// Acknowledgements file [default: acks.toml beside each scenario file, when it exists]:
    /// findings acknowledged there are shown as such and do not fail the run.
    #[arg(long, value_name = "PATH")]
    pub acks: Option<PathBuf>,
    /// Post an alert to this URL when a run has new or regressed findings or is
    /// incomplete (repeatable; replaces a fleet file's `notify`). `slack+https://…` or a
    /// hooks.slack.com URL gets Slack's JSON; any other https:// URL a generic JSON body
    /// signed with $CONSENTRY_NOTIFY_SECRET (docs/alerts.md). A failed delivery is
    /// warned about and stored, never changing the exit code.
    #[arg(long, value_name = "URL")]
    pub notify: Vec<String>,
    /// With several sites: audit only the sites at positions I, I+N, I+2N… of the fleet
    /// (I/N, counting from 1), so N processes share a fleet without a queue
    /// (docs/queue.md).
    #[arg(long, value_name = "I/N", value_parser = consentry::fleet::Shard::parse)]
    pub shard: Option<consentry::fleet::Shard>,
    /// Put the sites into the database's queue instead of auditing them here
    /// (`consentry enqueue`): `consentry worker` processes do the visits (docs/queue.md).
    #[arg(long)]
    pub queue: bool,
    /// With --queue: wait until the workers have finished the fleet, then write the
    /// reports and print the summary as an audit of the fleet would, with its exit code.
    #[arg(long, requires = "queue")]
    pub wait: bool,
    /// IAB Global Vendor List (vendor-list.json, version 3): the declared TCF vendors are
    /// checked against it, and what they get wrong is reported as map findings.
    #[arg(long, value_name = "FILE")]
    pub gvl: Option<PathBuf>,
}

impl AuditArgs {
    /// How the engine runs: browsers, jobs, autoconsent, screenshots.
    pub(crate) fn engine_config(&self) -> EngineConfig {
        self.browser.engine_config()
    }
}

pub(crate) fn parse_fail_on(s: &str) -> Result<FailOn, String> {
    FailOn::parse(s)
}

pub async fn run(args: AuditArgs) -> ExitStatus {
    let Some(file) = args.files.first().cloned() else {
        return ExitStatus::InvalidInput; // clap requires one
    };
    if args.format.is_printed() {
        // Refused before the audit, not after it.
        if let Err(status) = super::pdf::refuse_terminal(args.output.as_deref()) {
            return status;
        }
    }
    let env = |name: &str| std::env::var(name).ok();
    // Every input is validated before any browser starts, and all problems are shown.
    let spec = consentry::scenario::load::load_audit_file_with_warnings(&file, &env);
    let acks = consentry::ack::load::load_for(&file, args.acks.as_deref());
    let gvl = args
        .gvl
        .as_deref()
        .map(consentry::policy::gvl::load_gvl)
        .transpose();
    let (mut spec, acks, gvl) = match (spec, acks, gvl) {
        (Ok((spec, warnings)), Ok(acks), Ok(gvl)) => {
            consentry::stderr::text(format_args!("{warnings}"));
            (spec, acks, gvl)
        }
        (spec, acks, gvl) => {
            let mut errors = 0;
            for diags in [spec.err(), acks.err(), gvl.err()].into_iter().flatten() {
                consentry::stderr::text(format_args!("{diags}"));
                errors += diags.errors();
            }
            consentry::stderr::line(format_args!(
                "{}: {errors} error(s); nothing was audited",
                file.display()
            ));
            return ExitStatus::InvalidInput;
        }
    };
    if let Some(gvl) = &gvl {
        let issues = consentry::policy::gvl::lint(&spec.policy, gvl);
        for w in consentry::policy::gvl::as_warnings(&issues) {
            consentry::stderr::line(format_args!("{w}"));
        }
        spec.policy.map_issues.extend(issues);
    }
    let notify = match super::notify::config(&args.notify, &[]) {
        Ok(cfg) => cfg,
        Err(status) => return status,
    };
    let db = match super::db_location(args.db.as_deref()) {
        Ok(l) => l,
        Err(status) => return status,
    };
    let reports_dir = crate::cli::output::evidence_dir(&db);
    let cfg = AuditConfig {
        scenario_file: file.display().to_string(),
        scenarios: args.scenarios.clone(),
        fail_on: args.fail_on,
        db: db.clone(),
        engine: args.engine_config(),
        acks,
        reports_dir,
        repeat: args.repeat.unwrap_or(1),
    };
    let (cancel, listener) = consentry::engine::cancel_on_signals();
    let progress = Progress::new(args.no_progress, false);
    let result = pipeline::audit(&spec, &cfg, cancel, &progress).await;
    listener.abort();
    let mut run = match result {
        Ok(run) => run,
        Err(e) => {
            return super::output::audit_failed(&e, |m| spec.site.secrets.redact(m).into_owned())
        }
    };
    super::output::warn_leftover_profiles(&run.leftover_profiles);
    for e in &run.storage_errors {
        let e = spec.site.secrets.redact(e);
        consentry::stderr::line(format_args!("error: {}", consentry::text::printable(&e)));
    }
    let output = args.output.as_deref();
    if let Some(file) = output.filter(|p| *p != std::path::Path::new("-")) {
        consentry::screenshots::paths_relative_to(&mut run.report, file);
    }
    let text = reporter(args.format).render_with(
        &run.report,
        consentry::report::Grouping::from_flag(args.ungrouped),
    );
    let written = if args.format.is_printed() {
        let place = &args.browser.place;
        let mut printer = super::pdf::PdfPrinter::new(consentry::browser::print::PrintBrowser {
            chromedriver: place.chromedriver.clone(),
            chromium: place.chromium.clone(),
        });
        let written = printer.emit(output, &text).await;
        printer.close().await;
        written
    } else {
        super::output::emit(output, &text)
    };
    if let Err(status) = written {
        return status;
    }
    let report_path = output
        .filter(|p| *p != std::path::Path::new("-"))
        .map(|p| p.display().to_string());
    let notification = consentry::notify::Notification::of_run(&consentry::notify::SiteInput {
        report: &run.report,
        report_path: report_path.as_deref(),
        secrets: &spec.site.secrets,
    });
    super::notify::send(
        &db,
        run.report.run_id.map(pipeline::About::Run),
        notification.as_ref(),
        &notify,
        matches!(
            run.report.status,
            consentry::model::RunStatus::Interrupted(_)
        ),
    )
    .await;
    if !run.storage_errors.is_empty() {
        return ExitStatus::Error;
    }
    run.report.verdict.exit
}

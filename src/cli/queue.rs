//! The queue's commands (docs/queue.md): `audit FLEET --queue [--wait]` puts a fleet
//! into the database's queue, `worker` works it, `fleet status` shows where it stands.

use super::audit::AuditArgs;
use super::browser::BrowserArgs;
use clap::{Args, Subcommand};
use consentry::exit::ExitStatus;
use consentry::pipeline::queue::{self, EnqueueConfig, QueueInputs, WorkerConfig};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// `audit … --queue`: validate the fleet, enqueue it whole, print its fleet run id; with
/// `--wait`, wait for the workers and report as an audit of the fleet would.
pub(crate) async fn enqueue(args: AuditArgs) -> ExitStatus {
    let (fleet, db, limits) = match super::fleet::prepare(&args) {
        Ok(p) => p,
        Err(status) => return status,
    };
    if limits.repeat > 1 {
        consentry::stderr::line(format_args!(
            "error: --repeat / `repeat` {} with --queue: queued fleets visit each scenario \
             once (repetitions run in `consentry audit` without --queue)",
            limits.repeat
        ));
        return ExitStatus::InvalidInput;
    }
    if !args.notify.is_empty() {
        consentry::stderr::line(format_args!(
            "error: --notify with --queue: the worker that finishes the fleet posts the \
             alerts (the fleet file's `notify`, or the worker's own --notify); a webhook URL \
             is not stored in the queue"
        ));
        return ExitStatus::InvalidInput;
    }
    let inputs = QueueInputs {
        files: args.files.iter().map(|f| absolute(f)).collect(),
        acks: args.acks.as_deref().map(absolute),
        gvl: args.gvl.as_deref().map(absolute),
        scenarios: args.scenarios.clone(),
    };
    let cfg = EnqueueConfig {
        db: db.clone(),
        inputs,
        fail_on: args.fail_on,
        limits,
    };
    let queued = match queue::enqueue(&fleet, &cfg).await {
        Ok(q) => q,
        Err(e) => return super::output::audit_failed(&e, |m| m.to_string()),
    };
    consentry::stderr::line(format_args!(
        "queued fleet run {} ({}): {} site(s) in {db}; start `consentry worker --db …` \
         processes to audit them, `consentry fleet status {}` shows progress",
        queued.fleet_run,
        fleet.name,
        queued.sites.len(),
        queued.fleet_run
    ));
    if !args.wait {
        return super::output::to_stdout(&format!("{}\n", queued.fleet_run))
            .err()
            .unwrap_or(ExitStatus::Ok);
    }
    // --wait: the fleet's summary and reports once the workers are done, as `audit`.
    let (cancel, listener) = consentry::engine::cancel_on_signals();
    let run = loop {
        if *cancel.borrow() {
            listener.abort();
            consentry::stderr::line(format_args!(
                "stopped waiting; the fleet run goes on in the workers"
            ));
            return ExitStatus::Incomplete;
        }
        let store = match consentry::store::Store::open_read_only(&db).await {
            Ok(s) => s,
            Err(e) => {
                consentry::stderr::line(format_args!("warning: {e}; trying again"));
                tokio::time::sleep(Duration::from_secs(2)).await;
                continue;
            }
        };
        let done = queue::finished_fleet_run(&store, queued.fleet_run, &fleet).await;
        store.close().await;
        match done {
            Ok(Some(run)) => break run,
            Ok(None) => {}
            Err(e) => consentry::stderr::line(format_args!("warning: {e}; trying again")),
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    };
    listener.abort();
    let reports_dir = super::fleet::reports_dir(&db, &fleet);
    match super::fleet::write_out(
        &run,
        &fleet,
        args.format,
        consentry::report::Grouping::default(),
        args.output.as_deref(),
        &reports_dir,
    ) {
        Ok(out) if out.failed => ExitStatus::Error,
        Ok(out) => out.exit,
        Err(status) => status,
    }
}

/// `30s`, `2m`, `500ms` (as durations in scenario files).
fn parse_duration(s: &str) -> Result<Duration, String> {
    consentry::toml_check::duration::parse_duration(s)
        .ok_or_else(|| format!("{s:?}: expected a duration such as 30s, 2m or 500ms"))
}

/// An absolute form of a path given on the command line (workers elsewhere read it).
fn absolute(p: &Path) -> PathBuf {
    std::path::absolute(p).unwrap_or_else(|_| p.to_path_buf())
}

#[derive(Debug, Args)]
pub struct WorkerArgs {
    /// The database whose queue to work: a PostgreSQL URL (postgres://USER@HOST/DB), or a
    /// SQLite file shared by workers on one machine [default: $CONSENTRY_DB, else
    /// ./consentry.db].
    #[arg(long, value_name = "URL|PATH")]
    pub db: Option<PathBuf>,
    #[command(flatten)]
    pub browser: BrowserArgs,
    /// Names this worker in leases and `fleet status` (host and pid are added).
    #[arg(long, default_value = "worker")]
    pub name: String,
    /// How long a lease lasts unless renewed (every third of it): a worker that dies
    /// loses its jobs to the others after at most this long.
    #[arg(long, value_name = "DURATION", default_value = "60s", value_parser = parse_duration)]
    pub lease: Duration,
    /// How long to wait before asking the queue again when it has nothing to give.
    #[arg(long, value_name = "DURATION", default_value = "2s", value_parser = parse_duration)]
    pub poll: Duration,
    /// Stop once no job of any queued fleet is left (default: keep waiting for more
    /// until SIGINT or SIGTERM).
    #[arg(long)]
    pub until_empty: bool,
    /// With --until-empty: how long a worker that has had no job yet waits for a first
    /// one before it stops (workers started beside `audit --queue` may find the queue
    /// still empty).
    #[arg(long, value_name = "DURATION", default_value = "60s", value_parser = parse_duration)]
    pub start_grace: Duration,
    /// Post the alert of a fleet this worker finishes to this URL (repeatable; replaces
    /// the fleet file's `notify`; docs/alerts.md).
    #[arg(long, value_name = "URL")]
    pub notify: Vec<String>,
}

/// `consentry worker`: work the queue until stopped (or empty); exit 0 when it stopped
/// cleanly, 4 when it could not start.
pub(crate) async fn worker(args: WorkerArgs) -> ExitStatus {
    let db = match super::db_location(args.db.as_deref()) {
        Ok(l) => l,
        Err(status) => return status,
    };
    let notify = match super::notify::config(&args.notify, &[]) {
        Ok(cfg) => cfg,
        Err(status) => return status,
    };
    if args.lease < Duration::from_secs(1) {
        consentry::stderr::line(format_args!("error: --lease: at least 1s"));
        return ExitStatus::InvalidInput;
    }
    let cfg = WorkerConfig {
        reports_dir: std::env::var_os("CONSENTRY_REPORTS_DIR")
            .filter(|v| !v.is_empty())
            .map(PathBuf::from),
        default_reports_dir: super::output::evidence_dir(&db),
        db,
        engine: args.browser.engine_config(),
        name: args.name,
        lease: args.lease,
        poll: args.poll,
        until_empty: args.until_empty,
        start_grace: args.start_grace,
        notify,
    };
    let (cancel, listener) = consentry::engine::cancel_on_signals();
    let result = queue::work(&cfg, cancel, &StderrLog).await;
    listener.abort();
    match result {
        Ok(summary) => {
            super::output::warn_leftover_profiles(&summary.leftover_profiles);
            ExitStatus::Ok
        }
        Err(e) => super::output::audit_failed(&e, |m| m.to_string()),
    }
}

/// A worker's lines, on stderr.
struct StderrLog;

impl queue::WorkerLog for StderrLog {
    fn line(&self, line: std::fmt::Arguments<'_>) {
        consentry::stderr::line(format_args!(
            "{}",
            consentry::text::printable(&line.to_string())
        ));
    }
}

#[derive(Debug, Args)]
pub struct FleetArgs {
    #[command(subcommand)]
    pub command: FleetCommand,
}

#[derive(Debug, Subcommand)]
pub enum FleetCommand {
    /// Where a queued fleet run stands: visits done, sites finished, workers holding jobs.
    Status(StatusArgs),
}

#[derive(Debug, Args)]
pub struct StatusArgs {
    /// The fleet run id (`audit --queue` prints it) [default: the newest queued one].
    #[arg(value_name = "FLEET_RUN")]
    pub fleet_run: Option<i64>,
    /// The database: a SQLite file path, or a PostgreSQL URL [default: $CONSENTRY_DB,
    /// else ./consentry.db].
    #[arg(long, value_name = "PATH|URL")]
    pub db: Option<PathBuf>,
    /// `table` or `json`.
    #[arg(long, default_value = "table", value_parser = ["table", "json"])]
    pub format: String,
}

/// `consentry fleet status`: exit 0 when the fleet run is finished, 3 while it runs, 4
/// when there is no such queued fleet run.
pub(crate) async fn fleet(args: FleetArgs) -> ExitStatus {
    let FleetCommand::Status(args) = args.command;
    let db = match super::db_location(args.db.as_deref()) {
        Ok(l) => l,
        Err(status) => return status,
    };
    if !super::db_exists(&db) {
        consentry::stderr::line(format_args!("error: no database at {db}"));
        return ExitStatus::Error;
    }
    let store = match super::open_read_only(&db).await {
        Ok(s) => s,
        Err(status) => return status,
    };
    let progress = queue::progress(&store, args.fleet_run).await;
    store.close().await;
    let progress = match progress {
        Ok(Some(p)) => p,
        Ok(None) => {
            consentry::stderr::line(format_args!(
                "error: no queued fleet run{} in {db}",
                args.fleet_run
                    .map(|id| format!(" {id}"))
                    .unwrap_or_default()
            ));
            return ExitStatus::Error;
        }
        Err(e) => {
            consentry::stderr::line(format_args!("error: {e}"));
            return ExitStatus::Error;
        }
    };
    let text = if args.format == "json" {
        match serde_json::to_string_pretty(&progress) {
            Ok(t) => t + "\n",
            Err(e) => {
                consentry::stderr::line(format_args!("error: {e}"));
                return ExitStatus::Error;
            }
        }
    } else {
        render(&progress)
    };
    if let Err(status) = super::output::to_stdout(&text) {
        return status;
    }
    if progress.finished_at.is_some() {
        ExitStatus::Ok
    } else {
        ExitStatus::Incomplete
    }
}

fn render(p: &queue::FleetProgress) -> String {
    let printable = consentry::text::printable;
    let mut out = format!(
        "fleet run {} ({}): {}; {}/{} visits done, {}/{} sites finished; started {}\n",
        p.fleet_run,
        printable(&p.name),
        p.status,
        p.visits_done,
        p.visits,
        p.sites_finished,
        p.sites.len(),
        p.started_at.format("%Y-%m-%d %H:%M:%S UTC"),
    );
    if p.workers.is_empty() {
        out.push_str("workers holding jobs: none\n");
    } else {
        out.push_str(&format!(
            "workers holding jobs: {}\n",
            printable(&p.workers.join(", "))
        ));
    }
    for s in &p.sites {
        let mut line = format!(
            "  {:<28} run {:<6} {:<11} {}/{} visits",
            printable(&s.site),
            s.run,
            s.status,
            s.visits_done,
            s.visits
        );
        if s.discovering {
            line.push_str(", discovering pages");
        }
        if !s.leased.is_empty() {
            line.push_str(&format!(", now: {}", printable(&s.leased.join(", "))));
        }
        if s.expired > 0 {
            line.push_str(&format!(
                ", {} lease(s) expired (to be taken again)",
                s.expired
            ));
        }
        if let Some(e) = &s.last_error {
            line.push_str(&format!(", last given back: {}", printable(e)));
        }
        out.push_str(&line);
        out.push('\n');
    }
    out
}

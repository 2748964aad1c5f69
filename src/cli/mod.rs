//! Command line: one module per subcommand, compiled into the binary only (`src/main.rs`;
//! the library never sees clap). Exit codes are decided in [`consentry::exit`].

pub mod ack;
pub mod audit;
mod browser;
#[cfg(feature = "demo")]
pub mod demo_site;
pub mod doctor;
pub mod drift;
pub mod evidence;
pub mod explain;
mod fleet;
pub mod har;
pub mod init;
pub mod map;
mod map_draft;
pub mod migrate;
mod notify;
pub mod output;
mod pdf;
mod progress;
pub mod purge;
mod queue;
pub mod report;
pub mod runs;
pub mod schema;
pub mod validate;
mod values;

use clap::{Parser, Subcommand};
use consentry::exit::ExitStatus;

/// consentry: audit what a site really does against its declared consent map.
#[derive(Debug, Parser)]
#[command(
    name = "consentry",
    version,
    about,
    long_about = None,
    after_help = "Exit codes (docs/exit-codes.md):\n  0  no finding at or above --fail-on\n  1  findings at or above --fail-on\n  2  invalid input (scenario file, policy file, acknowledgements file, flags)\n  3  audit incomplete: a scenario could not be observed, or the run was interrupted (SIGINT, SIGTERM, SIGHUP)\n  4  error: browser or database unusable\n\n`consentry doctor`: 0 when an audit can run, 4 when a check found a problem"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run a site's consent scenarios in real browsers and report findings.
    Audit(audit::AuditArgs),
    /// List stored runs, newest first.
    Runs(runs::RunsArgs),
    /// Re-render a stored run, exactly as its audit printed it.
    Report(report::ReportArgs),
    /// What happened to each finding of a site across its runs (new, persisting, resolved, regressed, unverified).
    Drift(drift::DriftArgs),
    /// The HAR 1.2 of a stored run's visits (headers, status, timings; cookie values hashed, credentials stripped, secrets redacted), for DevTools' Import HAR (docs/reports.md#har-the-network-of-a-visit).
    Har(har::HarArgs),
    /// Bundle a run's reports, screenshots and audited files with a SHA-256 manifest (optionally ed25519-signed) for a regulator or a client, or --verify a bundle (docs/evidence.md).
    Evidence(evidence::EvidenceArgs),
    /// Acknowledge a finding (reason, owner, expiry) in acks.toml beside the scenario file, or --list them.
    Ack(ack::AckArgs),
    /// Bring a database's schema up to this consentry's (`runs`, `report` and `drift` open it read-only and never migrate).
    Migrate(migrate::MigrateArgs),
    /// Delete raw observations older than a retention (default 90d); findings are kept.
    Purge(purge::PurgeArgs),
    /// Can an audit run here? Checks Chromium, chromedriver, the data, the database and the reports directory; names each problem's fix.
    Doctor(doctor::DoctorArgs),
    /// Work the database's queue of fleet runs (`audit FLEET --queue`): lease jobs, visit, judge and store each exactly once (docs/queue.md).
    Worker(queue::WorkerArgs),
    /// Queued fleet runs: `fleet status [ID]` shows visits done, sites finished and the workers holding jobs.
    Fleet(queue::FleetArgs),
    /// Check fleet, scenario, policy and acknowledgements files; reports every problem with file:line:col.
    Validate(validate::ValidateArgs),
    /// What a finding code means: its rule, severity, evidence, and how to fix or acknowledge it (docs/findings.md).
    Explain(explain::ExplainArgs),
    /// Visit a site (no action, then accept all) and draft its scenario file and policy (`NAME.toml`, `NAME.policy.toml`), every entry marked draft for a person to confirm; `--no-visit`: commented starter files.
    Init(init::InitArgs),
    /// The declared map: `map draft --run RUN` drafts a policy from a stored run; `map export POLICY`, `map import FILE.yml` as fideslang, the Fides taxonomy (docs/fideslang.md).
    Map(map::MapArgs),
    /// The JSON Schema of an input file kind (scenario, policy, acks, fleet, profile), for editors: Taplo / Even Better TOML (docs/editors.md).
    Schema(schema::SchemaArgs),
    /// Serve the bundled demo shop and its fake vendors on 127.0.0.1 (HTTPS and HTTP on one port).
    #[cfg(feature = "demo")]
    DemoSite(demo_site::DemoSiteArgs),
    /// A binary built without the `demo` feature has no demo site: say so, not "unrecognized".
    #[cfg(not(feature = "demo"))]
    #[command(hide = true, disable_help_flag = true)]
    DemoSite {
        #[arg(trailing_var_arg = true, allow_hyphen_values = true, hide = true)]
        args: Vec<std::ffi::OsString>,
    },
}

/// `consentry --version`: this version, then one line per data set it runs with
/// ([`consentry::data::DataVersions::lines`]), autoconsent found as an audit in the
/// current directory would find it (`$CONSENTRY_AUTOCONSENT`, the data directory, a
/// checkout's `fixtures/build`), and the knowledge bases likewise.
pub fn long_version() -> String {
    let explicit = std::env::var_os(consentry::cmp::autoconsent::ENV)
        .filter(|v| !v.is_empty())
        .map(std::path::PathBuf::from);
    let data = consentry::data::Lookup::from_process(None)
        .locate()
        .map(|c| c.dir);
    let here = std::env::current_dir()
        .unwrap_or_default()
        .join("scenario.toml");
    let dir = consentry::cmp::autoconsent::candidates(explicit.as_deref(), data.as_deref(), &here)
        .into_iter()
        .find(|d| consentry::cmp::autoconsent::is_bundle_dir(d));
    // The knowledge bases, found as an audit here would find them (notices are for audits).
    let knowledge = consentry::knowledge::locate(data.as_deref(), &here, None)
        .ok()
        .and_then(|k| k.base.versions());
    let v = consentry::data::bundled_versions(dir.as_deref()).with_knowledge(knowledge);
    let mut out = v.consentry.clone();
    for line in v.lines() {
        out.push('\n');
        out.push_str(&line);
    }
    out
}

/// `--format sarif|junit` asked of something that is not one run: exit 2.
fn run_only_format(format: consentry::report::Format, what: &str) -> ExitStatus {
    consentry::stderr::line(format_args!(
        "error: --format {format} describes one run; {what} has no {format} form (audit one scenario file, or `consentry report RUN --format {format}` for each site's run)"
    ));
    ExitStatus::InvalidInput
}

pub async fn run(cli: Cli) -> ExitStatus {
    match cli.command {
        Command::Audit(a) if a.format.is_run_only() && (a.queue || fleet::is_fleet_run(&a)) => {
            run_only_format(a.format, "an audit of several sites (a fleet)")
        }
        Command::Drift(a) if a.format.is_run_only() => run_only_format(a.format, "a drift pack"),
        Command::Audit(a) if a.format.is_printed() && (a.queue || fleet::is_fleet_run(&a)) => {
            consentry::stderr::line(format_args!(
                "error: --format pdf prints one report; a fleet's summary has no pdf form (`consentry report RUN --format pdf` for each site's run, `consentry drift --all --format pdf --output-dir DIR` for the packs)"
            ));
            ExitStatus::InvalidInput
        }
        Command::Audit(a) if a.queue => queue::enqueue(a).await,
        Command::Audit(a) if fleet::is_fleet_run(&a) => fleet::run(a).await,
        Command::Audit(a) => audit::run(a).await,
        Command::Runs(a) => runs::run(a).await,
        Command::Report(a) => report::run(a).await,
        Command::Drift(a) => drift::run(a).await,
        Command::Evidence(a) => evidence::run(a).await,
        Command::Har(a) => har::run(a).await,
        Command::Ack(a) => ack::run(a).await,
        Command::Migrate(a) => migrate::run(a).await,
        Command::Purge(a) => purge::run(a).await,
        Command::Validate(a) => validate::run(a),
        Command::Explain(a) => explain::run(a),
        Command::Schema(a) => schema::run(a),
        Command::Init(a) => init::run(a).await,
        Command::Map(a) => map::run(a).await,
        Command::Doctor(a) => doctor::run(a).await,
        Command::Worker(a) => queue::worker(a).await,
        Command::Fleet(a) => queue::fleet(a).await,
        #[cfg(feature = "demo")]
        Command::DemoSite(a) => demo_site::run(a).await,
        #[cfg(not(feature = "demo"))]
        Command::DemoSite { .. } => {
            consentry::stderr::line(format_args!(
                "error: this consentry was built without the demo site; build it with \
                 `cargo build --features demo` (or run `make demo`)"
            ));
            ExitStatus::InvalidInput
        }
    }
}

/// The database `--db` names, else `$CONSENTRY_DB`, else `./consentry.db`
/// ([`consentry::store::DbLocation`]); a URL of a scheme consentry does not support is
/// exit 2, naming the supported ones.
pub(crate) fn db_location(
    arg: Option<&std::path::Path>,
) -> Result<consentry::store::DbLocation, ExitStatus> {
    consentry::store::DbLocation::from_arg_or_env(arg.map(|p| p.as_os_str())).map_err(|e| {
        let from = if arg.is_some() {
            "--db".to_string()
        } else {
            format!("${}", consentry::store::DB_ENV)
        };
        consentry::stderr::line(format_args!("error: {from}: {e}"));
        ExitStatus::InvalidInput
    })
}

/// Whether the database exists: a SQLite file is there; a PostgreSQL database is
/// assumed to (opening it says otherwise).
pub(crate) fn db_exists(db: &consentry::store::DbLocation) -> bool {
    db.sqlite_path().is_none_or(std::path::Path::exists)
}

/// Open an existing database read-only (`runs`, `report`, `drift`): never created, never
/// migrated, never written (`Store::open_read_only`).
pub(crate) async fn open_read_only(
    db: &consentry::store::DbLocation,
) -> Result<consentry::store::Store, ExitStatus> {
    consentry::store::Store::open_read_only(db)
        .await
        .map_err(|e| {
            consentry::stderr::line(format_args!("error: {e}"));
            ExitStatus::Error
        })
}

/// The database `--db` names (else `$CONSENTRY_DB`, else `./consentry.db`), opened
/// read-only: [`db_location`] then [`open_read_only`], for the commands that only read
/// (`runs`, `report`, `drift`, `har`, `evidence`, `map draft`).
pub(crate) async fn read_only_db(
    arg: Option<&std::path::Path>,
) -> Result<(consentry::store::DbLocation, consentry::store::Store), ExitStatus> {
    let location = db_location(arg)?;
    let store = open_read_only(&location).await?;
    Ok((location, store))
}

/// Open a database that must already exist, for writing (`purge`, `migrate`): it is
/// migrated to this consentry's schema.
pub(crate) async fn open_existing(
    db: &consentry::store::DbLocation,
) -> Result<consentry::store::Store, ExitStatus> {
    if !db_exists(db) {
        consentry::stderr::line(format_args!("error: no database at {db}"));
        return Err(ExitStatus::Error);
    }
    consentry::store::Store::open(db).await.map_err(|e| {
        consentry::stderr::line(format_args!("error: {e}"));
        ExitStatus::Error
    })
}

//! `consentry audit` of several sites (several scenario files, a folder, a fleet file):
//! validate everything first, run [`consentry::pipeline::audit_fleet`], write each site's
//! report under `<reports>/<site>/`, print the fleet summary, return the fleet's verdict
//! (docs/fleet.md).

use super::audit::AuditArgs;
use super::output::emit;
use super::progress::Progress;
use consentry::exit::ExitStatus;
use consentry::outcome::FleetReport;
use consentry::pipeline::{self, FleetConfig};
use consentry::report::{render_fleet, reporter, Format};
use std::path::{Path, PathBuf};

/// Several files, a folder or a fleet file: a fleet run (one scenario file is a
/// single-site audit, [`super::audit`]).
pub(crate) fn is_fleet_run(args: &AuditArgs) -> bool {
    match args.files.as_slice() {
        [one] => one.is_dir() || is_fleet_file(one),
        _ => true,
    }
}

/// Is `path` a fleet file (a TOML file with a `[fleet]` table)?
fn is_fleet_file(path: &Path) -> bool {
    std::fs::read_to_string(path).is_ok_and(|s| consentry::fleet::load::is_fleet_source(&s))
}

pub(crate) async fn run(args: AuditArgs) -> ExitStatus {
    let (fleet, db, limits) = match prepare(&args) {
        Ok(p) => p,
        Err(status) => return status,
    };
    let notify = match super::notify::config(&args.notify, &fleet.notify) {
        Ok(cfg) => cfg,
        Err(status) => return status,
    };
    let reports_dir = reports_dir(&db, &fleet);
    let cfg = FleetConfig {
        scenarios: args.scenarios.clone(),
        fail_on: args.fail_on,
        db: db.clone(),
        engine: args.engine_config(),
        reports_dir: reports_dir.clone(),
        limits,
    };
    let (cancel, listener) = consentry::engine::cancel_on_signals();
    let progress = Progress::new(args.no_progress, true);
    let result = pipeline::audit_fleet(&fleet, &cfg, cancel, &progress).await;
    listener.abort();
    let run = match result {
        Ok(run) => run,
        Err(e) => {
            return super::output::audit_failed(&e, |m| {
                fleet.sites.iter().fold(m.to_string(), |m, site| {
                    site.spec.site.secrets.redact(&m).into_owned()
                })
            })
        }
    };
    super::output::warn_leftover_profiles(&run.leftover_profiles);
    let out = match write_out(
        &run,
        &fleet,
        args.format,
        consentry::report::Grouping::from_flag(args.ungrouped),
        args.output.as_deref(),
        &reports_dir,
    ) {
        Ok(out) => out,
        Err(status) => return status,
    };
    let written: Vec<(&consentry::outcome::AuditReport, u64, Option<String>)> = run
        .sites
        .iter()
        .zip(out.paths)
        .map(|(site, path)| (&site.report, site.active_ms, path))
        .collect();
    let inputs: Vec<consentry::notify::SiteInput<'_>> = written
        .iter()
        .zip(&fleet.sites)
        .map(|((report, _, path), site)| consentry::notify::SiteInput {
            report,
            report_path: path.as_deref(),
            secrets: &site.spec.site.secrets,
        })
        .collect();
    let not_audited: Vec<(&str, usize)> = fleet
        .invalid
        .iter()
        .map(|s| (s.label.as_str(), s.errors))
        .collect();
    let notification = consentry::notify::Notification::of_fleet(
        &run.name,
        run.id,
        run.started_at,
        &inputs,
        &not_audited,
    );
    super::notify::send(
        &db,
        run.id.map(pipeline::About::FleetRun),
        notification.as_ref(),
        &notify,
        run.sites
            .iter()
            .any(|s| matches!(s.report.status, consentry::model::RunStatus::Interrupted(_))),
    )
    .await;
    if out.failed {
        return ExitStatus::Error;
    }
    out.exit
}

/// What a fleet run and a queued fleet both start from: the validated fleet (`--shard`'s
/// share of it), its database, and its per-site limits (`--per-site` and `--repeat` over
/// the file's).
pub(crate) fn prepare(
    args: &AuditArgs,
) -> Result<
    (
        consentry::fleet::FleetSpec,
        consentry::store::DbLocation,
        consentry::fleet::SiteLimits,
    ),
    ExitStatus,
> {
    let mut fleet = load(&args.files, args.acks.as_deref(), args.gvl.as_deref())?;
    if let Some(shard) = args.shard {
        shard.keep_in(&mut fleet);
    }
    let db = database(args.db.as_deref(), &fleet)?;
    let mut limits = fleet.limits;
    if let Some(n) = args.per_site {
        limits.per_site = usize::from(n);
    }
    if let Some(n) = args.repeat {
        limits.repeat = n;
    }
    Ok((fleet, db, limits))
}

/// Load and validate a fleet's inputs (scenario files, a folder, a fleet file), with
/// `--gvl`'s checks applied to each site's map; every problem printed; exit 2 when
/// nothing can be audited.
pub(crate) fn load(
    files: &[PathBuf],
    acks: Option<&Path>,
    gvl: Option<&Path>,
) -> Result<consentry::fleet::FleetSpec, ExitStatus> {
    let env = |name: &str| std::env::var(name).ok();
    let inputs = consentry::fleet::inputs::load_inputs(files, acks, &env);
    let gvl = gvl.map(consentry::policy::gvl::load_gvl).transpose();
    let (mut fleet, gvl) = match (inputs, gvl) {
        (Ok((fleet, diags)), Ok(gvl)) => {
            // The errors here are those of sites that will not be audited.
            consentry::stderr::text(format_args!("{diags}"));
            for site in &fleet.invalid {
                consentry::stderr::line(format_args!(
                    "{}: {} error(s); this site is not audited, the others are",
                    site.scenario_file, site.errors
                ));
            }
            (fleet, gvl)
        }
        (inputs, gvl) => {
            let mut errors = 0;
            for diags in [inputs.err(), gvl.err()].into_iter().flatten() {
                consentry::stderr::text(format_args!("{diags}"));
                errors += diags.errors();
            }
            consentry::stderr::line(format_args!("{errors} error(s); nothing was audited"));
            return Err(ExitStatus::InvalidInput);
        }
    };
    if let Some(gvl) = &gvl {
        for site in &mut fleet.sites {
            let issues = consentry::policy::gvl::lint(&site.spec.policy, gvl);
            for w in consentry::policy::gvl::as_warnings(&issues) {
                consentry::stderr::line(format_args!("{w}"));
            }
            site.spec.policy.map_issues.extend(issues);
        }
    }
    Ok(fleet)
}

/// The database: --db, else $CONSENTRY_DB, else the fleet file's `database`, else
/// ./consentry.db.
pub(crate) fn database(
    arg: Option<&Path>,
    fleet: &consentry::fleet::FleetSpec,
) -> Result<consentry::store::DbLocation, ExitStatus> {
    let env = std::env::var_os(consentry::store::DB_ENV).filter(|v| !v.is_empty());
    match (arg, env, &fleet.database) {
        (None, None, Some(file_db)) => consentry::store::DbLocation::parse(file_db.as_os_str())
            .map_err(|e| {
                consentry::stderr::line(format_args!("error: the fleet file's `database`: {e}"));
                ExitStatus::InvalidInput
            }),
        _ => super::db_location(arg),
    }
}

/// Where the sites' reports go: $CONSENTRY_REPORTS_DIR, else the fleet file's `reports`,
/// else reports/ beside the database.
pub(crate) fn reports_dir(
    db: &consentry::store::DbLocation,
    fleet: &consentry::fleet::FleetSpec,
) -> PathBuf {
    match (
        std::env::var_os("CONSENTRY_REPORTS_DIR").filter(|v| !v.is_empty()),
        &fleet.reports,
    ) {
        (None, Some(dir)) => dir.clone(),
        _ => crate::cli::output::evidence_dir(db),
    }
}

/// What [`write_out`] wrote.
pub(crate) struct Written {
    /// Each site's report file, in `run.sites` order (`None`: could not be written).
    pub paths: Vec<Option<String>>,
    /// The fleet's verdict.
    pub exit: ExitStatus,
    /// Something could not be stored or written (exit 4).
    pub failed: bool,
}

/// Write each site's report under `<reports>/<site>/` and print the fleet summary.
pub(crate) fn write_out(
    run: &consentry::pipeline::FleetRun,
    fleet: &consentry::fleet::FleetSpec,
    format: Format,
    grouping: consentry::report::Grouping,
    output: Option<&Path>,
    reports_dir: &Path,
) -> Result<Written, ExitStatus> {
    let mut storage_failed = !run.storage_errors.is_empty();
    for e in &run.storage_errors {
        consentry::stderr::line(format_args!("error: {}", consentry::text::printable(e)));
    }
    // Each site's full report, in the chosen format, under <reports>/<site>/.
    let mut written: Vec<(&consentry::outcome::AuditReport, u64, Option<String>)> = Vec::new();
    let mut write_failed = false;
    for (site, spec) in run.sites.iter().zip(&fleet.sites) {
        for e in &site.storage_errors {
            let e = spec.spec.site.secrets.redact(e);
            consentry::stderr::line(format_args!(
                "error: {}: {}",
                site.report.site,
                consentry::text::printable(&e)
            ));
            storage_failed = true;
        }
        let path = site_report_path(reports_dir, &site.report.site, format);
        let mut report = site.report.clone();
        consentry::screenshots::paths_relative_to(&mut report, &path);
        let text = reporter(format).render_with(&report, grouping);
        match super::output::write_report(&path, &text) {
            Ok(()) => written.push((
                &site.report,
                site.active_ms,
                Some(path.display().to_string()),
            )),
            Err(e) => {
                consentry::stderr::line(format_args!(
                    "error: cannot write {}: {e}",
                    path.display()
                ));
                write_failed = true;
                written.push((&site.report, site.active_ms, None));
            }
        }
    }
    let fleet_file = fleet.path.as_ref().map(|p| p.display().to_string());
    let summary = FleetReport::of(
        &run.name,
        fleet_file.as_deref(),
        run.id,
        run.started_at,
        run.finished_at,
        &written,
        &fleet
            .invalid
            .iter()
            .map(|s| (s.label.as_str(), s.errors))
            .collect::<Vec<_>>(),
    );
    let text = render_fleet(format, &summary);
    emit(output, &text)?;
    Ok(Written {
        paths: written.into_iter().map(|(_, _, p)| p).collect(),
        exit: summary.exit,
        failed: storage_failed || write_failed,
    })
}

/// `<reports>/<site>/report.<ext>`: the site's slug, so no site name can leave the folder.
fn site_report_path(reports: &Path, site: &str, format: Format) -> PathBuf {
    reports
        .join(consentry::text::slug(site))
        .join(format!("report.{}", super::output::ext(format)))
}

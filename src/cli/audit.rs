//! `consentry audit SCENARIO_FILE`: run the scenarios, record everything as it arrives,
//! judge it, print the report.

use crate::analysis::{analyze, Severity};
use crate::engine::{Engine, EngineConfig};
use crate::exit::{audit_exit, ExitStatus};
use crate::observe::{RunStatus, VisitObservation, VisitStatus};
use crate::report::{reporter, AuditReport, Format, VisitSummary};
use crate::store::{default_db_path, Store};
use chrono::Utc;
use clap::Args;
use futures_util::StreamExt;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::io::IsTerminal;
use std::path::PathBuf;

#[derive(Debug, Args)]
pub struct AuditArgs {
    /// The scenario file (TOML; see docs/scenarios.md).
    #[arg(value_name = "SCENARIO_FILE")]
    pub file: PathBuf,
    /// SQLite database file [default: $CONSENTRY_DB, else ./consentry.db].
    #[arg(long, value_name = "PATH")]
    pub db: Option<PathBuf>,
    /// Output format on stdout.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
    /// Exit 1 when a finding is at or above this severity (info, low, medium, high, critical, never).
    #[arg(long, default_value = "high", value_parser = parse_fail_on)]
    pub fail_on: FailOn,
    /// Scenarios in parallel [default: one per core, at most 4].
    #[arg(long, short = 'j', value_name = "N")]
    pub jobs: Option<usize>,
    /// Use this WebDriver server (e.g. a Selenium Grid) instead of starting chromedriver.
    #[arg(long, value_name = "URL", env = "CONSENTRY_WEBDRIVER")]
    pub webdriver: Option<url::Url>,
    /// chromedriver executable [default: from PATH, then /usr/bin/chromedriver].
    #[arg(long, value_name = "PATH", env = "CONSENTRY_CHROMEDRIVER")]
    pub chromedriver: Option<PathBuf>,
    /// Chromium executable [default: /usr/lib/chromium/chromium, then chromium on PATH].
    #[arg(long, value_name = "PATH", env = "CONSENTRY_CHROMIUM")]
    pub chromium: Option<PathBuf>,
    /// Run only these scenarios (repeatable); default: the file's [run] list.
    #[arg(long = "scenario", short = 's', value_name = "ID")]
    pub scenarios: Vec<String>,
    /// Write the report to this file instead of stdout.
    #[arg(long, short = 'o', value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Never draw a progress bar (one line per scenario on stderr instead).
    #[arg(long)]
    pub no_progress: bool,
}

/// `--fail-on`: a severity, or never.
#[derive(Debug, Clone, Copy)]
pub struct FailOn(pub Option<Severity>);

fn parse_fail_on(s: &str) -> Result<FailOn, String> {
    if s == "never" {
        return Ok(FailOn(None));
    }
    Severity::parse(s).map(|v| FailOn(Some(v))).ok_or_else(|| {
        format!("expected one of info, low, medium, high, critical, never; got {s:?}")
    })
}

pub async fn run(args: AuditArgs) -> ExitStatus {
    let env = |name: &str| std::env::var(name).ok();
    let spec = match crate::scenario::load::load_audit_file_with_warnings(&args.file, &env) {
        Ok((spec, warnings)) => {
            eprint!("{warnings}");
            spec
        }
        Err(diags) => {
            eprint!("{diags}");
            eprintln!(
                "{}: {} error(s); nothing was audited",
                args.file.display(),
                diags.errors()
            );
            return ExitStatus::InvalidInput;
        }
    };
    let selected: Vec<_> = if args.scenarios.is_empty() {
        spec.scenarios.iter().collect()
    } else {
        let mut out = Vec::new();
        for id in &args.scenarios {
            match spec.scenarios.iter().find(|s| &s.id == id) {
                Some(s) => out.push(s),
                None => {
                    let known: Vec<&str> = spec.scenarios.iter().map(|s| s.id.as_str()).collect();
                    eprintln!(
                        "error: {}: no scenario {id:?} (known: {})",
                        args.file.display(),
                        known.join(", ")
                    );
                    return ExitStatus::InvalidInput;
                }
            }
        }
        out
    };

    let db_path = args.db.clone().unwrap_or_else(default_db_path);
    let store = match Store::open(&db_path).await {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitStatus::Error;
        }
    };
    let cfg = EngineConfig {
        jobs: args.jobs.unwrap_or(0),
        webdriver: args.webdriver.clone(),
        chromedriver: args.chromedriver.clone(),
        chromium: args.chromium.clone(),
    };
    let engine = match Engine::start(&cfg).await {
        Ok(e) => e,
        Err(e) => {
            eprintln!("error: {e:#}");
            return ExitStatus::Error;
        }
    };
    let started_at = Utc::now();
    let file_label = args.file.display().to_string();
    let run_id = match store
        .begin_run(&spec.site.name, &file_label, started_at)
        .await
    {
        Ok(id) => id,
        Err(e) => {
            eprintln!("error: {e}");
            engine.shutdown().await;
            return ExitStatus::Error;
        }
    };

    let (cancel_tx, cancel_rx) = tokio::sync::watch::channel(false);
    let ctrl_c = tokio::spawn(async move {
        if tokio::signal::ctrl_c().await.is_ok() {
            eprintln!("interrupted: closing browsers and recording what was observed...");
            let _ = cancel_tx.send(true);
        }
    });

    let progress = Progress::new(selected.len() as u64, args.no_progress);
    progress.message(&format!(
        "auditing {} ({} scenario(s), {} at a time)",
        spec.site.name,
        selected.len(),
        engine.jobs()
    ));
    let mut observations: Vec<VisitObservation> = Vec::new();
    let mut storage_failed = false;
    {
        let mut stream = std::pin::pin!(engine.run(&spec, selected.clone(), cancel_rx.clone()));
        while let Some(obs) = stream.next().await {
            if let Err(e) = store.record_visit(run_id, &obs).await {
                eprintln!("error: could not record scenario {}: {e}", obs.scenario);
                storage_failed = true;
            }
            progress.visit_done(&obs);
            observations.push(obs);
        }
    }
    for dir in engine.shutdown().await {
        eprintln!("warning: could not delete browser profile {dir}");
    }
    progress.finish();
    let interrupted = *cancel_rx.borrow();
    ctrl_c.abort();

    // Report scenarios in the order the file lists them.
    observations.sort_by_key(|o| selected.iter().position(|s| s.id == o.scenario));
    let findings = analyze(&spec.site, &spec.policy, &observations);
    if let Err(e) = store.record_findings(run_id, &findings).await {
        eprintln!("error: could not record findings: {e}");
        storage_failed = true;
    }
    let not_observed: Vec<&str> = observations
        .iter()
        .filter(|o| matches!(o.status, VisitStatus::Incomplete(_)))
        .map(|o| o.scenario.as_str())
        .collect();
    let status = if interrupted {
        RunStatus::Interrupted("interrupted by the user (Ctrl-C)".into())
    } else if !not_observed.is_empty() {
        RunStatus::Incomplete(format!("not observed: {}", not_observed.join(", ")))
    } else {
        RunStatus::Complete
    };
    let finished_at = Utc::now();
    if let Err(e) = store.finish_run(run_id, &status, finished_at).await {
        eprintln!("error: could not record the run's end: {e}");
        storage_failed = true;
    }

    let report = AuditReport {
        run_id: Some(run_id),
        site: spec.site.name.clone(),
        scenario_file: file_label,
        started_at,
        finished_at,
        status,
        visits: observations
            .iter()
            .map(|o| VisitSummary::from_observation(o, &spec.site))
            .collect(),
        findings,
        fail_on: args.fail_on.0,
        db_path: Some(db_path.display().to_string()),
    };
    let text = reporter(args.format).render(&report);
    match &args.output {
        Some(path) => {
            if let Err(e) = write_report(path, &text) {
                eprintln!("error: cannot write {}: {e}", path.display());
                return ExitStatus::Error;
            }
            eprintln!("report written to {}", path.display());
        }
        None => print!("{text}"),
    }
    if storage_failed {
        return ExitStatus::Error;
    }
    audit_exit(&report)
}

fn write_report(path: &std::path::Path, text: &str) -> std::io::Result<()> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)?;
    }
    std::fs::write(path, text)
}

/// A progress bar on a terminal; one line per scenario otherwise (CI logs).
struct Progress {
    bar: Option<ProgressBar>,
}

impl Progress {
    fn new(total: u64, disabled: bool) -> Progress {
        let tty = std::io::stderr().is_terminal();
        let bar = (tty && !disabled).then(|| {
            let b = ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::stderr());
            if let Ok(style) = ProgressStyle::with_template(
                "{spinner} [{elapsed_precise}] {bar:30} {pos}/{len} {msg}",
            ) {
                b.set_style(style);
            }
            b.enable_steady_tick(std::time::Duration::from_millis(120));
            b
        });
        Progress { bar }
    }

    fn message(&self, msg: &str) {
        match &self.bar {
            Some(b) => b.set_message(msg.to_string()),
            None => eprintln!("{msg}"),
        }
    }

    fn visit_done(&self, obs: &VisitObservation) {
        let secs = (obs.finished_at - obs.started_at).num_milliseconds() as f64 / 1000.0;
        let line = match &obs.status {
            VisitStatus::Complete => format!(
                "{}: observed ({} requests, {} cookies, {secs:.1} s)",
                obs.scenario,
                obs.requests.len(),
                obs.cookies.len()
            ),
            VisitStatus::Incomplete(reason) => {
                format!("{}: NOT OBSERVED: {reason} ({secs:.1} s)", obs.scenario)
            }
        };
        match &self.bar {
            Some(b) => {
                b.println(&line);
                b.inc(1);
            }
            None => eprintln!("{line}"),
        }
    }

    fn finish(&self) {
        if let Some(b) = &self.bar {
            b.finish_and_clear();
        }
    }
}

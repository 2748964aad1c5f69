//! Runs scenarios: one fresh browser profile each, bounded concurrency, and always a
//! clean close (on success, on error and on Ctrl-C).
//!
//! Per scenario: start session + capture -> load the first page -> settle -> (the file's
//! `[login]`: its steps, its check, the first page again) -> steps
//! (the network is settled before each consent step, then the consent state changes)
//! -> settle -> the other pages -> leave the page (so `pagehide` beacons fire) -> settle
//! -> read the cookie jar -> close. A scenario that cannot be performed is recorded as
//! [`crate::model::VisitStatus::Incomplete`] with the reason, never as clean.
//!
//! A visit is two values:
//! - `driver::DriverState`: what drives the browser (the scenario, the consent state in
//!   force and an action under way, the page's start and autoconsent mark, the CMP
//!   profile running, its banner, the screenshot switch, whether the next settle
//!   continues the last one);
//! - `record::VisitRecord`: what was recorded (steps, warnings, timings, the failure,
//!   page signals, consent transitions, CMP actions, screenshots); it only grows.
//!
//! Data flows one way: the step functions (`steps`, `cmp`, `profile`, `shots`, `probe`,
//! `gpc`, over `locate` and `verdicts`) read the driver state and return what they saw;
//! the driving loop
//! (`drive::Run`) is the only code that changes the driver state or writes the record;
//! `run_scenario_in` owns both (so an interrupted visit keeps what was recorded), and
//! `observation.rs` turns the record into the [`VisitObservation`].

mod cmp;
mod discover;
mod drive;
mod driver;
mod gpc;
mod heuristic;
mod locate;
mod observation;
mod pace;
mod pool;
mod probe;
mod profile;
mod record;
mod shots;
mod steps;
mod verdicts;

pub use discover::{discover, discover_with};
pub use pace::Pace;

use drive::Run;
use driver::DriverState;
use pool::{options_for, start_fresh, start_reused, BrowserPool, Started};
use record::VisitRecord;

use crate::browser::{BrowserConfig, Chromedriver};
use crate::capture::Captured;
use crate::model::{ConsentState, Failure, FailureKind, ValueHasher, VisitObservation};
use crate::scenario::{AuditSpec, Scenario};
use anyhow::Result;
use chrono::Utc;
use futures_util::stream::{self, FuturesUnordered, Stream, StreamExt};
use std::path::PathBuf;
use std::time::Instant;
use tokio::sync::watch;

/// How to get browsers and how many to run at once.
#[derive(Debug, Clone, Default)]
pub struct EngineConfig {
    /// Scenarios in parallel; 0 = [`default_jobs`].
    pub jobs: usize,
    /// Use this WebDriver (e.g. a Selenium Grid) instead of starting chromedriver.
    pub webdriver: Option<url::Url>,
    pub chromedriver: Option<PathBuf>,
    pub chromium: Option<PathBuf>,
    /// Directory with autoconsent's bundle and rules (`--autoconsent DIR`); `None`: the
    /// default places ([`crate::cmp::autoconsent::locate`]). Loaded only when a scenario
    /// has `[cmp] auto = true`.
    pub autoconsent: Option<PathBuf>,
    /// The data directory (`--data-dir`); `None`: the lookup order of [`crate::data`].
    pub data_dir: Option<PathBuf>,
    /// A vendor set of the user's (`--vendor-db PATH`, third-party-web's entity shape),
    /// consulted before the bundled knowledge (docs/knowledge.md).
    pub vendor_db: Option<PathBuf>,
    /// A new browser and profile per scenario (the behaviour before browser reuse).
    /// Always the case with [`EngineConfig::webdriver`].
    pub fresh_browser: bool,
    /// Take no screenshots around consent actions (`--no-screenshots`).
    pub no_screenshots: bool,
}

impl EngineConfig {
    /// autoconsent's bundle for `[cmp] auto = true`, found as docs/packaging.md says:
    /// `autoconsent` (--autoconsent), else the data directory's (`data_dir`, then the
    /// process's lookup), else a checkout's `fixtures/build` beside `scenario_file`.
    pub fn locate_autoconsent(
        &self,
        scenario_file: &std::path::Path,
    ) -> Result<crate::cmp::autoconsent::Bundle, String> {
        crate::cmp::autoconsent::locate(
            self.autoconsent.as_deref(),
            crate::data::Lookup::from_process(self.data_dir.as_deref())
                .locate()
                .map(|c| c.dir)
                .as_deref(),
            scenario_file,
        )
    }

    /// The vendor and cookie knowledge bases, found as autoconsent is (the data
    /// directory's `knowledge/`, else a checkout's `fixtures/build/knowledge` beside
    /// `scenario_file`), with `vendor_db`. Missing bundled sets are notices; an unreadable
    /// `vendor_db` is the error.
    pub fn load_knowledge(
        &self,
        scenario_file: &std::path::Path,
    ) -> Result<crate::knowledge::Loaded, String> {
        crate::knowledge::locate(
            crate::data::Lookup::from_process(self.data_dir.as_deref())
                .locate()
                .map(|c| c.dir)
                .as_deref(),
            scenario_file,
            self.vendor_db.as_deref(),
        )
    }
}

/// Parallel scenarios this machine sustains: one per core, at most 4 (each Chromium
/// needs ~1.4 CPU-seconds per scenario; throughput flattens beyond that, see bench/).
pub fn default_jobs() -> usize {
    std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(2)
        .clamp(1, 4)
}

/// A cancellation signal shared by every running scenario (set on Ctrl-C).
pub type Cancel = watch::Receiver<bool>;

/// A cancellation that fires on SIGINT (Ctrl-C), SIGTERM or SIGHUP: schedulers and CI
/// time-outs stop jobs with SIGTERM, closed terminals with SIGHUP. The audit then closes
/// its browsers, records what it observed and reports the run as interrupted. Abort the
/// returned task once the audit is over.
pub fn cancel_on_signals() -> (Cancel, tokio::task::JoinHandle<()>) {
    let (tx, rx) = watch::channel(false);
    let task = tokio::spawn(async move {
        let name = wait_for_signal().await;
        crate::stderr::line(format_args!(
            "interrupted ({name}): closing browsers and recording what was observed..."
        ));
        let _ = tx.send(true);
    });
    (rx, task)
}

#[cfg(unix)]
async fn wait_for_signal() -> &'static str {
    use tokio::signal::unix::{signal, SignalKind};
    let (Ok(mut term), Ok(mut hup)) = (
        signal(SignalKind::terminate()),
        signal(SignalKind::hangup()),
    ) else {
        let _ = tokio::signal::ctrl_c().await;
        return "SIGINT";
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => "SIGINT",
        _ = term.recv() => "SIGTERM",
        _ = hup.recv() => "SIGHUP",
    }
}

#[cfg(not(unix))]
async fn wait_for_signal() -> &'static str {
    let _ = tokio::signal::ctrl_c().await;
    "Ctrl-C"
}

async fn cancelled(mut rx: Cancel) {
    loop {
        if *rx.borrow_and_update() {
            return;
        }
        if rx.changed().await.is_err() {
            // Sender gone without cancelling: never cancelled.
            std::future::pending::<()>().await;
        }
    }
}

/// One unit of work: a scenario of a site, and its place in the site's run order.
#[derive(Debug, Clone, Copy)]
pub struct Job<'a> {
    pub spec: &'a AuditSpec,
    pub scenario: &'a Scenario,
    pub position: usize,
    /// Which site of the run it belongs to (an index the caller chooses): at most
    /// `per_site` jobs of one site run at once ([`Engine::run`]).
    pub site: usize,
    /// Spaces the page loads of the job's site, shared by its jobs.
    pub pace: Option<&'a Pace>,
}

pub struct Engine {
    browser: BrowserConfig,
    driver: Option<Chromedriver>,
    jobs: usize,
    autoconsent: Option<crate::cmp::autoconsent::Bundle>,
    /// Idle browsers to reuse (one fresh browser context per scenario); `None`: a fresh
    /// browser per scenario.
    pool: Option<BrowserPool>,
    /// Screenshots before and after each consent action.
    shots: bool,
    /// Hashes the values every capture sees: the audited database's key.
    hasher: ValueHasher,
}

/// What every visit of an engine is run with: the browser, autoconsent's bundle, whether
/// to take screenshots, and the hasher of the audited database.
struct VisitKit<'a> {
    browser: &'a BrowserConfig,
    autoconsent: Option<&'a crate::cmp::autoconsent::Bundle>,
    shots: bool,
    hasher: &'a ValueHasher,
}

impl Engine {
    /// Start chromedriver (unless a WebDriver URL is given). Every capture hashes the
    /// values it sees with `hasher` (the key of the database the visits are written to).
    pub async fn start(cfg: &EngineConfig, hasher: ValueHasher) -> Result<Engine> {
        let jobs = if cfg.jobs == 0 {
            default_jobs()
        } else {
            cfg.jobs
        };
        let (driver, browser) = match &cfg.webdriver {
            Some(url) => {
                // Fail at start, naming the URL, when nothing answers there (exit 4, as
                // for a missing chromedriver); a Grid that answers but cannot give a
                // session makes each scenario not observed, with the reason.
                crate::browser::remote::check_reachable(url).await?;
                (None, BrowserConfig::new(url.clone(), false, None))
            }
            None => {
                let d = Chromedriver::spawn(cfg.chromedriver.as_deref()).await?;
                let b = BrowserConfig::new(d.url.clone(), true, cfg.chromium.clone());
                (Some(d), b)
            }
        };
        // Remote WebDriver: a fresh session each time (a Grid may route every session to
        // another node, and its DevTools proxy is not known to handle browser contexts).
        let pool = (!cfg.fresh_browser && driver.is_some()).then(|| BrowserPool::new(jobs));
        Ok(Engine {
            browser,
            driver,
            jobs,
            autoconsent: None,
            pool,
            shots: !cfg.no_screenshots,
            hasher,
        })
    }

    /// The autoconsent bundle injected into scenarios that use it (`[cmp] auto = true`).
    pub fn set_autoconsent(&mut self, bundle: Option<crate::cmp::autoconsent::Bundle>) {
        self.autoconsent = bundle;
    }

    pub fn jobs(&self) -> usize {
        self.jobs
    }

    /// Run these jobs, `jobs` at a time (one bound shared by every site); yields each
    /// job with its observation as it completes.
    pub fn run<'a>(
        &'a self,
        jobs: Vec<Job<'a>>,
        per_site: usize,
        cancel: Cancel,
    ) -> impl Stream<Item = (Job<'a>, VisitObservation)> + 'a {
        if let Some(pool) = &self.pool {
            pool.plan(&jobs, self.autoconsent.as_ref());
        }
        let queue: std::collections::VecDeque<(usize, Job<'a>)> =
            jobs.into_iter().enumerate().collect();
        let sched = Schedule {
            queue,
            running: FuturesUnordered::new(),
            active: std::collections::HashMap::new(),
        };
        let (limit, per_site) = (self.jobs.max(1), per_site.max(1));
        stream::unfold(sched, move |mut s| {
            let cancel = cancel.clone();
            async move {
                // Start what may start: the first queued jobs whose site is below its
                // limit, while a job slot is free.
                while s.running.len() < limit {
                    let Some(i) = s
                        .queue
                        .iter()
                        .position(|(_, j)| s.active.get(&j.site).copied().unwrap_or(0) < per_site)
                    else {
                        break;
                    };
                    let Some((id, job)) = s.queue.remove(i) else {
                        break;
                    };
                    *s.active.entry(job.site).or_insert(0) += 1;
                    s.running
                        .push(Box::pin(self.visit(id, job, cancel.clone())));
                }
                let (job, obs) = s.running.next().await?;
                if let Some(n) = s.active.get_mut(&job.site) {
                    *n = n.saturating_sub(1);
                }
                Some(((job, obs), s))
            }
        })
    }

    /// Run one job on its own, outside [`Engine::run`]'s schedule (a queue worker's:
    /// docs/queue.md). Several may run at once; a pooled browser is reused when one is
    /// idle, with a fresh browser context as always, but no context is prepared ahead
    /// (nothing is known of the next job).
    pub async fn visit_one(&self, job: Job<'_>, cancel: Cancel) -> VisitObservation {
        self.visit(usize::MAX, job, cancel).await.1
    }

    /// One job, `id` its place in the engine's queue.
    async fn visit<'a>(
        &'a self,
        id: usize,
        job: Job<'a>,
        cancel: Cancel,
    ) -> (Job<'a>, VisitObservation) {
        let kit = VisitKit {
            browser: &self.browser,
            autoconsent: self.autoconsent.as_ref(),
            shots: self.shots,
            hasher: &self.hasher,
        };
        let pool = self.pool.as_ref().map(|p| (p, id));
        let obs = run_scenario_in(&kit, pool, job.spec, job.scenario, job.pace, cancel).await;
        (job, obs)
    }

    pub async fn shutdown(self) -> Vec<String> {
        if let Some(pool) = &self.pool {
            let closes = pool.drain().into_iter().map(|s| s.close());
            let _ = futures_util::future::join_all(closes).await;
        }
        if let Some(d) = self.driver {
            d.shutdown().await;
        }
        crate::browser::sweep_profiles(&self.browser)
    }
}

/// A visit of `scenario` that never ran, not observed for `failure` (a queue worker's
/// verdict on a visit no worker could finish, docs/queue.md): the same shape as a visit
/// that failed before its browser started.
pub fn not_observed(spec: &AuditSpec, scenario: &Scenario, failure: Failure) -> VisitObservation {
    let record = VisitRecord {
        failure: Some(failure),
        ..VisitRecord::default()
    };
    record.into_observation(
        spec,
        scenario,
        ConsentState::initial(),
        Utc::now(),
        Captured::default(),
        Vec::new(),
    )
}

/// Run one scenario in a fresh profile. Never fails: problems become an incomplete visit.
/// Screenshots around consent actions are taken and left in the observation's
/// `screenshots` as PNG bytes ([`crate::screenshots::save_visit`] writes them). Values
/// are hashed with `hasher`.
pub async fn run_scenario(
    browser: &BrowserConfig,
    spec: &AuditSpec,
    scenario: &Scenario,
    autoconsent: Option<&crate::cmp::autoconsent::Bundle>,
    cancel: Cancel,
    hasher: &ValueHasher,
) -> VisitObservation {
    let kit = VisitKit {
        browser,
        autoconsent,
        shots: true,
        hasher,
    };
    run_scenario_in(&kit, None, spec, scenario, None, cancel).await
}

/// A visit under way: its job and, when done, its observation.
type VisitFuture<'a> =
    std::pin::Pin<Box<dyn std::future::Future<Output = (Job<'a>, VisitObservation)> + 'a>>;

/// The engine's queue while it runs: jobs waiting, visits under way, and how many of
/// each site are under way.
struct Schedule<'a> {
    queue: std::collections::VecDeque<(usize, Job<'a>)>,
    running: FuturesUnordered<VisitFuture<'a>>,
    active: std::collections::HashMap<usize, usize>,
}

/// Run one scenario: in a fresh browser context of a pooled browser when `pool` is given,
/// else in a fresh browser and profile. Never fails: problems become an incomplete visit.
/// `pool` comes with the job's place in the engine's queue; `pace` spaces the site's
/// page loads.
async fn run_scenario_in(
    kit: &VisitKit<'_>,
    pool: Option<(&BrowserPool, usize)>,
    spec: &AuditSpec,
    scenario: &Scenario,
    pace: Option<&Pace>,
    cancel: Cancel,
) -> VisitObservation {
    let VisitKit {
        browser,
        autoconsent,
        shots,
        hasher,
    } = *kit;
    let started_at = Utc::now();
    let mut driver = DriverState::new(spec, scenario, shots);
    driver.pace = pace;
    let mut record = VisitRecord::default();
    // Before the browser runs: nothing happened, the consent state is the initial one.
    let incomplete = |mut record: VisitRecord, failure: Failure| {
        record.failure = Some(failure);
        record.into_observation(
            spec,
            scenario,
            ConsentState::initial(),
            started_at,
            Captured::default(),
            Vec::new(),
        )
    };

    let t = Instant::now();
    let (position, pool) = (pool.map(|p| p.1), pool.map(|p| p.0));
    let options = options_for(spec, scenario);
    let page_script = if scenario.uses_autoconsent() {
        match autoconsent {
            Some(b) => Some(b.source.clone()),
            None => {
                return incomplete(
                    record,
                    Failure::new(
                        FailureKind::Other,
                        "the scenario uses `[cmp] auto = true` but no autoconsent bundle was loaded \
                         (run `make fixtures`, or pass --autoconsent DIR)",
                    ),
                );
            }
        }
    } else {
        None
    };
    let start = async {
        match pool {
            Some(pool) => {
                start_reused(browser, pool, position, &options, page_script, hasher).await
            }
            None => start_fresh(browser, &options, page_script, hasher).await,
        }
    };
    let started = tokio::select! {
        s = start => s,
        _ = cancelled(cancel.clone()) => return incomplete(record, Failure::new(FailureKind::Cancelled, "interrupted before the browser started")),
    };
    let Started {
        session,
        capture,
        next,
    } = match started {
        Ok(s) => s,
        Err(f) => return incomplete(record, f),
    };
    record.timings.session_start_ms = t.elapsed().as_millis() as u64;
    // What a request URL bounded by capture keeps is of its redacted form.
    capture.set_secrets(spec.site.secrets.clone());

    let body = Run {
        driver: &mut driver,
        record: &mut record,
        session: &session,
        capture: &capture,
    }
    .drive();
    let interrupted = tokio::select! {
        _ = body => false,
        _ = cancelled(cancel.clone()) => true,
    };
    if interrupted {
        // A consent action under way counts as taken, in the state it declares (the
        // driver's state): what the page did after it is in that phase.
        record.transitions.extend(driver.acting.take());
        record.failure = Some(Failure::new(
            FailureKind::Cancelled,
            "interrupted by a signal while running",
        ));
    }

    let t = Instant::now();
    let cookies = match capture.stored_cookies().await {
        Ok(c) => c,
        Err(e) => {
            record.failure.get_or_insert_with(|| {
                Failure::new(
                    FailureKind::CaptureUnavailable,
                    format!("cookie jar unreadable: {e:#}"),
                )
            });
            Vec::new()
        }
    };
    // A crash explains whatever step, page or cookie read failed after it: say it first.
    let crashed = capture.crashed();
    if let Some(c) = &crashed {
        let page = capture.page();
        let reason = match record.failure.take() {
            Some(f) => format!("{c} on {page}; then: {f}"),
            None => format!("{c} on {page}"),
        };
        record.failure = Some(Failure::new(FailureKind::BrowserCrashed, reason));
    }
    // What the browser reported before now is recorded, not dropped with the capture
    // (an interrupted visit ends at once).
    let behind = match interrupted {
        true => 0,
        false => capture.drain(crate::capture::DRAIN_LIMIT).await,
    };
    if behind > 0 {
        record.warnings.push(format!(
            "{behind} DevTools event(s) the browser sent were not handled within {}s when the visit ended (the page kept capture busy): what they reported is missing",
            crate::capture::DRAIN_LIMIT.as_secs()
        ));
    }
    // Disposing of the context is closing, for a reused browser.
    let (captured, disposed, t) = match pool {
        Some(_) => {
            record.timings.capture_ms += t.elapsed().as_millis() as u64;
            let t = Instant::now();
            let (c, d) = capture.finish_context().await;
            (c, Some(d), t)
        }
        None => {
            let c = capture.finish();
            record.timings.capture_ms += t.elapsed().as_millis() as u64;
            (c, None, Instant::now())
        }
    };
    match (pool, disposed) {
        // Reuse the browser unless something went wrong with it.
        (Some(pool), Some(Ok(()))) if crashed.is_none() && !interrupted => {
            if let Some(extra) = pool.put(&options, session, next) {
                if let Err(e) = extra.close().await {
                    record.warnings.push(format!("{e:#}"));
                }
            }
        }
        (_, disposed) => {
            drop(next);
            if let Some(Err(e)) = disposed {
                record.warnings.push(format!("{e:#}"));
            }
            if let Err(e) = session.close().await {
                record.warnings.push(format!("{e:#}"));
            }
        }
    }
    record.timings.close_ms = t.elapsed().as_millis() as u64;

    record.into_observation(spec, scenario, driver.state, started_at, captured, cookies)
}

//! Runs scenarios: one fresh browser profile each, bounded concurrency, and always a
//! clean close (on success, on error and on Ctrl-C).
//!
//! Per scenario: start session + capture -> load the first page -> settle -> steps
//! (the network is settled before each consent step, then the consent state changes)
//! -> settle -> the other pages -> leave the page (so `pagehide` beacons fire) -> settle
//! -> read the cookie jar -> close. A scenario that cannot be performed is recorded as
//! [`VisitStatus::Incomplete`] with the reason, never as clean.

mod cmp;
mod gpc;
mod locate;
mod observation;
mod pool;
mod probe;
mod profile;
mod shots;
mod steps;
mod verdicts;

use steps::*;
use verdicts::*;

use cmp::*;
use gpc::*;
use pool::*;

use crate::browser::{BrowserConfig, Chromedriver, Session};
use crate::capture::{Capture, Captured};
use crate::cmp::{CmpAction, EffectsFrom, Method, Readback};
use crate::model::{ConsentAction, ConsentEffect};
use crate::model::{
    ConsentState, Failure, FailureKind, Settle, SettleEnd, StepOutcome, StepStatus,
    VisitObservation, VisitTimings,
};
use crate::scenario::{Action, AuditSpec, AutoConsent, Scenario, Step};
use crate::signals::{SignalData, SignalObs, SignalSource};
use anyhow::Result;
use chrono::Utc;
use fantoccini::Locator;
use futures_util::stream::{self, Stream, StreamExt};
use serde_json::{json, Value};
use std::path::PathBuf;
use std::time::{Duration, Instant};
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
    /// A new browser and profile per scenario (the behaviour before browser reuse).
    /// Always the case with [`EngineConfig::webdriver`].
    pub fresh_browser: bool,
    /// Take no screenshots around consent actions (`--no-screenshots`).
    pub no_screenshots: bool,
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
        eprintln!("interrupted ({name}): closing browsers and recording what was observed...");
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

/// One unit of work: a scenario of a site, and its place in the run order.
#[derive(Debug, Clone, Copy)]
pub struct Job<'a> {
    pub spec: &'a AuditSpec,
    pub scenario: &'a Scenario,
    pub position: usize,
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
    hasher: crate::model::ValueHasher,
}

impl Engine {
    /// Start chromedriver (unless a WebDriver URL is given). Every capture hashes the
    /// values it sees with `hasher` (the key of the database the visits are written to).
    pub async fn start(cfg: &EngineConfig, hasher: crate::model::ValueHasher) -> Result<Engine> {
        let jobs = if cfg.jobs == 0 {
            default_jobs()
        } else {
            cfg.jobs
        };
        let (driver, browser) = match &cfg.webdriver {
            Some(url) => (None, BrowserConfig::new(url.clone(), false, None)),
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
        cancel: Cancel,
    ) -> impl Stream<Item = (Job<'a>, VisitObservation)> + 'a {
        if let Some(pool) = &self.pool {
            pool.plan(&jobs, self.autoconsent.as_ref());
        }
        stream::iter(jobs)
            .map(move |job| {
                let cancel = cancel.clone();
                async move {
                    let obs = run_scenario_in(
                        &self.browser,
                        self.pool.as_ref().map(|p| (p, job.position)),
                        job.spec,
                        job.scenario,
                        self.autoconsent.as_ref(),
                        cancel,
                        self.shots,
                        &self.hasher,
                    )
                    .await;
                    (job, obs)
                }
            })
            .buffer_unordered(self.jobs)
    }

    /// Stop chromedriver and any browser it still has, then delete what is left of the
    /// profiles. Returns the profile directories that could not be deleted.
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

/// Accumulates what a scenario did while it runs.
struct Visit<'a> {
    spec: &'a AuditSpec,
    scenario: &'a Scenario,
    state: ConsentState,
    steps: Vec<StepOutcome>,
    warnings: Vec<String>,
    timings: VisitTimings,
    failure: Option<Failure>,
    /// Consent signals read in the page (request-borne ones are added by the pipeline).
    signals: Vec<crate::signals::SignalObs>,
    /// When each consent action took effect, and the state in force before it.
    transitions: Vec<(chrono::DateTime<Utc>, ConsentState)>,
    /// How each consent action was performed and what the CMP recorded.
    cmp: Vec<CmpAction>,
    /// When the current top-level page started loading, and the autoconsent messages
    /// that had arrived by then (those of earlier documents).
    page_started: Instant,
    page_mark: usize,
    /// The CMP profile whose flow is running (its consent step's method says so).
    profile_in_use: Option<String>,
    /// The consent banner's selector path, to see a re-prompt: `[cmp].banner`, else the
    /// banner of the CMP profile used.
    banner: Option<String>,
    /// Take screenshots around consent actions, and those taken ([`shots`]).
    shots: bool,
    screenshots: Vec<crate::model::Screenshot>,
    /// Nothing was done to the page (no navigation, click, script) since the last settle
    /// ended without timing out: the next settle continues it
    /// ([`Capture::settle_continued`]) instead of serving a fresh grace.
    untouched: bool,
}

impl Visit<'_> {
    /// Wait for the page to settle ([`Capture::settle`], or [`Capture::settle_continued`]
    /// when nothing was done to the page since the last settle) and record which signal
    /// ended it.
    async fn settle(&mut self, capture: &Capture, why: &str) {
        let b = &self.spec.browser;
        let out = if self.untouched {
            capture
                .settle_continued(b.settle_quiet, b.settle_timeout)
                .await
        } else {
            capture.settle(b.settle_quiet, b.settle_timeout).await
        };
        self.untouched = out.ended != SettleEnd::Timeout;
        if out.ended == SettleEnd::Timeout {
            let shown: Vec<&str> = out.pending.iter().take(3).map(String::as_str).collect();
            self.warnings.push(format!(
                "network not idle within {:?} {why}; still waiting for {} request(s): {}",
                b.settle_timeout,
                out.pending.len(),
                shown.join(", ")
            ));
        }
        let ms = out.elapsed.as_millis() as u64;
        self.timings.settle_ms += ms;
        self.timings.settles.push(Settle {
            why: why.to_string(),
            ms,
            ended: out.ended,
        });
    }

    async fn load(
        &mut self,
        session: &Session,
        capture: &Capture,
        url: &url::Url,
    ) -> Result<(), Failure> {
        capture.set_page(url.as_str());
        self.untouched = false;
        let t = Instant::now();
        self.page_started = t;
        self.page_mark = capture.autoconsent_mark();
        let limit = self.spec.browser.page_load_timeout + Duration::from_secs(5);
        let res = tokio::time::timeout(limit, session.client.goto(url.as_str())).await;
        self.timings.load_ms += t.elapsed().as_millis() as u64;
        match res {
            Ok(Ok(())) => {}
            Ok(Err(e)) => {
                let kind = if is_timeout(&e) {
                    FailureKind::PageLoadTimeout
                } else {
                    FailureKind::NavigationFailed
                };
                return Err(Failure::new(
                    kind,
                    format!("page {url} could not be loaded: {e}"),
                ));
            }
            Err(_) => {
                return Err(Failure::new(
                    FailureKind::PageLoadTimeout,
                    format!("page {url} did not load within {limit:?}"),
                ))
            }
        }
        self.settle(capture, &format!("after loading {url}")).await;
        check_document(capture, url, &mut self.warnings)?;
        self.probe_signals(session, capture).await;
        let t = Instant::now();
        self.banner_again(session, capture).await;
        self.timings.capture_ms += t.elapsed().as_millis() as u64;
        Ok(())
    }

    /// The consent state in force at `t` (before the first action that took effect after
    /// it, the state before that action).
    fn state_at(&self, t: chrono::DateTime<Utc>) -> ConsentState {
        self.transitions
            .iter()
            .find(|(at, _)| t < *at)
            .map(|(_, before)| before.clone())
            .unwrap_or_else(|| self.state.clone())
    }

    async fn step(
        &mut self,
        session: &Session,
        capture: &Capture,
        step: &Step,
        index: usize,
    ) -> Result<(), Failure> {
        let before = self.state.clone();
        if let Some(action) = step.consent {
            // Settle first, so nothing from before the click is counted after it.
            self.settle(capture, "before a consent action").await;
            self.shoot(session, capture, index, action, shots::Before)
                .await;
            self.state = self.state.apply(action, &step.records);
            self.transitions.push((Utc::now(), before.clone()));
        }
        let timeout = step.timeout.unwrap_or(self.spec.browser.step_timeout);
        let t = Instant::now();
        let (settle0, load0, steps0) = (
            self.timings.settle_ms,
            self.timings.load_ms,
            self.timings.steps_ms,
        );
        // Waiting for an element only reads the page; every other step may act on it.
        if !matches!(step.action, Action::WaitFor(_)) {
            self.untouched = false;
        }
        let (performed, res) = match &step.action {
            Action::Autoconsent(auto) => self.autoconsent(session, capture, auto, timeout).await,
            Action::Profile(p) => (
                Performed::selectors(),
                self.profile(session, capture, p, index, timeout).await,
            ),
            _ => {
                let mut p = Performed::selectors();
                if let Some(name) = &self.profile_in_use {
                    p.method = Method::Profile(name.clone());
                }
                (p, perform(session, capture, self, step, timeout).await)
            }
        };
        // The step's own time: a navigation step's load and any settle are counted there.
        let inner = (self.timings.settle_ms - settle0) + (self.timings.load_ms - load0);
        // (A profile step's own steps count themselves: this replaces what they added.)
        self.timings.steps_ms = steps0 + (t.elapsed().as_millis() as u64).saturating_sub(inner);
        let Some(action) = step.consent else {
            return res;
        };
        if res.is_err() {
            // The consent action was not performed: what follows is still in the old state.
            self.state = before;
            self.transitions.pop();
            if matches!(step.action, Action::Autoconsent(_)) {
                self.cmp.push(cmp_action(
                    action,
                    index,
                    capture.page(),
                    performed,
                    Readback::NoReader,
                    step,
                    Vec::new(),
                    EffectsFrom::NotPerformed,
                ));
            }
            self.shoot(session, capture, index, action, shots::Failed)
                .await;
            return res;
        }
        // What did the CMP record? Its record, when readable and decisive, decides the
        // following phase; the declared `records` are the fallback.
        let readback = read_back(session, performed.detected.as_deref()).await;
        let (applied, from) = match &readback {
            Readback::Recorded { record } if !record.effects().is_empty() => {
                (record.effects(), EffectsFrom::CmpRecord)
            }
            _ => (step.records.clone(), EffectsFrom::Declared),
        };
        let declared_explicitly = step.records != action.default_effects();
        if from == EffectsFrom::CmpRecord
            && declared_explicitly
            && !same_effects(&applied, &step.records)
        {
            let names =
                |e: &[ConsentEffect]| e.iter().map(|x| x.as_str()).collect::<Vec<_>>().join(", ");
            self.warnings.push(format!(
                "{} ({}): the scenario declares it records [{}], but the CMP's record says [{}]; the record is used",
                action.as_str(),
                step.location,
                names(&step.records),
                names(&applied)
            ));
        }
        // The phase that began at `acted_at` is the recorded one: records are given their
        // phase from the transitions when the visit ends (`into_observation`).
        self.state = before.apply(action, &applied);
        // The signals the page exposes now (TCF record), in the new phase; read again
        // after the scenario's steps have settled.
        self.probe_signals(session, capture).await;
        self.cmp.push(cmp_action(
            action,
            index,
            capture.page(),
            performed,
            readback,
            step,
            applied,
            from,
        ));
        self.shoot(session, capture, index, action, shots::After)
            .await;
        Ok(())
    }
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
    hasher: &crate::model::ValueHasher,
) -> VisitObservation {
    run_scenario_in(
        browser,
        None,
        spec,
        scenario,
        autoconsent,
        cancel,
        true,
        hasher,
    )
    .await
}

/// Run one scenario: in a fresh browser context of a pooled browser when `pool` is given,
/// else in a fresh browser and profile. Never fails: problems become an incomplete visit.
/// `pool` comes with the job's position in the run; `hasher` keys the hashes of the values
/// the capture sees. (Eight arguments: the engine-wide ones, browser, autoconsent, shots
/// and hasher, belong in one value once the visit is split into what it recorded and
/// what drives the browser, issue 17 item 6.)
#[allow(clippy::too_many_arguments)]
async fn run_scenario_in(
    browser: &BrowserConfig,
    pool: Option<(&BrowserPool, usize)>,
    spec: &AuditSpec,
    scenario: &Scenario,
    autoconsent: Option<&crate::cmp::autoconsent::Bundle>,
    cancel: Cancel,
    shots: bool,
    hasher: &crate::model::ValueHasher,
) -> VisitObservation {
    let started_at = Utc::now();
    let mut visit = Visit {
        spec,
        scenario,
        state: ConsentState::initial(),
        steps: Vec::new(),
        warnings: Vec::new(),
        timings: VisitTimings::default(),
        failure: None,
        signals: Vec::new(),
        transitions: Vec::new(),
        cmp: Vec::new(),
        page_started: Instant::now(),
        page_mark: 0,
        profile_in_use: None,
        banner: scenario.banner().map(String::from),
        shots,
        screenshots: Vec::new(),
        untouched: false,
    };
    let incomplete = |mut visit: Visit<'_>, failure: Failure| {
        visit.failure = Some(failure);
        visit.into_observation(started_at, Captured::default(), Vec::new())
    };

    let t = Instant::now();
    let (position, pool) = (pool.map(|p| p.1), pool.map(|p| p.0));
    let options = options_for(spec, scenario);
    let page_script = if scenario.uses_autoconsent() {
        match autoconsent {
            Some(b) => Some(b.source.clone()),
            None => {
                return incomplete(
                    visit,
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
        _ = cancelled(cancel.clone()) => return incomplete(visit, Failure::new(FailureKind::Cancelled, "interrupted before the browser started")),
    };
    let Started {
        session,
        capture,
        next,
    } = match started {
        Ok(s) => s,
        Err(f) => return incomplete(visit, f),
    };
    visit.timings.session_start_ms = t.elapsed().as_millis() as u64;

    let body = drive(&mut visit, &session, &capture);
    let interrupted = tokio::select! {
        _ = body => false,
        _ = cancelled(cancel.clone()) => true,
    };
    if interrupted {
        visit.failure = Some(Failure::new(
            FailureKind::Cancelled,
            "interrupted by a signal while running",
        ));
    }

    let t = Instant::now();
    let cookies = match capture.stored_cookies().await {
        Ok(c) => c,
        Err(e) => {
            visit.failure.get_or_insert_with(|| {
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
        let reason = match visit.failure.take() {
            Some(f) => format!("{c} on {page}; then: {f}"),
            None => format!("{c} on {page}"),
        };
        visit.failure = Some(Failure::new(FailureKind::BrowserCrashed, reason));
    }
    // Disposing of the context is closing, for a reused browser.
    let (captured, disposed, t) = match pool {
        Some(_) => {
            visit.timings.capture_ms += t.elapsed().as_millis() as u64;
            let t = Instant::now();
            let (c, d) = capture.finish_context().await;
            (c, Some(d), t)
        }
        None => {
            let c = capture.finish();
            visit.timings.capture_ms += t.elapsed().as_millis() as u64;
            (c, None, Instant::now())
        }
    };
    match (pool, disposed) {
        // Reuse the browser unless something went wrong with it.
        (Some(pool), Some(Ok(()))) if crashed.is_none() && !interrupted => {
            if let Some(extra) = pool.put(&options, session, next) {
                if let Err(e) = extra.close().await {
                    visit.warnings.push(format!("{e:#}"));
                }
            }
        }
        (_, disposed) => {
            drop(next);
            if let Some(Err(e)) = disposed {
                visit.warnings.push(format!("{e:#}"));
            }
            if let Err(e) = session.close().await {
                visit.warnings.push(format!("{e:#}"));
            }
        }
    }
    visit.timings.close_ms = t.elapsed().as_millis() as u64;

    visit.into_observation(started_at, captured, cookies)
}

/// The scenario proper. Stops at the first failed step (the rest are skipped) but still
/// leaves the page so what was observed is complete up to that point.
async fn drive(visit: &mut Visit<'_>, session: &Session, capture: &Capture) {
    let spec = visit.spec;
    let Some(first) = spec.site.pages.first() else {
        visit.failure = Some(Failure::new(
            FailureKind::Other,
            "the site lists no page to visit",
        ));
        return;
    };
    if let Err(e) = visit.load(session, capture, first).await {
        visit.failure = Some(e);
        return;
    }
    let steps = &visit.scenario.steps;
    for (index, step) in steps.iter().enumerate() {
        let started_at = Utc::now();
        let t = Instant::now();
        let res = visit.step(session, capture, step, index).await;
        let status = match &res {
            Ok(()) => StepStatus::Done,
            Err(e) => StepStatus::Failed(e.clone()),
        };
        visit.steps.push(StepOutcome {
            index,
            description: step.describe(&spec.site.secrets),
            status,
            started_at,
            duration_ms: t.elapsed().as_millis() as u64,
        });
        if let Err(e) = res {
            visit.failure = Some(Failure::new(
                e.kind,
                format!(
                    "step {} ({}) failed: {e}",
                    index + 1,
                    step.describe(&spec.site.secrets)
                ),
            ));
            for (later, s) in steps.iter().enumerate().skip(index + 1) {
                visit.steps.push(StepOutcome {
                    index: later,
                    description: s.describe(&spec.site.secrets),
                    status: StepStatus::Skipped,
                    started_at: Utc::now(),
                    duration_ms: 0,
                });
            }
            break;
        }
    }
    visit.settle(capture, "after the scenario's steps").await;
    if !visit.scenario.steps.is_empty() {
        visit.probe_signals(session, capture).await;
    }
    if visit.failure.is_none() {
        for page in spec.site.pages.iter().skip(1) {
            if let Err(e) = visit.load(session, capture, page).await {
                visit.failure = Some(e);
                break;
            }
        }
    }
    if visit.scenario.gpc && visit.failure.is_none() {
        visit.untouched = false;
        let signal = fetch_gpc_json(session, capture, visit).await;
        visit.signals.push(signal);
        visit.settle(capture, "after fetching gpc.json").await;
    }
    // Leave the page so beacons sent on pagehide/unload fire, then settle again.
    let t = Instant::now();
    visit.untouched = false;
    let _ = tokio::time::timeout(Duration::from_secs(10), session.client.goto("about:blank")).await;
    visit.timings.load_ms += t.elapsed().as_millis() as u64;
    visit.settle(capture, "after leaving the page").await;
}

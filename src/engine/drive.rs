//! The loop that drives the browser through one scenario, and the only writer of its
//! [`VisitRecord`].
//!
//! The first page is loaded and settled, then the file's `[login]` runs (its steps, its
//! check, the first page again; a failure skips the scenario's steps), then the steps
//! run in order (the network is settled before each consent step, then the consent
//! state changes), then the other pages, the site's `gpc.json`, and leaving the page
//! (so `pagehide` beacons fire). The step functions it calls (`steps::perform`, and the
//! [`DriverState`] methods in `cmp`, `profile`, `shots`, `probe`, `gpc`) read the driver
//! state and return what they saw: the loop adds it to the record as it comes, so a
//! visit interrupted mid-step keeps what was recorded up to that point. Loading a page,
//! settling, a consent step's bookkeeping (screenshots, the transition, the CMP's record
//! read back, the [`crate::cmp::CmpAction`]) and a CMP profile's flow are the loop's
//! own.

use super::cmp::{cmp_action, read_back, same_effects, Performed};
use super::driver::DriverState;
use super::gpc::fetch_gpc_json;
use super::record::VisitRecord;
use super::shots::{self, Moment};
use super::steps::perform;
use super::verdicts::{check_document, is_timeout};
use crate::browser::Session;
use crate::capture::Capture;
use crate::cmp::{EffectsFrom, Method, Readback};
use crate::model::{
    ConsentAction, ConsentEffect, Failure, FailureKind, LoginObs, Settle, SettleEnd, StepOutcome,
    StepStatus,
};
use crate::scenario::{Action, Login, ProfileStep, Step};
use chrono::Utc;
use std::time::{Duration, Instant};

/// One visit being driven: the driver state and the record (both owned by
/// `run_scenario_in`, so what was recorded outlives an interrupted drive), and the
/// browser session and capture it drives.
pub(super) struct Run<'r, 'a> {
    pub(super) driver: &'r mut DriverState<'a>,
    pub(super) record: &'r mut VisitRecord,
    pub(super) session: &'r Session,
    pub(super) capture: &'r Capture,
}

impl Run<'_, '_> {
    /// The scenario proper. Stops at the first failed step (the rest are skipped) but
    /// still leaves the page so what was observed is complete up to that point.
    pub(super) async fn drive(mut self) {
        let spec = self.driver.spec;
        let Some(first) = spec.site.pages.first() else {
            self.record.failure = Some(Failure::new(
                FailureKind::Other,
                "the site lists no page to visit",
            ));
            return;
        };
        if let Err(e) = self.load(first).await {
            self.record.failure = Some(e);
            return;
        }
        // The file's `[login]`, then the first page again: the scenario's steps run
        // where they always do, as a logged-in visitor.
        if let Some(login) = spec.login.as_ref().filter(|_| self.driver.scenario.login) {
            let logged_in = match self.log_in(login).await {
                Ok(()) => self.load(first).await,
                Err(f) => Err(f),
            };
            if let Err(f) = logged_in {
                self.record.failure = Some(f);
            }
        }
        let scenario = self.driver.scenario;
        let steps: &[Step] = if self.record.failure.is_some() {
            self.skip_steps(0);
            &[]
        } else {
            &scenario.steps
        };
        for (index, step) in steps.iter().enumerate() {
            let started_at = Utc::now();
            let t = Instant::now();
            let res = self.step(step, index).await;
            let status = match &res {
                Ok(()) => StepStatus::Done,
                Err(e) => StepStatus::Failed(e.clone()),
            };
            self.record.steps.push(StepOutcome {
                index,
                description: step.describe(&spec.site.secrets),
                status,
                started_at,
                duration_ms: t.elapsed().as_millis() as u64,
            });
            if let Err(e) = res {
                self.record.failure = Some(Failure::new(
                    e.kind,
                    format!(
                        "step {} ({}) failed: {e}",
                        index + 1,
                        step.describe(&spec.site.secrets)
                    ),
                ));
                self.skip_steps(index + 1);
                break;
            }
        }
        self.settle("after the scenario's steps").await;
        if !self.driver.scenario.steps.is_empty() {
            self.probe_signals().await;
        }
        if self.record.failure.is_none() {
            for page in spec.site.pages.iter().skip(1) {
                if let Err(e) = self.load(page).await {
                    self.record.failure = Some(e);
                    break;
                }
            }
        }
        if self.driver.scenario.gpc && self.record.failure.is_none() {
            self.driver.untouched = false;
            let signal = fetch_gpc_json(self.session, self.capture, self.driver).await;
            self.record.signals.push(signal);
            self.settle("after fetching gpc.json").await;
        }
        // Leave the page so beacons sent on pagehide/unload fire, then settle again.
        let t = Instant::now();
        self.driver.untouched = false;
        let _ = tokio::time::timeout(
            Duration::from_secs(10),
            self.session.client.goto("about:blank"),
        )
        .await;
        self.record.timings.load_ms += t.elapsed().as_millis() as u64;
        self.settle("after leaving the page").await;
    }

    /// The scenario's steps from `from` on, recorded as skipped (an earlier step, or
    /// the login, failed).
    fn skip_steps(&mut self, from: usize) {
        let secrets = &self.driver.spec.site.secrets;
        for (index, s) in self.driver.scenario.steps.iter().enumerate().skip(from) {
            self.record.steps.push(StepOutcome {
                index,
                description: s.describe(secrets),
                status: StepStatus::Skipped,
                started_at: Utc::now(),
                duration_ms: 0,
            });
        }
    }

    /// The file's `[login]` (docs/scenarios.md#login): its steps, run like the
    /// scenario's (none is a consent action), then its `check` waited for. Recorded as
    /// it goes in the record's `login`, with the time it completed; a failed step or an
    /// absent check is the [`FailureKind::LoginFailed`] returned, the rest skipped.
    async fn log_in(&mut self, login: &Login) -> Result<(), Failure> {
        let spec = self.driver.spec;
        let secrets = &spec.site.secrets;
        self.record.login = Some(LoginObs {
            steps: Vec::new(),
            completed_at: None,
        });
        let check = login
            .check
            .as_ref()
            .map(|sel| Step::plain(Action::WaitFor(sel.clone()), login.location.clone()));
        let mut res = Ok(());
        for (index, step) in login.steps.iter().chain(&check).enumerate() {
            let is_check = index == login.steps.len();
            let started_at = Utc::now();
            let t = Instant::now();
            let status = if res.is_err() {
                StepStatus::Skipped
            } else {
                if is_check {
                    // A submitted form's navigation is over before the check looks.
                    self.settle("after the login's steps").await;
                }
                match self.step(step, index).await {
                    Ok(()) => StepStatus::Done,
                    Err(e) => {
                        res = Err(Failure::new(
                            FailureKind::LoginFailed,
                            match &login.check {
                                Some(sel) if is_check => format!(
                                    "login check `{}` not present after the login's steps ([login] at {}): {e}",
                                    secrets.redact(sel),
                                    login.location
                                ),
                                _ => format!(
                                    "login failed: step {} at {}: {e}",
                                    index + 1,
                                    step.location
                                ),
                            },
                        ));
                        StepStatus::Failed(e)
                    }
                }
            };
            let done = StepOutcome {
                index,
                description: step.describe(secrets),
                status,
                started_at,
                duration_ms: t.elapsed().as_millis() as u64,
            };
            if let Some(l) = self.record.login.as_mut() {
                l.steps.push(done);
            }
        }
        if res.is_ok() {
            if let Some(l) = self.record.login.as_mut() {
                l.completed_at = Some(Utc::now());
            }
        }
        res
    }

    /// Wait for the page to settle ([`Capture::settle`], or [`Capture::settle_continued`]
    /// when nothing was done to the page since the last settle) and record which signal
    /// ended it.
    async fn settle(&mut self, why: &str) {
        let b = &self.driver.spec.browser;
        let out = if self.driver.untouched {
            self.capture
                .settle_continued(b.settle_quiet, b.settle_timeout)
                .await
        } else {
            self.capture.settle(b.settle_quiet, b.settle_timeout).await
        };
        self.driver.untouched = out.ended != SettleEnd::Timeout;
        if out.ended == SettleEnd::Timeout {
            let shown: Vec<&str> = out.pending.iter().take(3).map(String::as_str).collect();
            self.record.warnings.push(format!(
                "network not idle within {:?} {why}; still waiting for {} request(s): {}",
                b.settle_timeout,
                out.pending.len(),
                shown.join(", ")
            ));
        }
        let ms = out.elapsed.as_millis() as u64;
        self.record.timings.settle_ms += ms;
        self.record.timings.settles.push(Settle {
            why: why.to_string(),
            ms,
            ended: out.ended,
        });
    }

    /// Load `url` as the top-level page, settle, check its main document, then read its
    /// consent signals and whether the banner is back.
    async fn load(&mut self, url: &url::Url) -> Result<(), Failure> {
        if let Some(pace) = self.driver.pace {
            pace.turn().await;
        }
        self.capture.set_page(url.as_str());
        self.driver.untouched = false;
        let t = Instant::now();
        self.driver.page_started = t;
        self.driver.page_mark = self.capture.autoconsent_mark();
        let limit = self.driver.spec.browser.page_load_timeout + Duration::from_secs(5);
        let res = tokio::time::timeout(limit, self.session.client.goto(url.as_str())).await;
        self.record.timings.load_ms += t.elapsed().as_millis() as u64;
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
        self.settle(&format!("after loading {url}")).await;
        self.record
            .warnings
            .extend(check_document(self.capture, url)?);
        self.probe_signals().await;
        let t = Instant::now();
        // Only a page loaded after a consent action can show the banner *again*.
        if !self.record.cmp.is_empty() {
            let seen = self.driver.banner_again(self.session, self.capture).await;
            if let (Some(seen), Some(last)) = (seen, self.record.cmp.last_mut()) {
                last.banner_again.push(seen);
            }
        }
        self.record.timings.capture_ms += t.elapsed().as_millis() as u64;
        Ok(())
    }

    /// The page's consent signals now, recorded in the current consent phase (a probe
    /// that cannot run is a warning); its time is capture time.
    async fn probe_signals(&mut self) {
        let t = Instant::now();
        let (signals, warnings) = self.driver.probe_signals(self.session, self.capture).await;
        self.record.signals.extend(signals);
        self.record.warnings.extend(warnings);
        self.record.timings.capture_ms += t.elapsed().as_millis() as u64;
    }

    /// A screenshot around consent action `action` of step `index`, or the warning why
    /// there is none.
    async fn shoot(&mut self, index: usize, action: ConsentAction, moment: Moment) {
        let shot = self
            .driver
            .shoot(self.session, self.capture, index, action, moment)
            .await;
        if let Some(shot) = shot {
            match shot.taken {
                Ok(s) => self.record.screenshots.push(s),
                Err(warning) => self.record.warnings.push(warning),
            }
            self.record.timings.screenshot_ms += shot.ms;
        }
    }

    /// A step of the vocabulary other than autoconsent and profile steps: loading and
    /// settling here, the rest in the page ([`perform`]).
    async fn perform(&mut self, step: &Step, timeout: Duration) -> Result<(), Failure> {
        match &step.action {
            Action::Navigate(url) => self.load(url).await,
            Action::WaitIdle => {
                self.settle("in a wait_idle step").await;
                Ok(())
            }
            _ => {
                let warning = perform(self.session, self.driver, step, timeout).await?;
                self.record.warnings.extend(warning);
                Ok(())
            }
        }
    }

    /// One step, with its consent bookkeeping when it performs a consent action: settle
    /// and a screenshot before; the state it declares while it runs; then the CMP's
    /// record read back (it decides the new state when decisive), the page's signals,
    /// the [`crate::cmp::CmpAction`] and a screenshot after. A failed action leaves the state as it
    /// was.
    async fn step(&mut self, step: &Step, index: usize) -> Result<(), Failure> {
        let before = self.driver.state.clone();
        if let Some(action) = step.consent {
            // Settle first, so nothing from before the click is counted after it.
            self.settle("before a consent action").await;
            self.shoot(index, action, shots::Before).await;
            self.driver.state = self.driver.state.apply(action, &step.records);
            self.driver.acting = Some((Utc::now(), before.clone()));
        }
        let timeout = step
            .timeout
            .unwrap_or(self.driver.spec.browser.step_timeout);
        let t = Instant::now();
        let timings = &self.record.timings;
        let (settle0, load0, steps0) = (timings.settle_ms, timings.load_ms, timings.steps_ms);
        // Waiting for an element only reads the page; every other step may act on it.
        if !matches!(step.action, Action::WaitFor(_)) {
            self.driver.untouched = false;
        }
        let (performed, res) = match &step.action {
            Action::Autoconsent(auto) => {
                self.driver
                    .autoconsent(self.session, self.capture, auto, timeout)
                    .await
            }
            Action::Profile(p) => (
                Performed::selectors(),
                self.profile(p, step.grant.as_ref(), index, timeout).await,
            ),
            _ => {
                let mut p = Performed::selectors();
                if let Some(name) = &self.driver.profile_in_use {
                    p.method = Method::Profile(name.clone());
                }
                (p, self.perform(step, timeout).await)
            }
        };
        // The step's own time: a navigation step's load and any settle are counted there.
        let timings = &mut self.record.timings;
        let inner = (timings.settle_ms - settle0) + (timings.load_ms - load0);
        // (A profile step's own steps count themselves: this replaces what they added.)
        timings.steps_ms = steps0 + (t.elapsed().as_millis() as u64).saturating_sub(inner);
        let Some(action) = step.consent else {
            return res;
        };
        let acted = self.driver.acting.take();
        if res.is_err() {
            // The consent action was not performed: what follows is still in the old state.
            self.driver.state = before;
            if matches!(step.action, Action::Autoconsent(_)) {
                self.record.cmp.push(cmp_action(
                    action,
                    index,
                    self.capture.page(),
                    performed,
                    Readback::NoReader,
                    step,
                    Vec::new(),
                    EffectsFrom::NotPerformed,
                ));
            }
            self.shoot(index, action, shots::Failed).await;
            return res;
        }
        // It took effect when it was taken; the phase that began then is the recorded
        // one (records are given their phase from the transitions when the visit ends).
        self.record.transitions.extend(acted);
        // What did the CMP record? Its record, when readable and decisive, decides the
        // following phase; the declared `records` are the fallback.
        let readback = read_back(self.session, performed.detected.as_deref()).await;
        let (mut applied, from) = match &readback {
            Readback::Recorded { record } if !record.effects().is_empty() => {
                (record.effects(), EffectsFrom::CmpRecord)
            }
            _ => (step.records.clone(), EffectsFrom::Declared),
        };
        // A partial consent's record is never decisive on consent (some granted, some
        // refused): its summary keeps the action's refusal beside what the record says
        // of legitimate interest (Klaro saves its opt-out services off unless switched on).
        if action == ConsentAction::AcceptSome
            && from == EffectsFrom::CmpRecord
            && !applied.iter().any(|e| {
                matches!(
                    e,
                    ConsentEffect::GrantConsent | ConsentEffect::RefuseConsent
                )
            })
        {
            applied.insert(0, ConsentEffect::RefuseConsent);
        }
        let declared_explicitly = step.records != action.default_effects();
        if from == EffectsFrom::CmpRecord
            && declared_explicitly
            && !same_effects(&applied, &step.records)
        {
            let names =
                |e: &[ConsentEffect]| e.iter().map(|x| x.as_str()).collect::<Vec<_>>().join(", ");
            self.record.warnings.push(format!(
                "{} ({}): the scenario declares it records [{}], but the CMP's record says [{}]; the record is used",
                action.as_str(),
                step.location,
                names(&step.records),
                names(&applied)
            ));
        }
        self.driver.state = before.apply(action, &applied);
        // The signals the page exposes now (TCF record), in the new phase; read again
        // after the scenario's steps have settled.
        self.probe_signals().await;
        self.record.cmp.push(cmp_action(
            action,
            index,
            self.capture.page(),
            performed,
            readback,
            step,
            applied,
            from,
        ));
        self.shoot(index, action, shots::After).await;
        Ok(())
    }

    /// A profile step: the profile chosen ([`DriverState::choose_profile`]), then its
    /// flow's steps run as this step's, each through [`Run::step`] like any other.
    async fn profile(
        &mut self,
        p: &ProfileStep,
        grant: Option<&crate::scenario::StepGrant>,
        index: usize,
        timeout: Duration,
    ) -> Result<(), Failure> {
        let (chosen, steps) = self
            .driver
            .choose_profile(self.session, self.capture, p, timeout)
            .await?;
        // An accept_some flow: its scripts receive the grant, its consent step carries it.
        let steps = match grant {
            Some(g) => crate::scenario::profile::with_grant(&steps, g),
            None => steps,
        };
        if chosen.banner.is_some() {
            self.driver.banner = chosen.banner.clone();
        }
        let before = self.driver.profile_in_use.replace(chosen.name.clone());
        let mut res = Ok(());
        for s in &steps {
            res = Box::pin(self.step(s, index)).await;
            if res.is_err() {
                break;
            }
        }
        self.driver.profile_in_use = before;
        res.map_err(|f| {
            Failure::new(
                f.kind,
                format!(
                    "CMP profile `{}` ({}): {}",
                    chosen.name, chosen.source, f.reason
                ),
            )
        })
    }
}

//! Browsers for scenarios: a fresh one per scenario, or a pooled one with a fresh
//! browser context per scenario.

use super::Job;
use crate::browser::{BrowserConfig, Session};
use crate::capture::{Capture, PageSetup};
use crate::model::{Failure, FailureKind};
use crate::scenario::{AuditSpec, Scenario};
use anyhow::Result;
use std::time::Duration;

/// Browsers waiting for their next scenario, keyed by what they were launched with (the
/// scenario file's browser options): at most one per job. Each may hold a browser context
/// already prepared for the scenario expected next ([`Prepared`]).
pub(super) struct BrowserPool {
    pub(super) idle: std::sync::Mutex<Vec<Idle>>,
    pub(super) max: usize,
    /// The jobs not started yet, in run order: what the next scenarios need.
    pub(super) upcoming: std::sync::Mutex<Vec<Upcoming>>,
    /// When a context for the next scenario is prepared ([`Overlap`]).
    pub(super) overlap: Overlap,
}

/// An idle browser of the pool.
pub(super) struct Idle {
    key: String,
    session: Session,
    next: Option<Prepared>,
}

/// A job not started yet, and the browser context it will need.
pub(super) struct Upcoming {
    /// The job's place in the engine's queue.
    position: usize,
    key: String,
    needs: Needs,
    /// A browser already prepares a context for it.
    claimed: bool,
}

/// When a pooled browser prepares the browser context of the next scenario while the
/// current one runs (lever 3 of issue 9). `CONSENTRY_PREPARE_NEXT=off|start|settle`
/// overrides the default (for A/B measurements, `bench/overlap.sh`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Overlap {
    /// Never: each scenario creates its context when it starts.
    Off,
    /// As soon as the current scenario's own context is ready.
    Start,
    /// When the current scenario's first page has loaded and settles.
    Settle,
}

impl Overlap {
    pub(super) fn from_env() -> Overlap {
        match std::env::var("CONSENTRY_PREPARE_NEXT").as_deref() {
            Ok("off") => Overlap::Off,
            Ok("start") => Overlap::Start,
            Ok("settle") => Overlap::Settle,
            _ => Overlap::Settle,
        }
    }
}

/// What a scenario's browser context is prepared with: its tab's size and its targets'
/// set-up (the script injected into each of its documents — autoconsent's bundle, or
/// none —, the vantage's timezone, locale and proxy credentials). A prepared context
/// serves only a scenario with equal needs.
#[derive(Clone, PartialEq, Eq)]
pub(super) struct Needs {
    window: (u32, u32),
    setup: PageSetup,
}

/// The set-up of a scenario's targets: `script`, and the vantage of its `options`.
pub(super) fn page_setup(
    options: &crate::scenario::BrowserOptions,
    script: Option<std::sync::Arc<str>>,
) -> PageSetup {
    PageSetup {
        script,
        timezone: options.vantage.timezone.clone(),
        locale: options.vantage.locale.clone(),
        proxy_auth: options
            .proxy_auth
            .as_ref()
            .map(|a| (a.user.clone(), a.password.clone())),
    }
}

/// A fresh browser context with its instrumented tab, prepared in the background for the
/// next scenario of a browser. It serves one scenario at most (taken by value); dropped
/// unused, its preparation is stopped and its DevTools connection closed, which disposes
/// of the context.
pub(super) struct Prepared {
    needs: Needs,
    task: tokio::task::JoinHandle<Result<(Capture, String)>>,
}

impl Prepared {
    /// Start preparing a context with `needs` in the browser at `ws`, once `wait` (the
    /// current scenario's settle count) is above zero or closed, or after 5 s. Its capture
    /// hashes values with `hasher`.
    fn spawn(
        ws: String,
        needs: Needs,
        hasher: crate::model::ValueHasher,
        wait: Option<tokio::sync::watch::Receiver<u32>>,
    ) -> Self {
        let (window, setup) = (needs.window, needs.setup.clone());
        let task = tokio::spawn(async move {
            if let Some(mut rx) = wait {
                let _ = tokio::time::timeout(Duration::from_secs(5), rx.wait_for(|n| *n > 0)).await;
            }
            Capture::prepare_in_new_context(&ws, window, setup, hasher).await
        });
        Prepared { needs, task }
    }

    async fn get(mut self) -> Result<(Capture, String)> {
        match (&mut self.task).await {
            Ok(res) => res,
            Err(e) => Err(anyhow::anyhow!("preparing a browser context failed: {e}")),
        }
    }
}

impl Drop for Prepared {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// The browser options a scenario runs with (the file's, plus GPC's features).
pub(super) fn options_for(
    spec: &AuditSpec,
    scenario: &Scenario,
) -> crate::scenario::BrowserOptions {
    if scenario.gpc {
        crate::scenario::BrowserOptions {
            args: crate::browser::with_gpc(&spec.browser.args),
            ..spec.browser.clone()
        }
    } else {
        spec.browser.clone()
    }
}

impl BrowserPool {
    pub(super) fn new(max: usize) -> BrowserPool {
        BrowserPool {
            idle: std::sync::Mutex::new(Vec::new()),
            max,
            upcoming: std::sync::Mutex::new(Vec::new()),
            overlap: Overlap::from_env(),
        }
    }

    pub(super) fn key(opts: &crate::scenario::BrowserOptions) -> String {
        format!(
            "{:?}",
            (
                &opts.args,
                &opts.third_party_cookies,
                &opts.user_agent,
                opts.window_size,
                opts.page_load_timeout,
                // A proxy is the browser's, not a context's: a browser serves one vantage.
                &opts.vantage,
                opts.proxy_auth.as_ref().map(|a| {
                    use std::hash::{Hash, Hasher};
                    let mut h = std::collections::hash_map::DefaultHasher::new();
                    (&a.user, &a.password).hash(&mut h);
                    h.finish()
                }),
            )
        )
    }

    /// The jobs about to run, in order (what to prepare contexts for).
    pub(super) fn plan(
        &self,
        jobs: &[Job<'_>],
        autoconsent: Option<&crate::cmp::autoconsent::Bundle>,
    ) {
        let upcoming = jobs
            .iter()
            .enumerate()
            .filter_map(|(id, job)| {
                let options = options_for(job.spec, job.scenario);
                let script = match (job.scenario.uses_autoconsent(), autoconsent) {
                    (false, _) => None,
                    (true, Some(b)) => Some(b.source.clone()),
                    (true, None) => return None, // fails at its start
                };
                Some(Upcoming {
                    position: id,
                    key: BrowserPool::key(&options),
                    needs: Needs {
                        window: options.window_size,
                        setup: page_setup(&options, script),
                    },
                    claimed: false,
                })
            })
            .collect();
        *self.upcoming.lock().unwrap_or_else(|e| e.into_inner()) = upcoming;
    }

    /// The job at `position` starts: no context is to be prepared for it any more.
    fn started(&self, position: Option<usize>) {
        let mut up = self.upcoming.lock().unwrap_or_else(|e| e.into_inner());
        up.retain(|u| Some(u.position) != position);
    }

    /// What the first upcoming job for a browser launched with `key` needs, unless a
    /// browser already prepares for it.
    fn claim_next(&self, key: &str) -> Option<Needs> {
        let mut up = self.upcoming.lock().unwrap_or_else(|e| e.into_inner());
        let next = up.iter_mut().find(|u| u.key == key && !u.claimed)?;
        next.claimed = true;
        Some(next.needs.clone())
    }

    /// An idle browser launched with `key`, preferably one with a context prepared for
    /// `needs`.
    fn take(&self, key: &str, needs: &Needs) -> Option<(Session, Option<Prepared>)> {
        let mut idle = self.idle.lock().unwrap_or_else(|e| e.into_inner());
        let ready = |i: &Idle| i.next.as_ref().is_some_and(|p| p.needs == *needs);
        let i = idle
            .iter()
            .position(|i| i.key == key && ready(i))
            .or_else(|| idle.iter().position(|i| i.key == key))?;
        let Idle { session, next, .. } = idle.swap_remove(i);
        Some((session, next))
    }

    /// Keep `session` (launched with `options`) for the next scenario, with the context it
    /// prepares; returns the browser to close when the pool is full (the oldest).
    pub(super) fn put(
        &self,
        options: &crate::scenario::BrowserOptions,
        session: Session,
        next: Option<Prepared>,
    ) -> Option<Session> {
        let mut idle = self.idle.lock().unwrap_or_else(|e| e.into_inner());
        idle.push(Idle {
            key: BrowserPool::key(options),
            session,
            next,
        });
        (idle.len() > self.max).then(|| idle.remove(0).session)
    }

    pub(super) fn drain(&self) -> Vec<Session> {
        let mut idle = self.idle.lock().unwrap_or_else(|e| e.into_inner());
        idle.drain(..).map(|i| i.session).collect()
    }
}

/// A browser session and its capture, ready for a scenario, and the context its browser
/// prepares for the next one (hand it back with the browser, [`BrowserPool::put`]).
pub(super) struct Started {
    pub(super) session: Session,
    pub(super) capture: Capture,
    pub(super) next: Option<Prepared>,
}

/// A fresh browser with a fresh profile.
pub(super) async fn start_fresh(
    browser: &BrowserConfig,
    options: &crate::scenario::BrowserOptions,
    page_script: Option<std::sync::Arc<str>>,
    hasher: &crate::model::ValueHasher,
) -> Result<Started, Failure> {
    let session = Session::start(browser, options).await.map_err(|e| {
        Failure::new(
            FailureKind::SessionFailed,
            format!("browser session could not start: {e:#}"),
        )
    })?;
    let setup = page_setup(options, page_script);
    match Capture::start_set_up(&session.devtools_ws, setup, hasher.clone()).await {
        Ok(capture) => Ok(Started {
            session,
            capture,
            next: None,
        }),
        Err(e) => {
            let _ = session.close().await;
            Err(Failure::new(
                FailureKind::CaptureUnavailable,
                format!("capture unavailable: {e:#}"),
            ))
        }
    }
}

/// An idle browser of the pool (else a new one) with a fresh browser context, made
/// WebDriver's current window: the context the browser prepared while its previous
/// scenario ran when it fits, else a new one. Then the browser starts preparing the
/// context of the next upcoming job it can serve. `position`: this job's.
pub(super) async fn start_reused(
    browser: &BrowserConfig,
    pool: &BrowserPool,
    position: Option<usize>,
    options: &crate::scenario::BrowserOptions,
    page_script: Option<std::sync::Arc<str>>,
    hasher: &crate::model::ValueHasher,
) -> Result<Started, Failure> {
    pool.started(position);
    let key = BrowserPool::key(options);
    let needs = Needs {
        window: options.window_size,
        setup: page_setup(options, page_script),
    };
    let (session, prepared) = match pool.take(&key, &needs) {
        Some(s) => s,
        None => (
            Session::start(browser, options).await.map_err(|e| {
                Failure::new(
                    FailureKind::SessionFailed,
                    format!("browser session could not start: {e:#}"),
                )
            })?,
            None,
        ),
    };
    let prepared = match prepared {
        Some(p) if p.needs == needs => p.get().await.ok(),
        // Prepared for another scenario: dropped, which disposes of it.
        _ => None,
    };
    let opened = match prepared {
        Some(ready) => Ok(ready),
        None => {
            Capture::prepare_in_new_context(
                &session.devtools_ws,
                needs.window,
                needs.setup.clone(),
                hasher.clone(),
            )
            .await
        }
    };
    let opened = match opened {
        Ok((capture, target)) => capture.activate().await.map(|()| (capture, target)),
        Err(e) => Err(e),
    }
    .map_err(|e| format!("capture unavailable in a new browser context: {e:#}"));
    let err = match opened {
        Ok((capture, target)) => match switch_to(&session, &target).await {
            Ok(()) => {
                let next = match pool.overlap {
                    Overlap::Off => None,
                    Overlap::Start => pool.claim_next(&key).map(|n| {
                        Prepared::spawn(session.devtools_ws.clone(), n, hasher.clone(), None)
                    }),
                    Overlap::Settle => pool.claim_next(&key).map(|n| {
                        let wait = Some(capture.settles());
                        Prepared::spawn(session.devtools_ws.clone(), n, hasher.clone(), wait)
                    }),
                };
                return Ok(Started {
                    session,
                    capture,
                    next,
                });
            }
            Err(e) => {
                let _ = capture.finish_context().await;
                e
            }
        },
        Err(e) => e,
    };
    let _ = session.close().await;
    Err(Failure::new(FailureKind::CaptureUnavailable, err))
}

/// Make the tab `target` (a DevTools target id, which is chromedriver's window handle)
/// WebDriver's current window; chromedriver may need a moment to see a new tab.
pub(super) async fn switch_to(session: &Session, target: &str) -> Result<(), String> {
    let handle = fantoccini::wd::WindowHandle::try_from(target.to_string())
        .map_err(|e| format!("bad window handle {target:?}: {e}"))?;
    let mut last = String::new();
    for _ in 0..50 {
        match session.client.switch_to_window(handle.clone()).await {
            Ok(()) => return Ok(()),
            Err(e) => last = e.to_string(),
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    Err(format!("WebDriver cannot switch to the new tab: {last}"))
}

#[cfg(test)]
mod tests {
    use super::BrowserPool;
    use crate::model::vantage::Vantage;
    use crate::scenario::{BrowserOptions, ProxyAuth};

    /// A proxy is the browser process's: a browser of one vantage (or with other proxy
    /// credentials) must never be taken for a scenario of another.
    #[test]
    fn browsers_of_two_vantages_or_credentials_never_share_a_key() {
        let with = |v: Vantage, auth: Option<(&str, &str)>| BrowserOptions {
            vantage: v,
            proxy_auth: auth.map(|(u, p)| ProxyAuth {
                user: u.into(),
                password: p.into(),
            }),
            ..BrowserOptions::default()
        };
        let eu = Vantage {
            proxy: Some("http://127.0.0.1:3128".into()),
            locale: Some("de-DE".into()),
            ..Vantage::labelled("eu-de")
        };
        let keys = [
            BrowserPool::key(&BrowserOptions::default()),
            BrowserPool::key(&with(eu.clone(), None)),
            BrowserPool::key(&with(eu.clone(), Some(("user", "pass-one")))),
            BrowserPool::key(&with(eu.clone(), Some(("user", "pass-two")))),
            BrowserPool::key(&with(
                Vantage {
                    timezone: Some("Europe/Berlin".into()),
                    ..eu.clone()
                },
                None,
            )),
        ];
        for (i, a) in keys.iter().enumerate() {
            for b in &keys[i + 1..] {
                assert_ne!(a, b);
            }
            assert!(!a.contains("pass-"), "credentials never in a key: {a}");
        }
        assert_eq!(keys[1], BrowserPool::key(&with(eu, None)));
    }
}

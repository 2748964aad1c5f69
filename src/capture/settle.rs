//! Settling: waiting until a page has nothing more in flight ([`Capture::settle`]): the
//! network (requests pending, the last event) and what each document's page hook says is
//! due (`hook.js`); moved out of `capture/mod.rs` (issue 25, item 4, grew it past 800
//! lines).

use super::{lock, Capture};
use crate::model::{SettleEnd, TargetKind};
use serde_json::{json, Value};
use std::time::{Duration, Instant};

/// How long after the last network event a settle waits at least, even when the page
/// says it has nothing pending: events of targets that are not asked (workers) arrive
/// out of order with the pages' answers, and what a click just triggered needs a moment
/// to reach us. (A script whose file arrived but has not run yet is reported by the page
/// hook itself; before it was, this grace covered it and was 120 ms.)
pub const SETTLE_GRACE: Duration = Duration::from_millis(50);

/// How a settle ended ([`Capture::settle`]).
#[derive(Debug, Clone)]
pub struct SettleOutcome {
    pub ended: SettleEnd,
    /// The requests still waiting for their response (on [`SettleEnd::Timeout`]).
    pub pending: Vec<String>,
    pub elapsed: Duration,
}

/// How long into a settle the ticks of `setInterval`s count as due work: a page's
/// permanent heartbeat (an interval that runs as long as the page does, sending a request
/// more often than the quiet window) would otherwise hold every settle to its timeout. An
/// interval whose next tick is due within the rest of the quiet window holds a settle for
/// at most this long (or the quiet window, if longer); then only its requests are waited
/// for. An interval started by a click is as new as the settle that follows it.
pub const INTERVAL_HORIZON: Duration = Duration::from_secs(2);

/// What the page hook reports about a document (`Symbol.for('consentry.settle')`).
#[derive(Debug, Clone, serde::Deserialize)]
struct PageSettle {
    /// `setTimeout`s (function or string) due within the asked window, not yet fired or
    /// cleared.
    timers: u64,
    /// `setInterval`s whose next tick is due within the asked window.
    intervals: u64,
    /// Animation frames requested, not yet run or cancelled.
    frames: u64,
    /// `requestIdleCallback`s requested, not yet run or cancelled.
    idle: u64,
    /// Messages posted (`postMessage` to the window, MessageChannel ports) in the last
    /// 500 ms and not yet delivered in this document.
    messages: u64,
    /// Executable `<script src>` elements whose file arrived but that have not run yet.
    scripts: u64,
    /// `document.readyState == "complete"` (the load event fired).
    loaded: bool,
    /// Milliseconds since a tracked timer, frame, idle callback or message last ran
    /// (or a message was posted).
    since: f64,
    /// Milliseconds since an interval last ticked.
    since_tick: f64,
    /// Every function the hook put in place (the timers, frames, idle callbacks and
    /// message functions) is still the value of its property. `false`: the page replaced
    /// one, and what it schedules through the replacement is not seen.
    intact: bool,
}

/// What the pages say when a settle asks them ([`Capture::settle`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum PagesSay {
    /// Nothing due in any document.
    Idle,
    /// Something is due, or a page could not be asked.
    Busy,
    /// A page replaced what the hook relies on: its answer cannot be trusted.
    Tampered,
}

impl PageSettle {
    /// Nothing due; interval ticks count only while `intervals_count` (the settle is
    /// within its [`INTERVAL_HORIZON`]).
    fn idle(&self, grace: Duration, intervals_count: bool) -> bool {
        let grace_ms = grace.as_secs_f64() * 1000.0;
        self.timers == 0
            && self.frames == 0
            && self.idle == 0
            && self.messages == 0
            && self.scripts == 0
            && self.loaded
            && self.since >= grace_ms
            && (!intervals_count || (self.intervals == 0 && self.since_tick >= grace_ms))
    }
}

impl Capture {
    /// Wait until no request has been waiting for its response for `quiet`.
    /// On `timeout`, returns the URLs still pending. (See [`Capture::settle`].)
    pub async fn wait_idle(&self, quiet: Duration, timeout: Duration) -> Result<(), Vec<String>> {
        let out = self.settle(quiet, timeout).await;
        match out.ended {
            SettleEnd::Timeout => Err(out.pending),
            _ => Ok(()),
        }
    }

    /// Wait until the page has nothing more in flight, and say what ended the wait:
    ///
    /// - [`SettleEnd::Idle`] as soon as no request is waiting for its response, nothing
    ///   happened on the network for [`SETTLE_GRACE`] (the time a just-loaded script needs
    ///   to run and send what it sends), and every document target says it has no
    ///   `setTimeout` (function or string) due within the rest of the quiet window, no
    ///   `setInterval` tick due then (during the settle's first [`INTERVAL_HORIZON`]), no
    ///   animation frame or idle callback pending, no message posted and not delivered,
    ///   no script fetched and not run, and its load event fired (the page hook tracks
    ///   these before page scripts run);
    /// - [`SettleEnd::QuietWindow`] when no request was pending for `quiet` (the upper
    ///   bound: the page kept something short pending, or could not be asked);
    /// - [`SettleEnd::Tampered`]: the same, when a page had replaced one of the functions
    ///   the hook tracks through (its answers are then not trusted for the rest of the
    ///   settle);
    /// - [`SettleEnd::Timeout`] after `timeout` with requests still pending (returned).
    ///
    /// The wait starts a quiet window even if nothing happened yet, so even an idle page
    /// is waited for [`SETTLE_GRACE`] (what a click just triggered reaches us meanwhile).
    pub async fn settle(&self, quiet: Duration, timeout: Duration) -> SettleOutcome {
        self.settle_from(quiet, timeout, true).await
    }

    /// [`Capture::settle`] without a fresh grace: the quiet time counts from the last
    /// network event (at most [`SETTLE_GRACE`] back), not from now. Only for when nothing
    /// was done to the page since the previous settle ended (no click, script, navigation;
    /// reading it is fine): then nothing can be on its way that the grace would wait for,
    /// and a page that was idle and still is ends the settle at once. Anything that
    /// arrived since is waited for as usual.
    pub async fn settle_continued(&self, quiet: Duration, timeout: Duration) -> SettleOutcome {
        self.settle_from(quiet, timeout, false).await
    }

    async fn settle_from(&self, quiet: Duration, timeout: Duration, fresh: bool) -> SettleOutcome {
        let start = Instant::now();
        self.settles.send_modify(|n| *n = n.saturating_add(1));
        let grace = SETTLE_GRACE.min(quiet);
        {
            // The quiet time counts from the last network event, but from no earlier
            // than `floor`: a fresh settle serves the grace from now; a continued one
            // deems it served (the pages are asked at once) and still waits its rest
            // after a recent event.
            let floor = if fresh {
                start
            } else {
                start.checked_sub(grace).unwrap_or(start)
            };
            let mut s = lock(&self.state);
            if s.last_activity.is_none_or(|t| t < floor) {
                s.last_activity = Some(floor);
            }
        }
        let done = |ended, pending| SettleOutcome {
            ended,
            pending,
            elapsed: start.elapsed(),
        };
        // Interval ticks count for the settle's first INTERVAL_HORIZON (or quiet window).
        let horizon = INTERVAL_HORIZON.max(quiet);
        let mut tampered = false;
        loop {
            let (idle_since, pending) = {
                let s = lock(&self.state);
                (s.last_activity, s.pending_count())
            };
            let now = Instant::now();
            if pending == 0 {
                let quiet_for = idle_since.map(|t| now.duration_since(t)).unwrap_or(quiet);
                if quiet_for >= quiet {
                    let ended = if tampered {
                        SettleEnd::Tampered
                    } else {
                        SettleEnd::QuietWindow
                    };
                    return done(ended, Vec::new());
                }
                if quiet_for >= grace && !tampered {
                    let intervals_count = now.duration_since(start) < horizon;
                    match self
                        .pages_idle(quiet - quiet_for, grace, intervals_count)
                        .await
                    {
                        PagesSay::Idle => {
                            // Nothing arrived while we asked the pages?
                            let s = lock(&self.state);
                            if s.pending_count() == 0 && s.last_activity == idle_since {
                                return done(SettleEnd::Idle, Vec::new());
                            }
                        }
                        PagesSay::Tampered => tampered = true,
                        PagesSay::Busy => {}
                    }
                }
            }
            if now.duration_since(start) >= timeout {
                let pending = lock(&self.state).pending();
                return done(SettleEnd::Timeout, pending);
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Counts the settles started so far ([`Capture::settle`]); closed when the capture
    /// ends. A page that settles has loaded: a good moment to do work on the side.
    pub fn settles(&self) -> tokio::sync::watch::Receiver<u32> {
        self.settles.subscribe()
    }

    /// Does every document target say it has nothing short pending? `Busy` when a page
    /// cannot be asked (no hook, busy, gone); an iframe that cannot be asked is skipped
    /// (its network is still watched), since detached frames linger in the session list.
    /// `Tampered` when any document says a function the hook tracks through was replaced.
    /// `Busy` too while autoconsent is at work in a page (its timers run in its own world,
    /// which the hook does not see).
    async fn pages_idle(&self, within: Duration, grace: Duration, intervals: bool) -> PagesSay {
        if lock(&self.state).autoconsent_busy(Instant::now()) {
            return PagesSay::Busy;
        }
        let sessions = lock(&self.state).document_sessions();
        if !sessions.iter().any(|(_, k)| *k == TargetKind::Page) {
            return PagesSay::Busy;
        }
        let expr = format!(
            "(() => {{ const f = globalThis[Symbol.for('consentry.settle')]; \
             return typeof f === 'function' ? f({}) : null; }})()",
            within.as_millis()
        );
        let asks = sessions.iter().map(|(sid, kind)| {
            let expr = expr.clone();
            async move {
                let ask = self.cdp.send(
                    "Runtime.evaluate",
                    json!({ "expression": expr, "returnByValue": true }),
                    Some(sid),
                );
                let res = tokio::time::timeout(Duration::from_millis(500), ask).await;
                let state = match res {
                    Ok(Ok(v)) => v
                        .pointer("/result/value")
                        .and_then(Value::as_str)
                        .and_then(|t| serde_json::from_str::<PageSettle>(t).ok()),
                    _ => None,
                };
                match state {
                    Some(p) if !p.intact => PagesSay::Tampered,
                    Some(p) if p.idle(grace, intervals) => PagesSay::Idle,
                    Some(_) => PagesSay::Busy,
                    None if *kind != TargetKind::Page => PagesSay::Idle,
                    None => PagesSay::Busy,
                }
            }
        });
        let says = futures_util::future::join_all(asks).await;
        if says.contains(&PagesSay::Tampered) {
            PagesSay::Tampered
        } else if says.iter().all(|s| *s == PagesSay::Idle) {
            PagesSay::Idle
        } else {
            PagesSay::Busy
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_page_is_idle_only_when_nothing_is_due_and_intervals_count_within_the_horizon() {
        let quiet: PageSettle = serde_json::from_str(
            r#"{"timers":0,"intervals":0,"frames":0,"idle":0,"messages":0,"scripts":0,
                "loaded":true,"since":100.0,"since_tick":1e9,"intact":true}"#,
        )
        .unwrap();
        let grace = Duration::from_millis(50);
        assert!(quiet.idle(grace, true));
        for busy in [
            PageSettle {
                timers: 1,
                ..quiet.clone()
            },
            PageSettle {
                frames: 1,
                ..quiet.clone()
            },
            PageSettle {
                idle: 1,
                ..quiet.clone()
            },
            PageSettle {
                messages: 1,
                ..quiet.clone()
            },
            PageSettle {
                scripts: 1,
                ..quiet.clone()
            },
            PageSettle {
                loaded: false,
                ..quiet.clone()
            },
            PageSettle {
                since: 10.0,
                ..quiet.clone()
            },
        ] {
            assert!(!busy.idle(grace, true), "{busy:?}");
            assert!(!busy.idle(grace, false), "{busy:?}");
        }
        // An interval tick due, or one that just ran: due work within the horizon only.
        for ticking in [
            PageSettle {
                intervals: 1,
                ..quiet.clone()
            },
            PageSettle {
                since_tick: 10.0,
                ..quiet.clone()
            },
        ] {
            assert!(!ticking.idle(grace, true), "{ticking:?}");
            assert!(ticking.idle(grace, false), "{ticking:?}");
        }
        // A report without `intact` (or any field) is not the hook's: not read.
        assert!(serde_json::from_str::<PageSettle>(r#"{"timers":0}"#).is_err());
    }
}

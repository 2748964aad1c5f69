//! Consent actions through autoconsent, and the CMP's record read back after each.
//! Each returns what it did ([`Performed`], the [`Readback`]); the driving loop makes
//! the [`CmpAction`] of them ([`cmp_action`]) and records it.

use super::driver::DriverState;
use super::steps::perform;
use crate::browser::Session;
use crate::capture::Capture;
use crate::cmp::{CmpAction, EffectsFrom, Method, Readback};
use crate::model::{ConsentAction, ConsentEffect, Failure, FailureKind};
use crate::scenario::{AutoConsent, Step};
use chrono::Utc;
use serde_json::Value;
use std::time::{Duration, Instant};

/// How a consent step was performed (the method's side of a [`CmpAction`]).
pub(super) struct Performed {
    pub(super) method: Method,
    pub(super) success: bool,
    pub(super) detected: Option<String>,
    pub(super) popup_found: bool,
    pub(super) detect_ms: Option<u64>,
    pub(super) done_ms: Option<u64>,
    pub(super) added_ms: Option<u64>,
}

impl Performed {
    pub(super) fn selectors() -> Self {
        Performed {
            method: Method::Selectors,
            success: true,
            detected: None,
            popup_found: false,
            detect_ms: None,
            done_ms: None,
            added_ms: None,
        }
    }
}

impl DriverState<'_> {
    /// Accept or reject through autoconsent: wait for it to find the CMP's popup, send
    /// `optIn` / `optOut`, wait for the result; the selector fallback when it cannot.
    pub(super) async fn autoconsent(
        &self,
        session: &Session,
        capture: &Capture,
        auto: &AutoConsent,
        timeout: Duration,
    ) -> (Performed, Result<(), Failure>) {
        let t = Instant::now();
        let verb = crate::cmp::autoconsent::verb(auto.action);
        let mut p = Performed {
            method: Method::Autoconsent,
            success: false,
            detected: None,
            popup_found: false,
            detect_ms: None,
            done_ms: None,
            added_ms: None,
        };
        // 1. Detection (it runs in the page since the document started).
        let started = self.page_started;
        let mark = self.page_mark;
        let deadline = t + timeout;
        let mut no_cmp = false;
        // autoconsent's world in the document where it found the popup.
        let mut world = None;
        loop {
            for m in capture.autoconsent_since(mark) {
                match m.kind() {
                    "cmpDetected" if p.detected.is_none() => {
                        p.detected = m.cmp().map(String::from);
                    }
                    "popupFound" if !p.popup_found => {
                        p.popup_found = true;
                        world = m.world.clone();
                        p.detected = m.cmp().map(String::from).or(p.detected.take());
                        p.detect_ms =
                            Some(m.at.saturating_duration_since(started).as_millis() as u64);
                    }
                    "lifecycle" => {
                        no_cmp |= m.value.get("lifecycle").and_then(Value::as_str)
                            == Some("nothingDetected");
                    }
                    _ => {}
                }
            }
            if p.popup_found || no_cmp || Instant::now() >= deadline {
                break;
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        let why_not = if let (true, Some(world)) = (p.popup_found, &world) {
            // 2. The action, sent to autoconsent's isolated world (never the page's).
            let sent = Instant::now();
            let mark = capture.autoconsent_mark();
            match tokio::time::timeout(timeout, capture.autoconsent_send(world, verb)).await {
                Ok(Ok(_)) => {
                    let deadline = sent + timeout;
                    let mut result = None;
                    loop {
                        let answers = capture.autoconsent_since(mark);
                        for m in answers.iter().filter(|m| m.world.as_ref() == Some(world)) {
                            match m.kind() {
                                k if k == format!("{verb}Result") => {
                                    result = m.value.get("result").and_then(Value::as_bool);
                                }
                                "autoconsentDone" => {
                                    p.done_ms = Some(
                                        m.at.saturating_duration_since(sent).as_millis() as u64,
                                    );
                                }
                                _ => {}
                            }
                        }
                        if p.done_ms.is_some()
                            || result == Some(false)
                            || Instant::now() >= deadline
                        {
                            break;
                        }
                        // Short: the action itself often takes 10-50 ms (added_ms).
                        tokio::time::sleep(Duration::from_millis(5)).await;
                    }
                    p.success = result == Some(true);
                    let cmp = p.detected.clone().unwrap_or_else(|| "the CMP".into());
                    match result {
                        Some(true) => None,
                        Some(false) => Some(format!("autoconsent {verb} on {cmp} failed")),
                        None => Some(format!(
                            "autoconsent {verb} on {cmp} reported no result within {timeout:?}"
                        )),
                    }
                }
                Ok(Err(e)) => Some(format!("autoconsent {verb} could not be sent: {e:#}")),
                Err(_) => Some(format!(
                    "autoconsent {verb} could not be sent within {timeout:?}"
                )),
            }
        } else if let Some(cmp) = &p.detected {
            Some(format!(
                "autoconsent detected {cmp} but found no open popup within {timeout:?}"
            ))
        } else if no_cmp {
            Some("no CMP detected by autoconsent".to_string())
        } else {
            Some(format!("no CMP detected by autoconsent within {timeout:?}"))
        };
        p.added_ms = Some(t.elapsed().as_millis() as u64);
        let Some(why) = why_not else {
            return (p, Ok(()));
        };
        if let (true, false, Some(words)) =
            (auto.fallback.is_empty(), p.popup_found, &auto.heuristic)
        {
            // 3. No rule, no selectors: the heuristic (docs/heuristic.md).
            let started = Instant::now();
            let (rec, res) = super::heuristic::perform(session, words, auto.action).await;
            p.done_ms = Some(started.elapsed().as_millis() as u64);
            p.added_ms = Some(t.elapsed().as_millis() as u64);
            if let Some(rec) = rec {
                p.method = Method::Heuristic(rec);
            }
            p.success = res.is_ok();
            return (
                p,
                res.map_err(|f| {
                    Failure::new(f.kind, format!("{why}; {}; no selectors given", f.reason))
                }),
            );
        }
        if auto.fallback.is_empty() {
            let kind = if p.popup_found {
                FailureKind::CmpActionFailed
            } else {
                FailureKind::CmpNotDetected
            };
            return (
                p,
                Err(Failure::new(kind, format!("{why}; no selectors given"))),
            );
        }
        // 4. The scenario's selectors.
        p.method = Method::Fallback(why);
        for s in &auto.fallback {
            let timeout = s.timeout.unwrap_or(self.spec.browser.step_timeout);
            if let Err(e) = perform(session, self, s, timeout).await {
                return (p, Err(e));
            }
        }
        p.success = true;
        (p, Ok(()))
    }
}

pub(super) fn same_effects(a: &[ConsentEffect], b: &[ConsentEffect]) -> bool {
    a.len() == b.len() && a.iter().all(|e| b.contains(e))
}

#[allow(clippy::too_many_arguments)]
pub(super) fn cmp_action(
    action: ConsentAction,
    step: usize,
    page: String,
    p: Performed,
    readback: Readback,
    s: &Step,
    applied: Vec<ConsentEffect>,
    from: EffectsFrom,
) -> CmpAction {
    CmpAction {
        action,
        step,
        page,
        time: Utc::now(),
        method: p.method,
        success: p.success,
        detected: p.detected,
        popup_found: p.popup_found,
        detect_ms: p.detect_ms,
        done_ms: p.done_ms,
        added_ms: p.added_ms,
        readback,
        declared: s.records.clone(),
        applied,
        effects_from: from,
        banner_again: Vec::new(),
        grant: s.grant.as_ref().map(|g| g.grant.clone()),
    }
}

/// Read the CMP's record back (every [`crate::cmp::READERS`] at once). A CMP that is on
/// the page but has not written its record yet gets a second (up to 1 s) to do so.
pub(super) async fn read_back(session: &Session, detected: Option<&str>) -> Readback {
    let script = crate::cmp::readback_script();
    let deadline = Instant::now() + Duration::from_secs(1);
    loop {
        let res = tokio::time::timeout(
            Duration::from_secs(5),
            session.client.execute_async(&script, vec![]),
        )
        .await;
        let rb = match res {
            Ok(Ok(v)) => crate::cmp::interpret_readback(&v, detected),
            Ok(Err(e)) => Readback::Unreadable {
                reader: "page".into(),
                error: format!("the record could not be read: {e}"),
            },
            Err(_) => Readback::Unreadable {
                reader: "page".into(),
                error: "reading the record did not finish within 5 s".into(),
            },
        };
        let retry = matches!(
            rb,
            Readback::NotRecorded { .. } | Readback::Unreadable { .. }
        );
        if retry && Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(100)).await;
            continue;
        }
        return rb;
    }
}

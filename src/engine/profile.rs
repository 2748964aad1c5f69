//! A CMP profile's flow (object_li, withdraw; docs/scenarios.md#cmp-profiles): pick the
//! profile (named, or the one whose CMP is detected on the page) and its flow's steps.
//! The driving loop runs them as the scenario's own (`Run::profile`), the consent action
//! on the step the profile marks.

use super::driver::DriverState;
use crate::browser::Session;
use crate::capture::Capture;
use crate::model::{Failure, FailureKind};
use crate::scenario::{selector_parts, CmpProfile, ProfileStep, Step};
use serde_json::{json, Value};
use std::time::{Duration, Instant};

/// Which CMP is on the page, as far as the profiles can tell: each profile's
/// `[detect] selector` (its first part, in the top-level document) and the IAB TCF CMP
/// id (`__tcfapi('ping')`).
const DETECT_JS: &str = r#"
const sels = arguments[0], done = arguments[arguments.length - 1];
const out = { present: sels.map((s) => { try { return !!document.querySelector(s); } catch (e) { return false; } }), cmpId: null };
if (typeof window.__tcfapi !== 'function') { done(out); return; }
let answered = false;
try {
  window.__tcfapi('ping', 2, (p) => { if (answered) return; answered = true; out.cmpId = (p && p.cmpId) || null; done(out); });
} catch (e) {}
setTimeout(() => { if (!answered) { answered = true; done(out); } }, 300);
"#;

impl DriverState<'_> {
    /// The profile a profile step runs (the named one, or the one whose CMP is on the
    /// page) and its flow's steps; the driving loop runs them (`Run::profile`).
    pub(super) async fn choose_profile(
        &self,
        session: &Session,
        capture: &Capture,
        p: &ProfileStep,
        timeout: Duration,
    ) -> Result<(CmpProfile, Vec<Step>), Failure> {
        let chosen = if p.named {
            p.candidates.first().cloned().ok_or_else(|| {
                Failure::new(
                    FailureKind::NoCmpProfile,
                    "the named CMP profile is missing",
                )
            })?
        } else {
            self.detect_profile(session, capture, p, timeout).await?
        };
        let steps = chosen
            .flow_steps(p.flow)
            .map_err(|why| Failure::new(FailureKind::NoCmpProfile, why))?
            .to_vec();
        Ok((chosen, steps))
    }

    /// The first candidate whose CMP is on the page, waiting up to `timeout` for one.
    async fn detect_profile(
        &self,
        session: &Session,
        capture: &Capture,
        p: &ProfileStep,
        timeout: Duration,
    ) -> Result<CmpProfile, Failure> {
        let deadline = Instant::now() + timeout;
        let sels: Vec<String> = p
            .candidates
            .iter()
            .map(|c| {
                c.detect
                    .selector
                    .as_deref()
                    .map(|s| selector_parts(s)[0].to_string())
                    .unwrap_or_default()
            })
            .collect();
        let mut named_by_autoconsent: Option<String> = None;
        let mut cmp_id: Option<u64> = None;
        loop {
            if p.detect_with_autoconsent {
                for m in capture.autoconsent_since(self.page_mark) {
                    if matches!(m.kind(), "cmpDetected" | "popupFound") {
                        if let Some(name) = m.cmp() {
                            named_by_autoconsent = Some(name.to_string());
                        }
                    }
                }
                if let Some(name) = &named_by_autoconsent {
                    if let Some(c) = p.candidates.iter().find(|c| c.matches_autoconsent(name)) {
                        return Ok(c.clone());
                    }
                }
            }
            let probe = tokio::time::timeout(
                Duration::from_secs(3),
                session.client.execute_async(DETECT_JS, vec![json!(sels)]),
            )
            .await;
            if let Ok(Ok(v)) = probe {
                cmp_id = v.get("cmpId").and_then(Value::as_u64).or(cmp_id);
                let present = v.get("present").and_then(Value::as_array);
                for (i, c) in p.candidates.iter().enumerate() {
                    let by_id =
                        cmp_id.is_some_and(|id| c.detect.tcf_cmp_ids.contains(&(id as u32)));
                    let by_sel = !sels[i].is_empty()
                        && present
                            .and_then(|a| a.get(i))
                            .and_then(Value::as_bool)
                            .unwrap_or(false);
                    if by_id || by_sel {
                        return Ok(c.clone());
                    }
                }
            }
            if Instant::now() >= deadline {
                break;
            }
            tokio::time::sleep(Duration::from_millis(150)).await;
        }
        let mut seen = Vec::new();
        if let Some(n) = &named_by_autoconsent {
            seen.push(format!("autoconsent detected `{n}`"));
        } else if p.detect_with_autoconsent {
            seen.push("autoconsent detected no CMP".to_string());
        }
        if let Some(id) = cmp_id {
            seen.push(format!("an IAB TCF CMP with id {id} answers __tcfapi"));
        }
        let names: Vec<&str> = p.candidates.iter().map(|c| c.name.as_str()).collect();
        Err(Failure::new(
            FailureKind::NoCmpProfile,
            format!(
                "no CMP profile matches the CMP on {} within {timeout:?} ({}; profiles: {}): add one as cmp/NAME.toml beside the scenario file (docs/scenarios.md#cmp-profiles)",
                capture.page(),
                if seen.is_empty() { "nothing recognised".to_string() } else { seen.join(", ") },
                names.join(", ")
            ),
        ))
    }
}

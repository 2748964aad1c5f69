//! Screenshots of the banner before and after each consent action ([`crate::screenshots`]).
//!
//! [`DriverState::shoot`] is called twice per consent step by the driving loop
//! (`Run::step`): `Before` after the pre-action settle, `After` once the action, the CMP
//! record read-back and a settle are over. Either waits (bounded) for the page's finite
//! CSS animations and transitions to end first, so a banner sliding in or fading out is
//! caught at rest. It returns a [`Shot`]: its time goes to
//! [`crate::model::VisitTimings::screenshot_ms`], never to the other parts; a screenshot
//! that fails is a warning of the visit, never a failure.

use super::driver::DriverState;
use crate::browser::Session;
use crate::capture::Capture;
use crate::model::ConsentAction;
use crate::screenshots::{png_size, Screenshot, ShotWhen};
use chrono::Utc;
use serde_json::json;
use std::time::{Duration, Instant};

/// What one [`DriverState::shoot`] gave: the screenshot, or the warning why there is
/// none, and the time it took.
pub(super) struct Shot {
    pub(super) taken: Result<Screenshot, String>,
    pub(super) ms: u64,
}

/// When [`DriverState::shoot`] is called.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Moment {
    /// After the pre-action settle, before the action.
    Before,
    /// After the action, its read-back and a settle.
    After,
    /// After the action failed (the picture shows what was on screen instead).
    Failed,
}
pub(super) use Moment::{After, Before, Failed};

/// Longest wait for running CSS animations / transitions to end before a screenshot.
const ANIMATIONS_MAX: Duration = Duration::from_millis(1500);
/// Upper bound of the settle before an "after" screenshot (the scenario's own settle
/// after the steps still runs with the full timeout).
const AFTER_SETTLE_MAX: Duration = Duration::from_secs(2);
/// Longest a screenshot may take.
const SHOT_TIMEOUT: Duration = Duration::from_secs(10);

/// Resolves with the number of finite animations still running when it gave up (0: at
/// rest). Infinite ones (spinners) are ignored.
const ANIMATIONS_JS: &str = r#"
const done = arguments[arguments.length - 1];
const limit = arguments[0];
const t0 = performance.now();
const running = () => {
  try {
    return document.getAnimations().filter(a => {
      if (a.playState !== 'running') return false;
      const end = a.effect && a.effect.getComputedTiming().endTime;
      return Number.isFinite(end);
    }).length;
  } catch (e) { return 0; }
};
(function poll() {
  const n = running();
  if (n === 0 || performance.now() - t0 > limit) { done(n); return; }
  setTimeout(poll, 50);
})();
"#;

impl DriverState<'_> {
    /// Take one screenshot around consent action `action` of step `index`; `None` when
    /// screenshots are off.
    pub(super) async fn shoot(
        &self,
        session: &Session,
        capture: &Capture,
        index: usize,
        action: ConsentAction,
        moment: Moment,
    ) -> Option<Shot> {
        if !self.shots {
            return None;
        }
        let when = match moment {
            Moment::Before => ShotWhen::Before,
            Moment::After | Moment::Failed => ShotWhen::After,
        };
        let t = Instant::now();
        if when == ShotWhen::After {
            let b = &self.spec.browser;
            let _ = capture
                .settle(b.settle_quiet, b.settle_timeout.min(AFTER_SETTLE_MAX))
                .await;
        }
        let limit = json!(ANIMATIONS_MAX.as_millis() as u64);
        let _ = tokio::time::timeout(
            ANIMATIONS_MAX + Duration::from_secs(1),
            session.client.execute_async(ANIMATIONS_JS, vec![limit]),
        )
        .await;
        let time = Utc::now();
        let shot_started = Instant::now();
        let res = tokio::time::timeout(SHOT_TIMEOUT, session.client.screenshot()).await;
        let what = format!("screenshot {} step {}", when.as_str(), index + 1);
        let taken = match res {
            Ok(Ok(png)) => match png_size(&png) {
                Ok((width, height)) => Ok(Screenshot {
                    step: index,
                    action,
                    when,
                    time,
                    page: capture.page(),
                    width,
                    height,
                    bytes: png.len() as u64,
                    capture_ms: shot_started.elapsed().as_millis() as u64,
                    action_failed: moment == Moment::Failed,
                    path: None,
                    png,
                }),
                Err(e) => Err(format!("{what} ({}): {e}", action.as_str())),
            },
            Ok(Err(e)) => Err(format!(
                "{what} ({}) could not be taken: {e}",
                action.as_str()
            )),
            Err(_) => Err(format!(
                "{what} ({}) did not finish within {SHOT_TIMEOUT:?}",
                action.as_str()
            )),
        };
        Some(Shot {
            taken,
            ms: t.elapsed().as_millis() as u64,
        })
    }
}

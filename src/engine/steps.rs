//! Performing one step of the step vocabulary in the page (click, click_all, wait_for,
//! script, screenshot). `navigate` and `wait_idle` load and settle, which the driving
//! loop does itself (`Run::perform`); consent bookkeeping is the loop's too (`Run::step`).

use super::driver::DriverState;
use super::locate;
use super::verdicts::classify;
use crate::browser::Session;
use crate::model::{Failure, FailureKind};
use crate::scenario::{Action, Step};
use std::path::PathBuf;
use std::time::{Duration, Instant};

/// Perform `step` in the page, within `timeout`. `Ok(Some(warning))`: done, with a
/// warning to record (`click_all` that clicked nothing; an autoconsent fallback, made of
/// `wait_for` and `click` steps, has none).
pub(super) async fn perform(
    session: &Session,
    driver: &DriverState<'_>,
    step: &Step,
    timeout: Duration,
) -> Result<Option<String>, Failure> {
    let client = &session.client;
    let mut warning = None;
    match &step.action {
        // Run by the driving loop (`Run::perform`, `Run::step`); never nested in
        // an autoconsent fallback or performed here.
        Action::Navigate(_) | Action::WaitIdle | Action::Autoconsent(_) | Action::Profile(_) => {
            return Err(Failure::new(
                FailureKind::Other,
                "a navigate, wait_idle, autoconsent or CMP-profile step cannot be nested",
            ))
        }
        Action::Click(sel) => {
            let found = locate::locate(client, sel, timeout, false).await?;
            let res = match found.elements.first() {
                Some(el) => click(client, el, sel, timeout).await,
                None => Err(Failure::new(
                    FailureKind::ElementNotFound,
                    format!("no element matches {sel:?}"),
                )),
            };
            locate::leave_frames(client, found.frames).await;
            res?;
        }
        Action::ClickAll(sel) => {
            let found = locate::locate(client, sel, timeout, true).await?;
            let mut clicked = 0;
            let mut res = Ok(());
            for el in &found.elements {
                match click(client, el, sel, timeout).await {
                    Ok(()) => clicked += 1,
                    // A click may re-render what follows it; the rest are looked at again
                    // by the CMP's record read back after the consent action.
                    Err(f) if f.kind == FailureKind::ElementNotFound => {}
                    Err(f) => {
                        res = Err(f);
                        break;
                    }
                }
            }
            locate::leave_frames(client, found.frames).await;
            res?;
            if clicked == 0 {
                warning = Some(format!(
                    "{}: nothing matched {sel:?} within {timeout:?}, nothing was clicked",
                    step.location
                ));
            }
        }
        Action::WaitFor(sel) => {
            let found = locate::locate(client, sel, timeout, false)
                .await
                .map_err(|mut f| {
                    if step.waits_for_banner && f.kind == FailureKind::ElementNotFound {
                        f.kind = FailureKind::BannerAbsent;
                        f.reason = format!("the consent banner never appeared: {}", f.reason);
                    }
                    f
                })?;
            locate::leave_frames(client, found.frames).await;
        }
        Action::Script(js) => {
            tokio::time::timeout(timeout, client.execute(js, vec![]))
                .await
                .map_err(|_| {
                    Failure::new(
                        FailureKind::StepTimeout,
                        format!("script did not finish within {timeout:?}"),
                    )
                })?
                .map_err(|e| {
                    Failure::new(
                        classify(&e, FailureKind::ScriptFailed),
                        format!("script failed: {e}"),
                    )
                })?;
        }
        Action::Screenshot(path) => {
            let png = tokio::time::timeout(timeout, client.screenshot())
                .await
                .map_err(|_| {
                    Failure::new(
                        FailureKind::StepTimeout,
                        format!("screenshot did not finish within {timeout:?}"),
                    )
                })?
                .map_err(|e| {
                    Failure::new(
                        classify(&e, FailureKind::Other),
                        format!("screenshot failed: {e}"),
                    )
                })?;
            let path = PathBuf::from(
                path.display()
                    .to_string()
                    .replace("{scenario}", &driver.scenario.id),
            );
            if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
                std::fs::create_dir_all(dir).map_err(|e| {
                    Failure::new(
                        FailureKind::Other,
                        format!("cannot create {}: {e}", dir.display()),
                    )
                })?;
            }
            std::fs::write(&path, png).map_err(|e| {
                Failure::new(
                    FailureKind::Other,
                    format!("cannot write {}: {e}", path.display()),
                )
            })?;
        }
    }
    Ok(warning)
}

/// Checks a click target the way WebDriver's element click does, in the element's own
/// frame: connected and rendered, scrolled into view when not in it, and the element (or
/// something inside it) is what a pointer at the centre of its first box in the viewport
/// would hit. Answers `ok`, `hidden` or `covered`.
const CLICK_TARGET_JS: &str = r#"const el = arguments[0];
if (!el || !el.isConnected) return 'hidden';
const box = () => {
  const r = el.getClientRects()[0];
  if (!r) return null;
  const x0 = Math.max(r.left, 0), x1 = Math.min(r.right, innerWidth);
  const y0 = Math.max(r.top, 0), y1 = Math.min(r.bottom, innerHeight);
  return { r, x0, x1, y0, y1 };
};
let b = box();
if (!b) return 'hidden';
if (b.r.top < 0 || b.r.left < 0 || b.r.bottom > innerHeight || b.r.right > innerWidth) {
  el.scrollIntoView({ block: 'center', inline: 'center' });
  b = box();
  if (!b) return 'hidden';
}
if (b.x1 <= b.x0 || b.y1 <= b.y0) return 'hidden';
const x = Math.floor((b.x0 + b.x1) / 2), y = Math.floor((b.y0 + b.y1) / 2);
const root = el.getRootNode();
const hit = (typeof root.elementFromPoint === 'function' ? root : document).elementFromPoint(x, y);
return hit && (hit === el || el.contains(hit)) ? 'ok' : 'covered';"#;

/// Click `el` (found for `sel`), within `timeout`: a real pointer click (move to the
/// element's in-view centre, press, release; WebDriver actions, trusted input events,
/// a navigation it starts is waited for like after any click).
///
/// WebDriver's element click does the same after its own checks, which cost it 50–100 ms
/// more per click on the demo shop's banner (chromedriver 156, 2026-12: element click
/// 72–137 ms, actions 24–43 ms, an in-page `click()` 13–18 ms; the last is not a trusted
/// event, so not used). Those checks are made in one script first
/// ([`CLICK_TARGET_JS`]); when the element is hidden or covered, WebDriver's element click
/// is used instead, so a refused click keeps its error (`element click intercepted`, not
/// interactable) and anything our check is stricter about still gets clicked.
pub(super) async fn click(
    client: &fantoccini::Client,
    el: &fantoccini::elements::Element,
    sel: &str,
    timeout: Duration,
) -> Result<(), Failure> {
    use fantoccini::actions::{InputSource, MouseActions, PointerAction, MOUSE_BUTTON_LEFT};
    let deadline = Instant::now() + timeout;
    let timed_out = || {
        Failure::new(
            FailureKind::StepTimeout,
            format!("clicking {sel:?} did not finish within {timeout:?}"),
        )
    };
    let failed = |e: fantoccini::error::CmdError| {
        Failure::new(
            classify(&e, FailureKind::Other),
            format!("could not click {sel:?}: {e}"),
        )
    };
    let target = serde_json::to_value(el)
        .map_err(|e| Failure::new(FailureKind::Other, format!("could not click {sel:?}: {e}")))?;
    let checked = tokio::time::timeout(timeout, client.execute(CLICK_TARGET_JS, vec![target]))
        .await
        .map_err(|_| timed_out())?
        .map_err(failed)?;
    let left = deadline.saturating_duration_since(Instant::now());
    if checked.as_str() != Some("ok") {
        return tokio::time::timeout(left, el.click())
            .await
            .map_err(|_| timed_out())?
            .map_err(failed);
    }
    let pointer = MouseActions::new("consentry-pointer".to_string())
        .then(PointerAction::MoveToElement {
            element: el.clone(),
            duration: Some(Duration::ZERO),
            x: 0.0,
            y: 0.0,
        })
        .then(PointerAction::Down {
            button: MOUSE_BUTTON_LEFT,
        })
        .then(PointerAction::Up {
            button: MOUSE_BUTTON_LEFT,
        });
    tokio::time::timeout(left, client.perform_actions(pointer))
        .await
        .map_err(|_| timed_out())?
        .map_err(failed)
}

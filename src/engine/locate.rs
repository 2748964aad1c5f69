//! Finding a step's elements where banners really are: through frames (also cross-site:
//! WebDriver switches into out-of-process frames) and open shadow roots, following a
//! selector path (`iframe#cmp >>> #host >>> button.accept`, [`selector_parts`]).
//!
//! Every part but the last is a host: an `iframe` / `frame` element is entered, any
//! other element's open shadow root is searched. Each attempt starts from the top-level
//! document and is retried until the step timeout (a frame may still be loading, a
//! custom element not yet upgraded). WebDriver stays in the innermost frame until
//! [`leave_frames`]; every caller leaves them, so later steps, probes and reads run in
//! the top-level document again.

use super::verdicts::classify;
use crate::browser::Session;
use crate::model::{Failure, FailureKind};
use crate::scenario::selector_parts;
use fantoccini::elements::{Element, ShadowRoot};
use fantoccini::Locator;
use serde_json::{json, Value};
use std::time::{Duration, Instant};

/// What an attempt found: the elements, and how many frames WebDriver entered.
pub(super) struct Found {
    pub(super) elements: Vec<Element>,
    pub(super) frames: usize,
}

enum Miss {
    /// Not there (yet): why, in words.
    NotYet(String),
    Fatal(Failure),
}

/// Wait up to `timeout` for `path`: its first element (`all` false) or every element
/// of its last part, once at least one matches (`all`: none within the timeout is an
/// empty list, not an error). On success WebDriver is inside the element's frame.
pub(super) async fn locate(
    client: &fantoccini::Client,
    path: &str,
    timeout: Duration,
    all: bool,
) -> Result<Found, Failure> {
    let parts = selector_parts(path);
    let deadline = Instant::now() + timeout;
    loop {
        let mut frames = 0;
        let res = attempt(client, &parts, all, &mut frames).await;
        match res {
            Ok(elements) if !elements.is_empty() || (all && Instant::now() >= deadline) => {
                return Ok(Found { elements, frames })
            }
            Ok(_) => {}
            Err(Miss::Fatal(f)) => {
                leave_frames(client, frames).await;
                return Err(f);
            }
            Err(Miss::NotYet(why)) if Instant::now() >= deadline => {
                leave_frames(client, frames).await;
                let detail = if parts.len() > 1 {
                    format!(": {why}")
                } else {
                    String::new()
                };
                return Err(Failure::new(
                    FailureKind::ElementNotFound,
                    format!("no element matches {path:?} within {timeout:?}{detail}"),
                ));
            }
            Err(Miss::NotYet(_)) => {}
        }
        leave_frames(client, frames).await;
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Back to the top-level document after `frames` frames were entered.
pub(super) async fn leave_frames(client: &fantoccini::Client, frames: usize) {
    for _ in 0..frames {
        if client.enter_parent_frame().await.is_err() {
            break;
        }
    }
}

async fn attempt(
    client: &fantoccini::Client,
    parts: &[&str],
    all: bool,
    frames: &mut usize,
) -> Result<Vec<Element>, Miss> {
    let mut shadow: Option<ShadowRoot> = None;
    let fatal = |part: &str, e: fantoccini::error::CmdError| {
        Miss::Fatal(Failure::new(
            classify(&e, FailureKind::ElementNotFound),
            format!("looking for {part:?}: {e}"),
        ))
    };
    for (i, part) in parts.iter().enumerate() {
        let last = i + 1 == parts.len();
        let css = Locator::Css(part);
        if last && all {
            let found = match &shadow {
                Some(root) => root.find_all(css).await,
                None => client.find_all(css).await,
            };
            return found.map_err(|e| fatal(part, e));
        }
        let found = match &shadow {
            Some(root) => root.find(css).await,
            None => client.find(css).await,
        };
        let el = match found {
            Ok(el) => el,
            Err(e) if e.is_no_such_element() || e.is_stale_element_reference() => {
                return Err(Miss::NotYet(format!("`{part}` not found")))
            }
            Err(e) if e.is_detached_shadow_root() => {
                return Err(Miss::NotYet(format!(
                    "the shadow root holding `{part}` went away"
                )))
            }
            Err(e) => return Err(fatal(part, e)),
        };
        if last {
            return Ok(vec![el]);
        }
        let tag = el
            .tag_name()
            .await
            .map_err(|e| fatal(part, e))?
            .to_ascii_lowercase();
        if tag == "iframe" || tag == "frame" {
            match el.enter_frame().await {
                Ok(()) => {
                    *frames += 1;
                    shadow = None;
                }
                Err(e) if e.is_no_such_frame() || e.is_stale_element_reference() => {
                    return Err(Miss::NotYet(format!("frame `{part}` is not ready")))
                }
                Err(e) => return Err(fatal(part, e)),
            }
        } else {
            match el.shadow_root().await {
                Ok(root) => shadow = Some(root),
                Err(e) if e.is_no_such_shadow_root() || e.is_stale_element_reference() => {
                    return Err(Miss::NotYet(format!(
                        "`{part}` is neither a frame nor an element with an open shadow root"
                    )))
                }
                Err(e) => return Err(fatal(part, e)),
            }
        }
    }
    Err(Miss::NotYet("empty selector path".to_string()))
}

/// Is the element of a selector path on screen now (no waiting)? Through open shadow
/// roots; at a frame, the frame element itself is judged (a cross-site frame's content
/// cannot be read from the page). How re-prompts are seen.
pub(super) const VISIBLE_JS: &str = r#"
const parts = arguments[0];
let root = document, el = null;
for (let i = 0; i < parts.length; i++) {
  el = root.querySelector(parts[i]);
  if (!el) return false;
  if (i + 1 === parts.length) break;
  if (el.tagName === 'IFRAME' || el.tagName === 'FRAME') break;
  if (!el.shadowRoot) return false;
  root = el.shadowRoot;
}
if (!el || el.closest('[hidden]')) return false;
const r = el.getBoundingClientRect();
if (r.width < 1 || r.height < 1) return false;
return typeof el.checkVisibility === 'function'
  ? el.checkVisibility({ checkOpacity: true, checkVisibilityCSS: true })
  : getComputedStyle(el).visibility !== 'hidden';
"#;

/// [`VISIBLE_JS`] for `path`; `None` when it cannot be told.
pub(super) async fn visible(session: &Session, path: &str) -> Option<bool> {
    let parts: Vec<&str> = selector_parts(path);
    let res = tokio::time::timeout(
        Duration::from_secs(3),
        session.client.execute(VISIBLE_JS, vec![json!(parts)]),
    )
    .await;
    match res {
        Ok(Ok(Value::Bool(b))) => Some(b),
        _ => None,
    }
}

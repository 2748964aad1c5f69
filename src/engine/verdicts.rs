//! What a page load or a WebDriver error means for the visit: the main document's
//! outcome, timeouts, and the failure kind of an error.

use crate::capture::Capture;
use crate::model::{Failure, FailureKind};

/// Could the page be looked at? WebDriver reports a redirect loop, an HTTP 500 or an
/// unsafe port as a successful load (Chromium shows its error page, or the server's),
/// so the main document's own outcome decides: a network error, Chromium's error page
/// or a status >= 400 make the visit not observed. No main document seen at all is a
/// warning, returned to be recorded (the audit cannot confirm the page loaded).
pub(super) fn check_document(capture: &Capture, url: &url::Url) -> Result<Option<String>, Failure> {
    let Some(doc) = capture.last_document() else {
        return Ok(Some(format!(
            "no main-document response was seen for {url}; the page may not have loaded"
        )));
    };
    if let Some(err) = &doc.error {
        return Err(Failure::new(
            FailureKind::NavigationFailed,
            format!("page {url} could not be loaded: {err}"),
        ));
    }
    match doc.status {
        Some(status) if status >= 400 => Err(Failure::new(
            FailureKind::HttpError,
            format!("page {url} answered HTTP {status}"),
        )),
        _ => Ok(None),
    }
}

/// Is this WebDriver error a timeout (page load or script)?
pub(super) fn is_timeout(e: &fantoccini::error::CmdError) -> bool {
    use fantoccini::error::{CmdError, ErrorStatus};
    match e {
        CmdError::Standard(w) => {
            matches!(w.error, ErrorStatus::Timeout | ErrorStatus::ScriptTimeout)
        }
        CmdError::WaitTimeout => true,
        _ => false,
    }
}

/// The failure kind of a WebDriver error, `default` when nothing more specific applies.
pub(super) fn classify(e: &fantoccini::error::CmdError, default: FailureKind) -> FailureKind {
    use fantoccini::error::{CmdError, ErrorStatus};
    match e {
        CmdError::Standard(w) => match w.error {
            ErrorStatus::ElementClickIntercepted => FailureKind::ClickIntercepted,
            ErrorStatus::NoSuchElement | ErrorStatus::StaleElementReference => {
                FailureKind::ElementNotFound
            }
            ErrorStatus::Timeout | ErrorStatus::ScriptTimeout => FailureKind::StepTimeout,
            ErrorStatus::JavascriptError => FailureKind::ScriptFailed,
            ErrorStatus::InvalidSessionId | ErrorStatus::SessionNotCreated => {
                FailureKind::BrowserCrashed
            }
            _ => default,
        },
        CmdError::Lost(_) | CmdError::Failed(_) => FailureKind::BrowserCrashed,
        CmdError::WaitTimeout => FailureKind::StepTimeout,
        _ => default,
    }
}

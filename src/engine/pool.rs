//! Browsers for scenarios: a fresh one per scenario, or a pooled one with a fresh
//! browser context per scenario.

use super::*;

/// Browsers waiting for their next scenario, keyed by what they were launched with (the
/// scenario file's browser options): at most one per job.
pub(super) struct BrowserPool {
    pub(super) idle: std::sync::Mutex<Vec<(String, Session)>>,
    pub(super) max: usize,
}

impl BrowserPool {
    pub(super) fn key(opts: &crate::scenario::BrowserOptions) -> String {
        format!(
            "{:?}",
            (
                &opts.args,
                &opts.third_party_cookies,
                &opts.user_agent,
                opts.window_size,
                opts.page_load_timeout
            )
        )
    }

    pub(super) fn take(&self, key: &str) -> Option<Session> {
        let mut idle = self.idle.lock().unwrap_or_else(|e| e.into_inner());
        let i = idle.iter().position(|(k, _)| k == key)?;
        Some(idle.swap_remove(i).1)
    }

    /// Keep `session` for the next scenario; returns the browser to close when the pool
    /// is full (the oldest).
    pub(super) fn put(&self, key: String, session: Session) -> Option<Session> {
        let mut idle = self.idle.lock().unwrap_or_else(|e| e.into_inner());
        idle.push((key, session));
        (idle.len() > self.max).then(|| idle.remove(0).1)
    }

    pub(super) fn drain(&self) -> Vec<Session> {
        let mut idle = self.idle.lock().unwrap_or_else(|e| e.into_inner());
        idle.drain(..).map(|(_, s)| s).collect()
    }
}

/// A browser session and its capture, ready for a scenario.
pub(super) type Started = (Session, Capture);

/// A fresh browser with a fresh profile.
pub(super) async fn start_fresh(
    browser: &BrowserConfig,
    options: &crate::scenario::BrowserOptions,
    page_script: Option<std::sync::Arc<str>>,
) -> Result<Started, Failure> {
    let session = Session::start(browser, options).await.map_err(|e| {
        Failure::new(
            FailureKind::SessionFailed,
            format!("browser session could not start: {e:#}"),
        )
    })?;
    match Capture::start_with(&session.devtools_ws, page_script).await {
        Ok(c) => Ok((session, c)),
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
/// WebDriver's current window.
pub(super) async fn start_reused(
    browser: &BrowserConfig,
    pool: &BrowserPool,
    options: &crate::scenario::BrowserOptions,
    page_script: Option<std::sync::Arc<str>>,
) -> Result<Started, Failure> {
    let key = BrowserPool::key(options);
    let session = match pool.take(&key) {
        Some(s) => s,
        None => Session::start(browser, options).await.map_err(|e| {
            Failure::new(
                FailureKind::SessionFailed,
                format!("browser session could not start: {e:#}"),
            )
        })?,
    };
    let opened =
        Capture::start_in_new_context(&session.devtools_ws, options.window_size, page_script)
            .await
            .map_err(|e| format!("capture unavailable in a new browser context: {e:#}"));
    let err = match opened {
        Ok((capture, target)) => match switch_to(&session, &target).await {
            Ok(()) => return Ok((session, capture)),
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

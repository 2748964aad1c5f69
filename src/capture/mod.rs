//! Capture of what a page does, through a DevTools side channel (facts: ../shared/CAPTURE.md).
//!
//! - Every target is auto-attached (pages, cross-site iframes, dedicated/shared/service
//!   workers), each paused until `Network.enable` and our hooks are in place.
//! - A browser-wide `Fetch` interception sees what the per-target network events miss
//!   (a beacon sent while the page unloads); it is merged by request id.
//! - `Set-Cookie` attempts come from `Network.responseReceivedExtraInfo`, blocked ones
//!   with their reasons; `document.cookie` and Cookie Store API writes (`cookieStore.set`
//!   and `delete`, reported once the browser accepted them) come from a hook installed
//!   before any page script runs; Web Storage writes from the browser's `DOMStorage` events (however
//!   the page wrote them; a write it refused is none); the stored jar from
//!   `Storage.getCookies`; WebSockets from the `Network.webSocket*` events, as requests
//!   of type `WebSocket` with their frames counted (`recorder/websocket.rs`).
//! - Each request hop keeps its headers (the wire ones from the `ExtraInfo` events when
//!   DevTools sends them), status text, MIME type, protocol and timing, bounded and
//!   redacted as they arrive (`recorder/bound.rs`, `model::http`): the HAR of a visit.
//! - Each observation is stamped with the page and consent state the engine has set.
//! - The events are handled by a pure state machine ([`recorder::Recorder`]), which the
//!   unit tests drive from recorded transcripts (`tests/fixtures/cdp/`).
//!
//! Recording a transcript: with `CONSENTRY_CDP_TRANSCRIPT=/path/file.jsonl` in the
//! environment, every DevTools event a capture receives is appended to that file, one JSON
//! object a line (`{"sessionId":..,"method":..,"params":..}`), e.g.
//! `CONSENTRY_CDP_TRANSCRIPT=/tmp/t.jsonl consentry audit FILE --scenario ID --jobs 1`
//! (with several scenarios in parallel their lines interleave).

pub mod autoconsent;
pub mod cdp;
pub mod cookies;
pub mod dialogs;
pub mod events;
pub mod recorder;
mod settle;

pub use settle::{SettleOutcome, INTERVAL_HORIZON, SETTLE_GRACE};

use crate::model::{ConsentState, DocumentOutcome, PageError, RequestObs, ValueHasher};
use crate::model::{CookieWrite, StorageWrite, StoredCookie, TargetKind};
use anyhow::{Context, Result};
use cdp::{Cdp, Event};
use chrono::{DateTime, TimeZone, Utc};
use recorder::{Command, Recorder};
use serde::Deserialize as _;
use serde_json::{json, Value};
use std::io::Write as _;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

/// Environment variable naming a file every received DevTools event is appended to.
pub const TRANSCRIPT_ENV: &str = "CONSENTRY_CDP_TRANSCRIPT";

/// Longest the end of a visit waits for capture to handle the events the browser sent
/// before it ([`Capture::drain`]).
pub const DRAIN_LIMIT: Duration = Duration::from_secs(10);

/// Name of the binding our page hook reports through.
const BINDING: &str = "__consentryReport";

/// Installed in every document before its scripts (`hook.js`): reports `document.cookie`
/// writes (Web Storage writes come from `DOMStorage` events) and what `navigator.globalPrivacyControl` said, and keeps what a
/// settle asks (timers, interval ticks, animation frames, idle callbacks, messages,
/// scripts due, the load event, whether its wrappers are still in place; see
/// [`Capture::settle`]). Values are hashed on our side and never stored.
/// The binding exists when the hook runs (it is added before the hook, and measured so on
/// Chromium 156): the hook takes it at once and removes it from the page's view, so no
/// page script can replace or call it (it is looked up again at a report only if it was
/// missing at install).
const HOOK: &str = include_str!("hook.js");

/// What a capture collected, handed over when the scenario ends.
#[derive(Debug, Default)]
pub struct Captured {
    /// Requests, each URL bounded as it arrived (`recorder/bound.rs`).
    pub requests: Vec<RequestObs>,
    /// The consent signals the requests' URLs carried, decoded from each whole URL before
    /// it was bounded, in time order (their phases are given with the others').
    pub signals: Vec<crate::model::SignalObs>,
    pub cookie_writes: Vec<CookieWrite>,
    pub storage_writes: Vec<StorageWrite>,
    /// Uncaught exceptions in pages, frames and workers (at most
    /// [`recorder::MAX_PAGE_ERRORS`], in time order).
    pub page_errors: Vec<PageError>,
    /// Page errors beyond the limit, counted but not kept.
    pub page_errors_dropped: usize,
    /// Top-level navigations and how their main document ended, in order.
    pub documents: Vec<DocumentOutcome>,
    /// `Sec-GPC` on the wire and `navigator.globalPrivacyControl` in scripts.
    pub gpc: recorder::GpcTally,
    /// Page-hook reports refused (forged) or beyond the per-document bound.
    pub hook: HookTally,
    /// JavaScript dialogs the pages opened, each answered at once.
    pub dialogs: dialogs::DialogTally,
}

pub use recorder::page::MAX_HOOK_REPORTS_PER_DOCUMENT;

/// What the page hook's reports that were not kept amount to.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct HookTally {
    /// Calls of the hook's binding without the capture's secret: made by the page.
    pub forged: u32,
    /// Reports beyond the per-document bound (`MAX_HOOK_REPORTS_PER_DOCUMENT`).
    pub dropped: u32,
    /// Calls of autoconsent's binding from outside its isolated world: made by the page.
    pub autoconsent_forged: u32,
}

/// A secret fresh for each capture (128 bits from the system's random source; a hash of
/// the time and this process where that cannot be read), inlined in the page hook.
fn fresh_secret() -> String {
    use std::io::Read;
    let mut bytes = [0u8; 16];
    let read = std::fs::File::open("/dev/urandom").and_then(|mut f| f.read_exact(&mut bytes));
    if read.is_err() {
        use std::hash::{BuildHasher, Hasher};
        for (i, chunk) in bytes.chunks_mut(8).enumerate() {
            let mut h = std::collections::hash_map::RandomState::new().build_hasher();
            h.write_u128(
                std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map_or(0, |d| d.as_nanos()),
            );
            h.write_usize(i);
            h.write_u32(std::process::id());
            chunk.copy_from_slice(&h.finish().to_le_bytes());
        }
    }
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The placeholder of `hook.js` the capture's secret replaces.
const HOOK_SECRET_MARK: &str = "@@CONSENTRY_HOOK_SECRET@@";

/// What every target a capture instruments is set up with beyond capture itself, and how
/// it answers authentication challenges. A prepared context serves only a scenario with
/// an equal set-up.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct PageSetup {
    /// Injected into an isolated world of every top-level document (autoconsent's bundle).
    pub script: Option<Arc<str>>,
    /// IANA time zone of every page and frame (`Emulation.setTimezoneOverride`).
    pub timezone: Option<String>,
    /// Locale of `Intl` in every page and frame (`Emulation.setLocaleOverride`).
    pub locale: Option<String>,
    /// The proxy's user and password: proxy challenges (`Fetch.authRequired` with source
    /// `Proxy`) are answered with them; without them no challenge is intercepted.
    pub proxy_auth: Option<(String, String)>,
}

/// A running capture on one browser. Cookie and storage values (and the cookie jar's) are
/// kept only as their hash with the [`ValueHasher`] it was opened with: the key of the
/// database they are written to.
pub struct Capture {
    cdp: Cdp,
    state: Arc<Mutex<Recorder>>,
    hasher: ValueHasher,
    task: JoinHandle<()>,
    /// How many settles have started ([`Capture::settles`]).
    settles: tokio::sync::watch::Sender<u32>,
    /// Events the event loop has handled ([`Capture::drain`]).
    handled: Arc<std::sync::atomic::AtomicU64>,
    /// The interception answers proxy challenges ([`PageSetup::proxy_auth`]).
    handle_auth: bool,
}

fn lock(state: &Arc<Mutex<Recorder>>) -> MutexGuard<'_, Recorder> {
    // A panic while holding the lock cannot leave the data half-written in a way that
    // matters more than losing the capture; recover the guard.
    state.lock().unwrap_or_else(|e| e.into_inner())
}

impl Capture {
    /// Connect to the browser-level DevTools websocket and start capturing, hashing
    /// values with `hasher`.
    pub async fn start(ws_url: &str, hasher: ValueHasher) -> Result<Capture> {
        Ok(Capture::open(ws_url, None, PageSetup::default(), hasher)
            .await?
            .0)
    }

    /// [`Capture::start`], also injecting `page_script` (autoconsent's bundle,
    /// [`crate::cmp::autoconsent`]) into an isolated world of every top-level document
    /// before its scripts, with the binding it reports through ([`autoconsent`]).
    pub async fn start_with(
        ws_url: &str,
        page_script: Option<Arc<str>>,
        hasher: ValueHasher,
    ) -> Result<Capture> {
        let setup = PageSetup {
            script: page_script,
            ..PageSetup::default()
        };
        Capture::start_set_up(ws_url, setup, hasher).await
    }

    /// [`Capture::start_with`] with a whole [`PageSetup`] (a vantage's timezone, locale
    /// and proxy credentials).
    pub async fn start_set_up(
        ws_url: &str,
        setup: PageSetup,
        hasher: ValueHasher,
    ) -> Result<Capture> {
        Ok(Capture::open(ws_url, None, setup, hasher).await?.0)
    }

    /// Start capturing in a fresh, isolated browser context of an already running browser
    /// (`Target.createBrowserContext`: its own cookie jar, storage, cache, service workers
    /// and HSTS state) with one tab of `window` size. Only that context's targets are
    /// captured. Returns the capture and the tab's target id (WebDriver's window handle).
    /// [`Capture::finish_context`] disposes of the context. `page_script` and `hasher` as
    /// for [`Capture::start_with`].
    pub async fn start_in_new_context(
        ws_url: &str,
        window: (u32, u32),
        page_script: Option<Arc<str>>,
        hasher: ValueHasher,
    ) -> Result<(Capture, String)> {
        let setup = PageSetup {
            script: page_script,
            ..PageSetup::default()
        };
        let (capture, target) =
            Capture::prepare_in_new_context(ws_url, window, setup, hasher).await?;
        capture.activate().await?;
        Ok((capture, target))
    }

    /// [`Capture::start_in_new_context`] without the browser-wide request interception:
    /// the context and its instrumented tab are ready, but requests of other contexts are
    /// not intercepted, so it can be prepared while another scenario runs in the same
    /// browser without seeing (or delaying) that scenario's requests. Call
    /// [`Capture::activate`] before the scenario starts. Dropping it (or cancelling this
    /// future) closes its DevTools connection, which disposes of the context
    /// (`disposeOnDetach`).
    pub async fn prepare_in_new_context(
        ws_url: &str,
        window: (u32, u32),
        setup: PageSetup,
        hasher: ValueHasher,
    ) -> Result<(Capture, String)> {
        let (capture, target) = Capture::open(ws_url, Some(window), setup, hasher).await?;
        let target = target.ok_or_else(|| anyhow::anyhow!("no tab was created"))?;
        Ok((capture, target))
    }

    /// Start the browser-wide request interception of a prepared capture
    /// ([`Capture::prepare_in_new_context`]).
    pub async fn activate(&self) -> Result<()> {
        if let Some(c) = self.crashed() {
            anyhow::bail!("{c}");
        }
        enable_fetch(&self.cdp, self.handle_auth).await
    }

    async fn open(
        ws_url: &str,
        context: Option<(u32, u32)>,
        setup: PageSetup,
        hasher: ValueHasher,
    ) -> Result<(Capture, Option<String>)> {
        let handle_auth = setup.proxy_auth.is_some();
        let (cdp, events) = Cdp::connect(ws_url).await?;
        let state = Arc::new(Mutex::new(Recorder::new(fresh_secret(), hasher.clone())));
        let handled = Arc::new(std::sync::atomic::AtomicU64::new(0));
        let task = tokio::spawn(event_loop(
            cdp.clone(),
            state.clone(),
            events,
            Arc::new(setup),
            handled.clone(),
        ));
        // From here on, an error or a cancelled future drops the capture, which stops its
        // event loop and so closes the connection (and disposes of a context it created).
        let capture = Capture {
            cdp,
            state,
            hasher,
            task,
            settles: tokio::sync::watch::Sender::new(0),
            handled,
            handle_auth,
        };
        let (cdp, state) = (&capture.cdp, &capture.state);
        cdp.send(
            "Target.setDiscoverTargets",
            json!({ "discover": true }),
            None,
        )
        .await
        .context("cannot enable target discovery")?;
        // A context's own capture intercepts once activated (see `prepare_in_new_context`).
        if context.is_none() {
            enable_fetch(cdp, handle_auth).await?;
        }
        let mut context_id = None;
        if context.is_some() {
            let res = cdp
                .send(
                    "Target.createBrowserContext",
                    json!({ "disposeOnDetach": true }),
                    None,
                )
                .await
                .context("cannot create a browser context")?;
            let id = res
                .get("browserContextId")
                .and_then(Value::as_str)
                .ok_or_else(|| anyhow::anyhow!("Target.createBrowserContext gave no id"))?
                .to_string();
            lock(state).context = Some(id.clone());
            context_id = Some(id);
        }
        cdp.send(
            "Target.setAutoAttach",
            json!({ "autoAttach": true, "waitForDebuggerOnStart": true, "flatten": true }),
            None,
        )
        .await
        .context("cannot auto-attach to browser targets")?;
        let mut target = None;
        if let (Some(id), Some((w, h))) = (&context_id, context) {
            let res = cdp
                .send(
                    "Target.createTarget",
                    json!({ "url": "about:blank", "browserContextId": id,
                            "width": w, "height": h }),
                    None,
                )
                .await
                .context("cannot open a tab in the new browser context")?;
            target = res
                .get("targetId")
                .and_then(Value::as_str)
                .map(String::from);
        }
        // The tab exists already: wait until our hooks are in it, or the first navigation
        // would race them.
        let deadline = Instant::now() + Duration::from_secs(10);
        while lock(state).pages_ready == 0 {
            if Instant::now() > deadline {
                anyhow::bail!("the browser tab could not be instrumented within 10 s");
            }
            if let Some(c) = lock(state).crashed.clone() {
                anyhow::bail!("{c}");
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        Ok((capture, target))
    }

    /// The hasher values are kept as (the audited database's key): what the engine
    /// decodes from the page (its TC strings) is hashed with it too.
    pub fn hasher(&self) -> &ValueHasher {
        &self.hasher
    }

    /// The site's secrets: a request URL bounded as it arrives keeps the start and the
    /// hash of its redacted whole (`recorder/bound.rs`). Set before the scenario runs.
    pub fn set_secrets(&self, secrets: crate::secrets::Secrets) {
        lock(&self.state).secrets = secrets;
    }

    /// Attribute what happens from now on to this top-level page.
    pub fn set_page(&self, page: &str) {
        lock(&self.state).page = page.to_string();
    }

    /// The page what happens now is attributed to.
    pub fn page(&self) -> String {
        lock(&self.state).page.clone()
    }

    /// How the latest top-level navigation so far ended (`None` before the first one).
    /// A navigation still loading has neither status nor error yet.
    pub fn last_document(&self) -> Option<DocumentOutcome> {
        lock(&self.state).last_document()
    }

    /// Has a page target crashed, or the whole browser gone away?
    pub fn crashed(&self) -> Option<String> {
        lock(&self.state).crashed.clone()
    }

    // Settling (`wait_idle`, `settle`, `settle_continued`, `settles`): settle.rs.

    /// Read every cookie the browser stored (all domains, partitioned ones too).
    pub async fn stored_cookies(&self) -> Result<Vec<StoredCookie>> {
        let params = match lock(&self.state).context.clone() {
            Some(id) => json!({ "browserContextId": id }),
            None => json!({}),
        };
        let res = self
            .cdp
            .send("Storage.getCookies", params, None)
            .await
            .context("cannot read the cookie jar")?;
        let state = lock(&self.state).consent();
        Ok(stored_cookies_from(&res, Utc::now(), &state, &self.hasher))
    }

    /// Wait (at most `limit`) until every event received so far is handled: the event loop
    /// may lag behind the browser on a heavy page (each event is parsed, a long URL
    /// bounded), and what is still queued when the capture finishes is lost. Returns how
    /// many events received before the call were still not handled.
    pub async fn drain(&self, limit: Duration) -> u64 {
        use std::sync::atomic::Ordering;
        let target = self.cdp.events_received();
        let deadline = Instant::now() + limit;
        loop {
            let handled = self.handled.load(Ordering::Relaxed);
            if handled >= target || self.task.is_finished() || Instant::now() >= deadline {
                return target.saturating_sub(handled);
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    /// Stop capturing and hand over what was collected.
    pub fn finish(self) -> Captured {
        self.task.abort();
        lock(&self.state).take_captured()
    }

    /// [`Capture::finish`], then dispose of the browser context the capture created (its
    /// tabs, cookies, storage, cache). The error says the context could not be disposed
    /// of: the browser must not be reused then.
    pub async fn finish_context(self) -> (Captured, Result<()>) {
        // Taken first; the event loop keeps running until the context is gone (aborting
        // it would drop the event stream, and with it the connection).
        let (captured, context) = {
            let mut s = lock(&self.state);
            (s.take_captured(), s.context.clone())
        };
        let disposed = match context {
            Some(id) => self
                .cdp
                .send(
                    "Target.disposeBrowserContext",
                    json!({ "browserContextId": id }),
                    None,
                )
                .await
                .map(|_| ())
                .context("cannot dispose of the browser context"),
            None => Ok(()),
        };
        self.task.abort();
        (captured, disposed)
    }
}

impl Drop for Capture {
    /// Stops the event loop, which closes the DevTools connection once the last command
    /// in flight is done (a context the capture created is then disposed of).
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// The browser-wide request interception (every request, every context the connection
/// sees; paused requests are continued at once). With `handle_auth` (a vantage's proxy
/// has credentials) authentication challenges pause too, and are answered in the event
/// loop ([`answer_auth`]).
async fn enable_fetch(cdp: &Cdp, handle_auth: bool) -> Result<()> {
    let mut params = json!({ "patterns": [{ "urlPattern": "*", "requestStage": "Request" }] });
    if handle_auth {
        params["handleAuthRequests"] = Value::Bool(true);
    }
    cdp.send("Fetch.enable", params, None)
        .await
        .context("cannot enable browser-wide request interception")?;
    Ok(())
}

/// Answer an authentication challenge of the browser-wide interception: a proxy's with
/// the vantage's credentials, any other (a server's `401`) cancelled, so the response is
/// seen as it is, as without interception of challenges.
fn answer_auth(cdp: &Cdp, ev: &Event, credentials: Option<&(String, String)>) {
    let Some(id) = ev.params.get("requestId").and_then(Value::as_str) else {
        return;
    };
    let source = ev
        .params
        .pointer("/authChallenge/source")
        .and_then(Value::as_str);
    let response = match (source, credentials) {
        (Some("Proxy"), Some((user, password))) => json!({
            "response": "ProvideCredentials", "username": user, "password": password
        }),
        _ => json!({ "response": "CancelAuth" }),
    };
    cdp.fire(
        "Fetch.continueWithAuth",
        json!({ "requestId": id, "authChallengeResponse": response }),
        ev.session_id.as_deref(),
    );
}

/// The jar from a `Storage.getCookies` result, sorted by domain and name, each value kept
/// as its hash with `hasher`. A cookie whose fields do not fit is skipped, not the whole
/// jar.
pub fn stored_cookies_from(
    result: &Value,
    now: DateTime<Utc>,
    state: &ConsentState,
    hasher: &ValueHasher,
) -> Vec<StoredCookie> {
    let mut out: Vec<StoredCookie> = result
        .get("cookies")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|c| events::Cookie::deserialize(c).ok())
        .map(|c| StoredCookie {
            expires: Some(c.expires)
                .filter(|e| *e > 0.0 && !c.session)
                .and_then(secs_to_utc),
            partition_key: match c.partition_key {
                Some(Value::String(k)) => Some(k),
                Some(Value::Object(o)) => o
                    .get("topLevelSite")
                    .and_then(Value::as_str)
                    .map(String::from),
                _ => None,
            },
            domain: c.domain.trim_start_matches('.').to_string(),
            path: c.path.unwrap_or_else(|| "/".into()),
            value_hash: hasher.hash(&c.value),
            name: c.name,
            secure: c.secure,
            http_only: c.http_only,
            same_site: c.same_site,
            observed_at: now,
            state: state.clone(),
        })
        .collect();
    out.sort_by(|a, b| (&a.domain, &a.name).cmp(&(&b.domain, &b.name)));
    out
}

pub(crate) fn secs_to_utc(secs: f64) -> Option<DateTime<Utc>> {
    let ms = (secs * 1000.0) as i64;
    Utc.timestamp_millis_opt(ms).single()
}

pub(crate) fn is_web_url(url: &str) -> bool {
    url.starts_with("http://") || url.starts_with("https://")
}

/// Appends events to the transcript file named by [`TRANSCRIPT_ENV`], if any.
struct Transcript(Option<std::fs::File>);

impl Transcript {
    fn from_env() -> Self {
        let file = std::env::var_os(TRANSCRIPT_ENV).and_then(|path| {
            std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(&path)
                .map_err(|e| {
                    crate::stderr::line(format_args!(
                        "warning: cannot open the DevTools transcript {}: {e}",
                        std::path::Path::new(&path).display()
                    ))
                })
                .ok()
        });
        Transcript(file)
    }

    fn record(&mut self, ev: &Event) {
        let Some(file) = &mut self.0 else { return };
        let line = json!({ "sessionId": ev.session_id, "method": ev.method, "params": ev.params });
        let mut text = line.to_string();
        text.push('\n');
        // One write per line, so captures running in parallel never split a line.
        if file.write_all(text.as_bytes()).is_err() {
            self.0 = None;
        }
    }
}

async fn event_loop(
    cdp: Cdp,
    state: Arc<Mutex<Recorder>>,
    mut events: mpsc::UnboundedReceiver<Event>,
    setup: Arc<PageSetup>,
    handled: Arc<std::sync::atomic::AtomicU64>,
) {
    let mut transcript = Transcript::from_env();
    while let Some(ev) = events.recv().await {
        transcript.record(&ev);
        if ev.method == "Fetch.authRequired" {
            answer_auth(&cdp, &ev, setup.proxy_auth.as_ref());
        }
        if let Some(typed) = events::CdpEvent::parse(&ev) {
            let commands = lock(&state).handle(ev.session_id.as_deref(), typed);
            for c in commands {
                run_command(&cdp, &state, c, &setup);
            }
        }
        handled.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    }
    // The DevTools connection closed under us: the browser is gone (crashed or killed).
    let mut s = lock(&state);
    if s.crashed.is_none() {
        s.crashed = Some(
            "the browser went away during the visit (its process ended or crashed; DevTools connection closed)"
                .into(),
        );
    }
}

fn run_command(cdp: &Cdp, state: &Arc<Mutex<Recorder>>, command: Command, setup: &Arc<PageSetup>) {
    match command {
        Command::Fire {
            method,
            params,
            session,
        } => cdp.fire(method, params, session.as_deref()),
        Command::Release { session } => {
            cdp.fire(
                "Runtime.runIfWaitingForDebugger",
                json!({}),
                Some(session.as_str()),
            );
            cdp.fire(
                "Target.detachFromTarget",
                json!({ "sessionId": session }),
                None,
            );
        }
        Command::Instrument { session, kind } => {
            let cdp = cdp.clone();
            let state = state.clone();
            let setup = setup.clone();
            tokio::spawn(async move { instrument(&cdp, &state, &session, kind, &setup).await });
        }
        Command::AutoconsentEval(req) => {
            let cdp = cdp.clone();
            tokio::spawn(async move { autoconsent::answer_eval(&cdp, req).await });
        }
    }
}

/// Enable what capture needs on a paused target, then let it run.
///
/// The set-up commands are pipelined (DevTools handles a session's commands in order), so
/// a target waits one round trip, not one per command, before `runIfWaitingForDebugger`.
async fn instrument(
    cdp: &Cdp,
    state: &Arc<Mutex<Recorder>>,
    session: &str,
    kind: TargetKind,
    setup_of: &PageSetup,
) {
    let page_script = setup_of
        .script
        .as_ref()
        .filter(|_| kind == TargetKind::Page);
    let sid = Some(session);
    let is_doc = matches!(kind, TargetKind::Page | TargetKind::Iframe);
    let mut setup: Vec<(&str, Value)> = Vec::new();
    if kind != TargetKind::Other {
        setup.push(("Network.enable", json!({})));
        // Uncaught exceptions (Runtime.exceptionThrown), in workers too.
        setup.push(("Runtime.enable", json!({})));
    }
    if is_doc {
        let hook = HOOK.replace(HOOK_SECRET_MARK, &lock(state).hook.secret);
        setup.push(("Page.enable", json!({})));
        // Web Storage writes, from the browser's side (recorder/storage.rs): enabled
        // while the target is paused, so a document's first script is seen.
        setup.push(("DOMStorage.enable", json!({})));
        setup.push(("Runtime.addBinding", json!({ "name": BINDING })));
        setup.push((
            "Page.addScriptToEvaluateOnNewDocument",
            json!({ "source": hook }),
        ));
    }
    if is_doc {
        // The vantage's timezone and `Intl` locale, before the document's first script.
        if let Some(tz) = &setup_of.timezone {
            setup.push(("Emulation.setTimezoneOverride", json!({ "timezoneId": tz })));
        }
        if let Some(locale) = &setup_of.locale {
            setup.push(("Emulation.setLocaleOverride", json!({ "locale": locale })));
        }
    }
    if let Some(script) = page_script {
        setup.extend(autoconsent::setup(script));
    }
    if kind != TargetKind::Other {
        setup.push((
            "Target.setAutoAttach",
            json!({ "autoAttach": true, "waitForDebuggerOnStart": true, "flatten": true }),
        ));
    }
    // Each `send` dispatches when first polled; `join_all` polls them in order. The
    // resume goes in the same batch, after the set-up: DevTools handles them in order, and
    // a paused service worker answers some set-up commands only once it runs (awaiting
    // them first stalled its registration for the 15 s command timeout).
    setup.push(("Runtime.runIfWaitingForDebugger", json!({})));
    let sends = setup.into_iter().map(|(m, p)| cdp.send(m, p, sid));
    let _ = futures_util::future::join_all(sends).await;
    if kind == TargetKind::Page {
        let mut s = lock(state);
        s.pages_ready = s.pages_ready.saturating_add(1);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jar_is_read_with_types_and_odd_cookies_skipped() {
        let now = Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap();
        let res = json!({"cookies": [
            {"name": "_ga", "value": "GA1.1", "domain": ".demo-shop.test", "path": "/",
             "expires": 1_801_094_400.0, "size": 10, "httpOnly": false, "secure": false,
             "session": false, "sameSite": "Lax", "priority": "Medium"},
            {"name": "fr", "value": "x", "domain": "www.facebook.com", "path": "/",
             "expires": -1, "httpOnly": true, "secure": true, "session": true,
             "sameSite": "None", "partitionKey": {"topLevelSite": "https://demo-shop.test",
             "hasCrossSiteAncestor": true}},
            {"name": 42}
        ]});
        let key = ValueHasher::keyed(b"this database");
        let jar = stored_cookies_from(&res, now, &ConsentState::initial(), &key);
        assert_eq!(jar.len(), 2);
        assert_eq!(
            (jar[0].domain.as_str(), jar[0].name.as_str()),
            ("demo-shop.test", "_ga")
        );
        assert_eq!(jar[0].expires, secs_to_utc(1_801_094_400.0));
        assert_eq!(jar[0].same_site.as_deref(), Some("Lax"));
        assert_eq!(jar[0].value_hash, key.hash("GA1.1"));
        assert_eq!(jar[1].expires, None);
        assert!(jar[1].http_only && jar[1].secure);
        assert_eq!(
            jar[1].partition_key.as_deref(),
            Some("https://demo-shop.test")
        );
        assert!(stored_cookies_from(&json!({}), now, &ConsentState::initial(), &key).is_empty());
    }
}

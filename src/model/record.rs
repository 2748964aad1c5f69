//! What the browser showed us: every record of one visit (requests, cookies, storage
//! writes, page errors, steps, settles, signals, CMP actions, screenshots) and the run's
//! status. The contract between capture (which produces it), enrichment and analysis
//! (which read it, without I/O) and storage (which keeps it).
//!
//! Nothing here holds a cookie value in clear: values are kept only as a keyed hash
//! ([`super::hash::ValueHasher`], the database's key) so two observations of the same
//! value can be matched.

use super::cmp::CmpAction;
use super::consent::ConsentState;
use super::screenshot::Screenshot;
use super::signal::SignalObs;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// Which part of the browser a request came from.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Serialize,
    Deserialize,
    strum::EnumString,
    strum::IntoStaticStr,
)]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum TargetKind {
    Page,
    Iframe,
    Worker,
    ServiceWorker,
    SharedWorker,
    /// Seen only by the browser-wide request interception (e.g. a beacon sent while the page unloads).
    Browser,
    Other,
}

/// One network request made by the site (one hop of a redirect chain is one request).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RequestObs {
    pub url: String,
    pub method: String,
    /// DevTools resource type: Document, Script, Image, XHR, Fetch, Ping, Other, ...
    pub resource_type: String,
    /// Who started it: the initiating script URL when known, else the initiator type.
    pub initiator: Option<String>,
    pub frame_id: Option<String>,
    pub target: TargetKind,
    /// HTTP status, when a response arrived.
    pub status: Option<u16>,
    /// Network error text when the request failed (e.g. `net::ERR_CONNECTION_REFUSED`).
    pub error: Option<String>,
    /// The browser cancelled it, or its document navigated away before a response
    /// arrived: it no longer counts as pending.
    #[serde(default)]
    pub cancelled: bool,
    /// A WebSocket's frames (resource type `WebSocket`): how many were sent and received
    /// while it was captured, never what they held; `None` for any other request.
    #[serde(default)]
    pub frames: Option<FrameCounts>,
    /// What DevTools said started it, in parts (`initiator` above is its one-line
    /// summary): what the chain of who loaded whom is built from
    /// (`attribution::chain`). `None` for a request seen only by the browser-wide
    /// interception, and for requests read back from the store (the requests table keeps
    /// only `initiator`; the chains live on in the findings' evidence).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cause: Option<RequestCause>,
    pub time: DateTime<Utc>,
    /// The top-level page the visit was on (or navigating to) when the request was made.
    pub page: String,
    pub state: ConsentState,
    /// Its headers, status text and timing ([`super::http`], the HAR of a visit);
    /// `None` when DevTools said nothing of them (the browser-wide interception's own
    /// requests) and for requests stored before schema 20.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub http: Option<Box<super::http::HttpExchange>>,
}

/// Who started a request, as DevTools' `Network.requestWillBeSent` said it (its
/// `initiator`), and the previous hop of a redirect. Every string is a page string,
/// bounded like the request URL (8 KiB, `model::clip`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RequestCause {
    /// DevTools' initiator type: `parser`, `script`, `preflight`, `other`,
    /// `SignedExchange`, ... (empty when DevTools gave none).
    #[serde(default)]
    pub kind: String,
    /// The initiator's `url`: the document whose parser made it (`parser`), the request
    /// a preflight is for (`preflight`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// The script that made it: the first frame with a URL of the initiator's stack,
    /// looking through its async parents.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub script: Option<String>,
    /// A redirect hop: the URL of the hop that redirected to it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub redirected_from: Option<String>,
}

/// How many frames a WebSocket sent and received (their contents are never kept).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FrameCounts {
    pub sent: u32,
    pub received: u32,
}

impl RequestObs {
    /// Lower-case host of the request URL; `None` for URLs without a host.
    pub fn host(&self) -> Option<String> {
        crate::net::url_host(&self.url)
    }
}

/// How the site tried to write a cookie.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum CookieSource {
    /// A `Set-Cookie` response header of this request URL.
    Header { request_url: String },
    /// A script write in a document of this URL: a `document.cookie` assignment, or a
    /// Cookie Store API call (`cookieStore.set` / `delete`) the browser accepted.
    Script { document_url: String },
}

/// An attempt to write a cookie, whether the browser stored it or not.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CookieWrite {
    pub name: String,
    /// The `Domain` attribute, or the host that set it when absent.
    pub domain: String,
    pub path: Option<String>,
    pub value_hash: String,
    /// Lifetime the site asked for, in seconds (`Max-Age`, or `Expires` minus the write time).
    /// `None` for a session cookie. Negative or zero means deletion.
    pub requested_lifetime_secs: Option<i64>,
    /// An `Expires` attribute that was present but could not be parsed (its raw text);
    /// the lifetime then falls back to the stored cookie's, and the evidence says so.
    #[serde(default)]
    pub expiry_unparsed: Option<String>,
    pub source: CookieSource,
    /// Why the browser refused it (empty when accepted).
    pub blocked_reasons: Vec<String>,
    pub time: DateTime<Utc>,
    pub page: String,
    pub state: ConsentState,
}

/// Chromium caps a cookie's lifetime at 400 days, whatever the site asks for.
pub const CHROMIUM_MAX_COOKIE_SECS: i64 = 400 * 86_400;

/// A cookie present in the browser's jar when the scenario ended.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StoredCookie {
    pub name: String,
    pub domain: String,
    pub path: String,
    pub value_hash: String,
    /// `None` for a session cookie.
    pub expires: Option<DateTime<Utc>>,
    pub secure: bool,
    pub http_only: bool,
    pub same_site: Option<String>,
    pub partition_key: Option<String>,
    /// When the jar was read.
    pub observed_at: DateTime<Utc>,
    /// Consent state when the jar was read (end of the scenario).
    pub state: ConsentState,
}

/// Which Web Storage area a write went to.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    Serialize,
    Deserialize,
    strum::EnumString,
    strum::IntoStaticStr,
    strum::Display,
)]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum StorageArea {
    /// `localStorage`.
    Local,
    /// `sessionStorage`.
    Session,
}

impl StorageArea {
    /// `local`, `session`: as stored, and as in `localStorage` / `sessionStorage`.
    pub fn as_str(self) -> &'static str {
        self.into()
    }
}

/// A `localStorage` / `sessionStorage` write.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StorageWrite {
    /// `local` or `session`.
    pub area: StorageArea,
    pub origin: String,
    pub key: String,
    pub value_hash: String,
    pub time: DateTime<Utc>,
    pub page: String,
    pub state: ConsentState,
}

/// An uncaught exception in a page, frame or worker (a throwing CMP script included).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PageError {
    pub message: String,
    /// Script URL where it was thrown, when known.
    pub source: Option<String>,
    pub time: DateTime<Utc>,
    pub page: String,
}

/// How a top-level navigation ended: the main document's response or error.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DocumentOutcome {
    pub url: String,
    /// HTTP status of the last hop, when a response arrived.
    pub status: Option<u16>,
    /// Network error (e.g. `net::ERR_TOO_MANY_REDIRECTS`), when it failed.
    pub error: Option<String>,
    pub time: DateTime<Utc>,
}

/// What kind of thing stopped a step or a visit: stored with it, so a later run can tell
/// "same failure as last night". Stable kebab-case names (docs/storage.md).
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    Serialize,
    Deserialize,
    strum::Display,
    strum::EnumString,
    strum::IntoStaticStr,
    strum::EnumIter,
)]
#[serde(rename_all = "kebab-case")]
#[strum(serialize_all = "kebab-case")]
pub enum FailureKind {
    /// The consent banner never appeared.
    BannerAbsent,
    /// `[cmp] auto = true`: autoconsent detected no CMP with an open popup, and no
    /// selectors were given to fall back on.
    CmpNotDetected,
    /// autoconsent's accept / reject reported failure, and no selectors were given.
    CmpActionFailed,
    /// A CMP-profile step (object_li, withdraw) found no profile for the CMP on the
    /// page, or the CMP's profile says it cannot do it.
    NoCmpProfile,
    /// No element matched a step's selector in time.
    ElementNotFound,
    /// The element was there but another element received the click.
    ClickIntercepted,
    /// A page could not be reached (DNS, refused, TLS, redirect loop, unsafe port, ...).
    NavigationFailed,
    /// A page answered with an HTTP error status (>= 400).
    HttpError,
    /// A page did not finish loading in time.
    PageLoadTimeout,
    /// A step did not finish in time.
    StepTimeout,
    /// A step's script threw or could not run.
    ScriptFailed,
    /// The browser or the page's renderer crashed or went away.
    BrowserCrashed,
    /// The browser session could not be started.
    SessionFailed,
    /// The DevTools capture could not be attached, or the cookie jar read.
    CaptureUnavailable,
    /// Stopped by a signal (Ctrl-C, SIGTERM, SIGHUP).
    Cancelled,
    /// The scenario file's `[login]` did not log in: one of its steps failed, or its
    /// `check` was not present after them (docs/scenarios.md#login).
    LoginFailed,
    /// Anything else (a screenshot that could not be written, a site with no page).
    Other,
}

impl FailureKind {
    pub fn as_str(self) -> &'static str {
        self.into()
    }
}

/// Why a step or a visit did not do what it set out to do.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Failure {
    pub kind: FailureKind,
    pub reason: String,
}

impl Failure {
    pub fn new(kind: FailureKind, reason: impl Into<String>) -> Self {
        Failure {
            kind,
            reason: reason.into(),
        }
    }
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.reason)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "status")]
pub enum StepStatus {
    Done,
    Failed(Failure),
    /// Not attempted because an earlier step failed.
    Skipped,
}

/// What happened to one scenario step.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StepOutcome {
    pub index: usize,
    /// Human description, e.g. `click "#cb-accept" (scenarios/demo.toml:40)`.
    pub description: String,
    pub status: StepStatus,
    pub started_at: DateTime<Utc>,
    pub duration_ms: u64,
}

/// The scenario file's `[login]` as one visit ran it (docs/scenarios.md#login): its
/// steps' outcomes and, when it succeeded, when it completed. Evidence from then on is
/// marked logged in (the evidence's `logged_in`, set by analysis).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LoginObs {
    /// One per login step: done, failed, or skipped after a failure (their own
    /// numbering, from 0; the scenario's steps are numbered apart).
    pub steps: Vec<StepOutcome>,
    /// When the login completed (its steps done and its `check` present); `None`: it
    /// failed, and the visit is incomplete with the reason.
    pub completed_at: Option<DateTime<Utc>>,
}

impl LoginObs {
    /// Was the visit logged in at `t` (the login completed at or before it)?
    pub fn logged_in_at(&self, t: DateTime<Utc>) -> bool {
        self.completed_at.is_some_and(|done| t >= done)
    }
}

/// Did the scenario observe what it set out to observe?
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "status")]
pub enum VisitStatus {
    Complete,
    /// Something could not be observed (a step failed, the browser crashed, the site
    /// was unreachable, capture was unavailable). Never to be read as "clean".
    Incomplete(Failure),
}

impl VisitStatus {
    pub fn failure(&self) -> Option<&Failure> {
        match self {
            VisitStatus::Complete => None,
            VisitStatus::Incomplete(f) => Some(f),
        }
    }
}

/// Wall time spent in each part of a scenario, in milliseconds. The parts do not overlap:
/// `load_ms` is navigations only (pages and leaving the page), `steps_ms` the scenario's
/// steps without the settles they contain, `settle_ms` every settle.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct VisitTimings {
    pub session_start_ms: u64,
    pub load_ms: u64,
    #[serde(default)]
    pub steps_ms: u64,
    pub settle_ms: u64,
    pub capture_ms: u64,
    pub close_ms: u64,
    /// Screenshots around consent actions ([`crate::screenshots`]): taking them and the
    /// settle before each "after" one. Not part of the other parts.
    #[serde(default)]
    pub screenshot_ms: u64,
    /// Every settle of the visit in order: why it ran, how long it took, what ended it.
    #[serde(default)]
    pub settles: Vec<Settle>,
}

/// One settle (waiting until the page has nothing more in flight).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Settle {
    /// When in the scenario it ran, e.g. "after loading https://shop.test/".
    pub why: String,
    pub ms: u64,
    pub ended: SettleEnd,
}

/// What ended a settle.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SettleEnd {
    /// No request in flight, and the page had no short timer, animation frame or load
    /// event pending (checked in every document target capture instruments).
    Idle,
    /// No request for the whole quiet window (the upper bound), while the page still
    /// had something pending or could not be asked.
    QuietWindow,
    /// The settle timeout: requests were still pending.
    Timeout,
    /// The whole quiet window, because a page had replaced a function the page hook
    /// tracks due work through (`setTimeout`, `setInterval`, `requestAnimationFrame`,
    /// `requestIdleCallback`, `postMessage`, `MessageChannel`): what it schedules through
    /// the replacement cannot be seen, so the page's "nothing due" is not trusted.
    Tampered,
}

impl SettleEnd {
    pub fn as_str(self) -> &'static str {
        match self {
            SettleEnd::Idle => "idle: no request, no timer",
            SettleEnd::QuietWindow => "quiet window",
            SettleEnd::Timeout => "timeout",
            SettleEnd::Tampered => "quiet window: the page replaced timer functions",
        }
    }
}

/// Everything one scenario run observed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VisitObservation {
    pub scenario: String,
    pub started_at: DateTime<Utc>,
    pub finished_at: DateTime<Utc>,
    pub status: VisitStatus,
    pub steps: Vec<StepOutcome>,
    pub requests: Vec<RequestObs>,
    pub cookie_writes: Vec<CookieWrite>,
    pub cookies: Vec<StoredCookie>,
    pub storage_writes: Vec<StorageWrite>,
    /// Uncaught page exceptions, in time order.
    #[serde(default)]
    pub page_errors: Vec<PageError>,
    /// Consent signals read in the page, from the CMP's cookie and from vendor requests
    /// ([`crate::signals`]), in time order.
    #[serde(default)]
    pub signals: Vec<SignalObs>,
    /// How each consent action was performed (autoconsent or selectors, the detected CMP)
    /// and what the CMP recorded afterwards ([`crate::cmp`]).
    #[serde(default)]
    pub cmp: Vec<CmpAction>,
    /// Viewport screenshots before and after each consent action, in the order taken
    /// ([`crate::screenshots`]).
    #[serde(default)]
    pub screenshots: Vec<Screenshot>,
    /// Consent state at the end of the scenario.
    pub final_state: ConsentState,
    /// Things worth knowing that did not make the visit incomplete (e.g. settle timed out).
    pub warnings: Vec<String>,
    pub timings: VisitTimings,
    /// The scenario file's `[login]`, when this visit ran it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub login: Option<LoginObs>,
}

/// Outcome of a whole audit run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, strum::EnumDiscriminants)]
#[serde(rename_all = "snake_case", tag = "status", content = "reason")]
#[strum_discriminants(
    name(RunStatusKind),
    derive(strum::IntoStaticStr, strum::EnumString),
    strum(serialize_all = "snake_case"),
    doc = "A [`RunStatus`] without its reason: the name stored in `runs.status` and shown \
           in reports (`running`, `complete`, `incomplete`, `interrupted`)."
)]
pub enum RunStatus {
    /// Started and not finished (a run left like this by a killed process is incomplete).
    Running,
    /// Every scenario was observed.
    Complete,
    /// At least one scenario could not be observed.
    Incomplete(String),
    /// Stopped by the user (Ctrl-C) or a fatal error; what was recorded before is kept.
    Interrupted(String),
}

impl RunStatus {
    pub fn as_str(&self) -> &'static str {
        RunStatusKind::from(self).into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A run status's name (stored in `runs.status`, shown in reports) is its serde tag.
    #[test]
    fn run_status_names_are_the_serde_tags() {
        for (s, n) in [
            (RunStatus::Running, "running"),
            (RunStatus::Complete, "complete"),
            (RunStatus::Incomplete("r".into()), "incomplete"),
            (RunStatus::Interrupted("r".into()), "interrupted"),
        ] {
            assert_eq!(s.as_str(), n);
            assert_eq!(serde_json::to_value(&s).unwrap()["status"], n);
            assert_eq!(
                n.parse::<RunStatusKind>().ok(),
                Some(RunStatusKind::from(&s))
            );
        }
        assert!("Complete".parse::<RunStatusKind>().is_err());
    }
}

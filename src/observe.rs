//! What the browser showed us: the contract between capture (which produces it),
//! analysis (which judges it, without I/O) and storage (which keeps it).
//!
//! Nothing here holds a cookie value in clear: values are kept only as a salted-free
//! SHA-256 prefix ([`hash_value`]) so two observations of the same value can be matched.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// The visitor's consent decision for consent-based purposes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ConsentChoice {
    /// No choice made yet (banner not answered).
    Undecided,
    Granted,
    Denied,
}

/// A consent action performed by a scenario step.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ConsentAction {
    AcceptAll,
    RejectAll,
    ObjectLi,
}

impl ConsentAction {
    pub fn as_str(self) -> &'static str {
        match self {
            ConsentAction::AcceptAll => "accept_all",
            ConsentAction::RejectAll => "reject_all",
            ConsentAction::ObjectLi => "object_li",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "accept_all" => Some(ConsentAction::AcceptAll),
            "reject_all" => Some(ConsentAction::RejectAll),
            "object_li" => Some(ConsentAction::ObjectLi),
            _ => None,
        }
    }
}

/// What a consent action records in the CMP. CMPs differ: one CMP's "Reject all" also
/// objects to legitimate interest, another's objection flow also refuses consent. The
/// scenario file declares, per action, what its CMP records ([`ConsentAction::default_effects`]
/// when it says nothing); the CMP issue reads the CMP's own record back instead.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ConsentEffect {
    /// Consent granted for every consent-based purpose.
    GrantConsent,
    /// Consent refused for every consent-based purpose.
    RefuseConsent,
    /// Objection to every legitimate-interest purpose.
    ObjectLi,
}

impl ConsentEffect {
    pub const ALL: [ConsentEffect; 3] = [
        ConsentEffect::GrantConsent,
        ConsentEffect::RefuseConsent,
        ConsentEffect::ObjectLi,
    ];
    pub fn as_str(self) -> &'static str {
        match self {
            ConsentEffect::GrantConsent => "grant_consent",
            ConsentEffect::RefuseConsent => "refuse_consent",
            ConsentEffect::ObjectLi => "object_li",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        ConsentEffect::ALL.into_iter().find(|e| e.as_str() == s)
    }
}

impl ConsentAction {
    /// What the action records when the scenario file does not say otherwise.
    pub fn default_effects(self) -> &'static [ConsentEffect] {
        match self {
            ConsentAction::AcceptAll => &[ConsentEffect::GrantConsent],
            ConsentAction::RejectAll => &[ConsentEffect::RefuseConsent],
            ConsentAction::ObjectLi => &[ConsentEffect::ObjectLi],
        }
    }
}

/// The consent state in force when something was observed: the phase of the visit.
///
/// It starts as [`ConsentState::initial`] and changes only when a step marked with a
/// consent action is performed (the engine settles the network before such a step, so
/// requests are not attributed to the wrong side of the click).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConsentState {
    pub consent: ConsentChoice,
    /// The visitor objected to processing based on legitimate interest.
    pub li_objected: bool,
    /// The consent actions performed so far, in order.
    pub actions: Vec<ConsentAction>,
}

impl ConsentState {
    pub fn initial() -> Self {
        ConsentState {
            consent: ConsentChoice::Undecided,
            li_objected: false,
            actions: Vec::new(),
        }
    }

    /// The state after performing `action` with its default effects.
    pub fn after(&self, action: ConsentAction) -> Self {
        self.apply(action, action.default_effects())
    }

    /// The state after performing `action`, which recorded `effects` in the CMP.
    pub fn apply(&self, action: ConsentAction, effects: &[ConsentEffect]) -> Self {
        let mut next = self.clone();
        for effect in effects {
            match effect {
                ConsentEffect::GrantConsent => next.consent = ConsentChoice::Granted,
                ConsentEffect::RefuseConsent => next.consent = ConsentChoice::Denied,
                ConsentEffect::ObjectLi => next.li_objected = true,
            }
        }
        next.actions.push(action);
        next
    }

    /// `before-choice` or `after-<last action>`: the phase label used in evidence.
    pub fn phase(&self) -> String {
        match self.actions.last() {
            None => "before-choice".to_string(),
            Some(a) => format!("after-{}", a.as_str()),
        }
    }
}

/// Which part of the browser a request came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
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
    pub time: DateTime<Utc>,
    /// The top-level page the visit was on (or navigating to) when the request was made.
    pub page: String,
    pub state: ConsentState,
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
    /// A `document.cookie` assignment in a document of this URL.
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

/// A `localStorage` / `sessionStorage` write.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StorageWrite {
    /// `local` or `session`.
    pub area: String,
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
}

impl SettleEnd {
    pub fn as_str(self) -> &'static str {
        match self {
            SettleEnd::Idle => "idle: no request, no timer",
            SettleEnd::QuietWindow => "quiet window",
            SettleEnd::Timeout => "timeout",
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
    pub signals: Vec<crate::signals::SignalObs>,
    /// How each consent action was performed (autoconsent or selectors, the detected CMP)
    /// and what the CMP recorded afterwards ([`crate::cmp`]).
    #[serde(default)]
    pub cmp: Vec<crate::cmp::CmpAction>,
    /// Viewport screenshots before and after each consent action, in the order taken
    /// ([`crate::screenshots`]).
    #[serde(default)]
    pub screenshots: Vec<crate::screenshots::Screenshot>,
    /// Consent state at the end of the scenario.
    pub final_state: ConsentState,
    /// Things worth knowing that did not make the visit incomplete (e.g. settle timed out).
    pub warnings: Vec<String>,
    pub timings: VisitTimings,
}

/// Outcome of a whole audit run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "status", content = "reason")]
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
        match self {
            RunStatus::Running => "running",
            RunStatus::Complete => "complete",
            RunStatus::Incomplete(_) => "incomplete",
            RunStatus::Interrupted(_) => "interrupted",
        }
    }
}

/// The key cookie and storage values are hashed with: one random key per database
/// (`Store::hash_key`), installed once per process by the pipeline before any browser
/// starts. Equal values still compare equal within one database's history, but a
/// guessable value (`consent=false`, a user id) cannot be confirmed offline from a copy
/// of the hashes without the key.
static HASH_KEY: std::sync::OnceLock<Vec<u8>> = std::sync::OnceLock::new();

/// Install the per-database hashing key. The first key wins (one database per process);
/// returns false when a different key was already installed.
pub fn set_hash_key(key: &[u8]) -> bool {
    HASH_KEY.get_or_init(|| key.to_vec()) == key
}

/// Keyed SHA-256 of a value (HMAC-SHA-256 with the database's key; plain SHA-256 when no
/// key is installed, as in unit tests), first 16 hex digits: lets values be matched
/// without storing them.
pub fn hash_value(value: &str) -> String {
    let digest = match HASH_KEY.get() {
        Some(key) => hmac_sha256(key, value.as_bytes()),
        None => Sha256::digest(value.as_bytes()).into(),
    };
    digest.iter().take(8).map(|b| format!("{b:02x}")).collect()
}

/// HMAC-SHA-256 (RFC 2104) over `sha2`, so no further crate is needed.
fn hmac_sha256(key: &[u8], msg: &[u8]) -> [u8; 32] {
    const BLOCK: usize = 64;
    let mut k = [0u8; BLOCK];
    if key.len() > BLOCK {
        k[..32].copy_from_slice(&Sha256::digest(key));
    } else {
        k[..key.len()].copy_from_slice(key);
    }
    let mut inner = Sha256::new();
    inner.update(k.map(|b| b ^ 0x36));
    inner.update(msg);
    let mut outer = Sha256::new();
    outer.update(k.map(|b| b ^ 0x5c));
    outer.update(inner.finalize());
    outer.finalize().into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phases_follow_actions() {
        let s = ConsentState::initial();
        assert_eq!(s.phase(), "before-choice");
        let s = s
            .after(ConsentAction::AcceptAll)
            .after(ConsentAction::ObjectLi);
        assert_eq!(s.consent, ConsentChoice::Granted);
        assert!(s.li_objected);
        assert_eq!(s.phase(), "after-object_li");
    }

    #[test]
    fn hmac_matches_rfc_4231_case_2() {
        let mac = hmac_sha256(b"Jefe", b"what do ya want for nothing?");
        let hex: String = mac.iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(
            hex,
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }

    #[test]
    fn hash_is_stable_and_hides_value() {
        let h = hash_value("secret-session-id");
        assert_eq!(h.len(), 16);
        assert_eq!(h, hash_value("secret-session-id"));
        assert!(!h.contains("secret"));
    }
}

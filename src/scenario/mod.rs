//! Scenario files: the site, the consent scenarios to run and browser options.
//!
//! Format: TOML (see docs/scenarios.md). This module holds the validated model;
//! [`load`] turns a file into it, collecting every problem at once with file:line:col.

pub mod load;
pub mod profile;

pub use profile::{CmpProfile, Flow, FlowKind, ProfileStep};

use crate::model::{ConsentAction, ConsentEffect, Grant};
use crate::policy::Policy;
use crate::secrets::Secrets;
use serde::Serialize;
use std::path::PathBuf;
use std::time::Duration;
use url::Url;

/// The ids of the built-in scenarios, in the order they run.
pub const BUILTIN_SCENARIOS: [&str; 6] = [
    "no_action",
    "accept_all",
    "reject_all",
    "object_li",
    "reject_then_reload",
    "accept_then_withdraw",
];

/// The built-in partial consent: the CMP profile's `[accept_some]` flow granting `[cmp]
/// grant`. It runs by default when `[cmp] grant` is given (after the six above), and
/// otherwise only when `[run]` lists it (then `grant` is required).
pub const PARTIAL_BUILTIN: &str = "accept_some";

/// Built-ins that run only when `[run]` lists them (not in the default order): `gpc`
/// loads the pages with Global Privacy Control on and leaves the banner alone.
pub const OPT_IN_BUILTINS: [&str; 1] = ["gpc"];

/// A fully validated scenario file, with its declared map loaded.
#[derive(Debug, Clone, Serialize)]
pub struct AuditSpec {
    pub path: PathBuf,
    pub site: Site,
    pub browser: BrowserOptions,
    /// Scenarios to run, built-ins expanded into steps.
    pub scenarios: Vec<Scenario>,
    pub policy: Policy,
    /// SHA-256 of the scenario file's raw bytes, first 16 hex digits (the policy's is
    /// [`Policy::digest`]).
    pub digest: String,
    /// `[login]`: steps that log the visitor in, run in every scenario that does not opt
    /// out (`login = false`) before its own steps (docs/scenarios.md#login).
    pub login: Option<Login>,
}

/// `[login]`: how a visitor logs in. Its steps are of the scenario vocabulary without
/// consent marks or CMP flows (a login is not a consent action).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Login {
    pub steps: Vec<Step>,
    /// A selector path that must be present once the steps are done for the login to
    /// count as succeeded (waited for up to the step timeout).
    pub check: Option<String>,
    /// Where `[login]` was written, `file:line:col`.
    pub location: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct Site {
    /// The site's name, with any secret value already redacted (`[secret:NAME]`).
    pub name: String,
    pub base_url: Url,
    /// Absolute page URLs, in visit order; the first is where the consent steps run.
    pub pages: Vec<Url>,
    /// Registrable domains (eTLD+1) treated as first party; always includes base_url's.
    pub first_party_domains: Vec<String>,
    /// Values (from `[site] secrets`) never to be written anywhere.
    pub secrets: crate::secrets::Secrets,
    /// Page discovery (`[site] crawl`, docs/crawl.md); `None`: only the listed pages.
    pub crawl: Option<crate::crawl::CrawlSettings>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Scenario {
    pub id: String,
    pub description: String,
    /// Expanded from a built-in (`no_action`, `accept_all`, `reject_all`, `object_li`).
    pub builtin: bool,
    pub steps: Vec<Step>,
    /// Global Privacy Control on for the whole visit (`gpc = true`): every request of
    /// every frame and worker carries `Sec-GPC: 1` and `navigator.globalPrivacyControl`
    /// is true (docs/signals.md#global-privacy-control).
    pub gpc: bool,
    /// Run the file's `[login]` first (default); `login = false` on a `[[scenario]]`
    /// visits as a visitor who is not logged in.
    pub login: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Step {
    pub action: Action,
    /// The consent action this step performs; the consent state changes when it runs.
    pub consent: Option<ConsentAction>,
    /// What the consent action records in the CMP, resolved: the step's `records`, else
    /// `[cmp.records]`, else [`ConsentAction::default_effects`]. Empty when `consent`
    /// is `None`. The engine applies them with `ConsentState::apply`.
    pub records: Vec<ConsentEffect>,
    /// Overrides the browser's `step_timeout`.
    pub timeout: Option<Duration>,
    /// Where the step was written, `file:line:col` (for built-ins, where the selector was).
    pub location: String,
    /// The step waits for the consent banner (`[cmp].banner`): the built-ins' first
    /// step, or a `wait_for` whose selector is the banner's. A failure of it means
    /// "banner absent" rather than "element not found".
    pub waits_for_banner: bool,
    /// What a partial consent (`consent = "accept_some"`, `cmp_flow = "accept_some"`)
    /// grants: `grant = [...]`, resolved against the declared map when the file meets it.
    pub grant: Option<StepGrant>,
}

/// A step's `grant`: the purposes as written (with where), and what they resolve to.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StepGrant {
    /// The purposes, TCF purposes and CMP services granted: `purposes` as written until
    /// [`load::ScenarioFile::resolve`] fills the rest from the declared map.
    pub grant: Grant,
    /// Where each purpose was written, in the order of `grant.purposes`.
    #[serde(skip)]
    pub written: Vec<Place>,
}

/// A place in a file (1-based line and column), for diagnostics given after the file
/// was read (a purpose checked against the declared map).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Place {
    pub file: PathBuf,
    pub line: usize,
    pub col: usize,
}

/// The closed vocabulary of steps.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "snake_case", tag = "action", content = "arg")]
pub enum Action {
    /// Load a URL (relative ones are resolved against the site's base URL).
    Navigate(Url),
    /// Click the first element matching a selector path (waits for it up to the step
    /// timeout). A path is CSS selectors joined by `>>>`: every part but the last names
    /// a frame to enter (`iframe`, `frame`) or an element whose open shadow root is
    /// searched ([`selector_parts`]).
    Click(String),
    /// Click every element matching a selector path, in document order (waits up to the
    /// step timeout for the first; none at all is a warning, not a failure).
    ClickAll(String),
    /// Wait until an element matching a selector path is present.
    WaitFor(String),
    /// Wait until the network has been quiet for the settle window.
    WaitIdle,
    /// Run JavaScript in the page.
    Script(String),
    /// Save a PNG screenshot to this path.
    Screenshot(PathBuf),
    /// Accept or reject through autoconsent (`[cmp] auto = true`), with the scenario's
    /// selectors as the fallback.
    Autoconsent(AutoConsent),
    /// Run a CMP profile's flow (`scenarios/cmp/<name>.toml`): the named profile, or the
    /// one matching the CMP detected on the page.
    Profile(ProfileStep),
}

/// The parts of a selector path: `iframe#cmp >>> #host >>> button` is
/// `["iframe#cmp", "#host", "button"]`.
pub fn selector_parts(path: &str) -> Vec<&str> {
    path.split(">>>").map(str::trim).collect()
}

/// A consent action performed by autoconsent (docs/scenarios.md, "auto").
///
/// Precedence: autoconsent first (`optIn` for accept_all, `optOut` for reject_all);
/// `fallback` (the `[cmp]` banner and selectors, when given) runs only when autoconsent
/// detected no CMP with an open popup, or its action reported failure. Without a
/// fallback, either makes the scenario not observed.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AutoConsent {
    pub action: ConsentAction,
    /// The selector steps (wait for the banner, clicks), without consent marks: the
    /// autoconsent step carries the consent action.
    pub fallback: Vec<Step>,
    /// The vocabulary of the heuristic, tried when autoconsent found no popup and no
    /// selectors are given (`[cmp] heuristic`, default on; docs/heuristic.md).
    #[serde(skip)]
    pub heuristic: Option<crate::cmp::heuristic::BannerWords>,
}

impl Scenario {
    /// Does any step run autoconsent (so its bundle must be injected)?
    pub fn uses_autoconsent(&self) -> bool {
        self.steps.iter().any(|s| match &s.action {
            Action::Autoconsent(_) => true,
            Action::Profile(p) => p.detect_with_autoconsent,
            _ => false,
        })
    }

    /// The consent banner's selector, when a step waits for it (the built-ins' first
    /// step, or a `wait_for` of `[cmp].banner`): how a re-prompt is seen.
    pub fn banner(&self) -> Option<&str> {
        self.steps.iter().find_map(|s| match &s.action {
            Action::WaitFor(sel) if s.waits_for_banner => Some(sel.as_str()),
            Action::Autoconsent(a) => a.fallback.iter().find_map(|f| match &f.action {
                Action::WaitFor(sel) if f.waits_for_banner => Some(sel.as_str()),
                _ => None,
            }),
            _ => None,
        })
    }
}

impl Step {
    /// A step with no consent action, written at `location`.
    pub fn plain(action: Action, location: String) -> Step {
        Step {
            action,
            consent: None,
            records: Vec::new(),
            timeout: None,
            location,
            waits_for_banner: false,
            grant: None,
        }
    }

    /// Human description used in step outcomes and errors. Every part that can hold a
    /// secret's value (`${VAR}` substituted into a URL, a selector, a script) is redacted
    /// before it is cut or quoted, so a cut can never leave part of a value behind.
    pub fn describe(&self, secrets: &Secrets) -> String {
        let r = |text: &str| secrets.redact(text).into_owned();
        let what = match &self.action {
            Action::Navigate(u) => format!("navigate {}", r(u.as_str())),
            Action::Click(s) => format!("click {:?}", r(s)),
            Action::ClickAll(s) => format!("click all {:?}", r(s)),
            Action::WaitFor(s) => format!("wait for {:?}", r(s)),
            Action::WaitIdle => "wait for network idle".to_string(),
            Action::Script(js) => {
                let short: String = r(js).chars().take(40).collect();
                format!("script {short:?}")
            }
            Action::Screenshot(p) => format!("screenshot {}", r(&p.display().to_string())),
            Action::Autoconsent(a) => {
                let verb = crate::model::cmp::autoconsent_verb(a.action);
                if a.fallback.is_empty() {
                    format!("autoconsent {verb}")
                } else {
                    format!("autoconsent {verb}, else selectors")
                }
            }
            Action::Profile(p) => p.describe(),
        };
        let what = match &self.grant {
            Some(g) => format!("{what}, granting {}", g.grant.describe()),
            None => what,
        };
        match self.consent {
            Some(c) => format!("{what} [{}] ({})", c.as_str(), self.location),
            None => format!("{what} ({})", self.location),
        }
    }
}

/// Third-party cookie behaviour of the audited browser (`allow`, `block`).
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Serialize,
    strum::EnumString,
    strum::Display,
    strum::IntoStaticStr,
    strum::EnumIter,
    strum::VariantNames,
)]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum ThirdPartyCookies {
    /// Accept third-party cookies, like most real visitors' browsers (default).
    Allow,
    /// Block them, like a fresh Chromium profile.
    Block,
}

#[derive(Debug, Clone, Serialize)]
pub struct BrowserOptions {
    /// Extra Chromium arguments (e.g. `--host-resolver-rules=...`).
    pub args: Vec<String>,
    pub third_party_cookies: ThirdPartyCookies,
    pub user_agent: Option<String>,
    pub page_load_timeout: Duration,
    pub step_timeout: Duration,
    /// Network is idle after this long with no request waiting for its response.
    pub settle_quiet: Duration,
    /// Give up waiting for idle after this long (recorded as a warning).
    pub settle_timeout: Duration,
    pub window_size: (u32, u32),
    /// Where the browser looks from (`[vantage]`, docs/scenarios.md#vantage): its
    /// proxy, locale and timezone. A browser serves only scenarios of its own vantage
    /// (the engine's pool keys browsers by their options).
    pub vantage: crate::model::vantage::Vantage,
    /// The proxy's credentials (`proxy_user_env`, `proxy_password_env`); never
    /// serialised, and both values are secrets of the site.
    #[serde(skip)]
    pub proxy_auth: Option<ProxyAuth>,
}

/// A proxy's user and password, read from the environment. Its `Debug` shows neither.
#[derive(Clone, PartialEq, Eq)]
pub struct ProxyAuth {
    pub user: String,
    pub password: String,
}

impl std::fmt::Debug for ProxyAuth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ProxyAuth { .. }")
    }
}

impl Default for BrowserOptions {
    fn default() -> Self {
        BrowserOptions {
            args: Vec::new(),
            third_party_cookies: ThirdPartyCookies::Allow,
            user_agent: None,
            page_load_timeout: Duration::from_secs(30),
            step_timeout: Duration::from_secs(10),
            settle_quiet: Duration::from_millis(700),
            settle_timeout: Duration::from_secs(15),
            window_size: (1280, 900),
            vantage: crate::model::vantage::Vantage::default(),
            proxy_auth: None,
        }
    }
}

pub use crate::net::registrable_domain;

impl Site {
    /// Is `host` first party (its registrable domain is one of the site's)?
    pub fn is_first_party(&self, host: &str) -> bool {
        match registrable_domain(host) {
            Some(d) => self.first_party_domains.contains(&d),
            None => false,
        }
    }
}

//! Loading and validating scenario files.
//!
//! A scenario file is read into toml's spanned tree and checked with the
//! [`Checker`] shared with the declared-map loader, so every problem (of the scenario
//! file and of the declared map it references) is reported at once, with
//! file:line:col and a hint. Every string value may use `${VAR}` or
//! `${VAR:-default}`, substituted from the environment. The format is documented in
//! docs/scenarios.md.

use super::{
    registrable_domain, Action, AuditSpec, BrowserOptions, Scenario, Site, Step, ThirdPartyCookies,
    BUILTIN_SCENARIOS,
};
use crate::diag::{Diagnostic, Diagnostics, Level};
use crate::observe::ConsentAction;
use crate::policy::load::{
    parse_policy, read_source, suggest, Checker, Env, Ids, Span, Table, Val,
};
use crate::policy::{DomainPattern, Policy};
use scraper::error::SelectorErrorKind;
use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::time::Duration;
use toml::de::DeTable;
use toml::Spanned;
use url::Url;

/// Read and validate a scenario file and the declared map it references, with
/// `${VAR}` taken from the process environment. `Ok` only when there is no error.
pub fn load_audit_file(path: &Path) -> Result<AuditSpec, Diagnostics> {
    load_audit_file_with_env(path, &|name| std::env::var(name).ok())
}

/// [`load_audit_file`] with `${VAR}` looked up by `env`.
pub fn load_audit_file_with_env(path: &Path, env: Env<'_>) -> Result<AuditSpec, Diagnostics> {
    load_audit_file_with_warnings(path, env).map(|(spec, _)| spec)
}

/// [`load_audit_file_with_env`], also handing back the warnings of a file that loaded
/// (e.g. a purpose no vendor uses), so `audit` can show them.
pub fn load_audit_file_with_warnings(
    path: &Path,
    env: Env<'_>,
) -> Result<(AuditSpec, Diagnostics), Diagnostics> {
    let src = read_source(path).map_err(|d| Diagnostics(vec![d]))?;
    let (file, policy_ref, mut diags) = check_source(path, &src, env);
    let policy = policy_ref.and_then(|r| {
        let (policy, d) = r.load();
        merge_policy_diagnostics(&mut diags, path, d);
        policy
    });
    match (file, policy) {
        (Some(file), Some(policy)) if !diags.has_errors() => Ok((file.with_policy(policy), diags)),
        _ => Err(diags),
    }
}

/// Validate the text of a scenario file, without loading the declared map it
/// references. The file is `Some` only when there is no error.
pub fn parse_audit_file(
    path: &Path,
    src: &str,
    env: &dyn Fn(&str) -> Option<String>,
) -> (Option<ScenarioFile>, Diagnostics) {
    let (file, _, diags) = check_source(path, src, env);
    (file, diags)
}

/// `consentry validate FILE...`: each file is a scenario file (has a `[site]` table) or
/// a declared map (has `[[purpose]]`/`[[vendor]]`/`[[cookie]]`); a scenario file also
/// validates the declared map it references (each declared map is checked once).
/// Returns all diagnostics from all files.
pub fn validate_files(paths: &[PathBuf]) -> Diagnostics {
    let env = |name: &str| std::env::var(name).ok();
    let mut out = Vec::new();
    let mut policies_done = HashSet::new();
    let mut first_time = |p: &Path| {
        policies_done.insert(std::fs::canonicalize(p).unwrap_or_else(|_| p.to_path_buf()))
    };
    for path in paths {
        let src = match read_source(path) {
            Ok(src) => src,
            Err(d) => {
                out.push(d);
                continue;
            }
        };
        match classify(&src) {
            Kind::Scenario => {
                let (_, policy_ref, mut diags) = check_source(path, &src, &env);
                if let Some(r) = policy_ref.filter(|r| first_time(&r.path)) {
                    merge_policy_diagnostics(&mut diags, path, r.load().1);
                }
                out.extend(diags.0);
            }
            Kind::Policy => {
                if first_time(path) {
                    out.extend(parse_policy(path, &src).1 .0);
                }
            }
            Kind::Unknown => {
                let mut ck = Checker::new(path, &src, None);
                if ck.parse().is_some() {
                    ck.error(
                        &(0..0),
                        format!("{} is neither a scenario file nor a declared map", path.display()),
                        "a scenario file has a [site] table; a declared map has [[purpose]], [[vendor]] and [[cookie]] entries",
                    );
                }
                out.extend(ck.into_diagnostics().0);
            }
        }
    }
    Diagnostics(out)
}

/// Add the diagnostics of the declared map a scenario file references to the file's
/// own: those about the scenario file (the map could not be read) go in line order.
fn merge_policy_diagnostics(own: &mut Diagnostics, path: &Path, policy: Diagnostics) {
    let (same, other): (Vec<_>, Vec<_>) = policy.0.into_iter().partition(|d| d.file == path);
    own.0.extend(same);
    own.0.sort_by_key(|d| (d.line, d.col));
    own.0.extend(other);
}

/// A validated scenario file whose declared map is not loaded yet.
#[derive(Debug, Clone)]
pub struct ScenarioFile {
    pub path: PathBuf,
    pub site: Site,
    pub browser: BrowserOptions,
    /// Scenarios to run, in order, built-ins expanded into steps.
    pub scenarios: Vec<Scenario>,
    pub policy: PolicyRef,
}

impl ScenarioFile {
    pub fn with_policy(self, policy: Policy) -> AuditSpec {
        AuditSpec {
            path: self.path,
            site: self.site,
            browser: self.browser,
            scenarios: self.scenarios,
            policy,
        }
    }
}

/// The declared map a scenario file references, and where it says so.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyRef {
    /// Resolved against the scenario file's directory.
    pub path: PathBuf,
    /// The scenario file and the 1-based line and column of the `policy` value.
    pub at: (PathBuf, usize, usize),
}

impl PolicyRef {
    /// A diagnostic about the declared map, at the `policy` value.
    pub fn error(&self, message: impl Into<String>, hint: impl Into<String>) -> Diagnostic {
        let (file, line, col) = self.at.clone();
        Diagnostic {
            level: Level::Error,
            file,
            line,
            col,
            message: message.into(),
            hint: Some(hint.into()),
        }
    }

    /// Read and validate the declared map; an unreadable file is reported at the
    /// `policy` value.
    pub fn load(&self) -> (Option<Policy>, Diagnostics) {
        match std::fs::read_to_string(&self.path) {
            Ok(src) => parse_policy(&self.path, &src),
            Err(e) => {
                let d = self.error(
                    format!("cannot read the declared map {}: {e}", self.path.display()),
                    "`policy` is a path relative to the scenario file's directory",
                );
                (None, Diagnostics(vec![d]))
            }
        }
    }
}

enum Kind {
    Scenario,
    Policy,
    Unknown,
}

/// Tell a scenario file from a declared map by its top-level keys.
fn classify(src: &str) -> Kind {
    let (doc, _) = DeTable::parse_recoverable(src);
    let has = |keys: &[&str]| keys.iter().any(|k| doc.get_ref().contains_key(*k));
    if has(TOP_KEYS) {
        Kind::Scenario
    } else if has(&["purpose", "vendor", "cookie"]) {
        Kind::Policy
    } else {
        Kind::Unknown
    }
}

const TOP_KEYS: &[&str] = &["site", "cmp", "browser", "run", "scenario"];
const SITE_KEYS: &[&str] = &["name", "base_url", "pages", "first_party_domains", "policy"];
const CMP_KEYS: &[&str] = &["banner", "accept_all", "reject_all", "object_li"];
const BROWSER_KEYS: &[&str] = &[
    "args",
    "third_party_cookies",
    "user_agent",
    "page_load_timeout",
    "step_timeout",
    "settle_quiet",
    "settle_timeout",
    "window_size",
];
const RUN_KEYS: &[&str] = &["scenarios"];
const SCENARIO_KEYS: &[&str] = &["id", "description", "steps"];
const ACTION_KEYS: &[&str] = &[
    "navigate",
    "click",
    "wait_for",
    "wait_idle",
    "script",
    "screenshot",
];
const STEP_KEYS: &[&str] = &[
    "navigate",
    "click",
    "wait_for",
    "wait_idle",
    "script",
    "screenshot",
    "consent",
    "timeout",
];
const CONSENT_ACTIONS: [&str; 3] = ["accept_all", "reject_all", "object_li"];

fn check_source(
    path: &Path,
    src: &str,
    env: Env<'_>,
) -> (Option<ScenarioFile>, Option<PolicyRef>, Diagnostics) {
    let mut ck = Checker::new(path, src, Some(env));
    let Some(doc) = ck.parse() else {
        return (None, None, ck.into_diagnostics());
    };
    let (file, policy) = check_file(&mut ck, path, &doc);
    let file = file.filter(|_| !ck.has_errors());
    (file, policy, ck.into_diagnostics())
}

fn check_file(
    ck: &mut Checker<'_>,
    path: &Path,
    doc: &Spanned<DeTable<'_>>,
) -> (Option<ScenarioFile>, Option<PolicyRef>) {
    let root = ck.root(doc, TOP_KEYS);
    let site = match ck.table_at(&root, "site", SITE_KEYS) {
        Some(t) => check_site(ck, path, &t),
        None => {
            if root.get("site").is_none() {
                ck.error(
                    &root.span,
                    "missing [site] table",
                    "add [site] with name, base_url and policy (see docs/scenarios.md)",
                );
            }
            SiteParts::default()
        }
    };
    let base = site.base_url.as_ref();
    let cmp = ck
        .table_at(&root, "cmp", CMP_KEYS)
        .map(|t| check_cmp(ck, &t));
    let browser = match ck.table_at(&root, "browser", BROWSER_KEYS) {
        Some(t) => check_browser(ck, &t),
        None => BrowserOptions::default(),
    };
    let mut ids = Ids::new("scenario id");
    let customs: Vec<Custom> = ck
        .tables_at(&root, "scenario", SCENARIO_KEYS)
        .iter()
        .filter_map(|t| check_scenario(ck, t, base, &mut ids))
        .collect();
    let scenarios = match ck.table_at(&root, "run", RUN_KEYS) {
        Some(t) => run_list(ck, &t, &customs, cmp.as_ref()),
        None if root.get("run").is_some() => Vec::new(),
        None => default_list(ck, &customs, cmp.as_ref()),
    };
    let file = match (site.site, site.policy.clone()) {
        (Some(site), Some(policy)) => Some(ScenarioFile {
            path: path.to_path_buf(),
            site,
            browser,
            scenarios,
            policy,
        }),
        _ => None,
    };
    (file, site.policy)
}

// --- [site] -----------------------------------------------------------------

#[derive(Default)]
struct SiteParts {
    site: Option<Site>,
    /// Known even when other [site] values are wrong, to check URLs against.
    base_url: Option<Url>,
    policy: Option<PolicyRef>,
}

fn check_site(ck: &mut Checker<'_>, path: &Path, t: &Table<'_, '_>) -> SiteParts {
    let name = ck
        .req_string(t, "name", "\"my-shop\"")
        .and_then(|n| non_empty(ck, n, "`name` in [site]"));
    let base_url = ck
        .req_string(t, "base_url", "\"https://www.example.com/\"")
        .and_then(|s| absolute_url(ck, &s));

    let pages = match (t.get("pages"), &base_url) {
        (None, Some(base)) => base.join("/").ok().into_iter().collect(),
        (None, None) => Vec::new(),
        (Some(v), base) => {
            let list = ck.strings(v, "`pages` in [site]").unwrap_or_default();
            if v.get_ref().as_array().is_some_and(|a| a.is_empty()) {
                ck.error(
                    &v.span(),
                    "`pages` in [site] is empty",
                    "list at least one page, or leave `pages` out to visit \"/\"",
                );
            }
            list.iter()
                .filter_map(|p| base.as_ref().and_then(|b| resolve_url(ck, p, b)))
                .collect()
        }
    };

    let mut first_party = Vec::new();
    if let Some(host) = base_url.as_ref().and_then(|u| u.host_str()) {
        first_party.push(registrable_domain(host).unwrap_or_else(|| host.to_ascii_lowercase()));
    }
    for d in ck.opt_strings(t, "first_party_domains").unwrap_or_default() {
        if let Some(domain) = first_party_domain(ck, &d) {
            if !first_party.contains(&domain) {
                first_party.push(domain);
            }
        }
    }

    let policy = ck
        .req_string(t, "policy", "\"my-shop.policy.toml\"")
        .and_then(|p| non_empty(ck, p, "`policy` in [site]"))
        .map(|p| {
            let (line, col) = ck.line_col(&p.span());
            let dir = path.parent().unwrap_or(Path::new(""));
            PolicyRef {
                path: dir.join(p.get_ref()),
                at: (path.to_path_buf(), line, col),
            }
        });

    let site = match (name, &base_url) {
        (Some(name), Some(base)) => Some(Site {
            name: name.into_inner(),
            base_url: base.clone(),
            pages,
            first_party_domains: first_party,
        }),
        _ => None,
    };
    SiteParts {
        site,
        base_url,
        policy,
    }
}

/// A first-party domain, normalised to its registrable domain.
fn first_party_domain(ck: &mut Checker<'_>, d: &Spanned<String>) -> Option<String> {
    let Some(pattern) = DomainPattern::parse(d.get_ref()).filter(|p| !p.subdomains_only) else {
        ck.error(
            &d.span(),
            format!("invalid domain {:?}", d.get_ref()),
            "write a registrable domain such as example.com (no scheme, port, path or wildcard)",
        );
        return None;
    };
    let Some(registrable) = registrable_domain(&pattern.suffix) else {
        ck.error(
            &d.span(),
            format!(
                "`{}` is a public suffix, not a registrable domain",
                pattern.suffix
            ),
            "write the domain registered under it, such as example.co.uk",
        );
        return None;
    };
    if registrable != pattern.suffix {
        ck.warning(
            &d.span(),
            format!(
                "`{}` is not a registrable domain; `{registrable}` is used",
                pattern.suffix
            ),
            format!(
                "write \"{registrable}\": first party is decided by registrable domain (eTLD+1)"
            ),
        );
    }
    Some(registrable)
}

fn non_empty(ck: &mut Checker<'_>, s: Spanned<String>, what: &str) -> Option<Spanned<String>> {
    if s.get_ref().trim().is_empty() {
        ck.error(&s.span(), format!("{what} is empty"), "give it a value");
        return None;
    }
    Some(s)
}

fn absolute_url(ck: &mut Checker<'_>, s: &Spanned<String>) -> Option<Url> {
    match Url::parse(s.get_ref()) {
        Ok(u) => http_only(ck, s, u),
        Err(e) => {
            ck.error(
                &s.span(),
                format!("invalid URL {:?}: {e}", s.get_ref()),
                "base_url must be an absolute http or https URL, such as https://www.example.com/",
            );
            None
        }
    }
}

/// A path or absolute URL, resolved against `base`.
fn resolve_url(ck: &mut Checker<'_>, s: &Spanned<String>, base: &Url) -> Option<Url> {
    match base.join(s.get_ref()) {
        Ok(u) => http_only(ck, s, u),
        Err(e) => {
            ck.error(
                &s.span(),
                format!("invalid URL {:?}: {e}", s.get_ref()),
                "write a path such as /checkout (resolved against base_url) or an absolute http or https URL",
            );
            None
        }
    }
}

fn http_only(ck: &mut Checker<'_>, s: &Spanned<String>, u: Url) -> Option<Url> {
    if matches!(u.scheme(), "http" | "https") && u.host_str().is_some_and(|h| !h.is_empty()) {
        return Some(u);
    }
    ck.error(
        &s.span(),
        format!("{:?} is not an http or https URL", s.get_ref()),
        "only http:// and https:// pages can be audited",
    );
    None
}

// --- [cmp], [browser] ---------------------------------------------------------

/// Consent banner selectors for the built-in scenarios.
struct Cmp {
    span: Span,
    banner: Option<Spanned<String>>,
    /// Per consent action: the key's span and the selectors, clicked in order.
    clicks: Vec<(ConsentAction, Span, Vec<Spanned<String>>)>,
}

impl Cmp {
    fn clicks(&self, action: ConsentAction) -> Option<(&Span, &[Spanned<String>])> {
        self.clicks
            .iter()
            .find(|(a, _, _)| *a == action)
            .map(|(_, span, sels)| (span, &sels[..]))
    }
}

fn check_cmp(ck: &mut Checker<'_>, t: &Table<'_, '_>) -> Cmp {
    let banner = ck
        .opt_string(t, "banner")
        .and_then(|s| selector(ck, &s).map(|_| s));
    let mut clicks = Vec::new();
    for key in CONSENT_ACTIONS {
        let (Some(action), Some(v)) = (ConsentAction::parse(key), t.get(key)) else {
            continue;
        };
        let what = format!("`{key}` in [cmp]");
        let Some(list) = ck.strings(v, &what) else {
            continue;
        };
        if v.get_ref().as_array().is_some_and(|a| a.is_empty()) {
            ck.error(
                &v.span(),
                format!("{what} is empty"),
                "list the selectors to click, in order, or leave the key out",
            );
        }
        let sels = list
            .into_iter()
            .filter(|s| selector(ck, s).is_some())
            .collect();
        clicks.push((action, t.key_span(key).unwrap_or_else(|| v.span()), sels));
    }
    Cmp {
        span: t.span.clone(),
        banner,
        clicks,
    }
}

/// A CSS selector, checked with the same parser family the browser uses.
fn selector(ck: &mut Checker<'_>, s: &Spanned<String>) -> Option<String> {
    match scraper::Selector::parse(s.get_ref()) {
        Ok(_) => Some(s.get_ref().clone()),
        Err(e) => {
            ck.error(
                &s.span(),
                format!("invalid CSS selector {:?}: {}", s.get_ref(), selector_error(&e)),
                "selectors use CSS syntax, as for document.querySelector: #id, .class, button[type=submit], div > a",
            );
            None
        }
    }
}

/// scraper's error, in words ("unsupported pseudo class or element").
fn selector_error(e: &SelectorErrorKind) -> String {
    match e {
        SelectorErrorKind::EndOfLine => "unexpected end of selector".to_string(),
        SelectorErrorKind::UnexpectedSelectorParseError(inner) => {
            // The variant name, e.g. `UnsupportedPseudoClassOrElement(Ident("contains"))`.
            let debug = format!("{inner:?}");
            let name = debug.split(['(', ' ', '{']).next().unwrap_or_default();
            let mut words = String::new();
            for c in name.chars() {
                if c.is_uppercase() && !words.is_empty() {
                    words.push(' ');
                }
                words.extend(c.to_lowercase());
            }
            words
        }
        other => other.to_string().to_lowercase(),
    }
}

fn check_browser(ck: &mut Checker<'_>, t: &Table<'_, '_>) -> BrowserOptions {
    let d = BrowserOptions::default();
    let third_party_cookies = ck.opt_string(t, "third_party_cookies").and_then(|s| {
        match ck.one_of(&s, "third_party_cookies value", &["allow", "block"]) {
            Some("block") => Some(ThirdPartyCookies::Block),
            Some(_) => Some(ThirdPartyCookies::Allow),
            None => None,
        }
    });
    BrowserOptions {
        args: ck
            .opt_strings(t, "args")
            .unwrap_or_default()
            .into_iter()
            .map(Spanned::into_inner)
            .collect(),
        third_party_cookies: third_party_cookies.unwrap_or(d.third_party_cookies),
        user_agent: ck.opt_string(t, "user_agent").map(Spanned::into_inner),
        page_load_timeout: opt_duration(ck, t, "page_load_timeout").unwrap_or(d.page_load_timeout),
        step_timeout: opt_duration(ck, t, "step_timeout").unwrap_or(d.step_timeout),
        settle_quiet: opt_duration(ck, t, "settle_quiet").unwrap_or(d.settle_quiet),
        settle_timeout: opt_duration(ck, t, "settle_timeout").unwrap_or(d.settle_timeout),
        window_size: t
            .get("window_size")
            .and_then(|v| window_size(ck, v))
            .unwrap_or(d.window_size),
    }
}

fn window_size(ck: &mut Checker<'_>, v: &Val<'_>) -> Option<(u32, u32)> {
    let hint = "write window_size = [width, height] in pixels, as in [1280, 900]";
    let items = ck.array(v, "`window_size` in [browser]")?;
    let what = "each element of `window_size` in [browser]";
    let dims: Vec<Option<u32>> = items
        .iter()
        .map(|i| {
            let n = ck.integer(i, what)?;
            let dim = u32::try_from(*n.get_ref())
                .ok()
                .filter(|d| (1..=100_000).contains(d));
            if dim.is_none() {
                ck.error(
                    &n.span(),
                    format!("window dimension {} is out of range", n.get_ref()),
                    hint,
                );
            }
            dim
        })
        .collect();
    match dims[..] {
        [Some(w), Some(h)] => Some((w, h)),
        [_, _] => None,
        _ => {
            ck.error(
                &v.span(),
                "`window_size` must have exactly two numbers",
                hint,
            );
            None
        }
    }
}

fn opt_duration(ck: &mut Checker<'_>, t: &Table<'_, '_>, key: &str) -> Option<Duration> {
    let s = ck.opt_string(t, key)?;
    match parse_duration(s.get_ref()) {
        Some(d) if !d.is_zero() => Some(d),
        Some(_) => {
            ck.error(
                &s.span(),
                format!("`{key}` must be longer than zero"),
                "give a positive duration, as in \"5s\"",
            );
            None
        }
        None => {
            ck.error(
                &s.span(),
                format!("invalid duration {:?} for `{key}`", s.get_ref()),
                "write a whole number with a unit: ms, s, m or h, as in \"700ms\", \"5s\" or \"2m\"",
            );
            None
        }
    }
}

/// `700ms`, `5s`, `2m`, `1h`.
pub fn parse_duration(s: &str) -> Option<Duration> {
    let s = s.trim();
    let (num, unit) = s.split_at(s.find(|c: char| !c.is_ascii_digit())?);
    let n: u64 = num.parse().ok()?;
    let millis = match unit {
        "ms" => 1,
        "s" => 1000,
        "m" => 60_000,
        "h" => 3_600_000,
        _ => return None,
    };
    n.checked_mul(millis).map(Duration::from_millis)
}

// --- [[scenario]] and steps -----------------------------------------------------

/// A custom scenario: its id, and the scenario when its steps are valid.
struct Custom {
    id: Spanned<String>,
    scenario: Option<Scenario>,
}

fn check_scenario(
    ck: &mut Checker<'_>,
    t: &Table<'_, '_>,
    base: Option<&Url>,
    ids: &mut Ids,
) -> Option<Custom> {
    let id = ck.req_id(t, "id", "accept_then_object");
    let description = ck.opt_string(t, "description").map(Spanned::into_inner);
    let steps = match t.get("steps") {
        None => {
            ck.missing(
                t,
                "steps",
                "[{ click = \"#accept\", consent = \"accept_all\" }]",
            );
            None
        }
        Some(v) => ck.array(v, "`steps` in [[scenario]]").and_then(|items| {
            if items.is_empty() {
                ck.warning(
                    &v.span(),
                    "scenario has no steps",
                    "without steps it behaves like the built-in no_action",
                );
            }
            let steps: Vec<Option<Step>> = items.iter().map(|s| check_step(ck, s, base)).collect();
            steps.into_iter().collect::<Option<Vec<Step>>>()
        }),
    };
    let id = id?;
    if !ids.insert(ck, &id) {
        return None;
    }
    let scenario = steps.map(|steps| Scenario {
        id: id.get_ref().clone(),
        description: description.unwrap_or_default(),
        builtin: false,
        steps,
    });
    Some(Custom { id, scenario })
}

fn check_step(ck: &mut Checker<'_>, v: &Val<'_>, base: Option<&Url>) -> Option<Step> {
    let t = ck.table(v, "step", STEP_KEYS)?;
    let actions: Vec<_> = t
        .entries()
        .into_iter()
        .filter(|(k, _, _)| ACTION_KEYS.contains(k))
        .collect();
    match &actions[..] {
        [] if t.unknown_keys == 0 => ck.error(
            &t.span,
            "step has no action",
            format!("give exactly one of: {}", ACTION_KEYS.join(", ")),
        ),
        [_, (_, second, _), ..] => {
            let names: Vec<String> = actions.iter().map(|(k, _, _)| format!("`{k}`")).collect();
            ck.error(
                second,
                format!("step has {} actions: {}", actions.len(), names.join(", ")),
                "a step does exactly one thing: split it into one step per action",
            );
        }
        _ => {}
    }
    let mut parsed: Vec<Option<Action>> = actions
        .iter()
        .map(|(key, _, value)| check_action(ck, key, value, base))
        .collect();
    let consent = ck.opt_string(&t, "consent").map(|c| {
        ck.one_of(&c, "consent action", &CONSENT_ACTIONS)
            .and_then(ConsentAction::parse)
    });
    let timeout = t.get("timeout").map(|_| opt_duration(ck, &t, "timeout"));
    if parsed.len() != 1 {
        return None;
    }
    // consent and timeout: absent is fine, present but invalid fails the step.
    Some(Step {
        action: parsed.pop()??,
        consent: consent.map_or(Some(None), |c| c.map(Some))?,
        timeout: timeout.map_or(Some(None), |d| d.map(Some))?,
        location: ck.location(&v.span()),
    })
}

fn check_action(
    ck: &mut Checker<'_>,
    key: &str,
    v: &Val<'_>,
    base: Option<&Url>,
) -> Option<Action> {
    let what = format!("`{key}` in step");
    if key == "wait_idle" {
        let yes = ck.boolean(v, &what)?;
        if !yes {
            ck.error(
                &v.span(),
                "`wait_idle` must be true",
                "write wait_idle = true, or remove the step",
            );
        }
        return yes.then_some(Action::WaitIdle);
    }
    let s = ck.string(v, &what)?;
    match key {
        "navigate" => resolve_url(ck, &s, base?).map(Action::Navigate),
        "click" => selector(ck, &s).map(Action::Click),
        "wait_for" => selector(ck, &s).map(Action::WaitFor),
        "script" => non_empty(ck, s, &what).map(|s| Action::Script(s.into_inner())),
        "screenshot" => {
            non_empty(ck, s, &what).map(|s| Action::Screenshot(PathBuf::from(s.into_inner())))
        }
        _ => None,
    }
}

// --- which scenarios run ------------------------------------------------------

/// `[run] scenarios = [...]`: exactly these, in this order.
fn run_list(
    ck: &mut Checker<'_>,
    t: &Table<'_, '_>,
    customs: &[Custom],
    cmp: Option<&Cmp>,
) -> Vec<Scenario> {
    let Some(v) = t.get("scenarios") else {
        ck.missing(
            t,
            "scenarios",
            "[\"no_action\", \"accept_all\", \"reject_all\"]",
        );
        return Vec::new();
    };
    let entries = ck.strings(v, "`scenarios` in [run]").unwrap_or_default();
    if v.get_ref().as_array().is_some_and(|a| a.is_empty()) {
        ck.error(
            &v.span(),
            "[run] lists no scenarios",
            "list the scenario ids to run, or remove [run] to run them all",
        );
    }
    let mut listed = Ids::listed("scenario in [run]");
    let mut out = Vec::new();
    for entry in &entries {
        if !listed.insert(ck, entry) {
            continue;
        }
        let id = entry.get_ref().as_str();
        if let Some(custom) = customs.iter().find(|c| c.id.get_ref() == id) {
            out.extend(custom.scenario.clone());
        } else if BUILTIN_SCENARIOS.contains(&id) {
            out.extend(builtin(ck, id, cmp, &entry.span()));
        } else {
            let known = BUILTIN_SCENARIOS
                .iter()
                .copied()
                .chain(customs.iter().map(|c| c.id.get_ref().as_str()));
            ck.error(
                &entry.span(),
                format!("unknown scenario `{id}` in [run]"),
                suggest(id, known, "built-in and defined scenarios"),
            );
        }
    }
    for c in customs {
        if listed.get(c.id.get_ref()).is_none() {
            ck.warning(
                &c.id.span(),
                format!(
                    "scenario `{}` is not listed in [run], so it will not run",
                    c.id.get_ref()
                ),
                "add its id to `scenarios` in [run]",
            );
        }
    }
    out
}

/// No [run]: the built-ins (those [cmp] configures), then the custom scenarios in file
/// order. A custom scenario with a built-in's id takes the built-in's place.
fn default_list(ck: &mut Checker<'_>, customs: &[Custom], cmp: Option<&Cmp>) -> Vec<Scenario> {
    let custom = |id: &str| customs.iter().find(|c| c.id.get_ref() == id);
    let mut out = Vec::new();
    for id in BUILTIN_SCENARIOS {
        if let Some(c) = custom(id) {
            out.extend(c.scenario.clone());
            continue;
        }
        let configured = match (ConsentAction::parse(id), cmp) {
            (None, _) => Some(None),
            (Some(action), Some(cmp)) => {
                let at = cmp.clicks(action).map(|(span, _)| span.clone());
                if at.is_none() {
                    ck.warning(
                        &cmp.span,
                        format!("[cmp] has no `{id}` selectors: the built-in scenario `{id}` will not run"),
                        format!("add {id} = [\"...\"] to [cmp], or list the scenarios to run in [run]"),
                    );
                }
                at.map(Some)
            }
            (Some(_), None) => None,
        };
        if let Some(at) = configured {
            out.extend(builtin(ck, id, cmp, &at.unwrap_or(0..0)));
        }
    }
    for c in customs {
        if !BUILTIN_SCENARIOS.contains(&c.id.get_ref().as_str()) {
            out.extend(c.scenario.clone());
        }
    }
    out
}

/// Expand a built-in scenario from the [cmp] selectors; problems are reported at `at`
/// (the [run] entry, or the [cmp] key).
fn builtin(ck: &mut Checker<'_>, id: &str, cmp: Option<&Cmp>, at: &Span) -> Option<Scenario> {
    let scenario = |description: &str, steps| Scenario {
        id: id.to_string(),
        description: description.to_string(),
        builtin: true,
        steps,
    };
    let Some(action) = ConsentAction::parse(id) else {
        return Some(scenario(
            "Load the pages without touching the consent banner.",
            Vec::new(),
        ));
    };
    let clicks = cmp.and_then(|c| c.clicks(action)).map(|(_, sels)| sels);
    let banner = cmp.and_then(|c| c.banner.as_ref());
    if clicks.is_none() {
        ck.error(
            at,
            format!("the built-in scenario `{id}` needs `{id}` selectors in [cmp]"),
            format!("add to [cmp]: {id} = [\"#button\"] (the selectors clicked, in order)"),
        );
    }
    if banner.is_none() {
        ck.error(
            at,
            format!("the built-in scenario `{id}` needs `banner` in [cmp]"),
            "add to [cmp]: banner = \"#consent-banner\" (the banner's selector; the scenario waits for it)",
        );
    }
    let (clicks, banner) = (clicks?, banner?);
    let step = |action, consent, sel: &Spanned<String>| Step {
        action,
        consent,
        timeout: None,
        location: ck.location(&sel.span()),
    };
    let mut steps = vec![step(
        Action::WaitFor(banner.get_ref().clone()),
        None,
        banner,
    )];
    for (i, sel) in clicks.iter().enumerate() {
        let consent = (i + 1 == clicks.len()).then_some(action);
        steps.push(step(Action::Click(sel.get_ref().clone()), consent, sel));
    }
    let description = match action {
        ConsentAction::AcceptAll => "Accept all through the consent banner.",
        ConsentAction::RejectAll => "Reject all through the consent banner.",
        ConsentAction::ObjectLi => "Object to legitimate interest through the consent banner.",
    };
    Some(scenario(description, steps))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn no_env(_: &str) -> Option<String> {
        None
    }

    fn parse(src: &str) -> (Option<ScenarioFile>, Diagnostics) {
        parse_audit_file(Path::new("s.toml"), src, &no_env)
    }

    /// `line:col message` of every diagnostic.
    fn positions(d: &Diagnostics) -> Vec<String> {
        d.0.iter()
            .map(|d| format!("{}:{} {}", d.line, d.col, d.message))
            .collect()
    }

    const SITE: &str =
        "[site]\nname = \"s\"\nbase_url = \"https://www.example.com/\"\npolicy = \"p.toml\"\n";

    #[test]
    fn minimal_file_defaults() {
        let (f, d) = parse(SITE);
        assert!(d.0.is_empty(), "{d}");
        let f = f.unwrap();
        assert_eq!(f.site.pages[0].as_str(), "https://www.example.com/");
        assert_eq!(f.site.first_party_domains, ["example.com"]);
        assert_eq!(f.policy.path, PathBuf::from("p.toml"));
        assert_eq!(f.policy.at, (PathBuf::from("s.toml"), 4, 10));
        let ids: Vec<&str> = f.scenarios.iter().map(|s| s.id.as_str()).collect();
        assert_eq!(ids, ["no_action"]);
        assert_eq!(f.browser.step_timeout, Duration::from_secs(10));
    }

    #[test]
    fn default_run_order_and_override() {
        let src = format!(
            "{SITE}[cmp]\nbanner = \"#b\"\naccept_all = [\"#a\"]\n\
             [[scenario]]\nid = \"custom\"\nsteps = [{{ wait_idle = true }}]\n\
             [[scenario]]\nid = \"no_action\"\ndescription = \"mine\"\nsteps = [{{ navigate = \"/x\" }}]\n"
        );
        let (f, d) = parse(&src);
        let f = f.unwrap();
        let ids: Vec<&str> = f.scenarios.iter().map(|s| s.id.as_str()).collect();
        assert_eq!(ids, ["no_action", "accept_all", "custom"]);
        assert_eq!(f.scenarios[0].description, "mine");
        assert!(!f.scenarios[0].builtin);
        assert_eq!(
            f.scenarios[0].steps[0].action,
            Action::Navigate(Url::parse("https://www.example.com/x").unwrap())
        );
        let accept = &f.scenarios[1];
        assert!(accept.builtin);
        assert_eq!(accept.steps.len(), 2);
        assert_eq!(accept.steps[0].location, "s.toml:6:10");
        assert_eq!(accept.steps[1].consent, Some(ConsentAction::AcceptAll));
        // reject_all and object_li are not configured: one warning each, at [cmp].
        assert_eq!(
            positions(&d),
            [
                "5:1 [cmp] has no `reject_all` selectors: the built-in scenario `reject_all` will not run",
                "5:1 [cmp] has no `object_li` selectors: the built-in scenario `object_li` will not run"
            ]
        );
    }

    #[test]
    fn builtin_in_run_needs_cmp() {
        let src = format!("{SITE}[cmp]\naccept_all = [\"#a\"]\n[run]\nscenarios = [\"accept_all\", \"reject_all\"]\n");
        let (f, d) = parse(&src);
        assert!(f.is_none());
        assert_eq!(
            positions(&d),
            [
                "8:14 the built-in scenario `accept_all` needs `banner` in [cmp]",
                "8:28 the built-in scenario `reject_all` needs `reject_all` selectors in [cmp]",
                "8:28 the built-in scenario `reject_all` needs `banner` in [cmp]",
            ]
        );
    }

    #[test]
    fn run_entries_are_checked() {
        let src = format!(
            "{SITE}[run]\nscenarios = [\"no_action\", \"custom\", \"no_action\", \"acept_all\"]\n\
             [[scenario]]\nid = \"custom\"\nsteps = [{{ script = \"`$${{x}}`\" }}]\n"
        );
        let (_, d) = parse(&src);
        assert_eq!(
            positions(&d),
            [
                "6:37 duplicate scenario in [run] `no_action` (first listed at line 6)",
                "6:50 unknown scenario `acept_all` in [run]",
            ]
        );
        assert_eq!(d.0[1].hint.as_deref(), Some("did you mean `accept_all`?"));
        let src = src.replace(", \"no_action\", \"acept_all\"", "");
        let (f, d) = parse(&src);
        assert!(d.0.is_empty(), "{d}");
        let f = f.unwrap();
        assert_eq!(f.scenarios.len(), 2);
        assert_eq!(
            f.scenarios[1].steps[0].action,
            Action::Script("`${x}`".into())
        );
    }

    #[test]
    fn browser_options() {
        let src = format!(
            "{SITE}[browser]\nthird_party_cookies = \"block\"\nstep_timeout = \"2m\"\nsettle_quiet = \"250ms\"\nwindow_size = [800, 600]\nuser_agent = \"UA\"\n"
        );
        let (f, d) = parse(&src);
        assert!(d.0.is_empty(), "{d}");
        let b = f.unwrap().browser;
        assert_eq!(b.third_party_cookies, ThirdPartyCookies::Block);
        assert_eq!(b.step_timeout, Duration::from_secs(120));
        assert_eq!(b.settle_quiet, Duration::from_millis(250));
        assert_eq!(b.window_size, (800, 600));
        assert_eq!(b.user_agent.as_deref(), Some("UA"));
        assert_eq!(b.page_load_timeout, Duration::from_secs(30));
    }

    #[test]
    fn browser_errors() {
        let src = format!(
            "{SITE}[browser]\nthird_party_cookies = \"blok\"\nstep_timeout = \"5\"\nsettle_quiet = \"0s\"\nwindow_size = [800]\nargs = \"--x\"\n"
        );
        let (_, d) = parse(&src);
        assert_eq!(
            positions(&d),
            [
                "6:23 unknown third_party_cookies value `blok`",
                "7:16 invalid duration \"5\" for `step_timeout`",
                "8:16 `settle_quiet` must be longer than zero",
                "9:15 `window_size` must have exactly two numbers",
                "10:8 `args` in [browser] must be an array of strings, found string",
            ]
        );
        assert_eq!(d.0[0].hint.as_deref(), Some("did you mean `block`?"));
    }

    #[test]
    fn site_errors() {
        let src = "[site]\nnme = \"s\"\nbase_url = \"/relative\"\npages = []\nfirst_party_domains = [\"*.x.com\", \"co.uk\", \"www.y.com\"]\n";
        let (_, d) = parse(src);
        assert_eq!(
            positions(&d),
            [
                "1:1 missing required key `name` in [site]",
                "1:1 missing required key `policy` in [site]",
                "2:1 unknown key `nme` in [site]",
                "3:12 invalid URL \"/relative\": relative URL without a base",
                "4:9 `pages` in [site] is empty",
                "5:24 invalid domain \"*.x.com\"",
                "5:35 `co.uk` is a public suffix, not a registrable domain",
                "5:44 `www.y.com` is not a registrable domain; `y.com` is used",
            ]
        );
        assert_eq!(d.0[2].hint.as_deref(), Some("did you mean `name`?"));
        assert_eq!(d.0[7].level, Level::Warning);
    }

    #[test]
    fn step_errors() {
        let src = format!(
            "{SITE}[[scenario]]\nid = \"x\"\nsteps = [\n  {{}},\n  {{ clik = \"#a\" }},\n  {{ wait_idle = false }},\n  {{ script = \"\" }},\n  {{ navigate = \"ftp://h/\" }},\n  {{ wait_for = \"#a\", timeout = 3 }},\n]\n"
        );
        let (_, d) = parse(&src);
        assert_eq!(
            positions(&d),
            [
                "8:3 step has no action",
                "9:5 unknown key `clik` in step",
                "10:17 `wait_idle` must be true",
                "11:14 `script` in step is empty",
                "12:16 \"ftp://h/\" is not an http or https URL",
                "13:32 `timeout` in step must be a string, found integer",
            ]
        );
    }

    #[test]
    fn env_interpolation_everywhere() {
        let src = "[site]\nname = \"${NAME:-shop}\"\nbase_url = \"https://${HOST}/\"\npolicy = \"${MISSING}.toml\"\n";
        let env = |k: &str| (k == "HOST").then(|| "h.example.org".to_string());
        let (_, d) = parse_audit_file(Path::new("s.toml"), src, &env);
        assert_eq!(
            positions(&d),
            ["4:10 environment variable `MISSING` is not set"]
        );
        assert_eq!(
            d.0[0].hint.as_deref(),
            Some("set MISSING, give a default as in ${MISSING:-value}, or write $${ for a literal ${")
        );
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration("700ms"), Some(Duration::from_millis(700)));
        assert_eq!(parse_duration("5s"), Some(Duration::from_secs(5)));
        assert_eq!(parse_duration("2m"), Some(Duration::from_secs(120)));
        assert_eq!(parse_duration("1h"), Some(Duration::from_secs(3600)));
        assert_eq!(parse_duration("5"), None);
        assert_eq!(parse_duration("s"), None);
        assert_eq!(parse_duration("1.5s"), None);
        assert_eq!(parse_duration("99999999999999999999s"), None);
    }

    #[test]
    fn no_panic_on_odd_input() {
        for src in [
            "",
            "site = 3",
            "[[site]]\nname = 1",
            "[site]\nbase_url = \"https://x.com/\"\npages = [[], {}, 1.5]\npolicy = \"\"",
            "[run]\nscenarios = 3\n[[scenario]]\nsteps = \"x\"",
            "scenario = [1, \"a\"]\n[cmp]\nbanner = \"\"\naccept_all = []\n",
            "[site]\nname = \"é${\"\nbase_url = \"${:-x}\"",
            "[browser]\nwindow_size = [-1, 99999999999]\n",
        ] {
            let (f, d) = parse(src);
            assert!(f.is_none());
            assert!(d.has_errors(), "{src:?}");
        }
    }
}
